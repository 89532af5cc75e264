"""Atomic per-epoch checkpoints of the weights, the optimizer state and the schedule position.

``RUN/checkpoints/last.weights.h5`` holds every model and optimizer variable,
the reparameterisation noise state and the schedule position (the epoch count,
the GMM-initialised flag, the loss weights and the clip value are model
weights), so a resumed run continues exactly where the last complete epoch
ended. ``RUN/checkpoints/config.toml`` is the configuration the checkpoint was
made with: a resume first checks that the run's ``config.toml`` still says the
same, then that the file's variables fit the model, and says in one line what
does not match. Before each write the free space is checked against the size
of the last checkpoint; a full disk stops the run with the last good
checkpoint kept.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from astrovader._io import atomic_path, check_free_space, deferred_interrupts
from astrovader.config import Config, load_config, to_dict
from astrovader.errors import AstrovaderError, ConfigError

__all__ = [
    "CHECKPOINT_NAME",
    "CONFIG_NAME",
    "NOISE_GROUP",
    "RunCheckpoint",
    "check_resumable",
    "expected_size",
    "restore",
]

CHECKPOINT_NAME = "last.weights.h5"
CONFIG_NAME = "config.toml"


class RunCheckpoint(keras.callbacks.Callback):
    """Save model and optimizer weights after each epoch, via a temporary file and a rename.

    Args:
        directory: Where ``last.weights.h5`` is kept.
        guard: A :class:`~astrovader.training.phases.nan_guard.NaNGuard`; no checkpoint is
            written once it has seen a non-finite value, so the last one stays good.
        config: The run's configuration, kept beside the checkpoint.
    """

    def __init__(self, directory: str | Path, guard=None, config: Config | None = None):
        super().__init__()
        self.directory = Path(directory)
        self.path = self.directory / CHECKPOINT_NAME
        self.guard = guard
        self.config = config

    def on_train_begin(self, logs=None):
        if self.config is not None:
            self.config.save(self.directory / CONFIG_NAME)

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and self.guard.failure:
            return
        self.model.epochs_done.assign(float(epoch + 1))
        check_free_space(self.directory, expected_size(self.model, self.path), "the checkpoint")
        with deferred_interrupts(), atomic_path(self.path, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)
            _save_noise_states(self.model, tmp)


NOISE_GROUP = "astrovader_noise_states"


def _noise_states(model) -> list:
    """The random-generator states of the model (Keras leaves them out of its weight files)."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def _save_noise_states(model, path: Path) -> None:
    import h5py

    with h5py.File(path, "a") as handle:
        group = handle.create_group(NOISE_GROUP)
        for i, variable in enumerate(_noise_states(model)):
            group.create_dataset(str(i), data=keras.ops.convert_to_numpy(variable))


def _restore_noise_states(model, path: Path) -> None:
    import h5py

    with h5py.File(path, "r") as handle:
        group = handle.get(NOISE_GROUP)
        if group is None:
            return
        for i, variable in enumerate(_noise_states(model)):
            if str(i) in group:
                variable.assign(np.asarray(group[str(i)]))


def expected_size(model, path: Path) -> int:
    """Bytes of the next checkpoint: the last one's size, or the variables' size plus headroom."""
    if path.exists():
        return path.stat().st_size
    variables = [*model.variables, *(model.optimizer.variables if model.optimizer else [])]
    return int(sum(np.prod(v.shape) * 4 for v in variables) * 1.2) + (1 << 16)


def check_resumable(run_config: Config, directory: str | Path) -> None:
    """The run's configuration is the one its checkpoint was made with.

    Raises:
        AstrovaderError: a key that changed since, naming it with both values.
    """
    saved = Path(directory) / CONFIG_NAME
    if not saved.exists():
        return
    try:
        before = to_dict(load_config(saved, base=Config.paper()))  # as RunDirectory.config
    except ConfigError as exc:
        raise AstrovaderError(f"{saved}: damaged ({exc})") from None
    now = to_dict(run_config)
    for section, keys in now.items():
        for key, value in keys.items():
            if before.get(section, {}).get(key) != value:
                raise AstrovaderError(
                    f"{saved.parent.parent / 'config.toml'}: {section}.{key} = {value!r} "
                    f"differs from the checkpoint's {before[section][key]!r}; --resume needs "
                    "the configuration the run started with"
                )


def restore(model: keras.Model, directory: str | Path) -> int:
    """Load the last checkpoint into a compiled model; return the epochs already done.

    Raises:
        AstrovaderError: a damaged file, or variables that do not fit the model.
    """
    path = Path(directory) / CHECKPOINT_NAME
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    try:
        model.load_weights(path)
        _restore_noise_states(model, path)
    except (OSError, KeyError) as exc:
        detail = " ".join(str(exc).split())[:160]
        raise AstrovaderError(f"{path}: damaged checkpoint ({detail})") from None
    except ValueError as exc:
        detail = " ".join(str(exc).split())[:160]
        raise AstrovaderError(
            f"{path}: does not fit the model of this run's config.toml ({detail})"
        ) from None
    return int(model.epochs_done.numpy())
