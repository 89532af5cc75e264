"""Decode one image file to floats in [0, 1] and bring it to the wanted bands and size.

Framework-free: Pillow for PNG and JPEG, :mod:`astrovader.data._png16` for 16-bit
colour PNGs, astropy for FITS.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import numpy as np
from astropy.io import fits
from PIL import Image

from astrovader.data._png16 import decode_png16, needs_png16, png_header
from astrovader.errors import InputError

IMAGE_SUFFIXES: tuple[str, ...] = (
    ".png",
    ".jpg",
    ".jpeg",
    ".fits",
    ".fit",
    ".fts",
    ".fits.gz",
    ".fit.gz",
    ".fts.gz",
)
_FITS = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")
_TO_RGB = ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV")


def one_line(exc: object) -> str:
    """An exception's text on one line (libraries' messages sometimes span several)."""
    return " ".join(str(exc).split())


def image_suffix(name: str) -> str | None:
    """The image suffix that ``name`` ends with (lower case), or None."""
    lower = name.lower()
    matches = [s for s in IMAGE_SUFFIXES if lower.endswith(s)]
    return max(matches, key=len) if matches else None


def decode(path: Path, nan_pixels: str = "error") -> tuple[np.ndarray, int]:
    """Decode an image file to float32 (height, width, bands) in [0, 1].

    Args:
        path: The image file.
        nan_pixels: ``"error"``: NaN or infinite pixels (FITS only) are an error;
            ``"zero"``: they become 0 (the other pixels are scaled without them).

    Returns:
        The pixels and the number of NaN or infinite pixels replaced by 0.

    Raises:
        InputError: unreadable, empty, corrupt, truncated, zero-size or non-finite;
            the message starts with the path.
    """
    where = str(path)
    if not path.is_file():
        if path.is_dir():
            reason = "it is a directory"
        elif path.exists():
            reason = "not a regular file"
        else:
            reason = "broken symbolic link" if path.is_symlink() else "no such file"
        raise InputError(f"{where}: cannot read image ({reason})")
    suffix = image_suffix(path.name)
    if suffix is None:
        raise InputError(
            f"{where}: not an image file (expected one of {', '.join(IMAGE_SUFFIXES)})"
        )
    if suffix in _FITS:
        return _decode_fits(path, where, nan_pixels)
    data = _read_bytes(path, where)
    header = png_header(data)
    if header is not None and 0 in header[:2]:
        raise InputError(f"{where}: image has zero size ({header[1]}×{header[0]})")
    if needs_png16(data):
        return decode_png16(data, where), 0
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            pixels = _pillow_pixels(image, where)
    except InputError:
        raise
    except Image.UnidentifiedImageError:
        raise InputError(f"{where}: corrupt file or not an image Pillow can identify") from None
    except Image.DecompressionBombError as exc:
        raise InputError(f"{where}: image too large to decode ({one_line(exc)})") from None
    except Exception as exc:
        raise InputError(f"{where}: corrupt or truncated image ({one_line(exc)})") from None
    if pixels.size == 0:
        raise InputError(f"{where}: image has zero size ({pixels.shape[0]}×{pixels.shape[1]})")
    return pixels, 0


def _read_bytes(path: Path, where: str) -> bytes:
    """The whole file; an empty or unreadable file is an error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{where}: cannot read file ({one_line(exc.strerror or exc)})") from None
    if not data:
        raise InputError(f"{where}: empty file")
    return data


