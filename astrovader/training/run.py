"""A training run: data → model → s3VDC callbacks → run directory (``astrovader fit``)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from astrovader._io import atomic_path, deferred_interrupts, write_text_atomic
from astrovader._malloc import keep_heap
from astrovader.config import Config
from astrovader.errors import AstrovaderError, warn
from astrovader.training import diagnostics
from astrovader.training.build import FitOptions, Session, build_session, run_callbacks
from astrovader.training.mixture.auto_clusters import choose_clusters
from astrovader.training.mixture.final_mixture import (
    FINAL_FORMS,
    choose_final_mixture,
    with_covariance,
)
from astrovader.training.phases.nan_guard import NaNGuard
from astrovader.training.phases.stability import stopped_at
from astrovader.training.plan import RunPlan, plan_run
from astrovader.training.rundir.checkpoint import restore
from astrovader.training.rundir.directory import RunDirectory
from astrovader.training.rundir.history import read_history
from astrovader.training.rundir.index import build_index

__all__ = ["fit_run"]

log = logging.getLogger(__name__)


def fit_run(
    config: Config | RunPlan | None = None,
    out: str | Path = "astrovader-run",
    *,
    resume: bool = False,
    overwrite: bool = False,
    verbose: int | str = "auto",
    on_nan: str = "stop",
    callbacks: tuple = (),
    images=None,
    force: bool = False,
) -> Path:
    """Train a run's plan and write the run directory.

    ``astrovader fit``, :class:`~astrovader.api.Clusterer` and the search trials
    all train through here. Given a configuration, the run is first planned by
    :func:`~astrovader.training.plan.plan_run` (the output check, the resume check,
    the measured scaling limits and the images, once); given a
    :class:`~astrovader.training.plan.RunPlan`, that plan is trained, and ``out``,
    ``resume``, ``overwrite`` and ``images`` are the plan's.

    The hardware options of ``config.training`` apply: the distribution strategy
    (:mod:`astrovader.training.distribute`), the precision and XLA
    (:mod:`astrovader.training.precision`). ``config.data.path`` may name a
    TFRecord directory (:mod:`astrovader.training.inputs`). Under a multi-worker
    strategy every worker calls this; the chief writes ``out`` and the others
    write a temporary directory that is removed at the end (to resume, ``out``
    must be readable by every worker).

    Args:
        config: The configuration (ignored when resuming: the run's own is read), or
            a plan.
        out: The run directory.
        resume: Continue the run in ``out`` from its last checkpoint (a finished run
            is left as it is).
        overwrite: Replace a run already in ``out``.
        verbose: Keras progress output (``"auto"``, 0, 1 or 2).
        on_nan: ``"stop"``: a non-finite loss or weight stops training, the last
            good checkpoint is kept and an error names the epoch, phase and term;
            ``"skip-batch"``: batches with non-finite loss or gradients are skipped
            (counted in the ``skipped_batches`` log).
        callbacks: Extra Keras callbacks, run after the schedule's own.
        images: The images of ``config.data``, already read (an
            :class:`~astrovader.data.images.imageset.ImageSet`); None reads them.
        force: Train on after a collapsed embedding at the GMM initialisation
            instead of stopping (:mod:`~astrovader.training.diagnostics`).

    Returns:
        The run directory (see :class:`~astrovader.training.rundir.directory.RunDirectory`).
    """
    from astrovader.training import distribute

    keep_heap()  # the steps' buffers stay in the process: no page fault per step
    options = FitOptions(verbose, on_nan, tuple(callbacks), force)
    if isinstance(config, RunPlan):
        plan = config
    else:
        plan = plan_run(config, out, resume=resume, overwrite=overwrite, images=images)
    run = plan.run
    if plan.finished is not None:
        log.info("%s: the run is finished; nothing to resume", run.path)
        return run.path
    strategy = distribute.make_strategy(plan.config.training.strategy)
    with contextlib.ExitStack() as stack:
        if distribute.is_chief(strategy):
            session = build_session(
                plan, strategy, out=run.path, options=options, hold=stack.enter_context
            )
            return _train(session)
        scratch = Path(tempfile.mkdtemp(prefix="astrovader-worker-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        session = build_session(plan, strategy, out=scratch / "run", options=options)
        if plan.resume and run.checkpoint.exists():
            shutil.copytree(run.checkpoints, session.out.checkpoints, dirs_exist_ok=True)
        _train(session)
    return run.path


def _train(session: Session) -> Path:
    """Run the remaining epochs, then write the model and the cluster table."""
    config, out = session.config, session.out
    total = session.end_epoch
    guard = NaNGuard(config.schedule)
    gmm_init, every = run_callbacks(session, guard)
    start = time.perf_counter()
    floor = diagnostics.early_floor(config)
    if floor and session.initial_epoch < total:
        warn(floor)
    if session.initial_epoch < total:
        log.info(
            "%d training and %d validation images, epochs %d–%d, %d replica(s), %s, XLA %s → %s",
            session.inputs.n_train,
            session.inputs.n_val,
            session.initial_epoch + 1,
            total,
            session.strategy.num_replicas_in_sync,
            session.policy,
            "on" if session.xla else "off",
            out.path,
        )
        _epochs(session, gmm_init, every, guard)
    seconds = time.perf_counter() - start
    if guard.failure:
        _roll_back(session.model, out, guard.failure)
    _final_mixture(session)
    _calibrate(session)
    with deferred_interrupts(), atomic_path(out.model_path, suffix=".keras") as tmp:
        session.model.save(tmp)
    _write_clusters(session)
    build_index(out)
    _check(session)
    per_epoch = config.schedule.epoch_images or session.inputs.n_train
    done = (stopped_at(out.checkpoints) or total) - session.initial_epoch
    rate = per_epoch * max(done, 0) / max(seconds, 1e-9)
    log.info(
        "done in %.0f s (%.0f training images/s); wrote %s and %s",
        seconds,
        rate,
        out.model_path,
        out.clusters_path,
    )
    return out.path


def _epochs(session: Session, gmm_init, every: list, guard: NaNGuard) -> None:
    """``model.fit`` over the schedule; with ``n_clusters = "auto"``, pick K in between."""
    config, total, inputs = session.config, session.end_epoch, session.inputs
    fit_args = {
        "validation_data": inputs.validation,
        "callbacks": every,
        "verbose": _verbosity(session.options.verbose),
        "shuffle": False,
    }

    def fit(first: int, last: int) -> None:
        session.model.fit(inputs.train, epochs=last, initial_epoch=first, **fit_args)

    epoch = session.initial_epoch
    if session.auto and not session.model.prior.is_initialized:
        gamma_end = min(config.schedule.gamma_epochs, total)
        if epoch < gamma_end:
            fit(epoch, gamma_end)
            epoch = gamma_end
        if epoch < total and not guard.failure:
            gmm_init.set_model(session.model)
            with session.scope():
                session.model = choose_clusters(
                    session.model,
                    gmm_init.embed(),
                    out=session.out.pick_k,
                    seed=config.training.seed,
                    settings=dataclasses.asdict(config.pick_k),
                    jit_compile=session.xla,
                )
            session.model.skip_nonfinite = session.options.on_nan == "skip-batch"
    if epoch < total and not guard.failure:
        fit(epoch, total)


def _write_clusters(session: Session) -> None:
    """``clusters.csv``: every image of the run, in memory or streamed from its shards.

    The anomaly score from :data:`~astrovader.model.likelihood.SAMPLES` draws.
    """
    from astrovader.model.embedding import write_embedding
    from astrovader.model.likelihood import SAMPLES

    model, images = session.model, session.plan.images
    write_embedding(
        model,
        session.plan.stream(model.read_options()),
        out=session.out.clusters_path,
        batch_size=session.inputs.batch_size,
        chunk=None if images is None else len(images),
        likelihood_samples=SAMPLES,
    )


def _calibrate(session: Session) -> None:
    """The anomaly score's decoder variance σ̂² from the training images (method §7b).

    Every image when they are in memory; the first ``schedule.gmm_batches`` batches of
    shards. Only for the MSE reconstruction (the BCE decoder keeps its temperature).
    """
    inputs, model = session.inputs, session.model
    if model.reconstruction != "mse":
        return
    if inputs.images is not None:
        model.calibrate(inputs.images, inputs.batch_size)
        return
    parts = []
    for i, batch in enumerate(inputs.train):
        if i >= session.config.schedule.gmm_batches:
            break
        parts.append(keras.ops.convert_to_numpy(batch[0] if isinstance(batch, tuple) else batch))
    model.calibrate(np.concatenate(parts), inputs.batch_size)


def _final_embedding(session: Session) -> np.ndarray:
    """(N, J) the embedding ``clusters.csv`` reports (``model.embed``) of the training images.

    Every image when they are in memory; the first ``schedule.gmm_batches`` batches of
    shards.
    """
    inputs, model = session.inputs, session.model
    if inputs.images is not None:
        return model.embed(inputs.images, inputs.batch_size)[1]
    parts = []
    for i, batch in enumerate(inputs.train):
        if i >= session.config.schedule.gmm_batches:
            break
        x = batch[0] if isinstance(batch, tuple) else batch
        parts.append(model.embed(keras.ops.convert_to_numpy(x), inputs.batch_size)[1])
    return np.concatenate(parts)


def _final_mixture(session: Session) -> None:
    """Keep the best mixture of the final embedding (:mod:`.mixture.final_mixture`).

    A full-covariance winner rebuilds the model with a full prior.
    """
    mixture, prior = session.config.mixture, session.model.prior
    if not mixture.final_fits or not prior.is_initialized:
        return
    forms = FINAL_FORMS[mixture.final_covariance]
    z = _final_embedding(session)
    best = choose_final_mixture(
        z, prior.mixture(), fits=mixture.final_fits, seed=session.config.training.seed, forms=forms
    )
    if best.covariance != prior.covariance:
        with session.scope():
            session.model = with_covariance(session.model, best.covariance)
    session.model.prior.set_mixture(best.pi, best.mu, var=best.var)


def _check(session: Session) -> None:
    """The failure checks on the finished run: logged and written to ``warnings.txt``."""
    model, parts = session.model, []
    for i, batch in enumerate(session.inputs.train):
        if i >= session.config.schedule.gmm_batches:
            break
        x = batch[0] if isinstance(batch, tuple) else batch
        parts.append(model.embed(keras.ops.convert_to_numpy(x), session.inputs.batch_size))
    gamma, embedding = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    labels = gamma.argmax(1)
    rows = read_history(session.out.history_path)
    found = [*session.warnings]
    sizes = (session.inputs.n_train, session.inputs.n_val)
    found += diagnostics.check_run(
        embedding,
        labels,
        n_clusters=model.n_clusters,
        rows=rows,
        config=session.config,
        sizes=sizes,
    )
    found = list(dict.fromkeys(found))
    for warning in found:
        warn(warning)
    path = session.out.warnings_path
    if found:
        write_text_atomic(path, "".join(f"{w}\n" for w in found))
    else:
        path.unlink(missing_ok=True)


def _roll_back(model, out: RunDirectory, failure: str):
    """Restore the last good checkpoint and stop with an error that says what happened."""
    if out.checkpoint.exists():
        epochs = restore(model, out.checkpoints)
        where = f"the checkpoint after epoch {epochs} is kept in {out.checkpoints}"
    else:
        where = "no epoch had completed, so there is no checkpoint to return to"
    raise AstrovaderError(f"{failure}; training stopped and {where}")


def _verbosity(verbose):
    """Keras' progress bar on a terminal, one line per epoch in logs and CI."""
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    return verbose
