"""``astrovader generate MODEL --n N --out PATH``: synthetic galaxies from the mixture prior."""

from __future__ import annotations

import argparse

from astrovader.cli._logging import say
from astrovader.cli._options import BATCH, integer

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``generate`` command."""
    parser = subparsers.add_parser(
        "generate",
        help="draw synthetic galaxies from a model's mixture prior",
        description=(
            "Draw z from one mixture component (--component) or from the whole mixture "
            "(components drawn with probability π/Σπ), decode, and stream the images in "
            "batches to a FITS cube (--out *.fits: images; header MIXCOMP (the component, "
            "-1 for draws from pi), SEED, MODEL, NCLUST, NLATENT, IMGSIZE, NBANDS, SCALING, "
            "AVVERS, DATE, COMMAND, and BANDS for per-band files; a LATENTS table of z and "
            "component) or to a new folder of 8-bit PNGs with "
            "latents.csv. MODEL is a .keras file, a run directory or the published .h5."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help=".keras model, run directory or .h5")
    parser.add_argument("--n", type=integer(1, 10**9), required=True, help="images")
    parser.add_argument("--component", type=integer(0, 65535), help="component c")
    parser.add_argument("--seed", type=integer(0, 2**63 - 1), help="seed (default: random)")
    parser.add_argument("--batch-size", type=BATCH, default=256, help="images per batch (256)")
    parser.add_argument("--out", required=True, metavar="PATH", help="*.fits or a folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Generate and print a one-line summary."""
    from astrovader.inference.generate import generate_files
    from astrovader.model.loading import open_model

    model = open_model(args.model)
    seed = generate_files(
        model,
        args.out,
        n=args.n,
        component=args.component,
        seed=args.seed,
        batch_size=args.batch_size,
        model_name=args.model,
        progress=not args.quiet,
        command=args.command_line,
    )
    source = "the mixture" if args.component is None else f"component {args.component}"
    say(f"wrote {args.n} synthetic galaxies from {source} (seed {seed}) to {args.out}")
    return 0
