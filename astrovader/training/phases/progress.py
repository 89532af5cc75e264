"""Progress of a fit: one tqdm bar per phase, or one line per epoch; phase banners; an ETA.

Used by ``astrovader fit`` (bars and banners on stderr) and
:class:`astrovader.api.Clusterer` (tqdm's notebook front end in Jupyter).

In the ``"bar"`` mode (:mod:`astrovader._progress`: a terminal) the bar counts the
phase's steps with images/s; its postfix holds the epoch (1-based, as everywhere),
the loss and the time left for the whole schedule, estimated from the run's mean
step time so far. In the ``"lines"`` mode (stderr is a file, as on a batch system)
each epoch ends with one plain line: the epoch, its phase, images/s, the losses
and the run's ETA. At each phase change a one-line banner says what the phase does
(and, when annealing starts, why the loss rises).
"""

from __future__ import annotations

import sys
import time

import keras
from tqdm.auto import tqdm

from astrovader._progress import get_mode
from astrovader.training.phases.schedule import GAMMA, phase_at

__all__ = ["EXPLAIN", "PhaseProgress"]

EXPLAIN = {
    "gamma": "γ-training: the network learns to reconstruct the images; the mixture prior "
    "is not used yet",
    "anneal": "annealing: the mixture term is switched in with weight β rising from 0 to 1, "
    "so the loss rises by design (this is not divergence)",
    "static": "static: β = 1; the clusters settle",
}


def _span(schedule, first: int, total: int) -> int:
    """The last epoch (0-based) of the phase that ``first`` starts."""
    state = phase_at(first, schedule)
    last = first
    while last + 1 < total:
        following = phase_at(last + 1, schedule)
        if (following.phase, following.period) != (state.phase, state.period):
            break
        last += 1
    return last


class PhaseProgress(keras.callbacks.Callback):
    """Bars and banners of a fit (see the module docstring).

    Args:
        config: The run's configuration.
        images_per_step: Images per training step (the batch size).
        write: Where banners and lines go (default ``tqdm.write`` on stderr: a bar is
            redrawn below).
        mode: ``"bar"`` or ``"lines"``; None takes :func:`astrovader._progress.get_mode`.
    """

    def __init__(self, config, images_per_step: int, *, write=None, mode: str | None = None):
        super().__init__()
        self.config, self.batch = config, images_per_step
        self.write = write or (lambda text: tqdm.write(text, file=sys.stderr))
        self.mode = mode or get_mode()
        self.epoch_started = None
        self.first_epoch = None
        self.epoch = 0
        self.total = config.schedule.total_epochs
        self.bar = None
        self.key = None
        self.steps_done = 0
        self.started = None

    def on_train_begin(self, logs=None):
        self.started = self.started or time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        if self.first_epoch is None:
            self.first_epoch = epoch
        schedule = self.config.schedule
        state = phase_at(epoch, schedule)
        key = (state.phase, state.period)
        if key != self.key:
            self._close()
            self.key = key
            last = _span(schedule, epoch, self.total)
            steps = (self.params or {}).get("steps") or 0
            if state.phase != GAMMA and epoch == schedule.gamma_epochs:
                self.write(
                    f"GMM initialisation: a {self.model.n_clusters}-component Gaussian mixture "
                    f"fitted to the embedding of up to {schedule.gmm_batches} batches"
                )
            period = (
                "" if state.phase == GAMMA else f", period {state.period + 1}/{schedule.periods}"
            )
            self.write(
                f"epochs {epoch + 1}–{last + 1} of {self.total}{period}: {EXPLAIN[state.phase]}"
            )
            if self.mode == "bar":
                self.bar = tqdm(
                    total=steps * (last - epoch + 1) or None,
                    desc=state.phase + period.replace(", period ", " "),
                    unit="step",
                    leave=False,
                    dynamic_ncols=True,
                )
        self.epoch = epoch
        self.epoch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.steps_done += 1
        if self.bar is None:
            return
        self.bar.update(1)
        if batch % 5 == 0:
            self.bar.set_postfix_str(self._postfix(batch, logs), refresh=False)

    def _postfix(self, batch: int, logs) -> str:
        steps = (self.params or {}).get("steps") or 1
        elapsed = time.perf_counter() - self.started
        rate = self.steps_done / max(elapsed, 1e-9)
        left = (self.total - self.epoch) * steps - (batch + 1)
        loss = float((logs or {}).get("loss", float("nan")))
        eta = time.strftime("%H:%M:%S", time.gmtime(max(left, 0) / max(rate, 1e-9)))
        return (
            f"epoch {self.epoch + 1}/{self.total}, loss {loss:.4g}, "
            f"{rate * self.batch:.0f} images/s, run ETA {eta}"
        )

    def on_epoch_end(self, epoch, logs=None):
        if self.mode != "lines":
            return
        self.write(self.epoch_line(epoch, logs or {}))

    def epoch_line(self, epoch: int, logs: dict) -> str:
        """The ``"lines"`` mode's line for a finished epoch."""
        state = phase_at(epoch, self.config.schedule)
        phase = state.phase
        if phase != GAMMA:
            phase += f" {state.period + 1}/{self.config.schedule.periods}"
        now = time.perf_counter()
        steps = (self.params or {}).get("steps") or 0
        seconds = max(now - (self.epoch_started or now), 1e-9)
        elapsed = max(now - self.started, 1e-9)
        left = (self.total - epoch - 1) * elapsed / max(epoch + 1 - self.first_epoch, 1)
        terms = ", ".join(
            f"{name} {float(value):.4g}"
            for name, value in logs.items()
            if name in ("loss", "reconstruction", "kl", "gmm_kl", "consistency", "val_loss")
        )
        return (
            f"epoch {epoch + 1}/{self.total} {phase}: {steps * self.batch / seconds:.0f} "
            f"training images/s, {terms}, run ETA {time.strftime('%H:%M:%S', time.gmtime(left))}"
        )

    def _close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def on_train_end(self, logs=None):
        self._close()
