"""The ``astrovader`` command line: ``main(argv=None)`` dispatches to one module per command.

Every public module of this package is one command: it defines
``register(subparsers)``, which adds its parser and sets ``run`` (a function of
the parsed arguments returning an exit status) as the parser default. Heavy
imports (TensorFlow) happen inside ``run`` so that ``astrovader --help`` and the
framework-free commands start quickly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import shlex
import sys

from astrovader._malloc import keep_heap
from astrovader._progress import LINE_INTERVAL, get_mode, set_mode
from astrovader._quiet import KEEP_LOGS, quiet_native_logs
from astrovader._version import __version__
from astrovader.cli._logging import command_logging, say
from astrovader.errors import AstrovaderError

__all__ = ["command_modules", "main"]


def command_modules() -> list[str]:
    """Names of the command modules, in alphabetical order."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="astrovader",
        description="Variational deep embedding of galaxy images: cluster and generate.",
    )
    parser.add_argument("--version", action="version", version=f"astrovader {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in command_modules():
        importlib.import_module(f"astrovader.cli.{name}").register(subparsers)
    for command in subparsers.choices.values():
        command.add_argument(
            "--verbose", action="store_true", help="show TensorFlow's own log lines too"
        )
        command.add_argument(
            "--progress",
            choices=("auto", "bar", "lines", "none"),
            default="auto",
            help="progress as a bar, as one plain line per epoch (and a line every "
            f"{LINE_INTERVAL:.0f} s of other long work), or none; auto: a bar on a terminal, "
            "lines when stderr is a file (batch systems)",
        )
    return parser


def progress_mode(choice: str, quiet: bool = False, stream=None) -> str:
    """The progress mode of ``--progress`` (``auto``: a bar on a terminal, else lines)."""
    if quiet:
        return "none"
    if choice != "auto":
        return choice
    stream = sys.stderr if stream is None else stream
    return "bar" if stream.isatty() else "lines"


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        os.environ[KEEP_LOGS] = "1"  # TensorFlow's own lines too
    elif argv is None:
        quiet_native_logs()
    args.command_line = shlex.join(["astrovader", *(sys.argv[1:] if argv is None else argv)])
    keep_heap()  # TensorFlow's step buffers stay in the process (astrovader._malloc)
    previous = get_mode()
    set_mode(progress_mode(args.progress, getattr(args, "quiet", False)))
    try:
        with command_logging(args.command, quiet=getattr(args, "quiet", False)):
            return int(args.run(args) or 0)
    except AstrovaderError as exc:
        say(f"astrovader {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output that could not be written: a full disk, no permission
        where = f"{exc.filename}: " if exc.filename else ""
        reason = exc.strerror or " ".join(str(exc).split())
        say(f"astrovader {args.command}: error: {where}{reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"astrovader {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        set_mode(previous)


if __name__ == "__main__":
    sys.exit(main())
