"""The reported partition: the lowest-BIC mixture of the final embedding, learned or fresh."""

import keras
import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from astrovader.model.vade import AstroVaDEr
from astrovader.training.mixture.final_mixture import choose_final_mixture, with_covariance

RNG = np.random.default_rng(21)
CENTRES = np.array([[-4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])


def _elongated(n=600):
    """Three clusters stretched along a diagonal: a diagonal mixture splits them wrongly."""
    labels = np.repeat(np.arange(3), n // 3)
    stretch = np.array([[2.0, 1.9], [1.9, 2.0]])
    z = CENTRES[labels] * 2 + RNG.normal(0, 1, (n, 2)) @ np.linalg.cholesky(stretch).T
    return z, labels


def _learned_diagonal(z, labels):
    return {
        "pi": np.full(3, 1 / 3),
        "mu": np.stack([z[labels == c].mean(0) for c in range(3)]) + 0.5,
        "var": np.stack([z[labels == c].var(0) for c in range(3)]),
    }


def test_bic_keeps_full_covariances_for_elongated_clusters():
    z, labels = _elongated()
    best = choose_final_mixture(z, _learned_diagonal(z, labels), fits=2, seed=0)
    assert best.covariance == "full" and best.var.shape == (3, 2, 2)
    assert best.bic[best.chosen] == min(best.bic.values())
    assert set(best.bic) == {
        "learned, diag",
        "learned, full",
        "fresh diag 1",
        "fresh diag 2",
        "fresh full 1",
        "fresh full 2",
    }
    full = GaussianMixture(3, covariance_type="full", n_init=5, random_state=0).fit(z)
    assert best.bic[best.chosen] <= full.bic(z) + 1e-6  # never worse than a fresh fit


def test_a_learned_mixture_at_the_optimum_is_kept_when_diagonal_is_asked():
    labels = np.repeat(np.arange(3), 200)
    z = CENTRES[labels] + RNG.normal(0, 0.4, (600, 2))
    learned = {
        "pi": np.full(3, 1 / 3),
        "mu": np.stack([z[labels == c].mean(0) for c in range(3)]),
        "var": np.stack([z[labels == c].var(0) for c in range(3)]),
    }
    best = choose_final_mixture(z, learned, fits=2, seed=0, forms=("diag",))
    assert best.covariance == "diag"
    assert best.bic["learned, diag"] == pytest.approx(min(best.bic.values()), abs=1e-3)
    found = GaussianMixture(3, covariance_type="diag", means_init=best.mu).fit(z).predict(z)
    assert all(len(np.unique(found[labels == c])) == 1 for c in range(3))


@pytest.mark.slow
def test_a_model_rebuilt_with_a_full_prior_keeps_its_network():
    keras.utils.set_random_seed(0)
    model = AstroVaDEr(
        image_size=16,
        latent_dim=2,
        n_clusters=3,
        filters=(4, 4, 2),
        mixture_update="em",
        gamma_from="target",  # a model with a teacher encoder, whose layers share the names
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.prior.set_mixture(np.full(3, 1 / 3), CENTRES, var=np.ones((3, 2)))
    x = RNG.random((5, 16, 16, 1)).astype("float32")
    model.fit(x, epochs=1, batch_size=5, verbose=0)  # the encoder moves; its teacher does not
    assert not np.allclose(model.teacher.get_weights()[0], model.encoder.get_weights()[0])
    full = with_covariance(model, "full")
    assert full.prior.covariance == "full"
    np.testing.assert_array_equal(full.encode(x)[0], model.encode(x)[0])
    np.testing.assert_array_equal(full.decode(CENTRES.astype("float32")), model.decode(CENTRES))
    cov = np.stack([[[1.0, 0.5], [0.5, 1.0]]] * 3)
    full.prior.set_mixture(np.full(3, 1 / 3), CENTRES, var=cov)
    np.testing.assert_allclose(full.mixture()["covariance"], cov, rtol=1e-5, atol=1e-6)
