"""Read galaxy cutouts from a folder, a catalogue, a ``.npy`` array or one file (method §1).

Framework-free (NumPy, Pillow, astropy): importing this module does not import
TensorFlow or Keras. Every reader returns float32 pixels in [0, 1] with shape
(size, size, bands) per image and never writes anything.

What is read:
    * a folder, recursively: PNG, JPEG and FITS files; every image HDU of a FITS
      file is one stamp (:mod:`astrovader.data.images.fits`); other files, FITS
      tables included, are skipped and counted (or refused with ``strict``);
    * a catalogue (FITS table, CSV, ECSV; :mod:`astrovader.data.images.catalogue`): the
      stamps its rows name, with their ids, RA/Dec and requested columns;
    * a ``.npy`` array (:mod:`astrovader.data.images._npy`);
    * one image file (a multi-extension FITS file gives all its stamps).

Pixel scaling: 8-bit PNG and JPEG value / 255; 16-bit PNG value / 65535 (alpha is
dropped); raw flux (FITS, float arrays outside [0, 1]) by the ``[scaling]``
section (:mod:`astrovader.data.images.scaling`). NaN or infinite pixels are an error, or
with ``nan_pixels="zero"`` they become 0 and are left out of the scaling.

Geometry: the centre crop of ``crop`` pixels or ``crop_arcsec`` arcseconds, grey
made from colour by averaging the bands (a grey image where colour is wanted is
an error), the largest centred square, then an antialiased bilinear resize to
``size`` if the side differs.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from astrovader.data.images.catalogue import is_catalogue, read_catalogue
from astrovader.data.images.decode import decode_stamp, warn_odd
from astrovader.data.images.files import IMAGE_SUFFIXES, data_kind, find_images, image_suffix
from astrovader.data.images.imageset import Geometry, ImageSet, parallel_fill
from astrovader.data.images.options import ReadOptions
from astrovader.data.images.stamps import Stamp, file_stamps, folder_stamps
from astrovader.errors import InputError, only_own_warnings

__all__ = [
    "IMAGE_SUFFIXES",
    "ImageSet",
    "ReadOptions",
    "find_images",
    "find_stamps",
    "global_limits",
    "load_images",
    "read_image",
]


def options_of(options: ReadOptions | None, bands=None, size=None, **fields) -> ReadOptions:
    """``options`` (or the defaults) with the given fields replaced."""
    given = {k: v for k, v in {"bands": bands, "size": size, **fields}.items() if v is not None}
    return dataclasses.replace(options or ReadOptions(), **given)


@dataclasses.dataclass(frozen=True)
class Found:
    """The stamps of a data path (not a ``.npy`` array).

    Attributes:
        stamps: The stamps, in reading order.
        skipped: Non-image files skipped in a folder.
        columns: Catalogue columns (``ra``, ``dec``, extras), aligned with the stamps.
    """

    stamps: list[Stamp]
    skipped: int = 0
    columns: dict = dataclasses.field(default_factory=dict)


def find_stamps(path: str | os.PathLike, options: ReadOptions) -> Found:
    """The stamps a folder, a catalogue or one image file holds.

    Raises:
        InputError: a missing path, nothing to read, or an unreadable folder or table.
    """
    path = Path(path)
    if path.is_dir():
        return Found(*folder_stamps(path, options.strict))
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if is_catalogue(path):
        stamps, columns = read_catalogue(path, options.catalog)
        return Found(stamps, 0, columns)
    suffix = image_suffix(path.name)
    if suffix is None:
        raise InputError(
            f"{path}: not a directory, catalogue, .npy array or image ({', '.join(IMAGE_SUFFIXES)})"
        )
    return Found(file_stamps(path, path.name[: -len(suffix)]))


def read_stamps(stamps, options: ReadOptions, *, workers=None, progress=True):
    """Decode stamps in parallel: images (N, S, S, B), the NaN pixels replaced, the geometry.

    The geometry is a :class:`~astrovader.data.images.imageset.Geometry` of the raw-flux
    stamps (their side and pixel scale before the crop, and which were padded).
    """
    n = len(stamps)
    images = np.empty((n, options.size, options.size, options.bands), np.float32)
    replaced = np.zeros(n, np.int64)
    sides, scales, padded = np.zeros(n, np.int64), np.zeros(n), np.zeros(n, bool)

    notes: list[str] = []

    def work(index: int) -> None:
        info: dict = {}
        images[index], replaced[index] = decode_stamp(
            stamps[index], options, notes=notes, info=info
        )
        if info:
            sides[index], scales[index], padded[index] = info["side"], info["scale"], info["padded"]

    parallel_fill(n, work, workers=workers, progress=progress)
    warn_odd(notes)
    return images, int(replaced.sum()), Geometry(sides, scales, padded)


def read_image(path: str | os.PathLike, bands=None, *, size=None, options=None, **fields):
    """Read one PNG, JPEG or FITS image (the first stamp of a multi-extension file).

    Args:
        path: The image file.
        bands: 1 for grey (colour images are averaged) or 3 for colour.
        size: Side of the square output in pixels.
        options: A :class:`~astrovader.data.images.options.ReadOptions` (defaults otherwise).
        **fields: Further ``ReadOptions`` fields (``nan_pixels``, ``scaling``, …).

    Returns:
        float32 array (size, size, bands) with values in [0, 1].

    Raises:
        InputError: missing, unreadable or empty file; corrupt or truncated image;
            zero-size or too large; FITS file without an image HDU; NaN or infinite
            pixels; a grey image when ``bands`` is 3. The message starts with the path.
    """
    options = options_of(options, bands, size, **fields)
    path = Path(path)
    return decode_stamp(Stamp(path.name, path), options)[0]


def load_images(
    path: str | os.PathLike,
    bands=None,
    *,
    size=None,
    workers: int | None = None,
    progress: bool = True,
    options: ReadOptions | None = None,
    **fields,
) -> ImageSet:
    """Read a folder of images, a catalogue, a ``.npy`` array or one image file.

    Args:
        path: What to read (see the module docstring).
        bands: 1 (grey) or 3 (colour).
        size: Side of the square output images in pixels.
        workers: Threads decoding in parallel (default: the executor's default).
        progress: Show a progress bar.
        options: A :class:`~astrovader.data.images.options.ReadOptions` (defaults otherwise).
        **fields: Further ``ReadOptions`` fields (``strict``, ``nan_pixels``, …).

    Returns:
        The images, float32 (N, size, size, bands) in [0, 1], with their ids, the
        number of files skipped and NaN pixels replaced, and catalogue columns.

    Raises:
        InputError: a missing path, nothing to read, duplicate ids, a non-image file
            under ``strict``, or any error of a stamp; the message names the file.
    """
    options = options_of(options, bands, size, **fields)
    path = Path(path)
    # Library warnings (astropy fixing headers) would only repeat what errors say.
    with only_own_warnings():
        if data_kind(path) == "array":
            if not path.exists():
                raise InputError(f"{path}: no such file or directory")
            from astrovader.data.images._npy import load_npy

            return load_npy(path, options, workers, progress)
        found = find_stamps(path, options)
        images, replaced, geometry = read_stamps(
            found.stamps, options, workers=workers, progress=progress
        )
    ids = tuple(stamp.id for stamp in found.stamps)
    return ImageSet(ids, images, found.skipped, replaced, found.columns, geometry)


def global_limits(path: str | os.PathLike, options: ReadOptions) -> tuple[float, float] | None:
    """One interval for every raw stamp of ``path`` (``scaling.scope = "global"``).

    Measured on at most ``scaling.sample`` stamps drawn with a fixed seed
    (:func:`astrovader.data.images.scaling.measure_limits`); None when ``path`` holds no
    raw flux (PNG, JPEG, integer or [0, 1] arrays).
    """
    from astrovader.data.images import _npy
    from astrovader.data.images.decode import prepare_raw, raw_stamp
    from astrovader.data.images.scaling import measure_limits

    path, rng = Path(path), np.random.default_rng(0)
    with only_own_warnings():
        if data_kind(path) == "array":
            array = _npy.open_array(path, options)
            if _npy.is_display(array):
                return None
            rows = np.sort(rng.choice(len(array), min(len(array), options.scaling.sample), False))
            raws = [
                prepare_raw(
                    np.asarray(array[i], np.float64), options, pixel_scale=0.0, where=str(path)
                )
                for i in rows
            ]
        else:
            stamps = find_stamps(path, options).stamps
            picked = rng.choice(len(stamps), min(len(stamps), options.scaling.sample), False)
            raws = [
                r for r in (raw_stamp(stamps[i], options) for i in np.sort(picked)) if r is not None
            ]
    return measure_limits(raws, options.scaling) if raws else None
