"""The paper's preprocessing of SDSS gri cutouts into 8-bit PNGs (SPEC §1).

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

The published download script differs from the paper text in two more ways,
not reproduced: it weighted the bands with scikit-image's ``rgb2gray`` on
OpenCV's BGR order, and it resized with scikit-image.

Outputs mirror the input tree: ``RAW/a/galaxy_587722981742084144.jpg`` becomes
``OUT/a/galaxy_587722981742084144.png``, each written atomically. With
``split_ids`` only the files whose name holds a listed SDSS OBJID are prepared:
the OBJID is the first run of 15 or more digits in the file name's stem
(DR7 OBJIDs have 18 or 19 digits).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from astrovader._io import atomic_path
from astrovader.errors import InputError

SUFFIXES = (".jpg", ".jpeg", ".png")
FORMATS = ("png", "tfrecord")
OBJID = re.compile(r"\d{15,}")


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


def objid_of(path: str | os.PathLike) -> int | None:
    """The SDSS OBJID in a file name: the first run of ≥ 15 digits of the stem."""
    match = OBJID.search(Path(path).name.split(".")[0])
    return int(match.group()) if match else None


def prepare_pixels(
    pixels: np.ndarray, crop: int, size: int, grey: bool, stretch: bool = False
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


def _prepared(task: tuple[Path, int, int, bool, bool]) -> np.ndarray:
    source, crop, size, grey, stretch = task
    try:
        with Image.open(source) as image:
            if image.mode not in ("L", "RGB"):
                image = image.convert("RGB")
            pixels = np.asarray(image)
        return prepare_pixels(pixels, crop, size, grey, stretch)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"{source}: cannot prepare image ({' '.join(str(exc).split())})") from None


def _write_png(task: tuple[Path, Path, int, int, bool, bool]) -> None:
    source, target, *options = task
    result = _prepared((source, *options))
    with atomic_path(target) as tmp:
        Image.fromarray(result).save(tmp, format="PNG")


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


def prepare_directory(
    raw: str | os.PathLike,
    out: str | os.PathLike,
    crop: int = 192,
    size: int = 128,
    grey: bool = False,
    split_ids: np.ndarray | None = None,
    stretch: bool = False,
    workers: int | None = None,
    progress: bool = True,
    output_format: str = "png",
) -> Prepared:
    """Prepare every JPEG/PNG under ``raw`` into PNGs, or TFRecord shards, under ``out``.

    Args:
        raw: Folder of cutouts, searched recursively (hidden entries ignored).
        out: Output folder (created); existing PNGs of the same name are replaced.
        crop: Side of the centre crop in pixels.
        size: Side of the output in pixels.
        grey: Average the bands (the paper's mode).
        split_ids: SDSS OBJIDs to keep (e.g. ``np.load("gz2_train_objids.npy")``).
        stretch: Per-image min–max stretch (the published download script).
        workers: Processes (default: all CPU cores; 1 runs in this process).
        progress: Show a progress bar.
        output_format: ``"png"`` (one file per image, the same relative names) or
            ``"tfrecord"``: uint8 shards (:mod:`astrovader.data.tfrecord`) with the
            ids the image readers give (relative path without suffix); ``out`` must
            not exist or be empty, and appears complete or not at all.

    Raises:
        InputError: ``raw`` is not a folder, holds no images (or none selected),
            ``out`` is inside ``raw``, bad crop/size/format, or an unreadable image;
            the message names the path.
    """
    raw, out = Path(raw), Path(out)
    if output_format not in FORMATS:
        raise InputError(f"output format {output_format!r} is not one of {FORMATS}")
    if not raw.is_dir():
        raise InputError(f"{raw}: not a folder")
    if size <= 0 or crop <= 0:
        raise InputError(f"crop ({crop}) and size ({size}) must be positive")
    if out.resolve().is_relative_to(raw.resolve()):
        raise InputError(f"{out}: the output folder must not be inside {raw}")
    sources = sorted(
        path
        for path in raw.rglob("*")
        if path.suffix.lower() in SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(raw).parts)
    )
    if not sources:
        raise InputError(f"{raw}: no JPEG or PNG images found")
    total, missing = len(sources), 0
    if split_ids is not None:
        wanted = {int(i) for i in np.asarray(split_ids).ravel()}
        found = {path: objid_of(path) for path in sources}
        sources = [path for path in sources if found[path] in wanted]
        missing = len(wanted - set(found.values()))
        if not sources:
            raise InputError(f"{raw}: none of the {total} images has an OBJID in the split")
    names = [path.relative_to(raw).with_suffix("") for path in sources]
    twice = [name for name, count in Counter(names).items() if count > 1]
    if twice:
        raise InputError(f"{raw / twice[0]}: two input images would both be written as this")
    workers = workers or os.cpu_count() or 1
    done = Prepared(len(sources), total - len(sources), missing)
    if output_format == "tfrecord":
        from astrovader.data.tfrecord import write_tfrecords

        pixels = _ordered(_prepared, [(p, crop, size, grey, stretch) for p in sources], workers)
        ids = (name.as_posix() for name in names)
        write_tfrecords(out, zip(ids, pixels, strict=True), len(sources), progress=progress)
        return done
    tasks = [
        (path, out / name.parent / f"{name.name}.png", crop, size, grey, stretch)
        for path, name in zip(sources, names, strict=True)
    ]
    with tqdm(total=len(tasks), unit="img", desc="preparing", disable=not progress) as bar:
        for _ in _ordered(_write_png, tasks, workers):
            bar.update()
    return done
