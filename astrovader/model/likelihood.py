"""The per-object anomaly score: an importance-sampled estimate of log p(x) (method §7a).

With S draws z_s = μ̃ + σ̃ ε_s ~ q(z | x) = N(μ̃, σ̃²) (the encoder's posterior),

  log p̂(x) = logsumexp_s [log p(x | z_s) + log p(z_s) − log q(z_s | x)] − log S     (eq. A4)

(Burda et al. 2016, the IWAE bound: a lower bound of log p(x) that tightens as S grows;
S = 1 is the ELBO). p(z) = Σ_c π_c N(z; μ_c, σ²_c) is the mixture prior (π normalised).

log p(x | z) is the decoder's density **as training weighed it**. The loss at the end of
training is L_rec + w · KL, with w the weight of the mixture term then (the model's
``gmm_weight``, (1 + γ) s in the static phase); dividing by w, this is the negative
ELBO of a decoder whose log-density is −L_rec / w up to its normalisation:

* ``"mse"`` (L_rec = Σ (x − x̂)²): a Gaussian of variance w / 2 per pixel,
  log p(x | z) = −Σ (x − x̂)² / w − (D / 2) log(π w);
* ``"bce"``: the density on [0, 1] proportional to exp(−BCE(x, x̂) / w), an exponential
  family in x with natural parameter η = logit(x̂) / w (for w = 1 the continuous
  Bernoulli of Loaiza-Ganem & Cunningham 2019), log p(x | z) = Σ [η x − log((e^η − 1) / η)].

Both are normalised densities, so scores of images compare whatever their reconstructions.
A model that has not been trained past γ-training (w = 0) is scored with w = 1.
Low scores flag artefacts and rare objects.
"""

from __future__ import annotations

import math

from keras import ops

from astrovader.model import gmm_math

__all__ = [
    "SAMPLES",
    "calibrated_variance",
    "calibrated_weight",
    "combine",
    "decoder_log_density",
    "decoder_weight",
    "latent_log_weights",
    "log_importance_weights",
]

SAMPLES = 8  # the draws S of fit's clusters.csv, embed and Clusterer.score_samples


def decoder_weight(gmm_weight) -> float:
    """w of the decoder's density: the mixture term's weight at the end of training (1 if 0)."""
    weight = float(gmm_weight)
    return weight if weight > 0 else 1.0


def calibrated_variance(squares: float, count: int) -> float | None:
    """σ̂² = Σ (x − x̂)² / count, floored at (0.5/255)² (8-bit data); None without values."""
    if count <= 0:
        return None
    return max(float(squares) / count, (0.5 / 255) ** 2)


def calibrated_weight(residual_variance, trained: float) -> float:
    """w of the calibrated MSE decoder: 2σ̂² (its variance w/2 is σ̂²); ``trained`` without σ̂²."""
    return trained if residual_variance is None else 2.0 * float(residual_variance)


def _log_normaliser(eta):
    """log((e^η − 1) / η), stable for any η (η / 2 + η² / 24 near 0)."""
    size = ops.abs(eta)
    small = size < 1e-4
    safe = ops.where(small, ops.ones_like(size), size)
    tail = ops.maximum(eta, 0.0) + ops.log(-ops.expm1(-safe)) - ops.log(safe)
    return ops.where(small, eta / 2.0 + ops.square(eta) / 24.0, tail)


def decoder_log_density(x, x_hat, *, kind: str, weight: float):
    """log p(x | z) (N,) of the decoder at temperature ``weight`` (see the module docstring).

    Args:
        x: (N, H, W, B) images in [0, 1].
        x_hat: (N, H, W, B) decodings.
        kind: ``"mse"`` or ``"bce"``.
        weight: w > 0.
    """
    x, x_hat, weight = (ops.cast(t, "float32") for t in (x, x_hat, weight))
    n = ops.shape(x)[0]
    if kind == "mse":
        pixels = ops.cast(ops.size(x) // n, "float32")
        squares = ops.sum(ops.reshape(ops.square(x - x_hat), (n, -1)), axis=-1)
        return -squares / weight - 0.5 * pixels * ops.log(math.pi * weight)
    p = ops.clip(x_hat, 1e-7, 1.0 - 1e-7)
    eta = (ops.log(p) - ops.log1p(-p)) / weight
    per_pixel = eta * x - _log_normaliser(eta)
    return ops.sum(ops.reshape(per_pixel, (n, -1)), axis=-1)


def log_importance_weights(x, x_hat, *, z, noise, z_log_var, pi, mu, var, kind="mse", weight=1.0):
    """log w_s = log p(x | z_s) + log p(z_s) − log q(z_s | x) for one draw per image.

    Args:
        x: (N, S, S, B) images.
        x_hat: (N, S, S, B) their decodings of z.
        z: (N, J) draws μ̃ + σ̃ ε from q.
        noise: (N, J) the ε of the draws (log q is computed from it, so that a
            posterior of vanishing σ̃ gives no 0 / 0).
        z_log_var: (N, J) log σ̃².
        pi: (K,) weights.
        mu: (J, K) means.
        var: (J, K) variances.
        kind: The reconstruction loss, ``"mse"`` or ``"bce"``.
        weight: The decoder's temperature w (:func:`decoder_weight`).

    Returns:
        (N,) log weights.
    """
    latent = latent_log_weights(z, noise=noise, z_log_var=z_log_var, pi=pi, mu=mu, var=var)
    return decoder_log_density(x, x_hat, kind=kind, weight=weight) + latent


def latent_log_weights(z, *, noise, z_log_var, pi, mu, var):
    """log p(z_s) − log q(z_s | x) (N,): the decoder-free part of a log importance weight.

    Several decoder temperatures share it (:meth:`InferenceMixin.scores`). Shapes as in
    :func:`log_importance_weights`.
    """
    z, noise, z_log_var = (ops.cast(t, "float32") for t in (z, noise, z_log_var))
    pi = ops.cast(pi, "float32")
    log_prior = ops.logsumexp(
        gmm_math.log_gaussian(z, mu, var) + ops.log(pi / ops.sum(pi))[None], axis=-1
    )
    j = ops.cast(ops.shape(z)[-1], "float32")
    log_q = -0.5 * (j * math.log(2 * math.pi) + ops.sum(z_log_var + ops.square(noise), axis=-1))
    return log_prior - log_q


def combine(log_weights):
    """log p̂ (N,) from (S, N) log weights: logsumexp over the draws minus log S (eq. A4)."""
    draws = ops.cast(ops.shape(log_weights)[0], "float32")
    return ops.logsumexp(log_weights, axis=0) - ops.log(draws)
