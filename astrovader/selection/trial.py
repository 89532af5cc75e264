"""One search trial: train a configuration briefly and score it.

Runs in the search's own process (local backend) or on a Spark executor; the
returned dictionary is Hyperopt's trial result and carries everything the
driver writes into the trial's directory.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from hyperopt import STATUS_FAIL, STATUS_OK

from astrovader.analysis.metrics import clustering_scores
from astrovader.config import Config
from astrovader.errors import AstrovaderError
from astrovader.selection.space import apply_params, plain_params

__all__ = ["evaluate"]


def _train_and_score(config: Config, run_dir: Path, objective: str) -> dict[str, Any]:
    from astrovader.training.run import fit_run
    from astrovader.training.rundir.directory import RunDirectory

    run = RunDirectory(fit_run(config, run_dir, overwrite=True, verbose=0, force=True))
    last = run.history()[-1]
    clusters = run.clusters()
    metrics = {
        "clusters_used": len(np.unique(clusters["cluster"])),
        **clustering_scores(clusters["z"], clusters["cluster"]),
    }
    loss = float(last.get(objective) or "nan")
    result = {
        "metrics": metrics,
        "config_toml": config.to_toml(),
        "history_csv": run.history_path.read_text(),
    }
    if not math.isfinite(loss):
        return {**result, "status": STATUS_FAIL, "error": f"the final {objective} is {loss}"}
    return {**result, "status": STATUS_OK, "loss": loss}


def evaluate(
    base: Config, params: dict[str, Any], *, run_dir: str | Path | None, objective: str
) -> dict[str, Any]:
    """Train ``base`` with a trial's values and return its Hyperopt result.

    Args:
        base: The base configuration (its schedule is the trial's short schedule).
        params: ``{"section.key": value}`` drawn from the search space.
        run_dir: Where the trial's run directory is written; ``None`` (Spark
            executors) trains in a temporary directory that is removed afterwards.
        objective: The ``history.csv`` column whose final value is minimised.

    Returns:
        ``status`` (``"ok"`` or ``"fail"``), ``loss`` (when ok), ``error`` (when
        failed: a configuration the schema rejects, a diverged training),
        ``metrics`` (clustering scores of the final embedding), ``params``,
        ``config_toml``, ``history_csv`` and ``seconds``.
    """
    start = time.perf_counter()
    plain = plain_params(base, params)
    try:
        config = apply_params(base, plain)
        if run_dir is None:
            with tempfile.TemporaryDirectory(prefix="astrovader-trial-") as tmp:
                result = _train_and_score(config, Path(tmp) / "run", objective)
        else:
            result = _train_and_score(config, Path(run_dir), objective)
    except AstrovaderError as exc:
        result = {"status": STATUS_FAIL, "error": str(exc)}
    return {**result, "params": plain, "seconds": round(time.perf_counter() - start, 2)}
