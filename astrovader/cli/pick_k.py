"""``astrovader pick-k``: the Dirichlet-process cluster count of a model's embedding (method §6)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from astrovader.cli._logging import say
from astrovader.cli._options import SEED, options_from
from astrovader.config.sections import PickKConfig
from astrovader.errors import AstrovaderError

__all__ = ["DEFAULTS", "SETTINGS", "register", "run"]

DEFAULTS = PickKConfig()
SETTINGS = (
    ("--fits", int, "F", "independent mini-batches and fits"),
    ("--batch-size", int, "B", "samples per fit"),
    ("--max-components", int, "C", "components per fit"),
    ("--threshold", float, "T", "weight a fit's component must exceed"),
)


def register(subparsers) -> None:
    """Add the ``pick-k`` command."""
    parser = subparsers.add_parser(
        "pick-k",
        help="choose the number of clusters with a Dirichlet-process mixture",
        description=(
            "Embed images with a trained model (μ̃), fit scikit-learn's Dirichlet-process "
            "BayesianGaussianMixture on independent random mini-batches and count the "
            "components with weight above the threshold in each fit. The consensus K is the "
            "most frequent count (the smaller on a tie). Writes counts.csv, summary.json and "
            "histogram.png."
        ),
    )
    parser.add_argument(
        "source",
        metavar="RUN_OR_MODEL",
        help="a run directory (its model and training images) or a .keras model file",
    )
    parser.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help="images to embed: folder, .npy or image (required with a .keras file)",
    )
    for flag, kind, metavar, words in SETTINGS:
        default = getattr(DEFAULTS, flag[2:].replace("-", "_"))
        parser.add_argument(
            flag, type=kind, default=default, metavar=metavar, help=f"{words} ({default})"
        )
    parser.add_argument(
        "--concentration",
        type=float,
        metavar="ALPHA",
        help="Dirichlet-process concentration (default 1/C)",
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the batches and fits (0)")
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="output directory (default: RUN/pick_k, or pick-k for a model file)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Embed, count, write the table, summary and histogram, print the consensus."""
    if not Path(args.source).exists():  # before TensorFlow loads
        raise AstrovaderError(f"{args.source}: neither a run directory nor a .keras model file")
    from astrovader.selection.embedding import embed_source
    from astrovader.training.mixture import pick_k
    from astrovader.training.mixture.pick_k_report import (
        caveats,
        describe,
        pick_k_out,
        write_report,
    )

    settings = dataclasses.asdict(options_from(PickKConfig, args))
    pick_k.check_settings(**settings)
    source = Path(args.source)
    out = pick_k_out(args.out or (source / "pick_k" if source.is_dir() else "pick-k"))
    z, description = embed_source(source, args.data)
    result = pick_k.count_components(z, **settings, seed=args.seed, progress=True)
    write_report(out, result, description)
    say(f"astrovader pick-k: {describe(result)}; wrote {out}")
    for caveat in caveats(result):
        say(f"astrovader pick-k: warning: {caveat}", file=sys.stderr)
    return 0
