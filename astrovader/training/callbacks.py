"""The s3VDC schedule as Keras callbacks that set the model's weights (method §5)."""

from __future__ import annotations

import keras

from astrovader.config import Config
from astrovader.training.schedule import learning_rate_at, loss_weights, phase_at


class EpochKey(keras.callbacks.Callback):
    """Key the training data to the epoch: first of the callbacks, at every epoch's start.

    Args:
        counter: The :class:`~astrovader.data.pipeline.EpochCounter` of the run's
            training dataset (None: nothing to key).
    """

    def __init__(self, counter):
        super().__init__()
        self.counter = counter

    def on_epoch_begin(self, epoch, logs=None):
        if self.counter is not None:
            self.counter.set(epoch)


class S3VDCSchedule(keras.callbacks.Callback):
    """Set w_KL and w_GMM at the start of each epoch from its phase and β.

    The epoch's β is added to the logs (and so to TensorBoard and history.csv).

    Args:
        config: The run's configuration (schedule and loss sections).
    """

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.state = None

    def on_epoch_begin(self, epoch, logs=None):
        self.state = phase_at(epoch, self.config.schedule)
        kl_weight, gmm_weight = loss_weights(self.state, self.config.loss)
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
