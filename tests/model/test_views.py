"""RandomViews: shapes, a .keras round trip, a fixed-seed value, the identity, argument checks."""

import keras
import numpy as np
import pytest
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
