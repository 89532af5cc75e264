"""The random views of augmentation-consistent training, as a layer (method §9)."""

from __future__ import annotations

import keras
from keras import ops

from astrovader.config.rules import AUGMENT_RANGES, OPTIONAL_SEED, VIEW_TARGET
from astrovader.data.augment import VIEW_KEYS, make_views


@keras.saving.register_keras_serializable(package="astrovader")
class RandomViews(keras.layers.Layer):
    """Draw one random view of each image and its reconstruction target (method §9).

    The view is a quarter turn, a free rotation, a shift, a zoom, a brightness
    factor and Gaussian noise of the image, as set
    (:func:`astrovader.data.augment.make_views`); the target is the view before
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
        """The view settings, by :data:`~astrovader.data.augment.VIEW_KEYS`."""
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
