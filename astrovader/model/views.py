"""The random views of augmentation-consistent training, and the dihedral test views (method §9).

Each image of a batch gets its own random view, drawn from a stateless key (so a
resumed run draws the same views): flips (``data.flips``), a quarter turn
(``augment.rotate90``), a free rotation (``augment.rotate``), a shift of up to
``augment.shift`` of the side, a zoom by a factor log-uniform in
[1/``zoom``, ``zoom``], a brightness factor uniform in [1 − b, 1 + b], then
Gaussian noise of a standard deviation uniform in [0, ``noise``]. The geometric
part is one bilinear projective transform with reflected borders. The
reconstruction target is the view before the noise (``target = "view"``) or the
original image (``"original"``).

:class:`RandomViews` draws them in training, as a layer with its own seed generator;
:func:`dihedral_views` gives the flips and quarter turns tied at test time.
"""

from __future__ import annotations

import math
import types

import keras
import tensorflow as tf
from keras import ops

from astrovader.config.rules import AUGMENT_RANGES, OPTIONAL_SEED, VIEW_TARGET

__all__ = ["VIEW_KEYS", "RandomViews", "dihedral_views", "make_views", "view_settings"]


def _quarter_turns(images, turns):
    rotated = [images, *(tf.image.rot90(images, k) for k in (1, 2, 3))]
    out = rotated[0]
    turns = tf.reshape(turns, (-1, 1, 1, 1))
    for k in (1, 2, 3):
        out = tf.where(turns == k, rotated[k], out)
    return out


def _transform(images, angle, zoom, dx, dy):
    """Rotate by ``angle`` and scale by ``zoom`` about the centre, then shift by (dx, dy)."""
    side = tf.cast(tf.shape(images)[1], tf.float32)
    centre = (side - 1.0) / 2.0
    cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
    zero = tf.zeros_like(angle)
    matrix = tf.stack(
        [
            cos,
            -sin,
            centre - cos * centre + sin * centre - dx,
            sin,
            cos,
            centre - sin * centre - cos * centre - dy,
            zero,
            zero,
        ],
        axis=1,
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=matrix,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )


VIEW_KEYS = ("rotate90", "rotate", "shift", "zoom", "brightness", "noise", "target")


def view_settings(augment) -> dict | None:
    """The settings of :func:`make_views` from an ``[augment]`` section; None for no views."""
    settings = {key: getattr(augment, key) for key in VIEW_KEYS}
    drawn = settings["rotate90"] or settings["rotate"] or settings["shift"] > 0
    drawn = drawn or settings["zoom"] > 1 or settings["brightness"] > 0 or settings["noise"] > 0
    return settings if drawn else None


def make_views(augment, flips: bool = False):
    """A function ``(images, key) → (view, target)``.

    Args:
        augment: An object or dict with the :data:`VIEW_KEYS` (an
            :class:`~astrovader.config.options.AugmentConfig`).
        flips: Random horizontal and vertical flips (``data.flips`` flips in the
            data pipeline instead, :mod:`astrovader.data.pipelines.memory`).
    """
    if isinstance(augment, dict):
        augment = types.SimpleNamespace(**augment)

    def views(images, key):
        n = tf.shape(images)[0]
        seeds = tf.random.experimental.stateless_split(key, 10)

        def uniform(i, shape, low=0.0, high=1.0):
            return tf.random.stateless_uniform(shape, seeds[i], low, high)

        out = images
        if flips:
            out = tf.where(uniform(0, (n, 1, 1, 1)) < 0.5, tf.reverse(out, [2]), out)
            out = tf.where(uniform(1, (n, 1, 1, 1)) < 0.5, tf.reverse(out, [1]), out)
        if augment.rotate90:
            out = _quarter_turns(out, tf.cast(uniform(2, (n,), 0.0, 4.0), tf.int32) % 4)
        if augment.rotate or augment.shift > 0 or augment.zoom > 1:
            angle = uniform(3, (n,), 0.0, 2 * math.pi) if augment.rotate else tf.zeros((n,))
            side = tf.cast(tf.shape(images)[1], tf.float32)
            reach = augment.shift * side
            dx, dy = uniform(4, (n,), -1.0, 1.0) * reach, uniform(5, (n,), -1.0, 1.0) * reach
            log_zoom = math.log(augment.zoom)
            zoom = tf.exp(uniform(6, (n,), -log_zoom, log_zoom)) if log_zoom else tf.ones((n,))
            out = _transform(out, angle, zoom, dx, dy)
        if augment.brightness > 0:
            b = augment.brightness
            out = tf.clip_by_value(out * uniform(7, (n, 1, 1, 1), 1 - b, 1 + b), 0.0, 1.0)
        target = out if augment.target == "view" else images
        view = out
        if augment.noise > 0:
            sigma = uniform(8, (n, 1, 1, 1), 0.0, augment.noise)
            noise = tf.random.stateless_normal(tf.shape(out), seeds[9]) * sigma
            view = tf.clip_by_value(out + noise, 0.0, 1.0)
        return view, target

    return views


