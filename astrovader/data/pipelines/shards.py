"""Packed uint8 TFRecord shards: decode the survey once, then stream it every epoch.

A TFRecord dataset is a directory holding ``manifest.json`` and shards
``shard-00000.tfrecord``, ``shard-00001.tfrecord`` … of ``tf.train.Example``
records with three features: ``id`` (bytes), ``index`` (int64, the position in
the written order) and ``image`` (the S·S·B uint8 pixels, row-major H, W, B).
The manifest holds ``count``, ``image_size``, ``bands``, ``max_id_length`` and
the shards with their record counts. Pixels are stored as round(255·x), so an
8-bit source (PNG, JPEG, uint8 ``.npy``) round-trips exactly: reading gives the
float32 value/255 that the image readers give.

The ``tf.data`` readers read the shards in parallel and decode them batch by batch
from uint8 to float32/255: the expensive image decoding happened once, when the
shards were written.
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
from astrovader.data.images.files import TFRECORD_MANIFEST, find_images, image_id
from astrovader.data.images.imageset import ImageSet
from astrovader.data.pipelines.memory import (
    EpochCounter,
    augment,
    batch_key,
    keyed,
    shuffled_blocks,
)
from astrovader.errors import InputError

__all__ = [
    "pack_folder",
    "read_manifest",
    "shard_evaluation_dataset",
    "shard_training_dataset",
    "to_uint8",
    "write_tfrecords",
]

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
    *,
    count: int | None = None,
    shard_bytes: int = SHARD_BYTES,
    progress: bool = True,
) -> Path:
    """Write images as uint8 TFRecord shards, in bounded memory, atomically.

    Args:
        out: The dataset directory to create (must not exist, or be empty).
        source: An :class:`~astrovader.data.images.readers.ImageSet` (floats in [0, 1]) or
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
    *,
    shard_bytes: int = SHARD_BYTES,
    progress: bool = True,
) -> Path:
    """Pack a folder of 8-bit PNG/JPEG images (e.g. ``astrovader prepare``'s) into shards.

    Images are read one at a time as they are stored (grey "L" or "RGB", no
    resizing), in sorted order, with the ids of
    :func:`~astrovader.data.images.readers.load_images` (relative path without suffix).

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

    return write_tfrecords(
        out, pairs(), count=len(paths), shard_bytes=shard_bytes, progress=progress
    )


SHUFFLE_RECORDS = 8192
_FEATURES = {
    "id": tf.io.FixedLenFeature([], tf.string),
    "index": tf.io.FixedLenFeature([], tf.int64),
    "image": tf.io.FixedLenFeature([], tf.string),
}


def _files(path, manifest) -> list[str]:
    return [str(Path(path) / shard["file"]) for shard in manifest["shards"]]


def _records(files, manifest, order_key=None, keep=None, workers=1):
    """Parsed records (id, index, uint8 image) from the shards, in order unless shuffled.

    With ``order_key`` (a stateless key) the shard order is shuffled and shards
    are read eight at a time, record by record. A multi-worker strategy gives each
    worker its own shards (FILE sharding); with fewer shards than ``workers``,
    every worker reads every shard and keeps its part of the batches (DATA sharding).
    """
    block = max(shard["count"] for shard in manifest["shards"])
    ds = tf.constant(files)
    if order_key is not None:
        ds = tf.random.experimental.stateless_shuffle(ds, order_key)
        block = 1
    ds = tf.data.Dataset.from_tensor_slices(ds).interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(len(files), 8),
        block_length=block,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    ds = ds.map(lambda r: tf.io.parse_single_example(r, _FEATURES), tf.data.AUTOTUNE)
    if keep is not None:
        mask = tf.constant(np.asarray(keep, dtype=bool))
        ds = ds.filter(lambda r: tf.gather(mask, r["index"]))
    return _data_sharded(ds) if len(files) < workers else ds


def _data_sharded(ds: tf.data.Dataset) -> tf.data.Dataset:
    """``ds`` with multi-worker sharding by data (each worker keeps its part of the batches)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def _decoder(manifest):
    shape = (manifest["image_size"], manifest["image_size"], manifest["bands"])

    def decode(pixels):
        image = tf.reshape(tf.io.decode_raw(pixels, tf.uint8), (-1, *shape))
        return tf.cast(image, tf.float32) / 255.0

    return decode


