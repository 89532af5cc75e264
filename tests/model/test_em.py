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
        em.tied_log_posterior(zv, gmm.weights_, mu=gmm.means_.T, var=gmm.covariances_.T)
    )
    np.testing.assert_allclose(np.exp(got), gmm.predict_proba(zv[0]), atol=1e-4)


def test_tied_posterior_averages_the_views_log_likelihoods():
    zv, _ = _data()
    pi = np.array([0.2, 0.3, 0.5])
    mu, var = RNG.normal(size=(3, 2)), RNG.uniform(0.5, 2, (3, 2))
    log_n = -0.5 * (np.log(2 * np.pi * var)[None, None] + (zv[:, :, None] - mu) ** 2 / var).sum(-1)
    logits = log_n.mean(0) + np.log(pi)
    want = logits - logsumexp(logits, axis=1, keepdims=True)
    got = ops.convert_to_numpy(em.tied_log_posterior(zv, pi * 7, mu=mu.T, var=var.T))
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_m_step_equals_weighted_means_and_variances_for_a_fixed_gamma():
    zv, _ = _data()
    log_var = RNG.normal(-2, 0.3, zv.shape).astype("float32")
    gamma = RNG.dirichlet(np.ones(3), 200)
    pi, mu, var = (ops.convert_to_numpy(a) for a in em.m_step(zv, log_var, gamma=gamma))
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
    pi, mu, var = (ops.convert_to_numpy(a) for a in em.m_step(zv, None, gamma=gamma))
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


def _posteriors(k=3, j=3, n=300, views=4):
    zv, labels = _data(k, j, n, views)
    # some dimensions carry little (a spread of about 1 in the posterior, as collapsed
    # latent dimensions do), others are sharp
    log_var = np.where(np.arange(j) == 0, 0.0, -3.0) + RNG.normal(0, 0.2, zv.shape)
    return zv, log_var.astype("float32"), labels


def test_expected_log_gaussian_is_the_monte_carlo_mean_of_log_n():
    z, log_var = RNG.normal(size=(5, 3)), RNG.normal(-1, 0.5, (5, 3))
    mu, var = RNG.normal(size=(3, 2)), RNG.uniform(0.5, 2, (3, 2))
    draws = z[None] + np.exp(0.5 * log_var)[None] * RNG.standard_normal((200_000, 5, 3))
    log_n = -0.5 * (
        np.log(2 * np.pi * var.T)[None, None] + (draws[..., None, :] - mu.T) ** 2 / var.T
    )
    want = log_n.sum(-1).mean(0)
    got = ops.convert_to_numpy(em.expected_log_gaussian(z, log_var, mu=mu, var=var))
    np.testing.assert_allclose(got, want, rtol=2e-3)


def test_the_e_step_is_the_posterior_of_the_views_posteriors():
    """γ ∝ π_c exp((1/V) Σ_v [log N(μ̃_v; μ_c, σ²_c) − ½ Σ_j σ̃²_vj / σ²_cj]) (NumPy)."""
    from astrovader.training.mixture.mixture_em import em_step

    zv, log_var, _ = _posteriors()
    pi, mu, var = np.array([0.2, 0.3, 0.5]), RNG.normal(size=(3, 3)), RNG.uniform(0.1, 2, (3, 3))
    log_n = -0.5 * (np.log(2 * np.pi * var)[None, None] + (zv[:, :, None] - mu) ** 2 / var).sum(-1)
    spread = -0.5 * (np.exp(log_var)[:, :, None] / var).sum(-1)
    logits = (log_n + spread).mean(0) + np.log(pi)
    want = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    gamma, *_ = em_step(zv, log_var, pi=pi, mu=mu, var=var)
    np.testing.assert_allclose(gamma, want, atol=1e-4)


def test_tied_em_never_lowers_its_objective():
    zv, log_var, _ = _posteriors()
    from astrovader.training.mixture.mixture_em import em_step

    pi, mu, var = np.ones(3) / 3, RNG.normal(size=(3, 3)), np.ones((3, 3))
    scores = []
    for _ in range(30):
        _, pi, mu, var = em_step(zv, log_var, pi=pi, mu=mu, var=var)
        scores.append(
            float(em.expected_log_likelihood(zv, pi, mu=mu.T, var=var.T, log_var_v=log_var))
        )
    assert np.all(np.diff(scores) >= -1e-4), np.diff(scores).min()


def test_m_step_variance_does_not_cancel_far_from_the_origin():
    """σ² of points 10⁴ from the origin with a spread of 10⁻²: float32 E[z²] − μ² gives 0."""
    zv = (1e4 + RNG.normal(0, 1e-2, (1, 500, 2))).astype("float32")
    gamma = np.ones((500, 1))
    _, _, var = (ops.convert_to_numpy(a) for a in em.m_step(zv, None, gamma=gamma))
    want = zv[0].astype(float).var(0)
    np.testing.assert_allclose(var[:, 0], want, rtol=0.05)


def test_statistics_summed_over_batches_give_the_whole_m_step():
    zv, log_var, _ = _posteriors()
    gamma = RNG.dirichlet(np.ones(3), zv.shape[1])
    whole = [ops.convert_to_numpy(a) for a in em.m_step(zv, log_var, gamma=gamma)]
    parts = [
        em.m_step_statistics(zv[:, s], log_var[:, s], gamma=gamma[s])
        for s in (slice(0, 100), slice(100, None))
    ]
    summed = [sum(ops.convert_to_numpy(p[i]) for p in parts) for i in range(3)]
    streamed = [ops.convert_to_numpy(a) for a in em.m_step_from_statistics(*summed)]
    for a, b in zip(whole, streamed, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_full_m_step_of_one_view_point_embeddings_is_sklearns():
    from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters

    zv, _ = _data(views=1, j=3)
    gamma = RNG.dirichlet(np.ones(3), zv.shape[1])
    _, mu, prec = (ops.convert_to_numpy(a) for a in em.m_step(zv, None, gamma=gamma, full=True))
    _, means, covs = _estimate_gaussian_parameters(zv[0].astype(float), gamma, 1e-6, "full")
    np.testing.assert_allclose(mu.T, means, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        np.linalg.inv(prec @ np.transpose(prec, (0, 2, 1))), covs, rtol=1e-3, atol=1e-4
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(em.covariance(prec)), covs, rtol=1e-3, atol=1e-4
    )


def test_full_tied_em_never_lowers_its_objective():
    from astrovader.training.mixture.mixture_em import em_step, published

    zv, log_var, _ = _posteriors()
    pi, mu = np.ones(3) / 3, RNG.normal(size=(3, 3))
    cov = np.stack([np.eye(3)] * 3)
    scores = []
    for _ in range(20):
        _, pi, mu, cov = em_step(zv, log_var, pi=pi, mu=mu, var=cov)
        assert cov.shape == (3, 3, 3)
        scores.append(
            float(
                em.expected_log_likelihood(zv, pi, mu=mu.T, var=published(cov), log_var_v=log_var)
            )
        )
    assert np.all(np.diff(scores) >= -1e-4), np.diff(scores).min()
    diag = [
        float(em.expected_log_likelihood(zv, pi, mu=mu.T, var=np.ones((3, 3)), log_var_v=log_var))
    ]
    assert scores[-1] > diag[0]
