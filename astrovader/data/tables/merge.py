"""Concatenate the cluster tables of a data set's parts into one (``astrovader merge``).

The parts are the tables that ``astrovader embed --shard I/N`` writes
(:mod:`astrovader.data.tables.parts`), all CSV or all FITS, like the output. Before anything
is written they must agree: the same columns (names, FITS formats and units; FITS
strings may differ in width), the same K and J and, where recorded, the same model
weights; and with part cards (``SHARD``, ``SHSTART``, ``SHTOTAL``) the parts given
must be exactly 1 … N of one table, in any order, each starting where the ones
before it end. Tables without part cards (plain ``embed`` outputs) are concatenated
in the order given. Ids must be unique over all parts.

Rows are copied in chunks (CSV rows through the ``csv`` module, FITS rows from
memory-mapped files through :mod:`astrovader.data.tables.fits_writer`), so memory holds one
chunk plus 8 bytes per row for the duplicate-id check (a hash of every id; ids
whose hashes collide are compared in a second pass). The
output appears only when complete and checked (:func:`astrovader._io.atomic_path`), and
has one writer at a time (:func:`astrovader._io.output_lock`).
A CSV output holds no ``#`` lines: it is the table one ``embed`` pass writes.
Framework-free.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import itertools
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from astropy.io import fits

from astrovader._io import atomic_path, output_lock
from astrovader._progress import progress_bar
from astrovader.data.tables.clusters import TABLE_SUFFIXES, csv_body, csv_cards
from astrovader.data.tables.fits_writer import empty_primary, fits_stream, table_header
from astrovader.data.tables.parts import SHARD, START, TOTAL, Part, part_of
from astrovader.errors import InputError

__all__ = ["merge_tables"]

CHUNK = 65536
"""FITS records copied at a time."""
CSV_CHUNK = 4096
"""CSV rows copied at a time (each a list of Python strings)."""
_PART_CARDS = (SHARD, START, TOTAL)
_MODEL_CARDS = ("NCLUST", "NLATENT", "WEIGHTS")


@dataclasses.dataclass(frozen=True)
class PartTable:
    """What a part's table holds, read from its header alone.

    Attributes:
        path: The file.
        cards: Its provenance cards (FITS primary header; a CSV table's ``#`` lines).
        columns: Its columns: the CSV header row, or FITS (name, format, unit) with
            string widths left out.
        part: ``(part, first row, rows of the whole table)``, or None.
        rows: Its rows (FITS), or None (CSV: counted while copying).
    """

    path: Path
    cards: fits.Header
    columns: tuple
    part: tuple[Part, int, int] | None
    rows: int | None
    widths: dict = dataclasses.field(default_factory=dict)


def _is_fits(path: Path) -> bool:
    return path.suffix.lower() in TABLE_SUFFIXES[1:]


def _fits_columns(hdu) -> tuple:
    return tuple(
        (c.name, "A" if c.format.endswith("A") else c.format, c.unit or "") for c in hdu.columns
    )


def _widths(hdu) -> dict:
    return {c.name: int(c.format[:-1] or 1) for c in hdu.columns if c.format.endswith("A")}


def read_part(path) -> PartTable:
    """Read a part table's header, columns and part cards.

    Raises:
        InputError: a missing or unreadable file, not a cluster table; the
            message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"{path}: a part table must end in .csv or .fits")
    widths = {}
    if _is_fits(path):
        try:
            with fits.open(path) as hdus:
                table = hdus["CLUSTERS"]
                cards = fits.Header([c for c in hdus[0].header.cards if _provenance(c)])
                columns, rows = _fits_columns(table), int(table.header["NAXIS2"])
                widths = _widths(table)
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(
                f"{path}: not a cluster table ({' '.join(str(exc).split())})"
            ) from None
        if not {"id", "cluster"} <= {column[0] for column in columns}:
            raise InputError(f"{path}: not a cluster table (no id and cluster columns)")
    else:
        cards, rows = csv_cards(path), None
        with path.open(newline="") as handle:
            header = next(csv.reader(csv_body(handle)), None)
        if not header or header[0] != "id" or "cluster" not in header:
            raise InputError(f"{path}: not a cluster table (no id and cluster columns)")
        columns = tuple(header)
    return PartTable(path, cards, columns, part_of(cards, path), rows, widths)


def _provenance(card) -> bool:
    return card.keyword not in ("SIMPLE", "BITPIX", "NAXIS", "EXTEND", "")


