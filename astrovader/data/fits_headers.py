"""FITS headers bounded before astropy parses them (framework-free).

astropy reads a header card by card until its ``END`` card, however long it is:
a gzipped file of 170 KB can hold a 50 MB header, which cost 14 s and 567 MB
before anything could check it. :func:`check_headers` walks the file's HDUs
first, in 2,880-byte blocks (through ``gzip`` for a ``.gz`` file, which never
holds more than a block in memory), and refuses any header longer than
:data:`MAX_HEADER_BYTES` without an ``END`` card. It reads the few keywords that
give the size of each HDU's data, to step over it to the next header. The
result is cached per file (size and modification time), as the files of a
folder are listed once and read stamp by stamp.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import zlib
from pathlib import Path

from astrovader.errors import InputError

BLOCK = 2880
CARD = 80
MAX_HEADER_BYTES = 360 * BLOCK
"""The longest header accepted: 1,036,800 bytes, 12,960 cards (survey cutouts hold hundreds)."""

_SIZE_KEYS = ("BITPIX", "NAXIS", "PCOUNT", "GCOUNT", "GROUPS")


def _value(card: bytes):
    """The value of a ``KEY = value / comment`` card: an int, ``T``/``F``, or None."""
    text = card[10:].split(b"/", 1)[0].strip()
    if text in (b"T", b"F"):
        return text == b"T"
    try:
        return int(text)
    except ValueError:
        return None


def _read_header(handle, where: str, index: int, limit: int) -> dict | None:
    """The size keywords of the next header; None where no header follows.

    No header follows at the end of the file, and where astropy too stops
    looking: a first block that is not ``SIMPLE`` (the primary) or ``XTENSION``
    and holds only zeros or blanks (padding some writers leave at the end).
    """
    keys: dict = {}
    read = 0
    while True:
        block = handle.read(BLOCK)
        if read == 0:
            opening = b"SIMPLE" if index == 0 else b"XTENSION"
            if not block or (not block.startswith(opening) and not block.strip(b"\0 ")):
                return None
        if len(block) < BLOCK:
            raise InputError(f"{where}: corrupt or truncated FITS file (HDU {index} is cut short)")
        read += BLOCK
        for start in range(0, BLOCK, CARD):
            card = block[start : start + CARD]
            key = card[:8].rstrip().decode("ascii", "replace")
            if key == "END":
                return keys
            if key in _SIZE_KEYS or (key.startswith("NAXIS") and key[5:].isdigit()):
                keys[key] = _value(card)
        if read >= limit:
            raise InputError(
                f"{where}: the FITS header of HDU {index} is longer than {limit} bytes "
                f"({limit // CARD} cards) without an END card; refused before parsing it"
            )


def _data_bytes(keys: dict, where: str, index: int) -> int:
    """Bytes of an HDU's data (FITS standard §4.4.1), from its size keywords."""
    bitpix, naxis = keys.get("BITPIX"), keys.get("NAXIS")
    if not isinstance(bitpix, int) or not isinstance(naxis, int) or not 0 <= naxis <= 999:
        raise InputError(f"{where}: corrupt FITS header in HDU {index} (BITPIX or NAXIS)")
    axes = [keys.get(f"NAXIS{i}") for i in range(1, naxis + 1)]
    if any(not isinstance(n, int) or n < 0 for n in axes):
        raise InputError(f"{where}: corrupt FITS header in HDU {index} (an NAXISn)")
    if not axes:
        return 0
    if keys.get("GROUPS") is True and axes[0] == 0:  # random groups: NAXIS1 = 0
        axes = axes[1:]
    pcount, gcount = keys.get("PCOUNT") or 0, keys.get("GCOUNT")
    gcount = 1 if gcount is None else gcount
    return abs(bitpix) // 8 * gcount * (pcount + math.prod(axes))


@functools.lru_cache(maxsize=64)
def _check(path: str, size: int, mtime_ns: int, limit: int) -> int:
    """The number of HDUs; ``size`` and ``mtime_ns`` only key the cache."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    handle = gzip.open(path, "rb") if compressed else open(path, "rb")
    count = 0
    try:
        with handle:
            while (keys := _read_header(handle, path, count, limit)) is not None:
                skip = -(-_data_bytes(keys, path, count) // BLOCK) * BLOCK
                handle.seek(skip, os.SEEK_CUR)
                count += 1
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise InputError(f"{path}: corrupt or truncated FITS file ({exc})") from None
    return count


def check_headers(path: Path, limit: int = MAX_HEADER_BYTES) -> int:
    """Walk the HDUs of a FITS file (optionally gzipped) with every header bounded.

    Args:
        path: The FITS file.
        limit: The most bytes of one header.

    Returns:
        The number of HDUs.

    Raises:
        InputError: a header longer than ``limit`` without an ``END`` card, a
            header without readable size keywords, or a cut-short file.
    """
    stat = os.stat(path)
    return _check(str(path), stat.st_size, stat.st_mtime_ns, limit)
