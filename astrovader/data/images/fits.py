"""FITS stamps: bounded headers, HDUs read with one seek, which HDUs hold images (framework-free).

**Headers.** astropy reads a header card by card until its ``END`` card, however
long it is: a gzipped file of 170 KB can hold a 50 MB header, which cost 14 s and
567 MB before anything could check it. :func:`check_headers` walks the file's HDUs
first, in 2,880-byte blocks (through ``gzip`` for a ``.gz`` file, which never holds
more than a block in memory), and refuses any header longer than
:data:`MAX_HEADER_BYTES` without an ``END`` card. It reads the few keywords that
give the size of each HDU's data, to step over it to the next header. The result is
cached per file (size and modification time), as the files of a folder are listed
once and read stamp by stamp.

**One seek per HDU.** astropy's ``fits.open(lazy_load_hdus=True)`` reaches HDU *i*
by parsing the *i* headers before it, so reading the stamps of a file of *n*
cutouts one at a time parses about n²/2 headers: the stamps of one file of 1,000
32×32 cutouts read at 8 stamps/s that way and at 1,600 stamps/s this way (one
core). Here the byte span of every HDU of an uncompressed file is found once per
file (headers only, with astropy's ``HDU.fileinfo()``), kept for the last few files
read and keyed by size and modification time, and a stamp is read as its own bytes
with astropy's ``fromstring``. Anything else (a gzipped file, a tile-compressed or
table HDU) is left to ``fits.open``.

**Stamps.** Every HDU with 2-D or 3-D image data is one stamp, whether it is the
primary HDU or an extension (a multi-extension file of cutouts is the usual layout
of survey cutout collections). A file holding one such HDU gives one stamp named
after the file; a file holding several gives ``file[EXTNAME]`` for HDUs with a
unique ``EXTNAME`` and ``file[index]`` (the HDU number, 0 for the primary)
otherwise. A FITS file without image data (a catalogue table) holds no stamp.

Cubes: a 3-D stamp's band axis is its first axis (FITS order (B, H, W)) or its
last (H, W, B). With ``band_axis = "auto"`` it is, in this order: an end axis of
length 1; the only end axis of at most :data:`MAX_BANDS` values; or, when both
ends are that short, the end that leaves a square image ((B, S, S) or
(S, S, B)), else the shorter end. Any other shape (such as (32, 32, 32) or
(5, 40, 5)) is ambiguous and refused with an error that names
the ``data.band_axis`` setting (``"first"`` or ``"last"`` decide).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import math
import os
import warnings
import zlib
from pathlib import Path

import numpy as np
from astropy.io import fits

from astrovader.data.images.files import one_line
from astrovader.errors import InputError

__all__ = [
    "MAX_HEADER_BYTES",
    "band_axis",
    "image_hdus",
    "noise_sigma",
    "pixel_scale",
    "read_hdu",
    "read_plain_hdu",
    "stamp_ids",
    "to_bands_last",
]

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


PLAIN = (fits.PrimaryHDU, fits.ImageHDU)


@functools.lru_cache(maxsize=8)
def _spans(path: str, size: int, mtime_ns: int) -> tuple:
    """(HDU class, first byte, end byte) of every HDU; None for HDUs that are not plain images.

    ``size`` and ``mtime_ns`` only key the cache, so that a rewritten file is scanned again.
    """
    with open(path, "rb") as handle:
        if handle.read(6) != b"SIMPLE":
            return ()
    check_headers(Path(path))
    spans = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path, memmap=False, lazy_load_hdus=True) as hdus:
            for hdu in hdus:
                info = hdu.fileinfo()
                end = info["datLoc"] + info["datSpan"]
                spans.append((type(hdu), info["hdrLoc"], end) if type(hdu) in PLAIN else None)
    return tuple(spans)


def read_plain_hdu(path: Path, index: int):
    """HDU ``index`` of ``path`` (header parsed, data decoded on access), or None.

    None when the direct read does not apply: a compressed file, a tile-compressed or
    table HDU, or an index past the last HDU. Errors of astropy propagate.
    """
    stat = os.stat(path)
    spans = _spans(str(path), stat.st_size, stat.st_mtime_ns)
    if not 0 <= index < len(spans) or spans[index] is None:
        return None
    kind, start, end = spans[index]
    with open(path, "rb") as handle:
        handle.seek(start)
        chunk = handle.read(end - start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kind.fromstring(chunk)


def count_hdus(path: Path) -> int:
    """The HDUs of an uncompressed FITS file (0 when the direct read does not apply)."""
    stat = os.stat(path)
    return len(_spans(str(path), stat.st_size, stat.st_mtime_ns))


def plain_header(path: Path, index: int):
    """The header of HDU ``index`` alone (data unread), or None as for :func:`read_plain_hdu`."""
    stat = os.stat(path)
    spans = _spans(str(path), stat.st_size, stat.st_mtime_ns)
    if not 0 <= index < len(spans) or spans[index] is None:
        return None
    _, start, end = spans[index]
    blocks = []
    with open(path, "rb") as handle:
        handle.seek(start)
        while handle.tell() < end:
            block = handle.read(2880)
            blocks.append(block)
            if len(block) < 2880 or any(
                block[i : i + 8] == b"END     " for i in range(0, len(block), 80)
            ):
                break
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fits.Header.fromstring(b"".join(blocks).decode("ascii", "replace"))


MAX_BANDS = 16


def _open(path: Path):
    check_headers(path)
    try:
        return fits.open(path, memmap=False, lazy_load_hdus=True)
    except Exception as exc:
        raise InputError(f"{path}: corrupt or truncated FITS file ({one_line(exc)})") from None


NOISE_MAPS = {
    **dict.fromkeys(("WHT", "WEIGHT", "IVAR", "INVVAR"), "weight"),
    **dict.fromkeys(("VAR", "VARIANCE"), "variance"),
    **dict.fromkeys(("ERR", "ERROR", "SIGMA", "RMS", "NOISE"), "sigma"),
}
"""EXTNAMEs of noise maps: an HDU of these holds the noise of the stamp just before it."""


def _noise_kind(header) -> str | None:
    return NOISE_MAPS.get(str(header.get("EXTNAME", "")).strip().upper())


def _is_stamp(hdu) -> bool:
    return bool(hdu.is_image) and hdu.header.get("NAXIS", 0) >= 2 and not _noise_kind(hdu.header)


def noise_sigma(path: Path, index: int | None, *, max_pixels: int, max_bytes: int = 2**27) -> float:
    """The sky's σ from the noise map right after stamp ``index`` (0 when there is none).

    A weight or inverse-variance map (``WHT``, ``WEIGHT``, ``IVAR``) gives
    1/√median(w > 0), a variance map (``VAR``) √median(v), an error map (``ERR``,
    ``RMS``, ``SIGMA``, ``NOISE``) median(e): the typical noise of one pixel.
    """
    count = count_hdus(path)
    start = 0 if index is None else index
    if count < 2:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if index is None:  # the file's one stamp: its first image HDU
            for i in range(count):
                header = plain_header(path, i)
                if header is not None and header.get("NAXIS", 0) >= 2:
                    start = i
                    break
        header = plain_header(path, start + 1)
        kind = _noise_kind(header) if header is not None else None
        if kind is None:
            return 0.0
        data, _ = read_hdu(path, start + 1, max_pixels=max_pixels, max_bytes=max_bytes)
    values = data[np.isfinite(data)]
    values = values[values > 0] if kind == "weight" else values
    if values.size == 0:
        return 0.0
    middle = float(np.median(values))
    return {"weight": 1 / np.sqrt(middle), "variance": np.sqrt(middle), "sigma": middle}[kind]


def image_hdus(path: Path) -> list[tuple[int, str]]:
    """(index, EXTNAME or "") of every HDU of ``path`` with 2-D or 3-D image data.

    Raises:
        InputError: the file cannot be read as FITS.
    """
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hdus = _open(path)
        try:
            for index, hdu in enumerate(hdus):
                if _is_stamp(hdu):
                    found.append((index, str(hdu.header.get("EXTNAME", "")).strip()))
        except Exception as exc:
            raise InputError(f"{path}: corrupt or truncated FITS file ({one_line(exc)})") from None
        finally:
            hdus.close()
    return found


def stamp_ids(file_id: str, hdus: list[tuple[int, str]]) -> list[str]:
    """The ids of a file's stamps (see the module docstring)."""
    if len(hdus) == 1:
        return [file_id]
    names = [name for _, name in hdus]
    return [
        f"{file_id}[{name}]" if name and names.count(name) == 1 else f"{file_id}[{index}]"
        for index, name in hdus
    ]