def _check_same(first: PartTable, other: PartTable) -> None:
    """Refuse a part of another model or other columns than the first."""
    for key in _MODEL_CARDS:
        if key in first.cards and key in other.cards and first.cards[key] != other.cards[key]:
            raise InputError(
                f"{other.path}: {key} = {other.cards[key]}, but {first.path} has "
                f"{first.cards[key]}: parts of different models cannot be merged"
            )
    if first.columns != other.columns:
        pairs = itertools.zip_longest(first.columns, other.columns, fillvalue="nothing")
        mine, theirs = next((a, b) for a, b in pairs if a != b)
        raise InputError(
            f"{other.path}: its columns differ from those of {first.path} ({theirs} where "
            f"that has {mine}): parts of different models or data"
        )


def _order(tables: list[PartTable]) -> list[PartTable]:
    """The parts in table order, after checking that they are exactly 1 … N of one table."""
    first = tables[0]
    marked = [t for t in tables if t.part is not None]
    if not marked:
        return tables
    if len(marked) != len(tables):
        plain = next(t for t in tables if t.part is None)
        other = first if first.part is not None else marked[0]
        raise InputError(
            f"{plain.path}: not the table of a part (no {SHARD} card), unlike {other.path}"
        )
    count, total = first.part[0].count, first.part[2]
    seen: dict[int, PartTable] = {}
    for table in tables:
        part, _, whole = table.part
        if (part.count, whole) != (count, total):
            raise InputError(
                f"{table.path}: part {part} of {whole} rows, but {first.path} is part "
                f"{first.part[0]} of {total} rows: parts of different splits or data"
            )
        if part.index in seen:
            raise InputError(
                f"{table.path}: part {part} given twice (also {seen[part.index].path})"
            )
        seen[part.index] = table
    missing = [i for i in range(1, count + 1) if i not in seen]
    if missing:
        given = ", ".join(f"{t.part[0]} {t.path}" for t in sorted(tables, key=_index))
        raise InputError(f"part {missing[0]}/{count} is missing: given {given}")
    ordered = sorted(tables, key=_index)
    if all(t.rows is not None for t in ordered):  # FITS: the rows are known already
        start = 0
        for table in ordered:
            _check_rows(table, start, table.rows)
            start += table.rows
    return ordered


def _index(table: PartTable) -> int:
    return table.part[0].index


def _check_rows(table: PartTable, start: int, rows: int) -> None:
    """Refuse a part that does not start where the parts before it end, or end the table."""
    if table.part is None:
        return
    part, first, total = table.part
    if first != start:
        raise InputError(
            f"{table.path}: part {part} starts at row {first}, but the parts before it end "
            f"at row {start} (made with another --batch-size?)"
        )
    if part.index == part.count and start + rows != total:
        raise InputError(
            f"{table.path}: the parts hold {start + rows} rows, their cards say {total}"
        )


class _Ids:
    """Compact duplicate-id detection: an 8-byte hash of every id, in one growing array.

    Args:
        expected: The number of ids, if known (the array is then never copied).
    """

    def __init__(self, expected: int | None = None):
        self.hashes = np.empty(expected or 1024, np.uint64)
        self.count = 0

    def add(self, ids) -> None:
        digests = b"".join(hashlib.blake2b(_bytes(i), digest_size=8).digest() for i in ids)
        values = np.frombuffer(digests, ">u8")
        if self.count + len(values) > len(self.hashes):
            grown = np.empty(max(2 * len(self.hashes), self.count + len(values)), np.uint64)
            grown[: self.count] = self.hashes[: self.count]
            self.hashes = grown
        self.hashes[self.count : self.count + len(values)] = values
        self.count += len(values)

    def suspects(self) -> set[int]:
        """Hashes seen more than once (duplicates, or, rarely, colliding ids); sorts in place."""
        hashes = self.hashes[: self.count]
        hashes.sort()
        return {int(v) for v in hashes[1:][hashes[1:] == hashes[:-1]]}


def _bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _hash(value) -> int:
    return int.from_bytes(hashlib.blake2b(_bytes(value), digest_size=8).digest(), "big")


def _check_ids(tables: list[PartTable], ids: _Ids) -> None:
    """Refuse an id found twice; ids of colliding hashes are compared in a second pass."""
    suspects = ids.suspects()
    if not suspects:
        return
    owner: dict[bytes, Path] = {}
    for table in tables:
        for chunk in _id_chunks(table):
            for name in chunk:
                if _hash(name) not in suspects:
                    continue
                key = _bytes(name)
                if key in owner:
                    text = key.decode(errors="replace")
                    raise InputError(f"{table.path}: id {text!r} again (also in {owner[key]})")
                owner[key] = table.path


def _id_chunks(table: PartTable):
    if _is_fits(table.path):
        with fits.open(table.path, memmap=True) as hdus:
            for rows in _fits_chunks(hdus["CLUSTERS"], table.rows):
                yield list(rows["id"])
    else:
        for chunk in _csv_chunks(table.path):
            yield [row[0] for row in chunk]


def _fits_chunks(hdu, rows: int):
    """The stored records of a memory-mapped table HDU, ``CHUNK`` at a time."""
    for start in range(0, rows, CHUNK):
        yield np.asarray(hdu.data[start : start + CHUNK].view(np.ndarray))


