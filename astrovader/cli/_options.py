"""Options shared by the commands: integers within bounds, ``--set``, options objects."""

from __future__ import annotations

import argparse
import dataclasses


def integer(low: int, high: int):
    """A parser of integers from ``low`` to ``high``; anything else is argparse's one-line error.

    Every number a command takes has both bounds, stated in its message, so that
    no value can ask for a negative dimension or an impossible allocation.
    """
    what = f"an integer from {low} to {high:,}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


BATCH = integer(1, 65536)
"""Images per batch (the bound of ``training.batch_size``)."""

SEED = integer(0, 2**32 - 1)
"""A seed (the bound of ``training.seed``)."""

SIDE = integer(1, 4096)
"""An output image side in pixels."""


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
