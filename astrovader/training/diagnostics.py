"""Failure detection: a collapsed or degenerate run is named, with the key to change (method §9).

Four checks, each a pure function of what a run already has:

- a collapsed embedding: the spread of μ̃ (the largest standard deviation of a
  latent dimension over the images) below :data:`COLLAPSED_SPREAD`, as when an L2
  penalty too strong for the image size pulls every posterior to the prior;
- at most one occupied component: one component holds all but a few images
  (occupied = at least :data:`OCCUPIED_FRACTION` of the images by argmax γ);
- a reconstruction that stopped improving: over γ-training, the best
  reconstruction loss after epoch 3 is within :data:`STALL_TOLERANCE` of epoch 3's;
- a learning rate near its floor early: at the GMM initialisation the learning
  rate has decayed below a tenth of ``optimizer.learning_rate``, so the joint
  phase hardly moves the partition away from its initialisation;
- and, at the end: empty components, fewer than :data:`PER_COMPONENT` training
  images per component (K close to N), and no validation images.

:func:`check_initialisation` runs on the μ̃ of the GMM initialisation, and
:func:`check_run` at the end of ``fit``; the warnings go to the log, to the run
directory's ``warnings.txt`` and to the report.
"""

from __future__ import annotations

import numpy as np

from astrovader.errors import CollapseError
from astrovader.training.phases.schedule import learning_rate_at

__all__ = [
    "COLLAPSED_SPREAD",
    "OCCUPIED_FRACTION",
    "PER_COMPONENT",
    "STALL_FROM",
    "STALL_TOLERANCE",
    "check_initialisation",
    "check_run",
    "collapsed",
    "early_floor",
    "empty_components",
    "single_cluster",
    "small_sample",
    "stalled",
]

COLLAPSED_SPREAD = 1e-3
OCCUPIED_FRACTION = 0.01
STALL_TOLERANCE = 0.01
STALL_FROM = 2
PER_COMPONENT = 20


def collapsed(embedding: np.ndarray) -> str | None:
    """A warning if μ̃ (N, J) hardly varies between images, else None."""
    spread = float(np.max(np.std(embedding, axis=0))) if len(embedding) > 1 else 0.0
    if spread >= COLLAPSED_SPREAD:
        return None
    return (
        f"collapsed embedding: the spread of μ̃ is {spread:.2g} (below {COLLAPSED_SPREAD}); "
        "every image maps to nearly the same point, so no clusters can form. Lower "
        'model.l2 (or set model.l2_scaling = "pixels") or loss.gamma'
    )


def single_cluster(labels: np.ndarray, n_clusters: int, config=None) -> str | None:
    """A warning if at most one of K components holds ≥ 1 % of the images.

    The advice follows the run's method: a setting it does not use yet, or, with
    the package's mixture options already on, the embedding itself.
    """
    sizes = np.bincount(np.asarray(labels, int), minlength=n_clusters)
    occupied = int(np.sum(sizes >= OCCUPIED_FRACTION * max(len(labels), 1)))
    if occupied > 1 or n_clusters == 1:
        return None
    mixture = None if config is None else config.mixture
    if mixture is not None and mixture.update != "em":
        advice = 'set mixture.update = "em" and mixture.final_fits = 10 (the package defaults)'
    elif mixture is not None and mixture.final_fits == 0:
        advice = "set mixture.final_fits = 10 (fresh mixtures of the final embedding)"
    else:
        advice = (
            "the embedding itself shows no groups: lower model.l2 or loss.gmm_scale, train "
            "longer (schedule.gamma_epochs) or on more images"
        )
    return (
        f"one cluster: {occupied} of {n_clusters} components hold at least "
        f"{OCCUPIED_FRACTION:.0%} of the images. {advice[0].upper()}{advice[1:]}"
    )


