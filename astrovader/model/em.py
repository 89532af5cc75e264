"""Tied posteriors and the EM update of the mixture prior (method §9, eqs. A1–A3).

Shapes: V views of N images, J latent dimensions, K components; the prior in the
published layout, ``mu`` (J, K) and ``var`` (J, K) variances or, for full
covariances, (K, J, J) precision Cholesky factors
(:mod:`~astrovader.model.gmm_math`). Every function is pure ``keras.ops``: the
posteriors compute in float32, the M-step's sufficient statistics in float64
(NumPy arrays in, tensors out).

The E-step and the M-step optimise one objective, the tied expected log-likelihood
(:func:`expected_log_likelihood`): both use the expectation of log N(z; μ_c, σ²_c)
under each view's posterior q(z | x_v) = N(μ̃_v, σ̃²_v), so that an EM iteration
never lowers it (with point embeddings, ``log_var_v = None``, it is the usual
mixture log-likelihood of the μ̃).
"""

from __future__ import annotations

from keras import ops

from astrovader.model.gmm_math import expected_log_gaussian

__all__ = [
    "VAR_FLOOR",
    "consistency",
    "covariance",
    "expected_log_likelihood",
    "image_log_likelihoods",
    "m_step",
    "m_step_from_statistics",
    "m_step_statistics",
    "precision_cholesky",
    "tied_log_posterior",
]

VAR_FLOOR = 1e-6


def _tied_logits(zv, pi, mu, var, log_var_v):
    """(N, K): log π_c/Σπ + (1/V) Σ_v E_q[log N(z_v; μ_c, σ²_c)]."""
    zv = ops.cast(ops.convert_to_tensor(zv), "float32")
    pi = ops.cast(pi, "float32")
    views = ops.shape(zv)[0]
    total = 0.0
    for v in range(views):
        spread = None if log_var_v is None else log_var_v[v]
        total = total + expected_log_gaussian(zv[v], spread, mu=mu, var=var)
    return total / ops.cast(views, "float32") + ops.log(pi / ops.sum(pi))[None]


def tied_log_posterior(zv, pi, *, mu, var, log_var_v=None):
    """log γ of each image from all its views (eq. A1).

    log γ_ic = log π_c + (1/V) Σ_v E_q[log N(z_iv; μ_c, σ²_c)] − log Σ_c' (…): the
    views of one image share one component, and their expected log-likelihoods
    are averaged (:func:`expected_log_gaussian`).

    Args:
        zv: (V, N, J) embeddings μ̃ of the views.
        pi: (K,) weights (normalised here).
        mu: (J, K) means.
        var: (J, K) variances.
        log_var_v: (V, N, J) log σ̃² of the views, or None for point embeddings.

    Returns:
        (N, K) log-probabilities; the rows' exponentials sum to one.
    """
    return ops.log_softmax(_tied_logits(zv, pi, mu, var, log_var_v), axis=-1)


def m_step_statistics(zv, log_var_v, *, gamma, full: bool = False):
    """The M-step's sufficient statistics of a batch, in float64 (eq. A2).

    Summed over batches they give the statistics of the whole data, so the
    M-step can stream (:func:`m_step_from_statistics`).

    Args:
        zv: (V, N, J) μ̃ of the views.
        log_var_v: (V, N, J) log σ̃² of the views, or None for point embeddings.
        gamma: (N, K) responsibilities.
        full: Second moments as matrices (full covariances).

    Returns:
        ``(counts, first, second)``: (K,) N_c = V Σ_i γ_ic, (J, K) Σ_iv γ_ic μ̃_iv and
        Σ_iv γ_ic (μ̃_iv μ̃_ivᵀ + diag σ̃²_iv), (J, K) diagonals or (K, J, J) matrices.
    """
    zv = ops.cast(ops.convert_to_tensor(zv), "float64")
    gamma = ops.cast(gamma, "float64")
    views = ops.shape(zv)[0]
    first = 0.0
    second = 0.0
    for v in range(views):
        z = zv[v]
        spread = 0.0 if log_var_v is None else ops.exp(ops.cast(log_var_v[v], "float64"))
        first = first + ops.matmul(ops.transpose(z), gamma)
        if full:
            outer = ops.einsum("nj,nl,nk->kjl", z, z, gamma)
            diagonal = ops.matmul(ops.transpose(gamma), spread + ops.zeros_like(z))
            eye = ops.eye(ops.shape(z)[1], dtype="float64")
            second = second + outer + diagonal[:, :, None] * eye[None]
        else:
            second = second + ops.matmul(ops.transpose(ops.square(z) + spread), gamma)
    counts = ops.sum(gamma, axis=0) * ops.cast(views, "float64")
    return counts, first, second


