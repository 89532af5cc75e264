import contextlib
import json
import pickle

import numpy as np
import pytest
from hyperopt import STATUS_FAIL, STATUS_OK, Trials, fmin, hp, rand, tpe
from hyperopt.exceptions import AllTrialsFailed

from astrovader.config import Config, load_config
from astrovader.errors import AstrovaderError
from astrovader.selection import records


def fake_trial(params):
    """A stand-in for a trained trial: the loss is (x - 0.3)², the config records x."""
    x = params["loss.gmm_scale"]
    config = Config().replace(loss={"gmm_scale": x})
    return {
        "status": STATUS_OK,
        "loss": (x - 0.3) ** 2,
        "params": params,
        "metrics": {"calinski_harabasz": float("nan"), "clusters_used": 1},
        "config_toml": config.to_toml(),
        "history_csv": "epoch\n0\n",
        "seconds": 0.1,
    }


def search(fn, n):
    trials = Trials()
    space = {"loss.gmm_scale": hp.uniform("loss.gmm_scale", 0, 1)}
    with contextlib.suppress(AllTrialsFailed):  # fmin's return when every trial failed
        fmin(
            fn,
            space,
            algo=rand.suggest,
            max_evals=n,
            trials=trials,
            rstate=np.random.default_rng(0),
            show_progressbar=False,
        )
    return trials


def test_trial_folders_table_and_best_config(tmp_path):
    trials = search(fake_trial, 5)
    records.record_trials(trials, tmp_path, "val_loss")
    best = records.write_best(trials, tmp_path, "val_loss")
    losses = {d["tid"]: d["result"]["loss"] for d in trials.trials}
    best_tid = min(losses, key=losses.get)
    assert best["tid"] == best_tid and best["loss"] == losses[best_tid]
    config = load_config(tmp_path / records.BEST_CONFIG)
    assert config.loss.gmm_scale == trials.trials[best_tid]["result"]["params"]["loss.gmm_scale"]
    for tid in range(5):
        folder = records.trial_dir(tmp_path, tid)
        result = json.loads((folder / "result.json").read_text())
        assert result["loss"] == losses[tid] and result["objective"] == "val_loss"
        assert result["metrics"] == {"calinski_harabasz": None, "clusters_used": 1}
        assert (folder / "history.csv").read_text() == "epoch\n0\n"
        assert (
            load_config(folder / "config.toml").loss.gmm_scale == result["params"]["loss.gmm_scale"]
        )
    rows = (tmp_path / records.TRIALS_TABLE).read_text().splitlines()
    assert rows[0].startswith("tid,status,loss") and len(rows) == 6


def test_saved_trials_round_trip(tmp_path):
    trials = search(fake_trial, 3)
    records.save_trials(trials, tmp_path)
    loaded = records.load_trials(tmp_path)
    assert [d["result"]["loss"] for d in loaded.trials] == [
        d["result"]["loss"] for d in trials.trials
    ]
    assert [d["misc"]["vals"] for d in loaded.trials] == [d["misc"]["vals"] for d in trials.trials]
    assert [d["book_time"] for d in loaded.trials] == [d["book_time"] for d in trials.trials]
    assert len(records.load_trials(tmp_path / "elsewhere")) == 0
    saved = json.loads((tmp_path / records.TRIALS_JSON).read_text())
    for broken, reason in [
        ({"not": "trials"}, "not a astrovader-hyperopt-trials file"),
        ({**saved, "trials": [{"tid": 0}]}, "trial 0 has no 'spec'"),
        ({**saved, "trials": [saved["trials"][0]] * 2}, "two trials share a tid"),
    ]:
        (tmp_path / records.TRIALS_JSON).write_text(json.dumps(broken))
        with pytest.raises(AstrovaderError, match=f"cannot read the saved trials .*{reason}"):
            records.load_trials(tmp_path)
    (tmp_path / records.TRIALS_JSON).write_bytes(b"garbage")
    with pytest.raises(AstrovaderError, match=r"trials\.json: cannot read the saved trials"):
        records.load_trials(tmp_path)


def _tpe(trials, n):
    """The search's loop: one TPE proposal at a time, seeded by the trials done."""
    space = {
        "loss.gmm_scale": hp.uniform("loss.gmm_scale", 0, 1),
        "model.latent_dim": hp.choice("model.latent_dim", [4, 8]),
    }
    while len(trials) < n:
        done = len(trials)
        fmin(
            fake_trial,
            space,
            algo=tpe.suggest,
            max_evals=done + 1,
            trials=trials,
            rstate=np.random.default_rng([0, done]),
            show_progressbar=False,
        )
    return [d["misc"]["vals"] for d in trials.trials]


def test_a_search_resumed_from_json_proposes_what_an_uninterrupted_one_would(tmp_path):
    uninterrupted = _tpe(Trials(), 24)
    first = Trials()
    _tpe(first, 21)  # TPE's own model proposes from the 21st trial on
    records.save_trials(first, tmp_path)
    assert _tpe(records.load_trials(tmp_path), 24) == uninterrupted


class _Payload:
    """A pickle that, when loaded, creates a file (a harmless stand-in for any command)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_an_old_or_replaced_trials_pickle_never_runs_without_trust_pickle(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / records.TRIALS_PICKLE).write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(AstrovaderError, match=r"trials\.pkl: .*pickle.*--trust-pickle"):
        records.load_trials(tmp_path)
    assert not marker.exists()
    records.save_trials(search(fake_trial, 2), tmp_path)  # a JSON save is read, never the pickle
    assert len(records.load_trials(tmp_path, trust_pickle=True)) == 2
    assert not marker.exists()


def test_trust_pickle_converts_an_earlier_versions_trials_to_json(tmp_path):
    trials = search(fake_trial, 3)
    (tmp_path / records.TRIALS_PICKLE).write_bytes(pickle.dumps(records.plain_trials(trials)))
    loaded = records.load_trials(tmp_path, trust_pickle=True)
    assert [d["result"]["loss"] for d in loaded.trials] == [
        d["result"]["loss"] for d in trials.trials
    ]
    assert not (tmp_path / records.TRIALS_PICKLE).exists()
    assert len(records.load_trials(tmp_path)) == 3  # from trials.json, without the flag
    (tmp_path / records.TRIALS_JSON).unlink()
    (tmp_path / records.TRIALS_PICKLE).write_bytes(pickle.dumps({"not": "trials"}))
    with pytest.raises(AstrovaderError, match="does not hold Hyperopt trials"):
        records.load_trials(tmp_path, trust_pickle=True)


def test_no_successful_trial_is_an_error_and_writes_no_best(tmp_path):
    trials = search(lambda p: {"status": STATUS_FAIL, "error": "diverged", "params": p}, 2)
    records.record_trials(trials, tmp_path, "val_loss")
    with pytest.raises(AstrovaderError, match="none of the 2 trials succeeded"):
        records.write_best(trials, tmp_path, "val_loss")
    assert not (tmp_path / records.BEST_CONFIG).exists()
    result = json.loads((records.trial_dir(tmp_path, 1) / "result.json").read_text())
    assert result["status"] == "fail" and result["error"] == "diverged"
