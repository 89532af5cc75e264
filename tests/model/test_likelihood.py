"""The anomaly score log p̂(x) (eq. A4) against an independent NumPy computation."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

from astrovader.model.vade import AstroVaDEr

X = np.random.default_rng(2).random((5, 16, 16, 1)).astype("float32")


WEIGHT = 0.05  # the mixture term's weight at the end of training: decoder variance w / 2


@pytest.fixture(scope="module")
def model():
    m = AstroVaDEr(image_size=16, latent_dim=2, n_clusters=2, filters=(4, 4, 2), seed=0)
    m.prior.set_mixture([0.3, 0.7], [[0.0, 0.5], [-0.2, 0.1]], var=[[0.5, 1.5], [2.0, 0.3]])
    m.gmm_weight.assign(WEIGHT)
    return m


def _numpy_score(model, x, samples, seed, variance=WEIGHT / 2):
    z_mean, z_log_var = model.encode(x)
    noise = np.random.default_rng(seed).standard_normal((samples, len(x), 2))
    mix = model.mixture()
    weights = []
    for s in range(samples):
        z = z_mean + np.exp(0.5 * z_log_var) * noise[s]
        x_hat = model.decode(z.astype("float32"))
        # a Gaussian of variance w / 2 per pixel (scipy, independent of the package)
        log_px = norm.logpdf(x, x_hat, np.sqrt(variance)).reshape(len(x), -1).sum(1)
        comp = [
            np.log(p) - 0.5 * (np.log(2 * np.pi * v) + (z - m) ** 2 / v).sum(1)
            for p, m, v in zip(mix["pi"] / mix["pi"].sum(), mix["mu"], mix["var"], strict=True)
        ]
        log_pz = logsumexp(np.stack(comp), axis=0)
        log_q = -0.5 * (np.log(2 * np.pi) + z_log_var + (z - z_mean) ** 2 / np.exp(z_log_var))
        weights.append(log_px + log_pz - log_q.sum(1))
    return logsumexp(np.stack(weights), axis=0) - np.log(samples)


def test_score_equals_numpy_and_is_reproducible(model):
    got = model.log_likelihood(X, samples=4, seed=3, batch_size=2)
    np.testing.assert_allclose(got, _numpy_score(model, X, 4, 3), rtol=1e-4, atol=1e-3)
    # The draws do not depend on the batch size; the sums only to float32 rounding.
    again = model.log_likelihood(X, samples=4, seed=3, batch_size=5)
    np.testing.assert_allclose(got, again, rtol=1e-6)
    assert not np.allclose(got, model.log_likelihood(X, samples=4, seed=4), rtol=1e-4)
    assert got.shape == (5,) and np.isfinite(got).all()


def test_the_anomaly_score_is_the_numpy_score_against_each_images_png_length(model):
    import io

    from PIL import Image

    got = model.scores(X, samples=4, seed=3, batch_size=2)
    assert got.shape == (5, 2) and got.dtype == np.float64
    log_p = _numpy_score(model, X, 4, 3)
    np.testing.assert_allclose(got[:, 0], log_p, rtol=1e-4, atol=1e-3)
    bits = []
    for image in X:
        buffer = io.BytesIO()
        Image.fromarray(np.rint(image[..., 0] * 255).astype(np.uint8)).save(
            buffer, format="PNG", compress_level=9
        )
        bits.append(8 * len(buffer.getvalue()))
    want = log_p / np.log(2) - X[0].size * np.log2(255) + np.array(bits)
    np.testing.assert_allclose(got[:, 1], want, rtol=1e-5, atol=2e-3)
    np.testing.assert_array_equal(
        model.anomaly_score(X, samples=4, seed=3, batch_size=2), got[:, 1]
    )


def test_the_calibrated_decoder_has_the_variance_of_the_reconstructions():
    m = AstroVaDEr(image_size=16, latent_dim=2, n_clusters=2, filters=(4, 4, 2), seed=0)
    m.prior.set_mixture([0.3, 0.7], [[0.0, 0.5], [-0.2, 0.1]], var=[[0.5, 1.5], [2.0, 0.3]])
    m.gmm_weight.assign(WEIGHT)
    before = m.scores(X, samples=4, seed=3)
    variance = m.calibrate(X, batch_size=2)
    residual = m.decode(m.encode(X)[0]) - X
    assert variance == pytest.approx(float(np.mean(residual.astype(np.float64) ** 2)), rel=1e-5)
    after = m.scores(X, samples=4, seed=3)
    np.testing.assert_array_equal(after[:, 0], before[:, 0])  # log p̂(x) itself is unchanged
    log_p = _numpy_score(m, X, 4, 3, variance=variance)
    shift = after[:, 1] - log_p / np.log(2)  # − D log2 255 + L(x), the same for both
    np.testing.assert_allclose(shift, before[:, 1] - before[:, 0] / np.log(2), rtol=1e-5, atol=0.05)
    # Saved with the model.
    assert AstroVaDEr.from_config(m.get_config()).residual_variance == pytest.approx(variance)


def test_more_draws_tighten_the_bound_on_average(model):
    elbo = np.mean([model.log_likelihood(X, samples=1, seed=s).mean() for s in range(8)])
    iwae = np.mean([model.log_likelihood(X, samples=16, seed=s).mean() for s in range(8)])
    assert iwae > elbo


@pytest.mark.slow
def test_the_decoder_densities_are_normalised_at_the_trained_temperature():
    """∫ p(x | z) dx = 1 over a pixel, for MSE (x ∈ ℝ) and BCE (x ∈ [0, 1]), any w and x̂."""
    from scipy.integrate import quad

    from astrovader.model.likelihood import decoder_log_density

    def density(kind, x_hat, w):
        def p(x):
            image = np.full((1, 1, 1, 1), x, "float32")
            guess = np.full((1, 1, 1, 1), x_hat, "float32")
            return float(np.exp(decoder_log_density(image, guess, kind=kind, weight=w))[0])

        return p

    for w in (0.05, 0.3, 1.0):
        for x_hat in (0.02, 0.5, 0.93):
            assert quad(density("mse", x_hat, w), -np.inf, np.inf)[0] == pytest.approx(1, abs=1e-4)
            assert quad(density("bce", x_hat, w), 0, 1, points=[x_hat])[0] == pytest.approx(
                1, abs=1e-3
            )


def test_a_vanishing_posterior_variance_gives_a_finite_score():
    m = AstroVaDEr(image_size=16, latent_dim=2, n_clusters=2, filters=(4, 4, 2), seed=0)
    m.prior.set_mixture([0.5, 0.5], [[0.0, 0.5], [-0.2, 0.1]], var=[[0.5, 1.5], [2.0, 0.3]])
    head = m.encoder.get_layer("latentlog_var")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 0, bias * 0 - 100.0])  # log σ̃² = −100: σ̃ underflows to 0
    assert np.isfinite(m.log_likelihood(X, samples=2)).all()


def test_the_number_of_draws_is_checked():
    m = AstroVaDEr(image_size=16, latent_dim=2, n_clusters=2, filters=(4, 4, 2), seed=0)
    for bad in (0, -1, 10**8):
        with pytest.raises(ValueError, match="samples must be an integer from 1 to 1,024"):
            m.log_likelihood(X, samples=bad)
