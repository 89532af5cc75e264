"""One writer per run, nothing lost to odd names, full disks or bad checkpoints (tiny runs)."""

import errno
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from astrovader._io import directory_lock
from astrovader.cli import main
from astrovader.data.tables.clusters import read_clusters
from astrovader.errors import AstrovaderError
from astrovader.training.run import fit_run


@pytest.mark.slow
def test_a_second_writer_is_refused_naming_the_holder(tmp_path, cli_error, tiny_config):
    run = tmp_path / "run"
    with directory_lock(run):
        line = cli_error(["fit", "--out", str(run), "--overwrite", *tiny_config.sets()])
    assert f"{run}: in use by another astrovader process (PID {os.getpid()})" in line
    assert fit_run(tiny_config(), run, verbose=0) == run  # the lock went with the block
    assert not (run / ".astrovader.lock").exists()


@pytest.mark.slow
def test_a_run_killed_before_its_first_checkpoint_resumes_from_the_start(
    tmp_path, cli_error, tiny_config
):
    run = tmp_path / "run"
    run.mkdir()
    tiny_config().save(run / "config.toml")  # what a kill in epoch 0 leaves
    (run / ".model.keras.tmp-abc12345.keras").write_bytes(b"half")  # and a killed write
    line = cli_error(["fit", "--out", str(run), *tiny_config.sets()])
    assert "already holds a run (config.toml); use --resume" in line
    assert main(["fit", "--resume", str(run), "--quiet"]) == 0
    assert len(read_clusters(run / "clusters.csv")["id"]) == 60
    assert not (run / ".model.keras.tmp-abc12345.keras").exists()


@pytest.fixture(scope="module")
def finished(tmp_path_factory, tiny_config):
    return fit_run(tiny_config(), tmp_path_factory.mktemp("done") / "run", verbose=0)


def _copy(run: Path, to: Path) -> Path:
    shutil.copytree(run, to)
    return to


@pytest.mark.slow
def test_an_edited_configuration_is_named_before_resuming(finished, tmp_path, cli_error):
    run = _copy(finished, tmp_path / "run")
    text = (run / "config.toml").read_text().replace("n_clusters = 2", "n_clusters = 4")
    (run / "config.toml").write_text(text)
    line = cli_error(["fit", "--resume", str(run)])
    assert "config.toml: model.n_clusters = 4 differs from the checkpoint's 2" in line


@pytest.mark.slow
def test_a_damaged_or_foreign_checkpoint_is_one_line(finished, tmp_path, cli_error, tiny_config):
    run = _copy(finished, tmp_path / "damaged")
    (run / "model.keras").unlink()  # killed before the end: resuming reads the checkpoint
    checkpoint = run / "checkpoints" / "last.weights.h5"
    checkpoint.write_bytes(checkpoint.read_bytes()[:3000])
    assert "last.weights.h5: damaged checkpoint" in cli_error(["fit", "--resume", str(run)])
    other = fit_run(tiny_config(model={"latent_dim": 3}), tmp_path / "other", verbose=0)
    run = _copy(finished, tmp_path / "foreign")
    (run / "model.keras").unlink()
    shutil.copy(other / "checkpoints" / "last.weights.h5", run / "checkpoints")
    line = cli_error(["fit", "--resume", str(run)])
    assert "last.weights.h5: does not fit the model of this run's config.toml" in line


@pytest.mark.slow
def test_a_file_name_that_is_not_utf8_is_carried_escaped(tmp_path, tiny_config):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(59):
        Image.fromarray(rng.integers(0, 255, (16, 16), np.uint8)).save(data / f"g{i:02d}.png")
    odd = os.fsencode(data) + b"/gal_\xff.png"
    Image.fromarray(rng.integers(0, 255, (16, 16), np.uint8)).save(os.fsdecode(odd))
    run = fit_run(tiny_config(data={"path": str(data)}), tmp_path / "run", verbose=0)
    ids = list(read_clusters(run / "clusters.csv")["id"])
    assert "gal_\\xff" in ids and len(ids) == 60
    assert main(["embed", str(run), "--out", str(tmp_path / "e.fits"), "--quiet"]) == 0


def _small_disk(path: Path, size: str):
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.slow
def test_a_full_disk_stops_with_one_line_and_keeps_the_last_checkpoint(
    tmp_path, cli_error, monkeypatch, tiny_config
):
    disk = tmp_path / "disk"
    if not _small_disk(disk, "700k"):
        # No permission to mount: inject the free space a full disk reports.
        import astrovader._io as io_module

        real = io_module.shutil.disk_usage
        monkeypatch.setattr(
            io_module.shutil, "disk_usage", lambda p: real(p)._replace(free=300_000)
        )
    try:
        run = disk / "run"
        line = cli_error(["fit", "--out", str(run), *tiny_config.sets()])
        assert "only" in line and "MB free, the checkpoint needs about" in line
        assert not (run / "model.keras").exists()
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, check=False)


@pytest.mark.slow
def test_the_disk_filling_up_mid_run_keeps_the_last_good_checkpoint(
    tmp_path, monkeypatch, tiny_config
):
    import astrovader._io as io_module

    real, calls = io_module.shutil.disk_usage, []

    def filling(path):
        calls.append(path)  # room for the first checkpoint only
        return real(path) if len(calls) == 1 else real(path)._replace(free=1000)

    monkeypatch.setattr(io_module.shutil, "disk_usage", filling)
    run = tmp_path / "run"
    with pytest.raises(AstrovaderError, match=r"checkpoints: only 0\.0 MB free"):
        fit_run(tiny_config(), run, verbose=0)
    monkeypatch.setattr(io_module.shutil, "disk_usage", real)
    assert (run / "checkpoints" / "last.weights.h5").exists()
    assert fit_run(None, run, resume=True, verbose=0) == run  # and resumes from it
    assert len(read_clusters(run / "clusters.csv")["id"]) == 60


def test_an_output_error_is_one_line_not_a_traceback(finished, tmp_path, cli_error, monkeypatch):
    import astrovader._io as io_module

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[-1]))

    monkeypatch.setattr(io_module.os, "replace", full)
    out = tmp_path / "g.fits"
    line = cli_error(["generate", str(finished), "--n", "3", "--out", str(out), "--quiet"])
    assert line.endswith(f"{out}: No space left on device")
    assert not list(tmp_path.iterdir())


def test_the_library_refuses_to_write_over_a_run(finished, tiny_config):
    with pytest.raises(AstrovaderError, match="already holds a run"):
        fit_run(tiny_config(), finished, verbose=0)