def read_hdu(
    path: Path, index: int | None, *, max_pixels: int, where: str = "", max_bytes: int = 2**27
) -> tuple[np.ndarray, fits.Header]:
    """The raw data (float64, leading length-1 axes dropped) and header of one stamp.

    Args:
        path: The FITS file (optionally gzipped).
        index: The HDU; None takes the first HDU with image data.
        max_pixels: The most pixels a stamp may hold (checked before reading the data).
        where: The stamp, for messages (default: the file).
        max_bytes: The most bytes its data may hold (``BITPIX`` × values; checked
            before reading the data).

    Raises:
        InputError: unreadable, no image HDU, zero size, too many pixels or bytes,
            or a header too long (:mod:`astrovader.data.images.fits`).
    """
    where = where or str(path)
    limits = (max_pixels, max_bytes)
    with warnings.catch_warnings(), _corrupt_as_input_error(path):
        warnings.simplefilter("ignore")
        hdu = read_plain_hdu(path, index) if index is not None else None
        if hdu is not None:
            header, data = _checked(hdu, index, where, *limits)
            return _array(data, where), header
        hdus = _open(path)
        try:
            if index is None:
                index = next((i for i, hdu in enumerate(hdus) if _is_stamp(hdu)), None)
                if index is None:
                    raise InputError(f"{path}: FITS file has no image HDU with 2-D or 3-D data")
            header, data = _checked(hdus[index], index, where, *limits)
        finally:
            hdus.close()
    return _array(data, where), header


