"""Latent walks and selections checked against direct computations."""

import numpy as np
import pytest

from astrovader.analysis import latent


def test_per_object_mse_and_top_gamma():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(4, 3, 3, 1)), rng.uniform(size=(4, 3, 3, 1))
    expected = [np.sum((x[i] - y[i]) ** 2) / 9 for i in range(4)]
    np.testing.assert_allclose(latent.per_object_mse(x, y), expected)
    gamma = np.array([[0.1, 0.9], [0.7, 0.3], [0.2, 0.8], [0.9, 0.1]])
    assert list(latent.top_gamma(gamma, 1, 2)) == [0, 2]
    assert list(latent.top_gamma(gamma, 0, 10)) == [3, 1, 2, 0]
    # Members only: a one-member component shows one object, not the n highest γ.
    labels = gamma.argmax(1)
    assert list(latent.top_members(gamma, labels, component=0, n=10)) == [3, 1]
    assert (
        list(latent.top_members(np.c_[gamma, [0.0, 0.0, 0.0, 0.5]], labels, component=2, n=5)) == []
    )


def test_random_members_stay_in_the_component():
    labels = np.array([0, 1, 1, 0, 1, 2])
    picked = latent.random_members(labels, 1, n=10, rng=np.random.default_rng(0))
    assert sorted(picked) == [1, 2, 4]
    assert len(latent.random_members(labels, 3, n=5, rng=np.random.default_rng(0))) == 0


def test_route_latents_run_along_each_leg():
    points = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 2.0]])
    legs = latent.route_latents(points, [0, 2, 1], 5)
    assert legs.shape == (3, 5, 2)
    np.testing.assert_allclose(legs[0, 0], points[0])
    np.testing.assert_allclose(legs[0, -1], points[2])
    np.testing.assert_allclose(legs[0, 2], [2.0, 1.0])
    np.testing.assert_allclose(legs[2, -1], points[0])


def test_traversal_runs_min_mean_max_with_others_at_the_mean():
    z = np.random.default_rng(1).normal(size=(50, 3))
    grid = latent.traversal_latents(z, 9)
    assert grid.shape == (3, 9, 3)
    for j in range(3):
        np.testing.assert_allclose(grid[j, 0, j], z[:, j].min())
        np.testing.assert_allclose(grid[j, 4, j], z[:, j].mean())
        np.testing.assert_allclose(grid[j, -1, j], z[:, j].max())
        assert np.all(np.diff(grid[j, :, j]) > 0)
        others = [i for i in range(3) if i != j]
        np.testing.assert_allclose(grid[j][:, others], np.tile(z.mean(axis=0)[others], (9, 1)))


def test_deblending_pairs_pick_the_lowest_mse_member_of_the_best_morph_component():
    rng = np.random.default_rng(2)
    images = rng.uniform(size=(30, 4, 4, 1))
    gamma = rng.dirichlet(np.ones(4), size=30)
    morph = [0, 1]
    pairs = latent.deblending_pairs(images, gamma, morph=morph, n_pairs=5)
    assert [p["source_component"] for p in pairs] == [2, 3, 2, 3, 2]
    assert len({p["source"] for p in pairs}) == 5
    labels = gamma.argmax(axis=1)
    for rank, p in enumerate(pairs):
        source = p["source"]
        assert source == np.argsort(-gamma[:, p["source_component"]])[rank // 2]
        assert p["target_component"] == morph[int(np.argmax(gamma[source, morph]))]
        members = [i for i in range(30) if labels[i] == p["target_component"] and i != source]
        errors = {i: np.mean((images[i] - images[source]) ** 2) for i in members}
        assert p["target"] == min(errors, key=errors.get)
        assert p["mse"] == pytest.approx(errors[p["target"]])
    every = latent.deblending_pairs(images, gamma, morph=[], n_pairs=2)
    assert [p["source_component"] for p in every] == [0, 1]
    assert all(p["target_component"] != p["source_component"] for p in every)
