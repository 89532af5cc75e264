"""Search-space files: a Python module defining ``SPACE`` or a TOML description.

A space maps configuration keys ``"section.key"`` to Hyperopt expressions
(``hyperopt.hp``) or to constants. In Python::

    from math import log
    from hyperopt import hp

    SPACE = {
        "model.latent_dim": hp.choice("model.latent_dim", [10, 20]),
        "optimizer.learning_rate": hp.loguniform("optimizer.learning_rate", log(1e-4), log(1e-3)),
    }

In TOML each searched key is a one-entry inline table naming its distribution,
with bounds in the key's own units (``loguniform`` takes the values, not their
logarithms); any other value is a constant::

    [model]
    latent_dim = { choice = [10, 20] }
    [optimizer]
    learning_rate = { loguniform = [1e-4, 1e-3] }

TOML distributions: ``choice = [options]``, ``uniform = [low, high]``,
``quniform = [low, high, q]``, ``uniformint = [low, high]`` (inclusive),
``loguniform = [low, high]`` and ``qloguniform = [low, high, q]``.
"""

from __future__ import annotations

import importlib.util
import math
import tomllib
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from hyperopt import hp
from hyperopt.base import Domain
from hyperopt.pyll import stochastic

from astrovader.config import Config, to_dict
from astrovader.errors import ConfigError

__all__ = ["apply_params", "load_space", "plain_params"]

_ARITY = {"uniform": 2, "quniform": 3, "uniformint": 2, "loguniform": 2, "qloguniform": 3}


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _distribution(path: Path, label: str, spec: dict) -> Any:
    if len(spec) != 1:
        raise ConfigError(f"{path}: {label}: expected one distribution, got {sorted(spec)}")
    ((name, args),) = spec.items()
    if name == "choice":
        if not isinstance(args, list) or not args:
            raise ConfigError(f"{path}: {label}: choice needs a non-empty list of options")
        return hp.choice(label, args)
    if name not in _ARITY:
        known = ", ".join(["choice", *_ARITY])
        raise ConfigError(f"{path}: {label}: unknown distribution {name!r} (known: {known})")
    numeric = isinstance(args, list) and all(
        isinstance(a, int | float) and not isinstance(a, bool) for a in args
    )
    if not numeric or len(args) != _ARITY[name]:
        raise ConfigError(f"{path}: {label}: {name} needs {_ARITY[name]} numbers, got {args!r}")
    low, high, *q = args
    if not low < high or (name.endswith("loguniform") and low <= 0):
        raise ConfigError(
            f"{path}: {label}: {name} bounds {low}, {high} are not increasing"
            + (" and positive" if "log" in name else "")
        )
    if name.endswith("loguniform"):
        low, high = math.log(low), math.log(high)
    return getattr(hp, name)(label, low, high, *q)


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the search space ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    space = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table of config keys")
        for key, value in table.items():
            label = f"{section}.{key}"
            space[label] = _distribution(path, label, value) if isinstance(value, dict) else value
    return space


def _from_python(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_astrovader_space_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ConfigError(f"{path}: cannot load the search space ({_one_line(exc)})") from None
    if not hasattr(module, "SPACE"):
        raise ConfigError(f"{path}: defines no SPACE dictionary")
    return module.SPACE


def load_space(path: str | Path, base: Config | None = None) -> dict[str, Any]:
    """Read a ``.py`` or ``.toml`` space file and check its keys against the configuration.

    Args:
        path: The space file.
        base: The configuration whose sections and keys the space may use.

    Returns:
        ``{"section.key": hyperopt expression or constant}``, ready for ``fmin``.

    Raises:
        ConfigError: an unreadable, malformed or empty file, a key that is not
            a configuration key, or a space Hyperopt cannot sample; the one-line
            message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such search-space file")
    if path.suffix not in (".py", ".toml"):
        raise ConfigError(f"{path}: a search space is a .py or .toml file")
    space = _from_python(path) if path.suffix == ".py" else _from_toml(path)
    if not isinstance(space, dict) or not space:
        raise ConfigError(f"{path}: SPACE must be a non-empty dictionary, got {space!r:.60}")
    keys = to_dict(base or Config())
    for label in space:
        section, _, key = str(label).partition(".")
        if key not in keys.get(section, {}):
            raise ConfigError(f"{path}: {label!r} is not a configuration key (section.key)")
    try:
        Domain(lambda params: 0.0, space)
        stochastic.sample(space, rng=np.random.default_rng(0))
    except Exception as exc:
        raise ConfigError(f"{path}: not a valid Hyperopt space ({_one_line(exc)})") from None
    return space


def _plain(value: Any, like: Any) -> Any:
    """A sampled value as a plain Python value of the configuration default's type."""
    if isinstance(value, list | tuple):
        item = like[0] if isinstance(like, tuple) and like else None
        return [_plain(v, item) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(like, int) and not isinstance(like, bool) and isinstance(value, float):
        return int(value) if value.is_integer() else value
    return value


def plain_params(base: Config, params: dict[str, Any]) -> dict[str, Any]:
    """A trial's values as plain (JSON-ready) Python values; whole floats become ints for int keys.

    Args:
        base: The configuration, whose defaults give each key's type.
        params: ``{"section.key": value}`` as sampled by Hyperopt.
    """
    plain = {}
    for label, value in params.items():
        section, _, key = label.partition(".")
        plain[label] = _plain(value, getattr(getattr(base, section), key))
    return plain


def apply_params(base: Config, params: dict[str, Any]) -> Config:
    """The base configuration with a trial's (plain) values.

    Raises:
        ConfigError: a value the configuration rejects (the message names the key).
    """
    sections: dict[str, dict[str, Any]] = {}
    for label, value in params.items():
        section, _, key = label.partition(".")
        sections.setdefault(section, {})[key] = value
    return base.replace(**sections)
