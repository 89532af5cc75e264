"""The mixture maths against scikit-learn, direct NumPy and Monte-Carlo estimates."""

import math

import numpy as np
import pytest
from keras import ops
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

from astrovader.model import gmm_math

RNG = np.random.default_rng(42)
N, J, K = 50, 6, 4


def _params(rng=RNG):
    pi = rng.uniform(0.2, 3.0, K).astype("float32")  # not normalised, like the published π
    mu = rng.normal(0, 2, (J, K)).astype("float32")
    var = rng.uniform(0.3, 2.0, (J, K)).astype("float32")
    return pi, mu, var


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def test_log_gaussian_matches_scipy():
    from scipy.stats import multivariate_normal

    _pi, mu, var = _params()
    z = RNG.normal(size=(N, J)).astype("float32")
    got = _np(gmm_math.log_gaussian(z, mu, var))
    assert got.shape == (N, K)
    for c in range(K):
        want = multivariate_normal(mu[:, c], np.diag(var[:, c])).logpdf(z)
        np.testing.assert_allclose(got[:, c], want, rtol=1e-5, atol=1e-4)


def test_untransformed_gamma_equals_sklearn_predict_proba():
    x = np.concatenate([RNG.normal(m, 1.0, (100, J)) for m in (-3, 0, 3, 6)])
    gmm = GaussianMixture(K, covariance_type="diag", random_state=0).fit(x)
    pi = (gmm.weights_ * 7.3).astype("float32")  # scale must not matter
    got = _np(
        ops.exp(
            gmm_math.cluster_log_probabilities(
                x.astype("float32"),
                pi,
                mu=gmm.means_.T.astype("float32"),
                var=gmm.covariances_.T.astype("float32"),
                minmax_lambda=None,
            )
        )
    )
    np.testing.assert_allclose(got, gmm.predict_proba(x), atol=2e-5)


