"""``astrovader explore RUN --out DIR``: one self-contained page to browse every object."""

from __future__ import annotations

import argparse
from pathlib import Path

from astrovader.cli._logging import say
from astrovader.cli._options import BATCH, SEED, integer, options_from
from astrovader.errors import AstrovaderError

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``explore`` command."""
    parser = subparsers.add_parser(
        "explore",
        help="write an interactive map of every object (one HTML file, no server)",
        description=(
            "Write DIR/index.html: a map (t-SNE, or UMAP with --map umap) of the run's objects "
            "(a random subsample above --max-points), coloured by cluster, anomaly score or a "
            "catalogue column. Hover shows an object; click shows it, its reconstruction and "
            "its nearest neighbours in μ̃; filter by cluster; list the least likely objects; "
            "export a box or lasso selection as a CSV of ids. The page embeds BokehJS and the "
            "thumbnails (a few sprite sheets), so it opens from the file system with no "
            "network. RUN is a run directory, or a model file (.keras, or the published .h5) "
            "with --data; the index of a model file's data is kept in DIR/index."
        ),
    )
    parser.add_argument("run_dir", metavar="RUN", help="run directory, or a model file with --data")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--data", metavar="DATA", help="images to explore (default: the run's)")
    parser.add_argument(
        "--map",
        dest="map_method",
        choices=("tsne", "umap"),
        default="tsne",
        help="the 2-D map: t-SNE (scikit-learn, as the report) or UMAP (pip install umap-learn)",
    )
    parser.add_argument(
        "--max-points",
        type=integer(1, 10**7),
        default=100_000,
        help="objects on the map; a seeded random subsample above (100000)",
    )
    parser.add_argument(
        "--neighbours", type=integer(1, 1000), default=12, help="neighbours shown (12)"
    )
    parser.add_argument(
        "--tile", type=integer(1, 512), default=32, help="thumbnail side in pixels (32)"
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the subsample and the map")
    parser.add_argument("--batch-size", type=BATCH, default=180, help="images per batch")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the page and print where it is."""
    source = Path(args.run_dir)
    if not source.exists():
        raise AstrovaderError(f"{source}: no such run directory or model file")
    if source.is_file() and args.data is None:
        raise AstrovaderError(f"{source}: a model file needs --data (the images to explore)")
    from astrovader.analysis.explorer import ExplorerOptions, check_explorer_options, make_explorer
    from astrovader.training.rundir.index import ModelIndexes

    options = options_from(ExplorerOptions, args, progress=not args.quiet)
    check_explorer_options(options)
    run_ = ModelIndexes(source, Path(args.out) / "index") if source.is_file() else source
    page = make_explorer(run_, args.out, data=args.data, options=options)
    say(
        f"astrovader explore: wrote {page} ({page.stat().st_size / 1e6:.1f} MB); "
        "open it in a browser"
    )
    return 0
