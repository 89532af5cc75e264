"""``astrovader pick-k`` and ``astrovader search`` from the command line."""

import collections
import csv
import json
import os
import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from astrovader.cli import main
from astrovader.config import load_config
from astrovader.data.simulated.sersic import CLASS_NAMES, synthetic_imageset
from astrovader.selection import records

SPACES = Path(__file__).resolve().parents[2] / "experiments" / "spaces"
SEARCH = ["search", str(SPACES / "tiny.py"), "--config", str(SPACES / "tiny_base.toml")]


def _column(path, name):
    with open(path, newline="") as handle:
        return [row[name] for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_pick_k_on_the_synthetic_galaxies(tiny_run, tmp_path, capsys):
    out = tmp_path / "pk"
    argv = ["pick-k", str(tiny_run), "--fits", "12", "--batch-size", "200"]
    assert main([*argv, "--max-components", "15", "--out", str(out)]) == 0
    counts = [int(c) for c in _column(out / "counts.csv", "n_components")]
    summary = json.loads((out / "summary.json").read_text())
    histogram = collections.Counter(counts)
    mode = min(k for k, n in histogram.items() if n == max(histogram.values()))
    assert len(counts) == 12 and summary["consensus"] == mode
    assert summary["n_samples"] == 360  # the tiny run's training images (400, 10 % held out)
    assert f"K = {mode} " in capsys.readouterr().out
    assert (out / "histogram.png").stat().st_size > 0
    with capsys.disabled():
        print(
            f"\npick-k on the built-in synthetic galaxies (tiny run): K = {mode} "
            f"(per-fit counts {sorted(counts)}); true classes: {len(CLASS_NAMES)}"
        )


@pytest.mark.slow
def test_pick_k_on_a_model_file_and_images(tiny_run, tmp_path, capsys):
    imageset, _ = synthetic_imageset(80, 32, seed=7)
    np.save(tmp_path / "cutouts.npy", imageset.images[..., 0])
    out = tmp_path / "pk"
    model = str(tiny_run / "model.keras")
    argv = ["pick-k", model, str(tmp_path / "cutouts.npy"), "--fits", "3", "--batch-size", "80"]
    settings = ["--max-components", "8", "--threshold", "0.05"]
    assert main([*argv, *settings, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_samples"] == 80 and summary["fits"] == 3
    assert summary["source"]["data"] == str(tmp_path / "cutouts.npy")


def test_pick_k_bad_input_is_one_line(tmp_path, cli_error):
    model = tmp_path / "model.keras"
    model.write_bytes(b"")
    assert "needs DATA" in cli_error(["pick-k", str(model), "--out", str(tmp_path / "a")])
    err = cli_error(["pick-k", str(tmp_path / "nope"), "--out", str(tmp_path / "b")])
    assert "neither a run directory nor a .keras model file" in err
    (tmp_path / "empty").mkdir()
    err = cli_error(["pick-k", str(tmp_path / "empty"), "--out", str(tmp_path / "c")])
    assert "not a finished run directory (no model.keras)" in err
    argv = ["pick-k", str(model), "x.npy", "--threshold", "0", "--out", str(tmp_path / "d")]
    assert "threshold must be in (0, 1)" in cli_error(argv)
    (tmp_path / "e").write_text("")
    argv = ["pick-k", str(model), "x.npy", "--out", str(tmp_path / "e")]
    assert "exists and is not a directory" in cli_error(argv)
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_malformed_space_file_is_one_line_and_writes_nothing(tmp_path, cli_error):
    space = tmp_path / "broken.py"
    space.write_text("from hyperopt import hp\nSPACE = {'model.latent_dim': hp.choice(}\n")
    out = tmp_path / "search"
    argv = ["search", str(space), "--config", str(SPACES / "tiny_base.toml")]
    err = cli_error([*argv, "--max-evals", "3", "--out", str(out)])
    assert str(space) in err and "SyntaxError" in err
    assert not out.exists()


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):  # loading runs open(marker, "w"): a harmless stand-in for any code
        return (open, (self.marker, "w"))


def test_search_never_loads_a_trials_pickle_without_trust_pickle(tmp_path, cli_error):
    out, marker = tmp_path / "search", tmp_path / "ran"
    out.mkdir()
    (out / "trials.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    err = cli_error([*SEARCH, "--max-evals", "1", "--out", str(out)])
    assert "trials.pkl" in err and "--trust-pickle" in err
    assert not marker.exists() and not (out / "trials").exists()


@pytest.mark.slow
def test_search_writes_its_best_config_and_resumes_only_missing_trials(tmp_path, capsys, cli_error):
    out = tmp_path / "search"
    assert main([*SEARCH, "--max-evals", "2", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "trials").iterdir()) == ["0000", "0001"]
    losses = [float(v) for v in _column(out / "trials.csv", "loss")]
    best = int(np.argmin(losses))
    best_text = (out / "best.toml").read_text()
    assert best_text.endswith((out / "trials" / f"{best:04d}" / "config.toml").read_text())
    assert load_config(out / "best.toml") == load_config(out / "trials" / f"{best:04d}/config.toml")
    assert f"best trial {best:04d}" in capsys.readouterr().out
    finished = {p: p.stat().st_mtime_ns for p in out.glob("trials/*/history.csv")}

    assert main([*SEARCH, "--max-evals", "3", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "trials").iterdir()) == ["0000", "0001", "0002"]
    assert {p: p.stat().st_mtime_ns for p in finished} == finished
    assert len(records.load_trials(out)) == 3
    result = json.loads((out / "trials" / "0002" / "result.json").read_text())
    assert result["status"] == "ok" and set(result["params"]) == {
        "model.latent_dim",
        "optimizer.learning_rate",
        "loss.gmm_scale",
    }

    err = cli_error([*SEARCH, "--max-evals", "4", "--out", str(out), "--set", "training.seed=9"])
    assert "different base" in err


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("java") is None and "JAVA_HOME" not in os.environ, reason="Spark needs Java"
)
def test_spark_search_on_local_2_resumes_a_local_search(tmp_path, capsys, monkeypatch):
    pytest.importorskip("pyspark")
    for name in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON"):
        monkeypatch.setenv(name, "unset below; restored after the test")
        monkeypatch.delenv(name)
    out = tmp_path / "search"
    assert main([*SEARCH, "--max-evals", "1", "--out", str(out)]) == 0
    first = (out / "trials" / "0000" / "history.csv").stat().st_mtime_ns
    argv = ["--backend", "spark", "--parallelism", "2", "--spark-master", "local[2]"]
    assert main([*SEARCH, "--max-evals", "3", "--out", str(out), *argv]) == 0
    assert os.environ["PYSPARK_PYTHON"] == sys.executable
    assert (out / "trials" / "0000" / "history.csv").stat().st_mtime_ns == first
    assert len(records.load_trials(out)) == 3
    for tid in ("0001", "0002"):  # trained on Spark executors: no model comes back
        folder = out / "trials" / tid
        assert json.loads((folder / "result.json").read_text())["status"] == "ok"
        assert load_config(folder / "config.toml").data.image_size == 16
        assert _column(folder / "history.csv", "epoch") == ["1", "2", "3"]
        assert not (folder / "model.keras").exists()
    assert load_config(out / "best.toml").data.synthetic_count == 200
