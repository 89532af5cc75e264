"""``astrovader fit`` from the command line: bad input gives one line, exit 2, nothing written."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from astrovader.cli import main


def _good_pngs(folder, n=12):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(folder / f"g{i}.png")


TINY_SET = ["--set", "data.image_size=16", "--set", "model.n_clusters=2"]


def test_corrupt_image_names_the_file(tmp_path, cli_error):
    data = tmp_path / "imgs"
    _good_pngs(data)
    raw = (data / "g3.png").read_bytes()
    (data / "g3.png").write_bytes(raw[: len(raw) // 2])
    out = tmp_path / "run"
    err = cli_error(["fit", str(data), "--out", str(out), *TINY_SET])
    assert "g3.png" in err
    assert not out.exists()


def test_nan_pixels_name_the_file(tmp_path, cli_error):
    array = np.random.default_rng(0).random((10, 16, 16)).astype("float32")
    array[4, 3, 3] = np.nan
    np.save(tmp_path / "cutouts.npy", array)
    out = tmp_path / "run"
    err = cli_error(["fit", str(tmp_path / "cutouts.npy"), "--out", str(out), *TINY_SET])
    assert "cutouts.npy" in err and "NaN" in err
    assert not out.exists()


def test_empty_directory(tmp_path, cli_error):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "run"
    err = cli_error(["fit", str(tmp_path / "empty"), "--out", str(out)])
    assert "empty" in err
    assert not out.exists()


def test_missing_path(tmp_path, cli_error):
    err = cli_error(["fit", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")])
    assert "nowhere" in err


@pytest.mark.parametrize(
    ("text", "culprit"),
    [
        ("[model]\nlatent_dimension = 4\n", "model.latent_dimension"),
        ("[model]\nlatent_dim = 'four'\n", "model.latent_dim"),
        ("[data]\nimage_size = 30\n", "data.image_size"),
        ("[training]\nbatch_size = true\n", "training.batch_size"),
        ("[colours]\nred = 1\n", "colours"),
        ("[model\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path, cli_error, text, culprit):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    out = tmp_path / "run"
    err = cli_error(["fit", "--config", str(config), "--out", str(out)])
    assert culprit in err and "bad.toml" in err
    assert not out.exists()


def test_bad_override_names_the_key(tmp_path, cli_error):
    err = cli_error(["fit", "--set", "schedule.periods=-1", "--out", str(tmp_path / "r")])
    assert "schedule.periods" in err
    err = cli_error(["fit", "--set", "optimiser.lr=1", "--out", str(tmp_path / "r")])
    assert "optimiser" in err


def test_refuses_to_overwrite_a_run(tmp_path, cli_error):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text("[data]\n")
    err = cli_error(["fit", "--out", str(run)])
    assert "--overwrite" in err
    assert (run / "config.toml").read_text() == "[data]\n"


def test_resume_without_checkpoint(tmp_path, cli_error):
    err = cli_error(["fit", "--resume", str(tmp_path)])
    assert f"{tmp_path}: no run to resume (no config.toml)" in err


def test_installed_command_reports_bad_input(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[loss]\nminmax_lambda = -3\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "astrovader",
            "fit",
            "--config",
            str(config),
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith('must be positive (at most 10,000) or "none"')
    )
    assert "loss.minmax_lambda" in result.stderr


@pytest.mark.slow
def test_fit_and_resume_from_the_command_line(tmp_path, capsys):
    data = tmp_path / "imgs"
    _good_pngs(data, 30)
    out = tmp_path / "run"
    argv = [
        "fit",
        str(data),
        "--out",
        str(out),
        "--quiet",
        *TINY_SET,
        "--set",
        "model.latent_dim=3",
        "--set",
        "model.filters=[4,4,4]",
        "--set",
        "schedule.gamma_epochs=2",
        "--set",
        "schedule.anneal_epochs=1",
        "--set",
        "schedule.static_epochs=1",
        "--set",
        "schedule.periods=1",
        "--set",
        "training.batch_size=10",
        "--set",
        "data.validation_fraction=0.2",
    ]
    assert main(argv) == 0
    lines = (out / "clusters.csv").read_text().splitlines()
    assert lines[0] == "id,cluster,p_0,p_1,z_0,z_1,z_2,log_likelihood,anomaly_score"
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(f"g{i}" for i in range(30))
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 4
    files = sorted(p for p in out.rglob("*") if p.is_file())
    stamps = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    capsys.readouterr()
    assert main(["fit", "--resume", str(out), "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "the run is finished (4 of 4 epochs); nothing to resume and nothing changed" in said
    assert sorted(p for p in out.rglob("*") if p.is_file()) == files
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == stamps


def test_a_small_catalogue_names_every_key_too_large_at_once(tmp_path, cli_error, shared_dir):
    catalogue = shared_dir / "data" / "hst_aegis" / "AEGIS_F606w_catalog.fits"
    line = cli_error(["fit", str(catalogue), "--out", str(tmp_path / "run")])
    assert line == (
        "astrovader fit: error: 5 images (5 for training) are too few for "
        "model.n_clusters = 12 (set model.n_clusters ≤ 5); "
        "training.batch_size = 180 (set training.batch_size ≤ 5)"
    )
    assert not (tmp_path / "run").exists()
    data = tmp_path / "imgs"
    _good_pngs(data, 12)
    line = cli_error(
        ["fit", str(data), "--out", str(tmp_path / "r2"), *TINY_SET, "--set",
         "training.batch_size=12", "--set", "data.validation_fraction=0.25"]
    )  # fmt: skip
    assert line.endswith(
        "12 images (9 for training) are too few for training.batch_size = 12 (set "
        "training.batch_size ≤ 9), or data.validation_fraction = 0 to train on all 12"
    )


def test_the_quickstart_preset_adapts_to_a_small_sample(warned):
    from astrovader.cli.fit import quickstart_preset
    from astrovader.config import load_config
    from astrovader.data.images.imageset import ImageSet
    from astrovader.data.sources import fit_to_images
    from astrovader.errors import ConfigError

    def sample(n):
        return ImageSet(tuple(map(str, range(n))), np.zeros((n, 32, 32, 1), np.float32))

    preset = load_config(quickstart_preset())
    assert (preset.training.batch_size, preset.model.n_clusters) == (64, 5)
    with warned() as said:
        fitted = fit_to_images(preset.replace(data={"validation_fraction": 0.2}), sample(6), True)
    assert fitted.training.batch_size == 6 and fitted.data.validation_fraction == 0.0
    said = said.text
    assert "data.validation_fraction = 0.2 would leave 5 of 6 images for training" in said
    assert "training.batch_size = 64 lowered to the 6 images" in said
    assert fit_to_images(preset, sample(500), True) == preset  # large enough: unchanged
    with pytest.raises(ConfigError, match=r"set training.batch_size ≤ 6"):
        fit_to_images(preset, sample(6), False)  # without the preset: refused, not adapted
    with pytest.raises(ConfigError, match=r"3 images \(3 for training\).*n_clusters ≤ 3"):
        fit_to_images(preset, sample(3), True)  # K is science: never lowered silently
