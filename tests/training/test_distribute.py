"""Data-parallel training: strategy choice, replica maths, MirroredStrategy and multi-worker runs.

Replicated runs need devices configured before TensorFlow starts, so they run in
helper processes (``_replicas.py``): two logical CPU devices for MirroredStrategy,
two processes on 127.0.0.1 for MultiWorkerMirroredStrategy.
"""

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from astrovader.errors import ConfigError

HELPER = Path(__file__).with_name("_replicas.py")
LOSSES = ("loss", "reconstruction", "kl", "gmm_kl", "val_loss", "val_reconstruction", "val_gmm_kl")


def _run(args, cwd, timeout=600, env=None):
    return subprocess.Popen(
        [sys.executable, str(HELPER), *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _finish(process, timeout=600):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-3000:]


def test_auto_strategy_follows_tf_config_and_gpus(monkeypatch):
    from astrovader.training.distribute import make_strategy, resolve_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert resolve_strategy("auto") == "default"  # no GPU on the test machine
    assert resolve_strategy("mirrored") == "mirrored"
    # one strategy per process and choice: a second MirroredStrategy would reuse the
    # first one's collective keys (the mirrored helper process below runs the replica
    # helpers and then two fits in one process, which aborted before this)
    assert make_strategy("default") is make_strategy("auto")
    with pytest.raises(ConfigError, match="'multiworker' needs TF_CONFIG"):
        make_strategy("multiworker")
    cluster = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cluster))
    assert resolve_strategy("auto") == "multiworker"
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ConfigError, match="TF_CONFIG is not a JSON object"):
        resolve_strategy("auto")


def test_xla_cannot_compile_a_replicated_step():
    from astrovader.training.precision import resolve_xla

    assert resolve_xla("on", 1) is True and resolve_xla("off", 2) is False
    assert resolve_xla("auto", 1) is False  # CPU only
    with pytest.raises(ConfigError, match=r"training\.xla = 'on' cannot compile .* 2 replicas"):
        resolve_xla("on", 2)


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory, tiny_config):
    out = tmp_path_factory.mktemp("mirrored")
    tiny_config(
        data={"synthetic_count": 80, "validation_fraction": 0.2},
        model={"latent_dim": 3, "n_clusters": 3},
        schedule={"gmm_batches": 4, "static_epochs": 1},
        optimizer={"learning_rate": 2e-3},
        training={"batch_size": 16, "seed": 3, "precision": "float32"},
    ).save(out / "tiny.toml")
    process = _run(["mirrored", out], out)
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output[-3000:]
    return json.loads((out / "result.json").read_text())


