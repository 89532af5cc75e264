"""Import the published AstroVaDEr network (Keras 2.3.1 HDF5 weights) without retraining.

The published file (``astrovader_paper_weights.h5``) was written by Keras 2.3.1's
``save_weights`` on TensorFlow 1.15: one HDF5 group per layer, named as in method §2,
whose ``weight_names`` attribute lists its arrays, e.g. ``Conv1/Conv1/kernel:0``
(kh, kw, in, out), ``FC3/FC3/bias:0``, and for the mixture prior
``latentGMM_Layer/theta_p:0`` (K,), ``u_p:0`` (J, K) and ``lambda_p:0`` (J, K).
A whole-model file (weights under ``model_weights``) is read the same way.

Every array is copied into :class:`~astrovader.model.vade.AstroVaDEr` by its layer
name. The geometry (S, B, J, K, filters, kernel sides) is read from the array
shapes; the other settings are the published ones (LeakyReLU 0.1, L2 0.01, MSE,
λ = 50). π is kept exactly as stored: it is not normalised (it sums to 28.1).

Two details of the published graph:

* ``gaussian_noise_1`` after the input adds N(0, 10⁻⁸) noise during training only;
  it has no weights and inference is unaffected, so it is not reproduced.
* Keras 2.3 ``UpSampling2D(interpolation="bilinear")`` is TensorFlow 1's
  ``resize_bilinear`` without half-pixel centres, which Keras 3 does differently;
  the imported decoder uses ``upsampling="bilinear_legacy"`` to match it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import h5py
import numpy as np

from astrovader.errors import AstrovaderError
from astrovader.model.vade import AstroVaDEr

__all__ = [
    "DECODER_LAYERS",
    "ENCODER_LAYERS",
    "PRIOR_LAYER",
    "PUBLISHED_SETTINGS",
    "import_paper_weights",
    "read_paper_arrays",
]

ENCODER_LAYERS = (*(f"Conv{i}" for i in range(1, 7)), "latentmean", "latentlog_var")
DECODER_LAYERS = ("FC3", *(f"Conv{i}" for i in range(7, 13)), "Output")
PRIOR_LAYER = "latentGMM_Layer"
PUBLISHED_SETTINGS = {
    "leaky_slope": 0.1,
    "l2": 0.01,
    "reconstruction": "mse",
    "minmax_lambda": 50.0,
    "upsampling": "bilinear_legacy",
}


def import_paper_weights(path: str | os.PathLike) -> AstroVaDEr:
    """Build an :class:`AstroVaDEr` holding the published weights and mixture prior.

    Args:
        path: The Keras 2 HDF5 weights file.

    Returns:
        The model, prior initialised (π, μ, σ² as published), ready to save or use.

    Raises:
        AstrovaderError: the file is missing or not HDF5, a layer or weight is
            missing, or an array has the wrong shape; the message names the file
            and the layer.
    """
    path = Path(path)
    arrays, prior = read_paper_arrays(path)
    model = AstroVaDEr(**_geometry(arrays, prior, path), **PUBLISHED_SETTINGS)
    for name, values in arrays.items():
        part = model.encoder if name in ENCODER_LAYERS else model.decoder
        layer = part.get_layer(name)
        for variable, value, what in zip(layer.weights, values, ("kernel", "bias"), strict=True):
            _check_shape(path, name, what, value, tuple(variable.shape))
        layer.set_weights(list(values))
    j, k = model.latent_dim, model.n_clusters
    for what, value, shape in zip(
        ("theta_p", "u_p", "lambda_p"), prior, ((k,), (j, k), (j, k)), strict=True
    ):
        _check_shape(path, PRIOR_LAYER, what, value, shape)
    pi, mu, var = prior
    if not (np.all(pi > 0) and np.all(var > 0)):
        raise AstrovaderError(f"{path}: layer {PRIOR_LAYER!r}: theta_p and lambda_p must be > 0")
    model.prior.set_mixture(pi, mu.T, var=var.T)
    return model


def read_paper_arrays(path: Path) -> tuple[dict[str, tuple[np.ndarray, ...]], tuple]:
    """The (kernel, bias) of every network layer and (π, μ, σ²) of the prior, as stored.

    Raises:
        AstrovaderError: missing or unreadable file, missing layer or weight.
    """
    try:
        handle = h5py.File(path, "r")
    except (OSError, ValueError) as exc:
        reason = "no such file" if not path.exists() else f"not a Keras HDF5 file ({exc})"
        raise AstrovaderError(f"{path}: cannot read weights: {reason}") from None
    with handle:
        root = handle["model_weights"] if "model_weights" in handle else handle
        arrays = {
            name: _weights(root, path, name, ("kernel:0", "bias:0"))
            for name in ENCODER_LAYERS + DECODER_LAYERS
        }
        prior = _weights(root, path, PRIOR_LAYER, ("theta_p:0", "u_p:0", "lambda_p:0"))
    return arrays, prior


def _weights(root: h5py.Group, path: Path, layer: str, wanted: tuple[str, ...]):
    if layer not in root:
        raise AstrovaderError(f"{path}: layer {layer!r} is missing from the weights file")
    group = root[layer]
    names = [
        n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs.get("weight_names", [])
    ]
    by_suffix = {name.rsplit("/", 1)[-1]: name for name in names}
    values = []
    for weight in wanted:
        if weight not in by_suffix or by_suffix[weight] not in group:
            raise AstrovaderError(f"{path}: layer {layer!r} has no weight {weight!r}")
        values.append(np.asarray(group[by_suffix[weight]], dtype=np.float32))
    return tuple(values)


def _geometry(arrays, prior, path: Path) -> dict:
    """Image side, bands, J, K, filters and kernel sides implied by the array shapes."""
    conv = {name: arrays[name][0].shape for name in arrays if arrays[name][0].ndim == 4}
    for name in ("Conv1", "Conv3", "Conv5", "Conv7", "Conv9", "Conv11"):
        if name not in conv:
            raise AstrovaderError(f"{path}: layer {name!r}: kernel is not a 2-D convolution")
    fc3 = arrays["FC3"][0]
    if prior[0].ndim != 1:
        raise AstrovaderError(f"{path}: layer {PRIOR_LAYER!r}: theta_p must be a vector")
    if fc3.ndim != 2:
        raise AstrovaderError(f"{path}: layer 'FC3': kernel has shape {fc3.shape}, expected 2-D")
    filters = tuple(conv[name][3] for name in ("Conv1", "Conv3", "Conv5"))
    side = math.isqrt(fc3.shape[1] // filters[-1])
    if side * side * filters[-1] != fc3.shape[1]:
        raise AstrovaderError(
            f"{path}: layer 'FC3': {fc3.shape[1]} units is not side² × {filters[-1]} filters"
        )
    return {
        "image_size": 8 * side,
        "bands": conv["Conv1"][2],
        "latent_dim": fc3.shape[0],
        "n_clusters": prior[0].shape[0],
        "filters": filters,
        "kernels": tuple(conv[name][0] for name in ("Conv1", "Conv3", "Conv5")),
        "decoder_kernels": tuple(conv[name][0] for name in ("Conv7", "Conv9", "Conv11")),
    }


def _check_shape(path: Path, layer: str, what: str, value: np.ndarray, shape: tuple) -> None:
    if tuple(value.shape) != tuple(shape):
        raise AstrovaderError(
            f"{path}: layer {layer!r}: {what} has shape {tuple(value.shape)}, expected {shape}"
        )
