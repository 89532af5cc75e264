"""View agreement: the NT-Xent contrastive term between two random views (method §9c, eq. A6).

Two random views of each image (:mod:`astrovader.model.views`) are encoded, their μ̃ (or a
projection of them) L2-normalised to u and v, and every view must pick its partner out
of the 2N − 1 other views of the batch (SimCLR, Chen et al. 2020):

  ℓ_i = −log [ exp(u_i · v_i / τ) / Σ_{k ≠ i} exp(w_i · w_k / τ) ]     (eq. A6)

over the 2N normalised rows w = (u; v), with the partner's row the positive and τ the
temperature; the term of image i is the mean of its two views' ℓ. A latent that keeps
pose, brightness or size apart cannot pick partners out, so the term makes the latent
the mixture prior clusters keep what the views share: the morphology. Shapes: N images,
P projected dimensions. Under a ``tf.distribute`` strategy each replica's negatives are
its own rows of the batch.
"""

from __future__ import annotations

from keras import ops

__all__ = ["nt_xent"]


def nt_xent(a, b, *, temperature: float):
    """ℓ per image (N,): the NT-Xent loss of the view pairs (a_i, b_i), eq. A6.

    Args:
        a: (N, P) embeddings of the first views.
        b: (N, P) embeddings of the second views (row i: the same image as a's row i).
        temperature: τ > 0.

    Returns:
        (N,) the mean of ℓ over each image's two views; log(2N − 1) for embeddings
        that tell nothing apart, 0 in the limit of perfect agreement.
    """
    a, b = ops.cast(a, "float32"), ops.cast(b, "float32")
    n = ops.shape(a)[0]
    rows = ops.concatenate([a, b], axis=0)
    rows = rows / ops.sqrt(ops.maximum(ops.sum(ops.square(rows), axis=-1, keepdims=True), 1e-24))
    logits = ops.matmul(rows, ops.transpose(rows)) / temperature
    self_mask = ops.eye(2 * n, dtype="float32")
    logits = logits - 1e9 * self_mask
    log_norm = ops.logsumexp(logits, axis=-1)
    partner = ops.concatenate([ops.arange(n) + n, ops.arange(n)], axis=0)
    positive = ops.take_along_axis(logits, ops.expand_dims(partner, -1), axis=-1)[:, 0]
    losses = log_norm - positive
    return 0.5 * (losses[:n] + losses[n:])
