"""Read the published AstroVaDEr configuration file (INI) into a :class:`~astrovader.config.Config`.

The published code reads ``astrovader-config.txt`` with :mod:`configparser`
(sections and keys below; key names are case-insensitive). Mapping onto the
TOML keys:

=================  ===================  =====================================
INI section        INI key              TOML key
=================  ===================  =====================================
directories        train_dir            data.path
training           batch_size           training.batch_size
training           gmm_steps            schedule.gmm_batches
training           warm_up_steps        schedule.gamma_epochs
training           annealing_steps      schedule.anneal_epochs
training           static_steps         schedule.static_epochs
training           annealing_periods    schedule.periods
training           l2_regulariser       model.l2
dataset            side                 data.image_size
dataset            b                    data.bands
embedding          latents              model.latent_dim
embedding          clusters             model.n_clusters
lr_settings        lr                   optimizer.learning_rate
lr_settings        min_lr               optimizer.min_learning_rate
lr_settings        lr_steps             optimizer.decay_every
loss_settings      warm_up_factor       loss.gamma
loss_settings      loss_type            loss.reconstruction (``mse`` → ``"mse"``,
                                        ``binary_crossentropy``/``bce`` → ``"bce"``)
loss_settings      scale_jank           loss.gmm_scale
=================  ===================  =====================================

Ignored keys (:data:`IGNORED`), because the project derives or does not need them:
``directories``: ``model_name``, ``test_dir``, ``valid_dir`` (the validation set is
split off ``data.path`` by ``data.validation_fraction``), ``model_dir``,
``saved_weights`` (use ``astrovader import-weights``); ``training``: ``n_train``,
``n_test`` (counted from the data), ``gpus`` (TensorFlow uses what it finds);
``lr_settings``: ``lr_decay`` (the published code overwrites it with
(min_lr / lr)^(lr_steps / total epochs), which is what the project computes).
Any other section or key is an error. Keys not in the file keep the defaults of
``base`` (the paper's values). ``train_dir`` is kept as written (the published
code read it relative to the working directory).
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from astrovader.config.core import Config, from_dict, to_dict
from astrovader.config.files import load_config
from astrovader.errors import ConfigError

__all__ = [
    "IGNORED",
    "LEGACY_SECTIONS",
    "LOSS_TYPES",
    "MAPPING",
    "is_legacy_config",
    "load_any_config",
    "read_legacy_config",
]

MAPPING: dict[tuple[str, str], tuple[str, str, type]] = {
    ("directories", "train_dir"): ("data", "path", str),
    ("training", "batch_size"): ("training", "batch_size", int),
    ("training", "gmm_steps"): ("schedule", "gmm_batches", int),
    ("training", "warm_up_steps"): ("schedule", "gamma_epochs", int),
    ("training", "annealing_steps"): ("schedule", "anneal_epochs", int),
    ("training", "static_steps"): ("schedule", "static_epochs", int),
    ("training", "annealing_periods"): ("schedule", "periods", int),
    ("training", "l2_regulariser"): ("model", "l2", float),
    ("dataset", "side"): ("data", "image_size", int),
    ("dataset", "b"): ("data", "bands", int),
    ("embedding", "latents"): ("model", "latent_dim", int),
    ("embedding", "clusters"): ("model", "n_clusters", int),
    ("lr_settings", "lr"): ("optimizer", "learning_rate", float),
    ("lr_settings", "min_lr"): ("optimizer", "min_learning_rate", float),
    ("lr_settings", "lr_steps"): ("optimizer", "decay_every", int),
    ("loss_settings", "warm_up_factor"): ("loss", "gamma", float),
    ("loss_settings", "loss_type"): ("loss", "reconstruction", str),
    ("loss_settings", "scale_jank"): ("loss", "gmm_scale", float),
}
IGNORED: frozenset[tuple[str, str]] = frozenset(
    {
        ("directories", "model_name"),
        ("directories", "test_dir"),
        ("directories", "valid_dir"),
        ("directories", "model_dir"),
        ("directories", "saved_weights"),
        ("training", "n_train"),
        ("training", "n_test"),
        ("training", "gpus"),
        ("lr_settings", "lr_decay"),
    }
)
LEGACY_SECTIONS = frozenset(section for section, _ in MAPPING.keys() | IGNORED)
LOSS_TYPES = {"mse": "mse", "binary_crossentropy": "bce", "bce": "bce"}


def is_legacy_config(path: str | os.PathLike) -> bool:
    """Whether ``path`` is in the published INI format rather than TOML.

    A file ending in ``.toml`` is TOML. Any other file is INI when its first
    ``[section]`` line names a section of the published format.
    """
    if Path(path).suffix.lower() == ".toml":
        return False
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    for line in lines:
        text = line.strip()
        if text.startswith("["):
            return text.strip("[]").strip() in LEGACY_SECTIONS
    return False


def load_any_config(path: str | os.PathLike | None, overrides=()) -> Config:
    """:func:`~astrovader.config.load_config` that also reads the published INI format.

    Args:
        path: A TOML or published-format INI file, or None for the defaults.
        overrides: ``section.key=value`` strings, applied after the file.
    """
    if path is not None and is_legacy_config(path):
        return load_config(None, overrides, base=read_legacy_config(path))
    return load_config(path, overrides)


def read_legacy_config(path: str | os.PathLike, base: Config | None = None) -> Config:
    """Read a published-format INI configuration.

    Args:
        path: The INI file (``astrovader-config.txt`` in the published code).
        base: Values for the keys the file does not set (default: the paper's).

    Returns:
        The validated configuration.

    Raises:
        ConfigError: unreadable file, INI syntax error, unknown section or key, or
            a value of the wrong type or out of range; the message names the file
            and the ``[section] key``.
    """
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path) as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(f"{path}: not a valid INI config ({message})") from None
    data = to_dict(base or Config.paper())
    for section in parser.sections():
        if section not in LEGACY_SECTIONS:
            raise ConfigError(
                f"{path}: [{section}]: unknown section of the published config format"
            )
        for key, raw in parser.items(section):
            where = f"{path}: [{section}] {key}"
            if (section, key) in IGNORED:
                continue
            if (section, key) not in MAPPING:
                raise ConfigError(f"{where}: unknown key of the published config format")
            table, name, kind = MAPPING[(section, key)]
            data[table][name] = _convert(where, raw.strip(), kind, key)
    try:
        return from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _convert(where: str, raw: str, kind: type, key: str):
    if key == "loss_type":
        if raw.lower() not in LOSS_TYPES:
            raise ConfigError(f"{where} = {raw!r}: expected one of {', '.join(LOSS_TYPES)}")
        return LOSS_TYPES[raw.lower()]
    if kind is str:
        return raw
    try:
        value = float(raw) if kind is float else int(raw)
    except ValueError:
        raise ConfigError(f"{where} = {raw!r}: expected {kind.__name__}") from None
    return value
