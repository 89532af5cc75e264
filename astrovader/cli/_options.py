"""Options shared by the commands: integers with a lower bound, ``--set`` overrides."""

from __future__ import annotations

import argparse


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