def dihedral_views(images, count: int):
    """The first ``count`` (1, 4 or 8) of the flips × quarter turns of a batch, as a list.

    Four views are the identity, a quarter turn, a flip and a flipped quarter turn.
    """
    flipped = tf.reverse(images, [2])
    eight = [tf.image.rot90(images, k) for k in range(4)] + [
        tf.image.rot90(flipped, k) for k in range(4)
    ]
    if count == 4:
        return [eight[0], eight[1], eight[4], eight[5]]
    return eight[:count]


@keras.saving.register_keras_serializable(package="astrovader")
class RandomViews(keras.layers.Layer):
    """Draw one random view of each image and its reconstruction target (method §9).

    The view is a quarter turn, a free rotation, a shift, a zoom, a brightness
    factor and Gaussian noise of the image, as set
    (:func:`astrovader.model.views.make_views`); the target is the view before
    the noise (``target = "view"``) or the image (``"original"``). The draws come
    from the layer's own ``keras.random.SeedGenerator``, whose state the run's
    checkpoint keeps, so a resumed run draws the views an uninterrupted one draws.

    Args:
        rotate90: Random quarter turns.
        rotate: Random rotations by any angle.
        shift: Largest shift, as a fraction of the side.
        zoom: Zoom factors log-uniform in [1/zoom, zoom] (≥ 1).
        brightness: Brightness factors uniform in [1 − b, 1 + b].
        noise: Largest standard deviation of the added Gaussian noise.
        target: ``"view"`` or ``"original"``.
        seed: Seed of the layer's generator.
        **kwargs: Standard layer arguments.

    Call arguments:
        images: (N, S, S, B) in [0, 1].
        training: Draw views when True; otherwise return ``(images, images)``.

    Returns:
        ``(view, target)``, each (N, S, S, B).
    """

    def __init__(
        self,
        rotate90: bool = False,
        rotate: bool = False,
        *,
        shift: float = 0.0,
        zoom: float = 1.0,
        brightness: float = 0.0,
        noise: float = 0.0,
        target: str = "view",
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        ranges = {"shift": shift, "zoom": zoom, "brightness": brightness, "noise": noise}
        for name, value in ranges.items():
            AUGMENT_RANGES[name].check(name, value)
        VIEW_TARGET.check("target", target)
        OPTIONAL_SEED.check("seed", seed)
        self.rotate90, self.rotate = bool(rotate90), bool(rotate)
        self.shift, self.zoom = float(shift), float(zoom)
        self.brightness, self.noise = float(brightness), float(noise)
        self.target, self.seed = target, seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._views = make_views(self.settings())

    def settings(self) -> dict:
        """The view settings, by :data:`~astrovader.model.views.VIEW_KEYS`."""
        return {key: getattr(self, key) for key in VIEW_KEYS}

    def call(self, images, training=None):
        if not training:
            return images, images
        key = ops.cast(self.seed_generator.next(), "int64")
        return self._views(ops.cast(images, "float32"), key[:2])

    def compute_output_shape(self, input_shape):
        return input_shape, input_shape

    def get_config(self):
        return {**super().get_config(), **self.settings(), "seed": self.seed}
