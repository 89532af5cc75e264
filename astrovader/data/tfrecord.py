"""Packed uint8 TFRecord shards: decode the survey once, then stream it every epoch.

A TFRecord dataset is a directory holding ``manifest.json`` and shards
``shard-00000.tfrecord``, ``shard-00001.tfrecord`` … of ``tf.train.Example``
records with three features: ``id`` (bytes), ``index`` (int64, the position in
the written order) and ``image`` (the S·S·B uint8 pixels, row-major H, W, B).
The manifest holds ``count``, ``image_size``, ``bands``, ``max_id_length`` and
the shards with their record counts. Pixels are stored as round(255·x), so an
8-bit source (PNG, JPEG, uint8 ``.npy``) round-trips exactly: reading gives the
float32 value/255 that the image readers give. The ``tf.data`` readers are in
:mod:`astrovader.data.tfrecord_datasets`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import tensorflow as tf

from astrovader._io import atomic_dir, output_lock
from astrovader._progress import progress_bar
from astrovader.data._files import TFRECORD_MANIFEST
from astrovader.data._files import is_tfrecord_dir as is_tfrecord_dir
from astrovader.data.folders import find_images, image_id
from astrovader.data.imageset import ImageSet
from astrovader.errors import InputError

MANIFEST = TFRECORD_MANIFEST
FORMAT = "astrovader-tfrecord"
SHARD_BYTES = 128 * 2**20


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] as uint8 round(255·x) (the inverse of the readers' value/255)."""
    return np.rint(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def _pairs(source) -> Iterable[tuple[str, np.ndarray]]:
    if isinstance(source, ImageSet):
        for start in range(0, len(source), 1024):
            chunk = to_uint8(source.images[start : start + 1024])
            yield from zip(source.ids[start : start + 1024], chunk, strict=True)
    else:
        yield from source


def _example(image_id: str, index: int, pixels: np.ndarray) -> bytes:
    feature = {
        "id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_id.encode()])),
        "index": tf.train.Feature(int64_list=tf.train.Int64List(value=[index])),
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[pixels.tobytes()])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_tfrecords(
    out: str | os.PathLike,
    source,
    count: int | None = None,
    shard_bytes: int = SHARD_BYTES,
    progress: bool = True,
) -> Path:
    """Write images as uint8 TFRecord shards, in bounded memory, atomically.

    Args:
        out: The dataset directory to create (must not exist, or be empty).
        source: An :class:`~astrovader.data.readers.ImageSet` (floats in [0, 1]) or
            an iterable of ``(id, pixels)`` with uint8 pixels (S, S) or (S, S, B).
        count: Number of images, for the progress bar (known for an ImageSet).
        shard_bytes: Pixel bytes per shard (128 MiB by default).
        progress: Show a progress bar.

    Returns:
        ``out``; the shards and manifest appear there together when all is written.

    Raises:
        InputError: ``out`` is not empty, the source is empty, or an image is not
            uint8 or differs in shape from the first (the message names its id).
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: exists and is not an empty directory")
    if isinstance(source, ImageSet):
        count = len(source)
    with output_lock(out), atomic_dir(out) as tmp:
        manifest = _write_shards(tmp, _pairs(source), count, shard_bytes, progress)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return out


def _write_shards(tmp: Path, pairs, count, shard_bytes, progress) -> dict:
    shards: list[dict] = []
    shape, writer, index, max_id = None, None, 0, 0
    per_shard = 1
    with progress_bar(
        total=count, desc="writing TFRecords", unit="img", disable=not progress
    ) as bar:
        for image_id, pixels in pairs:
            pixels = np.asarray(pixels)
            pixels = pixels[..., None] if pixels.ndim == 2 else pixels
            if shape is None:
                shape = pixels.shape
                per_shard = max(1, shard_bytes // pixels.nbytes)
            if pixels.dtype != np.uint8 or pixels.shape != shape or shape[0] != shape[1]:
                raise InputError(
                    f"{image_id}: expected uint8 pixels of shape {shape} (square), got "
                    f"{pixels.dtype} {pixels.shape}"
                )
            if index % per_shard == 0:
                if writer is not None:
                    writer.close()
                shards.append({"file": f"shard-{len(shards):05d}.tfrecord", "count": 0})
                writer = tf.io.TFRecordWriter(str(tmp / shards[-1]["file"]))
            writer.write(_example(str(image_id), index, pixels))
            shards[-1]["count"] += 1
            max_id = max(max_id, len(str(image_id).encode()))
            index += 1
            bar.update()
    if writer is None:
        raise InputError("no images to write")
    writer.close()
    return {
        "format": FORMAT,
        "version": 1,
        "count": index,
        "image_size": shape[0],
        "bands": shape[2],
        "max_id_length": max_id,
        "shards": shards,
    }


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of a TFRecord dataset directory.

    Raises:
        InputError: no manifest, or not one of this format.
    """
    file = Path(path) / MANIFEST
    try:
        manifest = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{file}: not a readable TFRecord manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{file}: not an {FORMAT} manifest")
    return manifest


def pack_folder(
    folder: str | os.PathLike,
    out: str | os.PathLike,
    shard_bytes: int = SHARD_BYTES,
    progress: bool = True,
) -> Path:
    """Pack a folder of 8-bit PNG/JPEG images (e.g. ``astrovader prepare``'s) into shards.

    Images are read one at a time as they are stored (grey "L" or "RGB", no
    resizing), in sorted order, with the ids of
    :func:`~astrovader.data.readers.load_images` (relative path without suffix).

    Raises:
        InputError: no images, or an image that is not 8-bit grey or RGB (named).
    """
    from PIL import Image

    folder = Path(folder)
    paths, _ = find_images(folder)
    if not paths:
        raise InputError(f"{folder}: no images found")

    def pairs():
        for path in paths:
            with Image.open(path) as image:
                if image.mode not in ("L", "RGB"):
                    raise InputError(f"{path}: not an 8-bit grey or RGB image ({image.mode})")
                pixels = np.asarray(image)
            yield image_id(folder, path), pixels

    return write_tfrecords(out, pairs(), len(paths), shard_bytes, progress)
