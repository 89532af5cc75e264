"""Progress reporting: bars on a terminal, one plain line at a time in a log, or nothing."""

import io
import logging

import pytest

from astrovader import _progress
from astrovader._progress import LineProgress, progress_bar
from astrovader.cli import progress_mode


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_lines_are_written_at_most_every_interval_and_once_at_the_end(caplog):
    clock = Clock()
    with caplog.at_level(logging.INFO, logger="astrovader.progress"):
        reporter = LineProgress(total=1000, desc="reading images", unit="img", clock=clock)
        for _ in range(10):
            clock.now += 10.0
            reporter.update(100)  # a line at 30 s, 60 s, 90 s
        reporter.close()
        reporter.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4
    assert lines[0] == "reading images: 300 of 1,000 img (30%), 10 img/s, 00:01:10 left"
    assert lines[-1] == "reading images: 1,000 of 1,000 img (100%), 10 img/s, done in 00:01:40"


def test_the_mode_decides_the_reporter_and_a_disabled_one_still_iterates():
    before = _progress.get_mode()
    try:
        _progress.set_mode("lines")
        assert isinstance(progress_bar(total=3), LineProgress)
        assert list(progress_bar(range(3), desc="x")) == [0, 1, 2]
        _progress.set_mode("none")
        assert list(progress_bar(range(3))) == [0, 1, 2]
        assert not isinstance(progress_bar(total=3), LineProgress)
        with pytest.raises(ValueError, match="progress mode must be one of"):
            _progress.set_mode("loud")
    finally:
        _progress.set_mode(before)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_auto_progress_is_a_bar_on_a_terminal_and_lines_in_a_file():
    assert progress_mode("auto", stream=Terminal()) == "bar"
    assert progress_mode("auto", stream=io.StringIO()) == "lines"
    assert progress_mode("bar", stream=io.StringIO()) == "bar"
    assert progress_mode("bar", quiet=True) == "none"
