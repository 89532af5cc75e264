"""The anomaly score corrected for input complexity (Serrà et al. 2020; method §7b).

A likelihood model gives simple images high likelihood whatever it was trained on: a
blank stamp or a lone bar is cheap to describe, so log p̂(x) ranks such artefacts as
typical (Nalisnick et al. 2019). Serrà et al. (2020, "Input complexity and
out-of-distribution detection with likelihood-based generative models") subtract what a
generic lossless compressor needs for the same image. With L(x) the length in bits of
the image quantised to 8 bits and written as a PNG, and the model's density made a
probability of the same quantised image (bins of width Δ = 1/255 in each of the D
values, log₂ P̂(x) = log₂ p̂(x) + D log₂ Δ),

  s(x) = log₂ P̂(x) + L(x) = log p̂(x) / ln 2 − D log₂ 255 + L(x)     (eq. A5)

in bits: the log-likelihood ratio of the model against the compressor (whose code
length makes it a probability 2^−L(x)). It is above zero where the model describes
the image better than PNG does, as it should for the galaxies it was trained on, and
low both for complex images it cannot describe (noise) and for simple ones that a
compressor describes far better (blank stamps, bars, rows). Higher is more typical,
as for log p̂(x). NumPy and Pillow only.
"""

from __future__ import annotations

import io
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

__all__ = ["complexity_bits", "complexity_corrected"]

LEVELS = 255
"""The quantisation of the images the compressor sees: ``round(x · 255)`` in 0–255."""


def _png_bytes(image: np.ndarray) -> int:
    """The PNG length of one quantised (S, S, B) uint8 image (bands side by side unless 1 or 3)."""
    bands = image.shape[-1]
    if bands == 1:
        picture = Image.fromarray(image[..., 0], mode="L")
    elif bands == 3:
        picture = Image.fromarray(image, mode="RGB")
    else:
        picture = Image.fromarray(np.concatenate(np.moveaxis(image, -1, 0), axis=1), mode="L")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=9)
    return buffer.tell()


def complexity_bits(images, workers: int | None = None) -> np.ndarray:
    """L(x) (N,): the bits of each image quantised to 8 bits and written as a PNG (eq. A5).

    The PNGs are written by a pool of threads (Pillow's zlib releases the GIL: 1.5×
    faster on two shared cores, measured at 128²), so that the lengths keep up with an
    embedding on a GPU; the lengths are the same whatever the number of threads.

    Args:
        images: (N, S, S, B) values in [0, 1] (clipped to it before quantising).
        workers: Threads (default: the CPU count; 1 writes them one by one).

    Returns:
        float64 code lengths in bits (8 × the PNG's bytes, headers included: the
        same few hundred bits for every image of a shape, so they cancel in a ranking).
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must be (N, S, S, B), got shape {images.shape}")
    quantised = np.rint(np.clip(np.nan_to_num(images, nan=0.0), 0.0, 1.0) * LEVELS)
    quantised = quantised.astype(np.uint8)
    workers = max(1, min(workers or os.cpu_count() or 1, len(quantised)))
    if workers == 1:
        lengths = [_png_bytes(image) for image in quantised]
    else:
        with ThreadPoolExecutor(workers) as pool:
            lengths = list(pool.map(_png_bytes, quantised, chunksize=8))
    return 8.0 * np.array(lengths, dtype=np.float64)


def complexity_corrected(log_p, bits, *, pixels: int) -> np.ndarray:
    """s(x) (N,) = log p̂(x) / ln 2 − D log₂ 255 + L(x), in bits (eq. A5).

    Args:
        log_p: (N,) log p̂(x) in nats (:mod:`astrovader.model.likelihood`, eq. A4).
        bits: (N,) L(x) of :func:`complexity_bits`.
        pixels: D, the values per image (S · S · B).
    """
    log_p = np.asarray(log_p, dtype=np.float64)
    bits = np.asarray(bits, dtype=np.float64)
    if log_p.shape != bits.shape:
        raise ValueError(f"one code length per score: {log_p.shape} against {bits.shape}")
    return log_p / math.log(2.0) - pixels * math.log2(LEVELS) + bits
