"""What the library logs and warns, printed by the command line as one line each."""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings

from tqdm.auto import tqdm

from astrovader.errors import AstrovaderWarning, printable


def say(text: str, file=None) -> None:
    """Print one line, with control characters of the names in it escaped (``printable``)."""
    print(printable(text), file=file or sys.stdout)


class _Lines(logging.Formatter):
    """``astrovader COMMAND: message``, with ``warning:`` before warnings."""

    def __init__(self, command: str):
        super().__init__()
        self.prefix = f"astrovader {command}: "

    def format(self, record: logging.LogRecord) -> str:
        kind = "warning: " if record.levelno >= logging.WARNING else ""
        return printable(self.prefix + kind + record.getMessage())


class _BarSafe(logging.Handler):
    """Write records with ``tqdm.write`` on stderr, so that a progress bar is redrawn below."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def command_logging(command: str, quiet: bool = False):
    """Print the ``astrovader`` loggers' records and :class:`AstrovaderWarning` on stderr.

    Args:
        command: The command's name, the prefix of every line.
        quiet: Only warnings and errors (no progress messages).
    """
    logger = logging.getLogger("astrovader")
    handler = _BarSafe()
    handler.setFormatter(_Lines(command))
    previous = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, AstrovaderWarning):
            logger.warning(str(message))
        else:
            shown(message, category, filename, lineno, file, line)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", AstrovaderWarning)
            warnings.showwarning = show
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
