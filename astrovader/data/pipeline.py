"""``tf.data`` pipelines over in-memory image arrays: shuffle, batch, flip, prefetch (SPEC §1)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def split_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split into training and validation indices (both sorted).

    The validation part holds round(n · fraction) samples and never feeds gradients.
    """
    order = np.random.default_rng(seed).permutation(n)
    n_val = round(n * fraction)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


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
    if flips:
        flip = keras.layers.RandomFlip("horizontal_and_vertical", seed=seed)
        ds = ds.map(lambda x: flip(x, training=True), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(images: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """Batches in input order, unaugmented (validation, embedding)."""
    return tf.data.Dataset.from_tensor_slices(images).batch(batch_size).prefetch(tf.data.AUTOTUNE)
