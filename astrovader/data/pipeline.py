"""``tf.data`` pipelines over in-memory image arrays: shuffle, batch, flip, prefetch (method §1).

TFRecord shards (data larger than memory) have their own readers in
:mod:`astrovader.data.tfrecord`, which share :func:`augment`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def training_dataset(
    images: np.ndarray, batch_size: int, seed: int, flips: bool
) -> tf.data.Dataset:
    """Shuffled batches with random horizontal and vertical flips (p = ½ each).

    Args:
        images: (N, S, S, B) float32 in [0, 1].
        batch_size: Images per batch (the last, smaller batch is kept).
        seed: Seed of the shuffle and the flips.
        flips: Apply the flips (training only; never rotations, see the paper §2).
    """
    ds = tf.data.Dataset.from_tensor_slices(images)
    ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    return augment(ds, seed, flips)


def augment(batches: tf.data.Dataset, seed: int, flips: bool) -> tf.data.Dataset:
    """Random horizontal and vertical flips (p = ½ each, per image) of batches, then prefetch.

    The flips of each batch come from a stateless generator keyed by a per-batch
    seed from ``tf.data.Dataset.random(seed)`` (new keys each epoch), so they are
    reproducible whatever the parallelism and however a distribution strategy
    splits the batches. Shared by the in-memory and the TFRecord
    (:mod:`astrovader.data.tfrecord`) training pipelines. Prefetching prepares
    the next batches while the accelerator trains on the current one.
    """
    if flips:
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        batches = tf.data.Dataset.zip((batches, keys)).map(
            _flip, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )
    return batches.prefetch(tf.data.AUTOTUNE)


def _flip(images, key):
    """Flip each image left-right and up-down, each with probability ½."""
    seeds = tf.random.experimental.stateless_split(tf.stack([key, tf.constant(0, tf.int64)]), 2)
    shape = (tf.shape(images)[0], 1, 1, 1)
    left_right = tf.random.stateless_uniform(shape, seeds[0]) < 0.5
    up_down = tf.random.stateless_uniform(shape, seeds[1]) < 0.5
    images = tf.where(left_right, tf.reverse(images, [2]), images)
    return tf.where(up_down, tf.reverse(images, [1]), images)


def evaluation_dataset(images: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """Batches in input order, unaugmented (validation, embedding)."""
    return tf.data.Dataset.from_tensor_slices(images).batch(batch_size).prefetch(tf.data.AUTOTUNE)
