"""Each custom layer: shapes, a .keras round trip, a fixed-seed value, argument checks."""

import keras
import numpy as np
import pytest
from keras import ops
from sklearn.mixture import GaussianMixture

from astrovader.model.cluster_probability import ClusterProbability
from astrovader.model.gmm_prior import GMMPrior, PositiveFloor
from astrovader.model.reparameterize import Reparameterize

RNG = np.random.default_rng(7)


def _roundtrip(model, tmp_path):
    path = tmp_path / "m.keras"
    model.save(path)
    return keras.saving.load_model(path)


def test_reparameterize_shapes_seed_and_statistics(tmp_path):
    mean = RNG.normal(size=(4, 3)).astype("float32")
    log_var = RNG.normal(size=(4, 3)).astype("float32")
    layer = Reparameterize(seed=3)
    z = ops.convert_to_numpy(layer([mean, log_var], training=True))
    assert z.shape == (4, 3)
    eps = ops.convert_to_numpy(keras.random.normal((4, 3), seed=keras.random.SeedGenerator(3)))
    np.testing.assert_allclose(z, mean + np.exp(0.5 * log_var) * eps, rtol=1e-5)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer([mean, log_var])), mean)
    big = Reparameterize(seed=1)(
        [np.full((100_000, 1), 2.0, "float32"), np.full((100_000, 1), np.log(0.25), "float32")],
        training=True,
    )
    big = ops.convert_to_numpy(big)
    assert big.mean() == pytest.approx(2.0, abs=0.01) and big.std() == pytest.approx(0.5, abs=0.01)

    inp_m, inp_v = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([inp_m, inp_v], Reparameterize(seed=5)([inp_m, inp_v]))
    loaded = _roundtrip(model, tmp_path)
    assert loaded.layers[-1].get_config()["seed"] == 5
    np.testing.assert_array_equal(loaded.predict([mean, log_var], verbose=0), mean)
    with pytest.raises(ValueError, match="seed must be"):
        Reparameterize(seed=-1)


def test_gmm_prior_sklearn_write_freeze_and_roundtrip(tmp_path):
    prior = GMMPrior(3, 2, name="latentGMM_Layer")
    assert [w.path.split("/")[-1] for w in prior.weights] == [
        "theta_p",
        "u_p",
        "lambda_p",
        "initialized",
    ]
    assert not prior.is_initialized
    x = np.concatenate([RNG.normal(m, 0.5, (50, 2)) for m in (-2, 0, 2)])
    gmm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(x)
    prior.set_from_sklearn(gmm)
    assert prior.is_initialized
    mix = prior.mixture()
    np.testing.assert_allclose(mix["pi"], gmm.weights_, rtol=1e-6)
    np.testing.assert_allclose(mix["mu"], gmm.means_, rtol=1e-6)
    np.testing.assert_allclose(mix["var"], gmm.covariances_, rtol=1e-6)
    pi, mu, var = prior(None)
    assert tuple(pi.shape) == (3,) and tuple(mu.shape) == (2, 3) and tuple(var.shape) == (2, 3)

    inp = keras.Input((2,))
    model = keras.Model(inp, prior(inp)[1])
    loaded = _roundtrip(model, tmp_path)
    reloaded = loaded.get_layer("latentGMM_Layer")
    assert reloaded.is_initialized
    np.testing.assert_array_equal(reloaded.mixture()["var"], mix["var"])
    with pytest.raises(ValueError, match="means of shape"):
        GMMPrior(4, 2).set_from_sklearn(gmm)
    with pytest.raises(ValueError, match="n_clusters must be"):
        GMMPrior(0, 2)


def test_gmm_prior_gradient_is_zero_until_initialised():
    import tensorflow as tf

    prior = GMMPrior(2, 2)
    for initialised, expect_zero in ((False, True), (True, False)):
        prior.initialized.assign(float(initialised))
        with tf.GradientTape() as tape:
            pi, mu, var = prior(None)
            loss = ops.sum(pi) + ops.sum(mu**2 + 1.0) + ops.sum(var)
        grads = tape.gradient(loss, prior.trainable_weights)
        norms = [float(np.abs(ops.convert_to_numpy(g)).sum()) for g in grads]
        assert all(n == 0 for n in norms) == expect_zero


