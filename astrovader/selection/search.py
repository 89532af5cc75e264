"""``astrovader search``: Hyperopt TPE over a search space, resumable, locally or on Spark.

Each trial trains the base configuration with the trial's values (the base's
schedule is the trial's short schedule) and is scored by the final value of a
``history.csv`` column, ``val_loss`` by default; clustering metrics of the final
embedding are recorded beside it (see :mod:`astrovader.selection.records` for
the directory layout).

Resuming: the finished trials are kept in ``DIR/trials.json``; a later call
with a larger ``max_evals`` runs only the missing trials. The TPE random state
of each proposal is derived from ``seed`` and the number of trials already
done, so a resumed search proposes what an uninterrupted one would have. The
local backend saves after every trial. The Spark backend runs trials in waves
of ``parallelism`` and saves after each wave: ``SparkTrials`` holds the live
Spark session, so its finished trials are copied into a plain ``Trials``; an
interrupted Spark search loses the trials of its current wave only, and may be
resumed with either backend.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import numpy as np
from hyperopt import fmin, tpe
from hyperopt.exceptions import AllTrialsFailed
from hyperopt.pyll import rec_eval

from astrovader._io import directory_lock, remove_stale, write_text_atomic
from astrovader._progress import progress_bar
from astrovader.config import Config
from astrovader.errors import AstrovaderError
from astrovader.selection import records
from astrovader.selection.space import load_space
from astrovader.selection.trial import evaluate

__all__ = ["BACKENDS", "SEARCH_META", "SearchOptions", "run_search"]

BACKENDS = ("local", "spark")
SEARCH_META = "search.json"


def _rstate(seed: int, done: int) -> np.random.Generator:
    return np.random.default_rng([seed, done])


def _check_objective(objective: str, base: Config) -> None:
    from astrovader.training.rundir.history import COLUMNS  # imports TensorFlow

    if objective not in COLUMNS[4:]:
        raise AstrovaderError(f"objective {objective!r} is not one of {', '.join(COLUMNS[4:])}")
    if objective.startswith("val_") and base.data.validation_fraction == 0:
        raise AstrovaderError(f"objective {objective} needs data.validation_fraction > 0")


def _check_same_search(out: Path, meta: dict) -> None:
    path = out / SEARCH_META
    if path.exists():
        saved = json.loads(path.read_text())
        for key in meta:
            if saved.get(key) != meta[key]:
                raise AstrovaderError(
                    f"{out}: holds a search with a different {key} (see {path}); "
                    "use another directory for a new search"
                )
    else:
        write_text_atomic(path, json.dumps(meta, indent=2) + "\n")


def _fmin(fn, space, trials, max_evals, rstate, **options) -> None:
    """Run Hyperopt's TPE until ``trials`` holds ``max_evals`` trials.

    ``fmin`` raises ``AllTrialsFailed`` on return while no trial has succeeded
    yet; the failed trials are recorded all the same, so that is no error here.
    """
    try:
        fmin(
            fn,
            space,
            algo=tpe.suggest,
            max_evals=max_evals,
            trials=trials,
            rstate=rstate,
            verbose=False,
            show_progressbar=False,
            return_argmin=False,
            **options,
        )
    except AllTrialsFailed:
        pass


@dataclasses.dataclass(frozen=True)
class SearchOptions:
    """How :func:`run_search` searches.

    Attributes:
        max_evals: The number of trials the directory holds at the end.
        objective: The ``history.csv`` column whose final value is minimised.
        backend: ``"local"`` (trials one after another in this process) or
            ``"spark"`` (``parallelism`` trials at once on Spark executors).
        parallelism: Concurrent Spark trials (the local backend runs one).
        spark_master: Spark master URL (default: ``local[parallelism]``, or the
            master of ``spark-submit``).
        seed: Seed of the TPE proposals.
        trust_pickle: Read the ``trials.pkl`` of an earlier version (a pickle can
            run code when read; only for a directory the user alone wrote).
    """

    max_evals: int = 1
    objective: str = "val_loss"
    backend: str = "local"
    parallelism: int = 1
    spark_master: str | None = None
    seed: int = 0
    trust_pickle: bool = False

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise AstrovaderError(
                f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )
        for name in ("max_evals", "parallelism"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AstrovaderError(f"{name} must be a positive integer, got {value!r}")


@dataclasses.dataclass
class _Search:
    """One search in progress: what every trial needs, and the progress bar."""

    space: dict
    base: Config
    out: Path
    options: SearchOptions
    bar: object


def _local_trial(expr, memo, ctrl, search: _Search):
    params = rec_eval(expr, memo=memo)
    folder = records.trial_dir(search.out, ctrl.current_trial["tid"])
    return evaluate(search.base, params, run_dir=folder, objective=search.options.objective)


def _search_local(search: _Search, trials):
    fn = functools.partial(_local_trial, search=search)
    objective = search.options.objective
    while len(trials) < search.options.max_evals:
        done = len(trials)
        rstate = _rstate(search.options.seed, done)
        _fmin(fn, search.space, trials, done + 1, rstate, pass_expr_memo_ctrl=True)
        records.save_trials(trials, search.out)
        records.record_trials(trials, search.out, objective)
        search.bar.update(len(trials) - done)
    return trials


def _search_spark(search: _Search, trials):
    from astrovader._spark import spark_session
    from astrovader.selection.spark import spark_trials

    options = search.options
    session, started = spark_session(options.spark_master, options.parallelism)
    try:
        live = spark_trials(session, options.parallelism)
        live.insert_trial_docs(records.plain_trials(trials).trials)
        live.refresh()
        fn = functools.partial(evaluate, search.base, run_dir=None, objective=options.objective)
        while len(live) < options.max_evals:
            done = len(live)
            target = min(options.max_evals, done + options.parallelism)
            rstate = _rstate(options.seed, done)
            _fmin(fn, search.space, live, target, rstate, max_queue_len=options.parallelism)
            trials = records.plain_trials(live)
            records.save_trials(trials, search.out)
            records.record_trials(trials, search.out, options.objective)
            search.bar.update(len(trials) - done)
            if len(trials) == done:
                raise AstrovaderError(
                    f"{live.count_failed_trials()} Spark trial(s) failed without a result "
                    "(see the errors logged above): are astrovader and its dependencies "
                    "installed where PYSPARK_PYTHON points on every executor?"
                )
    finally:
        if started:
            session.stop()
    return trials


def run_search(
    space_path: str | Path, base: Config, *, out: str | Path, options: SearchOptions
) -> dict:
    """Run (or resume) a TPE search until ``DIR`` holds ``options.max_evals`` trials.

    Args:
        space_path: The search-space file (see :mod:`astrovader.selection.space`).
        base: The base configuration of every trial.
        out: The search directory ``DIR``.
        options: Trials, objective, backend and seed.

    Returns:
        The best trial's summary (``tid``, ``loss``, ``metrics``, ``params``, …).

    Raises:
        AstrovaderError: a malformed space, a directory holding another search,
            or no successful trial.
    """
    space = load_space(space_path, base)
    _check_objective(options.objective, base)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AstrovaderError(f"{out}: exists and is not a directory")
    meta = {
        "space": Path(space_path).read_text(),
        "base": base.to_toml(),
        "objective": options.objective,
        "seed": options.seed,
    }
    with directory_lock(out):
        remove_stale(out)
        _check_same_search(out, meta)
        trials = records.load_trials(out, options.trust_pickle)
        done = min(len(trials), options.max_evals)
        with progress_bar(total=options.max_evals, initial=done, desc="search trials") as bar:
            search = _Search(space, base, out, options, bar)
            run = _search_local if options.backend == "local" else _search_spark
            trials = run(search, trials)
        records.record_trials(trials, out, options.objective)
        return records.write_best(trials, out, options.objective)