def m_step_from_statistics(counts, first, second):
    """π, μ and the covariances from summed statistics (eq. A2), float32.

    Diagonal: σ² = second / N_c − μ², floored at 10⁻⁶. Full: Σ_c = second_c / N_c −
    μ_c μ_cᵀ + 10⁻⁶ I (scikit-learn's ``reg_covar``), returned as the Cholesky
    factor of its precision (:mod:`~astrovader.model.gmm_math`).

    Args:
        counts: (K,) N_c.
        first: (J, K) Σ γ μ̃.
        second: (J, K) or (K, J, J) Σ γ (μ̃ μ̃ᵀ + diag σ̃²).

    Returns:
        ``(pi, mu, var)``: (K,), (J, K), and (J, K) or (K, J, J).
    """
    counts = ops.maximum(ops.cast(counts, "float64"), 1e-10)
    mu = first / counts[None]
    pi = counts / ops.sum(counts)
    if len(ops.shape(second)) == 3:
        means = ops.transpose(mu)
        eye = ops.eye(ops.shape(means)[1], dtype="float64")
        cov = second / counts[:, None, None] - means[:, :, None] * means[:, None, :]
        var = precision_cholesky(cov + VAR_FLOOR * eye[None])
    else:
        var = ops.maximum(second / counts[None] - ops.square(mu), VAR_FLOOR)
    return tuple(ops.cast(a, "float32") for a in (pi, mu, var))


def precision_cholesky(cov):
    """(K, J, J) upper-triangular P with Σ⁻¹ = P Pᵀ from covariances Σ (K, J, J).

    P = (L⁻¹)ᵀ for Σ = L Lᵀ, as scikit-learn's ``_compute_precision_cholesky``.
    """
    cov = ops.cast(cov, "float64")
    lower = ops.cholesky(cov)
    eye = ops.broadcast_to(ops.eye(ops.shape(cov)[-1], dtype="float64"), ops.shape(cov))
    return ops.transpose(ops.solve_triangular(lower, eye, lower=True), (0, 2, 1))


def covariance(var):
    """(K, J, J) full covariances Σ = (P Pᵀ)⁻¹ of precision Cholesky factors P."""
    var = ops.cast(var, "float64")
    return ops.inv(ops.matmul(var, ops.transpose(var, (0, 2, 1))))


def m_step(zv, log_var_v, *, gamma, full: bool = False):
    """π, μ and covariances from γ-weighted statistics of the views' posteriors (eq. A2).

    With N_c = V Σ_i γ_ic: π_c = N_c / Σ N, μ_c = Σ_iv γ_ic μ̃_iv / N_c and
    Σ_c = Σ_iv γ_ic (μ̃_iv μ̃_ivᵀ + diag σ̃²_iv) / N_c − μ_c μ_cᵀ (its diagonal σ²_c,
    floored at 10⁻⁶, for diagonal priors): the maximum of the expected
    log-likelihood of the latent posteriors q(z | x_iv). The sums are taken in
    float64, so the one-pass variance does not cancel.

    Args:
        zv: (V, N, J) μ̃ of the views.
        log_var_v: (V, N, J) log σ̃² of the views, or None for point embeddings.
        gamma: (N, K) responsibilities.
        full: Full covariances (returned as precision Cholesky factors).

    Returns:
        ``(pi, mu, var)``: (K,), (J, K), and (J, K) or (K, J, J).
    """
    return m_step_from_statistics(*m_step_statistics(zv, log_var_v, gamma=gamma, full=full))


def consistency(log_target, log_gamma):
    """KL(t ‖ γ) per image: Σ_c t_c (log t_c − log γ_c) (eq. A3).

    Args:
        log_target: (N, K) log of the target responsibilities (no gradient flows).
        log_gamma: (N, K) log γ of the augmented views.

    Returns:
        (N,) divergences, zero where the two agree.
    """
    log_target = ops.stop_gradient(ops.cast(log_target, "float32"))
    target = ops.exp(log_target)
    return ops.sum(target * (log_target - ops.cast(log_gamma, "float32")), axis=-1)


def image_log_likelihoods(zv, pi, *, mu, var, log_var_v=None):
    """(N,) log Σ_c π_c exp((1/V) Σ_v E_q[log N(z_iv; μ_c, σ²_c)]) of each image."""
    return ops.logsumexp(_tied_logits(zv, pi, mu, var, log_var_v), axis=-1)


def expected_log_likelihood(zv, pi, *, mu, var, log_var_v=None):
    """The tied objective of EM: the mean over images of :func:`image_log_likelihoods`.

    Neither the E-step (:func:`tied_log_posterior`) nor the M-step (:func:`m_step`)
    with the same ``log_var_v`` lowers it.
    """
    return ops.mean(image_log_likelihoods(zv, pi, mu=mu, var=var, log_var_v=log_var_v))
