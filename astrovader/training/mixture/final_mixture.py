"""The reported partition: the best mixture of the final embedding (method §9).

After the last epoch the prior is the mixture that EM kept up with during
training, one local optimum among many, and of the covariance form it was trained
with. :func:`final_mixture` takes the embedding that ``clusters.csv`` reports, the
z of every training image (the mean μ̃ of its ``augment.test_views`` flips and
quarter turns, :meth:`~astrovader.model.api.InferenceMixin.embed`), and compares by
BIC (an unsupervised criterion that weighs the full covariances' extra
parameters) the learned mixture refined by EM on it, in diagonal and in full
form, with ``final_fits`` fresh mixtures of each form (scikit-learn's
``GaussianMixture``, k-means starts). The best is the reported partition: it is
never a worse fit to the final embedding than a mixture fitted afresh to it. When
a full mixture wins, the model is rebuilt with a full-covariance prior
(:func:`with_covariance`), so that its γ, ``embed`` and ``generate`` use it.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings

import keras
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

__all__ = [
    "FINAL_FORMS",
    "FIT_POINTS",
    "REG_COVAR",
    "FinalMixture",
    "choose_final_mixture",
    "with_covariance",
]

log = logging.getLogger(__name__)
FIT_POINTS = 50_000  # the fresh fits see at most this many embeddings (a seeded sample)
REG_COVAR = 1e-6
FINAL_FORMS = {"bic": ("diag", "full"), "diag": ("diag",), "full": ("full",)}


@dataclasses.dataclass(frozen=True)
class FinalMixture:
    """The mixture kept and what it was chosen from.

    Attributes:
        pi: (K,) weights.
        mu: (K, J) means.
        var: (K, J) variances, or (K, J, J) covariances.
        covariance: ``"diag"`` or ``"full"``.
        chosen: The candidate kept (``"learned, full"``, ``"fresh diag 3"``, …).
        bic: The BIC of each candidate, by name (lower is better).
    """

    pi: np.ndarray
    mu: np.ndarray
    var: np.ndarray
    covariance: str
    chosen: str
    bic: dict


def _fit(z, k: int, kind: str, seed: int, start=None) -> GaussianMixture:
    if start is None:
        mixture = GaussianMixture(k, covariance_type=kind, random_state=seed, reg_covar=REG_COVAR)
    else:
        pi, mu, var = start
        var = np.asarray(var, dtype="float64")
        if kind == "diag":
            precisions = 1.0 / (var if var.ndim == 2 else np.stack([np.diag(c) for c in var]))
        else:
            precisions = (
                np.linalg.inv(var) if var.ndim == 3 else np.stack([np.diag(1.0 / v) for v in var])
            )
        mixture = GaussianMixture(
            k,
            covariance_type=kind,
            weights_init=pi / pi.sum(),
            means_init=mu,
            precisions_init=precisions,
            random_state=seed,
            reg_covar=REG_COVAR,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return mixture.fit(z)


def choose_final_mixture(
    z, learned: dict, *, fits: int, seed: int = 0, forms=("diag", "full")
) -> FinalMixture:
    """The lowest-BIC mixture of the embedding ``z`` among the learned one and fresh fits.

    Args:
        z: (N, J) the embedding of the training images.
        learned: The model's prior (:meth:`~astrovader.model.gmm_prior.GMMPrior.mixture`):
            ``pi`` (K,), ``mu`` and ``var`` (K, J), and ``covariance`` (K, J, J) when full.
        fits: Fresh fits of each form (seeds ``seed``, ``seed + 1``, …).
        seed: Random state of the first fresh fit.
        forms: The covariance forms considered.

    Returns:
        The :class:`FinalMixture` kept.
    """
    z = np.asarray(z, dtype="float64")
    k = len(learned["pi"])
    start = (np.asarray(learned["pi"], float), learned["mu"], learned["var"])
    candidates = {f"learned, {kind}": _fit(z, k, kind, seed, start) for kind in forms}
    rows = np.random.default_rng(seed).permutation(len(z))[:FIT_POINTS]
    for kind in forms:
        for r in range(fits):
            fresh = _fit(z[rows], k, kind, seed + r)
            if len(rows) < len(z):  # fitted on a sample: refined on every embedding
                fresh = _fit(
                    z, k, kind, seed + r, (fresh.weights_, fresh.means_, fresh.covariances_)
                )
            candidates[f"fresh {kind} {r + 1}"] = fresh
    bic = {name: float(mixture.bic(z)) for name, mixture in candidates.items()}
    chosen = min(bic, key=bic.get)
    best = candidates[chosen]
    log.info(
        "final mixture: %s kept (BIC %.1f; learned %s)",
        chosen,
        bic[chosen],
        ", ".join(f"{kind} {bic[f'learned, {kind}']:.1f}" for kind in forms),
    )
    return FinalMixture(
        best.weights_, best.means_, best.covariances_, best.covariance_type, chosen, bic
    )


def with_covariance(model, covariance: str):
    """The same trained model with a prior of another covariance form, its weights carried.

    Every variable is copied in order (layer names repeat between the encoder and
    its teacher, so paths do not identify them), except the precision factors that
    only a full prior holds; the new prior's covariances are set by the caller
    (:meth:`~astrovader.model.gmm_prior.GMMPrior.set_mixture`). Call it in the
    strategy scope and dtype policy the model was built in.
    """
    new = type(model).from_config({**model.get_config(), "covariance": covariance})

    def carried(m):
        extra = m.prior.precision_cholesky
        return [v for v in m.variables if extra is None or v is not extra]

    old_vars, new_vars = carried(model), carried(new)
    if len(old_vars) != len(new_vars):
        raise ValueError("the rebuilt model does not have the same variables")
    for old, fresh in zip(old_vars, new_vars, strict=True):
        if tuple(old.shape) != tuple(fresh.shape):
            raise ValueError(f"{fresh.path}: shape {fresh.shape} is not {old.shape}")
        fresh.assign(keras.ops.convert_to_numpy(old))
    new.compile(optimizer=type(model.optimizer).from_config(model.optimizer.get_config()))
    new.skip_nonfinite = model.skip_nonfinite
    return new
