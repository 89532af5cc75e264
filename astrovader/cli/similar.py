"""``astrovader similar RUN (--id ID | --image FILE | --ra RA --dec DEC)``: more like this one."""

from __future__ import annotations

import argparse
from pathlib import Path

from astrovader.cli._logging import say
from astrovader.cli._options import BATCH, integer
from astrovader.errors import AstrovaderError

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``similar`` command."""
    parser = subparsers.add_parser(
        "similar",
        help="the objects nearest to one object or image in the model's latent space",
        description=(
            "Find the N objects nearest to a query in μ̃, the space the model clusters in "
            "(Euclidean distance; exact search up to 10⁵ objects, an HNSW index above). The "
            "query is an object of the run (--id, or --ra/--dec within --radius arcsec) or an "
            "image file read as the training images were. Prints id, RA/Dec, distance, "
            "cluster, max γ and anomaly score, and writes OUT/neighbours.csv, .fits and a "
            "thumbnail sheet OUT/neighbours.png (the query first). The run's index lives in "
            "RUN/index/ and is rebuilt when the model or the data change."
        ),
    )
    parser.add_argument("run_dir", metavar="RUN", help="run directory written by `astrovader fit`")
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument("--id", metavar="ID", help="an object of the search set")
    query.add_argument("--image", metavar="FILE", help="an image file (any form fit reads)")
    query.add_argument("--ra", type=float, metavar="RA", help="right ascension in degrees")
    parser.add_argument("--dec", type=float, metavar="DEC", help="declination in degrees")
    parser.add_argument(
        "--radius",
        type=float,
        default=1.0,
        metavar="ARCSEC",
        help="matching radius of --ra/--dec in arcseconds (1)",
    )
    parser.add_argument("-n", "--n", type=integer(1, 10**4), default=20, help="neighbours (20)")
    parser.add_argument(
        "--data",
        metavar="DATA",
        help="search these images instead of the run's own (embedded once, indexed in RUN/index)",
    )
    parser.add_argument("--out", metavar="DIR", help="output folder (default RUN/similar/<query>)")
    parser.add_argument("--batch-size", type=BATCH, default=180, help="images per batch")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _check(args) -> None:
    """Argument errors, before TensorFlow loads."""
    if (args.ra is None) != (args.dec is None):
        raise AstrovaderError("--ra and --dec go together")
    if args.radius <= 0:
        raise AstrovaderError(f"--radius {args.radius:g}: must be positive")
    if args.image is not None and not Path(args.image).exists():
        raise AstrovaderError(f"{args.image}: no such image file")
    from astrovader.training.rundir.directory import RunDirectory

    RunDirectory(args.run_dir).check_finished()


def run(args: argparse.Namespace) -> int:
    """Search, print the table and write the files."""
    _check(args)
    from astropy.table import Table

    from astrovader.analysis.neighbours_sheet import write_neighbours
    from astrovader.inference import similar

    search = similar.open_search(
        args.run_dir, args.data, batch_size=args.batch_size, progress=not args.quiet
    )
    if args.id is not None:
        query = similar.by_id(search, args.id)
    elif args.image is not None:
        query = similar.by_image(search, args.image)
    else:
        query = similar.by_sky(search, args.ra, dec=args.dec, radius=args.radius)
    columns = similar.neighbours(search, query, args.n)
    out = Path(args.out) if args.out else Path(args.run_dir) / "similar" / query.slug
    written = write_neighbours(search, query, columns=columns, out=out)
    index = search.index.index
    say(
        f"astrovader similar: the {len(columns['id'])} objects nearest to {query.label} in μ̃ "
        f"({'exact' if index.backend == 'exact' else 'approximate'} search of {len(index)} "
        "objects, Euclidean distance)"
    )
    table = Table(columns)
    for name in ("ra", "dec"):
        table[name].format = ".6f"
    for name in ("distance", "gamma_max"):
        table[name].format = ".4g"
    table["anomaly_score"].format = ".6g"
    for line in table.pformat(max_lines=-1, max_width=-1):
        say(line)
    say(f"astrovader similar: wrote {', '.join(str(p) for p in written)}")
    return 0
