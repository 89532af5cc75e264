"""The probability maths of the Gaussian-mixture prior, as pure ``keras.ops`` functions.

Shapes: N samples, J latent dimensions, K mixture components. The prior's
parameters follow the published layout: ``pi`` (K,), ``mu`` (J, K) and ``var``,
which is either the diagonal covariances, (J, K) variances σ²_cj (the paper), or,
for full covariances Σ_c (method §9, ``mixture.covariance = "full"``), their
precisions' Cholesky factors, (K, J, J) upper-triangular P_c with Σ_c⁻¹ = P_c P_cᵀ
(scikit-learn's ``precisions_cholesky_``). Every function takes either form (told
apart by the rank) and computes in float32, whatever the inputs' dtype (mixed
precision keeps the mixture maths in full precision).
"""

from __future__ import annotations

import math

from keras import ops

from astrovader.config.rules import RECONSTRUCTION

__all__ = [
    "LOG_2PI",
    "MINMAX_EPSILON",
    "cluster_costs",
    "cluster_log_probabilities",
    "expected_log_gaussian",
    "gmm_kl",
    "is_full",
    "log_gaussian",
    "minmax_transform",
    "precision_diagonal",
    "reconstruction_loss",
    "unit_gaussian_kl",
]

LOG_2PI = math.log(2.0 * math.pi)
MINMAX_EPSILON = 1e-12


def _f32(*tensors):
    return [ops.cast(t, "float32") for t in tensors]


def is_full(var) -> bool:
    """Whether ``var`` holds full covariances (precision Cholesky factors, rank 3)."""
    return len(ops.shape(var)) == 3


def log_gaussian(z, mu, var):
    """Log-density of each sample under each Gaussian component (method §3).

    Diagonal: log N(z; μ_c, σ²_c) = −½ (J log 2π + Σ_j (z_j − μ_cj)² / σ²_cj) − ½ Σ_j log σ²_cj.
    Full: log N(z; μ_c, Σ_c) = −½ (J log 2π + ‖(z − μ_c)ᵀ P_c‖²) + Σ_j log P_c,jj.
    Both as scikit-learn's ``GaussianMixture`` computes them.

    Args:
        z: Latent vectors, (N, J).
        mu: Component means, (J, K).
        var: (J, K) variances, strictly positive, or (K, J, J) precision Cholesky factors.

    Returns:
        (N, K) log-densities.
    """
    z, mu, var = _f32(z, mu, var)
    latent_dim = ops.cast(ops.shape(z)[-1], "float32")
    diff = ops.expand_dims(z, -1) - ops.expand_dims(mu, 0)  # (N, J, K)
    if is_full(var):
        y = ops.einsum("njk,kjl->nkl", diff, var)
        log_det = ops.sum(ops.log(ops.diagonal(var, axis1=1, axis2=2)), axis=-1)
        return -0.5 * (latent_dim * LOG_2PI + ops.sum(ops.square(y), axis=-1)) + log_det[None]
    mahalanobis = ops.sum(ops.square(diff) / ops.expand_dims(var, 0), axis=1)
    return -0.5 * (latent_dim * LOG_2PI + mahalanobis) - 0.5 * ops.sum(ops.log(var), axis=0)


def precision_diagonal(var):
    """(J, K) the diagonal of each component's precision Σ_c⁻¹ (1/σ² for diagonal priors)."""
    (var,) = _f32(var)
    if is_full(var):
        return ops.transpose(ops.sum(ops.square(var), axis=-1))
    return 1.0 / var


def expected_log_gaussian(z_mean, z_log_var, *, mu, var):
    """E_q[log N(z; μ_c, Σ_c)] for the posterior q = N(μ̃, diag σ̃²) (method eqs. 11, A1).

    = log N(μ̃; μ_c, Σ_c) − ½ Σ_j σ̃²_j (Σ_c⁻¹)_jj; with ``z_log_var`` None the
    posterior is a point and this is log N(μ̃; μ_c, Σ_c).

    Args:
        z_mean: (N, J) μ̃.
        z_log_var: (N, J) log σ̃², or None.
        mu: (J, K) means.
        var: (J, K) variances or (K, J, J) precision Cholesky factors.

    Returns:
        (N, K) expected log-densities.
    """
    log_n = log_gaussian(z_mean, mu, var)
    if z_log_var is None:
        return log_n
    spread = ops.exp(ops.cast(z_log_var, "float32"))
    return log_n - 0.5 * ops.matmul(spread, precision_diagonal(var))


def cluster_costs(z, pi, *, mu, var):
    """The matrix a of method eqs. 12–13: a_c = −(log N(z; μ_c, σ²_c) + log π_c).

    Args:
        z: (N, J) latent vectors.
        pi: (K,) mixture weights (need not sum to one).
        mu: (J, K) means.
        var: (J, K) variances.

    Returns:
        (N, K) costs; lower means more probable.
    """
    (pi,) = _f32(pi)
    return -(log_gaussian(z, mu, var) + ops.expand_dims(ops.log(pi), 0))


