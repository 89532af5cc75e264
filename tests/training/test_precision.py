"""Mixed precision: float32 mixture maths, clipping of unscaled gradients, finite training."""

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from astrovader.errors import ConfigError
from astrovader.model.vade import AstroVaDEr
from astrovader.training import precision


def _model(policy, seed=0):
    with precision.dtype_policy(policy):
        model = AstroVaDEr(image_size=16, latent_dim=3, n_clusters=3, filters=(4, 4, 4), seed=seed)
    rng = np.random.default_rng(seed)
    model.prior.set_mixture([0.3, 0.3, 0.4], rng.normal(0, 0.1, (3, 3)), var=np.full((3, 3), 0.05))
    model.kl_weight.assign(1.0)
    model.gmm_weight.assign(1.0)
    model.clip_value.assign(1.0)
    model.compile(optimizer=precision.wrap_optimizer(keras.optimizers.Adam(1e-3), policy))
    return model


def test_auto_precision_on_a_cpu_follows_its_bfloat16_units_and_names_are_checked():
    flags = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if "flags" in line]
    amx = bool(flags) and " amx_bf16" in flags[0]
    assert precision.resolve_precision("auto") == ("mixed_bfloat16" if amx else "float32")
    assert precision.resolve_precision("mixed_float16") == "mixed_float16"
    with pytest.raises(ConfigError, match=r"training\.precision = 'half' is not allowed"):
        precision.resolve_precision("half")


def test_policy_scope_restores_the_global_policy_and_keeps_heads_float32():
    before = keras.config.dtype_policy().name
    model = _model("mixed_bfloat16")
    assert keras.config.dtype_policy().name == before
    encoder, decoder = model.encoder, model.decoder
    assert encoder.get_layer("Conv1").compute_dtype == "bfloat16"
    assert decoder.get_layer("Conv12").compute_dtype == "bfloat16"
    for layer in (encoder.get_layer("latentmean"), encoder.get_layer("latentlog_var")):
        assert layer.compute_dtype == "float32"
    assert decoder.get_layer("Output").compute_dtype == "float32"
    pi, mu, var = model.prior(None)
    assert pi.dtype == mu.dtype == var.dtype == "float32"
    np.testing.assert_array_equal(mu.numpy().T, model.mixture()["mu"])  # not read in 16 bits
    assert all(w.dtype == "float32" for w in model.weights if "seed" not in w.path)
    assert isinstance(_model("mixed_float16").optimizer, keras.optimizers.LossScaleOptimizer)
    assert "dtype" not in model.get_config()


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_training_keeps_gamma_normalised_and_finite(policy):
    keras.utils.set_random_seed(0)
    model = _model(policy)
    x = np.random.default_rng(1).random((48, 16, 16, 1)).astype("float32")
    history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=2, verbose=0)
    for name, values in history.history.items():
        assert np.isfinite(values).all(), name
    assert all(np.isfinite(w).all() for w in model.get_weights())
    gamma = model.cluster_probabilities(x, 16)
    assert gamma.dtype == np.float32 and np.isfinite(gamma).all()
    np.testing.assert_allclose(gamma.sum(axis=1), 1.0, atol=1e-5)
    z_mean, z_log_var = model.encode(x)
    assert z_mean.dtype == z_log_var.dtype == np.float32
    assert model.decode(z_mean[:2]).dtype == np.float32


@pytest.mark.slow
def test_fit_run_in_mixed_bfloat16_saves_a_float32_model(tiny_config, tmp_path):
    import astrovader
    from astrovader.data.tables.clusters import read_clusters
    from astrovader.training.run import fit_run
    from astrovader.training.rundir.history import read_history

    # 16 px, J = K = 2: bfloat16 is emulated on CPUs without AMX, where 32 px took a minute.
    config = tiny_config(
        data={"synthetic_count": 120, "validation_fraction": 0.1},
        training={"precision": "mixed_bfloat16"},
    )
    run = fit_run(config, tmp_path / "run", verbose=0)
    for row in read_history(run / "history.csv"):
        assert np.isfinite([float(row[k]) for k in ("loss", "gmm_kl", "val_loss")]).all()
    np.testing.assert_allclose(read_clusters(run / "clusters.csv")["gamma"].sum(1), 1, atol=1e-4)
    model = astrovader.load_model(run / "model.keras")
    assert model.encoder.get_layer("Conv1").compute_dtype == "float32"
