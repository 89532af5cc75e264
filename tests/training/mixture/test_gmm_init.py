"""The mini-batch GMM initialisation writes exactly the scikit-learn fit into the prior."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from astrovader.data.pipelines.memory import evaluation_dataset
from astrovader.errors import AstrovaderError
from astrovader.model.vade import AstroVaDEr
from astrovader.training.mixture.gmm_init import GMMInitialisation, fit_mixture


def _model():
    return AstroVaDEr(image_size=16, latent_dim=3, n_clusters=3, filters=(4, 4, 4), seed=0)


def test_initialisation_writes_the_sklearn_fit_and_unfreezes():
    model = _model()
    images = np.random.default_rng(0).random((90, 16, 16, 1)).astype("float32")
    callback = GMMInitialisation(
        evaluation_dataset(images, 20), at_epoch=2, n_batches=3, clip_value=0.5, seed=4
    )
    callback.set_model(model)
    callback.on_epoch_begin(1)
    assert not model.prior.is_initialized
    assert np.isinf(model.clip_value.numpy())
    callback.on_epoch_begin(2)
    assert model.prior.is_initialized
    assert model.clip_value.numpy() == pytest.approx(0.5)

    embedding = model.encode(images[:60])[0]  # L = 3 batches of 20
    np.testing.assert_allclose(callback.embed(), embedding, rtol=1e-5, atol=1e-6)
    centres = KMeans(3, n_init=10, random_state=4).fit(embedding).cluster_centers_
    want = GaussianMixture(
        3, covariance_type="diag", means_init=centres, random_state=4, reg_covar=1e-6
    ).fit(embedding)
    mix = model.mixture()
    np.testing.assert_allclose(mix["pi"], want.weights_, rtol=1e-4)
    np.testing.assert_allclose(mix["mu"], want.means_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(mix["var"], want.covariances_, rtol=1e-4)


def test_initialisation_is_skipped_when_already_initialised():
    model = _model()
    model.prior.set_mixture(np.ones(3), np.zeros((3, 3)), var=np.full((3, 3), 2.0))
    images = np.random.default_rng(1).random((40, 16, 16, 1)).astype("float32")
    callback = GMMInitialisation(evaluation_dataset(images, 20), 0, n_batches=2, clip_value=1.0)
    callback.set_model(model)
    callback.on_epoch_begin(5)
    assert callback.mixture is None
    np.testing.assert_array_equal(model.mixture()["var"], np.full((3, 3), 2.0))


def test_too_few_samples_for_k_is_a_one_line_error():
    with pytest.raises(AstrovaderError, match="n_clusters = 5 is more than the 3 samples"):
        fit_mixture(np.zeros((3, 2)), 5)
