"""``tf.data`` pipelines over in-memory image arrays: epoch-keyed shuffles and flips (method §1).

Every random choice of the training data is a function of the run's seed and the
epoch (and the batch), never of how many times a dataset was iterated before:
epoch e is shuffled with the stateless key (seed, e, −1) and batch b of it is
flipped with the key (seed, e, b). The epoch is read, each time the dataset is iterated,
from an :class:`EpochCounter` that a callback sets at the start of every epoch
(:class:`~astrovader.training.phases.callbacks.EpochKey`). A run resumed at epoch e
therefore sees exactly the batches an uninterrupted run sees there, whatever the
parallelism and however a distribution strategy splits the batches. TFRecord
shards (data larger than memory) have their own readers in :mod:`astrovader.data.pipelines.shards`,
which share :func:`batch_key`, :func:`shuffled_blocks`, :func:`keyed` and :func:`augment`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = [
    "EpochCounter",
    "augment",
    "batch_key",
    "evaluation_dataset",
    "keyed",
    "shuffled_blocks",
    "training_dataset",
]


class EpochCounter:
    """The epoch the training datasets produce when next iterated (a ``tf.Variable``)."""

    def __init__(self, epoch: int = 0):
        self.variable = tf.Variable(epoch, dtype=tf.int64, trainable=False, name="data_epoch")

    def set(self, epoch: int) -> None:
        """Make the next iteration produce epoch ``epoch`` (0-based)."""
        self.variable.assign(int(epoch))

    def epochs(self) -> tf.data.Dataset:
        """A one-element dataset of the current epoch, read at iteration time."""
        variable = self.variable
        return tf.data.Dataset.from_tensors(0).map(lambda _: variable.read_value())


def shuffled_blocks(ds: tf.data.Dataset, size: int, key) -> tf.data.Dataset:
    """``ds`` with each block of ``size`` consecutive elements permuted by the stateless ``key``.

    With ``size`` at least the dataset's length this is a full shuffle; otherwise a
    shuffle buffer's worth of mixing, with every permutation a function of ``key``.
    """

    def permute(block):
        order = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(block)[0]), key)
        return tf.data.Dataset.from_tensor_slices(tf.gather(block, order))

    return ds.batch(size).flat_map(permute)


def batch_key(seed: int, epoch, batch) -> tf.Tensor:
    """A stateless-RNG key (shape (2,), int64) for one batch of one epoch."""
    key = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    key = tf.random.experimental.stateless_fold_in(key, tf.cast(epoch, tf.int64))
    return tf.random.experimental.stateless_fold_in(key, tf.cast(batch, tf.int64))


def keyed(batches: tf.data.Dataset, seed: int, epoch) -> tf.data.Dataset:
    """``(batch, key)`` pairs: each batch of one epoch with its :func:`batch_key`."""
    keys = tf.data.Dataset.range(2**62).map(lambda b: batch_key(seed, epoch, b))
    return tf.data.Dataset.zip((batches, keys))


def augment(pairs: tf.data.Dataset, flips: bool, load=None) -> tf.data.Dataset:
    """Random horizontal and vertical flips (p = ½ each, per image) of keyed batches, prefetched.

    Shared by the in-memory and the TFRecord training pipelines. Prefetching
    prepares the next batches while the accelerator trains on the current one.

    Args:
        pairs: ``(batch, key)`` elements.
        flips: Flip the images.
        load: ``load(batch) → (images, extras)`` when the batch is not the images
            themselves (rows of an array): the element is then ``(images, extras)``,
            with only the images flipped.
    """

    def prepare(batch, key):
        images, extras = load(batch) if load is not None else (batch, None)
        if flips:
            images = _flip(images, key)
        return images if extras is None else (images, extras)

    batches = pairs.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return batches.prefetch(tf.data.AUTOTUNE)


def _flip(images, key):
    """Flip each image left-right and up-down, each with probability ½."""
    seeds = tf.random.experimental.stateless_split(key, 2)
    shape = (tf.shape(images)[0], 1, 1, 1)
    left_right = tf.random.stateless_uniform(shape, seeds[0]) < 0.5
    up_down = tf.random.stateless_uniform(shape, seeds[1]) < 0.5
    images = tf.where(left_right, tf.reverse(images, [2]), images)
    return tf.where(up_down, tf.reverse(images, [1]), images)


def training_dataset(
    images: np.ndarray,
    batch_size: int,
    *,
    seed: int,
    flips: bool,
    counter: EpochCounter,
    epoch_images: int = 0,
    extras=None,
) -> tf.data.Dataset:
    """The batches of one epoch, the counter's (see the module docstring).

    Args:
        images: (N, S, S, B) float32 in [0, 1].
        batch_size: Images per batch (the last, smaller batch of an epoch is kept).
        seed: The run's seed.
        flips: Apply the random flips (training only; never rotations, see the paper §2).
        counter: The epoch each iteration produces.
        epoch_images: Images per epoch (``schedule.epoch_images``), drawn from
            consecutive shuffled passes, pass p keyed by (seed, e, −1 − p); 0 is
            one pass over the images (the paper).
        extras: ``extras(rows)`` → tensors of the batch's rows (indices into
            ``images``), read when the batch is drawn; each element is then
            ``(images, extras(rows))`` (the tied views of
            :class:`~astrovader.training.mixture.tied_views.TiedViews`).

    Returns:
        ⌈images per epoch / batch_size⌉ batches per iteration.
    """
    pixels = tf.constant(images)
    count = len(images)
    per_epoch = epoch_images or count
    passes = -(-per_epoch // count)

    def epoch(e):
        orders = [
            tf.random.experimental.stateless_shuffle(tf.range(count), batch_key(seed, e, -1 - p))
            for p in range(passes)
        ]
        order = tf.concat(orders, axis=0)[:per_epoch]
        return keyed(tf.data.Dataset.from_tensor_slices(order).batch(batch_size), seed, e)

    def load(rows):
        return tf.gather(pixels, rows), None if extras is None else extras(rows)

    steps = -(-per_epoch // batch_size)
    epochs = counter.epochs().flat_map(epoch)
    return augment(epochs.apply(tf.data.experimental.assert_cardinality(steps)), flips, load)


def evaluation_dataset(images: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """Batches in input order, unaugmented (validation, embedding)."""
    return tf.data.Dataset.from_tensor_slices(images).batch(batch_size).prefetch(tf.data.AUTOTUNE)
