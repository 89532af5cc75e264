"""Stop when done (schedule.stop_when_stable): fires on a stable partition, not on a moving one."""

import csv

import keras
import numpy as np
import pytest

from astrovader.config import Config
from astrovader.model.vade import AstroVaDEr
from astrovader.training.mixture.tied_views import TiedViews
from astrovader.training.phases.stability import MARKER, StablePartition, partition, stopped_at
from astrovader.training.run import fit_run

SCHEDULE = (
    Config()
    .replace(schedule={"gamma_epochs": 1, "anneal_epochs": 1, "static_epochs": 2, "periods": 3})
    .schedule
)  # epochs: 0 γ | 1 anneal, 2-3 static | 4 anneal, 5-6 static | 7 anneal, 8-9 static
X = np.random.default_rng(3).random((40, 16, 16, 1)).astype("float32")


def _setup(tmp_path):
    model = AstroVaDEr(image_size=16, latent_dim=2, n_clusters=3, filters=(4, 4, 2), seed=0)
    z = model.encode(X)[0]
    order = np.argsort(z[:, 0])
    centres = z[order[[5, 20, 35]]]
    model.prior.set_mixture(np.full(3, 1 / 3), centres, var=np.full((3, 2), z.var(0) / 9))
    tied = TiedViews(X, 4, latent_dim=2, batch_size=16)
    callback = StablePartition(
        tied, SCHEDULE, threshold=0.005, checkpoints=tmp_path / "checkpoints"
    )
    callback.set_model(model)
    model.stop_training = False  # as Keras' fit sets it
    return model, tied, callback


def test_the_stop_fires_after_a_static_phase_over_which_nothing_moved(tmp_path):
    model, tied, callback = _setup(tmp_path)
    for epoch in range(4):
        callback.on_epoch_end(epoch)
        assert not model.stop_training or epoch == 3
    assert model.stop_training and callback.changes == [(4, 0.0)]
    assert stopped_at(tmp_path / "checkpoints") == 4
    assert tied.of_epoch(4)  # the next epoch's views, embedded once, are kept
    assert len(np.unique(partition(model, tied))) > 1


def test_the_stop_does_not_fire_while_the_partition_moves(tmp_path):
    model, _, callback = _setup(tmp_path)
    callback.on_epoch_end(0)  # γ-training: nothing
    callback.on_epoch_end(1)  # the end of annealing: the partition at the static phase's start
    mix = model.prior.mixture()
    model.prior.set_mixture(mix["pi"], mix["mu"][[1, 2, 0]], var=mix["var"])  # a third moves
    callback.on_epoch_end(2)  # inside the static phase: no check
    callback.on_epoch_end(3)
    assert not model.stop_training and callback.changes[0][1] > 0.3
    assert not (tmp_path / "checkpoints" / MARKER).exists()


@pytest.mark.slow
def test_a_stable_run_ends_early_and_resume_trains_no_further(tmp_path, tiny_config):
    config = tiny_config(
        schedule={
            "gamma_epochs": 2,
            "gmm_batches": 200,
            "static_epochs": 1,
            "periods": 3,
            "stop_when_stable": 0.99,  # any partition that is not wholly new counts as stable
        },
        mixture={"final_fits": 1},
    )
    keras.utils.set_random_seed(0)
    run = fit_run(config, tmp_path / "run", verbose=0)
    with open(run / "history.csv", newline="") as handle:
        epochs = [int(row["epoch"]) for row in csv.DictReader(handle)]
    assert epochs == [1, 2, 3, 4] and stopped_at(run / "checkpoints") == 4
    model_time = (run / "model.keras").stat().st_mtime_ns
    fit_run(out=run, resume=True, verbose=0)
    with open(run / "history.csv", newline="") as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == epochs
    assert (run / "model.keras").stat().st_mtime_ns >= model_time
