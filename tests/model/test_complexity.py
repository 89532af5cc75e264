"""The input-complexity correction of the anomaly score (method §7b, eq. A5)."""

import io
import math

import numpy as np
import pytest
from PIL import Image

from astrovader.model.complexity import complexity_bits, complexity_corrected

RNG = np.random.default_rng(4)


def png_bits(pixels: np.ndarray, mode: str) -> int:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode=mode).save(buffer, format="PNG", compress_level=9)
    return 8 * len(buffer.getvalue())


def test_the_code_length_is_the_png_of_the_image_quantised_to_8_bits():
    images = RNG.random((3, 20, 20, 1)).astype(np.float32)
    images[1] = 0.0
    images[2, ::3] = 1.0
    want = [png_bits(np.rint(i[..., 0] * 255).astype(np.uint8), "L") for i in images]
    np.testing.assert_array_equal(complexity_bits(images), want)
    colour = RNG.random((2, 12, 12, 3))
    want = [png_bits(np.rint(i * 255).astype(np.uint8), "RGB") for i in colour]
    np.testing.assert_array_equal(complexity_bits(colour), want)
    # Other band counts: the bands side by side as one grey image.
    two = RNG.random((1, 10, 10, 2))
    side = np.concatenate([two[0, ..., 0], two[0, ..., 1]], axis=1)
    assert complexity_bits(two)[0] == png_bits(np.rint(side * 255).astype(np.uint8), "L")


def test_the_threads_give_each_image_its_own_length_in_order():
    images = RNG.random((40, 16, 16, 1)) * np.linspace(0, 1, 40)[:, None, None, None]
    want = [png_bits(np.rint(i[..., 0] * 255).astype(np.uint8), "L") for i in images]
    for workers in (1, 3, None):
        np.testing.assert_array_equal(complexity_bits(images, workers=workers), want)


def test_simple_images_are_short_and_noise_is_long():
    yy, xx = np.mgrid[:32, :32]
    galaxy = np.exp(-((yy - 15.5) ** 2 + (xx - 15.5) ** 2) / 30.0) + RNG.normal(0, 0.02, (32, 32))
    images = np.stack([np.zeros((32, 32)), galaxy, RNG.random((32, 32))])[..., None]
    blank, smooth, noise = complexity_bits(np.clip(images, 0, 1))
    assert blank < smooth < noise
    assert noise > 32 * 32 * 7  # uniform noise does not compress below ~8 bits a pixel


def test_values_outside_zero_one_and_nan_are_clipped_not_wrapped():
    x = np.array([[-0.5, 2.0], [np.nan, 0.5]])[None, ..., None]
    same = np.array([[0.0, 1.0], [0.0, 0.5]])[None, ..., None]
    assert complexity_bits(x)[0] == complexity_bits(same)[0]


def test_the_corrected_score_is_the_log_likelihood_ratio_in_bits():
    log_p = np.array([-100.0, 2500.0, 40.0])
    bits = np.array([800.0, 6000.0, 120.0])
    got = complexity_corrected(log_p, bits, pixels=256)
    want = [lp / math.log(2) - 256 * math.log2(255) + b for lp, b in zip(log_p, bits, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_bad_shapes_are_one_clear_error():
    with pytest.raises(ValueError, match=r"images must be \(N, S, S, B\), got shape \(4, 4\)"):
        complexity_bits(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"one code length per score: \(2,\) against \(3,\)"):
        complexity_corrected(np.zeros(2), np.zeros(3), pixels=4)
