"""The per-object anomaly score: an importance-sampled estimate of log p(x) (method §7).

With S draws z_s ~ q(z | x) = N(μ̃, σ̃²) (the encoder's posterior),

  log p̂(x) = logsumexp_s [log p(x | z_s) + log p(z_s) − log q(z_s | x)] − log S     (eq. A4)

(Burda et al. 2016, the IWAE bound: a lower bound of log p(x) that tightens as S grows;
S = 1 is the ELBO). p(z) = Σ_c π_c N(z; μ_c, σ²_c) is the mixture prior (π normalised)
and log p(x | z) = −L_rec(x, x̂(z)), the reconstruction term of the training loss (eq. 4):
for ``"mse"`` a Gaussian of variance ½ per pixel, for ``"bce"`` a Bernoulli, each up to
a constant that is the same for every image of one size, so the score ranks objects.
Low scores flag artefacts and rare objects.
"""

from __future__ import annotations

import math

from keras import ops

from astrovader.model import gmm_math

SAMPLES = 8  # the draws S of fit's and embed's log_likelihood column


def log_importance_weights(x, x_hat, z, z_mean, z_log_var, pi, mu, var, kind="mse"):
    """log w_s = log p(x | z_s) + log p(z_s) − log q(z_s | x) for one draw per image.

    Args:
        x: (N, S, S, B) images; ``x_hat`` their decodings of z, same shape.
        x_hat: (N, S, S, B) decoded images.
        z: (N, J) draws from q.
        z_mean: (N, J) μ̃.
        z_log_var: (N, J) log σ̃².
        pi: (K,) weights; ``mu``, ``var`` (J, K).
        mu: (J, K) means.
        var: (J, K) variances.
        kind: The reconstruction loss, ``"mse"`` or ``"bce"``.

    Returns:
        (N,) log weights.
    """
    z, z_mean, z_log_var = (ops.cast(t, "float32") for t in (z, z_mean, z_log_var))
    pi = ops.cast(pi, "float32")
    log_prior = ops.logsumexp(
        gmm_math.log_gaussian(z, mu, var) + ops.log(pi / ops.sum(pi))[None], axis=-1
    )
    j = ops.cast(ops.shape(z)[-1], "float32")
    log_q = -0.5 * (
        j * math.log(2 * math.pi)
        + ops.sum(z_log_var + ops.square(z - z_mean) / ops.exp(z_log_var), axis=-1)
    )
    return -gmm_math.reconstruction_loss(x, x_hat, kind) + log_prior - log_q


def combine(log_weights):
    """log p̂ (N,) from (S, N) log weights: logsumexp over the draws minus log S (eq. A4)."""
    draws = ops.cast(ops.shape(log_weights)[0], "float32")
    return ops.logsumexp(log_weights, axis=0) - ops.log(draws)