def shard_training_dataset(
    path,
    batch_size: int,
    *,
    seed: int,
    flips: bool,
    keep=None,
    workers: int = 1,
    counter=None,
    epoch_images: int = 0,
) -> tf.data.Dataset:
    """Shuffled, flipped batches of float32 images from the shards, one epoch per iteration.

    Each epoch reads the shards in an order shuffled by the key (seed, epoch),
    eight at a time in parallel; each block of up to 8192 records (a full shuffle
    for smaller datasets) is permuted by the key (seed, epoch), then they are batched,
    decoded and flipped as :func:`~astrovader.data.pipelines.memory.augment` does for
    in-memory arrays, and prefetched: a resumed run sees the batches an
    uninterrupted one sees (:mod:`astrovader.data.pipelines.memory`).

    Args:
        path: The dataset directory.
        batch_size: Images per batch (the last, smaller batch is kept).
        seed: Seed of the shard order, the shuffle and the flips.
        flips: Random horizontal and vertical flips.
        keep: Optional (count,) booleans: the records to use (a training split).
        workers: Workers of a multi-worker strategy: every worker reads every
            shard and keeps its part of the batches (DATA sharding; the epochs'
            shard orders are not file-shardable).
        counter: The :class:`~astrovader.data.pipelines.memory.EpochCounter` giving the epoch
            each iteration produces (default: always epoch 0).
        epoch_images: Images per epoch (``schedule.epoch_images``): that many from
            consecutive passes, pass p keyed by (seed, epoch, −1 − 2p); 0 is one pass.
    """
    manifest = read_manifest(path)
    files = _files(path, manifest)
    buffer = min(manifest["count"], SHUFFLE_RECORDS)
    decode = _decoder(manifest)

    kept = manifest["count"] if keep is None else int(np.count_nonzero(keep))
    per_epoch = epoch_images or kept
    passes = -(-per_epoch // kept)

    def one_pass(e, p):
        records = _records(files, manifest, batch_key(seed, e, -1 - 2 * p), keep)
        key = batch_key(seed, e, -2 - 2 * p)
        return shuffled_blocks(records.map(lambda r: r["image"]), buffer, key)

    def epoch(e):
        images = tf.data.Dataset.range(passes).flat_map(lambda p: one_pass(e, p))
        images = images.take(per_epoch)
        batches = images.batch(batch_size).map(decode, num_parallel_calls=tf.data.AUTOTUNE)
        return keyed(batches, seed, e)

    counter = counter or EpochCounter()
    epochs = counter.epochs().flat_map(epoch)
    steps = -(-per_epoch // batch_size)
    ds = augment(epochs.apply(tf.data.experimental.assert_cardinality(steps)), flips)
    return _data_sharded(ds) if workers > 1 else ds


def _holding(files, manifest, rows: range) -> list[str]:
    """The shard files that hold records of ``rows`` (shards hold consecutive indices)."""
    starts = np.cumsum([0] + [shard["count"] for shard in manifest["shards"]])
    if starts[-1] != manifest["count"]:
        return files
    spans = zip(files, starts[:-1], starts[1:], strict=True)
    return [file for file, a, b in spans if a < rows.stop and b > rows.start]


def shard_evaluation_dataset(
    path, batch_size: int, *, keep=None, with_ids: bool = False, workers: int = 1, rows=None
):
    """Batches in the written order, unaugmented: images, or ``(ids, images)``.

    Args:
        path: The dataset directory.
        batch_size: Images per batch.
        keep: Optional (count,) booleans: the records to use (a validation split).
        with_ids: Yield ``(ids, images)`` pairs.
        workers: Workers of a multi-worker strategy (see :func:`shard_training_dataset`).
        rows: Optional range of record indices (a part of the data set): only the
            shards holding them are read, and only these records are decoded.
    """
    manifest = read_manifest(path)
    decode = _decoder(manifest)
    files = _files(path, manifest)
    if rows is not None:
        files = _holding(files, manifest, rows)
        within = np.zeros(manifest["count"], bool)
        within[rows.start : rows.stop] = True
        keep = within if keep is None else within & np.asarray(keep, bool)
    ds = _records(files, manifest, keep=keep, workers=workers).batch(batch_size)
    if with_ids:
        ds = ds.map(lambda r: (r["id"], decode(r["image"])), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda r: decode(r["image"]), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
