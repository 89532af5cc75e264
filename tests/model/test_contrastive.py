"""The NT-Xent view-agreement term (method eq. A6) against an independent NumPy computation."""

import numpy as np
import pytest

from astrovader.model.contrastive import nt_xent


def numpy_nt_xent(a, b, tau):
    """SimCLR's loss written out row by row: −log softmax of the partner among the 2N − 1 others."""
    w = np.concatenate([a, b]).astype(np.float64)
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    n = len(a)
    out = np.zeros(2 * n)
    for i in range(2 * n):
        partner = (i + n) % (2 * n)
        others = [k for k in range(2 * n) if k != i]
        sims = np.array([w[i] @ w[k] / tau for k in others])
        out[i] = -(w[i] @ w[partner] / tau) + np.log(np.exp(sims).sum())
    return 0.5 * (out[:n] + out[n:])


@pytest.mark.parametrize("tau", [0.1, 0.5, 2.0])
def test_nt_xent_equals_numpy(tau):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    got = np.asarray(nt_xent(a.astype("float32"), b.astype("float32"), temperature=tau))
    np.testing.assert_allclose(got, numpy_nt_xent(a, b, tau), rtol=1e-4, atol=1e-5)


def test_agreeing_views_score_low_and_indistinct_ones_log_2n_minus_1():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(8, 5)).astype("float32")
    same = np.asarray(nt_xent(a, a * 3.0, temperature=0.2))  # scale does not matter
    shuffled = np.asarray(nt_xent(a, a[::-1], temperature=0.2))
    assert same.max() < shuffled.min()
    flat = np.asarray(nt_xent(np.ones((8, 5)), np.ones((8, 5)), temperature=0.2))
    np.testing.assert_allclose(flat, np.log(15), rtol=1e-5)
