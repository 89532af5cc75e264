"""Read galaxy cutouts stored as one NumPy ``.npy`` array (N×H×W or N×H×W×B).

uint8 and uint16 arrays are display images (value / 255, / 65535). A float array
whose finite values all lie in [0, 1] is taken as pixels already scaled; any other
float array is raw flux, scaled stamp by stamp as FITS stamps are
(:func:`astrovader.data.images.decode.raw_to_pixels`). The ids are the zero-padded row
numbers, or the lines of a companion file ``NAME_ids.txt`` (one id per line) or
the values of ``NAME_ids.npy`` beside ``NAME.npy``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrovader.data.images.decode import check_geometry, conform, raw_to_pixels, warn_odd
from astrovader.data.images.files import one_line
from astrovader.data.images.imageset import ImageSet, parallel_fill
from astrovader.errors import InputError

_CHUNK = 1024


def open_array(path: Path, options) -> np.ndarray:
    """The array memory-mapped as (N, H, W, B), after checking shape, dtype and bands.

    Raises:
        InputError: unreadable, not one array, a wrong shape or dtype, too few bands.
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
    if array.dtype not in (np.uint8, np.uint16) and array.dtype.kind != "f":
        raise InputError(
            f"{where}: unsupported dtype {array.dtype} (expected uint8, uint16 or float)"
        )
    if array.shape[3] != options.bands and options.bands != 1:
        raise InputError(
            f"{where}: array has {array.shape[3]} band(s) but {options.bands} are wanted"
        )
    height, width = array.shape[1:3]
    if height * width > options.max_pixels:
        raise InputError(
            f"{where}: {width}×{height} pixels exceed data.max_pixels = {options.max_pixels}"
        )
    if array[:1].nbytes > options.max_bytes:
        raise InputError(
            f"{where}: {array[:1].nbytes} bytes per image exceed data.max_bytes = "
            f"{options.max_bytes}"
        )
    notes: list[str] = []
    check_geometry(height, width, options=options, where=f"{where} (every image)", notes=notes)
    warn_odd(notes)
    return array


def is_display(array: np.ndarray) -> bool:
    """Whether the array holds display pixels (integers, or floats all within [0, 1])."""
    if array.dtype.kind in "ui":
        return True
    for start in range(0, array.shape[0], _CHUNK):
        chunk = np.asarray(array[start : start + _CHUNK])
        finite = chunk[np.isfinite(chunk)]
        if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
            return False
    return True


def array_ids(path: Path, count: int) -> tuple[str, ...]:
    """The ids of the rows: from ``NAME_ids.txt`` / ``NAME_ids.npy``, else zero-padded numbers.

    Raises:
        InputError: a companion file with another number of ids.
    """
    text, binary = path.with_name(f"{path.stem}_ids.txt"), path.with_name(f"{path.stem}_ids.npy")
    if text.is_file():
        ids = [line.strip() for line in text.read_text().splitlines() if line.strip()]
        where = text
    elif binary.is_file():
        ids = [str(v) for v in np.load(binary, allow_pickle=False).ravel()]
        where = binary
    else:
        width = max(6, len(str(count - 1)))
        return tuple(f"{i:0{width}d}" for i in range(count))
    if len(ids) != count:
        raise InputError(f"{where}: {len(ids)} ids for the {count} images of {path}")
    return tuple(ids)


def row_pixels(array: np.ndarray, index: int, display: bool, options, where: str):
    """One row as float pixels in [0, 1] before resizing, and its NaN pixels replaced."""
    values = np.asarray(array[index])
    if array.dtype.kind in "ui":
        return values / float(np.iinfo(array.dtype).max), 0
    if display:
        finite = np.isfinite(values)
        bad = int(values.size - np.count_nonzero(finite))
        if bad and options.nan_pixels != "zero":
            raise InputError(
                f"{where}: array has NaN or infinite values (first in image {index}; "
                'set data.nan_pixels = "zero" to replace them by 0)'
            )
        return np.where(finite, values, 0.0), bad
    return raw_to_pixels(
        values.astype(np.float64), options, pixel_scale=0.0, where=f"{where}[{index}]"
    )


def load_npy(path: Path, options, workers: int | None, progress: bool) -> ImageSet:
    """Read a ``.npy`` array of images; see :func:`astrovader.data.images.readers.load_images`.

    Raises:
        InputError: unreadable file, wrong shape or dtype, NaN or infinite values
            (unless ``nan_pixels`` is ``"zero"``), or a grey array when colour is wanted.
    """
    array = open_array(path, options)
    display = is_display(array)
    count = array.shape[0]
    images = np.empty((count, options.size, options.size, options.bands), np.float32)
    replaced = np.zeros(count, np.int64)
    where = str(path)
    if display and array.shape[1:] == images.shape[1:]:
        for start in range(0, count, _CHUNK):
            rows = range(start, min(start + _CHUNK, count))
            parts = [row_pixels(array, i, True, options, where) for i in rows]
            images[rows.start : rows.stop] = np.stack([p for p, _ in parts])
            replaced[rows.start : rows.stop] = [bad for _, bad in parts]
        return ImageSet(array_ids(path, count), images, replaced=int(replaced.sum()))

    def work(index: int) -> None:
        pixels, replaced[index] = row_pixels(array, index, display, options, where)
        images[index] = conform(pixels, options.bands, size=options.size, where=f"{where}[{index}]")

    parallel_fill(count, work, workers=workers, progress=progress)
    return ImageSet(array_ids(path, count), images, replaced=int(replaced.sum()))