def test_minmax_transform_matches_numpy():
    pi, mu, var = _params()
    z = RNG.normal(size=(N, J)).astype("float32")
    a = _np(gmm_math.cluster_costs(z, pi, mu=mu, var=var))
    want_a = -(_np(gmm_math.log_gaussian(z, mu, var)) + np.log(pi)[None])
    np.testing.assert_allclose(a, want_a, rtol=1e-6)
    scaled = (a - a.min()) / (a.max() - a.min() + 1e-12) * -50.0
    want_gamma = np.exp(scaled - logsumexp(scaled, axis=1, keepdims=True))
    got = _np(
        ops.exp(gmm_math.cluster_log_probabilities(z, pi, mu=mu, var=var, minmax_lambda=50.0))
    )
    np.testing.assert_allclose(got, want_gamma, atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert scaled.min() == pytest.approx(-50.0) and scaled.max() == pytest.approx(0.0)


def test_unit_gaussian_kl_matches_formula_and_monte_carlo():
    z_mean = RNG.normal(size=(3, J)).astype("float32")
    z_log_var = RNG.normal(-0.5, 0.5, (3, J)).astype("float32")
    got = _np(gmm_math.unit_gaussian_kl(z_mean, z_log_var))
    var = np.exp(z_log_var.astype("float64"))
    formula = 0.5 * np.sum(var + z_mean**2 - 1.0 - np.log(var), axis=1)
    np.testing.assert_allclose(got, formula, rtol=1e-5)
    for n in range(3):
        z = z_mean[n] + np.sqrt(var[n]) * RNG.standard_normal((400_000, J))
        log_q = -0.5 * np.sum(np.log(2 * np.pi * var[n]) + (z - z_mean[n]) ** 2 / var[n], axis=1)
        log_p = -0.5 * np.sum(np.log(2 * np.pi) + z**2, axis=1)
        mc = np.mean(log_q - log_p)
        assert got[n] == pytest.approx(mc, abs=0.03)


def _eq11_numpy(z_mean, z_log_var, gamma, pi, mu, var):
    """method eq. 11 written out term by term with loops."""
    n_samples, latent = z_mean.shape
    out = np.zeros(n_samples)
    for n in range(n_samples):
        s_var = np.exp(z_log_var[n])
        total = 0.0
        for c in range(len(pi)):
            inner = latent * math.log(2 * math.pi)
            inner += np.sum(np.log(var[:, c]) + (s_var + (z_mean[n] - mu[:, c]) ** 2) / var[:, c])
            total += 0.5 * gamma[n, c] * inner
            total -= gamma[n, c] * math.log(pi[c])
            total += gamma[n, c] * math.log(gamma[n, c])
        total -= 0.5 * np.sum(1 + z_log_var[n])
        out[n] = total
    return out


def test_gmm_kl_matches_eq11_and_monte_carlo():
    pi, mu, var = _params()
    z_mean = RNG.normal(size=(4, J)).astype("float32")
    z_log_var = RNG.normal(-1.0, 0.3, (4, J)).astype("float32")
    log_gamma = gmm_math.cluster_log_probabilities(z_mean, pi, mu=mu, var=var, minmax_lambda=50.0)
    gamma = _np(ops.exp(log_gamma))
    got = _np(gmm_math.gmm_kl(z_mean, z_log_var, log_gamma=log_gamma, pi=pi, mu=mu, var=var))
    want = _eq11_numpy(z_mean, z_log_var, gamma, pi, mu, var)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    # Eq. 11 is E_q(z,c)[log q(z,c) − log p(z,c)] + (J/2) log 2π, with q(c) = γ fixed.
    for n in range(4):
        s_var = np.exp(z_log_var[n].astype("float64"))
        z = z_mean[n] + np.sqrt(s_var) * RNG.standard_normal((200_000, J))
        log_q = -0.5 * np.sum(np.log(2 * np.pi * s_var) + (z - z_mean[n]) ** 2 / s_var, axis=1)
        log_n = _np(gmm_math.log_gaussian(z.astype("float32"), mu, var))
        cross = -(log_n + np.log(pi)[None]) @ gamma[n]
        mc = np.mean(log_q + cross) + np.sum(gamma[n] * np.log(gamma[n]))
        assert got[n] == pytest.approx(mc + 0.5 * J * math.log(2 * math.pi), abs=0.05)


def test_reconstruction_is_pixel_count_times_mean():
    x = RNG.random((3, 8, 8, 1)).astype("float32")
    x_hat = RNG.random((3, 8, 8, 1)).astype("float32")
    mse = _np(gmm_math.reconstruction_loss(x, x_hat, "mse"))
    np.testing.assert_allclose(mse, 64 * np.mean((x - x_hat) ** 2, axis=(1, 2, 3)), rtol=1e-5)
    bce = _np(gmm_math.reconstruction_loss(x, x_hat, "bce"))
    p = np.clip(x_hat, 1e-7, 1 - 1e-7)
    want = -64 * np.mean(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    np.testing.assert_allclose(bce, want, rtol=1e-4)
    with pytest.raises(ValueError, match="mse' or 'bce"):
        gmm_math.reconstruction_loss(x, x_hat, "l1")


def _full_params(rng=RNG):
    """π, μ (J, K) and full covariances Σ (K, J, J) with their precision Cholesky factors."""
    pi, mu, _ = _params(rng)
    a = rng.normal(size=(K, J, J))
    cov = a @ np.transpose(a, (0, 2, 1)) / J + 0.3 * np.eye(J)
    prec = np.stack([np.linalg.inv(np.linalg.cholesky(c)).T for c in cov])
    return pi, mu, cov, prec.astype("float32")


def test_full_covariance_log_gaussian_matches_scipy_and_sklearn():
    from scipy.stats import multivariate_normal

    pi, mu, cov, prec = _full_params()
    z = RNG.normal(size=(N, J)).astype("float32")
    got = _np(gmm_math.log_gaussian(z, mu, prec))
    for c in range(K):
        np.testing.assert_allclose(
            got[:, c], multivariate_normal(mu[:, c], cov[c]).logpdf(z), rtol=1e-4, atol=1e-3
        )
    gmm = GaussianMixture(K, covariance_type="full")
    gmm.weights_, gmm.means_, gmm.covariances_ = pi / pi.sum(), mu.T, cov
    gmm.precisions_cholesky_ = prec.astype(float)
    gamma = _np(ops.exp(gmm_math.cluster_log_probabilities(z, pi, mu=mu, var=prec)))
    np.testing.assert_allclose(gamma, gmm.predict_proba(z), atol=1e-4)


def test_expected_log_gaussian_is_the_posterior_mean_for_full_and_diagonal_priors():
    z, log_var = RNG.normal(size=(3, J)), RNG.normal(-1, 0.3, (3, J))
    draws = z[None] + np.exp(0.5 * log_var)[None] * RNG.standard_normal((100_000, 3, J))
    _, mu, cov, prec = _full_params()
    _, _, var = _params()
    for spread, dense in ((prec, cov), (var, np.stack([np.diag(v) for v in var.T]))):
        got = _np(gmm_math.expected_log_gaussian(z, log_var, mu=mu, var=spread))
        inv = np.linalg.inv(dense)
        diff = draws[:, :, None, :] - mu.T[None, None]
        maha = np.einsum("snkj,kjl,snkl->snk", diff, inv, diff)
        log_det = np.linalg.slogdet(dense)[1]
        want = (-0.5 * (J * np.log(2 * np.pi) + log_det[None, None] + maha)).mean(0)
        np.testing.assert_allclose(got, want, rtol=2e-3)


def test_full_covariance_gmm_kl_matches_eq11_with_expectations():
    _, mu, cov, prec = _full_params()
    pi = np.array([0.1, 0.2, 0.3, 0.4], "float32")
    z, log_var = RNG.normal(size=(N, J)).astype("float32"), RNG.normal(-1, 0.2, (N, J))
    log_gamma = _np(gmm_math.cluster_log_probabilities(z, pi, mu=mu, var=prec))
    inv = np.linalg.inv(cov)
    diff = z[:, None, :] - mu.T[None]
    expected = -0.5 * (
        J * np.log(2 * np.pi)
        + np.linalg.slogdet(cov)[1][None]
        + np.einsum("nkj,kjl,nkl->nk", diff, inv, diff)
        + np.einsum("nj,kjj->nk", np.exp(log_var), inv)
    )
    gamma = np.exp(log_gamma)
    want = (
        -(gamma * expected).sum(1)
        - (gamma * np.log(pi)).sum(1)
        + (gamma * log_gamma).sum(1)
        - 0.5 * (1 + log_var).sum(1)
    )
    got = _np(gmm_math.gmm_kl(z, log_var, log_gamma=log_gamma, pi=pi, mu=mu, var=prec))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
