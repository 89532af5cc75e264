"""Configuration files: TOML text and ``--set section.key=value`` overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from astrovader.config.core import Config, from_dict, merge, quoted_name, to_dict
from astrovader.errors import ConfigError

__all__ = ["load_config", "parse_override"]


def parse_override(text: str) -> tuple[str, str, Any]:
    """Parse ``section.key=value`` (value in TOML syntax, bare words as strings)."""
    key_text, sep, raw = text.partition("=")
    section, dot, key = key_text.strip().partition(".")
    if not sep or not dot or not section or not key:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise ConfigError(
            f"--set {quoted_name(key_text.strip())}: the value is nested too deeply"
        ) from None
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
            data = merge(data, loaded)
            from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    for text in overrides:
        section, key, value = parse_override(text)
        data = merge(data, {section: {key: value}})
    return from_dict(data)
