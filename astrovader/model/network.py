"""The convolutional encoder and decoder of AstroVaDEr (SPEC §2, paper Fig. 1).

Layer names are those of the published network (Conv1…Conv12, latentmean,
latentlog_var, FC3, Output), so that published weights map one to one.

Layers follow Keras' global dtype policy (mixed precision computes the
convolutions in float16 or bfloat16), except the latent heads and the output
convolution, which always compute in float32: μ̃, log σ̃² and the reconstruction
feed the mixture maths and the losses at full precision.
"""

from __future__ import annotations

import keras
from keras import layers, ops

UPSAMPLING = ("bilinear", "bilinear_legacy")


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
    if image_size % 8:
        raise ValueError(f"image_size must be a multiple of 8, got {image_size}")
    side = image_size // 8
    return side, side, filters[-1]


def build_encoder(
    image_size: int,
    bands: int,
    latent_dim: int,
    filters: tuple[int, ...],
    kernels: tuple[int, ...],
    leaky_slope: float,
    l2: float,
) -> keras.Model:
    """Encoder: three (Conv → LeakyReLU → Conv → LeakyReLU → MaxPool 2×2) blocks.

    Args:
        image_size: S, input side in pixels (multiple of 8).
        bands: B, image bands.
        latent_dim: J.
        filters: Filters of the three blocks (published 64, 64, 16).
        kernels: Kernel sides of the three blocks (published 3, 5, 5).
        leaky_slope: LeakyReLU negative slope.
        l2: L2 factor on every kernel and bias.

    Returns:
        A model mapping (N, S, S, B) images to ``[z_mean, z_log_var]``, each (N, J).
    """
    bottleneck_shape(image_size, filters)
    inputs = keras.Input((image_size, image_size, bands), name="encoder_input")
    x = inputs
    for block, (n_filters, kernel) in enumerate(zip(filters, kernels, strict=True)):
        for half in (1, 2):
            x = _conv(n_filters, kernel, f"Conv{2 * block + half}", l2)(x)
            x = layers.LeakyReLU(negative_slope=leaky_slope)(x)
        x = layers.MaxPooling2D(2, name=f"Pool{block + 1}")(x)
    x = layers.Flatten(name="Flat")(x)
    z_mean = layers.Dense(
        latent_dim,
        name="latentmean",
        kernel_regularizer=_regularizer(l2),
        bias_regularizer=_regularizer(l2),
        dtype="float32",
    )(x)
    z_log_var = layers.Dense(
        latent_dim,
        name="latentlog_var",
        kernel_regularizer=_regularizer(l2),
        bias_regularizer=_regularizer(l2),
        dtype="float32",
    )(x)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def build_decoder(
    image_size: int,
    bands: int,
    latent_dim: int,
    filters: tuple[int, ...],
    kernels: tuple[int, ...],
    leaky_slope: float,
    l2: float,
    upsampling: str = "bilinear",
) -> keras.Model:
    """Decoder: Dense → reshape, three (Conv → LeakyReLU → Conv → LeakyReLU → bilinear ×2) blocks.

    Args:
        image_size: S, output side in pixels.
        bands: B, output bands (final 3×3 ReLU convolution with B filters).
        latent_dim: J.
        filters: The encoder's filters; the decoder uses them in reverse order.
        kernels: Kernel sides of the three decoder blocks (published 5, 5, 5).
        leaky_slope: LeakyReLU negative slope.
        l2: L2 factor on every kernel and bias.
        upsampling: ``"bilinear"`` (Keras 3, half-pixel centres) or
            ``"bilinear_legacy"`` (Keras 2 / TensorFlow 1, as the published network).

    Returns:
        A model mapping (N, J) latent vectors to (N, S, S, B) images.
    """
    if upsampling not in UPSAMPLING:
        raise ValueError(f"upsampling must be one of {UPSAMPLING}, got {upsampling!r}")
    shape = bottleneck_shape(image_size, filters)
    inputs = keras.Input((latent_dim,), name="decoder_input")
    x = layers.Dense(
        shape[0] * shape[1] * shape[2],
        name="FC3",
        kernel_regularizer=_regularizer(l2),
        bias_regularizer=_regularizer(l2),
    )(inputs)
    x = layers.LeakyReLU(negative_slope=leaky_slope)(x)
    x = layers.Reshape(shape, name="reshape")(x)
    for block, (n_filters, kernel) in enumerate(zip(filters[::-1], kernels, strict=True)):
        for half in (1, 2):
            x = _conv(n_filters, kernel, f"Conv{7 + 2 * block + half - 1}", l2)(x)
            x = layers.LeakyReLU(negative_slope=leaky_slope)(x)
        if upsampling == "bilinear_legacy":
            x = LegacyBilinearUpSampling2D(name=f"Up{block + 1}")(x)
        else:
            x = layers.UpSampling2D(2, interpolation="bilinear", name=f"Up{block + 1}")(x)
    outputs = _conv(bands, 3, "Output", l2, activation="relu", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="decoder")
