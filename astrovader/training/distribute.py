"""Data-parallel training: the ``training.strategy`` choice, one strategy per process.

Strategies (``training.strategy`` or ``astrovader fit --strategy``):

* ``default``: one device, the first GPU, else the CPU
  (:class:`tf.distribute.OneDeviceStrategy`: Keras then reads the data exactly as
  under the other strategies, so runs differ only by the strategy).
* ``mirrored``: :class:`tf.distribute.MirroredStrategy` over every visible GPU; on a
  machine without GPUs, over the logical CPU devices (one, unless the process split
  the CPU with ``tf.config.set_logical_device_configuration``, as the tests do).
* ``multiworker``: :class:`tf.distribute.MultiWorkerMirroredStrategy` across the
  machines named by the ``TF_CONFIG`` environment variable (each worker runs the
  same ``astrovader fit``; the chief writes the run directory).
* ``auto``: ``multiworker`` when ``TF_CONFIG`` names more than one task, else
  ``mirrored`` when more than one GPU is visible, else ``default``.

Under R replicas every global batch is split into R per-replica batches; the
training step stays equal to the single-device step through the cross-replica
maths of :mod:`astrovader.model.replicas` (which also documents how the γ
min-max transform is computed: over the global batch). The prior's π, μ, σ², the
loss weights and the clip value are mirrored variables: the schedule callbacks
and the GMM initialisation assign them outside the step, which writes the same
value to every replica. The GMM initialisation embeds the same (unsharded)
batches with the same weights and seed on every worker, so every worker computes
the same mixture.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from astrovader.config.rules import STRATEGY, check_key
from astrovader.errors import ConfigError
from astrovader.model.replicas import worker_count

__all__ = ["is_chief", "make_strategy", "resolve_strategy", "worker_count"]

_STRATEGIES: dict[tuple, tf.distribute.Strategy] = {}


def _cluster_size() -> int:
    """Number of tasks in ``TF_CONFIG``'s cluster (0 when unset)."""
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return 0
    try:
        cluster = json.loads(text).get("cluster", {})
    except (ValueError, AttributeError):
        raise ConfigError(f"TF_CONFIG is not a JSON object with a cluster: {text[:80]!r}") from None
    return sum(len(tasks) for tasks in cluster.values())


def resolve_strategy(name: str) -> str:
    """The concrete strategy that ``name`` means on this machine (``auto`` resolved)."""
    check_key("training.strategy", name, STRATEGY)
    if name != "auto":
        return name
    if _cluster_size() > 1:
        return "multiworker"
    return "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "default"


def make_strategy(name: str) -> tf.distribute.Strategy:
    """Create the ``tf.distribute`` strategy for ``training.strategy`` = ``name``.

    Call it before any other TensorFlow work in the process (``multiworker`` needs
    that to set up its collective operations). One strategy is made per process for
    each choice and device set, and handed out again on later calls (a search's
    trials, ``pick-k`` then ``fit``): every ``MirroredStrategy`` numbers its
    collective operations from the same keys, so a second one over the same devices
    would collide with the first one's collectives ("Collective instance … expected
    type …") and abort the run.

    Raises:
        ConfigError: ``multiworker`` without a ``TF_CONFIG`` cluster.
    """
    name = resolve_strategy(name)
    if name == "multiworker":
        if not _cluster_size():
            raise ConfigError(
                "training.strategy = 'multiworker' needs TF_CONFIG naming the cluster and this "
                'task, e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                '"task": {"type": "worker", "index": 0}}'
            )
        key = (name, os.environ["TF_CONFIG"])
    else:
        logical = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        key = (name, *(d.name for d in logical))
    if key not in _STRATEGIES:
        _STRATEGIES[key] = _new_strategy(name, list(key[1:]))
    return _STRATEGIES[key]


def _new_strategy(name: str, devices: list[str]) -> tf.distribute.Strategy:
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.OneDeviceStrategy(devices[0])


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run directory (always, except non-chief workers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief
