"""``tf.data`` pipelines over TFRecord shards (:mod:`astrovader.data.tfrecord`).

Shards are read in parallel and decoded batch by batch from uint8 to float32/255:
the expensive image decoding happened once, when the shards were written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from astrovader.data.pipeline import augment
from astrovader.data.tfrecord import read_manifest

SHUFFLE_RECORDS = 8192
_FEATURES = {
    "id": tf.io.FixedLenFeature([], tf.string),
    "index": tf.io.FixedLenFeature([], tf.int64),
    "image": tf.io.FixedLenFeature([], tf.string),
}


def _records(path, manifest, shuffle_seed=None, keep=None, workers=1):
    """Parsed records (id, index, uint8 image) from the shards, in order unless shuffled.

    A multi-worker strategy gives each worker its own shards (FILE sharding);
    with fewer shards than ``workers``, every worker reads every shard and keeps
    its part of the batches (DATA sharding).
    """
    files = [str(Path(path) / shard["file"]) for shard in manifest["shards"]]
    block = max(shard["count"] for shard in manifest["shards"])
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_seed is not None:
        ds = ds.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
        block = 1
    ds = ds.interleave(
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
    if len(files) < workers:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        ds = ds.with_options(options)
    return ds


def _decoder(manifest):
    shape = (manifest["image_size"], manifest["image_size"], manifest["bands"])

    def decode(pixels):
        image = tf.reshape(tf.io.decode_raw(pixels, tf.uint8), (-1, *shape))
        return tf.cast(image, tf.float32) / 255.0

    return decode


def training_dataset(
    path, batch_size: int, seed: int, flips: bool, keep=None, workers: int = 1
) -> tf.data.Dataset:
    """Shuffled, flipped batches of float32 images from the shards.

    Shards are read in a shuffled order, eight at a time in parallel; records
    pass a shuffle buffer of up to 8192 (a full shuffle for smaller datasets),
    then are batched, decoded and flipped as :func:`~astrovader.data.pipeline.augment`
    does for in-memory arrays, and prefetched.

    Args:
        path: The dataset directory.
        batch_size: Images per batch (the last, smaller batch is kept).
        seed: Seed of the shard order, the shuffle and the flips.
        flips: Random horizontal and vertical flips.
        keep: Optional (count,) booleans: the records to use (a training split).
        workers: Workers of a multi-worker strategy: with fewer shards than
            workers, every worker reads every shard and keeps its part (DATA
            sharding) instead of reading its own shards.
    """
    manifest = read_manifest(path)
    records = _records(path, manifest, seed, keep, workers)
    buffer = min(manifest["count"], SHUFFLE_RECORDS)
    ds = records.map(lambda r: r["image"]).shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(_decoder(manifest), num_parallel_calls=tf.data.AUTOTUNE)
    return augment(ds, seed, flips)


def evaluation_dataset(path, batch_size: int, keep=None, with_ids: bool = False, workers: int = 1):
    """Batches in the written order, unaugmented: images, or ``(ids, images)``.

    Args:
        path: The dataset directory.
        batch_size: Images per batch.
        keep: Optional (count,) booleans: the records to use (a validation split).
        with_ids: Yield ``(ids, images)`` pairs.
        workers: Workers of a multi-worker strategy (see :func:`training_dataset`).
    """
    manifest = read_manifest(path)
    decode = _decoder(manifest)
    ds = _records(path, manifest, keep=keep, workers=workers).batch(batch_size)
    if with_ids:
        ds = ds.map(lambda r: (r["id"], decode(r["image"])), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda r: decode(r["image"]), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
