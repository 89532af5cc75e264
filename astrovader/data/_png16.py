"""A small decoder for 16-bit PNGs with colour or alpha, which Pillow reduces to 8 bits.

Pillow (checked with version 13) opens 16-bit grey PNGs losslessly (mode ``I;16``)
but converts 16-bit RGB, RGBA and grey-with-alpha PNGs to 8 bits per channel. This
module decodes those three kinds itself, with ``zlib`` and NumPy, so that their
full precision survives. Interlaced (Adam7) files are refused with a clear message.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

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


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(rows: np.ndarray, bpp: int, where: str) -> np.ndarray:
    """Undo the per-row PNG filters (spec §9.2) on (height, 1 + stride) filtered bytes."""
    height, stride = rows.shape[0], rows.shape[1] - 1
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.int64)
    for r in range(height):
        kind, line = int(rows[r, 0]), rows[r, 1:].astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 1:
            cur = (np.cumsum(line.reshape(-1, bpp), axis=0) % 256).reshape(-1)
        elif kind == 2:
            cur = (line + prev) % 256
        elif kind in (3, 4):
            raw, up, vals = line.tolist(), prev.tolist(), [0] * stride
            for i in range(stride):
                left = vals[i - bpp] if i >= bpp else 0
                if kind == 3:
                    vals[i] = (raw[i] + ((left + up[i]) >> 1)) & 255
                else:
                    upleft = up[i - bpp] if i >= bpp else 0
                    vals[i] = (raw[i] + _paeth(left, up[i], upleft)) & 255
            cur = np.array(vals, np.int64)
        else:
            raise InputError(f"{where}: corrupt PNG (unknown row filter {kind})")
        out[r] = cur
        prev = cur
    return out


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
    try:
        raw = zlib.decompress(idat)
    except zlib.error as exc:
        raise InputError(f"{where}: corrupt or truncated PNG ({exc})") from None
    channels = _CHANNELS[ctype]
    stride = width * channels * 2
    if len(raw) < height * (stride + 1):
        raise InputError(f"{where}: corrupt or truncated PNG (too little pixel data)")
    rows = np.frombuffer(raw, np.uint8, count=height * (stride + 1)).reshape(height, stride + 1)
    pixels = _unfilter(rows, channels * 2, where).view(">u2").reshape(height, width, channels)
    keep = 1 if channels <= 2 else 3
    return (pixels[..., :keep] / 65535.0).astype(np.float32)
