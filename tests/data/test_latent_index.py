"""LatentIndex: exact neighbours equal a brute-force NumPy search; HNSW recall on 10⁴ latents."""

import numpy as np
import pytest

from astrovader.data import latent_index
from astrovader.data.latent_index import LatentIndex, choose_backend
from astrovader.errors import AstrovaderError


def brute_force(z, queries, n, exclude=None):
    """Every distance, sorted: the independent reference."""
    d = np.sqrt(((queries[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
    if exclude is not None:
        d[np.arange(len(queries)), exclude] = np.inf
    order = np.argsort(d, axis=1, kind="stable")[:, :n]
    return np.take_along_axis(d, order, axis=1), order


def test_exact_neighbours_equal_a_brute_force_search(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 5)).astype(np.float32)
    queries = rng.normal(size=(17, 5)).astype(np.float32)
    index = LatentIndex(z)
    assert index.backend == "exact"
    distances, rows = index.kneighbors(queries, 12)
    want_d, want_rows = brute_force(z, queries, 12)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_allclose(distances, want_d, rtol=1e-5)
    # Each indexed point, leaving itself out (scikit-learn's kneighbors(X=None)).
    distances, rows = index.kneighbors(z, 4, exclude=np.arange(len(z)))
    want_d, want_rows = brute_force(z, z, 4, exclude=np.arange(len(z)))
    np.testing.assert_array_equal(rows, want_rows)
    assert not np.any(rows == np.arange(len(z))[:, None])
    # Saved and loaded, it answers the same.
    again = LatentIndex.load(index.save(tmp_path / "index"))
    np.testing.assert_array_equal(again.kneighbors(queries, 12)[1], brute_force(z, queries, 12)[1])


def test_hnsw_recall_on_ten_thousand_random_latents(tmp_path):
    pytest.importorskip("hnswlib")
    rng = np.random.default_rng(1)
    z = rng.standard_normal((10_000, 20)).astype(np.float32)
    queries = z[:200] + rng.normal(0, 0.05, (200, 20)).astype(np.float32)
    exact = LatentIndex(z, "exact").kneighbors(queries, 10)[1]
    index = LatentIndex(z, "hnsw", seed=0)
    assert index.backend == "hnsw"
    found = index.kneighbors(queries, 10)[1]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)])
    assert recall >= 0.95
    # The graph is saved and loaded with the index: the same answers.
    again = LatentIndex.load(index.save(tmp_path / "hnsw"))
    assert again.backend == "hnsw" and (tmp_path / "hnsw" / latent_index.GRAPH).is_file()
    np.testing.assert_array_equal(again.kneighbors(queries, 10)[1], found)


def test_the_backend_rule(monkeypatch):
    assert choose_backend(latent_index.EXACT_LIMIT) == "exact"
    if latent_index.hnsw_available():
        assert choose_backend(latent_index.EXACT_LIMIT + 1) == "hnsw"
    monkeypatch.setattr(latent_index, "hnsw_available", lambda: False)
    assert choose_backend(latent_index.EXACT_LIMIT + 1) == "exact"
    with pytest.raises(AstrovaderError, match=r"pip install 'astrovader\[ann\]'"):
        choose_backend(10, "hnsw")
    with pytest.raises(AstrovaderError, match="index backend must be one of"):
        choose_backend(10, "faiss")
