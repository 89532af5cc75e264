"""RandomViews: shapes, a .keras round trip, a fixed-seed value, the identity, argument checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from astrovader.model.gmm_prior import GMMPrior
from astrovader.model.views import RandomViews, dihedral_views, make_views

SETTINGS = dict(rotate90=True, rotate=True, shift=0.06, zoom=1.18, brightness=0.15, noise=0.03)
X = np.random.default_rng(0).random((6, 16, 16, 1)).astype("float32")


def test_views_shapes_seed_and_round_trip(tmp_path):
    layer = RandomViews(**SETTINGS, seed=4)
    view, target = (ops.convert_to_numpy(a) for a in layer(X, training=True))
    assert view.shape == target.shape == X.shape
    assert 0 <= view.min() and view.max() <= 1
    assert np.abs(view - X).mean() > 0.05  # the images were moved
    noise = view - target
    assert 0 < np.abs(noise).mean() < 0.03  # the target is the view before the noise
    again = RandomViews(**SETTINGS, seed=4)(X, training=True)
    np.testing.assert_array_equal(ops.convert_to_numpy(again[0]), view)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(X)[0]), X)  # inference: the image
    inp = keras.Input((16, 16, 1))
    model = keras.Model(inp, RandomViews(**SETTINGS, seed=4)(inp, training=True)[0])
    model.save(tmp_path / "v.keras")
    loaded = keras.saving.load_model(tmp_path / "v.keras")
    cfg = loaded.layers[-1].get_config()
    assert {k: cfg[k] for k in SETTINGS} == SETTINGS and cfg["seed"] == 4
    with pytest.raises(ValueError, match="zoom must be"):
        RandomViews(zoom=0.5)
    with pytest.raises(ValueError, match="target must be"):
        RandomViews(target="clean")


def test_original_target_and_the_identity():
    _, target = RandomViews(**SETTINGS, target="original", seed=1)(X, training=True)
    np.testing.assert_array_equal(ops.convert_to_numpy(target), X)
    same, _ = make_views(
        dict(
            SETTINGS,
            rotate90=False,
            rotate=False,
            shift=0,
            zoom=1,
            brightness=0,
            noise=0,
            target="view",
        )
    )(X, np.array([1, 2]))
    np.testing.assert_allclose(ops.convert_to_numpy(same), X, atol=1e-6)


def test_quarter_turn_view_is_a_rotation_of_the_image():
    turned, _ = make_views(
        dict(rotate90=True, rotate=False, shift=0, zoom=1, brightness=0, noise=0, target="view")
    )(X, np.array([5, 6]))
    turned = ops.convert_to_numpy(turned)
    for image, out in zip(X, turned, strict=True):
        assert any(np.array_equal(np.rot90(image, k), out) for k in range(4))


def test_dihedral_views_are_distinct_flips_and_turns():
    views = [ops.convert_to_numpy(v) for v in dihedral_views(X, 4)]
    np.testing.assert_array_equal(views[0], X)
    np.testing.assert_array_equal(views[1][0], np.rot90(X[0]))
    np.testing.assert_array_equal(views[2][0], X[0][:, ::-1])
    assert len(dihedral_views(X, 8)) == 8


def test_simplex_prior_returns_normalised_weights(tmp_path):
    prior = GMMPrior(3, 2, simplex=True)
    prior.set_mixture([1.0, 2.0, 5.0], np.zeros((3, 2)), var=np.ones((3, 2)))
    pi = ops.convert_to_numpy(prior(None)[0])
    np.testing.assert_allclose(pi, [0.125, 0.25, 0.625], rtol=1e-6)
    assert pi.sum() == pytest.approx(1.0)
    free = GMMPrior(3, 2)
    free.set_mixture([1.0, 2.0, 5.0], np.zeros((3, 2)), var=np.ones((3, 2)))
    assert ops.convert_to_numpy(free(None)[0]).sum() == pytest.approx(8.0)
    assert GMMPrior.from_config(prior.get_config()).simplex


# The survey views (method §9d).
PLAIN = dict(rotate90=False, rotate=False, shift=0, zoom=1, brightness=0, noise=0, target="view")


def _blobs(n=4, size=32, width=1.5):
    """Centred Gaussian blobs of peak 1 on black, as display pixels (asinh, a = 0.1)."""
    from astropy.visualization import AsinhStretch

    t = np.arange(size) - (size - 1) / 2
    blob = np.exp(-0.5 * (t[:, None] ** 2 + t[None, :] ** 2) / width**2)
    return np.repeat(AsinhStretch(0.1)(blob)[None, :, :, None], n, 0).astype("float32")


@pytest.mark.parametrize(
    ("stretch", "a", "astropy_stretch"),
    [("asinh", 0.1, "AsinhStretch"), ("log", 1000.0, "LogStretch"), ("sqrt", 1.0, "SqrtStretch")],
)
def test_unstretch_inverts_the_astropy_stretch(stretch, a, astropy_stretch):
    from astropy import visualization

    from astrovader.model.views import restretch, unstretch

    kind = getattr(visualization, astropy_stretch)
    forward = kind(a) if stretch != "sqrt" else kind()
    x = np.linspace(0, 1, 101)
    out = ops.convert_to_numpy(restretch(x, stretch, a))
    np.testing.assert_allclose(out, forward(x), atol=1e-6)
    y = forward(x)
    np.testing.assert_allclose(ops.convert_to_numpy(unstretch(y, stretch, a)), x, atol=1e-6)
    np.testing.assert_allclose(
        ops.convert_to_numpy(unstretch(y, stretch, a)), forward.inverse(y), atol=1e-6
    )


def test_gaussian_blur_matches_scipy_per_image_and_band():
    from scipy.ndimage import gaussian_filter

    from astrovader.model.views import gaussian_blur

    images = np.random.default_rng(3).random((3, 16, 16, 2)).astype("float32")
    sigma = np.array([0.8, 2.0, 0.0], "float32")
    out = ops.convert_to_numpy(gaussian_blur(images, sigma, width=13))
    for i in range(2):
        for band in range(2):
            image = images[i, :, :, band].astype("float64")
            expected = gaussian_filter(image, sigma[i], mode="mirror", truncate=6 / sigma[i])
            np.testing.assert_allclose(out[i, :, :, band], expected, atol=1e-5)
    np.testing.assert_allclose(out[2], images[2], atol=1e-6)  # σ = 0: unchanged


def test_flux_view_dims_linear_flux_by_one_factor_per_image():
    from astrovader.model.views import unstretch

    images = np.random.default_rng(1).uniform(0.05, 1, (64, 8, 8, 1)).astype("float32")
    view, target = make_views(dict(PLAIN, flux_dex=1.5))(images, np.array([3, 4]))
    np.testing.assert_array_equal(ops.convert_to_numpy(view), ops.convert_to_numpy(target))
    ratio = ops.convert_to_numpy(unstretch(view)) / ops.convert_to_numpy(unstretch(images))
    per_image = ratio.reshape(64, -1)
    one = np.broadcast_to(per_image[:, :1], per_image.shape)
    np.testing.assert_allclose(per_image, one, rtol=1e-4)  # one factor per image
    dex = -np.log10(per_image[:, 0])
    assert dex.min() >= 0 and dex.max() <= 1.5 and dex.max() - dex.min() > 1.0


def test_snr_view_adds_linear_noise_at_the_drawn_peak_snr():
    from astrovader.model.views import unstretch

    flat = np.full((200, 16, 16, 1), 0.5, "float32")  # linear flux 0.212: no clipping
    view, target = make_views(dict(PLAIN, snr=5.0))(flat, np.array([7, 8]))
    np.testing.assert_allclose(ops.convert_to_numpy(target), flat, atol=1e-6)
    diff = ops.convert_to_numpy(unstretch(view)) - ops.convert_to_numpy(unstretch(flat))
    snr = float(unstretch(np.float32(0.5))) / diff.reshape(200, -1).std(axis=1)
    assert snr.min() > 5 * 0.8 and snr.max() < 500 * 1.25  # log-uniform in [5, 500]
    assert np.median(snr) == pytest.approx(50, rel=0.35)  # the geometric middle


def test_neighbour_view_pastes_a_fainter_image_25_to_50_percent_away():
    from astrovader.model.views import unstretch

    blobs = _blobs(8)
    view, _ = make_views(dict(PLAIN, neighbour=1.0))(blobs, np.array([1, 9]))
    added = ops.convert_to_numpy(unstretch(view)) - ops.convert_to_numpy(unstretch(blobs))
    assert added.min() > -1e-5  # flux is only added
    t = np.arange(32) - 15.5
    for a in added[..., 0]:
        total = a.sum()
        assert 0 < total < 2 * np.pi * 1.5**2  # at most the blob's own flux
        y, x = (a * t[:, None]).sum() / total, (a * t[None, :]).sum() / total
        assert 0.25 * 32 - 1 <= np.hypot(x, y) <= 0.5 * 32 + 1
    none, _ = make_views(dict(PLAIN, neighbour=1e-9))(blobs, np.array([1, 9]))
    np.testing.assert_allclose(ops.convert_to_numpy(none), blobs, atol=1e-6)


def test_blur_view_widens_a_point_source_by_at_most_the_psf():
    from astrovader.model.views import unstretch

    blobs = _blobs(16, width=1.0)
    view, _ = make_views(dict(PLAIN, blur=0.1))(blobs, np.array([2, 5]))
    flux = ops.convert_to_numpy(unstretch(view))[..., 0]
    t = np.arange(32) - 15.5
    r2 = t[:, None] ** 2 + t[None, :] ** 2
    width2 = (flux * r2).sum((1, 2)) / flux.sum((1, 2)) / 2  # σ² of a circular Gaussian
    assert width2.min() >= 1.0 - 0.05 and width2.max() <= 1.0 + (0.1 * 32) ** 2 + 0.5
    assert width2.max() - width2.min() > 1.0  # σ is drawn per image


def test_survey_views_round_trip_and_take_the_scaling_stretch(tmp_path):
    from astrovader.config import Config
    from astrovader.model.views import view_settings

    survey = dict(SETTINGS, flux_dex=1.5, blur=0.05, snr=5.0, neighbour=0.4, stretch="log")
    layer = RandomViews(**survey, stretch_a=1000.0, seed=2)
    view, target = (ops.convert_to_numpy(v) for v in layer(X, training=True))
    assert view.shape == X.shape and 0 <= view.min() and view.max() <= 1
    assert np.abs(view - target).mean() > 0  # the S/N noise
    inp = keras.Input((16, 16, 1))
    model = keras.Model(inp, RandomViews(**survey, stretch_a=1000.0, seed=2)(inp, training=True)[0])
    model.save(tmp_path / "s.keras")
    loaded = keras.saving.load_model(tmp_path / "s.keras").layers[-1]
    assert {k: loaded.get_config()[k] for k in survey} == survey
    again = ops.convert_to_numpy(loaded(X, training=True)[0])
    np.testing.assert_array_equal(again, view)  # the same seed draws the same views
    graph = RandomViews(**survey, seed=2)
    spec = tf.TensorSpec((None, 16, 16, 1), "float32")  # as in fit: the batch size unknown
    traced = tf.function(lambda x: graph(x, training=True)[0], input_signature=[spec])
    assert traced(X).shape == X.shape  # in a graph, after the geometric transform
    config = Config().replace(augment={"snr": 5.0}, scaling={"stretch": "log", "log_a": 300.0})
    settings = view_settings(config.augment, config.scaling)
    assert settings["snr"] == 5.0 and (settings["stretch"], settings["stretch_a"]) == ("log", 300.0)
    assert "stretch" not in view_settings(Config().augment, Config().scaling)  # no survey views
    with pytest.raises(ValueError, match="flux_dex must be"):
        RandomViews(flux_dex=4.0)
    with pytest.raises(ValueError, match="stretch must be"):
        RandomViews(stretch="gamma")
