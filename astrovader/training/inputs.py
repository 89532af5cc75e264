"""The datasets of a run: in-memory images, or TFRecord shards streamed from disk.

``config.data.path`` naming a TFRecord directory (see :mod:`astrovader.data.pipelines.shards`)
trains from the shards without loading them: the validation split is the one of
:func:`~astrovader.data.pipelines.split.split_indices` over the records' indices (one
byte per image in memory). Anything else trains from the images the run's plan read
into memory (:func:`~astrovader.training.plan.plan_run`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from astrovader.config import Config
from astrovader.data.images.files import data_kind
from astrovader.data.pipelines import shards
from astrovader.data.pipelines.memory import EpochCounter, evaluation_dataset, training_dataset
from astrovader.data.pipelines.split import split_indices
from astrovader.errors import InputError

__all__ = ["RunInputs", "run_inputs"]


@dataclasses.dataclass(frozen=True)
class RunInputs:
    """Training and validation batches and their sizes.

    Attributes:
        train: The shuffled, augmented training batches of one epoch, the one
            ``counter`` names (each epoch keyed by the seed and its number, so a
            resumed run sees the batches an uninterrupted one sees).
        validation: Validation batches, or None without a validation split.
        n_train: Training images.
        n_val: Validation images.
        batch_size: Images per batch.
        counter: The epoch the training batches are drawn for (set by
            :class:`~astrovader.training.phases.callbacks.EpochKey`).
        tied: The training images' tied views, embedded once per joint epoch
            (:class:`~astrovader.training.mixture.tied_views.TiedViews`) and brought by
            each training batch, or None (the teacher embeds them in the step).
        images: The training images in memory, (N, S, S, B), or None (shards).
    """

    train: object
    validation: object
    n_train: int
    n_val: int
    batch_size: int = 1
    counter: object = None
    tied: object = None
    images: object = None


def run_inputs(config: Config, workers: int = 1, *, images=None, replicas: int = 1) -> RunInputs:
    """The datasets for ``config``.

    Args:
        config: The run's configuration.
        workers: Processes of a multi-worker strategy.
        images: The images of ``config.data``
            (an :class:`~astrovader.data.images.imageset.ImageSet`, as the run's plan
            read them); None for TFRecord shards.
        replicas: Replicas in sync. The tied views are held per image only for one
            replica: Keras' distributed build reduces a first batch, which must then
            be the images alone (several replicas use the teacher's per-step passes,
            which give the same targets).
    """
    path = config.data.path
    if data_kind(path) == "shards":
        return _shards(Path(path), config, workers)
    if images is None:
        raise InputError(
            f"data.path = {path!r} names images that are read into memory: pass them as "
            "images= (plan_run reads them)"
        )
    return _in_memory(config, images, hold=replicas == 1)


def _in_memory(config: Config, data, hold: bool = True) -> RunInputs:
    batch, seed = config.training.batch_size, config.training.seed
    train_idx, val_idx = split_indices(len(data.images), config.data.validation_fraction, seed)
    counter = EpochCounter()
    images = data.images[train_idx]
    tied = _tied_views(config, images) if hold else None
    train = training_dataset(
        images,
        batch,
        seed=seed,
        flips=config.data.flips,
        counter=counter,
        epoch_images=config.schedule.epoch_images,
        extras=None if tied is None else tied.rows,
    )
    validation = evaluation_dataset(data.images[val_idx], batch) if len(val_idx) else None
    n_val = len(val_idx)
    return RunInputs(train, validation, len(train_idx), n_val, batch, counter, tied, images)


def _tied_views(config: Config, images: np.ndarray):
    """The tied views held for in-memory training, when the method uses them.

    Not when an epoch trains on fewer images than there are (``schedule.epoch_images``):
    embedding every image each epoch would then cost more than the teacher's
    passes over the epoch's batches.
    """
    from astrovader.config.rules import uses_tied_targets
    from astrovader.training.mixture.tied_views import TiedViews

    augment, mixture = config.augment, config.mixture
    used = uses_tied_targets(mixture.gamma_from, augment.consistency) or mixture.update == "em"
    per_epoch = config.schedule.epoch_images or len(images)
    if not used or per_epoch < len(images) or not len(images):
        return None
    latent = config.model.latent_dim
    return TiedViews(
        images, augment.tied_views, latent_dim=latent, batch_size=config.training.batch_size
    )


def _shards(path: Path, config: Config, workers: int) -> RunInputs:
    manifest = shards.read_manifest(path)
    wanted = (config.data.image_size, config.data.bands)
    if (manifest["image_size"], manifest["bands"]) != wanted:
        raise InputError(
            f"{path}: shards hold {manifest['image_size']}×{manifest['image_size']} images with "
            f"{manifest['bands']} band(s), but data.image_size = {wanted[0]} and "
            f"data.bands = {wanted[1]}"
        )
    batch, seed = config.training.batch_size, config.training.seed
    count = manifest["count"]
    train_idx, val_idx = split_indices(count, config.data.validation_fraction, seed)
    keep = np.zeros(count, bool)
    keep[train_idx] = True
    counter = EpochCounter()
    flips = config.data.flips
    train = shards.shard_training_dataset(
        path,
        batch,
        seed=seed,
        flips=flips,
        keep=keep,
        workers=workers,
        counter=counter,
        epoch_images=config.schedule.epoch_images,
    )
    validation = None
    if len(val_idx):
        validation = shards.shard_evaluation_dataset(path, batch, keep=~keep, workers=workers)
    return RunInputs(train, validation, len(train_idx), len(val_idx), batch, counter)
