"""``astrovader simulate OUT``: write a labelled set of synthetic galaxy images."""

from __future__ import annotations

import argparse

from astrovader.cli._options import non_negative, positive


def register(subparsers) -> None:
    """Add the ``simulate`` command to the top-level parser's subparsers."""
    parser = subparsers.add_parser(
        "simulate",
        help="write synthetic galaxy images (PNG) and their labels (labels.csv)",
        description=(
            "Write N synthetic Sérsic galaxies in five balanced classes to OUT/<id>.png "
            "(8-bit) and their classes and parameters to OUT/labels.csv. OUT must not "
            "exist or must be empty."
        ),
    )
    parser.add_argument("out", metavar="OUT", help="output directory (new or empty)")
    parser.add_argument("--n", type=positive, default=2000, help="number of images (2000)")
    parser.add_argument("--size", type=positive, default=128, help="image side in pixels (128)")
    parser.add_argument("--seed", type=non_negative, default=0, help="random seed (0)")
    parser.add_argument(
        "--bands", type=int, choices=(1, 3), default=1, help="1 for grey (default), 3 for RGB"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Simulate and write the images; print a one-line summary. Returns 0."""
    from astrovader.data.synthetic import CLASS_NAMES, write_synthetic

    out = write_synthetic(
        args.out, args.n, args.size, args.seed, bands=args.bands, progress=not args.quiet
    )
    colour = "grey" if args.bands == 1 else "RGB"
    print(
        f"wrote {args.n} synthetic galaxies ({args.size}×{args.size} px, {colour}, "
        f"{len(CLASS_NAMES)} classes, seed {args.seed}) and labels.csv to {out}"
    )
    return 0
