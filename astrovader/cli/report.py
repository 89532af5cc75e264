"""``astrovader report RUN``: figures, tables and one HTML page of a trained run (method §7)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from astrovader.cli._logging import say
from astrovader.cli._options import SEED, integer, options_from

__all__ = ["register", "run"]


def _numbers(kind):
    def parse(text: str):
        try:
            values = tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {kind.__name__}s, got {text!r}"
            ) from None
        if not values:
            raise argparse.ArgumentTypeError(f"expected at least one value, got {text!r}")
        return values

    return parse


def _column(text: str) -> tuple[str, str]:
    key, sep, name = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected FIELD=COLUMN, got {text!r}")
    return key.strip(), name.strip()


def register(subparsers) -> None:
    """Add the ``report`` command."""
    parser = subparsers.add_parser(
        "report",
        help="write the figures, tables and index.html of a trained run",
        description=(
            "Every analysis of the paper's Section 5 for a run directory: losses, "
            "reconstructions, occupancy, mean-γ matrix, component galleries, generation, "
            "interpolation route, traversals, deblending, clustering metrics and t-SNE, and "
            "with --labels or --catalog the supervised and Galaxy Zoo 2 comparisons. Writes "
            "OUT/figures (PNG, PDF), OUT/tables (CSV, FITS) and OUT/index.html."
        ),
    )
    parser.add_argument("run_dir", metavar="RUN", help="run directory written by `astrovader fit`")
    parser.add_argument("--data", metavar="DATA", help="images to analyse (default: the run's)")
    parser.add_argument("--catalog", metavar="GZ2", help="Galaxy Zoo 2 table (FITS or CSV)")
    parser.add_argument("--labels", metavar="CSV", help="true classes: columns id, class")
    parser.add_argument(
        "--morph-components",
        type=_numbers(int),
        metavar="C,C,…",
        help="morphological components for the deblending demo, e.g. 2,3,5",
    )
    parser.add_argument(
        "--gamma-cuts",
        type=_numbers(float),
        default=(0.5, 0.8, 0.95),
        metavar="G,G,…",
        help="γ cuts of the occupancy table (0.5,0.8,0.95)",
    )
    parser.add_argument(
        "--no-explorer",
        dest="explorer",
        action="store_false",
        help="leave out the interactive explorer (OUT/explorer/index.html)",
    )
    parser.add_argument("--gz2-cut", type=float, default=0.8, help="clean smooth/featured (0.8)")
    parser.add_argument("--edge-on-cut", type=float, default=0.8, help="clean edge-on (0.8)")
    parser.add_argument(
        "--gz2-column",
        type=_column,
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="rename a GZ2 column: objid, smooth, featured, edge_on, not_edge_on (repeatable)",
    )
    parser.add_argument(
        "--n-examples", type=integer(1, 64), default=8, help="images per gallery row (8)"
    )
    parser.add_argument(
        "--tsne-max",
        type=integer(0, 10**6),
        default=2000,
        help="t-SNE points at most (2000; 0 skips it)",
    )
    parser.add_argument(
        "--morph-sample",
        type=integer(0, 10**6),
        default=100,
        metavar="N",
        help="objects measured with statmorph for the morphology per component (100; 0 skips)",
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of random selections (0)")
    parser.add_argument("--out", metavar="DIR", help="report folder (default: RUN/report)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the options, write the report and print where it is."""
    from astrovader.analysis.gz2 import GZ2Columns
    from astrovader.analysis.report import ReportOptions, make_report
    from astrovader.errors import AstrovaderError

    fields = {f.name for f in dataclasses.fields(GZ2Columns)}
    for key, _ in args.gz2_column:
        if key not in fields:
            raise AstrovaderError(
                f"--gz2-column: unknown field {key!r} ({', '.join(sorted(fields))})"
            )
    options = options_from(
        ReportOptions,
        args,
        gz2_columns=GZ2Columns(**dict(args.gz2_column)),
        progress=not args.quiet,
    )
    out = Path(args.out) if args.out else Path(args.run_dir) / "report"
    page = make_report(
        args.run_dir, out, data=args.data, catalog=args.catalog, labels=args.labels, options=options
    )
    say(f"astrovader report: wrote {page}")
    return 0
