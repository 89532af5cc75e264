"""One frozen, typed configuration, read from and written to TOML (SPEC §1–5).

The section and key names are an interface shared with run directories,
``--set section.key=value`` overrides and ``experiments/paper.toml``; the
defaults are the paper's values.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

import tomli_w

from astrovader._io import write_text_atomic
from astrovader.errors import ConfigError
from astrovader.selection import pick_k

STRATEGIES = ("auto", "default", "mirrored", "multiworker")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Input images (SPEC §1).

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
    """The encoder-decoder and the mixture (SPEC §2).

    ``n_clusters = "auto"`` chooses K with pick-k (SPEC §6, settings in
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
    """The s3VDC phase lengths in epochs (SPEC §5, paper Table 1)."""

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
    """Loss weights (SPEC §3–4). ``minmax_lambda`` None is the untransformed posterior."""

    reconstruction: str = "mse"
    gamma: float = 0.0005
    gmm_scale: float = 0.3
    minmax_lambda: float | None = 50.0


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """Adam with staircase exponential decay to a floor (SPEC §5.4)."""

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
    """The Dirichlet-process cluster count of ``model.n_clusters = "auto"`` (SPEC §6).

    See :func:`astrovader.selection.pick_k.count_components`. ``concentration``
    None is scikit-learn's default 1/``max_components``.
    """

    fits: int = pick_k.DEFAULT_FITS
    batch_size: int = pick_k.DEFAULT_BATCH_SIZE
    max_components: int = pick_k.DEFAULT_MAX_COMPONENTS
    threshold: float = pick_k.DEFAULT_THRESHOLD
    concentration: float | None = None


@dataclasses.dataclass(frozen=True)
class Config:
    """The whole configuration of a run."""

    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    loss: LossConfig = LossConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    training: TrainingConfig = TrainingConfig()
    pick_k: PickKConfig = PickKConfig()

    def replace(self, **sections: dict[str, Any]) -> Config:
        """A copy with some keys changed, e.g. ``replace(model={"n_clusters": 5})``."""
        return from_dict(_merge(to_dict(self), sections))

    def to_toml(self) -> str:
        """The configuration as TOML text (``minmax_lambda = "none"`` for None)."""
        return tomli_w.dumps(to_dict(self, toml=True))

    def save(self, path: str | Path) -> None:
        """Write the configuration as TOML, atomically."""
        write_text_atomic(path, self.to_toml())


def _sections() -> dict[str, type]:
    return _fields(Config)


def _fields(cls: type) -> dict[str, Any]:
    """Field name → resolved type annotation."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def to_dict(config: Config, toml: bool = False) -> dict[str, dict[str, Any]]:
    """The configuration as nested plain dictionaries."""
    out: dict[str, dict[str, Any]] = {}
    for name in _sections():
        section = dataclasses.asdict(getattr(config, name))
        for key, value in section.items():
            if isinstance(value, tuple):
                section[key] = list(value)
            elif value is None and toml:
                section[key] = "none"
        out[name] = section
    return out


def _merge(base: dict, update: dict) -> dict:
    merged = {k: dict(v) for k, v in base.items()}
    for section, values in update.items():
        if not isinstance(values, dict):
            raise ConfigError(f"[{_name(section)}] must be a table of keys, got {values!r}")
        merged.setdefault(section, {}).update(values)
    return merged


def _name(text: str) -> str:
    """A user-given name for a message: as it is if printable, else its repr (one line)."""
    return text if text.isprintable() else repr(text)


def _coerce(where: str, annotation: Any, value: Any) -> Any:
    """Check ``value`` against a field's annotation; int → float is the only conversion."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if type(None) in args and (value is None or value == "none"):
            return None
        inner = [a for a in args if a is not type(None)]
        for candidate in inner:
            try:
                return _coerce(where, candidate, value)
            except ConfigError:
                if len(inner) == 1:
                    raise
        names = " or ".join(a.__name__ for a in inner)
        raise ConfigError(f"{where}: expected {names}, got {value!r}")
    if origin is tuple:
        (inner, _) = typing.get_args(annotation)
        if not isinstance(value, list | tuple) or not value:
            raise ConfigError(f"{where}: expected a non-empty list, got {value!r}")
        return tuple(_coerce(f"{where}[{i}]", inner, v) for i, v in enumerate(value))
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation is int and isinstance(value, bool):
        raise ConfigError(f"{where}: expected int, got {value!r}")
    if not isinstance(value, annotation):
        raise ConfigError(f"{where}: expected {annotation.__name__}, got {value!r}")
    if annotation is float and not math.isfinite(value):
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    return value


def from_dict(data: dict[str, Any]) -> Config:
    """Build and validate a Config from nested dictionaries (unknown keys are errors)."""
    sections = {}
    for name, values in data.items():
        if name not in _sections():
            raise ConfigError(f"unknown config section [{_name(name)}]")
        if not isinstance(values, dict):
            raise ConfigError(f"[{_name(name)}] must be a table of keys, got {values!r}")
        cls = _sections()[name]
        fields = _fields(cls)
        kwargs = {}
        for key, value in values.items():
            if key not in fields:
                raise ConfigError(f"unknown config key {name}.{_name(key)}")
            kwargs[key] = _coerce(f"{name}.{key}", fields[key], value)
        sections[name] = cls(**kwargs)
    config = Config(**sections)
    validate(config)
    return config


def validate(config: Config) -> None:
    """Reject impossible values with a message naming the key."""
    d, m, s, lo, o, t = (
        config.data,
        config.model,
        config.schedule,
        config.loss,
        config.optimizer,
        config.training,
    )
    checks = [
        (
            "data.image_size",
            d.image_size,
            d.image_size > 0 and d.image_size % 8 == 0,
            "a positive multiple of 8",
        ),
        ("data.bands", d.bands, d.bands in (1, 3), "1 (grey) or 3 (colour)"),
        (
            "data.validation_fraction",
            d.validation_fraction,
            0.0 <= d.validation_fraction < 1.0,
            "in [0, 1)",
        ),
        ("data.synthetic_count", d.synthetic_count, d.synthetic_count > 0, "positive"),
        ("data.nan_pixels", d.nan_pixels, d.nan_pixels in ("error", "zero"), '"error" or "zero"'),
        ("model.latent_dim", m.latent_dim, m.latent_dim > 0, "positive"),
        (
            "model.n_clusters",
            m.n_clusters,
            m.n_clusters == "auto" or (isinstance(m.n_clusters, int) and m.n_clusters > 0),
            'positive or "auto"',
        ),
        (
            "model.filters",
            m.filters,
            len(m.filters) == 3 and min(m.filters) > 0,
            "three positive integers",
        ),
        (
            "model.kernels",
            m.kernels,
            len(m.kernels) == 3 and min(m.kernels) > 0,
            "three positive integers",
        ),
        (
            "model.decoder_kernels",
            m.decoder_kernels,
            len(m.decoder_kernels) == 3 and min(m.decoder_kernels) > 0,
            "three positive integers",
        ),
        ("model.leaky_slope", m.leaky_slope, m.leaky_slope >= 0, "non-negative"),
        ("model.l2", m.l2, m.l2 >= 0, "non-negative"),
        ("schedule.gamma_epochs", s.gamma_epochs, s.gamma_epochs >= 0, "non-negative"),
        ("schedule.gmm_batches", s.gmm_batches, s.gmm_batches > 0, "positive"),
        ("schedule.anneal_epochs", s.anneal_epochs, s.anneal_epochs >= 0, "non-negative"),
        ("schedule.static_epochs", s.static_epochs, s.static_epochs >= 0, "non-negative"),
        ("schedule.periods", s.periods, s.periods >= 0, "non-negative"),
        ("schedule.anneal_power", s.anneal_power, s.anneal_power > 0, "positive"),
        (
            "loss.reconstruction",
            lo.reconstruction,
            lo.reconstruction in ("mse", "bce"),
            '"mse" or "bce"',
        ),
        ("loss.gamma", lo.gamma, lo.gamma >= 0, "non-negative"),
        ("loss.gmm_scale", lo.gmm_scale, lo.gmm_scale >= 0, "non-negative"),
        (
            "loss.minmax_lambda",
            lo.minmax_lambda,
            lo.minmax_lambda is None or lo.minmax_lambda > 0,
            'positive or "none"',
        ),
        ("optimizer.learning_rate", o.learning_rate, o.learning_rate > 0, "positive"),
        (
            "optimizer.min_learning_rate",
            o.min_learning_rate,
            0 < o.min_learning_rate <= o.learning_rate,
            "positive and at most learning_rate",
        ),
        ("optimizer.decay_every", o.decay_every, o.decay_every > 0, "positive"),
        ("optimizer.clip_value", o.clip_value, o.clip_value > 0, "positive"),
        ("training.batch_size", t.batch_size, t.batch_size > 0, "positive"),
        ("training.seed", t.seed, t.seed >= 0, "non-negative"),
        ("training.strategy", t.strategy, t.strategy in STRATEGIES, " or ".join(STRATEGIES)),
        ("training.precision", t.precision, t.precision in PRECISIONS, " or ".join(PRECISIONS)),
        ("training.xla", t.xla, t.xla in ("auto", "on", "off"), "auto, on or off"),
    ]
    p = config.pick_k
    checks += [
        ("pick_k.fits", p.fits, p.fits > 0, "positive"),
        ("pick_k.max_components", p.max_components, p.max_components > 0, "positive"),
        (
            "pick_k.batch_size",
            p.batch_size,
            p.batch_size > p.max_components,
            "more than pick_k.max_components",
        ),
        ("pick_k.threshold", p.threshold, 0 < p.threshold < 1, "in (0, 1)"),
        (
            "pick_k.concentration",
            p.concentration,
            p.concentration is None or p.concentration > 0,
            'positive or "none"',
        ),
    ]
    for key, value, ok, expected in checks:
        if not ok:
            raise ConfigError(f"{key} = {value!r} is not allowed: must be {expected}")
    if s.total_epochs == 0:
        raise ConfigError("schedule: the schedule has no epochs (all lengths are 0)")


def parse_override(text: str) -> tuple[str, str, Any]:
    """Parse ``section.key=value`` (value in TOML syntax, bare words as strings)."""
    name, sep, raw = text.partition("=")
    section, dot, key = name.strip().partition(".")
    if not sep or not dot or not section or not key:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise ConfigError(f"--set {_name(name.strip())}: the value is nested too deeply") from None
    return section, key, value


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: Config | None = None,
) -> Config:
    """Read a TOML file (or start from ``base`` or the defaults) and apply overrides.

    Raises:
        ConfigError: the file is unreadable or not TOML, or a key is unknown,
            mistyped or impossible; the message names the file or key.
    """
    data = to_dict(base or Config())
    if path is not None:
        try:
            loaded = tomllib.loads(Path(path).read_text())
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        try:
            data = _merge(data, loaded)
            from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    for text in overrides:
        section, key, value = parse_override(text)
        data = _merge(data, {section: {key: value}})
    return from_dict(data)
