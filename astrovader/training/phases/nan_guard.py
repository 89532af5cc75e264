"""Stop on a non-finite loss or weight, naming the epoch, phase and term (``--on-nan stop``)."""

from __future__ import annotations

import math

import keras
import numpy as np

from astrovader.config import ScheduleConfig
from astrovader.model.steps import LOSS_TERMS
from astrovader.training.phases.schedule import phase_at

__all__ = ["NaNGuard"]


class NaNGuard(keras.callbacks.Callback):
    """Watch every loss term after each batch and the weights after each epoch.

    On the first non-finite value training stops and ``failure`` holds a
    one-line description; the caller rolls back to the last good checkpoint.

    Args:
        schedule: The schedule, to name the phase of the failing epoch.
    """

    def __init__(self, schedule: ScheduleConfig):
        super().__init__()
        self.schedule = schedule
        self.epoch = 0
        self.failure: str | None = None

    def _fail(self, what: str) -> None:
        phase = phase_at(self.epoch, self.schedule).phase
        self.failure = f"non-finite {what} at epoch {self.epoch + 1} ({phase} phase)"
        self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.failure or not logs:
            return
        for term in LOSS_TERMS:
            if term in logs and not math.isfinite(float(logs[term])):
                self._fail(f"loss term '{term}' (batch {batch})")
                return

    def on_epoch_end(self, epoch, logs=None):
        if self.failure:
            return
        for weight in self.model.trainable_weights:
            if not np.isfinite(keras.ops.convert_to_numpy(weight)).all():
                self._fail(f"weight '{weight.path}'")
                return
