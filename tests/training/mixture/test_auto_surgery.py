import keras
import numpy as np
import pytest
from sklearn.datasets import make_blobs

from astrovader.config import Config
from astrovader.errors import AstrovaderError
from astrovader.model.vade import AstroVaDEr
from astrovader.training.mixture.auto_clusters import (
    auto_model_config,
    checkpoint_clusters,
    choose_clusters,
    pick_clusters,
    rebuild_with_clusters,
)


def tiny_model(k):
    keras.utils.set_random_seed(0)
    model = AstroVaDEr(image_size=16, latent_dim=3, n_clusters=k, filters=(4, 4, 4), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), run_eagerly=True)  # no tracing
    model.kl_weight.assign(0.01)  # γ-training: the prior carries no weight
    return model


def images():
    return np.random.default_rng(0).uniform(size=(16, 16, 16, 1)).astype("float32")


def test_rebuilt_model_continues_as_if_built_with_k_from_the_start():
    x = images()
    direct = tiny_model(4)
    direct.fit(x, epochs=2, batch_size=8, shuffle=False, verbose=0)
    placeholder = tiny_model(1)
    placeholder.fit(x, epochs=1, batch_size=8, shuffle=False, verbose=0)
    rebuilt = rebuild_with_clusters(placeholder, 4, run_eagerly=True)
    assert rebuilt.n_clusters == 4 and rebuilt.prior.mixture()["mu"].shape == (4, 3)
    assert int(rebuilt.optimizer.iterations.numpy()) == 2
    assert float(rebuilt.kl_weight.numpy()) == pytest.approx(0.01)
    rebuilt.fit(x, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(direct.variables, rebuilt.variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)


def test_rebuild_refuses_an_initialised_prior():
    model = tiny_model(2)
    model.prior.set_mixture(np.ones(2) / 2, np.zeros((2, 3)), var=np.ones((2, 3)))
    with pytest.raises(ValueError, match="already initialised"):
        rebuild_with_clusters(model, 3)


def test_checkpoint_clusters_reads_k_from_the_weights_file(tmp_path):
    for k in (1, 7):
        tiny_model(k).save_weights(tmp_path / f"k{k}.weights.h5")
        assert checkpoint_clusters(tmp_path / f"k{k}.weights.h5") == k
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save_weights(
        tmp_path / "other.weights.h5"
    )
    with pytest.raises(AstrovaderError, match="no GMM prior"):
        checkpoint_clusters(tmp_path / "other.weights.h5")


def test_pick_clusters_returns_the_consensus_and_writes_the_report(tmp_path):
    z, _ = make_blobs(600, centers=[[0, 0, 0], [20, 0, 0], [0, 20, 0]], random_state=0)
    k = pick_clusters(z, tmp_path / "pick_k", fits=3, batch_size=300, max_components=8)
    assert k == 3
    assert sorted(p.name for p in (tmp_path / "pick_k").iterdir()) == [
        "counts.csv",
        "histogram.png",
        "summary.json",
    ]


def test_choose_clusters_rebuilds_only_when_k_changes(tmp_path):
    z, _ = make_blobs(600, centers=[[0, 0, 0], [20, 0, 0], [0, 20, 0]], random_state=0)
    settings = {"fits": 2, "batch_size": 300, "max_components": 8}
    placeholder = tiny_model(1)
    rebuilt = choose_clusters(
        placeholder, z, out=tmp_path / "a", seed=0, settings=settings, run_eagerly=True
    )
    assert rebuilt is not placeholder and rebuilt.n_clusters == 3
    already = tiny_model(3)
    assert choose_clusters(already, z, out=tmp_path / "b", seed=0, settings=settings) is already
    assert (tmp_path / "b" / "summary.json").exists()


def test_a_fixed_k_configuration_is_built_as_it_is():
    config = Config()
    assert auto_model_config(config) is config
