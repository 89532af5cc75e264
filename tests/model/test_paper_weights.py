"""The published network, imported, against an independent NumPy evaluation of the HDF5 file."""

import shutil

import h5py
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from astrovader.errors import AstrovaderError

WEIGHTS = "astrovader_paper_weights.h5"


def read_layer(h5, name):
    group = h5[name][name]
    return group["kernel:0"][()].astype(np.float64), group["bias:0"][()].astype(np.float64)


def conv_same(x, kernel, bias):
    """Keras Conv2D, stride 1, 'same' padding (cross-correlation), x (N, H, W, C)."""
    k = kernel.shape[0]
    pad = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (pad, k - 1 - pad), (pad, k - 1 - pad), (0, 0)))
    windows = sliding_window_view(padded, (k, k), axis=(1, 2))  # (N, H, W, C, k, k)
    return np.einsum("nhwcij,ijcf->nhwf", windows, kernel, optimize=True) + bias


def leaky(x, slope=0.1):
    return np.where(x > 0, x, slope * x)


def maxpool(x):
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def resize_bilinear_tf1(x, axis):
    """TensorFlow 1 ``resize_bilinear`` (align_corners=False, no half-pixel centres), ×2."""
    n_in = x.shape[axis]
    src = np.arange(2 * n_in) * (n_in / (2 * n_in))
    low = np.floor(src).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = (src - low).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    return (1 - frac) * np.take(x, low, axis=axis) + frac * np.take(x, high, axis=axis)


def numpy_encoder(h5, images):
    x = images.astype(np.float64)
    for block in range(3):
        for half in (1, 2):
            x = leaky(conv_same(x, *read_layer(h5, f"Conv{2 * block + half}")))
        x = maxpool(x)
    flat = x.reshape(len(x), -1)
    mean_k, mean_b = read_layer(h5, "latentmean")
    var_k, var_b = read_layer(h5, "latentlog_var")
    return flat @ mean_k + mean_b, flat @ var_k + var_b


def numpy_decoder(h5, z):
    fc_k, fc_b = read_layer(h5, "FC3")
    x = leaky(z.astype(np.float64) @ fc_k + fc_b).reshape(len(z), 16, 16, 16)
    for block in range(3):
        for half in (1, 2):
            x = leaky(conv_same(x, *read_layer(h5, f"Conv{7 + 2 * block + half - 1}")))
        x = resize_bilinear_tf1(resize_bilinear_tf1(x, 1), 2)
    return np.maximum(conv_same(x, *read_layer(h5, "Output")), 0.0)


@pytest.fixture(scope="module")
def weights_path(paper_dir):
    return paper_dir / WEIGHTS


@pytest.fixture(scope="module")
def model(weights_path):
    from astrovader.model.paper_weights import import_paper_weights

    return import_paper_weights(weights_path)


def test_prior_is_copied_unnormalised(model, weights_path):
    with h5py.File(weights_path, "r") as h5:
        group = h5["latentGMM_Layer"]
        pi, mu, var = group["theta_p:0"][()], group["u_p:0"][()], group["lambda_p:0"][()]
    mix = model.mixture()
    np.testing.assert_array_equal(mix["pi"], pi)
    np.testing.assert_array_equal(mix["mu"], mu.T)
    np.testing.assert_array_equal(mix["var"], var.T)
    assert mix["pi"].sum() == pytest.approx(28.127, abs=1e-3)
    assert model.prior.is_initialized
    assert (model.image_size, model.bands, model.latent_dim, model.n_clusters) == (128, 1, 20, 12)


def test_decoder_equals_numpy_evaluation(model, weights_path):
    rng = np.random.default_rng(0)
    mix = model.mixture()
    z = np.concatenate([mix["mu"][[0, 5]], rng.normal(0, 1.5, (2, 20))]).astype(np.float32)
    with h5py.File(weights_path, "r") as h5:
        expected = numpy_decoder(h5, z)
    got = model.decode(z)
    assert got.shape == (4, 128, 128, 1)
    assert expected.max() > 0.5
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_encoder_equals_numpy_evaluation(model, weights_path):
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:128, :128]
    blob = np.exp(-((yy - 64) ** 2 / 200 + (xx - 60) ** 2 / 60))
    images = np.stack([blob, rng.uniform(0, 1, (128, 128)), 0.5 * blob.T])[..., None]
    images = images.astype(np.float32)
    with h5py.File(weights_path, "r") as h5:
        mean, log_var = numpy_encoder(h5, images)
    got_mean, got_log_var = model.encode(images)
    # |μ̃| reaches 11 here: float32 sums over 4096 inputs agree to 1e-5 relative.
    np.testing.assert_allclose(got_mean, mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_log_var, log_var, rtol=1e-5, atol=1e-5)