def stalled(rows: list[dict], gamma_epochs: int) -> str | None:
    """A warning if the γ-training reconstruction loss stopped falling after epoch 3."""
    values = [float(r["reconstruction"]) for r in rows if r.get("phase") == "gamma"]
    values = [v for v in values if np.isfinite(v)]
    if len(values) <= STALL_FROM + 3:
        return None
    reference, best = values[STALL_FROM], min(values[STALL_FROM + 1 :])
    if best < reference * (1 - STALL_TOLERANCE):
        return None
    return (
        f"reconstruction stalled: the loss did not fall below {reference:.4g} (epoch "
        f"{STALL_FROM + 1}) in the rest of γ-training. The posterior may have collapsed; "
        "lower model.l2 or raise optimizer.learning_rate"
    )


def early_floor(config) -> str | None:
    """A warning if the learning rate is below lr₀/10 when joint training starts."""
    opt, schedule = config.optimizer, config.schedule
    if schedule.gamma_epochs >= schedule.total_epochs or opt.min_learning_rate >= opt.learning_rate:
        return None
    at_init = learning_rate_at(schedule.gamma_epochs, opt, schedule.total_epochs)
    if at_init >= opt.learning_rate / 10:
        return None
    return (
        f"learning rate near its floor early: {at_init:.2g} at the GMM initialisation "
        f"(optimizer.learning_rate = {opt.learning_rate:g}), so joint training hardly moves "
        "the clusters. Raise optimizer.min_learning_rate or optimizer.decay_every"
    )


def empty_components(labels: np.ndarray, n_clusters: int) -> str | None:
    """A warning naming the components that hold no image (by argmax γ)."""
    sizes = np.bincount(np.asarray(labels, int), minlength=n_clusters)
    empty = [str(c) for c in np.flatnonzero(sizes == 0)]
    if not empty or len(empty) >= n_clusters - 1:
        return None  # none, or the one-cluster warning says it
    named = (
        f"component {empty[0]} holds" if len(empty) == 1 else f"components {', '.join(empty)} hold"
    )
    return (
        f"empty components: {named} no image ({len(empty)} of the {n_clusters}, numbered from 0), "
        "so the data support fewer clusters than model.n_clusters; lower it or run "
        "astrovader pick-k"
    )


def small_sample(n_train: int, n_val: int, n_clusters: int) -> list[str]:
    """Warnings for K close to N and for a run without validation images."""
    found = []
    if n_train < PER_COMPONENT * n_clusters:
        found.append(
            f"few images per component: {n_train} training images for model.n_clusters = "
            f"{n_clusters} (under {PER_COMPONENT} each), too few to estimate a mixture; "
            "lower model.n_clusters or add images"
        )
    if n_val == 0:
        found.append(
            "no validation images: the val_ losses cannot show overfitting; set "
            "data.validation_fraction (0.03 in the paper)"
        )
    return found


def check_initialisation(embedding: np.ndarray, force: bool) -> list[str]:
    """The collapse check at the GMM initialisation.

    Raises:
        CollapseError: the embedding collapsed and ``force`` is False.
    """
    found = collapsed(embedding)
    if found and not force:
        raise CollapseError(f"{found} (fit --force trains on anyway)")
    return [found] if found else []


def check_run(embedding, labels, *, n_clusters: int, rows: list[dict], config, sizes=(0, 0)):
    """Every check on a finished run: μ̃ and argmax γ of a sample, history, config, data sizes.

    Args:
        embedding: (N, J) μ̃ of a sample of the training images.
        labels: (N,) their argmax γ.
        n_clusters: K.
        rows: ``history.csv`` rows.
        config: The run's configuration.
        sizes: (training images, validation images).
    """
    found = (
        collapsed(embedding),
        single_cluster(labels, n_clusters, config),
        empty_components(labels, n_clusters),
        stalled(rows, config.schedule.gamma_epochs),
        early_floor(config),
    )
    return [f for f in found if f] + small_sample(*sizes, n_clusters)
