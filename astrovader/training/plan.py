"""One plan for a run: every check and every reading of a training, done once (framework-free).

:func:`plan_run` decides everything a training needs before TensorFlow starts, in
one place and in this order:

1. the run directory: a new run's output check (a run already there is refused
   unless overwritten), or a resumed run's own configuration (and, for a finished
   run, that its ``config.toml`` was not edited);
2. the memory the configuration needs (:func:`~astrovader.training.memory.check_memory`);
3. the kind of data ``data.path`` names (:func:`~astrovader.data.images.files.data_kind`);
4. the global scaling interval, measured once and written into the configuration
   (:func:`~astrovader.data.sources.with_measured_limits`);
5. the images, read once into memory unless they are TFRecord shards
   (:func:`~astrovader.data.sources.load_data`), and the configuration checked
   against them (:func:`~astrovader.data.sources.fit_to_images`).

:func:`~astrovader.training.run.fit_run` trains the plan: ``astrovader fit``,
:class:`~astrovader.api.Clusterer` and the search trials all go through it.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from astrovader.config import Config
from astrovader.data.images.files import DataKind, data_kind
from astrovader.data.images.imageset import ImageSet
from astrovader.data.sources import fit_to_images, load_data, with_measured_limits
from astrovader.errors import AstrovaderError
from astrovader.training.memory import check_memory
from astrovader.training.rundir.directory import RUN_FILES, RunDirectory, check_out

__all__ = ["RunPlan", "finished_epochs", "plan_run"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """A run prepared by :func:`plan_run`, ready to train.

    Attributes:
        config: The configuration trained: a new run's with its measured scaling
            interval and ``data.image_arcsec``, or a resumed run's own.
        run: The run directory.
        kind: What ``config.data.path`` names (``"synthetic"``, ``"shards"``,
            ``"array"`` or ``"stamps"``).
        images: Every image of the run in memory (both splits), or None for shards
            (streamed) and for a finished run.
        resume: Whether the run continues from its last checkpoint.
        overwrite: Whether a run already in the directory is replaced.
        finished: The epochs of a resumed run that had already finished (nothing is
            left to train), else None.
    """

    config: Config
    run: RunDirectory
    kind: DataKind
    images: ImageSet | None = None
    resume: bool = False
    overwrite: bool = False
    finished: int | None = None

    def stream(self, options):
        """Every image of the run as an :class:`~astrovader.data.pipelines.stream.ImageStream`.

        The images in memory, or the shards read as ``options`` say
        (:class:`~astrovader.data.images.options.ReadOptions`, the model's).
        """
        from astrovader.data.pipelines.stream import memory_stream, open_stream

        if self.images is not None:
            return memory_stream(self.images)
        return open_stream(self.config.data.path, options)


def finished_epochs(run: RunDirectory) -> int | None:
    """The epochs of a run that holds every file of a finished run and all its epochs, else None."""
    if not all((run.path / name).is_file() for name in RUN_FILES):
        return None
    total = run.config.schedule.total_epochs
    return total if len(run.history()) >= total else None


def plan_run(
    config: Config | None = None,
    out: str | Path = "astrovader-run",
    *,
    resume: bool = False,
    overwrite: bool = False,
    images: ImageSet | None = None,
    progress: bool = False,
    quickstart: bool = False,
) -> RunPlan:
    """Check a run and read its images, once (see the module's steps).

    Args:
        config: The configuration of a new run (None: the defaults); ignored when
            resuming, which reads the run's own.
        out: The run directory.
        resume: Continue the run in ``out`` from its last checkpoint.
        overwrite: Replace a run already in ``out``.
        images: The images of ``config.data``, already read; None reads them.
        progress: Show a progress bar while the images are read.
        quickstart: The configuration is the quick-start preset, whose batch size and
            validation split adapt to a small sample
            (:func:`~astrovader.data.sources.adapt_to_sample`).

    Raises:
        AstrovaderError: no run to resume, a run already in ``out``
            (:class:`~astrovader.errors.RunExistsError`), an edited ``config.toml`` of a
            finished run, too little memory, or images that cannot be read or that the
            configuration does not fit.
    """
    run = RunDirectory(out)
    finished = None
    if resume:
        if not run.config_path.is_file():
            raise AstrovaderError(f"{run.path}: no run to resume (no config.toml)")
        config = run.config
        finished = finished_epochs(run)
        if finished is not None:
            from astrovader.training.rundir.checkpoint import check_resumable

            check_resumable(config, run.checkpoints)  # an edited config.toml is named
        elif not run.checkpoint.exists():
            log.info("%s: no epoch had finished; starting the run again from epoch 1", run.path)
    else:
        config = config or Config()
        check_out(run, overwrite)
    check_memory(config)  # before the images are read and TensorFlow starts
    kind = data_kind(config.data.path)
    if not resume:
        config = with_measured_limits(config)
    if kind != "shards" and images is None and finished is None:
        images = load_data(config, progress=progress)
    if images is not None and not resume:
        config = fit_to_images(config, images, quickstart)
    return RunPlan(config, run, kind, images, resume, overwrite, finished)
