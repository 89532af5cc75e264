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

The survey views (method §9d) act on linear flux: the pixels are returned to it
by the inverse of the stretch that made them (:func:`unstretch`, the ``[scaling]``
stretch), dimmed by 10^−u with u uniform in [0, ``flux_dex``], given with
probability ``neighbour`` another image of the batch at an offset, blurred by a
Gaussian PSF of σ uniform in [0, ``blur``] of the side, stretched again, and
given Gaussian noise at a peak S/N log-uniform in [``snr``, 100 ``snr``] (the
noise is in linear flux too; the target is the view before it).

:class:`RandomViews` draws them in training, as a layer with its own seed generator;
:func:`dihedral_views` gives the flips and quarter turns tied at test time.
"""

from __future__ import annotations

import math
import types

import keras
import tensorflow as tf
from keras import ops

from astrovader.config.options import SURVEY_KEYS
from astrovader.config.rules import AUGMENT_RANGES, OPTIONAL_SEED, POSITIVE, STRETCH, VIEW_TARGET
from astrovader.config.sections import ScalingConfig

__all__ = [
    "VIEW_KEYS",
    "RandomViews",
    "dihedral_views",
    "gaussian_blur",
    "make_views",
    "restretch",
    "unstretch",
    "view_settings",
]


def _quarter_turns(images, turns):
    rotated = [images, *(tf.image.rot90(images, k) for k in (1, 2, 3))]
    out = rotated[0]
    turns = tf.reshape(turns, (-1, 1, 1, 1))
    for k in (1, 2, 3):
        out = tf.where(turns == k, rotated[k], out)
    return out


def _transform(images, angle, zoom, dx, dy, fill_mode="REFLECT"):
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
        fill_mode=fill_mode,
    )


def unstretch(pixels, stretch: str = "asinh", a: float = 0.1):
    """Pixels in [0, 1] back to linear flux in [0, 1]: the inverse of an astropy stretch.

    ``asinh``: x = a sinh(y asinh(1/a)); ``log``: x = ((a + 1)^y − 1)/a; ``sqrt``:
    x = y²; ``linear``: x = y (the stretches of :mod:`astrovader.data.images.scaling`).

    Args:
        pixels: Any shape, in [0, 1].
        stretch: ``"linear"``, ``"sqrt"``, ``"log"`` or ``"asinh"``.
        a: The stretch's parameter (``asinh_a`` or ``log_a``).
    """
    if stretch == "asinh":
        return a * tf.sinh(pixels * math.asinh(1.0 / a))
    if stretch == "log":
        return (tf.pow(a + 1.0, pixels) - 1.0) / a
    if stretch == "sqrt":
        return tf.square(pixels)
    return pixels


def restretch(flux, stretch: str = "asinh", a: float = 0.1):
    """Linear flux to pixels in [0, 1] by an astropy stretch, clipped (undoes :func:`unstretch`)."""
    if stretch == "asinh":
        out = tf.asinh(flux / a) / math.asinh(1.0 / a)
    elif stretch == "log":
        out = tf.math.log(a * tf.maximum(flux, 0.0) + 1.0) / math.log(a + 1.0)
    elif stretch == "sqrt":
        out = tf.sqrt(tf.maximum(flux, 0.0))
    else:
        out = flux
    return tf.clip_by_value(out, 0.0, 1.0)


def gaussian_blur(images, sigma, *, width: int):
    """Blur each image by its own circular Gaussian of ``sigma`` pixels (reflected borders).

    Args:
        images: (N, S, S, B).
        sigma: (N,) in pixels; 0 leaves an image as it is.
        width: The kernel's odd width in pixels (at least 6 σ + 1 for the largest σ).

    Returns:
        (N, S, S, B): each band convolved with the normalised, separable kernel
        exp(−t²/2σ²) over t = −(width − 1)/2 … (width − 1)/2.
    """
    n, size, bands = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[3]
    half = width // 2
    t = tf.range(-half, half + 1, dtype=tf.float32)
    s = tf.maximum(tf.reshape(sigma, (-1, 1)), 1e-3)
    kernel = tf.exp(-0.5 * tf.square(t / s))
    kernel = kernel / tf.reduce_sum(kernel, axis=1, keepdims=True)  # (N, width)
    kernel = tf.repeat(kernel, bands, axis=0)  # (N·B, width): one per image and band
    # The batch's images and bands as the channels of one image, in the kernels' order.
    stacked = tf.reshape(tf.transpose(images, (1, 2, 0, 3)), (1, size, size, n * bands))
    padded = tf.pad(stacked, [[0, 0], [half, half], [half, half], [0, 0]], mode="REFLECT")
    rows = tf.reshape(tf.transpose(kernel), (width, 1, n * bands, 1))
    cols = tf.reshape(tf.transpose(kernel), (1, width, n * bands, 1))
    out = tf.nn.depthwise_conv2d(padded, rows, [1, 1, 1, 1], "VALID")
    out = tf.nn.depthwise_conv2d(out, cols, [1, 1, 1, 1], "VALID")
    return tf.transpose(tf.reshape(out, (size, size, n, bands)), (2, 0, 1, 3))


VIEW_KEYS = (
    "rotate90",
    "rotate",
    "shift",
    "zoom",
    "brightness",
    "noise",
    "flux_dex",
    "blur",
    "snr",
    "neighbour",
    "target",
)


def view_settings(augment, scaling=None) -> dict | None:
    """The settings of :func:`make_views` from an ``[augment]`` section; None for no views.

    With survey views on, ``stretch`` and ``stretch_a`` say how the pixels were
    stretched (``scaling``, a :class:`~astrovader.config.sections.ScalingConfig`;
    its defaults, an asinh of a = 0.1, without one).
    """
    if not augment.draws_views:
        return None
    settings = {key: getattr(augment, key) for key in VIEW_KEYS}
    if augment.surveys:
        scaling = scaling if scaling is not None else ScalingConfig()
        a = {"asinh": scaling.asinh_a, "log": scaling.log_a}.get(scaling.stretch, 1.0)
        settings.update(stretch=scaling.stretch, stretch_a=float(a))
    return settings


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
    flux_dex, blur, snr, neighbour = (getattr(augment, key, 0.0) for key in SURVEY_KEYS)
    surveys = any(value > 0 for value in (flux_dex, blur, snr, neighbour))
    stretch = getattr(augment, "stretch", "asinh")
    a = getattr(augment, "stretch_a", 0.1)

    def survey(images, key, side: int):
        """(view before the noise, view) of the survey views, in linear flux (§9d)."""
        n = tf.shape(images)[0]
        seeds = tf.random.experimental.stateless_split(key, 10)

        def uniform(i, shape, low=0.0, high=1.0):
            return tf.random.stateless_uniform(shape, seeds[i], low, high)

        flux = unstretch(images, stretch, a)
        if flux_dex > 0:
            flux = flux * tf.pow(10.0, -uniform(0, (n, 1, 1, 1), 0.0, flux_dex))
        if neighbour > 0:
            # Another image of the batch, rotated, 0.5–1 times the size and 0–1 dex
            # fainter, centred 25–50% of the side away in any direction.
            # (The transform shifts before it scales: the offset is divided by the size.)
            size = tf.exp(uniform(3, (n,), -math.log(2.0), 0.0))
            radius = uniform(1, (n,), 0.25, 0.5) * side / size
            phi = uniform(2, (n,), 0.0, 2 * math.pi)
            other = _transform(
                tf.roll(flux, 1, axis=0),
                uniform(4, (n,), 0.0, 2 * math.pi),
                size,
                radius * tf.cos(phi),
                radius * tf.sin(phi),
                fill_mode="CONSTANT",
            )
            shown = tf.cast(uniform(5, (n, 1, 1, 1)) < neighbour, flux.dtype)
            flux = flux + shown * tf.pow(10.0, -uniform(6, (n, 1, 1, 1))) * other
        if blur > 0:
            width = 2 * math.ceil(3 * blur * side) + 1
            flux = gaussian_blur(flux, uniform(7, (n,), 0.0, blur * side), width=width)
        clean = restretch(flux, stretch, a)
        if not snr > 0:
            return clean, clean
        peak = tf.reduce_max(flux, axis=(1, 2, 3), keepdims=True)
        ratio = tf.exp(uniform(8, (n, 1, 1, 1), math.log(snr), math.log(100.0 * snr)))
        noise = tf.random.stateless_normal(tf.shape(flux), seeds[9], dtype=flux.dtype)
        return clean, restretch(flux + noise * peak / ratio, stretch, a)

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
        view = out
        if surveys:
            if images.shape[1] is None:
                raise ValueError("the survey views need images of a known size")
            survey_key = tf.random.experimental.stateless_fold_in(key, 1)
            out, view = survey(out, survey_key, images.shape[1])
        target = out if augment.target == "view" else images
        if augment.noise > 0:
            sigma = uniform(8, (n, 1, 1, 1), 0.0, augment.noise)
            noise = tf.random.stateless_normal(tf.shape(out), seeds[9]) * sigma
            view = tf.clip_by_value(view + noise, 0.0, 1.0)
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
    factor, the survey views (flux, a neighbour, seeing, S/N; method §9d) and
    Gaussian noise of the image, as set
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
        flux_dex: Flux factors 10^−u, u uniform in [0, flux_dex] (linear flux).
        blur: Largest σ of the Gaussian PSF, as a fraction of the side.
        snr: Lowest peak S/N of the noise in linear flux (log-uniform up to 100 snr;
            0: none).
        neighbour: Probability of pasting another image of the batch at an offset.
        target: ``"view"`` or ``"original"``.
        stretch: The stretch that made the pixels (``"linear"``, ``"sqrt"``,
            ``"log"``, ``"asinh"``), undone for the survey views.
        stretch_a: Its parameter (``asinh_a`` or ``log_a``).
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
        flux_dex: float = 0.0,
        blur: float = 0.0,
        snr: float = 0.0,
        neighbour: float = 0.0,
        target: str = "view",
        stretch: str = "asinh",
        stretch_a: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        ranges = {
            "shift": shift,
            "zoom": zoom,
            "brightness": brightness,
            "noise": noise,
            "flux_dex": flux_dex,
            "blur": blur,
            "snr": snr,
            "neighbour": neighbour,
        }
        for name, value in ranges.items():
            AUGMENT_RANGES[name].check(name, value)
            setattr(self, name, float(value))
        VIEW_TARGET.check("target", target)
        STRETCH.check("stretch", stretch)
        POSITIVE.check("stretch_a", stretch_a)
        OPTIONAL_SEED.check("seed", seed)
        self.rotate90, self.rotate = bool(rotate90), bool(rotate)
        self.target, self.seed = target, seed
        self.stretch, self.stretch_a = stretch, float(stretch_a)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._views = make_views(self.settings())

    def settings(self) -> dict:
        """The view settings: :data:`~astrovader.model.views.VIEW_KEYS` and the stretch."""
        return {key: getattr(self, key) for key in (*VIEW_KEYS, "stretch", "stretch_a")}

    def call(self, images, training=None):
        if not training:
            return images, images
        key = ops.cast(self.seed_generator.next(), "int64")
        return self._views(ops.cast(images, "float32"), key[:2])

    def compute_output_shape(self, input_shape):
        return input_shape, input_shape

    def get_config(self):
        return {**super().get_config(), **self.settings(), "seed": self.seed}