def _pillow_pixels(image: Image.Image, where: str) -> np.ndarray:
    """Pixels of a decoded Pillow image as float32 (H, W, B), alpha dropped."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image).astype(np.int64)
        if values.min(initial=0) < 0 or values.max(initial=0) > 65535:
            raise InputError(f"{where}: integer pixels outside the 16-bit range")
        return (values / 65535.0).astype(np.float32)[..., None]
    if mode == "1":
        image = image.convert("L")
    elif mode in _TO_RGB:
        image = image.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA", "RGBX"):
        raise InputError(f"{where}: unsupported image mode {mode!r}")
    values = np.asarray(image)
    if values.ndim == 2:
        values = values[..., None]
    else:
        values = values[..., : 1 if values.shape[2] == 2 else 3]
    return (values / 255.0).astype(np.float32)


def _decode_fits(path: Path, where: str, nan_pixels: str) -> tuple[np.ndarray, int]:
    """First 2-D or 3-D image HDU, min-max scaled to [0, 1] over its finite pixels."""
    raw = _read_bytes(path, where)
    if path.name.lower().endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{where}: corrupt or truncated gzip file ({one_line(exc)})") from None
    data = _fits_image(io.BytesIO(raw), where)
    if data.ndim == 2:
        data = data[..., None]
    elif not (data.shape[2] in (1, 3) and data.shape[0] not in (1, 3)):
        data = np.moveaxis(data, 0, -1)
    if data.size == 0:
        raise InputError(f"{where}: image has zero size ({data.shape[0]}×{data.shape[1]})")
    finite = np.isfinite(data)
    bad = int(data.size - np.count_nonzero(finite))
    if bad and nan_pixels != "zero":
        raise InputError(
            f"{where}: image has {bad} NaN or infinite pixel(s) "
            '(set data.nan_pixels = "zero" to replace them by 0)'
        )
    if bad == data.size:
        return np.zeros(data.shape, np.float32), bad
    # Halved so that the span of extreme values cannot overflow to infinity.
    half = np.where(finite, data, np.nan) / 2
    low, high = np.nanmin(half), np.nanmax(half)
    scaled = (half - low) / (high - low) if high > low else np.zeros_like(half)
    return np.clip(np.nan_to_num(scaled, nan=0.0), 0.0, 1.0).astype(np.float32), bad


def _fits_image(source: io.BytesIO, where: str) -> np.ndarray:
    """The data of the first HDU holding a 2-D or 3-D image (length-1 leading axes dropped)."""
    try:
        with fits.open(source, memmap=False) as hdus:
            for hdu in hdus:
                if not hdu.is_image or hdu.data is None:
                    continue
                array = np.asarray(hdu.data, dtype=np.float64)
                while array.ndim > 3 and array.shape[0] == 1:
                    array = array[0]
                if array.ndim in (2, 3):
                    return array
    except Exception as exc:
        raise InputError(f"{where}: corrupt or truncated FITS file ({one_line(exc)})") from None
    raise InputError(f"{where}: FITS file has no image HDU with 2-D or 3-D data")


def conform(pixels: np.ndarray, bands: int, size: int, where: str) -> np.ndarray:
    """Bring float (H, W, B) pixels in [0, 1] to (size, size, bands) float32.

    Grey from colour by averaging the bands (method §1); a grey image where colour is
    wanted is an error. A non-square image is centre-cropped to a square first (so
    that galaxies keep their axis ratio); the square is resized with Pillow's
    antialiased bilinear filter only when its side differs from ``size``.

    Raises:
        InputError: wrong band count, or zero size; the message starts with ``where``.
    """
    height, width, have = pixels.shape
    if height == 0 or width == 0:
        raise InputError(f"{where}: image has zero size ({height}×{width})")
    if have != bands:
        if bands != 1:
            raise InputError(f"{where}: image has {have} band(s) but {bands} are wanted")
        pixels = pixels.mean(axis=2, dtype=np.float64, keepdims=True)
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    pixels = pixels[top : top + side, left : left + side]
    if side != size:
        resized = np.empty((size, size, pixels.shape[2]), np.float32)
        for k in range(pixels.shape[2]):
            band = Image.fromarray(np.ascontiguousarray(pixels[..., k], dtype=np.float32))
            resized[..., k] = np.asarray(band.resize((size, size), Image.Resampling.BILINEAR))
        pixels = np.clip(resized, 0.0, 1.0)
    return np.asarray(pixels, dtype=np.float32)
