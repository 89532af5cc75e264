"""The pieces of one training: the model in its strategy and precision, and the callbacks."""

from __future__ import annotations

import contextlib
import dataclasses

import keras

from astrovader._io import directory_lock, remove_stale
from astrovader.config import Config
from astrovader.config.rules import check_sample
from astrovader.errors import AstrovaderError, warn
from astrovader.training import distribute, precision
from astrovader.training.diagnostics import check_initialisation
from astrovader.training.inputs import RunInputs, run_inputs
from astrovader.training.mixture.auto_clusters import auto_model_config
from astrovader.training.mixture.gmm_init import GMMInitialisation
from astrovader.training.mixture.mixture_em import MixtureEM, TeacherSnapshot
from astrovader.training.mixture.tied_views import EmbedTiedViews
from astrovader.training.phases.callbacks import EpochKey, S3VDCSchedule, learning_rate_schedule
from astrovader.training.phases.nan_guard import NaNGuard
from astrovader.training.phases.stability import MARKER, StablePartition, stopped_at
from astrovader.training.plan import RunPlan
from astrovader.training.rundir.checkpoint import RunCheckpoint, check_resumable, restore
from astrovader.training.rundir.directory import RunDirectory, check_out
from astrovader.training.rundir.history import HistoryWriter

__all__ = ["FitOptions", "Session", "build_session", "run_callbacks"]


@dataclasses.dataclass(frozen=True)
class FitOptions:
    """How :func:`~astrovader.training.run.fit_run` trains a plan, beside its configuration.

    Attributes:
        verbose: Keras progress output (``"auto"``, 0, 1 or 2).
        on_nan: ``"stop"`` or ``"skip-batch"`` (see ``fit_run``).
        callbacks: Extra Keras callbacks, run after the schedule's own.
        force: Train on after a collapsed embedding at the GMM initialisation
            (:mod:`~astrovader.training.diagnostics`) instead of stopping.
    """

    verbose: int | str = "auto"
    on_nan: str = "stop"
    callbacks: tuple = ()
    force: bool = False

    def __post_init__(self):
        if self.on_nan not in ("stop", "skip-batch"):
            raise AstrovaderError(f"on_nan must be 'stop' or 'skip-batch', got {self.on_nan!r}")


@dataclasses.dataclass
class Session:
    """Everything one training needs, built whole by :func:`build_session`.

    The model is replaced during the run when ``n_clusters = "auto"`` picks K and
    when a full-covariance final mixture wins; everything else stays as built.

    Attributes:
        plan: The run's plan (:class:`~astrovader.training.plan.RunPlan`).
        strategy: The ``tf.distribute`` strategy.
        out: The run directory written (the plan's, except on non-chief workers).
        options: The fit options.
        inputs: The datasets (:class:`~astrovader.training.inputs.RunInputs`).
        model: The compiled model.
        policy: The dtype policy name.
        xla: Whether the step is compiled with XLA.
        initial_epoch: Epochs already done.
        stopped: The epoch count at which the resumed run ended as stable
            (:mod:`~astrovader.training.phases.stability`), or None.
        warnings: What the failure checks found so far.
    """

    plan: RunPlan
    strategy: object
    out: RunDirectory
    options: FitOptions
    inputs: RunInputs
    model: object
    policy: str
    xla: bool
    initial_epoch: int = 0
    stopped: int | None = None
    warnings: list = dataclasses.field(default_factory=list)

    @property
    def config(self) -> Config:
        """The run's configuration."""
        return self.plan.config

    @property
    def source(self) -> RunDirectory:
        """The run directory resumed from."""
        return self.plan.run

    @property
    def end_epoch(self) -> int:
        """The epochs of the run: the schedule's, or those at which it stopped as stable."""
        return self.config.schedule.total_epochs if self.stopped is None else self.stopped

    @property
    def auto(self) -> bool:
        """Whether K is chosen at the GMM initialisation."""
        return self.config.model.n_clusters == "auto"

    @contextlib.contextmanager
    def scope(self):
        """The strategy scope and dtype policy the model was built in."""
        with self.strategy.scope(), precision.dtype_policy(self.policy):
            yield


def _check_clusters(config: Config, strategy, inputs: RunInputs) -> None:
    if config.model.n_clusters == "auto" and distribute.worker_count(strategy) > 1:
        raise AstrovaderError(
            'model.n_clusters = "auto" needs a single worker (the workers would choose K on '
            "different shards): choose K with astrovader pick-k first"
        )
    check_sample(config, inputs.n_train + inputs.n_val, inputs.n_train)


