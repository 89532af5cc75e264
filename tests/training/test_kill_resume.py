"""Resume equals no interruption: SIGKILL at four points found from the run's own files.

A tiny run (16×16 px, 200 images, 9 epochs) is killed in epoch 0, at the GMM
initialisation, in annealing and while a checkpoint is being written, resumed after
each kill, and must end bit-identical (history.csv and every weight) to an
uninterrupted run of the same configuration on the same machine and threads.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from astrovader.model.loading import load_model
from astrovader.training.rundir.history import read_history

SHORT = {
    "data": {"synthetic_count": 200},
    "model": {"latent_dim": 3, "n_clusters": 3},
    "schedule": {
        "gamma_epochs": 3,
        "gmm_batches": 5,
        "anneal_epochs": 2,
        "static_epochs": 1,
        "periods": 2,
    },
}
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def start(*args) -> subprocess.Popen:
    command = [sys.executable, "-m", "astrovader", "fit", *args, "--quiet"]
    return subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def rows(run: Path) -> int:
    return len(read_history(run / "history.csv"))


def in_epoch_0(run):
    return (run / "tensorboard").exists() and not (run / "checkpoints" / "last.weights.h5").exists()


def writing_a_checkpoint(run):
    try:
        return any(
            e.name.startswith(".last.weights.h5.tmp-") for e in os.scandir(run / "checkpoints")
        )
    except FileNotFoundError:
        return False


POINTS = {
    "in epoch 0": in_epoch_0,
    "at the GMM initialisation": lambda run: rows(run) >= 3,
    "in annealing": lambda run: rows(run) >= 4,
    "while writing a checkpoint": writing_a_checkpoint,
}


def kill_when(process: subprocess.Popen, ready, run: Path, limit: float = 300.0) -> None:
    """SIGKILL ``process`` as soon as ``ready(run)`` holds (a watchdog bounds the wait).

    The files are polled without pause: a checkpoint of this model is written in a
    few milliseconds.
    """
    deadline = time.monotonic() + limit
    while not ready(run):
        assert process.poll() is None, f"{ready.__name__}: {process.stderr.read().decode()[-300:]}"
        assert time.monotonic() < deadline, f"the run never reached {ready.__name__}"
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.slow
def test_killed_four_times_the_resumed_run_equals_an_uninterrupted_one(tmp_path, tiny_config):
    reference, run = tmp_path / "reference", tmp_path / "run"
    sets = tiny_config.sets(**SHORT)
    process = start("--out", str(run), *sets)
    killed_at = []
    for name, ready in POINTS.items():
        kill_when(process, ready, run)
        killed_at.append((name, rows(run)))
        process = start("--resume", str(run))
    assert process.wait() == 0, process.stderr.read().decode()[-2000:]
    whole = start("--out", str(reference), *sets)  # after, so that the polling has a core
    assert whole.wait() == 0, whole.stderr.read().decode()[-2000:]
    assert [point for point, _ in killed_at] == list(POINTS)
    assert killed_at[0][1] == 0 and killed_at[1][1] >= 3
    assert (run / "history.csv").read_text() == (reference / "history.csv").read_text()
    assert len(read_history(run / "history.csv")) == 9
    mine, theirs = (load_model(r / "model.keras").get_weights() for r in (run, reference))
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not list(run.rglob(".*.tmp-*")), "the temporary files of the kills are gone"
