"""A small decoder for 16-bit PNGs with colour or alpha, which Pillow reduces to 8 bits.

Pillow (checked with version 13) opens 16-bit grey PNGs losslessly (mode ``I;16``)
but converts 16-bit RGB, RGBA and grey-with-alpha PNGs to 8 bits per channel. This
module decodes those three kinds so that their full precision survives:

* the pixel data are inflated with ``zlib`` into at most the bytes the header
  declares (``max_length``), so a small file cannot expand into gigabytes (a
  decompression bomb); more data than declared, or data after the end of the
  compressed stream, is refused as a corrupt file;
* the row filters (PNG spec §9) predict each byte from the same byte of the
  pixels to its left, above and above-left, so each channel of a 16-bit image
  is itself a 16-bit grey image with the same row filters: every kept channel
  is handed, still filtered, to Pillow's C decoder, which reads 16-bit grey
  losslessly (alpha is dropped without being decoded).

Interlaced (Adam7) files are refused with a clear message.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from astrovader.errors import InputError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def png_header(data: bytes) -> tuple[int, int, int, int, int] | None:
    """Width, height, bit depth, colour type and interlace method, or None if not a PNG."""
    if len(data) < 33 or not data.startswith(SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    return width, height, depth, ctype, interlace


def needs_png16(data: bytes) -> bool:
    """Whether ``data`` is a 16-bit PNG that Pillow would reduce to 8 bits."""
    header = png_header(data)
    return header is not None and header[2] == 16 and header[3] in (2, 4, 6)


def _chunks(data: bytes, where: str):
    """Yield (type, payload) for every chunk up to IEND, checking lengths and CRCs."""
    pos = len(SIGNATURE)
    while True:
        if pos + 8 > len(data):
            raise InputError(f"{where}: corrupt or truncated PNG (ends before IEND)")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 8 + length
        if end + 4 > len(data):
            raise InputError(f"{where}: corrupt or truncated PNG (chunk {kind!r} is cut short)")
        payload = data[pos + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(kind + payload) != crc:
            raise InputError(f"{where}: corrupt PNG (bad checksum in chunk {kind!r})")
        yield kind, payload
        if kind == b"IEND":
            return
        pos = end + 4


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def _inflate(idat: bytes, size: int, where: str) -> bytes:
    """The ``size`` bytes of filtered rows in ``idat``, never inflating more than that."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(idat, size)
        extra = inflater.decompress(inflater.unconsumed_tail, 1)  # the end of the stream
    except zlib.error as exc:
        raise InputError(f"{where}: corrupt or truncated PNG ({exc})") from None
    if extra:
        raise InputError(
            f"{where}: corrupt PNG (more pixel data than its declared size; refused before "
            "decoding it)"
        )
    if len(raw) < size or not inflater.eof:
        raise InputError(f"{where}: corrupt or truncated PNG (too little pixel data)")
    if inflater.unused_data:
        raise InputError(
            f"{where}: corrupt PNG ({len(inflater.unused_data)} bytes after the compressed pixels)"
        )
    return raw


def _unfilter(rows: np.ndarray, width: int, keep: int, where: str) -> np.ndarray:
    """The first ``keep`` channels (uint16) of filtered rows (height, 1 + width·channels·2).

    Each channel, with the rows' filter bytes, is a filtered 16-bit grey PNG image
    (see the module docstring), which Pillow unfilters in C.
    """
    height = rows.shape[0]
    kinds = rows[:, 0]
    if kinds.max(initial=0) > 4:
        raise InputError(f"{where}: corrupt PNG (unknown row filter {int(kinds.max())})")
    samples = rows[:, 1:].reshape(height, width, -1, 2)
    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    planes = []
    for channel in range(keep):
        lane = np.concatenate([rows[:, :1], samples[:, :, channel].reshape(height, -1)], axis=1)
        png = SIGNATURE + _chunk(b"IHDR", header)
        png += _chunk(b"IDAT", zlib.compress(lane.tobytes(), 1)) + _chunk(b"IEND", b"")
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            planes.append(np.asarray(image, dtype=np.uint16))
    return np.stack(planes, axis=-1)


def decode_png16(data: bytes, where: str) -> np.ndarray:
    """Decode a 16-bit grey, grey+alpha, RGB or RGBA PNG.

    Args:
        data: The whole file.
        where: The file name, put at the start of every error message.

    Returns:
        float32 array (height, width, channels) in [0, 1] (value / 65535), alpha
        dropped: one channel for grey, three for colour.

    Raises:
        InputError: not a 16-bit PNG, interlaced, corrupt or truncated.
    """
    header = png_header(data)
    if header is None or header[2] != 16 or header[3] not in _CHANNELS:
        raise InputError(f"{where}: not a 16-bit PNG")
    width, height, _, ctype, interlace = header
    if interlace:
        raise InputError(
            f"{where}: interlaced 16-bit PNGs are not supported; save it without interlacing"
        )
    if width == 0 or height == 0:
        raise InputError(f"{where}: image has zero size ({height}×{width})")
    idat = b"".join(payload for kind, payload in _chunks(data, where) if kind == b"IDAT")
    channels = _CHANNELS[ctype]
    stride = width * channels * 2
    raw = _inflate(idat, height * (stride + 1), where)
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride + 1)
    pixels = _unfilter(rows, width, 1 if channels <= 2 else 3, where)
    return (pixels / 65535.0).astype(np.float32)