def test_component_means_are_centred(model):
    """The published decoder draws galaxies centred at (63.5, 63.5); half-pixel
    upsampling (Keras 3's default) would move them to about (66.2, 66.2)."""
    images = model.decode(model.mixture()["mu"])[..., 0]
    yy, xx = np.mgrid[:128, :128]
    total = images.sum(axis=(1, 2))
    centre_y = ((images * yy).sum(axis=(1, 2)) / total).mean()
    centre_x = ((images * xx).sum(axis=(1, 2)) / total).mean()
    assert abs(centre_y - 63.5) < 1.0
    assert abs(centre_x - 63.5) < 1.0


def test_legacy_upsampling_matches_tensorflow_1():
    import tensorflow as tf

    from astrovader.model.network import LegacyBilinearUpSampling2D

    x = np.random.default_rng(2).normal(size=(2, 5, 7, 3)).astype(np.float32)
    got = np.asarray(LegacyBilinearUpSampling2D()(x))
    reference = tf.compat.v1.image.resize_bilinear(x, (10, 14), half_pixel_centers=False)
    np.testing.assert_allclose(got, reference.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(got, resize_bilinear_tf1(resize_bilinear_tf1(x, 1), 2), atol=1e-6)


def test_package_exports_the_importer():
    import astrovader
    from astrovader.model.paper_weights import import_paper_weights

    assert astrovader.import_paper_weights is import_paper_weights


def test_saves_and_loads(model, tmp_path):
    import astrovader

    model.save(tmp_path / "paper.keras")
    loaded = astrovader.load_model(tmp_path / "paper.keras")
    z = model.mixture()["mu"][:3]
    np.testing.assert_array_equal(loaded.decode(z), model.decode(z))
    np.testing.assert_array_equal(loaded.mixture()["pi"], model.mixture()["pi"])
    assert loaded.upsampling == "bilinear_legacy"


@pytest.mark.slow
def test_regenerated_images_return_to_their_component(model):
    per_component = 25  # 300 regenerated images: the fraction to about ±0.03
    fractions = []
    for component in range(model.n_clusters):
        z, _ = model.sample_latents(per_component, component, seed=100 + component)
        z_mean, _ = model.encode(model.decode(z))
        labels = np.argmax(model.latent_probabilities(z_mean), axis=1)
        fractions.append(np.mean(labels == component))
    agreement = float(np.mean(fractions))
    print(f"\nregenerated agreement: {agreement:.3f} (per component {np.round(fractions, 2)})")
    assert agreement > 0.45  # chance is 1/12 ≈ 0.08; the paper reports about 0.6


def test_missing_file_is_reported(tmp_path):
    from astrovader.model.paper_weights import import_paper_weights

    with pytest.raises(AstrovaderError, match=r"nothere\.h5: cannot read weights: no such file"):
        import_paper_weights(tmp_path / "nothere.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(AstrovaderError, match=r"text\.h5: cannot read weights: not a Keras"):
        import_paper_weights(tmp_path / "text.h5")


def test_missing_layer_is_reported(weights_path, tmp_path):
    from astrovader.model.paper_weights import import_paper_weights

    broken = tmp_path / "broken.h5"
    shutil.copy(weights_path, broken)
    with h5py.File(broken, "r+") as h5:
        del h5["Conv9"]
    with pytest.raises(AstrovaderError, match=r"broken\.h5: layer 'Conv9' is missing"):
        import_paper_weights(broken)


def test_wrong_shape_is_reported(weights_path, tmp_path):
    from astrovader.model.paper_weights import import_paper_weights

    broken = tmp_path / "broken.h5"
    shutil.copy(weights_path, broken)
    with h5py.File(broken, "r+") as h5:
        del h5["latentGMM_Layer/u_p:0"]
        h5["latentGMM_Layer"].create_dataset("u_p:0", data=np.zeros((20, 11), "f4"))
        del h5["Conv4/Conv4/bias:0"]
        h5["Conv4/Conv4"].create_dataset("bias:0", data=np.zeros(63, "f4"))
    with pytest.raises(AstrovaderError, match=r"layer 'Conv4': bias has shape \(63,\), expected"):
        import_paper_weights(broken)
    with h5py.File(broken, "r+") as h5:
        del h5["Conv4/Conv4/bias:0"]
        h5["Conv4/Conv4"].create_dataset("bias:0", data=np.zeros(64, "f4"))
    with pytest.raises(AstrovaderError, match=r"'latentGMM_Layer': u_p has shape \(20, 11\)"):
        import_paper_weights(broken)
