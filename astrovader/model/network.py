"""The convolutional encoder and decoder of AstroVaDEr (SPEC §2, paper Fig. 1).

Layer names are those of the published network (Conv1…Conv12, latentmean,
latentlog_var, FC3, Output), so that published weights map one to one.
"""

from __future__ import annotations

import keras
from keras import layers


def _regularizer(l2: float):
    return keras.regularizers.L2(l2) if l2 > 0 else None


def _conv(filters, kernel, name, l2, activation=None):
    return layers.Conv2D(
        filters,
        kernel,
        strides=1,
        padding="same",
        activation=activation,
        name=name,
        kernel_regularizer=_regularizer(l2),
        bias_regularizer=_regularizer(l2),
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
    )(x)
    z_log_var = layers.Dense(
        latent_dim,
        name="latentlog_var",
        kernel_regularizer=_regularizer(l2),
        bias_regularizer=_regularizer(l2),
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

    Returns:
        A model mapping (N, J) latent vectors to (N, S, S, B) images.
    """
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
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"Up{block + 1}")(x)
    outputs = _conv(bands, 3, "Output", l2, activation="relu")(x)
    return keras.Model(inputs, outputs, name="decoder")
