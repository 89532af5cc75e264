"""``model.n_clusters = "auto"``: pick-k at the GMM initialisation, then training with that K."""

import json

import pytest

from astrovader.config import load_config
from astrovader.data.tables.clusters import read_clusters
from astrovader.errors import ConfigError
from astrovader.model.loading import load_model
from astrovader.training.run import fit_run
from astrovader.training.rundir.history import read_history


@pytest.mark.slow
def test_auto_clusters_trains_with_the_picked_k_and_resumes(tiny_run_config, tmp_path):
    config = tiny_run_config.replace(
        model={"n_clusters": "auto"},
        pick_k={"fits": 8, "batch_size": 200, "max_components": 10},
    )
    out = fit_run(config, tmp_path / "run", verbose=0)
    k = json.loads((out / "pick_k" / "summary.json").read_text())["consensus"]
    assert len((out / "pick_k" / "counts.csv").read_text().splitlines()) == 1 + 8
    model = load_model(out / "model.keras")
    assert model.n_clusters == k and model.prior.is_initialized
    assert model.mixture()["mu"].shape == (k, config.model.latent_dim)
    n_images = config.data.synthetic_count
    assert read_clusters(out / "clusters.csv")["gamma"].shape == (n_images, k)
    assert load_config(out / "config.toml").model.n_clusters == "auto"
    epochs = [int(row["epoch"]) for row in read_history(out / "history.csv")]
    assert epochs == list(range(1, config.schedule.total_epochs + 1))
    # A finished run resumes from its K-component checkpoint without choosing again.
    before = (out / "pick_k" / "summary.json").stat().st_mtime_ns
    fit_run(None, out, resume=True, verbose=0)
    assert load_model(out / "model.keras").n_clusters == k
    assert (out / "pick_k" / "summary.json").stat().st_mtime_ns == before


def test_auto_is_the_only_word_n_clusters_takes():
    assert load_config(None, ["model.n_clusters=auto"]).model.n_clusters == "auto"
    with pytest.raises(ConfigError, match=r"model\.n_clusters = 'many' is not allowed"):
        load_config(None, ["model.n_clusters=many"])
    with pytest.raises(ConfigError, match=r"model\.n_clusters: expected int or str, got 2\.5"):
        load_config(None, ["model.n_clusters=2.5"])
