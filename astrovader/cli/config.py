"""``astrovader config convert OLD NEW.toml`` and ``astrovader config show [FILE]``."""

from __future__ import annotations

import argparse

from astrovader.cli._logging import say
from astrovader.cli._options import add_overrides

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``config`` command with its ``convert`` and ``show`` actions."""
    parser = subparsers.add_parser(
        "config",
        help="convert the published INI configuration to TOML, or show a configuration",
        description="Work with configuration files (TOML, or the published INI format).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    convert = actions.add_parser(
        "convert",
        help="write a published-format INI file as TOML",
        description="Map the published configuration keys onto the TOML keys and write TOML.",
    )
    convert.add_argument("old", metavar="OLD", help="published INI config (astrovader-config.txt)")
    convert.add_argument("new", metavar="NEW.toml", help="TOML file to write")
    show = actions.add_parser(
        "show",
        help="print the resolved configuration as TOML",
        description="Print FILE (TOML or INI; default: the paper's values) with overrides.",
    )
    show.add_argument("file", nargs="?", metavar="FILE", help="TOML or published INI file")
    add_overrides(show)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Convert or show; returns 0."""
    from astrovader.config.legacy import load_any_config, read_legacy_config
    from astrovader.errors import ConfigError

    if args.action == "show":
        print(load_any_config(args.file, args.overrides).to_toml(), end="")
        return 0
    if not args.new.endswith(".toml"):
        raise ConfigError(f"{args.new}: the output file name must end in .toml")
    from astrovader._io import output_lock

    config = read_legacy_config(args.old)
    with output_lock(args.new):
        config.save(args.new)
    say(f"wrote {args.new}")
    return 0
