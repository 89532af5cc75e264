"""A training run: data → model → s3VDC callbacks → run directory (``astrovader fit``)."""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

import keras

from astrovader._io import atomic_path
from astrovader.config import Config, load_config
from astrovader.errors import AstrovaderError
from astrovader.selection.auto import auto_model_config, choose_clusters
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

    The hardware options of ``config.training`` apply: the distribution strategy
    (:mod:`astrovader.training.distribute`), the precision and XLA
    (:mod:`astrovader.training.precision`). ``config.data.path`` may name a
    TFRecord directory (:mod:`astrovader.training.inputs`). Under a multi-worker
    strategy every worker calls this; the chief writes ``out`` and the others
    write a temporary directory that is removed at the end (to resume, ``out``
    must be readable by every worker).

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
    from astrovader.training import distribute

    if on_nan not in ("stop", "skip-batch"):
        raise AstrovaderError(f"on_nan must be 'stop' or 'skip-batch', got {on_nan!r}")
    out = Path(out)
    if resume:
        if not (out / "checkpoints" / CHECKPOINT_NAME).exists():
            raise AstrovaderError(f"{out}: no checkpoint to resume from")
        config = load_config(out / "config.toml")
    else:
        config = config or Config()
    strategy = distribute.make_strategy(config.training.strategy)
    if distribute.is_chief(strategy):
        if not resume:
            _check_out(out, overwrite)
        return _train(config, strategy, out, out, resume, verbose, on_nan, callbacks)
    scratch = Path(tempfile.mkdtemp(prefix="astrovader-worker-"))
    try:
        _train(config, strategy, out, scratch / "run", resume, verbose, on_nan, callbacks)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def _train(config, strategy, source, out, resume, verbose, on_nan, callbacks) -> Path:
    """Train under ``strategy``, resuming from ``source`` and writing the run to ``out``."""
    from astrovader.model.vade import AstroVaDEr
    from astrovader.training import distribute, precision
    from astrovader.training.inputs import run_inputs

    keras.utils.set_random_seed(config.training.seed)
    inputs = run_inputs(config, distribute.worker_count(strategy))
    auto = config.model.n_clusters == "auto"
    if auto and distribute.worker_count(strategy) > 1:
        raise AstrovaderError(
            'model.n_clusters = "auto" needs a single worker (the workers would choose K on '
            "different shards): choose K with astrovader pick-k first"
        )
    if not auto and inputs.n_train < config.model.n_clusters:
        raise AstrovaderError(
            f"model.n_clusters = {config.model.n_clusters} is more than the "
            f"{inputs.n_train} training images"
        )
    policy = precision.resolve_precision(config.training.precision)
    xla = precision.resolve_xla(config.training.xla, strategy.num_replicas_in_sync)
    with strategy.scope():
        with precision.dtype_policy(policy):
            checkpoint = source / "checkpoints" / CHECKPOINT_NAME if resume else None
            model = AstroVaDEr.from_settings(auto_model_config(config, checkpoint))
        model.skip_nonfinite = on_nan == "skip-batch"
        optimizer = keras.optimizers.Adam(config.optimizer.learning_rate)
        model.compile(optimizer=precision.wrap_optimizer(optimizer, policy), jit_compile=xla)
        out.mkdir(parents=True, exist_ok=True)
        if not resume:
            config.save(out / "config.toml")
        initial_epoch = restore(model, source / "checkpoints") if resume else 0
    total = config.schedule.total_epochs
    guard = NaNGuard(config.schedule)
    if resume and source != out:
        shutil.copytree(source / "checkpoints", out / "checkpoints", dirs_exist_ok=True)
    gmm_init = GMMInitialisation(
        inputs.train,
        config.schedule.gamma_epochs,
        config.schedule.gmm_batches,
        config.optimizer.clip_value,
        config.training.seed,
    )
    callbacks = [
        gmm_init,
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
            f"astrovader fit: {inputs.n_train} training and {inputs.n_val} validation images, "
            f"epochs {initial_epoch}–{total - 1}, {strategy.num_replicas_in_sync} replica(s), "
            f"{policy}, XLA {'on' if xla else 'off'} → {out}",
            file=sys.stderr,
        )
        fit_args = {
            "validation_data": inputs.validation,
            "callbacks": callbacks,
            "verbose": _verbosity(verbose),
            "shuffle": False,
        }
        epoch = initial_epoch
        if auto and not model.prior.is_initialized:
            gamma_end = min(config.schedule.gamma_epochs, total)
            if epoch < gamma_end:
                model.fit(inputs.train, epochs=gamma_end, initial_epoch=epoch, **fit_args)
                epoch = gamma_end
            if epoch < total and not guard.failure:
                gmm_init.set_model(model)
                settings = dataclasses.asdict(config.pick_k)
                with strategy.scope(), precision.dtype_policy(policy):
                    model = choose_clusters(
                        model,
                        gmm_init.embed(),
                        out / "pick_k",
                        config.training.seed,
                        settings,
                        jit_compile=xla,
                    )
                model.skip_nonfinite = on_nan == "skip-batch"
        if epoch < total and not guard.failure:
            model.fit(inputs.train, epochs=total, initial_epoch=epoch, **fit_args)
    seconds = time.perf_counter() - start
    if guard.failure:
        _roll_back(model, out, guard.failure)
    with atomic_path(out / "model.keras", suffix=".keras") as tmp:
        model.save(tmp)
    inputs.write_clusters(model, out / "clusters.csv")
    images_per_second = inputs.n_train * (total - initial_epoch) / max(seconds, 1e-9)
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
