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
from astrovader.training.auto_clusters import auto_model_config
from astrovader.training.callbacks import EpochKey, S3VDCSchedule, learning_rate_schedule
from astrovader.training.checkpoint import RunCheckpoint, check_resumable, restore
from astrovader.training.diagnostics import check_initialisation
from astrovader.training.gmm_init import GMMInitialisation
from astrovader.training.history import HistoryWriter
from astrovader.training.mixture_em import MixtureEM, TeacherSnapshot
from astrovader.training.nan_guard import NaNGuard
from astrovader.training.rundir import RunDirectory, check_out
from astrovader.training.stability import MARKER, StablePartition, stopped_at
from astrovader.training.tied_views import EmbedTiedViews


@dataclasses.dataclass(frozen=True)
class FitOptions:
    """How :func:`~astrovader.training.run.fit_run` trains, beside the configuration.

    Attributes:
        resume: Continue the run from its last checkpoint.
        overwrite: Replace a run already in the output directory.
        verbose: Keras progress output (``"auto"``, 0, 1 or 2).
        on_nan: ``"stop"`` or ``"skip-batch"`` (see ``fit_run``).
        callbacks: Extra Keras callbacks, run after the schedule's own.
        force: Train on after a collapsed embedding at the GMM initialisation
            (:mod:`~astrovader.training.diagnostics`) instead of stopping.
    """

    resume: bool = False
    overwrite: bool = False
    verbose: int | str = "auto"
    on_nan: str = "stop"
    callbacks: tuple = ()
    force: bool = False

    def __post_init__(self):
        if self.on_nan not in ("stop", "skip-batch"):
            raise AstrovaderError(f"on_nan must be 'stop' or 'skip-batch', got {self.on_nan!r}")


@dataclasses.dataclass
class Session:
    """Everything one training needs, built by :func:`build_session`.

    Attributes:
        config: The run's configuration.
        strategy: The ``tf.distribute`` strategy.
        source: The run directory resumed from (the output one, except on
            non-chief workers).
        out: The run directory written.
        options: The fit options.
        inputs: The datasets (:class:`~astrovader.training.inputs.RunInputs`).
        model: The compiled model (rebuilt when ``n_clusters = "auto"`` picks K).
        policy: The dtype policy name.
        xla: Whether the step is compiled with XLA.
        initial_epoch: Epochs already done.
        warnings: What the failure checks found so far.
        stopped: The epoch count at which the resumed run ended as stable
            (:mod:`~astrovader.training.stability`), or None.
    """

    config: Config
    strategy: object
    source: RunDirectory
    out: RunDirectory
    options: FitOptions
    inputs: object = None
    model: object = None
    policy: str = "float32"
    xla: bool = False
    initial_epoch: int = 0
    warnings: list = dataclasses.field(default_factory=list)
    stopped: int | None = None

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


def _check_clusters(session: Session) -> None:
    config, inputs = session.config, session.inputs
    if session.auto and distribute.worker_count(session.strategy) > 1:
        raise AstrovaderError(
            'model.n_clusters = "auto" needs a single worker (the workers would choose K on '
            "different shards): choose K with astrovader pick-k first"
        )
    check_sample(config, inputs.n_train + inputs.n_val, inputs.n_train)


def build_session(
    config: Config, strategy, *, source, out, options: FitOptions, hold=None, images=None
) -> Session:
    """Read the data, build and compile the model, and restore a resumed run.

    Args:
        config: The run's configuration.
        strategy: The distribution strategy.
        source: The run directory resumed from.
        out: The run directory written.
        options: The fit options.
        hold: ``hold(context_manager)`` keeps a context open for the whole run
            (``contextlib.ExitStack.enter_context``): the output directory's lock is
            taken through it just before the first write, after every input check.
        images: The images of ``config.data``, already read (None reads them).
    """
    from astrovader.data.sources import with_measured_limits
    from astrovader.model.vade import AstroVaDEr
    from astrovader.training.inputs import run_inputs

    keras.utils.set_random_seed(config.training.seed)
    if not options.resume:
        config = with_measured_limits(config)
    session = Session(config, strategy, RunDirectory(source), RunDirectory(out), options)
    workers, replicas = distribute.worker_count(strategy), strategy.num_replicas_in_sync
    session.inputs = run_inputs(config, workers, images=images, replicas=replicas)
    _check_clusters(session)
    session.policy = precision.resolve_precision(config.training.precision)
    session.xla = precision.resolve_xla(config.training.xla, strategy.num_replicas_in_sync)
    resuming = options.resume and session.source.checkpoint.exists()
    if resuming:
        check_resumable(config, session.source.checkpoints)
    with session.scope():
        checkpoint = session.source.checkpoint if resuming else None
        model = AstroVaDEr.from_settings(auto_model_config(config, checkpoint))
        optimizer = precision.wrap_optimizer(
            keras.optimizers.Adam(config.optimizer.learning_rate), session.policy
        )
        model.compile(optimizer=optimizer, jit_compile=session.xla)
        if hold is not None:
            hold(directory_lock(session.out.path))
            if not options.resume:
                check_out(session.out, options.overwrite)
                session.out.clear()
            remove_stale(session.out.path)
        session.out.path.mkdir(parents=True, exist_ok=True)
        if not options.resume:
            config.save(session.out.config_path)
        if resuming:
            session.initial_epoch = restore(model, session.source.checkpoints)
            session.stopped = _stop_marker(session)
    model.skip_nonfinite = options.on_nan == "skip-batch"
    session.model = model
    return session


def _stop_marker(session: Session) -> int | None:
    """The epoch the resumed run stopped at as stable, or None.

    A marker ahead of the checkpoint (written just before a kill) is stale and removed.
    """
    stopped = stopped_at(session.source.checkpoints)
    if stopped is not None and stopped != session.initial_epoch:
        (session.source.checkpoints / MARKER).unlink(missing_ok=True)
        return None
    return stopped


def callbacks(session: Session, guard: NaNGuard) -> tuple[GMMInitialisation, list]:
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