@contextlib.contextmanager
def _corrupt_as_input_error(path: Path):
    """Any error of astropy inside is one line naming the file; InputError passes as it is."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: corrupt or truncated FITS file ({one_line(exc)})") from None


def _checked(hdu, index: int, where: str, max_pixels: int, max_bytes: int):
    """The header (a copy) and data of an image HDU, its size checked before decoding."""
    if not hdu.is_image:
        raise InputError(f"{where}: HDU {index} holds no image")
    header = hdu.header.copy()
    axes = [header.get(f"NAXIS{i}", 0) for i in range(1, header.get("NAXIS", 0) + 1)]
    if 0 in axes:
        raise InputError(f"{where}: image has zero size ({'×'.join(map(str, axes[::-1]))})")
    if math.prod(axes) > max_pixels:
        raise InputError(
            f"{where}: {'×'.join(map(str, axes[::-1]))} values exceed "
            f"data.max_pixels = {max_pixels} (checked before decoding)"
        )
    nbytes = abs(header.get("BITPIX", 8)) // 8 * math.prod(axes)
    if nbytes > max_bytes:
        raise InputError(
            f"{where}: {'×'.join(map(str, axes[::-1]))} values of BITPIX {header.get('BITPIX')} "
            f"hold {nbytes} bytes, over data.max_bytes = {max_bytes} (checked before decoding)"
        )
    return header, hdu.data


def _array(data, where: str) -> np.ndarray:
    """Stamp data as float64 with leading length-1 axes dropped; 2-D or 3-D."""
    if data is None or data.size == 0:
        raise InputError(f"{where}: image has zero size")
    array = np.asarray(data, dtype=np.float64)
    while array.ndim > 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim not in (2, 3):
        raise InputError(f"{where}: image data has {array.ndim} dimensions, not 2 or 3")
    return array


def band_axis(shape: tuple[int, int, int], setting: str) -> int:
    """0 or 2: the band axis of a cube (``setting`` is ``data.band_axis``); −1 if ambiguous."""
    if setting == "first":
        return 0
    if setting == "last":
        return 2
    first, middle, last = shape
    if 1 in (first, last):
        return 0 if first == 1 else 2
    short_first, short_last = first <= MAX_BANDS, last <= MAX_BANDS
    if short_first != short_last:
        return 0 if short_first else 2
    if short_first and middle == last != first:
        return 0
    if short_first and middle == first != last:
        return 2
    if short_first and first != last:
        return 0 if first < last else 2
    return -1


def to_bands_last(array: np.ndarray, setting: str, where: str) -> np.ndarray:
    """A 2-D stamp as (H, W, 1), a cube as (H, W, B).

    Raises:
        InputError: an ambiguous cube under ``data.band_axis = "auto"``.
    """
    if array.ndim == 2:
        return array[..., None]
    axis = band_axis(array.shape, setting)
    if axis < 0:
        raise InputError(
            f"{where}: cannot tell the band axis of a cube of shape {array.shape}; set "
            'data.band_axis = "first" for (B, H, W) or "last" for (H, W, B)'
        )
    return np.moveaxis(array, 0, -1) if axis == 0 else array


def pixel_scale(header: fits.Header) -> float:
    """Arcseconds per pixel from a celestial WCS in ``header`` (0 when there is none)."""
    from astropy.wcs import WCS
    from astropy.wcs.utils import proj_plane_pixel_scales

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            wcs = WCS(header, naxis=2)
        except Exception:
            return 0.0
        if not wcs.has_celestial:
            return 0.0
        return float(np.mean(proj_plane_pixel_scales(wcs.celestial)) * 3600.0)
