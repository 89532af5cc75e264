"""A search directory: the trials as JSON, one folder per trial, a table and the best config.

Layout of ``DIR``::

    search.json      what is searched (space file text, base config, objective, seed)
    trials.json      Hyperopt's finished trials as plain data (:mod:`.trials_json`)
    trials.csv       one row per trial: status, loss, clustering metrics, values
    best.toml        the best trial's configuration, ready for ``astrovader fit --config``
    trials/NNNN/     config.toml, history.csv and result.json of trial NNNN (and, for
                     the local backend, the whole run directory: model.keras, clusters.csv…)

Every file is written atomically; ``trials.json`` after every finished trial
(local) or wave of trials (Spark), so an interrupted search resumes from there.

Earlier versions kept the trials as a Python pickle, ``trials.pkl``. Reading a
pickle runs whatever code it names, so anyone able to replace the file in a
shared or copied directory would run code as the user: it is read only when the
user says the file is theirs (``trust_pickle``, ``--trust-pickle``), then saved
as ``trials.json`` and removed.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import logging
import math
import pickle
from pathlib import Path

from hyperopt import STATUS_OK, Trials
from hyperopt.base import JOB_STATE_DONE

from astrovader._io import write_text_atomic
from astrovader.errors import AstrovaderError
from astrovader.selection import trials_json

__all__ = [
    "BEST_CONFIG",
    "TRIALS_JSON",
    "TRIALS_PICKLE",
    "TRIALS_TABLE",
    "load_trials",
    "plain_trials",
    "record_trials",
    "save_trials",
    "trial_dir",
    "write_best",
]

TRIALS_JSON = "trials.json"
TRIALS_PICKLE = "trials.pkl"
TRIALS_TABLE = "trials.csv"
BEST_CONFIG = "best.toml"

log = logging.getLogger(__name__)


def trial_dir(out: Path, tid: int) -> Path:
    """The directory of trial ``tid``: ``DIR/trials/NNNN``."""
    return Path(out) / "trials" / f"{tid:04d}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def load_trials(out: Path, trust_pickle: bool = False) -> Trials:
    """The trials saved in ``DIR/trials.json``, or a new ``Trials``.

    Args:
        out: The search directory.
        trust_pickle: Read the ``trials.pkl`` of an earlier version when there is
            no ``trials.json`` (a pickle can run code: only for files the user made);
            it is converted to ``trials.json`` and removed.

    Raises:
        AstrovaderError: an unreadable or malformed ``trials.json``; a ``trials.pkl``
            without ``trust_pickle``, or one that does not hold trials.
    """
    path, old = Path(out) / TRIALS_JSON, Path(out) / TRIALS_PICKLE
    if path.exists():
        try:
            return trials_json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = _one_line(exc)
            raise AstrovaderError(f"{path}: cannot read the saved trials ({reason})") from None
    if not old.exists():
        return Trials()
    if not trust_pickle:
        raise AstrovaderError(
            f"{old}: trials saved by an earlier astrovader as a Python pickle, which can run "
            "any code when read; if you wrote this directory yourself, resume once with "
            "--trust-pickle to convert it to trials.json"
        )
    trials = _read_pickle(old)
    save_trials(trials, out)
    old.unlink()
    log.info("converted %s to %s", old, path)
    return load_trials(out)


def _read_pickle(path: Path) -> Trials:
    """The ``Trials`` of an earlier version's ``trials.pkl`` (runs code: trusted files only)."""
    try:
        with path.open("rb") as handle:
            trials = pickle.load(handle)  # only behind trust_pickle
    except Exception as exc:
        raise AstrovaderError(f"{path}: cannot read the saved trials ({_one_line(exc)})") from None
    if not isinstance(trials, Trials):
        raise AstrovaderError(f"{path}: does not hold Hyperopt trials")
    return trials


def plain_trials(trials: Trials) -> Trials:
    """A plain ``Trials`` holding copies of the finished trials of any ``Trials``."""
    plain = Trials()
    done = [doc for doc in trials.trials if doc["state"] == JOB_STATE_DONE]
    plain.insert_trial_docs(copy.deepcopy(done))
    plain.refresh()
    return plain


def save_trials(trials: Trials, out: Path) -> None:
    """Write the finished trials to ``DIR/trials.json`` atomically."""
    write_text_atomic(Path(out) / TRIALS_JSON, trials_json.dumps(trials))


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
