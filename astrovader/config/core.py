"""The whole configuration: :class:`Config`, and its conversion from and to dictionaries.

Values are checked against the section's annotation (int → float is the only
conversion) and then against :mod:`astrovader.config.rules`.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any

import tomli_w

from astrovader._io import write_text_atomic
from astrovader.config import options, rules, sections
from astrovader.errors import ConfigError

__all__ = ["SECTIONS", "Config", "from_dict", "merge", "quoted_name", "to_dict"]


@dataclasses.dataclass(frozen=True)
class Config:
    """The whole configuration of a run, checked by every rule as it is built.

    Raises:
        ConfigError: a value :mod:`~astrovader.config.rules` does not allow, named by
            its key (``Config(model=ModelConfig(n_clusters=0))`` too).
    """

    data: sections.DataConfig = dataclasses.field(default_factory=sections.DataConfig)
    scaling: sections.ScalingConfig = dataclasses.field(default_factory=sections.ScalingConfig)
    catalog: sections.CatalogConfig = dataclasses.field(default_factory=sections.CatalogConfig)
    model: sections.ModelConfig = dataclasses.field(default_factory=sections.ModelConfig)
    schedule: sections.ScheduleConfig = dataclasses.field(default_factory=sections.ScheduleConfig)
    loss: sections.LossConfig = dataclasses.field(default_factory=sections.LossConfig)
    optimizer: sections.OptimizerConfig = dataclasses.field(
        default_factory=sections.OptimizerConfig
    )
    training: sections.TrainingConfig = dataclasses.field(default_factory=sections.TrainingConfig)
    pick_k: sections.PickKConfig = dataclasses.field(default_factory=sections.PickKConfig)
    augment: options.AugmentConfig = dataclasses.field(default_factory=options.AugmentConfig)
    mixture: options.MixtureConfig = dataclasses.field(default_factory=options.MixtureConfig)

    def __post_init__(self):
        rules.validate(self)

    def replace(self, **changes: dict[str, Any]) -> Config:
        """A copy with some keys changed, e.g. ``replace(model={"n_clusters": 5})``."""
        return from_dict(merge(to_dict(self), changes))

    @classmethod
    def paper(cls, **changes: dict[str, Any]) -> Config:
        """The paper's method: every option beyond it off (:data:`.options.PAPER_METHOD`)."""
        return Config().replace(**merge(options.PAPER_METHOD, changes))

    def to_toml(self) -> str:
        """The configuration as TOML text (``"none"`` for None)."""
        return tomli_w.dumps(to_dict(self, toml=True))

    def save(self, path: str | Path) -> None:
        """Write the configuration as TOML, atomically."""
        write_text_atomic(path, self.to_toml())


def _fields(cls: type) -> dict[str, Any]:
    """Field name → resolved type annotation."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


SECTIONS: dict[str, type] = _fields(Config)


def to_dict(config: Config, toml: bool = False) -> dict[str, dict[str, Any]]:
    """The configuration as nested plain dictionaries (tuples as lists; None as "none" for TOML)."""
    out: dict[str, dict[str, Any]] = {}
    for name in SECTIONS:
        section = dataclasses.asdict(getattr(config, name))
        for key, value in section.items():
            if isinstance(value, tuple):
                section[key] = list(value)
            elif value is None and toml:
                section[key] = "none"
        out[name] = section
    return out


def quoted_name(text: str) -> str:
    """A user-given name for a message: as it is if printable, else its repr (one line)."""
    return text if text.isprintable() else repr(text)


def merge(base: dict, update: dict) -> dict:
    """``base`` with the keys of ``update`` (section by section) replaced."""
    merged = {k: dict(v) for k, v in base.items()}
    for section, values in update.items():
        if not isinstance(values, dict):
            raise ConfigError(f"[{quoted_name(section)}] must be a table of keys, got {values!r}")
        merged.setdefault(section, {}).update(values)
    return merged


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
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
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
    """Build a Config from nested dictionaries (unknown keys are errors; values validated)."""
    built = {}
    for section, values in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"unknown config section [{quoted_name(section)}]")
        if not isinstance(values, dict):
            raise ConfigError(f"[{quoted_name(section)}] must be a table of keys, got {values!r}")
        cls = SECTIONS[section]
        fields = _fields(cls)
        kwargs = {}
        for key, value in values.items():
            if key not in fields:
                raise ConfigError(f"unknown config key {section}.{quoted_name(key)}")
            kwargs[key] = _coerce(f"{section}.{key}", fields[key], value)
        built[section] = cls(**kwargs)
    return Config(**built)
