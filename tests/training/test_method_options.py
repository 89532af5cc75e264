"""The options beyond the paper (method §9) on a tiny model; each test fails without its option."""

import keras
import numpy as np
import pytest
from keras import ops

from astrovader.config import Config
from astrovader.data.pipelines.memory import EpochCounter, training_dataset
from astrovader.model import em
from astrovader.model.vade import AstroVaDEr
from astrovader.training.mixture.gmm_init import reset_optimizer
from astrovader.training.mixture.mixture_em import MixtureEM, embed_views, respawn
from astrovader.training.phases.callbacks import S3VDCSchedule

RNG = np.random.default_rng(11)
X = RNG.random((24, 16, 16, 1)).astype("float32")
SMALL = dict(image_size=16, latent_dim=2, n_clusters=3, filters=(4, 4, 2), seed=0)


def _model(**kwargs):
    model = AstroVaDEr(**{**SMALL, **kwargs})
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def _initialise(model, var=0.5):
    z, _ = model.encode(X)
    model.prior.set_mixture([0.2, 0.3, 0.5], z[[0, 9, 18]] + 0.01, var=np.full((3, 2), var))


def test_beta_rises_every_step_with_beta_per_step():
    config = Config().replace(schedule={"gamma_epochs": 1, "anneal_epochs": 2, "anneal_power": 3.0})
    model = _model()
    schedule = S3VDCSchedule(config)
    schedule.set_model(model)
    schedule.set_params({"steps": 4})
    schedule.on_epoch_begin(1)
    s, g = config.loss.gmm_scale, config.loss.gamma
    assert float(model.gmm_weight.numpy()) == pytest.approx(g * s)
    schedule.on_train_batch_begin(2)
    assert float(model.gmm_weight.numpy()) == pytest.approx(((0.5 / 2) ** 3 + g) * s)
    per_epoch = S3VDCSchedule(config.replace(schedule={"beta_per": "epoch"}))
    per_epoch.set_model(model)
    per_epoch.set_params({"steps": 4})
    per_epoch.on_epoch_begin(1)
    per_epoch.on_train_batch_begin(2)
    assert float(model.gmm_weight.numpy()) == pytest.approx(g * s)


def test_consistency_weight_is_on_only_after_gamma_training():
    config = Config().replace(schedule={"gamma_epochs": 1}, augment={"consistency": 0.7})
    model = _model(consistency=0.7)
    schedule = S3VDCSchedule(config)
    schedule.set_model(model)
    schedule.on_epoch_begin(0)
    assert float(model.consistency_weight.numpy()) == 0.0
    schedule.on_epoch_begin(1)
    assert float(model.consistency_weight.numpy()) == pytest.approx(0.7)


def test_epoch_images_makes_epochs_of_that_many_images_whatever_the_data():
    counter = EpochCounter()
    ids = np.arange(10, dtype="float32").reshape(10, 1, 1, 1) * np.ones((1, 2, 2, 1), "float32")
    one_pass = np.concatenate(
        [b[:, 0, 0, 0] for b in training_dataset(ids, 4, seed=0, flips=False, counter=counter)]
    )
    longer = training_dataset(ids, 4, seed=0, flips=False, counter=counter, epoch_images=25)
    batches = [b[:, 0, 0, 0].numpy() for b in longer]
    seen = np.concatenate(batches)
    assert len(batches) == 7 and len(seen) == 25
    np.testing.assert_array_equal(seen[:10], one_pass)  # pass 0 is the paper's epoch
    assert sorted(seen[:20]) == sorted(list(range(10)) * 2)


def test_em_mode_takes_the_prior_out_of_the_gradient_step():
    assert any(v.path.endswith("u_p") for v in _model().trainable_variables)
    assert not any(v.path.endswith("u_p") for v in _model(mixture_update="em").trainable_variables)