def test_positive_floor_replaces_non_positive_values():
    out = ops.convert_to_numpy(PositiveFloor(1e-3)(np.array([-1.0, 0.0, 0.5], "float32")))
    np.testing.assert_allclose(out, [1e-3, 1e-3, 0.5])
    with pytest.raises(ValueError, match="floor must be positive"):
        PositiveFloor(0.0)


def test_cluster_probability_values_and_roundtrip(tmp_path):
    pi = np.array([1.0, 2.0], "float32")
    mu = np.array([[0.0, 3.0]], "float32")
    var = np.array([[1.0, 1.0]], "float32")
    z = np.array([[0.0], [3.0], [1.5]], "float32")
    gamma = ops.convert_to_numpy(ClusterProbability("none")([z, pi, mu, var]))
    assert gamma.shape == (3, 2)
    # Exact Bayes posterior, by hand: p(c|z) ∝ π_c exp(−(z − μ_c)²/2).
    post = pi * np.exp(-0.5 * (z - mu) ** 2)
    np.testing.assert_allclose(gamma, post / post.sum(1, keepdims=True), rtol=1e-5)
    sharp = ops.convert_to_numpy(ClusterProbability(50.0)([z, pi, mu, var]))
    np.testing.assert_allclose(sharp.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(sharp.argmax(1), gamma.argmax(1))

    zin = keras.Input((1,))
    layer = ClusterProbability(20.0)
    model = keras.Model(zin, layer([zin, pi, mu, var]))
    loaded = _roundtrip(model, tmp_path)
    assert loaded.layers[-1].get_config()["minmax_lambda"] == 20.0
    np.testing.assert_allclose(loaded.predict(z, verbose=0), model.predict(z, verbose=0))
    with pytest.raises(ValueError, match="minmax_lambda must be"):
        ClusterProbability(-1.0)
    # Stateless, so built from the start: while any layer of a model is unbuilt, Keras
    # traces the whole model again before every validation pass of a fit (a run's
    # γ-training never calls this layer).
    assert ClusterProbability().built


def test_full_covariance_prior_holds_precision_cholesky_factors(tmp_path):
    prior = GMMPrior(2, 3, covariance="full", name="latentGMM_Layer")
    a = RNG.normal(size=(2, 3, 3))
    cov = a @ np.transpose(a, (0, 2, 1)) + 0.5 * np.eye(3)
    mu = RNG.normal(size=(2, 3))
    prior.set_mixture([0.4, 0.6], mu, var=cov)
    mix = prior.mixture()
    np.testing.assert_allclose(mix["covariance"], cov, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mix["var"], np.stack([np.diag(c) for c in cov]), rtol=1e-5)
    prec = ops.convert_to_numpy(prior(None)[2])
    assert prec.shape == (2, 3, 3) and np.allclose(np.tril(prec, -1), 0)
    np.testing.assert_allclose(np.linalg.inv(prec @ prec.transpose(0, 2, 1)), cov, rtol=1e-4)
    inp = keras.Input((3,))
    loaded = _roundtrip(keras.Model(inp, prior(inp)[2]), tmp_path).get_layer("latentGMM_Layer")
    assert loaded.get_config()["covariance"] == "full"
    np.testing.assert_allclose(loaded.mixture()["covariance"], cov, rtol=1e-4, atol=1e-5)
    diagonal = GMMPrior(2, 3, covariance="full")
    diagonal.set_mixture([0.5, 0.5], mu, var=np.ones((2, 3)) * 2)  # variances of a diagonal fit
    np.testing.assert_allclose(diagonal.mixture()["covariance"], 2 * np.eye(3)[None].repeat(2, 0))
    with pytest.raises(ValueError, match=r'covariance must be "diag" or "full", got .tied.'):
        GMMPrior(2, 3, covariance="tied")


def test_full_covariance_draws_have_the_components_covariance():
    from astrovader.model.sampling import latent_batches

    prior = GMMPrior(2, 3, covariance="full")
    a = RNG.normal(size=(2, 3, 3))
    cov = a @ np.transpose(a, (0, 2, 1)) + 0.5 * np.eye(3)
    prior.set_mixture([0.5, 0.5], RNG.normal(size=(2, 3)), var=cov)
    z = np.concatenate([b for b, _ in latent_batches(prior.mixture(), 40_000, component=1, seed=3)])
    np.testing.assert_allclose(np.cov(z.T), cov[1], rtol=0.05, atol=0.05)


# --- every custom layer through the shared harness (tests/model/conftest.py) ---------------

MEAN, LOG_VAR = RNG.normal(size=(4, 3)).astype("float32"), RNG.normal(size=(4, 3)).astype("float32")
PI, MU = np.array([0.2, 0.5, 0.3], "float32"), RNG.normal(size=(2, 3)).astype("float32")
VAR = RNG.uniform(0.5, 2.0, (2, 3)).astype("float32")
Z = RNG.normal(size=(5, 2)).astype("float32")


def test_reparameterize_through_the_harness(run_layer_test):
    run_layer_test(
        Reparameterize,
        {"seed": 3},
        [MEAN, LOG_VAR],
        call=lambda layer, x: layer(x, sample=True),
        shapes=[(4, 3)],
        bad={"seed": -1},
    )


def _mixture(prior):
    prior.set_mixture(PI, MU.T, var=VAR.T)


@pytest.mark.parametrize(
    ("covariance", "spread"), [("diag", (2, 3)), ("full", (3, 2, 2))], ids=["diag", "full"]
)
def test_gmm_prior_through_the_harness(run_layer_test, covariance, spread):
    prior = run_layer_test(
        GMMPrior,
        {"n_clusters": 3, "latent_dim": 2, "simplex": True, "covariance": covariance},
        Z,
        setup=_mixture,
        shapes=[(3,), (2, 3), spread],
        bad={"n_clusters": 0, "latent_dim": 1.5, "simplex": "yes", "covariance": "tied"},
    )
    np.testing.assert_allclose(prior.mixture()["mu"], MU.T, rtol=1e-6)


def test_cluster_probability_through_the_harness(run_layer_test):
    run_layer_test(
        ClusterProbability,
        {"minmax_lambda": 20.0},
        Z,
        call=lambda layer, z: layer([z, PI, MU, VAR]),
        shapes=[(5, 3)],
        bad={"minmax_lambda": -1.0},
    )


def test_random_views_through_the_harness(run_layer_test):
    from astrovader.model.views import RandomViews

    settings = dict(rotate90=True, rotate=True, shift=0.06, zoom=1.18, brightness=0.15, noise=0.03)
    images = RNG.random((3, 16, 16, 1)).astype("float32")
    run_layer_test(
        RandomViews,
        {**settings, "target": "original", "seed": 4},
        images,
        call=lambda layer, x: layer(x, training=True),
        shapes=[images.shape, images.shape],
        bad={"zoom": 0.5, "target": "clean", "seed": -2},
    )


def test_legacy_upsampling_through_the_harness(run_layer_test):
    from astrovader.model.network import LegacyBilinearUpSampling2D

    run_layer_test(
        LegacyBilinearUpSampling2D,
        {},
        RNG.random((2, 4, 4, 3)).astype("float32"),
        bad={"size": 3},
    )


def test_positive_floor_through_the_harness(run_layer_test):
    run_layer_test(
        PositiveFloor,
        {"floor": 1e-3},
        RNG.normal(size=(3, 3)).astype("float32"),
        shapes=[(3, 3)],
        bad={"floor": 0.0},
    )
