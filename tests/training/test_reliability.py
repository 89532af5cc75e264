"""NaN guard, skip-batch and kill-then-resume on tiny runs (16×16 images, a few epochs)."""

import csv

import keras
import numpy as np
import pytest

from astrovader.errors import AstrovaderError
from astrovader.training.run import fit_run

SMALL = {
    "data": {"synthetic_count": 120, "validation_fraction": 0.1},
    "model": {"latent_dim": 3, "n_clusters": 3},
    "schedule": {"gamma_epochs": 2, "gmm_batches": 5, "static_epochs": 1, "periods": 2},
}


class PoisonLoss(keras.callbacks.Callback):
    """Make one batch's loss NaN (w_KL = NaN), then restore the weight."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0
        self.saved = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.saved = float(self.model.kl_weight.numpy())
            self.model.kl_weight.assign(float("nan"))
        elif self.saved is not None:
            self.model.kl_weight.assign(self.saved)
            self.saved = None


def _epochs(run):
    with open(run / "history.csv", newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_nan_stops_names_epoch_phase_term_and_keeps_last_good_checkpoint(tmp_path, tiny_config):
    config = tiny_config(**SMALL)
    run = tmp_path / "run"
    with pytest.raises(
        AstrovaderError,
        match=r"non-finite loss term 'loss' \(batch 2\) at epoch 2 "
        r"\(gamma phase\); training stopped and the checkpoint after epoch 1 is kept",
    ):
        fit_run(config, run, verbose=0, callbacks=(PoisonLoss(1, 2),))
    assert not (run / "model.keras").exists()
    from astrovader.model.vade import AstroVaDEr
    from astrovader.training.rundir.checkpoint import restore

    model = AstroVaDEr.from_settings(config)
    model.compile(optimizer=keras.optimizers.Adam())
    assert restore(model, run / "checkpoints") == 1
    assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.trainable_weights)
    fit_run(None, run, resume=True, verbose=0)
    assert _epochs(run) == list(range(1, config.schedule.total_epochs + 1))


@pytest.mark.slow
def test_skip_batch_drops_the_bad_batch_and_finishes(tmp_path, tiny_config):
    config = tiny_config(**SMALL)
    run = tmp_path / "run"
    fit_run(config, run, verbose=0, on_nan="skip-batch", callbacks=(PoisonLoss(3, 1),))
    import astrovader

    model = astrovader.load_model(run / "model.keras")
    assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.trainable_weights)
    assert (model.mixture()["var"] > 0).all()
    assert _epochs(run) == list(range(1, config.schedule.total_epochs + 1))
