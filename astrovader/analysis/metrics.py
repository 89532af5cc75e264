"""Clustering tables and scores from γ and the embeddings (method §7; framework-free).

Every function takes NumPy arrays: γ (N, K) cluster probabilities, z (N, J)
deterministic embeddings μ̃ and integer component labels (N,) (the argmax of γ).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp
from sklearn import metrics

__all__ = [
    "clustering_accuracy",
    "clustering_scores",
    "confusion",
    "hungarian_matching",
    "marginal_log_likelihood",
    "mean_gamma_matrix",
    "occupancy",
    "per_component_mean",
    "simplified_silhouette",
]


def occupancy(gamma: np.ndarray, cuts=(0.5, 0.8, 0.95)) -> dict[str, np.ndarray]:
    """Objects per component by argmax γ and with γ above each cut (paper Table 2).

    Args:
        gamma: (N, K) cluster probabilities.
        cuts: γ thresholds; an object counts in every component where γ > cut.

    Returns:
        ``argmax`` (K,) counts and, per cut, ``gamma>cut`` (K,) counts.
    """
    gamma = np.asarray(gamma)
    k = gamma.shape[1]
    out = {"argmax": np.bincount(np.argmax(gamma, axis=1), minlength=k)}
    for cut in cuts:
        out[f"gamma>{cut:g}"] = (gamma > cut).sum(axis=0)
    return out


def mean_gamma_matrix(gamma: np.ndarray) -> np.ndarray:
    """M[c, k]: the mean γ_k of the objects labelled c by argmax (paper Fig. 5).

    Rows of empty components are NaN.
    """
    gamma = np.asarray(gamma, dtype=float)
    k = gamma.shape[1]
    labels = np.argmax(gamma, axis=1)
    sums = np.zeros((k, k))
    np.add.at(sums, labels, gamma)
    counts = np.bincount(labels, minlength=k)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def simplified_silhouette(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-object simplified silhouette s = (b − a) / max(a, b) (method eq. 18).

    a is the Euclidean distance of z to the centre (member mean) of its own
    component, b the distance to the nearest centre of another non-empty
    component. With fewer than two non-empty components every s is NaN.

    Args:
        z: (N, J) embeddings.
        labels: (N,) component labels.

    Returns:
        (N,) scores in [−1, 1].
    """
    z, labels = np.asarray(z, dtype=float), np.asarray(labels)
    present = np.unique(labels)
    if len(present) < 2:
        return np.full(len(z), np.nan)
    centres = np.stack([z[labels == c].mean(axis=0) for c in present])
    dist = np.linalg.norm(z[:, None, :] - centres[None], axis=-1)
    own = np.searchsorted(present, labels)
    a = dist[np.arange(len(z)), own]
    dist[np.arange(len(z)), own] = np.inf
    b = dist.min(axis=1)
    scale = np.maximum(a, b)
    return np.where(scale > 0, (b - a) / np.where(scale > 0, scale, 1.0), 0.0)


def per_component_mean(values: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean of ``values`` over the objects of each of ``k`` components (NaN if empty)."""
    values, labels = np.asarray(values, dtype=float), np.asarray(labels)
    return np.array(
        [values[labels == c].mean() if np.any(labels == c) else np.nan for c in range(k)]
    )


def marginal_log_likelihood(z: np.ndarray, pi, *, mu, var) -> float:
    """Mean over objects of log Σ_c π_c/Σπ N(z; μ_c, Σ_c).

    Args:
        z: (N, J) embeddings.
        pi: (K,) mixture weights (normalised here).
        mu: (K, J) means.
        var: (K, J) variances (diagonal Σ_c) or (K, J, J) covariances.
    """
    z, pi = np.asarray(z, dtype=float), np.asarray(pi, dtype=float)
    mu, var = np.asarray(mu, dtype=float), np.asarray(var, dtype=float)
    diff = z[:, None, :] - mu[None]
    if var.ndim == 3:
        _, log_det = np.linalg.slogdet(var)
        solved = np.einsum("kjl,nkl->nkj", np.linalg.inv(var), diff)
        mahalanobis, log_det = np.sum(diff * solved, axis=-1), log_det[None]
    else:
        mahalanobis = np.sum(diff**2 / var[None], axis=-1)
        log_det = np.sum(np.log(var), axis=1)[None]
    log_norm = -0.5 * (z.shape[1] * np.log(2 * np.pi) + log_det + mahalanobis)
    return float(np.mean(logsumexp(log_norm + np.log(pi / pi.sum())[None], axis=1)))


def confusion(truth: np.ndarray, labels: np.ndarray, *, n_classes: int, k: int) -> np.ndarray:
    """Counts C[t, c] of objects of true class t in component c."""
    matrix = np.zeros((n_classes, k), dtype=int)
    np.add.at(matrix, (np.asarray(truth), np.asarray(labels)), 1)
    return matrix


def hungarian_matching(matrix: np.ndarray) -> dict[int, int]:
    """The one-to-one class → component matching with the most objects on it.

    Args:
        matrix: (classes, components) confusion counts.

    Returns:
        Component index → class index for the matched components.
    """
    classes, components = linear_sum_assignment(np.asarray(matrix), maximize=True)
    return {int(c): int(t) for t, c in zip(classes, components, strict=True)}


def clustering_accuracy(truth: np.ndarray, labels: np.ndarray) -> float:
    """ACC: the fraction of objects whose component maps to their class (Hungarian).

    Each component is matched to at most one class and vice versa; objects in
    unmatched components count as wrong (the usual unsupervised ACC).
    """
    truth, labels = np.asarray(truth), np.asarray(labels)
    matrix = confusion(truth, labels, n_classes=truth.max() + 1, k=labels.max() + 1)
    matching = hungarian_matching(matrix)
    return float(sum(matrix[t, c] for c, t in matching.items()) / len(truth))


def clustering_scores(z: np.ndarray, labels: np.ndarray, truth=None) -> dict[str, float]:
    """Calinski–Harabasz, mean simplified silhouette and, with ``truth``, ACC, NMI, ARI.

    Scores that need at least two (and fewer than N) clusters are NaN otherwise.
    """
    labels = np.asarray(labels)
    n_present = len(np.unique(labels))
    scores = {
        "calinski_harabasz": (
            float(metrics.calinski_harabasz_score(z, labels))
            if 1 < n_present < len(labels)
            else float("nan")
        ),
        "simplified_silhouette": float(np.mean(simplified_silhouette(z, labels))),
    }
    if truth is not None:
        scores["acc"] = clustering_accuracy(truth, labels)
        scores["nmi"] = float(metrics.normalized_mutual_info_score(truth, labels))
        scores["ari"] = float(metrics.adjusted_rand_score(truth, labels))
    return scores
