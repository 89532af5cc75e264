"""Embed a data set over Spark: one Spark task per part, then one merged table.

Each task runs :func:`embed_part`, the code of ``astrovader embed --shard I/N``, on
an executor: it opens the model, reads only its part of the data
(:mod:`astrovader.data.tables.parts`) and writes the part's table into a folder beside
the output. The driver then merges the parts (:mod:`astrovader.data.tables.merge`,
which checks that they are exactly parts 1 … N of one model) and removes the folder.
The model, the data and the output's folder must be readable (and the folder
writable) at the same paths from the executors: a shared file system on a
cluster; on one machine, ``local[P]`` worker processes. The session is the one
:func:`astrovader._spark.spark_session` makes for searches too (an active
or ``spark-submit`` session, a given master, or ``local[P]``).
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import shutil
from pathlib import Path

from astrovader._io import TEMP, output_lock
from astrovader._spark import spark_session
from astrovader.data.tables.clusters import TABLE_SUFFIXES
from astrovader.data.tables.merge import merge_tables
from astrovader.data.tables.parts import Part
from astrovader.errors import AstrovaderError, InputError
from astrovader.inference.embed import embed_to_table

__all__ = ["embed_part", "embed_parts_spark"]

log = logging.getLogger(__name__)

_TASK_ERROR = re.compile(r"astrovader\.errors\.\w+: (.*)")


def embed_part(
    model,
    data,
    *,
    out,
    part: Part,
    batch_size: int = 180,
    likelihood_samples: int = 8,
    command: str = "",
) -> int:
    """Embed one part of ``data`` with a model file or run directory into the table ``out``.

    What one Spark task runs; a run directory's data are read as its configuration
    says, as ``astrovader embed`` reads them.

    Returns:
        The number of rows written.
    """
    from astrovader.data.images.options import ReadOptions
    from astrovader.model.loading import open_model
    from astrovader.training.rundir.directory import RunDirectory

    options = None
    if Path(model).is_dir():
        options = ReadOptions.from_config(RunDirectory(model).config)
    return embed_to_table(
        open_model(model),
        data,
        out=out,
        batch_size=batch_size,
        progress=False,
        model_name=str(model),
        command=command,
        options=options,
        likelihood_samples=likelihood_samples,
        part=part,
    )


def _task(index: int, *, folder: str, count: int, suffix: str, **settings) -> int:
    out = Path(folder) / f"part-{index:05d}-of-{count:05d}{suffix}"
    return embed_part(out=out, part=Part(index, count), **settings)


def embed_parts_spark(
    model,
    data,
    *,
    out,
    parts: int,
    spark=None,
    master: str | None = None,
    batch_size: int = 180,
    likelihood_samples: int = 8,
    progress: bool = True,
) -> int:
    """Embed ``data`` in ``parts`` Spark tasks, one part each, and merge their tables.

    The merged table equals the one ``astrovader embed`` writes on one machine
    with the same ``batch_size``, row for row.

    Args:
        model: A ``.keras`` file, a run directory or the published ``.h5``.
        data: A folder of images, a catalogue, a ``.npy`` array or a TFRecord directory.
        out: The merged ``.csv`` or ``.fits`` table (replaced if it exists).
        parts: N, the number of parts and of Spark tasks.
        spark: A Spark session to use (default: :func:`spark_session`'s).
        master: The master URL of a session started here (default: an active or
            ``spark-submit`` session, else ``local[P]`` with P = min(N, 4)).
        batch_size: Images per batch (see :func:`~astrovader.inference.embed.embed_to_table`).
        likelihood_samples: Draws S of the anomaly score; 0: no score column.
        progress: Show the merge's progress bar.

    Returns:
        The number of rows written.

    Raises:
        AstrovaderError: bad arguments, no usable Spark, or a task's error (its
            one-line message: a corrupt image, a missing file…).
    """
    out = Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"{out}: the table must end in .csv or .fits")
    Part(1, parts)  # N ≥ 1, said in the usual words
    settings = {
        "model": str(Path(model).resolve()),
        "data": str(Path(data).resolve()),
        "batch_size": batch_size,
        "likelihood_samples": likelihood_samples,
    }
    holder = out.with_name(f"{out.name}.parts")  # one run per output; a killed run's parts go
    with output_lock(holder):
        folder = out.parent / f".{holder.name}{TEMP}{secrets.token_hex(4)}"
        folder.mkdir()  # the usual permissions: executors may write as another user
        try:
            task = functools.partial(
                _task, folder=str(folder), count=parts, suffix=out.suffix, **settings
            )
            _run_tasks(spark, master, parts, task)
            return merge_tables(out, sorted(folder.iterdir()), progress=progress)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _run_tasks(spark, master, parts: int, task) -> list[int]:
    """Run ``task(i)`` for i = 1 … ``parts`` as Spark tasks; their error as one line."""
    started = False
    if spark is None:
        spark, started = spark_session(master, min(parts, 4), app="astrovader-embed")
    log.info("embedding %d parts as Spark tasks on %s", parts, spark.sparkContext.master)
    try:
        rdd = spark.sparkContext.parallelize(range(1, parts + 1), parts)
        return rdd.map(task).collect()
    except Exception as exc:  # a task's exception arrives as Spark's (Java) error
        found = _TASK_ERROR.findall(str(exc))
        if not found:
            raise
        raise AstrovaderError(f"Spark task: {found[-1].strip()}") from None
    finally:
        if started:
            spark.stop()
