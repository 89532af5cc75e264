"""``astrovader fit``: train on a folder, an array or the built-in synthetic galaxies."""

from __future__ import annotations

import argparse
import shlex
import sys
from importlib import resources
from pathlib import Path

from astrovader.cli._logging import say
from astrovader.cli._options import add_overrides
from astrovader.errors import AstrovaderError, RunExistsError, printable

__all__ = ["preset", "quickstart_preset", "register", "run", "summary"]


def preset(name: str) -> str:
    """Path of a built-in configuration by name (``quickstart``), or ``name`` if it is a file."""
    if Path(name).exists() or name.endswith((".toml", ".ini", ".cfg")):
        return name
    path = resources.files("astrovader") / "presets" / f"{name}.toml"
    if not path.is_file():
        names = sorted(p.name[: -len(".toml")] for p in path.parent.iterdir() if p.is_file())
        raise AstrovaderError(
            f"--config {name}: no such file, and not a preset name ({', '.join(names)})"
        )
    return str(path)


def quickstart_preset() -> str:
    """Path of the built-in quick-start configuration (synthetic galaxies, short schedule)."""
    return preset("quickstart")


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
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML or published INI configuration, or a preset name (quickstart: small images, "
        "short schedule)",
    )
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
    parser.add_argument(
        "--force",
        action="store_true",
        help="train on when the embedding has collapsed at the GMM initialisation",
    )
    parser.set_defaults(run=run)


def _config(args: argparse.Namespace):
    """The configuration of a new run (None when resuming) and the run directory.

    The run directory itself is checked by the plan
    (:func:`~astrovader.training.plan.plan_run`).
    """
    from astrovader.config.legacy import load_any_config as load_config
    from astrovader.data.sources import with_data_path
    from astrovader.training.rundir.directory import RunDirectory

    if args.resume:
        if args.data or args.config or args.overrides:
            raise AstrovaderError(
                "--resume takes no DATA, --config or --set: the run's own are used"
            )
        return None, RunDirectory(args.resume)
    if args.data and any(o.strip().startswith("data.path") for o in args.overrides):
        raise AstrovaderError("give the images either as DATA or as --set data.path, not both")
    path = preset(args.config) if args.config else (None if args.data else quickstart_preset())
    return with_data_path(load_config(path, args.overrides), args.data), RunDirectory(args.out)


def summary(run) -> str:
    """The end of ``fit``: cluster sizes and mean max γ per component, and the next command."""
    from astrovader.data.tables.clusters import read_clusters

    table = read_clusters(Path(run) / "clusters.csv")
    gamma, labels = table["gamma"], table["cluster"]
    lines = ["cluster  objects  share  mean max γ"]
    for c in range(gamma.shape[1]):
        members = labels == c
        count = int(members.sum())
        confidence = f"{gamma[members].max(1).mean():.2f}" if count else "—"
        lines.append(f"{c:>7}  {count:>7}  {count / max(len(labels), 1):>5.0%}  {confidence:>10}")
    empty = int(sum(1 for c in range(gamma.shape[1]) if not (labels == c).any()))
    if empty:
        lines.append(f"{empty} component(s) hold no object")
    report = shlex.join(["astrovader", "report", str(run), "--out", str(Path(run) / "report")])
    lines.append(f"next: {printable(report)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Check the configuration and read the images, then start TensorFlow and train.

    The cluster table and the next command go to stdout, progress and warnings to
    stderr, so that ``astrovader fit … > log.txt`` keeps the result.
    """
    from astrovader.training.plan import plan_run

    if args.strategy:
        args.overrides = [*args.overrides, f"training.strategy={args.strategy}"]
    try:
        config, run_dir = _config(args)
        plan = plan_run(
            config,
            run_dir.path,
            resume=bool(args.resume),
            overwrite=args.overwrite,
            progress=not args.quiet,
            quickstart=args.config == "quickstart",
        )
        if plan.finished is not None:
            print(
                f"{run_dir.path}: the run is finished ({plan.finished} of {plan.finished} "
                "epochs); nothing to resume and nothing changed (--overwrite in a new fit "
                "retrains it)"
            )
            return 0
        from astrovader.training.phases.progress import PhaseProgress
        from astrovader.training.run import fit_run

        config = plan.config
        progress = () if args.quiet else (PhaseProgress(config, config.training.batch_size),)
        fit_run(plan, verbose=0, on_nan=args.on_nan, callbacks=progress, force=args.force)
        print(summary(run_dir.path))
    except RunExistsError as exc:
        raise AstrovaderError(
            f"{exc}; use --resume to continue it or --overwrite to replace it"
        ) from None
    except KeyboardInterrupt:
        out = args.resume or args.out
        command = shlex.join(["astrovader", "fit", "--resume", str(out)])
        say(f"astrovader fit: interrupted; continue with: {command}", file=sys.stderr)
        return 130
    return 0
