"""Helper processes of test_distribute.py (they configure devices before TensorFlow starts).

python _replicas.py mirrored OUT          # 2 logical CPUs: helpers, then default vs mirrored fit
python _replicas.py worker INDEX PORTS OUT  # one MultiWorkerMirroredStrategy worker

The test writes the runs' configuration to OUT/tiny.toml.
"""

import json
import os
import sys
from pathlib import Path


def helpers(strategy):
    """γ's min-max over replicas, the batch shares and the noise rows, per replica."""
    import numpy as np
    import tensorflow as tf

    from astrovader.model import gmm_math, replicas
    from astrovader.model.vade import AstroVaDEr

    rng = np.random.default_rng(0)
    with strategy.scope():
        model = AstroVaDEr(image_size=16, latent_dim=2, n_clusters=3, filters=(4, 4, 4), seed=7)
        model.prior.set_mixture(
            [0.2, 0.3, 0.5], rng.normal(0, 1, (3, 2)), var=rng.uniform(0.5, 1, (3, 2))
        )
    z = rng.normal(0, 1, (8, 2)).astype("float32")
    z[4:] += 4.0  # the second replica's half has a much wider cost range
    pi, mu, var = model.prior(None)

    def replica_gamma():
        index = tf.distribute.get_replica_context().replica_id_in_sync_group
        return tf.exp(model._log_gamma(z[4 * index : 4 * index + 4], pi, mu, var))

    def halves(fn):
        return np.concatenate([v.numpy() for v in strategy.experimental_local_results(fn)])

    sizes = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.zeros((3 + 2 * ctx.replica_id_in_sync_group, 1))
    )
    local = [np.array([[-1.0, 2.0]]), np.array([[5.0, 0.5]])]
    values = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(local[ctx.replica_id_in_sync_group], tf.float32)
    )
    zeros = tf.zeros((4, 2))
    with strategy.scope():
        single = AstroVaDEr(image_size=16, latent_dim=2, n_clusters=3, filters=(4, 4, 4), seed=7)
    local_minmax = np.concatenate(
        [
            np.exp(gmm_math.cluster_log_probabilities(h, pi, mu=mu, var=var, minmax_lambda=50.0))
            for h in (z[:4], z[4:])
        ]
    )
    return {
        "z": z.tolist(),
        "pi": pi.numpy().tolist(),
        "mu": mu.numpy().tolist(),
        "var": var.numpy().tolist(),
        "replicas_gamma": halves(strategy.run(replica_gamma)).tolist(),
        "single_gamma": np.exp(model._log_gamma(z, pi, mu, var).numpy()).tolist(),
        "per_replica_minmax_gamma": local_minmax.tolist(),
        "shares": [
            float(v)
            for v in halves(
                strategy.run(lambda x: replicas.batch_share(tf.shape(x)[0])[None], (sizes,))
            )
        ],
        "extrema": halves(
            strategy.run(lambda x: tf.stack(replicas.global_extrema(x))[None], (values,))
        ).tolist(),
        "replicas_noise": halves(
            strategy.run(lambda: model._sample(zeros, zeros, training=True))
        ).tolist(),
        "single_noise": single.sampler([tf.zeros((8, 2))] * 2, training=True).numpy().tolist(),
    }


def vade_steps(strategy):
    """Two epochs of VaDE steps from one state (a well-conditioned, initialised prior)."""
    import keras
    import numpy as np
    import tensorflow as tf

    from astrovader.model.vade import AstroVaDEr

    rng = np.random.default_rng(4)
    x = rng.random((32, 16, 16, 1)).astype("float32")
    keras.utils.set_random_seed(5)
    with strategy.scope():
        model = AstroVaDEr(image_size=16, latent_dim=2, n_clusters=3, filters=(4, 4, 4), seed=9)
        model.prior.set_mixture(
            [0.3, 0.3, 0.4], rng.normal(0, 0.1, (3, 2)), var=np.full((3, 2), 0.5)
        )
        model.gmm_weight.assign(0.3)
        model.clip_value.assign(1.0)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=2, verbose=0)
    return {
        "losses": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "weights": [w.tolist() for w in model.get_weights()],
    }


def mirrored(out: Path):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import astrovader
    from astrovader.cli import main
    from astrovader.training import distribute
    from astrovader.training.rundir.history import read_history

    result = {"helpers": helpers(distribute.make_strategy("mirrored"))}
    result["steps"] = {
        name: vade_steps(distribute.make_strategy(name)) for name in ("default", "mirrored")
    }
    for strategy in ("default", "mirrored"):
        run = out / strategy
        args = ["fit", "--config", str(out / "tiny.toml"), "--strategy", strategy]
        assert main([*args, "--out", str(run), "--quiet"]) == 0
        model = astrovader.load_model(run / "model.keras")
        result[strategy] = {
            "history": read_history(run / "history.csv"),
            "mixture": {k: v.tolist() for k, v in model.mixture().items()},
            "config": (run / "config.toml").read_text(),
        }
    (out / "result.json").write_text(json.dumps(result))


def worker(index: int, ports: str, out: Path):
    addresses = [f"127.0.0.1:{port}" for port in ports.split(",")]
    os.environ["TF_CONFIG"] = json.dumps(
        {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
    )
    import keras
    import numpy as np

    from astrovader.config import load_config
    from astrovader.training.run import fit_run

    class Save(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            np.savez(out / f"initial-{index}.npz", *self.model.get_weights())

        def on_train_end(self, logs=None):
            np.savez(out / f"final-{index}.npz", *self.model.get_weights())

    config = load_config(out / "tiny.toml")
    fit_run(config, out / "run", verbose=0, callbacks=(Save(),))


if __name__ == "__main__":
    if sys.argv[1] == "mirrored":
        mirrored(Path(sys.argv[2]))
    else:
        worker(int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))