def test_mixture_em_sets_the_prior_to_the_tied_m_step():
    model = _model(mixture_update="em", pi_simplex=True, tied_views=4)
    _initialise(model)
    batches = [X[:12], X[12:]]
    zv, log_var = embed_views(model, batches, views=4)
    assert zv.shape == (4, 24, 2)
    mix = model.prior.mixture()
    gamma = np.exp(
        ops.convert_to_numpy(
            em.tied_log_posterior(
                zv, mix["pi"], mu=mix["mu"].T, var=mix["var"].T, log_var_v=log_var
            )
        )
    )
    w = np.tile(gamma, (4, 1))
    points, spread = zv.reshape(-1, 2), np.exp(log_var).reshape(-1, 2)
    callback = MixtureEM(batches, at_epoch=1, n_batches=2, views=4)
    callback.set_model(model)
    callback.on_epoch_begin(1)  # the epoch of the initialisation: untouched
    np.testing.assert_array_equal(model.prior.mixture()["mu"], mix["mu"])
    callback.on_epoch_begin(2)
    new = model.prior.mixture()
    for c in range(3):
        mean = np.average(points, axis=0, weights=w[:, c])
        np.testing.assert_allclose(new["mu"][c], mean, rtol=1e-3, atol=1e-5)
        second = np.average(points**2 + spread, axis=0, weights=w[:, c])
        np.testing.assert_allclose(new["var"][c], second - mean**2, rtol=1e-3, atol=1e-5)
    assert new["pi"].sum() == pytest.approx(1.0, abs=1e-6)


def test_respawn_reseeds_an_empty_component_by_splitting_the_largest():
    z = np.concatenate([RNG.normal(-3, 0.3, (50, 2)), RNG.normal(3, 0.3, (50, 2))])
    zv = z[None].astype("float32")
    gamma = np.zeros((100, 3))
    gamma[:, 0] = 1.0  # every image in component 0, components 1 and 2 empty
    pi, mu, var = np.array([1.0, 0, 0]), np.zeros((3, 2)), np.ones((3, 2))
    new_pi, new_mu, _, count = respawn(zv, gamma, pi=pi, mu=mu, var=var, fraction=0.25, seed=0)
    assert count >= 1 and new_pi.sum() == pytest.approx(1.0)
    assert np.sort(new_mu[:, 0])[[0, -1]] == pytest.approx([-3, 3], abs=0.3)
    _, _, _, none = respawn(
        zv, np.eye(3)[RNG.integers(0, 3, 100)], pi=pi, mu=mu, var=var, fraction=0.25, seed=0
    )
    assert none == 0


@pytest.mark.slow
def test_optimizer_reset_zeroes_adams_moments_and_step_count():
    model = _model()
    model.fit(X, epochs=1, batch_size=12, verbose=0)
    inner = model.optimizer
    assert int(inner.iterations.numpy()) == 2
    assert any(np.abs(v.numpy()).sum() > 0 for v in inner.variables if "momentum" in v.path)
    reset_optimizer(model.optimizer)
    assert int(inner.iterations.numpy()) == 0
    assert all(np.abs(v.numpy()).sum() == 0 for v in inner.variables if "momentum" in v.path)
    assert float(inner.learning_rate.numpy()) == pytest.approx(1e-3)


def test_consistency_is_zero_without_views_and_positive_with_them():
    keras.utils.set_random_seed(1)  # the weights, whatever ran before
    plain = _model(gamma_from="target", consistency=1.0)
    _initialise(plain)
    plain.consistency_weight.assign(1.0)
    assert float(plain.loss_terms(X, training=True)["consistency"]) == pytest.approx(0, abs=1e-5)
    views = dict(rotate90=True, rotate=True, shift=0.1, zoom=1.2, brightness=0.1, noise=0.05)
    viewed = _model(gamma_from="target", consistency=1.0, views=views, tied_views=4)
    _initialise(viewed, var=1e-6)
    terms = viewed.loss_terms(X, training=True)
    assert float(terms["consistency"]) > 1e-4
    assert AstroVaDEr.from_config(viewed.get_config()).views == views


