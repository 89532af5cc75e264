"""Read galaxy cutouts stored as one NumPy ``.npy`` array (N×H×W or N×H×W×B)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrovader.data._decode import conform, one_line
from astrovader.data.imageset import ImageSet, parallel_fill
from astrovader.errors import InputError

_CHUNK = 1024


def _scale(array: np.ndarray, where: str, nan_pixels: str) -> tuple[float, int]:
    """The divisor that maps the values to [0, 1] and the count of non-finite values.

    Raises:
        InputError: an unsupported dtype, non-finite values under ``"error"``, or
            float values outside [0, 1]; the message names the first bad image.
    """
    if array.dtype == np.uint8:
        return 255.0, 0
    if array.dtype == np.uint16:
        return 65535.0, 0
    if array.dtype.kind != "f":
        raise InputError(
            f"{where}: unsupported dtype {array.dtype} (expected uint8, uint16 or float)"
        )
    low, high, bad = np.inf, -np.inf, 0
    for start in range(0, array.shape[0], _CHUNK):
        chunk = np.asarray(array[start : start + _CHUNK])
        finite = np.isfinite(chunk)
        if not finite.all():
            first = start + int(np.argmin(finite.reshape(len(chunk), -1).all(axis=1)))
            if nan_pixels != "zero":
                raise InputError(
                    f"{where}: array has NaN or infinite values (first in image {first}; "
                    'set data.nan_pixels = "zero" to replace them by 0)'
                )
            bad += int(finite.size - np.count_nonzero(finite))
        if finite.any():
            low = min(low, float(chunk[finite].min()))
            high = max(high, float(chunk[finite].max()))
    if low < 0.0 or high > 1.0:
        raise InputError(
            f"{where}: float values must lie in [0, 1] but range from {low:g} to {high:g}"
        )
    return 1.0, bad


def _pixels(values: np.ndarray, divisor: float) -> np.ndarray:
    """Values divided by ``divisor``, NaN and infinities as 0 (float64)."""
    scaled = np.asarray(values, np.float64) / divisor
    return np.nan_to_num(scaled, copy=False, nan=0.0, posinf=0.0, neginf=0.0)


def load_npy(
    path: Path,
    bands: int,
    size: int,
    workers: int | None,
    progress: bool,
    nan_pixels: str = "error",
) -> ImageSet:
    """Read a ``.npy`` array of images; see :func:`astrovader.data.readers.load_images`.

    Raises:
        InputError: unreadable file, wrong shape or dtype, values out of range,
            NaN or infinite values (unless ``nan_pixels`` is ``"zero"``), or a grey
            array when colour is wanted.
    """
    where = str(path)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        raise InputError(f"{where}: cannot read .npy array ({one_line(exc)})") from None
    if not isinstance(array, np.ndarray):
        raise InputError(f"{where}: cannot read .npy array (not a single array)")
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or 0 in array.shape:
        raise InputError(
            f"{where}: expected an N×H×W or N×H×W×B array of images, got shape {array.shape}"
        )
    count, height, width, have = array.shape
    if have != bands and bands != 1:
        raise InputError(f"{where}: array has {have} band(s) but {bands} are wanted")
    divisor, replaced = _scale(array, where, nan_pixels)
    images = np.empty((count, size, size, bands), np.float32)
    if (height, width, have) == (size, size, bands):
        for start in range(0, count, _CHUNK):
            images[start : start + _CHUNK] = _pixels(array[start : start + _CHUNK], divisor)
    else:

        def work(index: int) -> None:
            pixels = _pixels(array[index], divisor)
            images[index] = conform(pixels, bands, size, f"{where}[{index}]")

        parallel_fill(count, work, workers, progress)
    width_ids = max(6, len(str(count - 1)))
    return ImageSet(tuple(f"{i:0{width_ids}d}" for i in range(count)), images, replaced=replaced)
