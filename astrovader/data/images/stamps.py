"""Stamps: the single images a folder, a file or a catalogue holds, with their ids (framework-free).

A stamp is one image to read: a PNG or JPEG file, one image HDU of a FITS file
(see :mod:`astrovader.data.images.fits`), or one row of a ``.npy`` array named by
a catalogue. Folders are walked by :func:`astrovader.data.images.files.scan_folder`;
FITS files without image data (catalogue tables) are skipped and counted like
other non-image files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from astrovader.data.images import fits as fits_stamps
from astrovader.data.images.files import image_id, is_fits, scan_folder
from astrovader.errors import InputError

__all__ = ["Stamp", "file_stamps", "folder_stamps", "unique"]


@dataclasses.dataclass(frozen=True)
class Stamp:
    """One image to read.

    Attributes:
        id: Its identifier.
        path: The file.
        hdu: The FITS HDU (None: the file's only image HDU) or the row of a ``.npy`` array.
        pixel_scale: Arcseconds per pixel from a catalogue (0: unknown).
        bands: ``(path, hdu)`` of each further band of a multi-band stamp read from
            per-band files (:mod:`astrovader.data.images.band_stack`), in order.
        noise: The sky's noise standard deviation from a catalogue (0: measured).
    """

    id: str
    path: Path
    hdu: int | None = None
    pixel_scale: float = 0.0
    bands: tuple = ()
    noise: float = 0.0


def file_stamps(path: Path, file_id: str) -> list[Stamp]:
    """The stamps of one image file (several for a multi-extension FITS file, none for a table)."""
    if not is_fits(path.name):
        return [Stamp(file_id, path)]
    hdus = fits_stamps.image_hdus(path)
    if len(hdus) == 1:
        return [Stamp(file_id, path)]
    names = fits_stamps.stamp_ids(file_id, hdus)
    return [Stamp(name, path, index) for name, (index, _) in zip(names, hdus, strict=True)]


def unique(stamps: list[Stamp]) -> list[Stamp]:
    """``stamps``, after checking that no two share an id.

    Raises:
        InputError: two stamps with one id, naming both files.
    """
    seen: dict[str, Stamp] = {}
    for stamp in stamps:
        if stamp.id in seen:
            raise InputError(f"{stamp.path}: same id {stamp.id!r} as {seen[stamp.id].path}")
        seen[stamp.id] = stamp
    return stamps


def folder_stamps(root: Path, strict: bool = False) -> tuple[list[Stamp], int]:
    """Every stamp under ``root`` (sorted by relative path, then HDU) and the files skipped.

    Args:
        root: The folder, searched recursively (hidden entries ignored).
        strict: Refuse non-image files (and FITS files without image data) and
            symbolic links to folders.

    Raises:
        InputError: a non-image file or linked folder under ``strict``, no stamps, duplicate ids,
            an unreadable folder or FITS file.
    """
    paths, others = scan_folder(root, strict)
    stamps, tables = [], []
    for path in paths:
        found = file_stamps(path, image_id(root, path))
        stamps.extend(found)
        if not found:
            tables.append(path)
    skipped = [*others, *tables]
    if skipped and strict:
        raise InputError(
            f"{skipped[0]}: not an image file, and strict checking refuses non-image files "
            f"in {root} ({len(skipped)} found)"
        )
    if not stamps:
        raise InputError(f"{root}: no images found ({len(skipped)} other file(s) skipped)")
    return unique(stamps), len(skipped)
