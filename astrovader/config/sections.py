"""The sections of the configuration: frozen, typed dataclasses with the paper's defaults.

The section and key names are an interface shared with run directories,
``--set section.key=value`` overrides and ``experiments/paper.toml``. What each
value may be is written in :mod:`astrovader.config.rules`.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Input images (method §1).

    ``path`` empty means the built-in synthetic set of ``synthetic_count`` images.
    ``strict`` makes non-image files in a data folder an error (else they are
    skipped and counted); ``nan_pixels`` is ``"error"`` (default) or ``"zero"``
    (replace NaN/inf pixels by 0 and report how many).
    """

    image_size: int = 128
    bands: int = 1
    flips: bool = True
    validation_fraction: float = 0.03
    path: str = ""
    synthetic_count: int = 2000
    strict: bool = False
    nan_pixels: str = "error"


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The encoder-decoder and the mixture (method §2).

    ``n_clusters = "auto"`` chooses K with pick-k (method §6, settings in
    ``[pick_k]``) on the γ-trained embedding at the GMM initialisation.
    """

    latent_dim: int = 20
    n_clusters: int | str = 12
    filters: tuple[int, ...] = (64, 64, 16)
    kernels: tuple[int, ...] = (3, 5, 5)
    decoder_kernels: tuple[int, ...] = (5, 5, 5)
    leaky_slope: float = 0.1
    l2: float = 0.01


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """The s3VDC phase lengths in epochs (method §5, paper Table 1)."""

    gamma_epochs: int = 100
    gmm_batches: int = 200
    anneal_epochs: int = 25
    static_epochs: int = 25
    periods: int = 5
    anneal_power: float = 3.0

    @property
    def total_epochs(self) -> int:
        """T_γ + M (T_β + T_s)."""
        return self.gamma_epochs + self.periods * (self.anneal_epochs + self.static_epochs)


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """Loss weights (method §3–4). ``minmax_lambda`` None is the untransformed posterior."""

    reconstruction: str = "mse"
    gamma: float = 0.0005
    gmm_scale: float = 0.3
    minmax_lambda: float | None = 50.0


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """Adam with staircase exponential decay to a floor (method §5.4)."""

    learning_rate: float = 3e-4
    min_learning_rate: float = 1e-6
    decay_every: int = 5
    clip_value: float = 1.0


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Batching, reproducibility and the hardware options.

    ``strategy``: ``auto`` (mirrored over several visible GPUs, else default),
    ``default``, ``mirrored`` or ``multiworker`` (``TF_CONFIG``). ``precision``:
    ``auto``, ``float32``, ``mixed_bfloat16`` or ``mixed_float16`` (the mixture
    maths stay float32). ``xla``: ``auto``, ``on`` or ``off``.
    """

    batch_size: int = 180
    seed: int = 0
    strategy: str = "auto"
    precision: str = "auto"
    xla: str = "auto"


@dataclasses.dataclass(frozen=True)
class PickKConfig:
    """The Dirichlet-process cluster count of ``model.n_clusters = "auto"`` (method §6).

    See :func:`astrovader.training.pick_k.count_components`. ``concentration``
    None is scikit-learn's default 1/``max_components``.
    """

    fits: int = 50
    batch_size: int = 1000
    max_components: int = 30
    threshold: float = 0.01
    concentration: float | None = None
