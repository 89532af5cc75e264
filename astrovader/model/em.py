"""Tied posteriors and the EM update of the mixture prior (method §9, eqs. A1–A3).

Shapes: V views of N images, J latent dimensions, K components; the prior in the
published layout, ``mu`` and ``var`` (J, K). Every function is pure ``keras.ops``:
the posteriors compute in float32, the M-step's sufficient statistics in float64
(NumPy arrays in, tensors out).

The E-step and the M-step optimise one objective, the tied expected log-likelihood
(:func:`expected_log_likelihood`): both use the expectation of log N(z; μ_c, σ²_c)
under each view's posterior q(z | x_v) = N(μ̃_v, σ̃²_v), so that an EM iteration
never lowers it (with point embeddings, ``log_var_v = None``, it is the usual
mixture log-likelihood of the μ̃).
"""

from __future__ import annotations

from keras import ops

from astrovader.model.gmm_math import log_gaussian

VAR_FLOOR = 1e-6


def expected_log_gaussian(z_mean, z_log_var, mu, var):
    """E_q[log N(z; μ_c, σ²_c)] for q = N(μ̃, diag σ̃²) (method eq. A1).

    = log N(μ̃; μ_c, σ²_c) − ½ Σ_j σ̃²_j / σ²_cj; with ``z_log_var`` None the
    posterior is a point and this is log N(μ̃; μ_c, σ²_c).

    Args:
        z_mean: (N, J) μ̃.
        z_log_var: (N, J) log σ̃², or None.
        mu: (J, K) means.
        var: (J, K) variances.

    Returns:
        (N, K) expected log-densities.
    """
    log_n = log_gaussian(z_mean, mu, var)
    if z_log_var is None:
        return log_n
    spread = ops.exp(ops.cast(z_log_var, "float32"))
    return log_n - 0.5 * ops.matmul(spread, 1.0 / ops.cast(var, "float32"))


def _tied_logits(zv, pi, mu, var, log_var_v):
    """(N, K): log π_c/Σπ + (1/V) Σ_v E_q[log N(z_v; μ_c, σ²_c)]."""
    zv = ops.cast(ops.convert_to_tensor(zv), "float32")
    pi = ops.cast(pi, "float32")
    views = ops.shape(zv)[0]
    total = 0.0
    for v in range(views):
        spread = None if log_var_v is None else log_var_v[v]
        total = total + expected_log_gaussian(zv[v], spread, mu, var)
    return total / ops.cast(views, "float32") + ops.log(pi / ops.sum(pi))[None]


def tied_log_posterior(zv, pi, mu, var, log_var_v=None):
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


def m_step_statistics(zv, log_var_v, gamma):
    """The M-step's sufficient statistics of a batch, in float64 (eq. A2).

    Summed over batches they give the statistics of the whole data, so the
    M-step can stream (:func:`m_step_from_statistics`).

    Args:
        zv: (V, N, J) μ̃ of the views.
        log_var_v: (V, N, J) log σ̃² of the views, or None for point embeddings.
        gamma: (N, K) responsibilities.

    Returns:
        ``(counts, first, second)``: (K,) N_c = V Σ_i γ_ic, (J, K) Σ_iv γ_ic μ̃_iv and
        (J, K) Σ_iv γ_ic (μ̃²_iv + σ̃²_iv).
    """
    zv = ops.cast(ops.convert_to_tensor(zv), "float64")
    gamma = ops.cast(gamma, "float64")
    views = ops.shape(zv)[0]
    first = 0.0
    second = 0.0
    for v in range(views):
        z = zv[v]
        spread = ops.square(z)
        if log_var_v is not None:
            spread = spread + ops.exp(ops.cast(log_var_v[v], "float64"))
        first = first + ops.matmul(ops.transpose(z), gamma)
        second = second + ops.matmul(ops.transpose(spread), gamma)
    counts = ops.sum(gamma, axis=0) * ops.cast(views, "float64")
    return counts, first, second


def m_step_from_statistics(counts, first, second):
    """π, μ, σ² from summed statistics (eq. A2); float32, σ² floored at 10⁻⁶.

    Args:
        counts: (K,) N_c.
        first: (J, K) Σ γ μ̃.
        second: (J, K) Σ γ (μ̃² + σ̃²).

    Returns:
        ``(pi, mu, var)``: (K,), (J, K), (J, K).
    """
    counts = ops.maximum(ops.cast(counts, "float64"), 1e-10)
    mu = first / counts[None]
    var = ops.maximum(second / counts[None] - ops.square(mu), VAR_FLOOR)
    pi = counts / ops.sum(counts)
    return tuple(ops.cast(a, "float32") for a in (pi, mu, var))


def m_step(zv, log_var_v, gamma):
    """π, μ, σ² from γ-weighted statistics of the views' posteriors (eq. A2).

    With N_c = V Σ_i γ_ic: π_c = N_c / Σ N, μ_c = Σ_iv γ_ic μ̃_iv / N_c and
    σ²_c = Σ_iv γ_ic (μ̃²_iv + σ̃²_iv) / N_c − μ²_c (floored at 10⁻⁶): the maximum
    of the expected log-likelihood of the latent posteriors q(z | x_iv). The
    sums are taken in float64, so the one-pass variance does not cancel.

    Args:
        zv: (V, N, J) μ̃ of the views.
        log_var_v: (V, N, J) log σ̃² of the views, or None for point embeddings.
        gamma: (N, K) responsibilities.

    Returns:
        ``(pi, mu, var)``: (K,), (J, K), (J, K).
    """
    return m_step_from_statistics(*m_step_statistics(zv, log_var_v, gamma))


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


def image_log_likelihoods(zv, pi, mu, var, log_var_v=None):
    """(N,) log Σ_c π_c exp((1/V) Σ_v E_q[log N(z_iv; μ_c, σ²_c)]) of each image."""
    return ops.logsumexp(_tied_logits(zv, pi, mu, var, log_var_v), axis=-1)


def expected_log_likelihood(zv, pi, mu, var, log_var_v=None):
    """The tied objective of EM: the mean over images of :func:`image_log_likelihoods`.

    Neither the E-step (:func:`tied_log_posterior`) nor the M-step (:func:`m_step`)
    with the same ``log_var_v`` lowers it.
    """
    return ops.mean(image_log_likelihoods(zv, pi, mu, var, log_var_v))
