"""One streaming FITS writer: HDUs of known size, filled chunk by chunk (framework-free).

Every header is complete before any data is written (``NAXISn`` and, for tables,
``NAXIS2`` give the sizes), so each HDU's data starts at a known offset: the file
is created at its final length (zero padding, as FITS wants after binary data),
the headers are written in place, and :meth:`FitsStream.write` puts each chunk of
bytes at its offset. Memory is bounded by one chunk whatever the file size. The
file appears at its path only when complete (:func:`astrovader._io.atomic_path`).
"""

from __future__ import annotations

import contextlib
import math
from datetime import UTC
from pathlib import Path

from astropy.io import fits

from astrovader._io import atomic_path

__all__ = ["empty_primary", "fits_stream", "provenance", "table_header"]

BLOCK = 2880


def padded(nbytes: int) -> int:
    """``nbytes`` rounded up to whole 2,880-byte FITS blocks."""
    return -(-nbytes // BLOCK) * BLOCK


def data_bytes(header: fits.Header) -> int:
    """Bytes of the data an HDU header announces (before padding)."""
    axes = [header.get(f"NAXIS{i}", 0) for i in range(1, header.get("NAXIS", 0) + 1)]
    if not axes:
        return 0
    return abs(header["BITPIX"]) // 8 * math.prod(axes) + header.get("PCOUNT", 0)


class FitsStream:
    """Write the data of several HDUs at their offsets in an open binary file.

    Args:
        handle: A file opened for binary writing (at position 0).
        headers: The complete headers, primary first.
    """

    def __init__(self, handle, headers: list[fits.Header]):
        self.handle = handle
        self.starts: list[int] = []
        self.sizes: list[int] = []
        position = 0
        texts = [header.tostring().encode("ascii") for header in headers]
        for text, header in zip(texts, headers, strict=True):
            position += len(text)
            self.starts.append(position)
            self.sizes.append(data_bytes(header))
            position += padded(self.sizes[-1])
        handle.truncate(position)
        for text, start in zip(texts, self.starts, strict=True):
            handle.seek(start - len(text))
            handle.write(text)

    def write(self, hdu: int, offset: int, data: bytes) -> None:
        """Write ``data`` at byte ``offset`` of HDU ``hdu``'s data."""
        if offset < 0 or offset + len(data) > self.sizes[hdu]:
            raise ValueError(f"{len(data)} bytes at {offset} overflow HDU {hdu}'s data")
        self.handle.seek(self.starts[hdu] + offset)
        self.handle.write(data)


@contextlib.contextmanager
def fits_stream(path: str | Path, headers: list[fits.Header]):
    """Yield a :class:`FitsStream` on a temporary file that becomes ``path`` on success."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        yield FitsStream(handle, headers)


def table_header(columns: list[fits.Column], rows: int, name: str) -> fits.Header:
    """The header of a binary table extension of ``rows`` rows."""
    header = fits.BinTableHDU.from_columns(columns, nrows=0, name=name).header
    header["NAXIS2"] = rows
    return header


def empty_primary() -> fits.Header:
    """A primary header without data, announcing extensions."""
    return fits.Header([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), ("EXTEND", True)])


def provenance(**values) -> list[fits.Card]:
    """Standard header cards (keywords of at most 8 characters) saying what made a file.

    A text value too long to share one 80-character card with its comment (a long
    ``COMMAND``) keeps its keyword, continued over ``CONTINUE`` cards (the FITS
    long-string convention), and its comment goes to a ``COMMENT KEY: …`` card, so
    that astropy truncates nothing and warns about nothing.

    Args:
        **values: Keyword → value or (value, comment); ``None`` values are left out.
            ``DATE`` (UTC, ISO 8601) and ``AVVERS`` (the astrovader version) are added.
    """
    from datetime import datetime

    from astrovader._version import __version__

    values = {
        "DATE": (datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "file written (UTC)"),
        "AVVERS": (__version__, "astrovader version"),
        **values,
    }
    cards = []
    for key, value in values.items():
        if len(key) > 8:
            raise ValueError(f"FITS keyword {key!r} is longer than 8 characters")
        value, comment = value if isinstance(value, tuple) else (value, "")
        if isinstance(value, str):  # FITS header text is printable ASCII
            value = value.encode("ascii", "backslashreplace").decode("ascii")
        if value is None:
            continue
        bare = fits.Card(key, value)
        if comment and len(bare.image.rstrip()) + len(" / ") + len(comment) > fits.Card.length:
            cards += [bare, fits.Card("COMMENT", f"{key}: {comment}")]
        else:
            cards.append(fits.Card(key, value, comment))
    return cards
