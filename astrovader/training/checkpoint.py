"""Atomic per-epoch checkpoints of the weights, the optimizer state and the schedule position."""

from __future__ import annotations

from pathlib import Path

import keras

from astrovader._io import atomic_path

CHECKPOINT_NAME = "last.weights.h5"


class RunCheckpoint(keras.callbacks.Callback):
    """Save model and optimizer weights after each epoch, via a temporary file and a rename.

    The epoch count, the GMM-initialised flag, the loss weights and the clip
    value are model weights, so one file holds everything a resume needs.

    Args:
        directory: Where ``last.weights.h5`` is kept.
        guard: A :class:`~astrovader.training.nan_guard.NaNGuard`; no checkpoint is
            written once it has seen a non-finite value, so the last one stays good.
    """

    def __init__(self, directory: str | Path, guard=None):
        super().__init__()
        self.path = Path(directory) / CHECKPOINT_NAME
        self.guard = guard

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and self.guard.failure:
            return
        self.model.epochs_done.assign(float(epoch + 1))
        with atomic_path(self.path, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)


def restore(model: keras.Model, directory: str | Path) -> int:
    """Load the last checkpoint into a compiled model; return the epochs already done."""
    path = Path(directory) / CHECKPOINT_NAME
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(path)
    return int(model.epochs_done.numpy())
