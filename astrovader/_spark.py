"""A classic Spark session for the jobs that run on Spark: searches and embedding parts.

Hyperopt's ``SparkTrials`` (:mod:`astrovader.selection.spark`) and the part-per-task
embedding (:mod:`astrovader.inference.spark`) drive the classic (py4j) Spark API:
Spark Connect sessions (``sc://`` URLs, ``SPARK_REMOTE``) are not supported.
pyspark is imported only when a session is asked for.
"""

from __future__ import annotations

import os
import sys

from astrovader.errors import AstrovaderError

INSTALL_HINT = "install it with: pip install 'astrovader[spark]'"


def _check_not_connect(master: str | None) -> None:
    remote = os.environ.get("SPARK_REMOTE")
    if (master or "").startswith("sc://") or remote:
        where = f"Spark master {master}" if master else f"SPARK_REMOTE={remote}"
        raise AstrovaderError(
            f"Spark Connect ({where}) is not supported (SparkTrials and RDDs need the "
            "classic API): use a classic Spark master (local[P], spark://HOST:7077, yarn, "
            "k8s://…) and unset SPARK_REMOTE"
        )


def spark_session(
    master: str | None = None, parallelism: int = 1, *, app: str = "astrovader-search"
):
    """A classic Spark session, and whether this call started it.

    Without ``master`` an active session is reused, a process started by
    ``spark-submit`` gets the session configured there, and otherwise
    ``local[parallelism]`` is started on this machine. ``PYSPARK_PYTHON`` and
    ``PYSPARK_DRIVER_PYTHON`` are set to this interpreter when unset, so that
    Spark's Python workers find the packages of this (virtual) environment.

    Args:
        master: A Spark master URL (``local[4]``, ``spark://host:7077``, ``yarn``, …).
        parallelism: P, the worker count of the default ``local[P]`` master.
        app: The Spark application name.

    Returns:
        ``(session, started)``: stop the session when ``started`` is true.

    Raises:
        AstrovaderError: pyspark is missing, a Spark Connect remote is
            configured, or Spark (Java) cannot start.
    """
    _check_not_connect(master)
    try:
        from pyspark.sql import SparkSession
        from pyspark.sql.utils import is_remote
    except ImportError:
        raise AstrovaderError(f"the Spark backend needs pyspark; {INSTALL_HINT}") from None
    if is_remote():
        raise AstrovaderError(
            "Spark Connect is not supported (SparkTrials and RDDs need the classic API): "
            "this pyspark is a Spark Connect client; install the full pyspark package"
        )
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active, False
    builder = SparkSession.builder.appName(app).config("spark.ui.showConsoleProgress", "false")
    if master is not None:
        builder = builder.master(master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = builder.master(f"local[{parallelism}]")
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        detail = " ".join(str(exc).split())[:300]
        raise AstrovaderError(
            f"cannot start Spark ({detail}); is Java 17 or later installed (JAVA_HOME)?"
        ) from None
    session.sparkContext.setLogLevel("WARN")
    return session, True
