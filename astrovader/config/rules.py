"""Every rule a configuration value must satisfy, each written once (framework-free).

A :class:`Rule` is a test and the words that say what it expects. The
configuration checks each section's keys with them (:func:`check_section`,
naming the key in a :class:`~astrovader.errors.ConfigError`), and the layers,
readers and hardware choices that take the same values as arguments call
:meth:`Rule.check` on them (a ``ValueError`` naming the argument), so that no
rule is written twice.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable
from typing import Any

from astrovader.errors import ConfigError

__all__ = [
    "AUGMENT_RANGES",
    "BANDS",
    "BAND_AXES",
    "BOOLEAN",
    "COLUMNS",
    "COVARIANCE",
    "COVARIANCES",
    "GAMMA_FROM",
    "GAMMA_SOURCES",
    "IMAGE_SIZE",
    "INTERVALS",
    "LIKELIHOOD_SAMPLES",
    "MAX_BANDS",
    "MAX_LIKELIHOOD_SAMPLES",
    "MAX_SEED",
    "MINMAX_LAMBDA",
    "MIXTURE_UPDATE",
    "MIXTURE_UPDATES",
    "NAN_PIXELS",
    "NAN_PIXELS_RULE",
    "NON_NEGATIVE",
    "OPTIONAL_SEED",
    "POSITIVE",
    "POSITIVE_INT",
    "PRECISION",
    "PRECISIONS",
    "RECONSTRUCTION",
    "RECONSTRUCTIONS",
    "SCOPES",
    "SECTION_RULES",
    "SEED",
    "SIMULATED_BANDS",
    "SIMULATED_BANDS_RULE",
    "SKIES",
    "STRATEGIES",
    "STRATEGY",
    "STRETCH",
    "STRETCHES",
    "UPSAMPLING",
    "UPSAMPLINGS",
    "VIEW_COUNT",
    "VIEW_COUNTS",
    "VIEW_TARGET",
    "VIEW_TARGETS",
    "XLA",
    "XLA_RULE",
    "Rule",
    "above",
    "between",
    "check_key",
    "check_sample",
    "check_section",
    "count",
    "full_covariance_allowed",
    "one_of",
    "parse_minmax_lambda",
    "sample_violations",
    "three",
    "training_count",
    "uses_tied_targets",
    "validate",
]

RECONSTRUCTIONS = ("mse", "bce")
STRATEGIES = ("auto", "default", "mirrored", "multiworker")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
XLA = ("auto", "on", "off")
NAN_PIXELS = ("error", "zero")
BAND_AXES = ("auto", "first", "last")
SKIES = ("median", "none")
INTERVALS = ("sky", "minmax", "percentile", "zscale", "none")
STRETCHES = ("linear", "sqrt", "log", "asinh")
SCOPES = ("image", "global")
GAMMA_SOURCES = ("sample", "mean", "target")
MIXTURE_UPDATES = ("gradient", "em")
COVARIANCES = ("diag", "full")
VIEW_COUNTS = (1, 4, 8)  # tied flips and quarter turns: none, the turns, the dihedral group
VIEW_TARGETS = ("view", "original")
UPSAMPLINGS = ("bilinear", "bilinear_legacy")
SIMULATED_BANDS = (1, 3)  # the simulators draw grey or colour (g, r, i) images
MAX_SEED = 2**32 - 1
MAX_BANDS = 16
MAX_LIKELIHOOD_SAMPLES = 1024  # draws of an anomaly score (S decodings per image)


@dataclasses.dataclass(frozen=True)
class Rule:
    """A test of one value and what it expects, e.g. ``"positive"``.

    Attributes:
        expected: Completes "must be …" in messages.
        test: True when the value is allowed.
    """

    expected: str
    test: Callable[[Any], bool]

    def check(self, name: str, value, error: type[Exception] = ValueError):
        """Return ``value``, or raise ``error("NAME must be …, got VALUE")`` (a ValueError)."""
        if not self.test(value):
            raise error(f"{name} must be {self.expected}, got {value!r}")
        return value


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def one_of(choices: tuple[str, ...], expected: str | None = None) -> Rule:
    """The value is one of ``choices``."""
    words = expected or " or ".join(repr(c) for c in choices)
    return Rule(words, lambda value: value in choices)


def between(low, high, expected: str | None = None) -> Rule:
    """A number in [low, high]."""
    return Rule(expected or f"in [{low:g}, {high:g}]", lambda v: _number(v) and low <= v <= high)


def above(low, high) -> Rule:
    """A number in (low, high]."""
    return Rule(f"in ({low:g}, {high:g}]", lambda v: _number(v) and low < v <= high)


def count(low: int, high: int) -> Rule:
    """An integer from ``low`` to ``high`` (bounds from the hardware and the data)."""
    return Rule(f"an integer from {low} to {high:,}", lambda v: _number(v) and low <= v <= high)


POSITIVE = Rule("positive", lambda v: _number(v) and v > 0)
NON_NEGATIVE = Rule("non-negative", lambda v: _number(v) and v >= 0)
POSITIVE_INT = Rule(
    "a positive integer",
    lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0,
)
RECONSTRUCTION = one_of(RECONSTRUCTIONS, "'mse' or 'bce'")
STRATEGY = one_of(STRATEGIES, " or ".join(STRATEGIES))
PRECISION = one_of(PRECISIONS, " or ".join(PRECISIONS))
XLA_RULE = one_of(XLA, "auto, on or off")
NAN_PIXELS_RULE = one_of(NAN_PIXELS, '"error" or "zero"')
MINMAX_LAMBDA = Rule(
    'positive (at most 10,000) or "none"', lambda v: v is None or (_number(v) and 0 < v <= 1e4)
)
COLUMNS = Rule(
    f'a column name, "auto", "none" or a list of 1 to {MAX_BANDS} names (one per band)',
    lambda v: (
        (isinstance(v, str) and v != "")
        or (isinstance(v, tuple) and 0 < len(v) <= MAX_BANDS and all(v))
    ),
)
SEED = Rule(f"an integer in [0, {MAX_SEED}]", lambda v: isinstance(v, int) and 0 <= v <= MAX_SEED)
OPTIONAL_SEED = Rule(f"None or an integer in [0, {MAX_SEED}]", lambda v: v is None or SEED.test(v))
BOOLEAN = Rule("True or False", lambda v: isinstance(v, bool))
IMAGE_SIZE = Rule(
    "a positive multiple of 8 up to 1024",
    lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 1024 and v % 8 == 0,
)
BANDS = Rule(
    f"1 (grey), 3 (colour) or the number of per-band files (up to {MAX_BANDS})",
    lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_BANDS,
)
SIMULATED_BANDS_RULE = Rule("1 (grey) or 3 (colour)", lambda v: v in SIMULATED_BANDS)
GAMMA_FROM = one_of(GAMMA_SOURCES, "sample, mean or target")
MIXTURE_UPDATE = one_of(MIXTURE_UPDATES, '"gradient" or "em"')
COVARIANCE = one_of(COVARIANCES, '"diag" or "full"')
VIEW_COUNT = Rule("1, 4 or 8", lambda v: v in VIEW_COUNTS and not isinstance(v, bool))
VIEW_TARGET = one_of(VIEW_TARGETS, '"view" or "original"')
STRETCH = one_of(STRETCHES, "linear, sqrt, log or asinh")
UPSAMPLING = one_of(UPSAMPLINGS, '"bilinear" or "bilinear_legacy"')
LIKELIHOOD_SAMPLES = count(1, MAX_LIKELIHOOD_SAMPLES)
AUGMENT_RANGES = {
    "shift": between(0, 0.5),
    "zoom": between(1, 2),
    "brightness": between(0, 0.9),
    "noise": between(0, 1),
    "flux_dex": between(0, 3),
    "blur": between(0, 0.25),
    "snr": between(0, 1000),
    "neighbour": between(0, 1),
    "consistency": between(0, 1000),
    "contrast": between(0, 1000),
    "contrast_temperature": above(0, 10),
    "contrast_head": count(0, 4096),
}


def three(high: int) -> Rule:
    """Three integers from 1 to ``high``."""
    return Rule(
        f"three integers from 1 to {high}",
        lambda v: len(v) == 3 and all(isinstance(i, int) and 0 < i <= high for i in v),
    )


def parse_minmax_lambda(value) -> float | None:
    """λ of the γ transform: a positive number, or None / ``"none"`` for no transform."""
    if value is None or (isinstance(value, str) and value.lower() == "none"):
        return None
    return float(MINMAX_LAMBDA.check("minmax_lambda", value))


def full_covariance_allowed(covariance: str, update: str) -> bool:
    """Full covariances are set by the EM step only: ``"full"`` needs ``update = "em"``."""
    return covariance != "full" or update == "em"


def uses_tied_targets(gamma_from: str, consistency: float) -> bool:
    """Whether a model needs each image's tied target (method §9 eq. A1) in its steps.

    Either the γ of the mixture term is the target (``mixture.gamma_from =
    "target"``) or the consistency term (``augment.consistency`` > 0) pulls the
    views towards it.
    """
    return gamma_from == "target" or float(consistency) > 0


SECTION_RULES: dict[str, dict[str, Rule]] = {
    "data": {
        "image_size": IMAGE_SIZE,
        "bands": BANDS,
        "validation_fraction": Rule("in [0, 1)", lambda v: _number(v) and 0 <= v < 1),
        "synthetic_count": count(1, 10**6),
        "nan_pixels": NAN_PIXELS_RULE,
        "crop": count(0, 65536),
        "crop_arcsec": between(0, 3600),
        "pixel_scale": between(0, 3600),
        "image_arcsec": between(0, 10**6),
        "band_axis": one_of(BAND_AXES, "auto, first or last"),
        "max_pixels": count(1, 2**31),
        "max_bytes": count(1, 2**40),
    },
    "scaling": {
        "sky": one_of(SKIES, '"median" or "none"'),
        "interval": one_of(INTERVALS, "sky, minmax, percentile, zscale or none"),
        "noise_floor": NON_NEGATIVE,
        "lower_percentile": Rule("in [0, 100)", lambda v: _number(v) and 0 <= v < 100),
        "upper_percentile": Rule("in (0, 100]", lambda v: _number(v) and 0 < v <= 100),
        "stretch": STRETCH,
        "asinh_a": POSITIVE,
        "log_a": POSITIVE,
        "scope": one_of(SCOPES, '"image" or "global"'),
        "sample": count(1, 10**6),
        "limits": Rule(
            "empty or [low, high] with low < high",
            lambda v: len(v) == 0 or (len(v) == 2 and v[0] < v[1]),
        ),
    },
    "catalog": {
        "path_column": COLUMNS,
        "hdu_column": COLUMNS,
        "band_catalogs": Rule(
            f"at most {MAX_BANDS - 1} file names", lambda v: len(v) < MAX_BANDS and all(v)
        ),
    },
    "model": {
        "latent_dim": count(1, 1024),
        "n_clusters": Rule(
            'an integer from 1 to 1,000 or "auto"',
            lambda v: v == "auto" or (isinstance(v, int) and 0 < v <= 1000),
        ),
        "filters": three(4096),
        "kernels": three(31),
        "decoder_kernels": three(31),
        "leaky_slope": between(0, 1),
        "l2": between(0, 10),
        "l2_scaling": one_of(("none", "pixels"), '"none" or "pixels"'),
    },
    "schedule": {
        "gamma_epochs": count(0, 10**4),
        "gmm_batches": count(1, 10**5),
        "anneal_epochs": count(0, 10**4),
        "static_epochs": count(0, 10**4),
        "periods": count(0, 1000),
        "anneal_power": above(0, 100),
        "epoch_images": count(0, 10**9),
        "beta_per": one_of(("epoch", "step"), '"epoch" or "step"'),
        "stop_when_stable": Rule("in [0, 1)", lambda v: _number(v) and 0 <= v < 1),
    },
    "loss": {
        "reconstruction": RECONSTRUCTION,
        "gamma": between(0, 1000),
        "gmm_scale": between(0, 1000),
        "minmax_lambda": MINMAX_LAMBDA,
        "scaling": one_of(("none", "pixels"), '"none" or "pixels"'),
    },
    "optimizer": {
        "learning_rate": above(0, 10),
        "min_learning_rate": above(0, 10),
        "decay_every": count(1, 10**4),
        "clip_value": above(0, 10**6),
    },
    "training": {
        "batch_size": count(1, 65536),
        "seed": SEED,
        "strategy": STRATEGY,
        "precision": PRECISION,
        "xla": XLA_RULE,
        "max_memory": count(0, 2**60),
    },
    "augment": {
        **AUGMENT_RANGES,
        "target": VIEW_TARGET,
        "tied_views": VIEW_COUNT,
        "test_views": VIEW_COUNT,
    },
    "mixture": {
        "update": MIXTURE_UPDATE,
        "pi": one_of(("free", "simplex"), '"free" or "simplex"'),
        "gamma_from": GAMMA_FROM,
        "respawn": between(0, 1),
        "restarts": count(1, 100),
        "final_fits": count(0, 100),
        "final_covariance": one_of(("bic", "diag", "full"), "bic, diag or full"),
        "covariance": COVARIANCE,
    },
    "pick_k": {
        "fits": count(1, 10**4),
        "batch_size": count(1, 10**6),
        "max_components": count(1, 1000),
        "threshold": Rule("in (0, 1)", lambda v: _number(v) and 0 < v < 1),
        "concentration": Rule('positive or "none"', lambda v: v is None or (_number(v) and v > 0)),
    },
}


def _refuse(key: str, value, expected: str) -> None:
    raise ConfigError(f"{key} = {value!r} is not allowed: must be {expected}")


def check_key(key: str, value, rule: Rule):
    """Return ``value``, or raise ``ConfigError("KEY = VALUE is not allowed: must be …")``."""
    if not rule.test(value):
        _refuse(key, value, rule.expected)
    return value


def check_section(name: str, section) -> None:
    """Check every key of one section against :data:`SECTION_RULES`.

    Raises:
        ConfigError: ``"section.key = value is not allowed: must be …"``.
    """
    for key, rule in SECTION_RULES.get(name, {}).items():
        check_key(f"{name}.{key}", getattr(section, key), rule)


def validate(config) -> None:
    """Check every section, then the rules that tie keys together.

    Raises:
        ConfigError: the first value that is not allowed, named by its key.
    """
    for name in SECTION_RULES:
        check_section(name, getattr(config, name))
    o, p, s, sc = config.optimizer, config.pick_k, config.schedule, config.scaling
    if o.min_learning_rate > o.learning_rate:
        _refuse(
            "optimizer.min_learning_rate", o.min_learning_rate, "positive and at most learning_rate"
        )
    if p.batch_size <= p.max_components:
        _refuse("pick_k.batch_size", p.batch_size, "more than pick_k.max_components")
    if sc.lower_percentile >= sc.upper_percentile:
        _refuse("scaling.lower_percentile", sc.lower_percentile, "below upper_percentile")
    if s.total_epochs == 0:
        raise ConfigError("schedule: the schedule has no epochs (all lengths are 0)")
    bands = config.catalog.band_names
    if bands and config.data.bands not in (1, len(bands)):
        _refuse(
            "data.bands",
            config.data.bands,
            f"{len(bands)} (the bands {', '.join(bands)}) or 1 (their mean)",
        )

    a = config.augment
    if a.contrast > 0 and not a.draws_views:
        _refuse(
            "augment.contrast",
            a.contrast,
            "0 without random views (set augment.rotate, shift, zoom, brightness, noise,"
            " flux_dex, blur, snr or neighbour)",
        )
    m = config.mixture
    if not full_covariance_allowed(m.covariance, m.update):
        _refuse("mixture.covariance", m.covariance, '"diag" with mixture.update = "gradient"')


def training_count(n_images: int, validation_fraction: float) -> int:
    """The training images of ``n_images`` after the validation split (data/split.py)."""
    return n_images - round(n_images * validation_fraction)


def sample_violations(config, n_train: int) -> list[str]:
    """Every key too large for ``n_train`` training images, each with the value that works.

    Returns:
        One phrase per key, e.g. ``"training.batch_size = 180 (set training.batch_size ≤ 5)"``.
    """
    found = []
    if config.model.n_clusters != "auto" and config.model.n_clusters > n_train:
        found.append(
            f"model.n_clusters = {config.model.n_clusters} (set model.n_clusters ≤ {n_train})"
        )
    if config.training.batch_size > n_train:
        found.append(
            f"training.batch_size = {config.training.batch_size} "
            f"(set training.batch_size ≤ {n_train})"
        )
    return found


def check_sample(config, n_images: int, n_train: int | None = None) -> None:
    """Refuse, in one line, every key that ``n_images`` images cannot satisfy.

    Args:
        config: The run's configuration.
        n_images: The images read.
        n_train: The training images (default: from ``data.validation_fraction``).

    Raises:
        ConfigError: all the keys at once, each with the value that would work.
    """
    fraction = config.data.validation_fraction
    n_train = training_count(n_images, fraction) if n_train is None else n_train
    found = sample_violations(config, n_train)
    if not found:
        return
    hint = ""
    if n_train < n_images and not sample_violations(config, n_images):
        hint = f", or data.validation_fraction = 0 to train on all {n_images}"
    raise ConfigError(
        f"{n_images} images ({n_train} for training) are too few for {'; '.join(found)}{hint}"
    )