def build_session(plan: RunPlan, strategy, *, out, options: FitOptions, hold=None) -> Session:
    """Build the datasets and the compiled model of a plan, and restore a resumed run.

    Args:
        plan: The run's plan (:func:`~astrovader.training.plan.plan_run`).
        strategy: The distribution strategy.
        out: The run directory written.
        options: The fit options.
        hold: ``hold(context_manager)`` keeps a context open for the whole run
            (``contextlib.ExitStack.enter_context``): the output directory's lock is
            taken through it just before the first write, after every input check.
    """
    from astrovader.model.vade import AstroVaDEr

    config, source, out = plan.config, plan.run, RunDirectory(out)
    keras.utils.set_random_seed(config.training.seed)
    workers, replicas = distribute.worker_count(strategy), strategy.num_replicas_in_sync
    inputs = run_inputs(config, workers, images=plan.images, replicas=replicas)
    _check_clusters(config, strategy, inputs)
    policy = precision.resolve_precision(config.training.precision)
    xla = precision.resolve_xla(config.training.xla, replicas)
    resuming = plan.resume and source.checkpoint.exists()
    if resuming:
        check_resumable(config, source.checkpoints)
    initial_epoch, stopped = 0, None
    with strategy.scope(), precision.dtype_policy(policy):
        checkpoint = source.checkpoint if resuming else None
        model = AstroVaDEr.from_settings(auto_model_config(config, checkpoint))
        optimizer = precision.wrap_optimizer(
            keras.optimizers.Adam(config.optimizer.learning_rate), policy
        )
        model.compile(optimizer=optimizer, jit_compile=xla)
        if hold is not None:
            hold(directory_lock(out.path))
            if not plan.resume:
                check_out(out, plan.overwrite)
                out.clear()
            remove_stale(out.path)
        out.path.mkdir(parents=True, exist_ok=True)
        if not plan.resume:
            config.save(out.config_path)
        if resuming:
            initial_epoch = restore(model, source.checkpoints)
            stopped = _stop_marker(source, initial_epoch)
    model.skip_nonfinite = options.on_nan == "skip-batch"
    return Session(plan, strategy, out, options, inputs, model, policy, xla, initial_epoch, stopped)


def _stop_marker(source: RunDirectory, initial_epoch: int) -> int | None:
    """The epoch the resumed run stopped at as stable, or None.

    A marker ahead of the checkpoint (written just before a kill) is stale and removed.
    """
    stopped = stopped_at(source.checkpoints)
    if stopped is not None and stopped != initial_epoch:
        (source.checkpoints / MARKER).unlink(missing_ok=True)
        return None
    return stopped


def run_callbacks(session: Session, guard: NaNGuard) -> tuple[GMMInitialisation, list]:
    """The GMM initialisation and every callback of the run, in order."""
    config, out = session.config, session.out
    schedule, mixture = config.schedule, config.mixture
    at = schedule.gamma_epochs

    def check(embedding):
        session.warnings.extend(check_initialisation(embedding, session.options.force))

    gmm_init = GMMInitialisation(
        session.inputs.train,
        schedule.gamma_epochs,
        n_batches=schedule.gmm_batches,
        clip_value=config.optimizer.clip_value,
        seed=config.training.seed,
        views=config.augment.tied_views,
        restarts=mixture.restarts,
        reset=mixture.reset_optimizer,
        check=check,
        tied=session.inputs.tied,
    )
    em = []
    if mixture.update == "em":
        views = config.augment.tied_views
        em = [
            MixtureEM(
                session.inputs.train,
                schedule.gamma_epochs,
                n_batches=schedule.gmm_batches,
                views=views,
                respawn=mixture.respawn,
                seed=config.training.seed,
                schedule=schedule,
                tied=session.inputs.tied,
            )
        ]
    tied = [] if session.inputs.tied is None else [EmbedTiedViews(session.inputs.tied, at)]
    stop = []
    if schedule.stop_when_stable > 0 and session.inputs.tied is None:
        warn(
            "schedule.stop_when_stable needs the training images in memory with tied views "
            "(not shards, not schedule.epoch_images below the image count): the whole "
            "schedule is trained"
        )
    elif schedule.stop_when_stable > 0:
        tied_views = session.inputs.tied
        threshold = schedule.stop_when_stable
        stop = [
            StablePartition(tied_views, schedule, threshold=threshold, checkpoints=out.checkpoints)
        ]
    return gmm_init, [
        EpochKey(session.inputs.counter),
        *tied,
        gmm_init,
        TeacherSnapshot(schedule.gamma_epochs),
        *em,
        *stop,
        S3VDCSchedule(config),
        learning_rate_schedule(config),
        guard,
        HistoryWriter(out.history_path, config.schedule),
        RunCheckpoint(out.checkpoints, guard, config),
        keras.callbacks.TensorBoard(out.tensorboard, write_graph=False, profile_batch=0),
        *session.options.callbacks,
    ]
