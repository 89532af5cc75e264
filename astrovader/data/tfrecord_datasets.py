"""``tf.data`` pipelines over TFRecord shards (:mod:`astrovader.data.tfrecord`).

Shards are read in parallel and decoded batch by batch from uint8 to float32/255:
the expensive image decoding happened once, when the shards were written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from astrovader.data.pipeline import EpochCounter, augment, batch_key, keyed, shuffled_blocks
from astrovader.data.tfrecord import read_manifest

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


def training_dataset(
    path,
    batch_size: int,
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
    decoded and flipped as :func:`~astrovader.data.pipeline.augment` does for
    in-memory arrays, and prefetched: a resumed run sees the batches an
    uninterrupted one sees (:mod:`astrovader.data.pipeline`).

    Args:
        path: The dataset directory.
        batch_size: Images per batch (the last, smaller batch is kept).
        seed: Seed of the shard order, the shuffle and the flips.
        flips: Random horizontal and vertical flips.
        keep: Optional (count,) booleans: the records to use (a training split).
        workers: Workers of a multi-worker strategy: every worker reads every
            shard and keeps its part of the batches (DATA sharding; the epochs'
            shard orders are not file-shardable).
        counter: The :class:`~astrovader.data.pipeline.EpochCounter` giving the epoch
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


def evaluation_dataset(
    path, batch_size: int, keep=None, with_ids: bool = False, workers: int = 1, rows=None
):
    """Batches in the written order, unaugmented: images, or ``(ids, images)``.

    Args:
        path: The dataset directory.
        batch_size: Images per batch.
        keep: Optional (count,) booleans: the records to use (a validation split).
        with_ids: Yield ``(ids, images)`` pairs.
        workers: Workers of a multi-worker strategy (see :func:`training_dataset`).
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
