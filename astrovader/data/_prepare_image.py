"""One image of ``astrovader prepare``: the paper's crop, grey and resize, or FITS scaling.

Framework-free; see :mod:`astrovader.data.prepare` for the steps.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from PIL import Image

from astrovader._io import atomic_path
from astrovader.data._decode import decode_display, decode_stamp
from astrovader.data._files import check_file, is_fits
from astrovader.data.reading import ReadOptions
from astrovader.errors import InputError

OBJID = re.compile(r"\d{15,}")


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
    pixels = decode_display(stamp.path, str(stamp.path), max_pixels, max_bytes) * 255.0
    try:
        return prepare_pixels(pixels[..., 0] if pixels.shape[2] == 1 else pixels, crop, size,
                              grey, stretch)  # fmt: skip
    except ValueError as exc:
        raise InputError(f"{stamp.path}: cannot prepare image ({exc})") from None


def write_png(task: tuple) -> None:
    """Prepare ``(stamp, target, crop, size, grey, stretch, max_pixels, max_bytes)`` into a PNG."""
    stamp, target, *options = task
    result = prepared((stamp, *options))
    with atomic_path(target) as tmp:
        Image.fromarray(result).save(tmp, format="PNG")
