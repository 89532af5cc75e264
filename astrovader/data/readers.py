"""Read galaxy cutouts from a directory, a ``.npy`` array or one image file (method §1).

Framework-free (NumPy, Pillow, astropy): importing this module does not import
TensorFlow or Keras. Every reader returns float32 pixels in [0, 1] with shape
(size, size, bands) per image and never writes anything.

Pixel scaling:
    * 8-bit PNG and JPEG: value / 255; 16-bit PNG (grey, grey+alpha, RGB, RGBA):
      value / 65535. Alpha is dropped.
    * FITS (``.fits``, ``.fit``, ``.fts``, optionally gzipped): the first HDU with 2-D
      or 3-D image data, min-max scaled per image to [0, 1] over all its bands
      together (a constant image becomes all zeros). Cubes are read bands-first
      (B, H, W), as astronomers write them; (H, W, B) is accepted when the last axis
      has length 1 or 3 and the first does not. Rows are kept in file order.
    * ``.npy``: uint8 / 255, uint16 / 65535, floats must already lie in [0, 1].

NaN or infinite pixels (FITS, float ``.npy``) are an error, or with
``nan_pixels="zero"`` they become 0 and the other pixels are scaled without them.

Bands and size: grey is made from colour by averaging the bands (method §1), so a
colour image where grey is wanted is no error; a grey image where colour is wanted
is one. Non-square images are centre-cropped to a square, then resized with an
antialiased bilinear filter only if the side differs.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from astrovader.config.rules import NAN_PIXELS_RULE
from astrovader.data._decode import (
    IMAGE_SUFFIXES,
    conform,
    decode,
    image_suffix,
)
from astrovader.data.folders import find_images, image_ids, scan_folder
from astrovader.data.imageset import ImageSet, parallel_fill
from astrovader.errors import InputError

__all__ = ["IMAGE_SUFFIXES", "ImageSet", "find_images", "load_images", "read_image"]


def _check_args(bands: int, size: int, nan_pixels: str = "error") -> None:
    if bands not in (1, 3):
        raise InputError(f"bands must be 1 (grey) or 3 (colour), got {bands!r}")
    if not isinstance(size, int | np.integer) or size <= 0:
        raise InputError(f"image size must be a positive integer, got {size!r}")
    try:
        NAN_PIXELS_RULE.check("nan_pixels", nan_pixels)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _read(path: Path, bands: int, size: int, nan_pixels: str) -> tuple[np.ndarray, int]:
    """One image conformed to (size, size, bands), and its count of replaced pixels."""
    pixels, replaced = decode(path, nan_pixels)
    return conform(pixels, bands, size, str(path)), replaced


def read_image(
    path: str | os.PathLike, bands: int, size: int, nan_pixels: str = "error"
) -> np.ndarray:
    """Read one PNG, JPEG or FITS file (see the module docstring for the scaling).

    Args:
        path: The image file.
        bands: 1 for grey (colour images are averaged) or 3 for colour.
        size: Side of the square output in pixels.
        nan_pixels: ``"error"`` or ``"zero"`` (NaN or infinite FITS pixels become 0).

    Returns:
        float32 array (size, size, bands) with values in [0, 1].

    Raises:
        InputError: missing, unreadable or empty file; corrupt or truncated PNG or
            JPEG (the whole image is decoded); zero-size image; FITS file without
            an image HDU; NaN or infinite pixels; a grey image when ``bands`` is 3;
            interlaced 16-bit colour PNG. The message starts with the path.
    """
    _check_args(bands, size, nan_pixels)
    return _read(Path(path), bands, size, nan_pixels)[0]


def _load_directory(root: Path, bands, size, workers, progress, strict, nan_pixels) -> ImageSet:
    paths, others = scan_folder(root)
    if others and strict:
        raise InputError(
            f"{others[0]}: not an image file, and strict checking refuses non-image files "
            f"in {root} ({len(others)} found)"
        )
    if not paths:
        raise InputError(f"{root}: no images found ({len(others)} other file(s) skipped)")
    ids = image_ids(root, paths)
    images = np.empty((len(paths), size, size, bands), np.float32)
    replaced = np.zeros(len(paths), np.int64)

    def work(index: int) -> None:
        images[index], replaced[index] = _read(paths[index], bands, size, nan_pixels)

    parallel_fill(len(paths), work, workers, progress)
    return ImageSet(tuple(ids), images, len(others), int(replaced.sum()))


def load_images(
    path: str | os.PathLike,
    bands: int,
    size: int,
    workers: int | None = None,
    progress: bool = True,
    strict: bool = False,
    nan_pixels: str = "error",
) -> ImageSet:
    """Read a directory of images, a ``.npy`` array or one image file.

    Args:
        path: A directory (searched recursively, see :func:`find_images`), a
            ``.npy`` file holding N×H×W or N×H×W×B pixels, or one image file.
        bands: 1 (grey) or 3 (colour).
        size: Side of the square output images in pixels.
        workers: Threads decoding in parallel (default: the executor's default).
        progress: Show a progress bar.
        strict: Refuse a directory holding non-image files (by default they are
            skipped and counted in ``ImageSet.skipped``).
        nan_pixels: ``"error"``, or ``"zero"`` to replace NaN and infinite pixels by
            0 (counted in ``ImageSet.replaced``).

    Returns:
        The images, float32 (N, size, size, bands) in [0, 1], with their ids.

    Raises:
        InputError: a missing path, a directory without images, duplicate ids, a
            non-image file under ``strict``, or any error of :func:`read_image` or
            of the ``.npy`` checks; the message names the file.
    """
    _check_args(bands, size, nan_pixels)
    path = Path(path)
    # Library warnings (astropy fixing headers) would only repeat what errors say.
    # The filters are process-wide, so only this entry point, not read_image, sets them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path.is_dir():
            return _load_directory(path, bands, size, workers, progress, strict, nan_pixels)
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if path.suffix.lower() == ".npy":
            from astrovader.data._npy import load_npy

            return load_npy(path, bands, size, workers, progress, nan_pixels)
        suffix = image_suffix(path.name)
        if suffix is None:
            raise InputError(
                f"{path}: not a directory, .npy array or image ({', '.join(IMAGE_SUFFIXES)})"
            )
        image, replaced = _read(path, bands, size, nan_pixels)
        return ImageSet((path.name[: -len(suffix)],), image[None], replaced=replaced)