def _csv_chunks(path: Path):
    """The rows of a CSV table after its header, ``CSV_CHUNK`` at a time."""
    with path.open(newline="") as handle:
        reader = csv.reader(csv_body(handle))
        next(reader)
        while chunk := list(itertools.islice(reader, CSV_CHUNK)):
            yield chunk


def _merge_csv(out: Path, tables: list[PartTable], ids: _Ids, bar) -> int:
    start = 0
    with atomic_path(out) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(tables[0].columns)
        for table in tables:
            rows = 0
            for chunk in _csv_chunks(table.path):
                writer.writerows(chunk)
                ids.add([row[0] for row in chunk])
                rows += len(chunk)
                bar.update(len(chunk))
            _check_rows(table, start, rows)
            start += rows
        _check_ids(tables, ids)
    return start


def _merged_cards(first: PartTable, count: int, command: str) -> list[fits.Card]:
    cards = [c for c in first.cards.cards if c.keyword not in _PART_CARDS]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for card in cards:
        if card.keyword == "DATE":
            card.value = now
        elif card.keyword == "COMMAND" and command:
            card.value = command.encode("ascii", "backslashreplace").decode("ascii")
    return [*cards, fits.Card("NPARTS", count, "part tables merged (astrovader merge)")]


def _fits_layout(tables: list[PartTable], command: str):
    """The merged table's headers and record dtype: the first part's, strings at their widest."""
    width = {name: max(t.widths[name] for t in tables) for name in tables[0].widths}
    with fits.open(tables[0].path, memmap=True) as hdus:
        hdu = hdus["CLUSTERS"]
        columns = [
            fits.Column(name=c.name, format=f"{width[c.name]}A", unit=c.unit)
            if c.name in width
            else fits.Column(name=c.name, format=c.format, unit=c.unit)
            for c in hdu.columns
        ]
        stored = hdu.data.dtype  # as on disk: big-endian, L columns as bytes
    dtype = np.dtype(
        [(n, f"S{width[n]}" if n in width else stored.fields[n][0]) for n in stored.names]
    )
    primary = empty_primary()
    header = table_header(columns, sum(t.rows for t in tables), "CLUSTERS")
    for card in _merged_cards(tables[0], len(tables), command):
        primary.append(card)
        header.append(card)
    return [primary, header], dtype


def _merge_fits(out: Path, tables: list[PartTable], ids: _Ids, bar, command: str) -> int:
    headers, dtype = _fits_layout(tables, command)
    written = 0
    with fits_stream(out, headers) as stream:
        for table in tables:  # one file open at a time, memory-mapped
            with fits.open(table.path, memmap=True) as hdus:
                for chunk in _fits_chunks(hdus["CLUSTERS"], table.rows):
                    rows = chunk.astype(dtype)
                    stream.write(1, written * dtype.itemsize, rows.tobytes())
                    ids.add(list(rows["id"]))
                    written += len(rows)
                    bar.update(len(rows))
        _check_ids(tables, ids)
    return written


def merge_tables(out, parts, *, command: str = "", progress: bool = True) -> int:
    """Concatenate part tables into ``out``, after checking that they make one table.

    Args:
        out: The merged ``.csv`` or ``.fits`` table (the parts' format).
        parts: The part tables, in any order when they carry part cards.
        command: The command line, recorded as ``COMMAND`` in a FITS output.
        progress: Show a progress bar.

    Returns:
        The number of rows written.

    Raises:
        InputError: no parts, a part of another format than ``out``, or parts that
            do not make one table (different models or columns, a part missing or
            given twice, rows that do not tile the table, an id found twice); the
            message names the file.
    """
    out = Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"{out}: the merged table must end in .csv or .fits")
    if not parts:
        raise InputError(f"{out}: no part tables to merge")
    tables = []
    for path in map(Path, parts):
        if path.resolve() == out.resolve():
            raise InputError(f"{path}: is the output too")
        if path.suffix.lower() in TABLE_SUFFIXES and _is_fits(path) != _is_fits(out):
            kind = "FITS" if _is_fits(path) else "CSV"
            raise InputError(f"{path}: a {kind} table; parts and {out} must share one format")
        tables.append(read_part(path))
    for table in tables[1:]:
        _check_same(tables[0], table)
    tables = _order(tables)
    known = tables[0].part[2] if tables[0].part else None
    total = sum(t.rows for t in tables) if _is_fits(out) else known
    with (
        output_lock(out),
        progress_bar(total=total, desc="merging", unit="row", disable=not progress) as bar,
    ):
        if _is_fits(out):
            return _merge_fits(out, tables, _Ids(total), bar, command)
        return _merge_csv(out, tables, _Ids(total), bar)
