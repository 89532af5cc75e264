"""The Spark backend of ``astrovader search``: Hyperopt's ``SparkTrials`` on a classic session.

Each trial runs as one Spark task on an executor, so a search spreads over a
cluster's executors, or over ``local[P]`` worker processes on one machine, in the
session :func:`astrovader._spark.spark_session` makes.

A ``SparkTrials`` object holds the live session and cannot be pickled, so the
search keeps its progress as a plain ``Trials`` copy (see
:mod:`astrovader.selection.search`).
"""

from __future__ import annotations

__all__ = ["spark_trials"]


def spark_trials(session, parallelism: int):
    """Hyperopt's ``SparkTrials`` running up to ``parallelism`` trials at once on ``session``."""
    from hyperopt import SparkTrials

    return SparkTrials(parallelism=parallelism, spark_session=session)
