"""The reported partition: the best mixture of the final embedding (method §9).

After the last epoch the prior is the mixture that EM kept up with during
training; it was last re-estimated at the start of that epoch, and it is one
local optimum among many. :func:`final_mixture` embeds the training images in
their ``test_views`` flips and quarter turns with the final encoder (the
embedding that ``clusters.csv`` reports), refines the learned mixture by tied EM
on it and makes ``restarts`` fresh fits (k-means and a diagonal Gaussian mixture on
the views' mean μ̃, then the same tied EM on every view), and keeps the one of
highest tied log-likelihood (:func:`~astrovader.model.em.expected_log_likelihood`):
an unsupervised choice
between mixtures of the same form, so the reported partition is never a worse
fit to the final embedding than a mixture fitted afresh to it.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from astrovader.model import em
from astrovader.training.gmm_init import fit_mixture
from astrovader.training.mixture_em import em_step, from_point_fit, published

log = logging.getLogger(__name__)
ITERATIONS = 100
TOLERANCE = 1e-5
FIT_POINTS = 20_000  # the k-means and point mixture of a fresh fit see at most this many images


@dataclasses.dataclass(frozen=True)
class FinalMixture:
    """The mixture kept and what it was chosen from.

    Attributes:
        pi: (K,) weights.
        mu: (K, J) means.
        var: (K, J) variances, or (K, J, J) covariances.
        chosen: ``"learned"`` or ``"refit r"`` (the r-th fresh fit, 1-based).
        scores: Tied log-likelihood of each candidate, by name.
    """

    pi: np.ndarray
    mu: np.ndarray
    var: np.ndarray
    chosen: str
    scores: dict


def _score(zv, log_var, pi, mu, var) -> float:
    return float(em.expected_log_likelihood(zv, pi, mu.T, published(var), log_var))


def refine(zv, log_var, pi, mu, var, iterations: int = ITERATIONS):
    """Tied EM iterations (eqs. A1–A2) until the objective gains less than :data:`TOLERANCE`."""
    score = _score(zv, log_var, pi, mu, var)
    for _ in range(iterations):
        _, pi, mu, var = em_step(zv, log_var, pi, mu, var)
        new = _score(zv, log_var, pi, mu, var)
        if new - score < TOLERANCE * max(abs(score), 1.0):
            return pi, mu, var, new
        score = new
    return pi, mu, var, score


def final_mixture(zv, log_var, learned: dict, restarts: int, seed: int = 0) -> FinalMixture:
    """The best of the learned mixture and ``restarts`` fresh fits, by tied log-likelihood.

    Args:
        zv: (V, N, J) μ̃ of the images' views.
        log_var: (V, N, J) their log σ̃².
        learned: The model's prior (:meth:`~astrovader.model.gmm_prior.GMMPrior.mixture`):
            ``pi`` (K,), ``mu`` and ``var`` (K, J), and ``covariance`` (K, J, J) when full.
        restarts: Fresh fits (seeds ``seed``, ``seed + 1``, …).
        seed: Random state of the first fresh fit.

    Returns:
        The :class:`FinalMixture` kept.
    """
    k = len(learned["pi"])
    full = "covariance" in learned
    spread = learned["covariance"] if full else learned["var"]
    pi, mu, var, score = refine(zv, log_var, learned["pi"], learned["mu"], spread)
    best = FinalMixture(pi, mu, var, "learned", {"learned": score})
    means = zv.mean(0)
    rows = np.random.default_rng(seed).permutation(len(means))[:FIT_POINTS]
    for r in range(restarts):
        mixture = fit_mixture(means[rows], k, seed + r)
        start = (mixture.weights_, mixture.means_, mixture.covariances_)
        pi, mu, var, score = refine(zv, log_var, *from_point_fit(zv, log_var, *start, full))
        best.scores[f"refit {r + 1}"] = score
        if score > best.scores[best.chosen]:
            best = dataclasses.replace(best, pi=pi, mu=mu, var=var, chosen=f"refit {r + 1}")
    log.info(
        "final mixture: %s kept (tied log-likelihood %.4f; learned %.4f, best fresh fit %.4f)",
        best.chosen,
        best.scores[best.chosen],
        best.scores["learned"],
        max((v for name, v in best.scores.items() if name != "learned"), default=float("nan")),
    )
    return best
