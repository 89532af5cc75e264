"""The AstroVaDEr model class on its own: loss terms, config round trip, one step, skip-batch.

Every expected value is computed here with NumPy from the weights (eqs. 6–7, 11–13, 17 of
docs/method.md), independently of astrovader.model.gmm_math.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import logsumexp, softmax

from astrovader.model.vade import AstroVaDEr

J, K, S = 3, 2, 8


def tiny(**options) -> AstroVaDEr:
    keras.utils.set_random_seed(0)
    model = AstroVaDEr(
        image_size=S, bands=1, latent_dim=J, n_clusters=K, filters=(2, 2, 2), seed=4, **options
    )
    mu = np.array([[0.5, -0.2, 0.1], [-0.4, 0.3, 0.0]], np.float32)
    var = np.array([[0.8, 1.2, 0.5], [1.5, 0.7, 0.9]], np.float32)
    model.prior.set_mixture(np.array([0.7, 0.5], np.float32), mu, var=var)
    return model


def images(n=5, seed=1):
    return np.random.default_rng(seed).random((n, S, S, 1)).astype("float32")


def numpy_terms(model, x, z_mean, z_log_var, minmax_lambda=50.0):
    """L_rec, L_KL and L_GMM per sample, from NumPy (γ from z = μ̃, as at inference)."""
    mix = model.mixture()
    pi, mu, var = mix["pi"], mix["mu"].astype(float), mix["var"].astype(float)
    x_hat = keras.ops.convert_to_numpy(model.decoder(z_mean))
    rec = ((x - x_hat) ** 2).reshape(len(x), -1).sum(axis=1)
    kl = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
    diff = z_mean[:, None, :] - mu[None]
    log_n = -0.5 * (J * np.log(2 * np.pi) + (diff**2 / var[None]).sum(-1)) - 0.5 * np.log(var).sum(
        -1
    )
    costs = -(log_n + np.log(pi)[None])
    logits = (costs - costs.min()) / (costs.max() - costs.min() + 1e-12) * -minmax_lambda
    gamma = softmax(logits, axis=1)
    log_gamma = logits - logsumexp(logits, axis=1, keepdims=True)
    inner = (np.log(var)[None] + (np.exp(z_log_var)[:, None, :] + diff**2) / var[None]).sum(-1)
    gmm = (
        0.5 * (gamma * (J * np.log(2 * np.pi) + inner)).sum(1)
        - (gamma * np.log(pi)[None]).sum(1)
        + (gamma * log_gamma).sum(1)
        - 0.5 * (1 + z_log_var).sum(1)
    )
    return rec, kl, gmm


def l2_penalty(model) -> float:
    total = 0.0
    for layer in (*model.encoder.layers, *model.decoder.layers):
        for weight in getattr(layer, "weights", []):
            if "kernel" in weight.path or "bias" in weight.path:
                total += model.l2 * float(np.sum(keras.ops.convert_to_numpy(weight) ** 2))
    return total


def test_loss_terms_equal_the_equations_plus_the_l2_sum():
    model = tiny(l2=0.01)
    model.kl_weight.assign(0.3)
    model.gmm_weight.assign(0.7)
    x = images()
    z_mean, z_log_var = (keras.ops.convert_to_numpy(t) for t in model.encoder(x))
    rec, kl, gmm = numpy_terms(model, x, z_mean, z_log_var)
    terms = {k: float(v) for k, v in model.loss_terms(x, training=False).items()}
    assert terms["reconstruction"] == pytest.approx(rec.mean(), rel=1e-5)
    assert terms["kl"] == pytest.approx(kl.mean(), abs=1e-6)  # float32 cancellation
    assert terms["gmm_kl"] == pytest.approx(gmm.mean(), rel=1e-4)
    expected = np.mean(rec + 0.3 * kl + 0.7 * gmm) + l2_penalty(model)
    assert l2_penalty(model) > 0
    assert terms["loss"] == pytest.approx(expected, rel=1e-5)


def test_get_config_from_config_round_trip():
    model = tiny(l2=0.002, minmax_lambda="none", reconstruction="bce", leaky_slope=0.2)
    config = model.get_config()
    assert config["astrovader_version"]
    assert (config["minmax_lambda"], config["reconstruction"], config["l2"]) == (None, "bce", 0.002)
    rebuilt = AstroVaDEr.from_config(config)
    assert rebuilt.get_config() == config
    assert [tuple(w.shape) for w in rebuilt.weights] == [tuple(w.shape) for w in model.weights]
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert isinstance(again, AstroVaDEr) and again.get_config() == config


def test_one_train_step_is_a_clipped_gradient_step():
    model = tiny()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5))
    model.kl_weight.assign(0.0)
    model.gmm_weight.assign(0.3)
    model.clip_value.assign(1e-3)
    x = images()
    state = keras.ops.convert_to_numpy(model.sampler.seed_generator.state)
    before = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        loss = model.loss_terms(x, training=True)["loss"]
    grads = tape.gradient(loss, model.trainable_variables)
    model.sampler.seed_generator.state.assign(state)  # the step draws the same noise
    logs = model.train_step(x)
    assert float(logs["loss"]) == pytest.approx(float(loss), rel=1e-6)
    clipped = 0
    for old, grad, var in zip(before, grads, model.trainable_variables, strict=True):
        g = np.zeros_like(old) if grad is None else keras.ops.convert_to_numpy(grad)
        clipped += int(np.sum(np.abs(g) > 1e-3))
        expected = old - 0.5 * np.clip(g, -1e-3, 1e-3)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(var), expected, atol=1e-7)
    assert clipped > 0  # the clip acted


def test_skip_batch_leaves_the_weights_and_counts_the_batch():
    model = tiny()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    model.skip_nonfinite = True
    model.gmm_weight.assign(0.3)
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.trainable_variables]
    bad = images()
    bad[0, 0, 0, 0] = np.nan
    logs = model.train_step(bad)
    assert float(logs["skipped_batches"]) == 1.0
    for old, var in zip(before, model.trainable_variables, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(var), old)
    model.train_step(images())
    moved = [
        not np.array_equal(keras.ops.convert_to_numpy(v), o)
        for o, v in zip(before, model.trainable_variables, strict=True)
    ]
    assert any(moved)


def test_loss_scaled_gradients_are_clipped_in_unscaled_units():
    from astrovader.training.precision import dtype_policy

    with dtype_policy("mixed_float16"):
        model = tiny()
    optimizer = keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(learning_rate=1.0), initial_scale=256.0
    )
    model.compile(optimizer=optimizer)
    model.gmm_weight.assign(0.3)
    model.clip_value.assign(1e-4)
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.trainable_variables]
    model.train_step(images())
    steps = [
        np.abs(keras.ops.convert_to_numpy(v) - o)
        for o, v in zip(before, model.trainable_variables, strict=True)
    ]
    largest = max(float(s.max()) for s in steps)
    # Clipped to 1e-4 in unscaled units (a clip of the scaled gradients would move by 4e-7).
    assert largest == pytest.approx(1e-4, rel=1e-2)


def _dihedral(x, k, flip):
    return np.rot90(x[:, :, ::-1] if flip else x, k, axes=(1, 2)).copy()


def test_eight_test_views_make_gamma_and_embedding_invariant_to_flips_and_turns(tmp_path):
    x = np.random.default_rng(7).random((6, 16, 16, 1)).astype("float32")
    model = AstroVaDEr(
        image_size=16,
        latent_dim=J,
        n_clusters=K,
        filters=(4, 4, 2),
        seed=4,
        test_views=8,
        minmax_lambda="none",
    )
    model.prior.set_mixture([0.4, 0.6], [[0.05] * J, [-0.05] * J], var=np.full((K, J), 0.01))
    gamma, z = model.embed(x)
    for k, flip in ((1, False), (2, True), (3, False), (0, True)):
        turned_gamma, turned_z = model.embed(_dihedral(x, k, flip))
        np.testing.assert_allclose(turned_gamma, gamma, atol=1e-5)
        np.testing.assert_allclose(turned_z, z, atol=1e-5)
    # z is the mean μ̃ of the 8 views, γ its posterior under the prior (NumPy)
    views = [_dihedral(x, k, f) for f in (False, True) for k in range(4)]
    z_views = np.mean([model.encode(v)[0] for v in views], axis=0)
    mix = model.mixture()
    log_n = -0.5 * (
        np.log(2 * np.pi * mix["var"])[None]
        + (z_views[:, None] - mix["mu"][None]) ** 2 / mix["var"]
    ).sum(-1)
    logits = log_n + np.log(mix["pi"] / mix["pi"].sum())
    np.testing.assert_allclose(gamma, softmax(logits, axis=1), atol=1e-4)
    np.testing.assert_allclose(z, z_views, atol=1e-5)
    np.testing.assert_array_equal(model.cluster_probabilities(x), gamma)
    # one view (the paper) is not invariant: the check has teeth
    single = AstroVaDEr.from_config({**model.get_config(), "test_views": 1})
    single.set_weights(model.get_weights())
    assert not np.allclose(single.embed(_dihedral(x, 1, False))[1], single.embed(x)[1], atol=1e-3)
    assert model.get_config()["test_views"] == 8
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.embed(x)[0], gamma, atol=1e-6)


@pytest.mark.parametrize("method", ["paper", "default"])
def test_the_model_through_the_layer_harness(run_layer_test, method):
    paper = dict(minmax_lambda=50.0)
    default = dict(
        minmax_lambda="none",
        views=dict(rotate90=True, rotate=True, shift=0.06, zoom=1.18, brightness=0.15, noise=0.03),
        gamma_from="target",
        pi_simplex=True,
        mixture_update="em",
        tied_views=4,
        consistency=1.0,
        test_views=8,
        covariance="full",
    )
    run_layer_test(
        AstroVaDEr,
        dict(
            image_size=S,
            latent_dim=J,
            n_clusters=K,
            filters=(2, 2, 2),
            seed=4,
            **(paper if method == "paper" else default),
        ),
        images(),
        call=lambda model, x: model(x, training=True),  # z sampled: the seed matters
        setup=lambda model: model.prior.set_mixture(
            [0.7, 0.3], np.zeros((K, J)), var=np.ones((K, J))
        ),
        shapes=[(5, S, S, 1)],
        bad={"gamma_from": "z", "tied_views": 3, "image_size": 12, "reconstruction": "l1"},
    )
