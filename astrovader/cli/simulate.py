"""``astrovader simulate OUT``: write a labelled set of synthetic galaxy images."""

from __future__ import annotations

import argparse

from astrovader.cli._logging import say
from astrovader.cli._options import SEED, SIDE, integer
from astrovader.config.rules import SIMULATED_BANDS

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``simulate`` command to the top-level parser's subparsers."""
    parser = subparsers.add_parser(
        "simulate",
        help="write synthetic galaxy images (PNG) and their labels (labels.csv)",
        description=(
            "Write N synthetic galaxies in balanced classes (five Sérsic classes with the "
            "built-in engine, six PSF-convolved GalSim classes with --engine galsim) to OUT as "
            "8-bit PNGs, raw-flux FITS stamps or multi-extension FITS files, and their classes "
            "and parameters to OUT/labels.csv. OUT must not exist or must be empty."
        ),
    )
    parser.add_argument("out", metavar="OUT", help="output directory (new or empty)")
    parser.add_argument("--n", type=integer(1, 10**7), default=2000, help="number of images (2000)")
    parser.add_argument("--size", type=SIDE, default=128, help="image side in pixels (128)")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed (0)")
    parser.add_argument(
        "--bands",
        type=int,
        choices=SIMULATED_BANDS,
        default=1,
        help="1 for grey (default), 3 for RGB",
    )
    parser.add_argument(
        "--engine",
        choices=("builtin", "galsim"),
        default="builtin",
        help="builtin Sérsic renderer (default), or GalSim (pip install 'astrovader[sim]')",
    )
    parser.add_argument(
        "--format",
        choices=("png", "fits", "mef"),
        default="png",
        help="8-bit PNGs (default), raw-flux FITS stamps, or multi-extension FITS files",
    )
    parser.add_argument(
        "--sky",
        type=_sky,
        default=(0.0, 0.0),
        metavar="LOW[,HIGH]",
        help="sky level in counts per pixel left in raw-flux stamps, drawn in [LOW, HIGH] (0)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _sky(text: str) -> tuple[float, float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW or LOW,HIGH, got {text!r}") from None
    if len(values) not in (1, 2) or not 0 <= values[0] <= values[-1]:
        raise argparse.ArgumentTypeError(f"expected 0 ≤ LOW ≤ HIGH, got {text!r}")
    return values[0], values[-1]


def run(args: argparse.Namespace) -> int:
    """Simulate and write the images; print a one-line summary. Returns 0."""
    from astrovader.data.simulated.writer import write_simulation

    out = write_simulation(
        args.out,
        args.n,
        size=args.size,
        seed=args.seed,
        bands=args.bands,
        engine=args.engine,
        file_format=args.format,
        sky=args.sky,
        progress=not args.quiet,
    )
    colour = "grey" if args.bands == 1 else "RGB"
    kind = {"png": "8-bit PNG", "fits": "raw-flux FITS", "mef": "multi-extension FITS"}
    say(
        f"wrote {args.n} synthetic galaxies ({args.size}×{args.size} px, {colour}, "
        f"{kind[args.format]}, {args.engine} engine, seed {args.seed}) and labels.csv to {out}"
    )
    return 0
