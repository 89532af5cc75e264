"""The tied posterior, the EM step and the consistency loss (method §9) against NumPy/sklearn."""

import numpy as np
import pytest
from keras import ops
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

from astrovader.model import em

RNG = np.random.default_rng(3)


def _data(k=3, j=2, n=200, views=4):
    centres = RNG.normal(0, 3, (k, j))
    labels = RNG.integers(0, k, n)
    zv = centres[labels][None] + RNG.normal(0, 0.5, (views, n, j))
    return zv.astype("float32"), labels


def test_one_view_posterior_is_sklearns_predict_proba():
    zv, _ = _data(views=1)
    gmm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(zv[0])
    got = ops.convert_to_numpy(
        em.tied_log_posterior(zv, gmm.weights_, gmm.means_.T, gmm.covariances_.T)
    )
    np.testing.assert_allclose(np.exp(got), gmm.predict_proba(zv[0]), atol=1e-4)


def test_tied_posterior_averages_the_views_log_likelihoods():
    zv, _ = _data()
    pi = np.array([0.2, 0.3, 0.5])
    mu, var = RNG.normal(size=(3, 2)), RNG.uniform(0.5, 2, (3, 2))
    log_n = -0.5 * (np.log(2 * np.pi * var)[None, None] + (zv[:, :, None] - mu) ** 2 / var).sum(-1)
    logits = log_n.mean(0) + np.log(pi)
    want = logits - logsumexp(logits, axis=1, keepdims=True)
    got = ops.convert_to_numpy(em.tied_log_posterior(zv, pi * 7, mu.T, var.T))
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_m_step_equals_weighted_means_and_variances_for_a_fixed_gamma():
    zv, _ = _data()
    log_var = RNG.normal(-2, 0.3, zv.shape).astype("float32")
    gamma = RNG.dirichlet(np.ones(3), 200)
    pi, mu, var = (ops.convert_to_numpy(a) for a in em.m_step(zv, log_var, gamma))
    w = np.tile(gamma, (4, 1))
    points, spread = zv.reshape(-1, 2), np.exp(log_var).reshape(-1, 2)
    for c in range(3):
        mean = np.average(points, axis=0, weights=w[:, c])
        second = np.average(points**2 + spread, axis=0, weights=w[:, c])
        np.testing.assert_allclose(mu[:, c], mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(var[:, c], second - mean**2, rtol=1e-3, atol=1e-5)
    assert pi.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(pi, gamma.mean(0), rtol=1e-4)


def test_m_step_of_one_view_point_embeddings_is_sklearns_m_step():
    zv, _ = _data(views=1)
    gmm = GaussianMixture(3, covariance_type="diag", reg_covar=0, random_state=0).fit(zv[0])
    gamma = gmm.predict_proba(zv[0])
    pi, mu, var = (ops.convert_to_numpy(a) for a in em.m_step(zv, None, gamma))
    from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters

    nk, means, covs = _estimate_gaussian_parameters(zv[0].astype(float), gamma, 0.0, "diag")
    np.testing.assert_allclose(pi, nk / nk.sum(), rtol=1e-5)
    np.testing.assert_allclose(mu.T, means, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(var.T, covs, rtol=1e-3, atol=1e-6)


def test_consistency_is_zero_for_identical_views_and_positive_otherwise():
    log_g = np.log(RNG.dirichlet(np.ones(4), 10)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(em.consistency(log_g, log_g)), 0, atol=1e-6)
    other = np.log(RNG.dirichlet(np.ones(4), 10)).astype("float32")
    got = ops.convert_to_numpy(em.consistency(log_g, other))
    want = (np.exp(log_g) * (log_g - other)).sum(1)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert (got > 0).all()
