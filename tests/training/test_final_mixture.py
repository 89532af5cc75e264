"""The reported partition: the best of the learned mixture and fresh fits of the final embedding."""

import numpy as np
import pytest

from astrovader.model import em
from astrovader.training.final_mixture import final_mixture, refine

RNG = np.random.default_rng(21)
CENTRES = np.array([[-4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])


def _views(n=300, views=4):
    labels = np.repeat(np.arange(3), n // 3)
    zv = CENTRES[labels][None] + RNG.normal(0, 0.4, (views, n, 2))
    log_var = np.full(zv.shape, np.log(0.01))
    return zv.astype("float32"), log_var.astype("float32"), labels


def _score(zv, log_var, mix):
    return float(em.expected_log_likelihood(zv, mix["pi"], mix["mu"].T, mix["var"].T, log_var))


def test_a_poor_learned_mixture_is_replaced_by_a_better_fresh_fit():
    zv, log_var, labels = _views()
    # a local optimum: two components share the left cluster, one spans the other two
    learned = {
        "pi": np.array([1 / 6, 1 / 6, 2 / 3]),
        "mu": np.array([[-4.0, 0.3], [-4.0, -0.3], [2.0, 2.0]]),
        "var": np.array([[0.16, 0.1], [0.16, 0.1], [4.0, 4.0]]),
    }
    kept_learned = refine(zv, log_var, learned["pi"], learned["mu"], learned["var"])
    best = final_mixture(zv, log_var, learned, restarts=3, seed=0)
    assert best.chosen.startswith("refit")
    assert best.scores[best.chosen] > best.scores["learned"] == pytest.approx(kept_learned[3])
    gamma = np.exp(np.asarray(em.tied_log_posterior(zv, best.pi, best.mu.T, best.var.T, log_var)))
    found = gamma.argmax(1)
    assert len(np.unique(found)) == 3
    assert all(len(np.unique(found[labels == c])) == 1 for c in range(3))


def test_a_learned_mixture_at_the_optimum_is_kept():
    zv, log_var, labels = _views()
    points = zv.mean(0)
    learned = {
        "pi": np.full(3, 1 / 3),
        "mu": np.stack([points[labels == c].mean(0) for c in range(3)]),
        "var": np.stack([points[labels == c].var(0) + 0.01 for c in range(3)]),
    }
    best = final_mixture(zv, log_var, learned, restarts=2, seed=0)
    assert best.chosen == "learned" or best.scores[best.chosen] == pytest.approx(
        best.scores["learned"], abs=1e-4
    )
    assert _score(zv, log_var, {"pi": best.pi, "mu": best.mu, "var": best.var}) >= _score(
        zv, log_var, learned
    )
