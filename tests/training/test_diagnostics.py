"""Failure detection: each check fires on its failure and stays silent on a healthy run."""

import numpy as np
import pytest

from astrovader.cli import main
from astrovader.config import Config, load_config
from astrovader.errors import CollapseError
from astrovader.training import diagnostics
from astrovader.training.run import fit_run

RNG = np.random.default_rng(5)
SCHEDULE = {"gamma_epochs": 2, "gmm_batches": 3}
# An L2 factor far too strong for 16 px images pulls every posterior onto the prior.
COLLAPSING = {"model": {"l2": 10.0, "l2_scaling": "none"}, "optimizer": {"learning_rate": 1e-2}}


def test_each_check_fires_on_its_failure_and_not_on_healthy_values():
    healthy = np.concatenate([RNG.normal(-2, 0.5, (50, 3)), RNG.normal(2, 0.5, (50, 3))])
    assert diagnostics.collapsed(healthy) is None
    found = diagnostics.collapsed(np.full((100, 3), 0.2) + RNG.normal(0, 1e-5, (100, 3)))
    assert "collapsed embedding" in found and "model.l2" in found
    assert diagnostics.single_cluster(np.repeat([0, 1], 50), 3) is None
    assert "one cluster" in diagnostics.single_cluster(np.r_[np.zeros(199), 1], 3)
    one = np.r_[np.zeros(199), 1]
    paper = diagnostics.single_cluster(one, 3, Config.paper())
    assert 'mixture.update = "em"' in paper
    # the package's own method is on already: the advice must not name what is set
    default = diagnostics.single_cluster(one, 3, Config())
    assert "mixture.update" not in default and "respawn" not in default
    assert "embedding itself" in default
    falling = [{"phase": "gamma", "reconstruction": str(10 / (e + 1))} for e in range(8)]
    flat = [{"phase": "gamma", "reconstruction": str(10 - 0.001 * e)} for e in range(8)]
    assert diagnostics.stalled(falling, 8) is None
    assert "reconstruction stalled" in diagnostics.stalled(flat, 8)
    assert diagnostics.early_floor(Config.paper()) is None
    decaying = load_config(
        "astrovader/presets/quickstart.toml", ["optimizer.min_learning_rate=1e-5"]
    )
    assert "optimizer.min_learning_rate" in diagnostics.early_floor(decaying)
    assert diagnostics.early_floor(load_config("astrovader/presets/quickstart.toml")) is None


@pytest.mark.slow
def test_a_collapse_at_the_initialisation_stops_the_run(tmp_path, tiny_config):
    config = tiny_config(schedule=SCHEDULE, **COLLAPSING)
    with pytest.raises(CollapseError, match=r"collapsed embedding.*model\.l2.*--force"):
        fit_run(config, tmp_path / "run", verbose=0)


@pytest.mark.slow
def test_force_trains_on_and_the_warning_reaches_the_run_and_the_report(
    tmp_path, capsys, tiny_config
):
    config = tiny_config(schedule=SCHEDULE, **COLLAPSING)
    path = tmp_path / "c.toml"
    config.save(path)
    run = tmp_path / "run"
    assert main(["fit", "--config", str(path), "--out", str(run), "--quiet", "--force"]) == 0
    err = capsys.readouterr().err
    assert "collapsed embedding" in err
    assert "collapsed embedding" in (run / "warnings.txt").read_text()
    assert main(["report", str(run), "--out", str(tmp_path / "report"), "--quiet"]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Warnings from training" in page and "collapsed embedding" in page


@pytest.mark.slow
def test_the_cli_names_a_collapse_in_one_line(tmp_path, cli_error, tiny_config):
    config = tiny_config(schedule=SCHEDULE, **COLLAPSING)
    config.save(tmp_path / "c.toml")
    line = cli_error(
        ["fit", "--config", str(tmp_path / "c.toml"), "--out", str(tmp_path / "r"), "--quiet"]
    )
    assert "collapsed embedding" in line and "--force" in line


def test_a_healthy_run_has_no_collapse_warning(tiny_run):
    found = (tiny_run / "warnings.txt").read_text() if (tiny_run / "warnings.txt").exists() else ""
    assert "collapsed embedding" not in found and "one cluster" not in found


def test_a_preset_is_chosen_by_name(tmp_path, cli_error):
    line = cli_error(["fit", "--config", "nosuchpreset", "--out", str(tmp_path / "r")])
    assert "not a preset name" in line and "quickstart" in line


def test_empty_components_small_samples_and_no_validation_are_named():
    found = diagnostics.empty_components(np.repeat([0, 1, 3], 30), 5)
    assert "components 2, 4 hold no image (2 of the 5, numbered from 0)" in found
    assert "model.n_clusters" in found
    one = diagnostics.empty_components(np.repeat([0, 1, 2], 30), 4)
    assert "component 3 holds no image (1 of the 4, numbered from 0)" in one
    assert diagnostics.empty_components(np.repeat([0, 1, 2], 30), 3) is None
    assert diagnostics.small_sample(5000, 100, 12) == []
    few, none = diagnostics.small_sample(100, 0, 12)
    assert "100 training images for model.n_clusters = 12" in few
    assert "no validation images" in none and "data.validation_fraction" in none
