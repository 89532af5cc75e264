"""The s3VDC schedule as Keras callbacks that set the model's weights (method §5)."""

from __future__ import annotations

import keras

from astrovader.config import Config
from astrovader.training.phases.schedule import learning_rate_at, loss_weights, phase_at

__all__ = ["EpochKey", "S3VDCSchedule", "learning_rate_schedule"]


class EpochKey(keras.callbacks.Callback):
    """Key the training data to the epoch: first of the callbacks, at every epoch's start.

    Args:
        counter: The :class:`~astrovader.data.pipelines.memory.EpochCounter` of the run's
            training dataset (None: nothing to key).
    """

    def __init__(self, counter):
        super().__init__()
        self.counter = counter

    def on_epoch_begin(self, epoch, logs=None):
        if self.counter is not None:
            self.counter.set(epoch)


class S3VDCSchedule(keras.callbacks.Callback):
    """Set w_KL, w_GMM and the consistency weight from the phase and β.

    β is set at the start of each epoch (the paper), or with
    ``schedule.beta_per = "step"`` at every step, from the fraction of the epoch
    done (:func:`~astrovader.training.phases.schedule.phase_at`), so that annealing is a
    curve rather than T_β jumps. The weights of the clustering terms follow the
    pixel count (``loss.scaling``). The consistency weight (``augment.consistency``)
    is on after γ-training; the view-agreement weight (``augment.contrast``, scaled
    the same way) in every phase. The epoch's β is added to the logs (and so to
    TensorBoard and history.csv).

    Args:
        config: The run's configuration (schedule, loss and augment sections).
    """

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.factor = config.loss.factor(config.data.image_size, config.data.bands)
        self.state = None
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self._set(phase_at(epoch, self.config.schedule))
        joint = self.state.phase != "gamma"
        consistency = self.config.augment.consistency * self.factor
        self.model.consistency_weight.assign(consistency if joint else 0.0)
        if self.model.contrast_weight is not None:
            self.model.contrast_weight.assign(self.config.augment.contrast * self.factor)

    def on_train_batch_begin(self, batch, logs=None):
        steps = (self.params or {}).get("steps")
        if self.config.schedule.beta_per != "step" or not steps or self.state.phase != "anneal":
            return
        self._set(phase_at(self.epoch, self.config.schedule, batch / steps), keep=False)

    def _set(self, state, keep=True):
        if keep:
            self.state = state  # the epoch's own β (at its start) is the one logged
        kl_weight, gmm_weight = loss_weights(state, self.config.loss, self.factor)
        self.model.kl_weight.assign(kl_weight)
        self.model.gmm_weight.assign(gmm_weight)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.state is not None:
            logs["beta"] = self.state.beta
        self.model.epochs_done.assign(float(epoch + 1))


def learning_rate_schedule(config: Config) -> keras.callbacks.LearningRateScheduler:
    """Keras' scheduler with the staircase exponential decay of method §5.4."""
    total = config.schedule.total_epochs

    def schedule(epoch, lr=None):
        return learning_rate_at(epoch, config.optimizer, total)

    return keras.callbacks.LearningRateScheduler(schedule)
