"""The tied views of every training image, embedded once per joint epoch (method §9).

The default method needs, at every joint epoch, the μ̃ and log σ̃² of each training
image's ``augment.tied_views`` flips and quarter turns: the mixture's EM step
(:class:`~astrovader.training.mixture.mixture_em.MixtureEM`) takes its statistics from
them, and the tied target of each training step (eq. A1,
:func:`~astrovader.model.targets.tied_target`) is their E-step under the epoch's
prior. When the images are in memory, :class:`TiedViews` embeds them once at the
start of the epoch, with the encoder as it is then (the teacher of the epoch), and
the training pipeline hands each batch its rows
(:func:`~astrovader.data.pipelines.memory.training_dataset` ``extras``): one encoder pass
per view and image and epoch, shared by the EM step and the targets, where the
teacher would embed the views again in every step. Data streamed from shards keep
the teacher's per-step passes (nothing per image is held in memory).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from astrovader.model.views import dihedral_views

__all__ = ["EmbedTiedViews", "TiedViews", "embed_views", "view_encoder"]


def view_encoder(model, views: int, shape: tuple):
    """A compiled ``x → (μ̃, log σ̃²)`` of the views, each (V, n, J), cached on the model.

    ``shape`` is that of one image: the function is traced once for any batch size.
    """
    cache = model.__dict__.setdefault("_view_encoders", {})
    key = (views, tuple(shape))
    if key not in cache:

        def encode(x):
            parts = [model.encoder(v, training=False) for v in dihedral_views(x, views)]
            means = tf.stack([tf.cast(m, tf.float32) for m, _ in parts])
            return means, tf.stack([tf.cast(lv, tf.float32) for _, lv in parts])

        signature = [tf.TensorSpec((None, *shape), tf.float32)]
        cache[key] = tf.function(encode, input_signature=signature)
    return cache[key]


def embed_views(model, batches, *, views: int, limit: int | None = None):
    """μ̃ and log σ̃² of image batches in ``views`` flips and quarter turns: (V, N, J) each.

    Args:
        model: The :class:`~astrovader.model.vade.AstroVaDEr`.
        batches: Iterable of image batches, or of ``(images, …)`` tuples.
        views: 1, 4 or 8.
        limit: Embed at most this many batches (None: all).
    """
    means, log_vars = [], []
    for i, batch in enumerate(batches):
        if limit is not None and i >= limit:
            break
        x = tf.cast(batch[0] if isinstance(batch, tuple) else batch, tf.float32)
        mean, log_var = view_encoder(model, views, x.shape[1:])(x)
        means.append(mean.numpy())
        log_vars.append(log_var.numpy())
    if not means:
        empty = np.zeros((views, 0, model.latent_dim), "float32")
        return empty, empty.copy()
    return np.concatenate(means, axis=1), np.concatenate(log_vars, axis=1)


class TiedViews:
    """μ̃ and log σ̃² of every training image's tied views, held for one epoch.

    Args:
        images: (N, S, S, B) the training images, in the rows the pipeline draws.
        views: The tied views V (1, 4 or 8).
        latent_dim: J.
        batch_size: Images per encoder pass.
    """

    def __init__(self, images: np.ndarray, views: int, *, latent_dim: int, batch_size: int):
        self.images, self.views, self.batch_size = images, int(views), int(batch_size)
        shape = (len(images), self.views, int(latent_dim))
        # Host variables read by the input pipeline (never saved: they are derived from
        # the encoder's weights at the epoch's start, so a resumed run recomputes them).
        with tf.device("/cpu:0"):
            self.mean = tf.Variable(tf.zeros(shape), trainable=False, name="tied_mean")
            self.log_var = tf.Variable(tf.zeros(shape), trainable=False, name="tied_log_var")
        self.epoch = None  # the epoch (0-based) whose start the views are of

    def rows(self, rows):
        """``(μ̃, log σ̃²)`` of the given rows, each (n, V, J) (the pipeline's extras)."""
        return tf.gather(self.mean, rows), tf.gather(self.log_var, rows)

    def refresh(self, model, epoch: int) -> None:
        """Embed every image's views with the model's encoder as it is at ``epoch``'s start."""
        batches = (
            self.images[start : start + self.batch_size]
            for start in range(0, len(self.images), self.batch_size)
        )
        zv, log_var = embed_views(model, batches, views=self.views)
        self.mean.assign(np.transpose(zv, (1, 0, 2)))
        self.log_var.assign(np.transpose(log_var, (1, 0, 2)))
        self.epoch = epoch

    def of_epoch(self, epoch: int) -> bool:
        """Whether the views held are those of ``epoch``'s start."""
        return self.epoch == epoch

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The views' μ̃ and log σ̃², each (V, N, J)."""
        return (
            np.transpose(self.mean.numpy(), (1, 0, 2)),
            np.transpose(self.log_var.numpy(), (1, 0, 2)),
        )


class EmbedTiedViews(keras.callbacks.Callback):
    """At the start of every epoch from T_γ on, embed the training images' tied views.

    Runs before the GMM initialisation and the EM step, which read the views it
    embedded (:meth:`TiedViews.arrays`), and before the epoch's batches are drawn.
    Views embedded already for this epoch (at the end of the one before, where the
    weights are the same: :class:`~astrovader.training.phases.stability.StablePartition`)
    are not embedded again.

    Args:
        tied: The :class:`TiedViews`.
        at_epoch: T_γ; epochs before it are γ-training, where nothing is tied.
    """

    def __init__(self, tied: TiedViews, at_epoch: int):
        super().__init__()
        self.tied, self.at_epoch = tied, at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.at_epoch and not self.tied.of_epoch(epoch):
            self.tied.refresh(self.model, epoch)
