"""Tied posteriors and the EM update of the mixture prior (method §9, eqs. A1–A3).

Shapes: V views of N images, J latent dimensions, K components; the prior in the
published layout, ``mu`` and ``var`` (J, K). Every function is pure ``keras.ops``
and computes in float32 (NumPy arrays in, tensors out).
"""

from __future__ import annotations

from keras import ops

from astrovader.model.gmm_math import log_gaussian

VAR_FLOOR = 1e-6


def tied_log_posterior(zv, pi, mu, var):
    """log γ of each image from all its views (eq. A1).

    log γ_ic = log π_c + (1/V) Σ_v log N(μ̃_iv; μ_c, σ²_c) − log Σ_c' (…): the views
    of one image share one component, and their log-likelihoods are averaged.

    Args:
        zv: (V, N, J) embeddings μ̃ of the views.
        pi: (K,) weights (normalised here).
        mu: (J, K) means.
        var: (J, K) variances.

    Returns:
        (N, K) log-probabilities; the rows' exponentials sum to one.
    """
    zv = ops.cast(ops.convert_to_tensor(zv), "float32")
    pi = ops.cast(pi, "float32")
    views = ops.shape(zv)[0]
    total = 0.0
    for v in range(views):
        total = total + log_gaussian(zv[v], mu, var)
    logits = total / ops.cast(views, "float32") + ops.log(pi / ops.sum(pi))[None]
    return ops.log_softmax(logits, axis=-1)


def m_step(zv, log_var_v, gamma):
    """π, μ, σ² from γ-weighted statistics of the views' posteriors (eq. A2).

    With N_c = V Σ_i γ_ic: π_c = N_c / Σ N, μ_c = Σ_iv γ_ic μ̃_iv / N_c and
    σ²_c = Σ_iv γ_ic (μ̃²_iv + σ̃²_iv) / N_c − μ²_c (floored at 10⁻⁶): the maximum
    of the expected log-likelihood of the latent posteriors q(z | x_iv).

    Args:
        zv: (V, N, J) μ̃ of the views.
        log_var_v: (V, N, J) log σ̃² of the views, or None for point embeddings.
        gamma: (N, K) responsibilities.

    Returns:
        ``(pi, mu, var)``: (K,), (J, K), (J, K).
    """
    zv = ops.cast(ops.convert_to_tensor(zv), "float32")
    gamma = ops.cast(gamma, "float32")
    views = ops.shape(zv)[0]
    counts = ops.sum(gamma, axis=0) * ops.cast(views, "float32") + 1e-10
    first = 0.0
    second = 0.0
    for v in range(views):
        z = zv[v]
        spread = ops.square(z) if log_var_v is None else ops.square(z) + ops.exp(log_var_v[v])
        first = first + ops.matmul(ops.transpose(z), gamma)
        second = second + ops.matmul(ops.transpose(spread), gamma)
    mu = first / counts[None]
    var = ops.maximum(second / counts[None] - ops.square(mu), VAR_FLOOR)
    return counts / ops.sum(counts), mu, var


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


def expected_log_likelihood(zv, pi, mu, var):
    """Mean over images of log Σ_c π_c exp((1/V) Σ_v log N(μ̃_iv; μ_c, σ²_c)) (a fit score)."""
    zv = ops.cast(ops.convert_to_tensor(zv), "float32")
    views = ops.shape(zv)[0]
    total = 0.0
    for v in range(views):
        total = total + log_gaussian(zv[v], mu, var)
    pi = ops.cast(pi, "float32")
    logits = total / ops.cast(views, "float32") + ops.log(pi / ops.sum(pi))[None]
    return ops.mean(ops.logsumexp(logits, axis=-1))