def test_from_settings_applies_the_config_options():
    model = AstroVaDEr.from_settings(
        Config().replace(data={"image_size": 32}, model={"filters": [4, 4, 2], "l2": 0.01})
    )
    assert model.l2 == pytest.approx(0.01 / 16)
    assert model.viewer is not None and model.pi_simplex and model.mixture_update == "em"
    paper = AstroVaDEr.from_settings(
        Config.paper(data={"image_size": 32}, model={"filters": [4, 4, 2]})
    )
    assert paper.l2 == 0.01 and paper.viewer is None and not paper.pi_simplex
    assert (paper.gamma_from, paper.mixture_update, paper.consistency, paper.tied_views) == (
        "sample",
        "gradient",
        0.0,
        1,
    )


def test_tied_views_held_for_the_epoch_give_the_teachers_targets():
    """The speed-up of #24: targets from views embedded once per epoch = the per-step teacher's."""
    from astrovader.model.targets import tied_target
    from astrovader.training.mixture.tied_views import TiedViews

    model = _model(mixture_update="em", pi_simplex=True, tied_views=4, consistency=1.0)
    _initialise(model)
    model.teacher.set_weights(model.encoder.get_weights())
    tied = TiedViews(X, 4, latent_dim=2, batch_size=7)
    tied.refresh(model, 0)
    pi, mu, var = model.prior(None)
    rows = np.array([3, 17, 0, 22, 9])
    held = tied_target(model, X[rows], pi=pi, mu=mu, var=var, tied=tied.rows(rows))
    per_step = tied_target(model, X[rows], pi=pi, mu=mu, var=var)
    np.testing.assert_allclose(
        ops.convert_to_numpy(held), ops.convert_to_numpy(per_step), atol=1e-5
    )
    # and they are not uniform: the check has teeth
    assert np.ptp(ops.convert_to_numpy(held)) > 0.1


def test_each_training_batch_brings_the_tied_views_of_its_own_rows():
    from astrovader.training.mixture.tied_views import TiedViews

    n = 10
    images = np.arange(n, dtype="float32")[:, None, None, None] * np.ones((1, 8, 8, 1), "float32")
    tied = TiedViews(images, 4, latent_dim=3, batch_size=4)
    tied.mean.assign(np.arange(n, dtype="float32")[:, None, None] * np.ones((1, 4, 3), "float32"))
    counter = EpochCounter()
    for epoch in (0, 1):
        counter.set(epoch)
        ds = training_dataset(images, 4, seed=0, flips=True, counter=counter, extras=tied.rows)
        for x, (mean, log_var) in ds:
            np.testing.assert_array_equal(x.numpy()[:, 0, 0, 0], mean.numpy()[:, 0, 0])
            assert mean.shape[1:] == (4, 3) and log_var.shape == mean.shape


def test_a_small_real_cluster_survives_respawn_with_the_default_fraction():
    """A true 2 % cluster (of K = 5) is not split away; an empty component is re-seeded."""
    fraction = Config().mixture.respawn
    n = 1000
    sizes = [20, 245, 245, 245, 245]
    centres = np.array([[10.0, 10], [-3, 0], [3, 0], [0, 3], [0, -3]])
    labels = np.repeat(np.arange(5), sizes)
    zv = (centres[labels] + RNG.normal(0, 0.3, (n, 2)))[None].astype("float32")
    gamma = np.eye(5)[labels]
    pi, mu, var = np.array(sizes) / n, centres.copy(), np.full((5, 2), 0.09)
    _, new_mu, _, count = respawn(zv, gamma, pi=pi, mu=mu, var=var, fraction=fraction, seed=0)
    assert count == 0
    np.testing.assert_array_equal(new_mu, mu)
    empty = gamma.copy()
    empty[labels == 0] = np.eye(5)[1]  # component 0 now holds nothing
    _, _, _, count = respawn(zv, empty, pi=pi, mu=mu, var=var, fraction=fraction, seed=0)
    assert count == 1


