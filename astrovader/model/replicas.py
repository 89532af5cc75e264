"""Cross-replica maths of the training step under a ``tf.distribute`` strategy.

Under R replicas every global batch of N images is split into R per-replica
batches. The training step (:meth:`astrovader.model.vade.AstroVaDEr.train_step`)
uses the helpers below so that one step on R replicas equals one step on one
device for the same global batch:

* each replica's mean loss is weighted by n_r / N (:func:`batch_share`), so the
  summed gradients are those of the global batch mean, even for an uneven last batch;
* gradients are summed over replicas *before* the value clipping
  (:func:`sum_over_replicas`), so the clip acts on the global gradient;
* the min and max of the γ min-max transform (method eq. 17) are **global**: taken
  over the whole (N, K) cost matrix of the global batch (:func:`global_extrema`),
  so γ, and with it L_GMM, does not depend on the number of replicas;
* replica r takes rows r·n … (r+1)·n of one noise draw for R·n samples
  (:func:`replica_rows`), so replicas never share reparameterisation noise.

The price is a second all-reduce of the gradients per step (Keras' optimizer sums
them once more; each replica hands it 1/R of the global gradient), a few
scalars, and R× the (tiny) sampling work. Without replicas every helper is the
identity of the single-device step.
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops

__all__ = [
    "apply_if",
    "batch_share",
    "global_extrema",
    "optimizer_share",
    "replica_rows",
    "step_logs",
    "sum_over_replicas",
    "worker_count",
]


def worker_count(strategy: tf.distribute.Strategy) -> int:
    """Number of worker processes of the strategy (1 unless multi-worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    spec = resolver.cluster_spec().as_dict()
    return max(1, len(spec.get("worker", [])) + len(spec.get("chief", [])))


def step_logs(logs: dict) -> dict:
    """A training or test step's logs, shaped for Keras to reduce them over replicas.

    Keras 3 reduces a step's outputs across multi-worker replicas with
    ``strategy.reduce("MEAN", value, axis=0)``, which fails on scalars
    (tensorflow/tensorflow#72388); under a multi-worker strategy each value is
    given shape (1,), which that reduction turns back into the scalar mean.
    Elsewhere the logs are unchanged.
    """
    strategy = tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return logs
    if worker_count(strategy) == 1:
        return logs
    return {name: ops.reshape(value, (1,)) for name, value in logs.items()}


def _replica_context():
    """The replica context of a multi-replica step, or None (one replica, or outside a step)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def batch_share(n_local):
    """n_r / N: this replica's share of the global batch (1.0 without replicas)."""
    n_local = ops.cast(n_local, "float32")
    context = _replica_context()
    if context is None:
        return ops.ones((), "float32")
    return n_local / context.all_reduce(tf.distribute.ReduceOp.SUM, n_local)


def sum_over_replicas(values):
    """Sum a list of tensors over replicas (unchanged without replicas); differentiable."""
    context = _replica_context()
    if context is None:
        return list(values)
    return list(context.all_reduce(tf.distribute.ReduceOp.SUM, list(values)))


def optimizer_share(gradients):
    """What each replica hands to the optimizer for it to apply ``gradients`` once.

    Keras' optimizer sums the replicas' gradients; after :func:`sum_over_replicas`
    every replica holds the global gradient, so each hands over 1/R of it.
    """
    context = _replica_context()
    if context is None:
        return gradients
    fraction = 1.0 / context.num_replicas_in_sync
    return [g * ops.cast(fraction, g.dtype) for g in gradients]


def global_extrema(x):
    """Min and max of ``x`` over every replica's values; differentiable.

    Returns:
        Two scalars: the global minimum and maximum (local ones without replicas).
    """
    local = ops.stack([ops.min(x), -ops.max(x)])
    context = _replica_context()
    if context is None:
        return local[0], -local[1]
    gathered = ops.min(context.all_gather(local[None], axis=0), axis=0)
    return gathered[0], -gathered[1]


def replica_rows(sample, inputs):
    """Apply a per-row random ``sample`` so that replicas draw distinct rows of one draw.

    ``sample`` maps a list of (M, …) tensors to (M, …) outputs with fresh noise
    per row. Replica r of R calls it on its inputs tiled R times and keeps rows
    r·n … (r+1)·n: with equal per-replica batches this is exactly the noise a
    single device draws for the global batch.

    Args:
        sample: The sampling function (e.g. the reparameterisation layer).
        inputs: A list of (n, …) per-replica tensors.

    Returns:
        ``sample``'s (n, …) output for this replica.
    """
    context = _replica_context()
    if context is None:
        return sample(inputs)
    replicas = context.num_replicas_in_sync
    tiled = [ops.tile(t, (replicas,) + (1,) * (len(t.shape) - 1)) for t in inputs]
    out = sample(tiled)
    n = ops.shape(inputs[0])[0]
    blocks = ops.reshape(out, (replicas, n, *ops.shape(out)[1:]))
    return ops.take(blocks, context.replica_id_in_sync_group, axis=0)


def apply_if(condition, apply):
    """Run ``apply()`` (an optimizer update) in every replica iff ``condition``.

    ``condition`` must be equal on every replica (computed from summed values).
    Without replicas this is a ``cond``; with them, an update needs a merge call,
    which may not sit inside a ``cond``, so the ``cond`` is taken in the
    cross-replica context, as Keras' ``LossScaleOptimizer`` does.
    """
    context = _replica_context()
    if context is None or tf.__internal__.distribute.strategy_supports_no_merge_call():
        ops.cond(condition, apply, lambda: None)
        return

    def cross_replica(strategy, condition):
        first = strategy.experimental_local_results(condition)[0]

        def run():
            strategy.extended.call_for_each_replica(apply)

        ops.cond(first, run, lambda: None)

    context.merge_call(cross_replica, args=(condition,))
