"""The paper's preprocessing of SDSS gri cutouts into 8-bit PNGs (method §1), and of FITS stamps.

For each 8-bit JPEG or PNG under the raw folder (colour or grey):

1. centre crop to ``crop`` × ``crop`` pixels (rows and columns
   ``(H − crop)//2`` onward; 32:224 for 256 → 192);
2. with ``grey``, the mean of the R, G and B values (float64, then float32);
3. resize each band to ``size`` × ``size`` with Pillow's ``BILINEAR`` filter on a
   32-bit float image (``mode "F"``): a triangle filter widened by the scale
   factor, so downscaling is antialiased; skipped when crop equals size;
4. with ``stretch``, a per-image min–max stretch to 0…255 (what the published
   download script did with ``rescale_intensity``; not in the paper text);
5. round half up and clip to 0…255, written as an 8-bit PNG (``L`` or ``RGB``), or
   packed into uint8 TFRecord shards (``output_format="tfrecord"``).

Every image HDU of a FITS file under the raw folder is one stamp: it is read as
``astrovader fit`` reads raw flux (centre crop of ``crop`` pixels, grey with
``grey``, otherwise three bands, the default ``[scaling]`` of
:mod:`astrovader.data.images.scaling`, resize to ``size``), then rounded to 8 bits.
Output names are the readers' ids (``file[EXTNAME]`` for multi-extension files).

The published download script differs from the paper text in two more ways,
not reproduced: it weighted the bands with scikit-image's ``rgb2gray`` on
OpenCV's BGR order, and it resized with scikit-image.

Outputs mirror the input tree: ``RAW/a/galaxy_587722981742084144.jpg`` becomes
``OUT/a/galaxy_587722981742084144.png``, each written atomically. With
``split_ids`` only the files whose name holds a listed SDSS OBJID are prepared:
the OBJID is the first run of 15 or more digits in the file name's stem
(DR7 OBJIDs have 18 or 19 digits).

Framework-free, except the shard writer (:mod:`astrovader.data.pipelines.shards`).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from astrovader._io import atomic_path, directory_lock, remove_stale
from astrovader._progress import progress_bar
from astrovader.data.images.decode import decode_display, decode_stamp
from astrovader.data.images.files import check_file, is_fits
from astrovader.data.images.options import ReadOptions
from astrovader.data.images.stamps import Stamp, folder_stamps
from astrovader.errors import InputError

OBJID = re.compile(r"\d{15,}")


def objid_of(path: str | os.PathLike) -> int | None:
    """The SDSS OBJID in a file name: the first run of ≥ 15 digits of the stem."""
    match = OBJID.search(Path(path).name.split(".")[0])
    return int(match.group()) if match else None


def prepare_pixels(
    pixels: np.ndarray, crop: int, *, size: int, grey: bool, stretch: bool = False
) -> np.ndarray:
    """Crop, average, resize and quantise one image (see the module docstring).

    Args:
        pixels: uint8 array (H, W, 3) or (H, W).
        crop: Side of the centre crop.
        size: Side of the output.
        grey: Average the bands.
        stretch: Min–max stretch each image to 0…255.

    Returns:
        uint8 array (size, size) when grey or the input is grey, else (size, size, 3).
    """
    height, width = pixels.shape[:2]
    if crop > min(height, width):
        raise ValueError(f"image is {height}×{width}, smaller than the {crop}-pixel crop")
    top, left = (height - crop) // 2, (width - crop) // 2
    image = pixels[top : top + crop, left : left + crop].astype(np.float64)
    if image.ndim == 2:
        image = image[..., None]
    if grey:
        image = image.mean(axis=2, keepdims=True)
    image = image.astype(np.float32)
    if crop != size:
        image = np.stack(
            [
                np.asarray(
                    Image.fromarray(np.ascontiguousarray(image[..., k])).resize(
                        (size, size), Image.Resampling.BILINEAR
                    )
                )
                for k in range(image.shape[2])
            ],
            axis=-1,
        )
    if stretch:
        low, high = float(image.min()), float(image.max())
        image = (image - low) * (255.0 / (high - low)) if high > low else np.zeros_like(image)
    out = np.clip(np.floor(image + 0.5), 0, 255).astype(np.uint8)
    return out[..., 0] if out.shape[2] == 1 else out


def prepared(task: tuple) -> np.ndarray:
    """uint8 pixels of one stamp: ``(stamp, crop, size, grey, stretch, max_pixels, max_bytes)``.

    Every file is decoded by the readers' decoders, so the pixel limit is checked
    before anything is decoded and damaged files give the readers' messages.
    """
    stamp, crop, size, grey, stretch, max_pixels, max_bytes = task
    if is_fits(stamp.path.name):
        options = ReadOptions(
            bands=1 if grey else 3, size=size, crop=crop, max_pixels=max_pixels, max_bytes=max_bytes
        )
        pixels = decode_stamp(stamp, options)[0] * 255.0
        out = np.clip(np.floor(pixels + 0.5), 0, 255).astype(np.uint8)
        return out[..., 0] if out.shape[2] == 1 else out
    check_file(stamp.path, str(stamp.path))
    pixels = (
        decode_display(stamp.path, str(stamp.path), max_pixels=max_pixels, max_bytes=max_bytes)
        * 255.0
    )
    try:
        return prepare_pixels(pixels[..., 0] if pixels.shape[2] == 1 else pixels, crop, size=size,
                              grey=grey, stretch=stretch)  # fmt: skip
    except ValueError as exc:
        raise InputError(f"{stamp.path}: cannot prepare image ({exc})") from None


def write_png(task: tuple) -> None:
    """Prepare ``(stamp, target, crop, size, grey, stretch, max_pixels, max_bytes)`` into a PNG."""
    stamp, target, *options = task
    result = prepared((stamp, *options))
    with atomic_path(target) as tmp:
        Image.fromarray(result).save(tmp, format="PNG")


__all__ = ["PrepareOptions", "Prepared", "objid_of", "prepare_directory", "prepare_pixels"]

FORMATS = ("png", "tfrecord")


@dataclass(frozen=True)
class Prepared:
    """What :func:`prepare_directory` did.

    Attributes:
        written: Images written.
        not_selected: Images left out because their OBJID is not in the split
            (or their name holds none).
        missing: OBJIDs of the split with no image.
    """

    written: int
    not_selected: int
    missing: int


def _ordered(function, tasks, workers):
    """``function`` over ``tasks``, in order, in ``workers`` processes (1: this one)."""
    if workers == 1:
        yield from map(function, tasks)
        return
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        chunk = max(1, min(64, len(tasks) // (4 * workers)))
        yield from pool.map(function, tasks, chunksize=chunk)
    finally:
        pool.shutdown(cancel_futures=True)


@dataclass(frozen=True)
class PrepareOptions:
    """How :func:`prepare_directory` prepares each image.

    Attributes:
        crop: Side of the centre crop in pixels.
        size: Side of the output in pixels.
        grey: Average the bands (the paper's mode).
        stretch: Per-image min–max stretch (the published download script).
        workers: Processes (default: all CPU cores; 1 runs in this process).
        progress: Show a progress bar.
        output_format: ``"png"`` (one file per image, the same relative names) or
            ``"tfrecord"``: uint8 shards (:mod:`astrovader.data.pipelines.shards`) with the
            ids the image readers give (relative path without suffix); the output
            must not exist or be empty, and appears complete or not at all.
        max_pixels: The most pixels one image may have (checked before decoding).
        max_bytes: The most bytes one image may hold as stored (checked before decoding).
    """

    crop: int = 192
    size: int = 128
    grey: bool = False
    stretch: bool = False
    workers: int | None = None
    progress: bool = True
    output_format: str = "png"
    max_pixels: int = 2**26
    max_bytes: int = 2**27

    def __post_init__(self):
        if self.output_format not in FORMATS:
            raise InputError(f"output format {self.output_format!r} is not one of {FORMATS}")
        if self.size <= 0 or self.crop <= 0:
            raise InputError(f"crop ({self.crop}) and size ({self.size}) must be positive")


def _sources(raw: Path, out: Path) -> list[Stamp]:
    """The JPEG, PNG and FITS stamps under ``raw`` (the readers' walk, order and ids)."""
    if not raw.is_dir():
        raise InputError(f"{raw}: not a folder")
    if out.resolve().is_relative_to(raw.resolve()):
        raise InputError(f"{out}: the output folder must not be inside {raw}")
    try:
        return folder_stamps(raw)[0]
    except InputError as exc:
        if "no images found" in str(exc):
            raise InputError(f"{raw}: no JPEG, PNG or FITS images found") from None
        raise


def _select(raw: Path, sources: list[Stamp], split_ids) -> tuple[list[Stamp], int]:
    """The stamps whose OBJID is in ``split_ids`` and the number of split OBJIDs missing."""
    if split_ids is None:
        return sources, 0
    wanted = {int(i) for i in np.asarray(split_ids).ravel()}
    found = {stamp.id: objid_of(stamp.path) for stamp in sources}
    chosen = [stamp for stamp in sources if found[stamp.id] in wanted]
    if not chosen:
        raise InputError(f"{raw}: none of the {len(sources)} images has an OBJID in the split")
    return chosen, len(wanted - set(found.values()))


def prepare_directory(
    raw: str | os.PathLike,
    out: str | os.PathLike,
    *,
    options: PrepareOptions | None = None,
    split_ids: np.ndarray | None = None,
) -> Prepared:
    """Prepare every JPEG, PNG or FITS stamp under ``raw`` into PNGs or TFRecord shards.

    Args:
        raw: Folder of cutouts, searched recursively (hidden entries ignored).
        out: Output folder (created); existing PNGs of the same name are replaced.
        options: Crop, size, bands, stretch, processes and output format.
        split_ids: SDSS OBJIDs to keep (e.g. ``np.load("gz2_train_objids.npy")``).

    Raises:
        InputError: ``raw`` is not a folder, holds no images (or none selected),
            ``out`` is inside ``raw``, two images would get one name, bad
            crop/size/format, or an unreadable image; the message names the path.
    """
    options = options or PrepareOptions()
    raw, out = Path(raw), Path(out)
    sources = _sources(raw, out)
    chosen, missing = _select(raw, sources, split_ids)
    names = [stamp.id for stamp in chosen]
    done = Prepared(len(chosen), len(sources) - len(chosen), missing)
    workers = options.workers or os.cpu_count() or 1
    limits = (options.max_pixels, options.max_bytes)
    settings = (options.crop, options.size, options.grey, options.stretch, *limits)
    if options.output_format == "tfrecord":
        from astrovader.data.pipelines.shards import write_tfrecords

        pixels = _ordered(prepared, [(p, *settings) for p in chosen], workers)
        pairs = zip(names, pixels, strict=True)
        write_tfrecords(out, pairs, count=len(chosen), progress=options.progress)
        return done
    tasks = [
        (path, out / f"{name}.png", *settings) for path, name in zip(chosen, names, strict=True)
    ]
    with (
        directory_lock(out),
        progress_bar(
            total=len(tasks), unit="img", desc="preparing", disable=not options.progress
        ) as bar,
    ):
        remove_stale(out)
        for _ in _ordered(write_png, tasks, workers):
            bar.update()
    return done