def _numpy_gamma(z, pi, mu, var, lam=50.0):
    """method eqs. 12–13 and 17 in NumPy, min and max over the whole (N, K) matrix."""
    z, pi, mu, var = (np.asarray(a, np.float64) for a in (z, pi, mu, var))
    log_n = -0.5 * (
        z.shape[1] * np.log(2 * np.pi)
        + (((z[:, :, None] - mu[None]) ** 2) / var[None]).sum(1)
        + np.log(var).sum(0)
    )
    cost = -(log_n + np.log(pi))
    logits = (cost - cost.min()) / (cost.max() - cost.min() + 1e-12) * -lam
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.slow
def test_minmax_transform_is_global_over_replicas(mirrored):
    h = mirrored["helpers"]
    replicas, single = np.array(h["replicas_gamma"]), np.array(h["single_gamma"])
    expected = _numpy_gamma(h["z"], h["pi"], h["mu"], h["var"])
    np.testing.assert_allclose(single, expected, atol=2e-6)
    np.testing.assert_allclose(replicas, single, atol=1e-6)
    per_replica = np.array(h["per_replica_minmax_gamma"])
    assert np.abs(per_replica - single).max() > 0.05, "per-replica min/max would differ"
    np.testing.assert_allclose(replicas.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.slow
def test_replica_shares_extrema_and_noise(mirrored):
    h = mirrored["helpers"]
    np.testing.assert_allclose(h["shares"], [3 / 8, 5 / 8], rtol=1e-6)
    np.testing.assert_array_equal(h["extrema"], [[-1.0, 5.0], [-1.0, 5.0]])
    noise = np.array(h["replicas_noise"])
    np.testing.assert_allclose(noise, np.array(h["single_noise"]), atol=1e-6)
    assert np.abs(noise[:4] - noise[4:]).min() > 0, "replicas must not share noise rows"


@pytest.mark.slow
def test_mirrored_vade_steps_equal_one_device(mirrored):
    one, two = mirrored["steps"]["default"], mirrored["steps"]["mirrored"]
    for key in ("loss", "reconstruction", "kl", "gmm_kl"):
        np.testing.assert_allclose(two["losses"][key], one["losses"][key], rtol=1e-5, err_msg=key)
    for a, b in zip(one["weights"], two["weights"], strict=True):
        np.testing.assert_allclose(np.array(b), np.array(a), rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_mirrored_training_equals_one_device(mirrored):
    """The whole schedule under both strategies.

    Up to the GMM initialisation the runs agree to 1e-4. The tiny schedule's
    γ-trained embedding is almost collapsed (variances near scikit-learn's floor of
    1e-6), so the mixture fitted to it turns the all-reduce's last-bit differences
    into percent-level differences of π; after it, both runs train to finite losses
    and a prior that moved (the step itself is compared exactly above).
    """
    one, two = mirrored["default"], mirrored["mirrored"]
    assert 'strategy = "mirrored"' in two["config"] and 'strategy = "default"' in one["config"]
    assert [r["phase"] for r in one["history"]] == ["gamma", "anneal", "static"]
    for key in LOSSES:
        a = [float(r[key]) for r in one["history"]]
        b = [float(r[key]) for r in two["history"]]
        assert all(np.isfinite(a)) and all(np.isfinite(b)), key
        np.testing.assert_allclose(b[:1], a[:1], rtol=1e-4, err_msg=key)
    for run in (one, two):
        assert np.abs(np.array(run["mixture"]["mu"])).max() > 1e-3, "the prior moved"


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = ",".join(str(s.getsockname()[1]) for s in sockets)
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_end_with_identical_weights(tmp_path, tiny_config):
    import os

    tiny_config(
        data={"synthetic_count": 64},
        model={"latent_dim": 3, "n_clusters": 3},
        schedule={"gamma_epochs": 0},
        optimizer={"learning_rate": 2e-3},
        training={"batch_size": 16, "seed": 2, "strategy": "multiworker", "precision": "float32"},
    ).save(tmp_path / "tiny.toml")
    ports = _free_ports(2)
    scratch = [tmp_path / f"tmp{i}" for i in range(2)]
    workers = []
    for index in range(2):
        scratch[index].mkdir()
        env = {**os.environ, "TMPDIR": str(scratch[index])}
        workers.append(_run(["worker", index, ports, tmp_path], tmp_path, env=env))
    for process in workers:
        _finish(process, timeout=900)
    final = [np.load(tmp_path / f"final-{i}.npz") for i in range(2)]
    initial = np.load(tmp_path / "initial-0.npz")
    assert len(final[0].files) == len(initial.files) > 20
    for key in final[0].files:
        np.testing.assert_array_equal(final[0][key], final[1][key], err_msg=key)
    moved = [k for k in initial.files if not np.array_equal(initial[k], final[0][k])]
    assert len(moved) > 20, "training changed the weights"
    run = tmp_path / "run"
    written = sorted(p.name for p in run.iterdir() if p.name != "warnings.txt")
    assert written == [
        "checkpoints",
        "clusters.csv",
        "config.toml",
        "history.csv",
        "index",
        "model.keras",
        "tensorboard",
    ]
    assert list(scratch[1].iterdir()) == [], "the non-chief worker cleans up its scratch run"
