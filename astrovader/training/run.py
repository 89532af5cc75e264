"""A training run: data → model → s3VDC callbacks → run directory (``astrovader fit``)."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import keras

from astrovader._io import atomic_path
from astrovader.config import Config, load_config
from astrovader.data.catalogue import write_clusters
from astrovader.data.sources import load_data
from astrovader.errors import AstrovaderError
from astrovader.training.callbacks import S3VDCSchedule, learning_rate_schedule
from astrovader.training.checkpoint import CHECKPOINT_NAME, RunCheckpoint, restore
from astrovader.training.gmm_init import GMMInitialisation
from astrovader.training.history import HistoryWriter
from astrovader.training.nan_guard import NaNGuard

RUN_FILES = ("config.toml", "model.keras", "history.csv", "clusters.csv")


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise AstrovaderError(f"{out}: exists and is not a directory")
    taken = [name for name in (*RUN_FILES, "checkpoints") if (out / name).exists()]
    if taken and not overwrite:
        raise AstrovaderError(
            f"{out}: already holds a run ({taken[0]}); use --resume to continue it "
            "or --overwrite to replace it"
        )


def fit_run(
    config: Config | None = None,
    out: str | Path = "astrovader-run",
    resume: bool = False,
    overwrite: bool = False,
    verbose: int | str = "auto",
    on_nan: str = "stop",
    callbacks: tuple = (),
) -> Path:
    """Train a model and write the run directory.

    Args:
        config: The configuration (ignored when resuming: the run's own is read).
        out: The run directory.
        resume: Continue the run in ``out`` from its last checkpoint.
        overwrite: Replace a run already in ``out``.
        verbose: Keras progress output (``"auto"``, 0, 1 or 2).
        on_nan: ``"stop"``: a non-finite loss or weight stops training, the last
            good checkpoint is kept and an error names the epoch, phase and term;
            ``"skip-batch"``: batches with non-finite loss or gradients are skipped
            (counted in the ``skipped_batches`` log).
        callbacks: Extra Keras callbacks, run after the schedule's own.

    Returns:
        The run directory, holding ``config.toml``, ``history.csv``,
        ``model.keras``, ``clusters.csv``, ``checkpoints/`` and ``tensorboard/``.
    """
    from astrovader.data.pipeline import evaluation_dataset, split_indices, training_dataset
    from astrovader.model.vade import AstroVaDEr

    if on_nan not in ("stop", "skip-batch"):
        raise AstrovaderError(f"on_nan must be 'stop' or 'skip-batch', got {on_nan!r}")
    out = Path(out)
    if resume:
        if not (out / "checkpoints" / CHECKPOINT_NAME).exists():
            raise AstrovaderError(f"{out}: no checkpoint to resume from")
        config = load_config(out / "config.toml")
    else:
        config = config or Config()
        _check_out(out, overwrite)
    data = load_data(config)
    train_idx, val_idx = split_indices(
        len(data.images), config.data.validation_fraction, config.training.seed
    )
    if len(train_idx) < config.model.n_clusters:
        raise AstrovaderError(
            f"model.n_clusters = {config.model.n_clusters} is more than the "
            f"{len(train_idx)} training images"
        )
    keras.utils.set_random_seed(config.training.seed)
    batch = config.training.batch_size
    train = training_dataset(data.images[train_idx], batch, config.training.seed, config.data.flips)
    validation = evaluation_dataset(data.images[val_idx], batch) if len(val_idx) else None

    model = AstroVaDEr.from_settings(config)
    model.skip_nonfinite = on_nan == "skip-batch"
    model.compile(optimizer=keras.optimizers.Adam(config.optimizer.learning_rate))
    out.mkdir(parents=True, exist_ok=True)
    if not resume:
        config.save(out / "config.toml")
    initial_epoch = restore(model, out / "checkpoints") if resume else 0
    total = config.schedule.total_epochs
    guard = NaNGuard(config.schedule)
    callbacks = [
        GMMInitialisation(
            train,
            config.schedule.gamma_epochs,
            config.schedule.gmm_batches,
            config.optimizer.clip_value,
            config.training.seed,
        ),
        S3VDCSchedule(config),
        learning_rate_schedule(config),
        guard,
        HistoryWriter(out / "history.csv", config.schedule),
        RunCheckpoint(out / "checkpoints", guard),
        keras.callbacks.TensorBoard(out / "tensorboard", write_graph=False, profile_batch=0),
        *callbacks,
    ]
    start = time.perf_counter()
    if initial_epoch < total:
        print(
            f"astrovader fit: {len(train_idx)} training and {len(val_idx)} validation images, "
            f"epochs {initial_epoch}–{total - 1} → {out}",
            file=sys.stderr,
        )
        model.fit(
            train,
            validation_data=validation,
            epochs=total,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=_verbosity(verbose),
            shuffle=False,
        )
    seconds = time.perf_counter() - start
    if guard.failure:
        _roll_back(model, out, guard.failure)
    with atomic_path(out / "model.keras", suffix=".keras") as tmp:
        model.save(tmp)
    z_mean, _ = model.encode(data.images, batch)
    write_clusters(
        out / "clusters.csv", data.ids, model.latent_probabilities(z_mean, batch), z_mean
    )
    images_per_second = len(train_idx) * (total - initial_epoch) / max(seconds, 1e-9)
    print(
        f"astrovader fit: done in {seconds:.0f} s ({images_per_second:.0f} training images/s); "
        f"wrote {out / 'model.keras'} and {out / 'clusters.csv'}",
        file=sys.stderr,
    )
    return out


def _roll_back(model, out: Path, failure: str):
    """Restore the last good checkpoint and stop with an error that says what happened."""
    if (out / "checkpoints" / CHECKPOINT_NAME).exists():
        epochs = restore(model, out / "checkpoints")
        where = f"the checkpoint after epoch {epochs - 1} is kept in {out / 'checkpoints'}"
    else:
        where = "no epoch had completed, so there is no checkpoint to return to"
    raise AstrovaderError(f"{failure}; training stopped and {where}")


def _verbosity(verbose):
    """Keras' progress bar on a terminal, one line per epoch in logs and CI."""
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    return verbose


def run_config_for(config: Config, data_path: str | None) -> Config:
    """The configuration with the data path recorded (absolute, so that resume finds it)."""
    if data_path is None:
        return config
    data = dataclasses.replace(config.data, path=str(Path(data_path).resolve()))
    return dataclasses.replace(config, data=data)