def test_respawned_halves_share_the_weight_by_their_sizes_and_identical_points_are_left():
    z = np.concatenate([RNG.normal(-3, 0.1, (30, 2)), RNG.normal(3, 0.1, (90, 2))])
    zv = z[None].astype("float32")
    gamma = np.zeros((120, 2))
    gamma[:, 0] = 1.0
    pi, mu, var = np.array([0.9, 0.1]), np.zeros((2, 2)), np.ones((2, 2))
    new_pi, new_mu, new_var, count = respawn(
        zv, gamma, pi=pi, mu=mu, var=var, fraction=0.25, seed=0
    )
    assert count == 1
    small = int(np.argmin(np.abs(new_mu[:, 0] + 3)))
    assert new_pi[small] == pytest.approx(0.25, abs=1e-6)  # 30 of 120 images
    assert new_var.max() < 0.05  # each half's own spread (0.01), not the split one's (1)
    same = np.ones((1, 50, 2), "float32")
    gamma = np.zeros((50, 2))
    gamma[:, 0] = 1.0
    _, kept_mu, kept_var, none = respawn(same, gamma, pi=pi, mu=mu, var=var, fraction=0.25, seed=0)
    assert none == 0 and np.isfinite(kept_mu).all() and np.isfinite(kept_var).all()


def test_respawn_happens_only_when_an_annealing_phase_starts():
    schedule = (
        Config()
        .replace(schedule={"gamma_epochs": 2, "anneal_epochs": 2, "static_epochs": 1, "periods": 3})
        .schedule
    )
    model = _model(mixture_update="em", pi_simplex=True, tied_views=4)
    _initialise(model)
    callback = MixtureEM([X], 2, n_batches=1, views=4, respawn=0.5, schedule=schedule)
    callback.set_model(model)
    allowed = [e for e in range(11) if callback._may_respawn(e)]
    assert allowed == [2, 5, 8]  # the starts of the three annealing phases (2 is T_γ: no EM)


def test_the_initial_mixture_holds_the_posteriors_spread():
    """σ² after the tied initialisation includes σ̃², so the first joint EM step does not jump."""
    from astrovader.training.mixture.gmm_init import fit_mixture
    from astrovader.training.mixture.mixture_em import em_step, tied_init

    centres = np.array([[-3.0, 0], [3.0, 0]])
    labels = RNG.integers(0, 2, 200)
    sharp = centres[labels][None] + RNG.normal(0, 0.3, (4, 200, 2))
    zv = np.concatenate([sharp, RNG.normal(0, 0.01, (4, 200, 1))], -1).astype("float32")
    log_var = np.zeros_like(zv)
    log_var[..., :2] = -4.0  # a collapsed third dimension: μ̃ ≈ 0, σ̃² ≈ 1
    pi, mu, var, _ = tied_init(zv, 2, seed=0, restarts=1, fit=fit_mixture, log_var_v=log_var)
    assert var[:, 2].min() > 0.9
    _, _, _, after = em_step(zv, log_var, pi=pi, mu=mu, var=var)
    np.testing.assert_allclose(after, var, rtol=0.05)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_the_clustering_terms_weights_follow_the_pixel_count_as_l2_does(size):
    """The defaults hold the balance against D·MSE measured at 32² at every size (#23 point 3)."""
    config = Config().replace(data={"image_size": size}, schedule={"gamma_epochs": 1})
    model = _model(consistency=1.0)
    schedule = S3VDCSchedule(config)
    schedule.set_model(model)
    schedule.on_epoch_begin(config.schedule.gamma_epochs + config.schedule.anneal_epochs)
    pixels = size * size / 32**2  # the reconstruction term grows with D
    assert float(model.gmm_weight.numpy()) == pytest.approx((1 + 0.0005) * 0.05 * pixels)
    assert float(model.consistency_weight.numpy()) == pytest.approx(1.0 * pixels)
    assert config.model.l2_factor(size, 1) == pytest.approx(1e-4 * pixels)
    paper = S3VDCSchedule(
        Config.paper(
            data={"image_size": size}, augment={"consistency": 0.5}, schedule={"gamma_epochs": 1}
        )
    )
    paper.set_model(model)
    paper.on_epoch_begin(config.schedule.gamma_epochs + config.schedule.anneal_epochs)
    assert float(model.gmm_weight.numpy()) == pytest.approx((1 + 0.0005) * 0.3)
    assert float(model.consistency_weight.numpy()) == pytest.approx(0.5)


