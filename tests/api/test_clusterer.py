"""astrovader.Clusterer: scikit-learn conventions on one shared code path (tiny runs)."""

import io

import numpy as np
import PIL.Image
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks

from astrovader import Clusterer
from astrovader.cli import main
from astrovader.data.simulated.sersic import synthetic_imageset
from astrovader.data.tables.clusters import read_clusters
from astrovader.errors import AstrovaderError

TINY = dict(
    n_clusters=3,
    image_size=16,
    verbose=0,
    model__filters=[4, 4, 4],
    model__latent_dim=3,
    schedule__gamma_epochs=2,
    schedule__anneal_epochs=1,
    schedule__static_epochs=1,
    schedule__periods=1,
    schedule__gmm_batches=4,
    training__batch_size=20,
    data__validation_fraction=0.0,
)


@pytest.fixture(scope="module")
def images():
    return synthetic_imageset(80, 16, seed=3)[0].images


@pytest.fixture(scope="module")
def fitted(images, tmp_path_factory):
    out = tmp_path_factory.mktemp("clusterer") / "run"
    return Clusterer(out=str(out), **TINY).fit(images)


def test_params_round_trip_clone_and_the_configuration():
    est = Clusterer(**TINY)
    params = est.get_params()
    assert params["schedule__gamma_epochs"] == 2 and params["n_clusters"] == 3
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    twin.set_params(model__latent_dim=5, n_clusters=4, optimizer__learning_rate=1e-3)
    config = twin.configuration()
    assert (config.model.latent_dim, config.model.n_clusters) == (5, 4)
    assert config.optimizer.learning_rate == 1e-3 and config.schedule.gamma_epochs == 2
    assert clone(twin).get_params() == twin.get_params()
    with pytest.raises(AstrovaderError, match="'gamma' is not a Clusterer parameter"):
        Clusterer(gamma=1).configuration()
    with pytest.raises(AstrovaderError, match="preset must be one of"):
        Clusterer(preset="fast").configuration()
    assert Clusterer(preset="paper").configuration().mixture.update == "gradient"


def test_the_scikit_learn_checks_that_apply_to_an_image_clusterer():
    # check_estimator's data are 2-D tables of numbers; an image clusterer takes
    # (N, H, W[, B]) images, so the checks that fit on them do not apply. These do.
    # check_no_attributes_set_in_init reads the parameters from the signature, so it
    # runs on a Clusterer without section__key parameters (those are set by keyword).
    estimator_checks.check_no_attributes_set_in_init("Clusterer", Clusterer())
    est = Clusterer(**TINY)
    estimator_checks.check_get_params_invariance("Clusterer", est)
    estimator_checks.check_set_params("Clusterer", est)
    estimator_checks.check_parameters_default_constructible("Clusterer", Clusterer())
    with pytest.raises(NotFittedError):
        est.predict(np.zeros((2, 16, 16)))


@pytest.mark.slow
def test_fit_and_predict_equal_the_command_lines_clusters(fitted, images, tmp_path):
    assert fitted.labels_.shape == (80,) and fitted.n_clusters_ == 3
    assert len(fitted.history_) == 4 and "reconstruction" in fitted.history_.colnames
    np.testing.assert_array_equal(fitted.predict(images), fitted.labels_)
    cli_run = tmp_path / "cli"
    config = fitted.run_dir_ / "config.toml"
    assert main(["fit", "--config", str(config), "--out", str(cli_run), "--quiet"]) == 0
    table = read_clusters(cli_run / "clusters.csv")
    np.testing.assert_array_equal(table["cluster"], fitted.labels_)
    np.testing.assert_allclose(table["z"], fitted.transform(images), atol=1e-5)
    np.testing.assert_allclose(table["gamma"], fitted.predict_proba(images), atol=1e-5)


@pytest.mark.slow
def test_sample_save_and_load(fitted, images, tmp_path):
    drawn, components = fitted.sample(5, component=1, seed=2)
    assert drawn.shape == (5, 16, 16, 1) and (components == 1).all()
    again, _ = fitted.sample(5, component=1, seed=2)
    np.testing.assert_array_equal(drawn, again)
    saved = fitted.save(tmp_path / "saved")
    loaded = Clusterer.load(saved)
    np.testing.assert_array_equal(loaded.predict(images), fitted.predict(images))
    assert main(["embed", str(saved), "--out", str(tmp_path / "e.csv"), "--quiet"]) == 0


@pytest.mark.slow
def test_score_samples_ranks_injected_artefacts_as_the_most_anomalous(tiny_run, tiny_run_config):
    est = Clusterer.load(tiny_run)
    size = tiny_run_config.data.image_size
    normal = synthetic_imageset(60, size, seed=11)[0].images
    stripes = normal[:1].copy()
    stripes[0, ::4] = 1.0  # saturated rows
    hot = normal[1:2].copy()
    field = np.random.default_rng(0).random(hot.shape[1:]) < 0.08
    hot[0][field] = 1.0  # a cosmic-ray-like field of hot pixels
    blank = np.zeros_like(normal[:1])
    scores = est.score_samples(np.concatenate([normal, stripes, hot, blank]))
    assert np.isfinite(scores).all()
    ranks = np.argsort(scores)  # lowest likelihood first
    assert set(ranks[:5]) >= {60, 61}, scores[60:]
    assert 62 in ranks[:10], (scores[62], np.sort(scores)[:10])
    # The fit wrote the same score (S = 8 draws) into clusters.csv.
    table = read_clusters(tiny_run / "clusters.csv")
    assert np.isfinite(table["log_likelihood"]).all()


