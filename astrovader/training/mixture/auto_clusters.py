"""``model.n_clusters = "auto"``: choose K at the GMM initialisation and resize the prior.

K is fixed when the model is built, so an ``"auto"`` run is built with a
one-component placeholder prior (:data:`PLACEHOLDER_CLUSTERS`). The prior is
frozen and carries no weight in the loss during γ-training, so the placeholder
changes nothing there. At the end of γ-training pick-k runs on the γ-trained
embedding; the model is rebuilt with the chosen K, carrying every weight and
the optimizer state across (the prior's, frozen until then, are unused), and
training continues with the GMM initialisation of the K-component prior.
"""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import keras
import numpy as np

from astrovader.errors import AstrovaderError
from astrovader.training.mixture.pick_k import count_components
from astrovader.training.mixture.pick_k_report import describe, write_report

__all__ = [
    "PLACEHOLDER_CLUSTERS",
    "auto_model_config",
    "checkpoint_clusters",
    "choose_clusters",
    "pick_clusters",
    "rebuild_with_clusters",
]

PLACEHOLDER_CLUSTERS = 1
log = logging.getLogger(__name__)


def checkpoint_clusters(path: str | Path) -> int:
    """K of the prior saved in a ``.weights.h5`` checkpoint (its π has shape (K,)).

    Raises:
        AstrovaderError: the file holds no GMM prior.
    """
    with h5py.File(path, "r") as handle:
        layers = handle.get("layers", {})
        priors = sorted(name for name in layers if name.startswith("gmm_prior"))
        if not priors:
            raise AstrovaderError(f"{path}: no GMM prior in this checkpoint")
        return int(layers[priors[0]]["vars"]["0"].shape[0])


def rebuild_with_clusters(model, n_clusters: int, **compile_options):
    """The same AstroVaDEr with a K-component prior, its weights and optimizer state carried over.

    Every model variable and optimizer slot is copied, in order, except those
    whose shape depends on K (the prior's π, μ, σ² and their Adam moments),
    which start afresh. Python attributes set after construction (such as
    ``skip_nonfinite``) are not carried: set them again.

    Call it in the distribution-strategy scope and dtype policy the original
    was built in.

    Args:
        model: A compiled AstroVaDEr whose prior is not yet initialised.
        n_clusters: The new K.
        **compile_options: Further ``compile`` arguments (``jit_compile``).

    Returns:
        The new model, compiled with a copy of the optimizer.
    """
    if model.prior.is_initialized:
        raise ValueError("the prior is already initialised; rebuild only before the GMM init")
    if not model.optimizer.built:  # no step taken yet (gamma_epochs = 0)
        model.optimizer.build(model.trainable_variables)
    new = type(model).from_config({**model.get_config(), "n_clusters": int(n_clusters)})
    optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
    new.compile(optimizer=optimizer, **compile_options)
    optimizer.build(new.trainable_variables)
    for old_vars, new_vars in (
        (model.variables, new.variables),
        (model.optimizer.variables, optimizer.variables),
    ):
        if len(old_vars) != len(new_vars):
            raise ValueError("the rebuilt model does not have the same variables")
        for old, fresh in zip(old_vars, new_vars, strict=True):
            if tuple(old.shape) == tuple(fresh.shape):
                fresh.assign(keras.ops.convert_to_numpy(old))
    return new


def pick_clusters(embedding: np.ndarray, out: str | Path, seed: int = 0, **settings) -> int:
    """Run pick-k on an embedding, write its report into ``out`` and return the consensus K.

    Args:
        embedding: (N, J) γ-trained embeddings μ̃.
        out: The report directory (``RUN/pick_k``).
        seed: Seed of the mini-batches and fits.
        **settings: ``fits``, ``batch_size``, ``max_components``, ``threshold``
            and ``concentration`` of :func:`~astrovader.training.mixture.pick_k.count_components`.
    """
    result = count_components(embedding, seed=seed, **settings)
    write_report(
        out, result, {"data": "γ-trained embedding of the run's GMM-initialisation batches"}
    )
    log.info("n_clusters = auto: %s", describe(result))
    return result.consensus


def choose_clusters(model, embedding, *, out: str | Path, seed: int = 0, settings=None, **compile):
    """pick-k on the γ-trained embedding, then the model with the chosen K.

    Call it in the distribution-strategy scope and dtype policy the model was built in.

    Args:
        model: The compiled model at the end of γ-training (placeholder prior).
        embedding: (N, J) its embeddings μ̃ of the GMM-initialisation batches.
        out: The pick-k report directory (``RUN/pick_k``).
        seed: Seed of the mini-batches and fits.
        settings: Keyword arguments of :func:`pick_clusters` (the ``[pick_k]`` section).
        **compile: Further ``compile`` arguments of a rebuilt model (``jit_compile``).

    Returns:
        ``model`` itself if it already has the chosen K, else the rebuilt model.
    """
    k = pick_clusters(embedding, out, seed, **(settings or {}))
    return model if k == model.n_clusters else rebuild_with_clusters(model, k, **compile)


def auto_model_config(config, checkpoint: str | Path | None = None):
    """The configuration a run's model is built from.

    ``model.n_clusters = "auto"`` becomes the K of ``checkpoint`` (a resumed
    run) or the placeholder (a new run); any other configuration is returned as is.
    """
    if config.model.n_clusters != "auto":
        return config
    k = PLACEHOLDER_CLUSTERS if checkpoint is None else checkpoint_clusters(checkpoint)
    return config.replace(model={"n_clusters": k})
