"""``astrovader fit``: train on a folder, an array or the built-in synthetic galaxies."""

from __future__ import annotations

import argparse
import shlex
import sys
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


def _config(args: argparse.Namespace):
    """The run's configuration and directory, from the arguments (no TensorFlow needed)."""
    from astrovader.config.legacy import load_any_config as load_config
    from astrovader.data.sources import with_data_path
    from astrovader.training.rundir import RunDirectory, check_out

    if args.resume:
        if args.data or args.config or args.overrides:
            raise AstrovaderError(
                "--resume takes no DATA, --config or --set: the run's own are used"
            )
        run = RunDirectory(args.resume)
        if not run.config_path.is_file():
            raise AstrovaderError(f"{run.path}: no run to resume (no config.toml)")
        return run.config, run
    if args.data and any(o.strip().startswith("data.path") for o in args.overrides):
        raise AstrovaderError("give the images either as DATA or as --set data.path, not both")
    path = args.config or (None if args.data else quickstart_preset())
    config = with_data_path(load_config(path, args.overrides), args.data)
    run = RunDirectory(args.out)
    check_out(run, args.overwrite)
    return config, run


def run(args: argparse.Namespace) -> int:
    """Check the configuration and read the images, then start TensorFlow and train."""
    from astrovader.data.sources import load_data, with_measured_limits
    from astrovader.data.tfrecord import is_tfrecord_dir

    if args.strategy:
        args.overrides = [*args.overrides, f"training.strategy={args.strategy}"]
    try:
        config, run_dir = _config(args)
        images = None
        if not (config.data.path and is_tfrecord_dir(config.data.path)):
            config = config if args.resume else with_measured_limits(config)
            images = load_data(config, progress=not args.quiet)
        from astrovader.training.run import fit_run

        fit_run(
            None if args.resume else config,
            run_dir.path,
            resume=bool(args.resume),
            overwrite=args.overwrite,
            verbose=0 if args.quiet else "auto",
            on_nan=args.on_nan,
            images=images,
        )
    except RunExistsError as exc:
        raise AstrovaderError(
            f"{exc}; use --resume to continue it or --overwrite to replace it"
        ) from None
    except KeyboardInterrupt:
        out = args.resume or args.out
        command = shlex.join(["astrovader", "fit", "--resume", str(out)])
        print(f"astrovader fit: interrupted; continue with: {command}", file=sys.stderr)
        return 130
    return 0