def test_kneighbors_in_the_shape_of_scikit_learns_nearest_neighbors(fitted, images):
    from sklearn.neighbors import NearestNeighbors

    z = read_clusters(fitted.run_dir_ / "clusters.csv")["z"]
    distances, indices = fitted.kneighbors(n_neighbors=5)
    want_d, want_i = NearestNeighbors(n_neighbors=5, algorithm="brute").fit(z).kneighbors()
    assert indices.shape == distances.shape == (len(images), 5)
    np.testing.assert_array_equal(indices, want_i)
    np.testing.assert_allclose(distances, want_d, rtol=1e-5, atol=1e-6)
    # Images are embedded by the model: a training image finds itself first.
    found = fitted.kneighbors(images[[4, 9, 30]], n_neighbors=2, return_distance=False)
    np.testing.assert_array_equal(found[:, 0], [4, 9, 30])
    # A loaded run answers the same.
    loaded = Clusterer.load(fitted.run_dir_)
    np.testing.assert_array_equal(loaded.kneighbors(n_neighbors=5)[1], want_i)


def test_get_params_lists_every_configuration_key_and_set_params_checks_them_at_once():
    from astrovader.config.core import SECTIONS

    params = Clusterer(**TINY).get_params()
    every = {f"{s}__{f}" for s, cls in SECTIONS.items() for f in cls.__dataclass_fields__}
    aliased = {"model__n_clusters", "data__image_size", "training__seed", "data__path"}
    assert set(params) >= every - aliased
    assert params["loss__gmm_scale"] is None  # the preset's value
    assert Clusterer(preset="paper").configuration().loss.gmm_scale == 0.3
    est = Clusterer(**TINY)
    with pytest.raises(AstrovaderError, match="'model__nclusters' is not a Clusterer parameter"):
        est.set_params(model__latent_dim=7, model__nclusters=3)
    assert est.model__latent_dim == 3  # nothing was set
    with pytest.raises(AstrovaderError, match="'model__n_clusters' is given as n_clusters"):
        Clusterer(model__n_clusters=4)


def test_score_is_the_mean_log_likelihood_and_score_samples_its_complexity_correction(
    fitted, images
):
    log_p = fitted.log_likelihood(images[:20], samples=4, seed=3)
    assert fitted.score(images[:20], samples=4, seed=3) == pytest.approx(float(log_p.mean()))
    # fit calibrated the anomaly score's decoder: σ̂² is the training reconstructions' MSE.
    model = fitted.model_
    residual = model.decode(model.encode(images)[0]) - images
    variance = float(np.mean(residual.astype(np.float64) ** 2))
    assert model.residual_variance == pytest.approx(variance, rel=1e-4)
    # score_samples: log p̂(x) under that decoder (variance w/2 = σ̂²) in bits, less
    # D log2 255, plus each image's PNG length.
    trained = float(model.gmm_weight.numpy())
    model.gmm_weight.assign(2 * model.residual_variance)
    model.residual_variance, kept = None, model.residual_variance
    try:
        log_p = fitted.log_likelihood(images[:20], samples=4, seed=3)
    finally:
        model.gmm_weight.assign(trained)
        model.residual_variance = kept
    png = []
    for image in images[:20]:
        buffer = io.BytesIO()
        pixels = np.rint(np.clip(image[..., 0], 0, 1) * 255).astype(np.uint8)
        PIL.Image.fromarray(pixels).save(buffer, format="PNG", compress_level=9)
        png.append(8 * len(buffer.getvalue()))
    want = log_p / np.log(2) - images[0].size * np.log2(255) + np.array(png)
    got = fitted.score_samples(images[:20], samples=4, seed=3)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    table = read_clusters(fitted.run_dir_ / "clusters.csv")
    np.testing.assert_array_equal(fitted.anomaly_score_, table["anomaly_score"])


@pytest.mark.slow
def test_a_temporary_run_directory_goes_with_the_estimator(images):
    import gc

    est = Clusterer(**TINY).fit(images[:40])
    run = est.run_dir_
    assert run.is_dir() and (run / "model.keras").is_file()
    del est
    gc.collect()
    assert not run.exists()


@pytest.mark.slow
def test_importing_the_api_prints_no_tensorflow_line():
    import subprocess
    import sys

    probe = (
        "import astrovader, numpy as np; astrovader.Clusterer; "
        "import tensorflow as tf; tf.config.list_physical_devices(); "
        "import keras; print(float(keras.ops.sum(keras.ops.ones((2, 2)))))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("TF_CPP")}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "4.0"
    assert result.stderr == "", result.stderr
