"""The convolutional encoder and decoder of AstroVaDEr (method §2, paper Fig. 1).

Layer names are those of the published network (Conv1…Conv12, latentmean,
latentlog_var, FC3, Output), so that published weights map one to one.

Layers follow Keras' global dtype policy (mixed precision computes the
convolutions in float16 or bfloat16), except the latent heads and the output
convolution, which always compute in float32: μ̃, log σ̃² and the reconstruction
feed the mixture maths and the losses at full precision.
"""

from __future__ import annotations

import dataclasses

import keras
from keras import layers, ops

from astrovader.config.rules import IMAGE_SIZE, UPSAMPLING

__all__ = [
    "Geometry",
    "LegacyBilinearUpSampling2D",
    "bottleneck_shape",
    "build_decoder",
    "build_encoder",
    "build_projection_head",
]


@keras.saving.register_keras_serializable(package="astrovader")
class LegacyBilinearUpSampling2D(layers.Layer):
    """×2 bilinear upsampling as Keras 2 on TensorFlow 1 did it (the published network).

    Keras 2.3 ``UpSampling2D(interpolation="bilinear")`` called TensorFlow's
    ``resize_bilinear`` with ``half_pixel_centers=False``: output pixel i samples
    input coordinate i/2, so even rows and columns copy the input, odd ones average
    two neighbours, and the last row and column repeat the edge. Keras 3 samples at
    half-pixel centres instead, which moves the published decoder's galaxies about
    2.7 px off centre. Input and output are channels-last (N, H, W, C).
    """

    def call(self, inputs):
        x = inputs
        below = ops.concatenate([x[:, 1:], x[:, -1:]], axis=1)
        x = ops.stack([x, 0.5 * (x + below)], axis=2)
        _, height, _, width, channels = x.shape
        x = ops.reshape(x, (-1, 2 * height, width, channels))
        right = ops.concatenate([x[:, :, 1:], x[:, :, -1:]], axis=2)
        x = ops.stack([x, 0.5 * (x + right)], axis=3)
        return ops.reshape(x, (-1, 2 * height, 2 * width, channels))

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, 2 * height, 2 * width, channels)


def _regularizer(l2: float):
    return keras.regularizers.L2(l2) if l2 > 0 else None


def _dense(units, name, l2, dtype=None):
    return layers.Dense(
        units,
        name=name,
        kernel_regularizer=_regularizer(l2),
        bias_regularizer=_regularizer(l2),
        dtype=dtype,
    )


def _conv(filters, kernel, name, l2, activation=None, dtype=None):
    return layers.Conv2D(
        filters,
        kernel,
        strides=1,
        padding="same",
        activation=activation,
        name=name,
        kernel_regularizer=_regularizer(l2),
        bias_regularizer=_regularizer(l2),
        dtype=dtype,
    )


def bottleneck_shape(image_size: int, filters: tuple[int, ...]) -> tuple[int, int, int]:
    """Shape of the last encoder feature map: (S/8, S/8, filters[-1])."""
    IMAGE_SIZE.check("image_size", image_size)
    side = image_size // 8
    return side, side, filters[-1]


@dataclasses.dataclass(frozen=True)
class Geometry:
    """What encoder and decoder share.

    Attributes:
        image_size: S, the image side in pixels (multiple of 8).
        bands: B, image bands.
        latent_dim: J.
        filters: Encoder filters of the three blocks (published 64, 64, 16); the
            decoder uses them in reverse order.
        leaky_slope: LeakyReLU negative slope.
        l2: L2 factor on every kernel and bias.
    """

    image_size: int
    bands: int
    latent_dim: int
    filters: tuple[int, ...]
    leaky_slope: float
    l2: float


def build_encoder(
    geometry: Geometry, kernels: tuple[int, ...], name: str = "encoder"
) -> keras.Model:
    """Encoder: three (Conv → LeakyReLU → Conv → LeakyReLU → MaxPool 2×2) blocks.

    Args:
        geometry: Image size, bands, J, filters, slope and L2.
        kernels: Kernel sides of the three blocks (published 3, 5, 5).
        name: The model's name (a second copy, the teacher, needs its own).

    Returns:
        A model mapping (N, S, S, B) images to ``[z_mean, z_log_var]``, each (N, J).
    """
    g = geometry
    bottleneck_shape(g.image_size, g.filters)
    inputs = keras.Input((g.image_size, g.image_size, g.bands), name="encoder_input")
    x = inputs
    for block, (n_filters, kernel) in enumerate(zip(g.filters, kernels, strict=True)):
        for half in (1, 2):
            x = _conv(n_filters, kernel, f"Conv{2 * block + half}", g.l2)(x)
            x = layers.LeakyReLU(negative_slope=g.leaky_slope)(x)
        x = layers.MaxPooling2D(2, name=f"Pool{block + 1}")(x)
    x = layers.Flatten(name="Flat")(x)
    z_mean = _dense(g.latent_dim, "latentmean", g.l2, dtype="float32")(x)
    z_log_var = _dense(g.latent_dim, "latentlog_var", g.l2, dtype="float32")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def build_decoder(
    geometry: Geometry, kernels: tuple[int, ...], upsampling: str = "bilinear"
) -> keras.Model:
    """Decoder: Dense → reshape, three (Conv → LeakyReLU → Conv → LeakyReLU → bilinear ×2) blocks.

    Args:
        geometry: Image size, bands (the final 3×3 ReLU convolution has B filters),
            J, filters, slope and L2.
        kernels: Kernel sides of the three decoder blocks (published 5, 5, 5).
        upsampling: ``"bilinear"`` (Keras 3, half-pixel centres) or
            ``"bilinear_legacy"`` (Keras 2 / TensorFlow 1, as the published network).

    Returns:
        A model mapping (N, J) latent vectors to (N, S, S, B) images.
    """
    UPSAMPLING.check("upsampling", upsampling)
    g = geometry
    shape = bottleneck_shape(g.image_size, g.filters)
    inputs = keras.Input((g.latent_dim,), name="decoder_input")
    x = _dense(shape[0] * shape[1] * shape[2], "FC3", g.l2)(inputs)
    x = layers.LeakyReLU(negative_slope=g.leaky_slope)(x)
    x = layers.Reshape(shape, name="reshape")(x)
    for block, (n_filters, kernel) in enumerate(zip(g.filters[::-1], kernels, strict=True)):
        for half in (1, 2):
            x = _conv(n_filters, kernel, f"Conv{7 + 2 * block + half - 1}", g.l2)(x)
            x = layers.LeakyReLU(negative_slope=g.leaky_slope)(x)
        if upsampling == "bilinear_legacy":
            x = LegacyBilinearUpSampling2D(name=f"Up{block + 1}")(x)
        else:
            x = layers.UpSampling2D(2, interpolation="bilinear", name=f"Up{block + 1}")(x)
    outputs = _conv(g.bands, 3, "Output", g.l2, activation="relu", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="decoder")


def build_projection_head(latent_dim: int, width: int) -> keras.Model:
    """The view-agreement term's projection of μ̃ (method §9c): Dense(width) → ReLU → Dense(width).

    SimCLR's head: the contrastive loss acts on its output, so the latent beneath it
    need not discard everything the term would (float32, no L2 penalty).

    Returns:
        A model mapping (N, J) to (N, width).
    """
    inputs = keras.Input((latent_dim,), name="projection_input")
    x = layers.Dense(width, activation="relu", name="Projection1", dtype="float32")(inputs)
    outputs = layers.Dense(width, name="Projection2", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="projection_head")
