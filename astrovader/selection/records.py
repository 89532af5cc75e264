"""A search directory: the pickled trials, one folder per trial, a table and the best config.

Layout of ``DIR``::

    search.json      what is searched (space file text, base config, objective, seed)
    trials.pkl       Hyperopt's Trials (a plain ``Trials``, also for Spark searches)
    trials.csv       one row per trial: status, loss, clustering metrics, values
    best.toml        the best trial's configuration, ready for ``astrovader fit --config``
    trials/NNNN/     config.toml, history.csv and result.json of trial NNNN (and, for
                     the local backend, the whole run directory: model.keras, clusters.csv…)

Every file is written atomically; ``trials.pkl`` after every finished trial
(local) or wave of trials (Spark), so an interrupted search resumes from there.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import pickle
from pathlib import Path

from hyperopt import STATUS_OK, Trials
from hyperopt.base import JOB_STATE_DONE

from astrovader._io import atomic_path, write_text_atomic
from astrovader.errors import AstrovaderError

TRIALS_PICKLE = "trials.pkl"
TRIALS_TABLE = "trials.csv"
BEST_CONFIG = "best.toml"


def trial_dir(out: Path, tid: int) -> Path:
    """The directory of trial ``tid``: ``DIR/trials/NNNN``."""
    return Path(out) / "trials" / f"{tid:04d}"


def load_trials(out: Path) -> Trials:
    """The trials saved in ``DIR/trials.pkl``, or a new ``Trials``."""
    path = Path(out) / TRIALS_PICKLE
    if not path.exists():
        return Trials()
    try:
        with path.open("rb") as handle:
            trials = pickle.load(handle)
    except Exception as exc:
        raise AstrovaderError(f"{path}: cannot read the saved trials ({exc})") from None
    if not isinstance(trials, Trials):
        raise AstrovaderError(f"{path}: does not hold Hyperopt trials")
    return trials


def plain_trials(trials: Trials) -> Trials:
    """A picklable ``Trials`` holding copies of the finished trials of any ``Trials``."""
    plain = Trials()
    done = [doc for doc in trials.trials if doc["state"] == JOB_STATE_DONE]
    plain.insert_trial_docs(copy.deepcopy(done))
    plain.refresh()
    return plain


def save_trials(trials: Trials, out: Path) -> None:
    """Pickle the trials into ``DIR/trials.pkl`` atomically."""
    with atomic_path(Path(out) / TRIALS_PICKLE) as tmp, tmp.open("wb") as handle:
        pickle.dump(plain_trials(trials), handle)


def _finite_or_none(value):
    return value if value is None or math.isfinite(value) else None


def _summary(doc: dict, objective: str) -> dict:
    result = doc["result"]
    return {
        "tid": doc["tid"],
        "status": result["status"],
        "objective": objective,
        "loss": result.get("loss"),
        "error": result.get("error"),
        "seconds": result.get("seconds"),
        "metrics": {k: _finite_or_none(v) for k, v in result.get("metrics", {}).items()},
        "params": result.get("params", {}),
    }


def record_trials(trials: Trials, out: Path, objective: str) -> None:
    """Write each finished trial's folder (missing files only) and rewrite ``trials.csv``."""
    rows = []
    for doc in trials.trials:
        if doc["state"] != JOB_STATE_DONE:
            continue
        summary = _summary(doc, objective)
        folder = trial_dir(out, doc["tid"])
        files = {
            "result.json": json.dumps(summary, indent=2) + "\n",
            "config.toml": doc["result"].get("config_toml"),
            "history.csv": doc["result"].get("history_csv"),
        }
        for name, text in files.items():
            if text and not (folder / name).exists():
                write_text_atomic(folder / name, text)
        rows.append(
            {
                **{k: summary[k] for k in ("tid", "status", "loss", "seconds", "error")},
                **summary["metrics"],
                **summary["params"],
            }
        )
    fields = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(Path(out) / TRIALS_TABLE, text.getvalue())


def write_best(trials: Trials, out: Path, objective: str) -> dict:
    """Write the best trial's configuration to ``DIR/best.toml``; return its summary.

    Raises:
        AstrovaderError: no trial succeeded.
    """
    ok = [
        d
        for d in trials.trials
        if d["state"] == JOB_STATE_DONE and d["result"]["status"] == STATUS_OK
    ]
    if not ok:
        raise AstrovaderError(
            f"none of the {len(trials.trials)} trials succeeded; their errors are in "
            f"{Path(out) / 'trials'}/*/result.json"
        )
    best = min(ok, key=lambda d: (d["result"]["loss"], d["tid"]))
    summary = _summary(best, objective)
    header = (
        f"# astrovader search: the best of {len(trials.trials)} trials is trial "
        f"{best['tid']:04d}, final {objective} = {summary['loss']:.6g}\n"
    )
    write_text_atomic(Path(out) / BEST_CONFIG, header + best["result"]["config_toml"])
    return summary
