"""Speed options: mixed precision (``training.precision``) and XLA (``training.xla``).

``auto`` picks what helps on the hardware found at run time:

* precision: on GPUs of compute capability ≥ 8.0 (A100, H100, RTX 30xx and later:
  bfloat16 tensor cores) ``mixed_bfloat16``; on 7.x (V100, T4, RTX 20xx: float16
  tensor cores only) ``mixed_float16``; on older GPUs ``float32``. On CPUs with
  bfloat16 matrix units (Intel AMX, ``amx_bf16`` in ``/proc/cpuinfo``)
  ``mixed_bfloat16``, measured 2.0–2.9× faster than float32 at the paper's
  configuration; on other CPUs ``float32``.
* XLA: on with GPUs when one replica trains (Keras' own rule); off on CPUs, where
  compiling the paper's float32 step grew past 19 GB of RAM, and with several
  replicas, where Keras would compile the whole synchronised step for one device.

The CPU figures are in ``experiments/benchmarks/README.md``; the GPU rules follow
the hardware's tensor cores and could not be measured here (no GPU).

Under mixed precision the weights stay float32; convolutions compute in the
reduced type while the latent heads, the output layer and the mixture maths
(:mod:`astrovader.model.gmm_math`, the prior, γ) compute in float32.
``mixed_float16`` adds dynamic loss scaling (``keras.optimizers.LossScaleOptimizer``);
``mixed_bfloat16`` has float32's exponent range and needs none.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import keras
import tensorflow as tf

from astrovader.config.rules import PRECISION, XLA_RULE, check_key
from astrovader.errors import ConfigError

__all__ = ["dtype_policy", "resolve_precision", "resolve_xla", "wrap_optimizer"]


def _gpu_capabilities() -> list[tuple[int, int]]:
    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(tuple(details.get("compute_capability") or (0, 0)))
    return capabilities


def _cpu_has_amx_bf16() -> bool:
    """Whether the CPU has AMX bfloat16 tile units (Linux ``/proc/cpuinfo`` flags)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return False
    return any(line.startswith("flags") and "amx_bf16" in line.split() for line in lines)


def resolve_precision(name: str) -> str:
    """The dtype policy that ``training.precision`` = ``name`` means on this machine."""
    check_key("training.precision", name, PRECISION)
    if name != "auto":
        return name
    capabilities = _gpu_capabilities()
    if not capabilities:
        return "mixed_bfloat16" if _cpu_has_amx_bf16() else "float32"
    oldest = min(capabilities)
    if oldest >= (8, 0):
        return "mixed_bfloat16"
    return "mixed_float16" if oldest >= (7, 0) else "float32"


def resolve_xla(name: str, replicas: int = 1) -> bool:
    """Whether ``training.xla`` = ``name`` compiles the training step with XLA here.

    Args:
        name: ``"auto"``, ``"on"`` or ``"off"``.
        replicas: Replicas of the distribution strategy in sync.
    """
    check_key("training.xla", name, XLA_RULE)
    if name == "on" and replicas > 1:
        raise ConfigError(
            f"training.xla = 'on' cannot compile a step synchronised across {replicas} "
            "replicas (Keras compiles the whole distributed step for one device); use auto or off"
        )
    if name != "auto":
        return name == "on"
    return bool(tf.config.list_physical_devices("GPU")) and replicas == 1


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build layers under the global dtype policy ``name``; restore the previous one after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def wrap_optimizer(optimizer: keras.optimizers.Optimizer, policy: str):
    """The optimizer, with dynamic loss scaling under ``mixed_float16``."""
    if policy == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
