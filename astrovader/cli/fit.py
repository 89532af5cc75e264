"""``astrovader fit``: train on a folder, an array or the built-in synthetic galaxies."""

from __future__ import annotations

import argparse
from importlib import resources

from astrovader.cli._options import add_overrides
from astrovader.errors import AstrovaderError, RunExistsError


def quickstart_preset() -> str:
    """Path of the built-in quick-start configuration (synthetic galaxies, short schedule)."""
    return str(resources.files("astrovader") / "presets" / "quickstart.toml")


def register(subparsers) -> None:
    """Add the ``fit`` command."""
    parser = subparsers.add_parser(
        "fit",
        help="train AstroVaDEr and write a run directory",
        description=(
            "Train AstroVaDEr with the s3VDC schedule. Without DATA it trains on the built-in "
            "synthetic galaxies with the quick-start configuration (unless --config is given)."
        ),
    )
    parser.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help="folder of PNG/JPEG/FITS images or a .npy array (default: built-in synthetic set)",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML or published INI configuration")
    add_overrides(parser)
    parser.add_argument(
        "--strategy",
        choices=("auto", "default", "mirrored", "multiworker"),
        help="distribution: all local GPUs (mirrored), machines named by TF_CONFIG "
        "(multiworker), one device (default); same as --set training.strategy=…",
    )
    parser.add_argument("--out", default="astrovader-run", metavar="RUN", help="run directory")
    parser.add_argument("--resume", metavar="RUN", help="continue an interrupted run")
    parser.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    parser.add_argument(
        "--on-nan",
        choices=("stop", "skip-batch"),
        default="stop",
        help="on a non-finite loss: stop and keep the last good checkpoint (default), "
        "or skip the batch",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Resolve the configuration, then train."""
    from astrovader.config.legacy import load_any_config as load_config

    if args.strategy:
        args.overrides = [*args.overrides, f"training.strategy={args.strategy}"]
    if args.resume:
        if args.data or args.config or args.overrides:
            raise AstrovaderError(
                "--resume takes no DATA, --config or --set: the run's own are used"
            )
        config, out = None, args.resume
    else:
        path = args.config or (None if args.data else quickstart_preset())
        config = load_config(path, args.overrides)
        out = args.out
    from astrovader.training.run import fit_run, run_config_for

    if config is not None:
        config = run_config_for(config, args.data)
    try:
        fit_run(
            config,
            out,
            resume=bool(args.resume),
            overwrite=args.overwrite,
            verbose=0 if args.quiet else "auto",
            on_nan=args.on_nan,
        )
    except RunExistsError as exc:
        raise AstrovaderError(
            f"{exc}; use --resume to continue it or --overwrite to replace it"
        ) from None
    return 0
