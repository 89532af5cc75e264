"""Stop when done: end joint training once the partition holds still.

A static phase (β = 1) lets the clusters settle; when, over a whole static phase,
fewer than ``schedule.stop_when_stable`` of the training images change cluster, more
periods would spend time on a partition that is not moving, and
:class:`StablePartition` ends training there. The partition is the argmax of
the tied E-step (method eq. A1) of every training image's views under the prior,
taken at the end of each phase from the views that the next epoch would embed
anyway (:class:`~astrovader.training.mixture.tied_views.TiedViews`), so the check costs
one E-step per phase. A run that stopped is finished: ``checkpoints/stopped.json``
says at which epoch, and ``--resume`` trains no further.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import keras
import numpy as np

from astrovader._io import write_text_atomic
from astrovader.model import em
from astrovader.training.phases.schedule import GAMMA, STATIC, phase_at

__all__ = ["MARKER", "StablePartition", "partition", "stopped_at"]

log = logging.getLogger(__name__)
MARKER = "stopped.json"


def stopped_at(checkpoints: str | Path) -> int | None:
    """The epoch count at which a run stopped early (from its marker), or None."""
    path = Path(checkpoints) / MARKER
    if not path.is_file():
        return None
    return int(json.loads(path.read_text())["epochs"])


def partition(model, tied) -> np.ndarray:
    """(N,) argmax of the tied E-step of the held views under the model's prior."""
    zv, log_var = tied.arrays()
    pi, mu, var = model.prior(None)
    log_gamma = em.tied_log_posterior(zv, pi, mu=mu, var=var, log_var_v=log_var)
    return np.argmax(keras.ops.convert_to_numpy(log_gamma), axis=1)


class StablePartition(keras.callbacks.Callback):
    """End training after a static phase over which under ``threshold`` of the images moved.

    Args:
        tied: The training images' :class:`~astrovader.training.mixture.tied_views.TiedViews`.
        schedule: The run's ``[schedule]``.
        threshold: The fraction of images (``schedule.stop_when_stable``).
        checkpoints: The run's checkpoint folder, where the marker is written.
    """

    def __init__(self, tied, schedule, *, threshold: float, checkpoints: str | Path):
        super().__init__()
        self.tied, self.schedule, self.threshold = tied, schedule, threshold
        self.checkpoints = Path(checkpoints)
        self.previous = None  # the partition at the end of the last phase
        self.changes: list[tuple[int, float]] = []  # (epoch, fraction) at each static phase's end

    def on_epoch_end(self, epoch, logs=None):
        state = phase_at(epoch, self.schedule)
        following = phase_at(epoch + 1, self.schedule)
        last = epoch + 1 >= self.schedule.total_epochs
        if (
            state.phase == GAMMA
            or last
            or (following.phase, following.period)
            == (
                state.phase,
                state.period,
            )
        ):
            return
        self.tied.refresh(self.model, epoch + 1)  # the next epoch's views, embedded once
        labels = partition(self.model, self.tied)
        previous, self.previous = self.previous, labels
        if state.phase != STATIC or previous is None:
            return
        changed = float(np.mean(labels != previous))
        self.changes.append((epoch + 1, changed))
        log.info(
            "epoch %d: %.2f %% of the images changed cluster over the static phase",
            epoch + 1,
            100 * changed,
        )
        if changed < self.threshold:
            log.info(
                "the partition is stable (under %.2f %% moved): training ends after epoch %d of %d",
                100 * self.threshold,
                epoch + 1,
                self.schedule.total_epochs,
            )
            self.checkpoints.mkdir(parents=True, exist_ok=True)
            marker = {"epochs": epoch + 1, "changed": changed, "threshold": self.threshold}
            write_text_atomic(self.checkpoints / MARKER, json.dumps(marker) + "\n")
            self.model.stop_training = True
