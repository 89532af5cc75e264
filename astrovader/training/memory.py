"""The memory a configuration needs to train, checked before TensorFlow allocates (framework-free).

Every value of a configuration may be allowed while together they cannot fit:
1024-pixel images through 4,096 filters per layer need terabytes, and TensorFlow
then fails deep inside a step with an out-of-memory traceback. :func:`check_memory`
estimates the need from the configuration alone and refuses with one line:

* parameters: the encoder, decoder and mixture weights (counted as
  :mod:`astrovader.model.network` builds them), plus a second encoder (the
  teacher of the targets), each held as float32 weights, gradients and Adam's
  two moments;
* activations: the output of every convolution, dense layer FC3 and LeakyReLU of
  the encoder and decoder for each image of a training batch (2 bytes a value with a mixed
  precision, else 4).

It is a lower bound (TensorFlow's buffers, the data and the views come on top),
so a configuration it refuses would not have fitted. The limit is
``training.max_memory`` in bytes, or, when that is 0, the machine's memory (the
smaller of its physical memory and a cgroup limit).
"""

from __future__ import annotations

import os
from pathlib import Path

from astrovader.errors import ConfigError

__all__ = [
    "GIB",
    "activation_values",
    "check_memory",
    "machine_memory",
    "parameter_counts",
    "training_memory",
]

GIB = 2**30


def parameter_counts(image_size: int, bands: int, *, model, n_clusters: int) -> dict[str, int]:
    """Weights of the encoder, decoder and prior that ``model`` (a ``[model]`` section) builds."""
    filters, latent = tuple(model.filters), model.latent_dim

    def blocks(channels: int, widths, kernels) -> tuple[int, int]:
        count = 0
        for n, kernel in zip(widths, kernels, strict=True):
            count += kernel * kernel * channels * n + n + kernel * kernel * n * n + n
            channels = n
        return count, channels

    flat = (image_size // 8) ** 2 * filters[-1]
    encoder, _ = blocks(bands, filters, model.kernels)
    encoder += 2 * (flat * latent + latent)  # the μ̃ and log σ̃² heads
    decoder, channels = blocks(filters[-1], filters[::-1], model.decoder_kernels)
    decoder += latent * flat + flat + 9 * channels * bands + bands  # FC3 and the output layer
    return {"encoder": encoder, "decoder": decoder, "prior": n_clusters * (1 + 2 * latent)}


def activation_values(image_size: int, model) -> int:
    """Values of the convolution, FC3 and LeakyReLU outputs for one image (encoder, decoder)."""
    values, side = 0, image_size
    for n in model.filters:
        values += 2 * 2 * side * side * n  # two convolutions, each with its LeakyReLU
        side //= 2
    values += 2 * side * side * model.filters[-1]  # FC3 and its LeakyReLU
    for n in tuple(model.filters)[::-1]:
        values += 2 * 2 * side * side * n
        side *= 2
    return values


def machine_memory() -> tuple[int, str]:
    """The memory of this machine in bytes (the smaller of physical and cgroup), and its name."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in (
        Path("/sys/fs/cgroup/memory.max"),
        Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    ):
        try:
            text = limit.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            return int(text), "this machine's memory (its cgroup limit)"
    return total, "this machine's memory"


def training_memory(config) -> tuple[int, int, int]:
    """Bytes a training step needs at least, with the parameter count and activation bytes."""
    data, model = config.data, config.model
    k = model.n_clusters if isinstance(model.n_clusters, int) else config.pick_k.max_components
    counts = parameter_counts(data.image_size, data.bands, model=model, n_clusters=k)
    params = sum(counts.values())
    per_value = 4 if config.training.precision == "float32" else 2
    activations = per_value * config.training.batch_size * activation_values(data.image_size, model)
    need = 4 * 4 * params + 4 * counts["encoder"] + activations  # + the teacher encoder
    return need, params, activations


def check_memory(config) -> None:
    """Refuse a configuration whose training cannot fit in memory.

    Raises:
        ConfigError: the estimate (see the module docstring) is over
            ``training.max_memory``, or the machine's memory when that is 0.
    """
    need, params, activations = training_memory(config)
    limit = config.training.max_memory
    if limit:
        what = f"training.max_memory = {limit}"
    else:
        limit, what = machine_memory()
    if need > limit:
        raise ConfigError(
            f"this configuration needs at least {need / GIB:.1f} GiB to train "
            f"({params:,} parameters; {activations / GIB:.1f} GiB of activations for a batch of "
            f"{config.training.batch_size} at data.image_size = {config.data.image_size}), "
            f"more than the {limit / GIB:.1f} GiB of {what}; lower model.filters, "
            "data.image_size or training.batch_size"
        )