def minmax_transform(costs, minmax_lambda):
    """Inverse min-max transform of s3VDC (method eq. 17).

    ã = (a − min a) / (max a − min a + 1e−12) · (−λ), min and max over the whole
    (N, K) batch matrix.

    Args:
        costs: (N, K) matrix a.
        minmax_lambda: λ > 0.

    Returns:
        (N, K) logits ã in [−λ, 0].
    """
    (costs,) = _f32(costs)
    low = ops.min(costs)
    high = ops.max(costs)
    return (costs - low) / (high - low + MINMAX_EPSILON) * (-float(minmax_lambda))


def cluster_log_probabilities(z, pi, *, mu, var, minmax_lambda=None):
    """log γ, the log cluster probabilities p(c|z) (method eqs. 12–13, 17).

    With ``minmax_lambda`` None this is log of π_c N(z; μ_c, σ²_c) / Σ_c' (...),
    the posterior of scikit-learn's ``GaussianMixture.predict_proba`` with
    weights π/Σπ; otherwise the softmax of the min-max transformed costs.

    Args:
        z: (N, J) latent vectors.
        pi: (K,) mixture weights.
        mu: (J, K) means.
        var: (J, K) variances.
        minmax_lambda: λ of eq. 17, or None for the untransformed posterior.

    Returns:
        (N, K) log-probabilities; each row's exponentials sum to one.
    """
    costs = cluster_costs(z, pi, mu=mu, var=var)
    logits = -costs if minmax_lambda is None else minmax_transform(costs, minmax_lambda)
    return ops.log_softmax(logits, axis=-1)


def unit_gaussian_kl(z_mean, z_log_var):
    """KL divergence from the posterior to N(0, I) (method eqs. 6–7).

    L_KL = −½ Σ_j (1 + log σ̃²_j − μ̃²_j − σ̃²_j).

    Args:
        z_mean: (N, J) μ̃.
        z_log_var: (N, J) log σ̃².

    Returns:
        (N,) per-sample divergences.
    """
    z_mean, z_log_var = _f32(z_mean, z_log_var)
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def gmm_kl(z_mean, z_log_var, *, log_gamma, pi, mu, var):
    """The VaDE KL term against the Gaussian-mixture prior (method eq. 11).

    L_GMM = −Σ_c γ_c E_q[log N(z; μ_c, Σ_c)] − Σ_c γ_c log π_c + Σ_c γ_c log γ_c
            − ½ Σ_j (1 + log σ̃²_j),

    which for diagonal Σ_c is the paper's
    ½ Σ_c γ_c [J log 2π + Σ_j (log σ²_cj + (σ̃²_j + (μ̃_j − μ_cj)²) / σ²_cj)] − … .

    Args:
        z_mean: (N, J) μ̃.
        z_log_var: (N, J) log σ̃².
        log_gamma: (N, K) log γ from :func:`cluster_log_probabilities`.
        pi: (K,) mixture weights, used as they are (not normalised).
        mu: (J, K) means.
        var: (J, K) variances or (K, J, J) precision Cholesky factors.

    Returns:
        (N,) per-sample values.
    """
    z_mean, z_log_var, log_gamma, pi = _f32(z_mean, z_log_var, log_gamma, pi)
    gamma = ops.exp(log_gamma)
    expected = expected_log_gaussian(z_mean, z_log_var, mu=mu, var=var)
    prior_term = -ops.sum(gamma * ops.expand_dims(ops.log(pi), 0), axis=-1)
    entropy_term = ops.sum(gamma * log_gamma, axis=-1)
    posterior_entropy = -0.5 * ops.sum(1.0 + z_log_var, axis=-1)
    return -ops.sum(gamma * expected, axis=-1) + prior_term + entropy_term + posterior_entropy


def reconstruction_loss(x, x_hat, kind="mse"):
    """Per-sample reconstruction loss: D · mean over pixels of MSE or BCE (method §4).

    Args:
        x: (N, H, W, B) images in [0, 1].
        x_hat: (N, H, W, B) reconstructions.
        kind: ``"mse"`` or ``"bce"``.

    Returns:
        (N,) per-sample losses (sums over the D = H·W·B pixels).
    """
    RECONSTRUCTION.check("reconstruction", kind)
    x, x_hat = _f32(x, x_hat)
    if kind == "mse":
        per_pixel = ops.square(x - x_hat)
    else:
        per_pixel = ops.binary_crossentropy(x, ops.clip(x_hat, 1e-7, 1.0 - 1e-7))
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=-1)
