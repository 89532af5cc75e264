import json

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from astrovader.errors import AstrovaderError
from astrovader.training.mixture.pick_k import PickKResult, choose_k, count_components
from astrovader.training.mixture.pick_k_report import (
    COUNTS_NAME,
    HISTOGRAM_NAME,
    SUMMARY_NAME,
    write_report,
)


def blobs(k, n=1500, dim=6, seed=0):
    """k Gaussian blobs of unit-ish width whose centres are at least 10 σ apart."""
    rng = np.random.default_rng(seed)
    while True:
        centres = rng.uniform(-30, 30, size=(k, dim))
        gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(k, 1)]
        if gaps.min() > 10:
            break
    x, labels = make_blobs(n, centers=centres, cluster_std=0.7, random_state=seed)
    return x, labels


@pytest.mark.parametrize("k", [2, 5, 8])
def test_recovers_the_number_of_well_separated_blobs_exactly(k):
    x, labels = blobs(k, seed=k)
    assert len(np.unique(labels)) == k
    result = count_components(x, fits=6, batch_size=400, max_components=15, seed=0)
    np.testing.assert_array_equal(result.counts, k)
    assert result.consensus == k
    assert choose_k(x, fits=6, batch_size=400, max_components=15, seed=0) == k


def test_the_threshold_is_a_weight_a_component_must_exceed():
    x, _ = make_blobs(
        [700, 250, 50], centers=[[0, 0], [30, 0], [0, 30]], cluster_std=1.0, random_state=1
    )
    low = count_components(x, fits=3, batch_size=1000, max_components=10, threshold=0.02)
    high = count_components(x, fits=3, batch_size=1000, max_components=10, threshold=0.1)
    np.testing.assert_array_equal(low.counts, 3)
    np.testing.assert_array_equal(high.counts, 2)
    np.testing.assert_allclose(low.weights[:, :3], [[0.7, 0.25, 0.05]] * 3, atol=0.01)
    np.testing.assert_allclose(low.weights.sum(axis=1), 1.0, rtol=1e-9)


def test_batches_are_seeded_independent_draws():
    x, _ = blobs(3)
    a = count_components(x, fits=3, batch_size=300, max_components=8, seed=4)
    b = count_components(x, fits=3, batch_size=300, max_components=8, seed=4)
    c = count_components(x, fits=3, batch_size=300, max_components=8, seed=5)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.allclose(a.weights, c.weights)
    assert (a.weights[0] != a.weights[1]).any()
    assert a.batch_size == 300 and a.n_samples == len(x)
    assert count_components(x, fits=1, batch_size=10**6, max_components=8).batch_size == len(x)


def test_consensus_is_the_mode_smaller_on_a_tie_and_spread_the_quartiles():
    counts = np.array([4, 6, 5, 4, 5])
    result = PickKResult(counts, np.zeros((5, 8)), np.ones(5, bool), 0.01, 100, 1000)
    assert result.histogram() == {4: 2, 5: 2, 6: 1}
    assert result.consensus == 4
    assert result.spread() == {
        "min": 4,
        "q1": 4.0,
        "median": 5.0,
        "q3": 5.0,
        "max": 6,
        "iqr": 1.0,
        "agreement": 0.4,
    }


@pytest.mark.parametrize(
    ("embedding", "settings", "message"),
    [
        (np.zeros((100, 2)), {"fits": 0}, "fits must be an integer from 1 to 10,000, got 0"),
        (np.zeros((100, 2)), {"threshold": 1.5}, r"threshold must be in \(0, 1\)"),
        (np.zeros((100, 2)), {"max_components": 100}, "max_components = 100 needs mini-batches"),
        (np.zeros((100, 2)), {"threshold": 0.005}, "not above 1/B = 0.01"),
        (np.zeros((100, 2)), {"concentration": 0.0}, "concentration must be positive"),
        (np.full((100, 2), np.nan), {}, "finite"),
        (np.zeros(100), {}, r"\(N, J\) embedding"),
    ],
)
def test_bad_settings_are_one_line_errors(embedding, settings, message):
    settings = {"max_components": 10, **settings}
    with pytest.raises(AstrovaderError, match=message):
        count_components(embedding, **settings)


def test_report_files_hold_the_counts(tmp_path):
    x, _ = blobs(3)
    result = count_components(x, fits=4, batch_size=300, max_components=8)
    out = write_report(tmp_path / "pk", result, {"data": "blobs"})
    rows = (out / COUNTS_NAME).read_text().splitlines()
    assert rows[0].split(",")[:3] == ["fit", "n_components", "converged"]
    assert len(rows[0].split(",")) == 3 + 8
    assert [int(r.split(",")[1]) for r in rows[1:]] == result.counts.tolist()
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert summary["consensus"] == 3 and summary["histogram"] == {"3": 4}
    assert summary["source"] == {"data": "blobs"}
    assert (out / HISTOGRAM_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "file").write_text("")
    with pytest.raises(AstrovaderError, match="exists and is not a directory"):
        write_report(tmp_path / "file", result)


def test_a_weak_or_truncated_consensus_gets_a_warning_with_advice():
    from astrovader.training.mixture.pick_k_report import caveats

    weak = PickKResult(np.array([4, 6, 5, 4, 5]), np.zeros((5, 8)), np.ones(5, bool), 0.01, 9, 9)
    (found,) = caveats(weak)
    assert "only 40% of the fits agree on K = 4" in found and "--fits" in found
    clear = PickKResult(np.array([4, 4, 4, 5]), np.zeros((4, 8)), np.ones(4, bool), 0.01, 9, 9)
    assert caveats(clear) == []
    top = PickKResult(np.array([8, 8, 8]), np.zeros((3, 8)), np.ones(3, bool), 0.01, 9, 9)
    assert "top of the range" in caveats(top)[0] and "max_components" in caveats(top)[0]