VIEWS = dict(rotate90=True, rotate=True, shift=0.1, zoom=1.2, brightness=0.1, noise=0.05)


def test_the_contrast_term_is_nt_xent_of_two_views_and_trains_the_encoder():
    from astrovader.model.contrastive import nt_xent

    keras.utils.set_random_seed(2)
    model = _model(views=VIEWS, contrast=1.0, contrast_head=8)
    assert model.projector is not None and model.projector.output_shape == (None, 8)
    model.contrast_weight.assign(1.0)
    terms = model.loss_terms(X, training=True)
    # Untrained views of noise images hardly agree: about log(2N − 1), within its ±2/τ bounds.
    assert abs(float(terms["contrast"]) - np.log(2 * len(X) - 1)) < 1.0
    assert float(model.loss_terms(X, training=False)["contrast"]) == 0.0  # training steps only
    # Its gradient reaches the encoder and the head.
    import tensorflow as tf

    with tf.GradientTape() as tape:
        view_a, _ = model.viewer(X, training=True)
        view_b, _ = model.viewer(X, training=True)
        a = model.projector(model.encoder(view_a, training=True)[0])
        b = model.projector(model.encoder(view_b, training=True)[0])
        loss = ops.mean(nt_xent(a, b, temperature=model.contrast_temperature))
    variables = [*model.encoder.trainable_variables, *model.projector.trainable_variables]
    grads = dict(zip((v.path for v in variables), tape.gradient(loss, variables), strict=True))
    for path, grad in grads.items():
        reached = grad is not None and float(ops.max(ops.abs(grad))) > 0
        assert reached != ("latentlog_var" in path), path  # μ̃ only: σ̃ takes no part
    # Saved and loaded with its head and settings.
    again = AstroVaDEr.from_config(model.get_config())
    assert (again.contrast, again.contrast_head, again.contrast_temperature) == (1.0, 8, 0.2)
    assert again.projector is not None


def test_the_schedule_sets_the_contrast_weight_in_every_phase_scaled_with_the_pixels():
    config = Config().replace(
        data={"image_size": 16}, schedule={"gamma_epochs": 1}, augment={"contrast": 2.0}
    )
    model = _model(views=VIEWS, contrast=2.0)
    assert model.projector is None  # contrast_head = 0: the term is on μ̃ itself
    schedule = S3VDCSchedule(config)
    schedule.set_model(model)
    for epoch in (0, 1):
        schedule.on_epoch_begin(epoch)
        assert float(model.contrast_weight.numpy()) == pytest.approx(2.0 * 16 * 16 / 128**2)
    assert _model().contrast_weight is None  # off: no weight, older model files still load
    # Logged (history.csv gains its columns) only where it is on.
    assert "contrast" in model.trackers and "contrast" not in _model().trackers


def test_contrast_without_views_is_refused_in_one_place():
    from astrovader.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"augment.contrast = 1.0 is not allowed: must be 0 without"
    ):
        Config.paper(augment={"contrast": 1.0})
    with pytest.raises(ValueError, match="contrast > 0 needs random views"):
        _model(contrast=1.0)
