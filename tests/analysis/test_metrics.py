"""Clustering tables and scores checked by hand, by loops and against scikit-learn."""

import itertools

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.mixture import GaussianMixture

from astrovader.analysis import metrics


def _gamma(n=60, k=4, seed=0, sharp=3.0):
    logits = np.random.default_rng(seed).normal(size=(n, k)) * sharp
    g = np.exp(logits - logits.max(axis=1, keepdims=True))
    return g / g.sum(axis=1, keepdims=True)


def test_occupancy_counts_match_loops():
    gamma = _gamma()
    counts = metrics.occupancy(gamma, (0.5, 0.8, 0.95))
    for c in range(4):
        assert counts["argmax"][c] == sum(1 for row in gamma if np.argmax(row) == c)
        for cut in (0.5, 0.8, 0.95):
            assert counts[f"gamma>{cut:g}"][c] == sum(1 for row in gamma if row[c] > cut)
    assert counts["argmax"].sum() == 60
    assert counts["gamma>0.5"].sum() <= 60 and counts["gamma>0.95"].sum() > 0


def test_mean_gamma_matrix_matches_loop_and_marks_empty_rows():
    gamma = _gamma(k=5)
    gamma[:, 4] = 0.0
    gamma /= gamma.sum(axis=1, keepdims=True)
    matrix = metrics.mean_gamma_matrix(gamma)
    labels = gamma.argmax(axis=1)
    for c in range(4):
        members = [row for row, lab in zip(gamma, labels, strict=True) if lab == c]
        np.testing.assert_allclose(matrix[c], np.mean(members, axis=0))
    assert np.all(np.isnan(matrix[4]))
    np.testing.assert_allclose(matrix[:4].sum(axis=1), 1.0)


def _silhouette_loop(z, labels):
    present = sorted(set(labels))
    centres = {
        c: np.mean([p for p, lab in zip(z, labels, strict=True) if lab == c], axis=0)
        for c in present
    }
    out = []
    for p, lab in zip(z, labels, strict=True):
        a = np.sqrt(np.sum((p - centres[lab]) ** 2))
        b = min(np.sqrt(np.sum((p - centres[c]) ** 2)) for c in present if c != lab)
        out.append((b - a) / max(a, b))
    return np.array(out)


def test_simplified_silhouette_matches_loop_and_hand_example():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(50, 3))
    labels = rng.integers(0, 4, 50)
    np.testing.assert_allclose(
        metrics.simplified_silhouette(z, labels), _silhouette_loop(z, labels)
    )
    # Centres at 0 and 10 on a line: the point at 1 has a = 1, b = 9, s = 8/9.
    z = np.array([[-1.0], [1.0], [9.0], [11.0]])
    s = metrics.simplified_silhouette(z, np.array([0, 0, 1, 1]))
    np.testing.assert_allclose(s, [10 / 11, 8 / 9, 8 / 9, 10 / 11])
    assert np.all(np.isnan(metrics.simplified_silhouette(z, np.zeros(4, int))))


def test_per_component_mean():
    values = np.array([1.0, 2.0, 3.0, 5.0])
    out = metrics.per_component_mean(values, np.array([0, 0, 2, 2]), 3)
    np.testing.assert_allclose(out, [1.5, np.nan, 4.0])


def test_accuracy_hand_worked_examples():
    # Classes 0,1,2 in components 1,0,2: matching 0→1 (2), 1→0 (2), 2→2 (1) = 5/6.
    truth = np.array([0, 0, 0, 1, 1, 2])
    labels = np.array([1, 1, 0, 0, 0, 2])
    assert metrics.clustering_accuracy(truth, labels) == pytest.approx(5 / 6)
    # More components than classes: the extra component's objects count as wrong.
    assert metrics.clustering_accuracy(np.array([0, 0, 1, 1]), np.array([0, 1, 2, 2])) == 0.75
    # Any relabelling of a perfect clustering scores 1.
    assert metrics.clustering_accuracy(np.array([0, 1, 2, 2]), np.array([2, 0, 1, 1])) == 1.0


def test_accuracy_equals_brute_force_over_matchings():
    rng = np.random.default_rng(5)
    truth, labels = rng.integers(0, 4, 80), rng.integers(0, 4, 80)
    best = max(
        np.mean(np.array(perm)[labels] == truth) for perm in itertools.permutations(range(4))
    )
    assert metrics.clustering_accuracy(truth, labels) == pytest.approx(best)
    matrix = metrics.confusion(truth, labels, n_classes=4, k=4)
    np.testing.assert_array_equal(matrix, skm.confusion_matrix(truth, labels, labels=range(4)))


def test_marginal_log_likelihood_equals_sklearn_score():
    rng = np.random.default_rng(1)
    k, j = 3, 4
    pi = np.array([2.0, 1.0, 5.0])
    mu, var = rng.normal(size=(k, j)), rng.uniform(0.2, 2.0, size=(k, j))
    z = rng.normal(size=(40, j))
    gmm = GaussianMixture(k, covariance_type="diag")
    gmm.weights_, gmm.means_, gmm.covariances_ = pi / pi.sum(), mu, var
    gmm.precisions_cholesky_ = 1.0 / np.sqrt(var)
    assert metrics.marginal_log_likelihood(z, pi, mu=mu, var=var) == pytest.approx(gmm.score(z))


def test_clustering_scores_match_sklearn_and_degenerate_cases():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(30, 2))
    labels, truth = rng.integers(0, 3, 30), rng.integers(0, 3, 30)
    scores = metrics.clustering_scores(z, labels, truth)
    assert scores["calinski_harabasz"] == pytest.approx(skm.calinski_harabasz_score(z, labels))
    assert scores["nmi"] == pytest.approx(skm.normalized_mutual_info_score(truth, labels))
    assert scores["ari"] == pytest.approx(skm.adjusted_rand_score(truth, labels))
    assert scores["simplified_silhouette"] == pytest.approx(np.mean(_silhouette_loop(z, labels)))
    single = metrics.clustering_scores(z, np.zeros(30, int))
    assert np.isnan(single["calinski_harabasz"]) and "acc" not in single
