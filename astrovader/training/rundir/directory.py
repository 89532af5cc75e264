"""A run directory, opened one way by every command and analysis.

``astrovader fit`` writes::

    RUN/config.toml      the resolved configuration
    RUN/model.keras      the trained model
    RUN/history.csv      one row per epoch
    RUN/clusters.csv     id, cluster, γ and z of every image
    RUN/checkpoints/     last.weights.h5 (the last complete epoch)
    RUN/tensorboard/     TensorBoard logs
    RUN/pick_k/          the pick-k report of ``model.n_clusters = "auto"``
    RUN/index/           similarity indexes (:mod:`astrovader.training.rundir.index`)

:class:`RunDirectory` knows these paths and opens what they hold: the
configuration, the model, the history, the cluster table, the images the
configuration names and their training/validation split.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
from pathlib import Path

import numpy as np

from astrovader.config import Config, load_config
from astrovader.data.images.imageset import ImageSet
from astrovader.errors import AstrovaderError, RunExistsError

__all__ = ["RUN_FILES", "RunDirectory", "check_out"]

RUN_FILES = ("config.toml", "model.keras", "history.csv", "clusters.csv")


@dataclasses.dataclass(frozen=True)
class RunDirectory:
    """The files of one run (see the module docstring).

    Attributes:
        path: The directory.
    """

    path: Path

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config_path(self) -> Path:
        """``config.toml``."""
        return self.path / "config.toml"

    @property
    def model_path(self) -> Path:
        """``model.keras``."""
        return self.path / "model.keras"

    @property
    def history_path(self) -> Path:
        """``history.csv``."""
        return self.path / "history.csv"

    @property
    def clusters_path(self) -> Path:
        """``clusters.csv``."""
        return self.path / "clusters.csv"

    @property
    def warnings_path(self) -> Path:
        """``warnings.txt``: what the failure checks found (absent when nothing)."""
        return self.path / "warnings.txt"

    @property
    def checkpoints(self) -> Path:
        """The checkpoint folder."""
        return self.path / "checkpoints"

    @property
    def checkpoint(self) -> Path:
        """The checkpoint of the last complete epoch."""
        return self.checkpoints / "last.weights.h5"

    @property
    def tensorboard(self) -> Path:
        """The TensorBoard log folder."""
        return self.path / "tensorboard"

    @property
    def pick_k(self) -> Path:
        """The pick-k report folder."""
        return self.path / "pick_k"

    @property
    def indexes(self) -> Path:
        """The similarity indexes' folder."""
        return self.path / "index"

    def taken(self) -> list[str]:
        """The run files (and the checkpoint folder) already present."""
        return [name for name in (*RUN_FILES, "checkpoints") if (self.path / name).exists()]

    def clear(self) -> None:
        """Remove the files of a previous run (``--overwrite``), keeping anything else."""
        for name in RUN_FILES:
            (self.path / name).unlink(missing_ok=True)
        self.warnings_path.unlink(missing_ok=True)
        for folder in (self.checkpoints, self.tensorboard, self.pick_k, self.indexes):
            shutil.rmtree(folder, ignore_errors=True)

    def check_finished(self) -> RunDirectory:
        """This run, after checking that it holds every file of a finished run.

        Raises:
            AstrovaderError: no such directory, or a file missing.
        """
        if not self.path.is_dir():
            raise AstrovaderError(f"{self.path}: no such run directory")
        for name in RUN_FILES:
            if not (self.path / name).is_file():
                raise AstrovaderError(f"{self.path}: not a finished run (no {name})")
        return self

    @functools.cached_property
    def config(self) -> Config:
        """The run's configuration.

        ``fit`` writes every key, so a key missing from ``config.toml`` is an option
        newer than the run: it is read as off (:meth:`Config.paper`, the method such a
        run was trained with), not as today's default, so that resuming, embedding or
        reporting an older run keeps its method.
        """
        return load_config(self.config_path, base=Config.paper())

    def model(self):
        """The trained model (see :func:`astrovader.model.loading.load_model`)."""
        from astrovader.model.loading import load_model

        return load_model(self.model_path)

    def history(self) -> list[dict[str, str]]:
        """The ``history.csv`` rows."""
        from astrovader.training.rundir.history import read_history

        return read_history(self.history_path)

    def clusters(self) -> dict[str, np.ndarray]:
        """The cluster table (``id``, ``cluster``, ``gamma``, ``z``)."""
        from astrovader.data.tables.clusters import read_clusters

        return read_clusters(self.clusters_path)

    def images(self, progress: bool = True) -> ImageSet:
        """The images the configuration names, in memory (all of them, both splits).

        Raises:
            AstrovaderError: the run trained from TFRecord shards (stream them
                instead), or the images cannot be read.
        """
        from astrovader.data.images.files import data_kind
        from astrovader.data.sources import load_data

        path = self.config.data.path
        if data_kind(path) == "shards":
            raise AstrovaderError(
                f"{path}: the run trained from TFRecord shards, which are streamed, not "
                "loaded; give the images as a folder or a .npy array"
            )
        return load_data(self.config, progress=progress)

    def split(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The run's training and validation indices among ``count`` images."""
        from astrovader.data.pipelines.split import split_indices

        data, training = self.config.data, self.config.training
        return split_indices(count, data.validation_fraction, training.seed)

    def training_images(self, progress: bool = True) -> ImageSet:
        """The images of the run's training split."""
        images = self.images(progress)
        train, _ = self.split(len(images))
        return ImageSet(tuple(images.ids[i] for i in train), images.images[train])


def check_out(run: RunDirectory, overwrite: bool) -> None:
    """A new run may be written to ``run`` (empty, or ``overwrite``).

    Raises:
        AstrovaderError: not a directory.
        RunExistsError: it already holds a run and ``overwrite`` is false.
    """
    if run.path.exists() and not run.path.is_dir():
        raise AstrovaderError(f"{run.path}: exists and is not a directory")
    taken = run.taken()
    if taken and not overwrite:
        raise RunExistsError(f"{run.path}: already holds a run ({taken[0]})")
