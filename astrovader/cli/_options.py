"""Options shared by the commands: integers with a lower bound, ``--set``, options objects."""

from __future__ import annotations

import argparse
import dataclasses


def _at_least(minimum: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what.replace(" ", "_")
    return parse


positive = _at_least(1, "a positive integer")
"""Parse an integer ≥ 1 (counts, sizes, batch sizes, processes)."""

non_negative = _at_least(0, "a non-negative integer")
"""Parse an integer ≥ 0 (seeds, component indices)."""


def add_overrides(parser: argparse.ArgumentParser, what: str = "configuration") -> None:
    """Add the repeatable ``--set SECTION.KEY=VALUE`` option, collected in ``args.overrides``."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help=f"override one {what} key (repeatable)",
    )


def options_from(cls, args: argparse.Namespace, **given):
    """An options dataclass from the parsed arguments of the same names.

    Fields named in ``given`` take that value; the others the argument of the
    same name, or the field's default when the command has no such argument.
    """
    values = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(cls)
        if hasattr(args, field.name)
    }
    return cls(**{**values, **given})
