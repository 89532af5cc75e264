"""``astrovader merge OUT PART...``: one table from the tables of ``embed --shard I/N``."""

from __future__ import annotations

import argparse
from pathlib import Path

from astrovader.cli._logging import say
from astrovader.errors import AstrovaderError

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``merge`` command."""
    parser = subparsers.add_parser(
        "merge",
        help="concatenate the tables of 'astrovader embed --shard I/N' into one",
        description=(
            "Concatenate the cluster tables of the parts of one data set (written by "
            "'astrovader embed --shard I/N', all .csv or all .fits, like OUT) into OUT, in "
            "part order: the same table one 'embed' pass writes. The parts must come from "
            "one model (same K, J, columns and weights) and be exactly parts 1 to N, each "
            "once; ids must be unique. Tables without part cards are joined in the order "
            "given. Memory holds one chunk of rows; OUT appears only when complete."
        ),
    )
    parser.add_argument("out", metavar="OUT", help="the merged .csv or .fits table")
    parser.add_argument("parts", nargs="+", metavar="PART", help="the parts' tables")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Merge the parts and print a one-line summary."""
    from astrovader.data.tables.merge import merge_tables

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise AstrovaderError(f"{out}: exists; use --overwrite to replace it")
    rows = merge_tables(out, args.parts, command=args.command_line, progress=not args.quiet)
    say(f"astrovader merge: wrote {rows} rows from {len(args.parts)} tables to {out}")
    return 0
