"""Progress of long work: a tqdm bar on a terminal, plain lines in a log file, or nothing.

A job on a batch system writes its stderr to a file, where a bar's refreshes
(joined by carriage returns) are noise. The command line chooses the mode once
(``--progress auto|bar|lines|none``; ``auto`` is ``bar`` when stderr is a
terminal and ``lines`` otherwise) and every long loop of the library asks
:func:`progress_bar` for its reporter:

* ``"bar"``: a ``tqdm.auto`` bar (the default, for notebooks and scripts too);
* ``"lines"``: a line through the ``astrovader.progress`` logger at most every
  :data:`LINE_INTERVAL` seconds, and one at the end: ``reading images: 1,500 of
  3,600 img (42 %), 350 img/s, 6 s left``;
* ``"none"``: nothing.
"""

from __future__ import annotations

import logging
import time

from tqdm.auto import tqdm

__all__ = ["LINE_INTERVAL", "MODES", "LineProgress", "get_mode", "progress_bar", "set_mode"]

MODES = ("bar", "lines", "none")
LINE_INTERVAL = 30.0
log = logging.getLogger("astrovader.progress")
_state = {"mode": "bar"}


def set_mode(mode: str) -> None:
    """Choose how every later :func:`progress_bar` reports (one of :data:`MODES`)."""
    if mode not in MODES:
        raise ValueError(f"progress mode must be one of {MODES}, got {mode!r}")
    _state["mode"] = mode


def get_mode() -> str:
    """The current mode."""
    return _state["mode"]


def _duration(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(max(seconds, 0)))


class LineProgress:
    """The ``"lines"`` reporter: the subset of tqdm's interface the package uses.

    Args:
        iterable: Iterated through (optional).
        total: The count of the whole work, or None.
        desc: What is being done.
        unit: The unit counted.
        interval: Seconds between lines (the last line is always written).
        clock: The time source (``time.monotonic``).
        initial: The count already done before (a resumed search).
    """

    def __init__(
        self,
        iterable=None,
        *,
        total=None,
        desc: str = "",
        unit: str = "it",
        interval: float = LINE_INTERVAL,
        clock=time.monotonic,
        initial: int = 0,
    ):
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.interval, self.clock = interval, clock
        self.n = self.initial = initial
        self.postfix = ""
        self.started = self.last = clock()
        self.closed = False

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update(1)
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more; write a line if :attr:`interval` has passed."""
        self.n += n
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            log.info("%s", self.line(now))

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        """Text added to the next line (tqdm's signature)."""
        self.postfix = text

    def line(self, now: float | None = None) -> str:
        """The progress line as it reads now."""
        now = self.clock() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        rate = (self.n - self.initial) / elapsed
        parts = [f"{self.n:,} {self.unit}"]
        if self.total:
            parts = [f"{self.n:,} of {self.total:,} {self.unit} ({self.n / self.total:.0%})"]
        parts.append(f"{rate:,.0f} {self.unit}/s")
        if self.total and rate > 0 and self.n < self.total:
            parts.append(f"{_duration((self.total - self.n) / rate)} left")
        elif self.n and (not self.total or self.n >= self.total):
            parts.append(f"done in {_duration(elapsed)}")
        text = ", ".join(parts)
        if self.postfix:
            text += f", {self.postfix}"
        return f"{self.desc}: {text}" if self.desc else text

    def close(self) -> None:
        """Write the last line (once)."""
        if not self.closed:
            self.closed = True
            if self.n > self.initial:
                log.info("%s", self.line())


def progress_bar(
    iterable=None, *, total=None, desc="", unit="it", disable=False, leave=True, initial=0
):
    """A reporter for long work in the chosen mode (a tqdm bar, a :class:`LineProgress`).

    Takes tqdm's arguments; ``disable`` (the caller's own ``progress=False``) and the
    ``"none"`` mode give a disabled tqdm, which still iterates.
    """
    mode = get_mode()
    if disable or mode == "none":
        return tqdm(iterable, total=total, disable=True)
    if mode == "lines":
        return LineProgress(iterable, total=total, desc=desc, unit=unit, initial=initial)
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, initial=initial)
