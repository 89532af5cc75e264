"""One plan for a run: the kind of data decided once, each check and each reading done once."""

import numpy as np
import pytest
from astropy.io import fits

from astrovader.data import sources
from astrovader.data.images.files import data_kind
from astrovader.data.pipelines.shards import write_tfrecords
from astrovader.errors import AstrovaderError, RunExistsError
from astrovader.training.plan import plan_run
from astrovader.training.run import fit_run


def test_data_kind_names_each_kind_of_path(tmp_path):
    write_tfrecords(tmp_path / "shards", [("a", np.zeros((8, 8), np.uint8))], progress=False)
    np.save(tmp_path / "cube.npy", np.zeros((2, 8, 8)))
    (tmp_path / "folder").mkdir()
    (tmp_path / "odd.npy").mkdir()  # a folder named like an array is read as a folder
    assert data_kind("") == "synthetic"
    assert data_kind(tmp_path / "shards") == "shards"
    assert data_kind(tmp_path / "cube.npy") == "array"
    assert data_kind(str(tmp_path / "CUBE.NPY")) == "array"  # missing: the reader says so
    assert data_kind(tmp_path / "folder") == "stamps"
    assert data_kind(tmp_path / "odd.npy") == "stamps"


def test_a_plan_reads_the_images_once_and_fits_the_configuration_to_them(
    tmp_path, tiny_config, monkeypatch
):
    rng = np.random.default_rng(0)
    for i in range(30):
        fits.writeto(tmp_path / f"g{i}.fits", rng.normal(100, 5, (20, 20)).astype("float32"))
    measured, read = [], []
    limits, load = sources.global_limits, sources.load_images
    monkeypatch.setattr(
        sources, "global_limits", lambda *a, **k: measured.append(1) or limits(*a, **k)
    )
    monkeypatch.setattr(sources, "load_images", lambda *a, **k: read.append(1) or load(*a, **k))
    config = tiny_config(
        data={"path": str(tmp_path), "image_size": 16}, scaling={"scope": "global"}
    )
    plan = plan_run(config, tmp_path / "run")
    assert (measured, read) == ([1], [1])
    assert plan.kind == "stamps" and len(plan.images) == 30 and plan.finished is None
    assert len(plan.config.scaling.limits) == 2  # measured once, kept in config.toml
    assert not (tmp_path / "run").exists()  # planning writes nothing
    stream = plan.stream(None)
    assert stream.count == 30 and [len(ids) for ids, _ in stream.batches(20)] == [20, 10]


def test_a_plan_refuses_an_existing_run_and_a_missing_one(tmp_path, tiny_config):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.toml").write_text("")
    with pytest.raises(RunExistsError, match=r"run: already holds a run \(config\.toml\)"):
        plan_run(tiny_config(), tmp_path / "run")
    with pytest.raises(AstrovaderError, match=r"nothing: no run to resume \(no config\.toml\)"):
        plan_run(None, tmp_path / "nothing", resume=True)


@pytest.mark.slow
def test_a_finished_run_is_planned_without_reading_and_left_as_it_is(tiny_run, monkeypatch):
    from astrovader.training import plan as planning

    monkeypatch.setattr(planning, "load_data", None)  # reading the images would fail
    plan = plan_run(None, tiny_run, resume=True)
    assert plan.finished == plan.config.schedule.total_epochs and plan.images is None
    before = {p.name: p.stat().st_mtime_ns for p in tiny_run.iterdir()}
    assert fit_run(plan) == tiny_run
    assert {p.name: p.stat().st_mtime_ns for p in tiny_run.iterdir()} == before
