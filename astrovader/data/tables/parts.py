"""Deterministic parts of a data set (``astrovader embed --shard I/N``) and their header cards.

A data set of T images read in batches of b is B = ⌈T/b⌉ batches in its reading
order (:mod:`astrovader.data.pipelines.stream`). Part I of N (1-based, as batch-system array
jobs count, e.g. ``SLURM_ARRAY_TASK_ID``) holds the contiguous batches
⌊(I−1)·B/N⌋ … ⌊I·B/N⌋ − 1: the parts are disjoint, their union is the whole set, and
their sizes differ by at most one batch. Because part boundaries fall on whole
batches, every batch of a part is a batch of the one-machine pass, so even γ with
the min-max transform (method eq. 17, which depends on the batch) is the same.

A part's table records which part it is in its header (FITS cards; for CSV the
same cards as leading ``#`` comment lines): ``SHARD`` = ``'I/N'``, ``SHSTART`` (rows
of the whole table before the part) and ``SHTOTAL`` (rows of the whole table), so
that :mod:`astrovader.data.tables.merge` can check that parts tile the table.
Framework-free.
"""

from __future__ import annotations

import dataclasses
import re

from astropy.io import fits

from astrovader.errors import InputError

__all__ = ["Part", "part_of"]

SHARD, START, TOTAL = "SHARD", "SHSTART", "SHTOTAL"
_TEXT = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclasses.dataclass(frozen=True)
class Part:
    """Part ``index`` of ``count`` (1-based).

    Raises:
        InputError: not 1 ≤ index ≤ count.
    """

    index: int
    count: int

    def __post_init__(self):
        if not 1 <= self.index <= self.count:
            raise InputError(
                f"shard {self.index}/{self.count}: expected I/N with 1 ≤ I ≤ N (N ≥ 1)"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> Part:
        """``"I/N"`` as a part.

        Raises:
            InputError: not two integers ``I/N`` with 1 ≤ I ≤ N.
        """
        match = _TEXT.match(str(text))
        if match is None:
            raise InputError(f"shard {text!r}: expected I/N with 1 ≤ I ≤ N, such as 2/8")
        return cls(int(match[1]), int(match[2]))

    def rows(self, total: int, batch_size: int) -> range:
        """The rows of this part among ``total`` rows read in batches of ``batch_size``."""
        batches = -(-total // batch_size)
        first = (self.index - 1) * batches // self.count
        last = self.index * batches // self.count
        return range(min(first * batch_size, total), min(last * batch_size, total))

    def cards(self, rows: range, total: int) -> list[fits.Card]:
        """The header cards of this part's table: ``SHARD``, ``SHSTART``, ``SHTOTAL``."""
        return [
            fits.Card(SHARD, str(self), "part I/N of a table (embed --shard)"),
            fits.Card(START, rows.start, "rows of the whole table before this part"),
            fits.Card(TOTAL, total, "rows of the whole table"),
        ]


def part_of(header: fits.Header, where) -> tuple[Part, int, int] | None:
    """The part, its first row and the whole table's rows a header records, or None.

    Raises:
        InputError: a ``SHARD`` card without the others, or with values that do not
            parse; the message names ``where``.
    """
    if SHARD not in header:
        return None
    try:
        part = Part.parse(header[SHARD])
        start, total = int(header[START]), int(header[TOTAL])
    except (KeyError, ValueError, InputError) as exc:
        raise InputError(f"{where}: unreadable part cards ({exc})") from None
    return part, start, total
