"""``astrovader search``: a resumable Hyperopt (TPE) search, locally or on Spark."""

from __future__ import annotations

import argparse

from astrovader.cli._logging import say
from astrovader.cli._options import SEED, add_overrides, integer, options_from

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``search`` command."""
    parser = subparsers.add_parser(
        "search",
        help="Bayesian (TPE) hyperparameter search over a search-space file",
        description=(
            "Train the base configuration with values drawn from SPACE by Hyperopt's TPE and "
            "minimise the final validation loss of each trial's short schedule. DIR keeps "
            "every trial; a second call with a larger --max-evals runs only the missing "
            "trials. The best configuration is written to DIR/best.toml."
        ),
    )
    parser.add_argument(
        "space", metavar="SPACE", help="search space: a .py file defining SPACE or a .toml file"
    )
    parser.add_argument(
        "--config", required=True, metavar="BASE", help="base TOML configuration of every trial"
    )
    add_overrides(parser, "base configuration")
    parser.add_argument(
        "--max-evals",
        type=integer(1, 10**6),
        required=True,
        metavar="N",
        help="number of trials DIR holds at the end",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="search directory")
    parser.add_argument(
        "--objective",
        default="val_loss",
        metavar="COLUMN",
        help="history.csv column whose final value is minimised (val_loss)",
    )
    parser.add_argument(
        "--backend",
        choices=("local", "spark"),
        default="local",
        help="run trials here one by one, or as Spark tasks (local)",
    )
    parser.add_argument(
        "--parallelism",
        type=integer(1, 4096),
        default=2,
        metavar="P",
        help="Spark trials at once and the default local[P] master (2)",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master URL (default: local[P], or spark-submit's)",
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the TPE proposals (0)")
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="resume from the trials.pkl of an earlier astrovader: reading a pickle runs any "
        "code it holds, so only for a directory nobody else could write; it is converted "
        "to trials.json",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Resolve the base configuration, then search."""
    from astrovader.config import load_config
    from astrovader.selection.search import SearchOptions, run_search

    base = load_config(args.config, args.overrides)
    options = options_from(SearchOptions, args)
    best = run_search(args.space, base, out=args.out, options=options)
    say(
        f"astrovader search: best trial {best['tid']:04d} of {args.out}: final "
        f"{best['objective']} = {best['loss']:.6g}; configuration in {args.out}/best.toml"
    )
    return 0
