"""The Dirichlet-process cluster count (method §6, paper §4.1), framework-free.

Fit scikit-learn's ``BayesianGaussianMixture`` in its Dirichlet-process
(stick-breaking) mode, with ``max_components`` components, on ``fits``
independent random mini-batches of ``batch_size`` embedded samples. Components
the data do not need are driven to a weight of about one sample's worth
(≈ 1/B); a component *counts* when its weight exceeds ``threshold`` (default
0.01: it explains more than 1 % of the mini-batch). The consensus K is the mode
of the per-fit counts (the smaller K on a tie); the spread is their distribution.

The mixtures are diagonal (``covariance_type="diag"``), like the model's prior,
so a count is the number of diagonal Gaussians the embedding needs.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from astrovader._progress import progress_bar
from astrovader.config.rules import SECTION_RULES
from astrovader.config.sections import PickKConfig
from astrovader.errors import AstrovaderError

__all__ = ["DEFAULTS", "MAX_ITER", "PickKResult", "check_settings", "choose_k", "count_components"]

DEFAULTS = PickKConfig()
MAX_ITER = 500


@dataclasses.dataclass(frozen=True)
class PickKResult:
    """The per-fit component counts of :func:`count_components`.

    Attributes:
        counts: (F,) components with weight above ``threshold`` in each fit.
        weights: (F, C) each fit's mixture weights, sorted in decreasing order.
        converged: (F,) whether each fit's variational inference converged.
        threshold: The weight a component must exceed to count.
        batch_size: Samples per fit (``min(batch_size, N)``).
        n_samples: N, the size of the embedding the batches were drawn from.
    """

    counts: np.ndarray
    weights: np.ndarray
    converged: np.ndarray
    threshold: float
    batch_size: int
    n_samples: int

    def histogram(self) -> dict[int, int]:
        """Number of fits (value) that found each count (key), in increasing K."""
        values, frequencies = np.unique(self.counts, return_counts=True)
        return {int(v): int(f) for v, f in zip(values, frequencies, strict=True)}

    @property
    def consensus(self) -> int:
        """The most frequent count (the smallest of equally frequent ones)."""
        histogram = self.histogram()
        return max(histogram, key=lambda k: (histogram[k], -k))

    def spread(self) -> dict[str, float]:
        """Minimum, quartiles, maximum, IQR and the fraction of fits agreeing with the consensus."""
        q1, median, q3 = np.percentile(self.counts, [25, 50, 75])
        return {
            "min": int(self.counts.min()),
            "q1": float(q1),
            "median": float(median),
            "q3": float(q3),
            "max": int(self.counts.max()),
            "iqr": float(q3 - q1),
            "agreement": float(np.mean(self.counts == self.consensus)),
        }

    def summary(self) -> dict:
        """JSON-ready summary: consensus, spread, histogram and settings."""
        return {
            "consensus": self.consensus,
            "spread": self.spread(),
            "histogram": {str(k): v for k, v in self.histogram().items()},
            "fits": len(self.counts),
            "converged_fits": int(self.converged.sum()),
            "max_components": int(self.weights.shape[1]),
            "threshold": self.threshold,
            "batch_size": self.batch_size,
            "n_samples": self.n_samples,
        }


def check_settings(**settings) -> None:
    """Reject impossible pick-k settings (the ``[pick_k]`` rules) with a one-line error.

    Raises:
        AstrovaderError: ``"pick-k KEY must be …, got VALUE"``.
    """
    for key, value in settings.items():
        try:
            SECTION_RULES["pick_k"][key].check(f"pick-k {key}", value)
        except ValueError as exc:
            raise AstrovaderError(str(exc)) from None


def count_components(
    embedding,
    fits: int = DEFAULTS.fits,
    *,
    batch_size: int = DEFAULTS.batch_size,
    max_components: int = DEFAULTS.max_components,
    threshold: float = DEFAULTS.threshold,
    seed: int = 0,
    concentration: float | None = None,
    progress: bool = False,
) -> PickKResult:
    """Count the effective Dirichlet-process components on independent mini-batches.

    Args:
        embedding: (N, J) embedded samples (the model's μ̃).
        fits: F, the number of mini-batches and fits.
        batch_size: B, samples per mini-batch, drawn without replacement
            (all N samples when B ≥ N; the fits then differ only in their start).
        max_components: C, the truncation of the Dirichlet process.
        threshold: The weight a component must exceed to count. It must be
            above 1/B, about the weight of a component with no samples.
        seed: Seed of the mini-batch draws and of the fits.
        concentration: The Dirichlet-process concentration (scikit-learn's
            ``weight_concentration_prior``; ``None`` is its default 1/C).
        progress: Show a progress bar over the fits.

    Returns:
        The per-fit counts and weights.

    Raises:
        AstrovaderError: bad settings, a non-finite embedding, or fewer
            samples per batch than C + 1.
    """
    from sklearn.exceptions import ConvergenceWarning  # imported on use: a fast command line
    from sklearn.mixture import BayesianGaussianMixture

    check_settings(
        fits=fits,
        batch_size=batch_size,
        max_components=max_components,
        threshold=threshold,
        concentration=concentration,
    )
    x = np.asarray(embedding, dtype="float64")
    if x.ndim != 2 or not np.isfinite(x).all():
        raise AstrovaderError(f"pick-k needs a finite (N, J) embedding, got shape {x.shape}")
    size = min(batch_size, len(x))
    if size <= max_components:
        raise AstrovaderError(
            f"pick-k max_components = {max_components} needs mini-batches of more samples "
            f"than that, got {size} (N = {len(x)})"
        )
    if threshold * size <= 1.0:
        raise AstrovaderError(
            f"pick-k threshold = {threshold} is not above 1/B = {1 / size:.3g}: "
            "empty components would count"
        )
    rng = np.random.default_rng(seed)
    weights = np.zeros((fits, max_components))
    converged = np.zeros(fits, dtype=bool)
    for f in progress_bar(range(fits), desc="pick-k fits", disable=not progress, leave=False):
        batch = x[rng.choice(len(x), size, replace=False)]
        mixture = BayesianGaussianMixture(
            n_components=max_components,
            covariance_type="diag",
            weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=concentration,
            max_iter=MAX_ITER,
            random_state=int(rng.integers(2**31 - 1)),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mixture.fit(batch)
        weights[f] = np.sort(mixture.weights_)[::-1]
        converged[f] = mixture.converged_
    return PickKResult(
        counts=(weights > threshold).sum(axis=1),
        weights=weights,
        converged=converged,
        threshold=float(threshold),
        batch_size=size,
        n_samples=len(x),
    )


def choose_k(embedding, **settings) -> int:
    """The consensus K of :func:`count_components` (same keyword arguments)."""
    return count_components(embedding, **settings).consensus
