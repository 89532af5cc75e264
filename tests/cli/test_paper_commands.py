"""``import-weights``, ``generate``, ``prepare`` and ``config`` on the command line."""

import tomllib

import h5py
import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from astrovader.cli import main

INI = "[embedding]\nlatents = 8\nclusters = 5\n[lr_settings]\nlr_steps = 3\nlr_decay = 0.97\n"


@pytest.fixture(scope="module")
def paper_model(paper_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("paper") / "paper.keras"
    assert (
        main(["import-weights", str(paper_dir / "astrovader_paper_weights.h5"), "--out", str(out)])
        == 0
    )
    return out


def test_import_weights_writes_a_loadable_model(paper_model, paper_dir, capsys):
    import astrovader

    model = astrovader.load_model(paper_model)
    with h5py.File(paper_dir / "astrovader_paper_weights.h5", "r") as h5:
        np.testing.assert_array_equal(model.mixture()["pi"], h5["latentGMM_Layer/theta_p:0"][()])
        np.testing.assert_array_equal(
            model.decoder.get_layer("Conv12").get_weights()[0], h5["Conv12/Conv12/kernel:0"][()]
        )
    assert model.predict_clusters(np.zeros((2, 128, 128, 1), np.float32)).shape == (2,)


def test_import_weights_errors(paper_dir, tmp_path, capsys):
    h5 = str(paper_dir / "astrovader_paper_weights.h5")
    assert main(["import-weights", h5, "--out", str(tmp_path / "m.h5")]) == 2
    assert "must end in .keras" in capsys.readouterr().err
    assert (
        main(["import-weights", str(tmp_path / "no.h5"), "--out", str(tmp_path / "m.keras")]) == 2
    )
    assert "no.h5: cannot read weights" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_python_generate_equals_the_command_for_the_same_seed(paper_model, tmp_path):
    import astrovader

    out = tmp_path / "same.fits"
    argv = ["generate", str(paper_model), "--n", "8", "--component", "4", "--seed", "11"]
    assert main([*argv, "--batch-size", "3", "--out", str(out), "--quiet"]) == 0
    images = astrovader.load_model(paper_model).generate(8, component=4, seed=11)
    np.testing.assert_allclose(fits.getdata(out), images[..., 0], atol=1e-5)
    other = astrovader.load_model(paper_model).generate(8, component=4, seed=12)
    assert np.abs(fits.getdata(out) - other[..., 0]).max() > 0.01


def test_generate_fits_from_the_published_model(paper_model, tmp_path, capsys):
    out = tmp_path / "gen.fits"
    argv = [
        "generate",
        str(paper_model),
        "--n",
        "3",
        "--component",
        "4",
        "--seed",
        "8",
        "--batch-size",
        "2",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    assert "3 synthetic galaxies from component 4 (seed 8)" in capsys.readouterr().out
    with fits.open(out) as hdus:
        assert hdus[0].data.shape == (3, 128, 128)
        header = hdus[0].header
        assert (header["MIXCOMP"], header["SEED"], header["MODEL"]) == (4, 8, str(paper_model))
        assert (header["NCLUST"], header["NLATENT"], header["IMGSIZE"]) == (12, 20, 128)
        assert header["COMMAND"].startswith("astrovader generate ")
        assert hdus["LATENTS"].data["z"].shape == (3, 20)
        assert 0.2 < hdus[0].data.max() <= 1.5


def test_generate_errors(paper_model, tmp_path, capsys):
    out = tmp_path / "gen.fits"
    assert (
        main(["generate", str(paper_model), "--n", "2", "--component", "12", "--out", str(out)])
        == 2
    )
    assert "component 12 is out of range" in capsys.readouterr().err
    assert main(["generate", str(tmp_path / "none.keras"), "--n", "2", "--out", str(out)]) == 2
    assert "none.keras: no such model file" in capsys.readouterr().err
    assert not out.exists()


def test_config_convert_and_show(tmp_path, capsys):
    old = tmp_path / "astrovader-config.txt"
    old.write_text(INI)
    assert main(["config", "convert", str(old), str(tmp_path / "new.toml")]) == 0
    data = tomllib.loads((tmp_path / "new.toml").read_text())
    assert data["model"]["latent_dim"] == 8 and data["model"]["n_clusters"] == 5
    assert data["optimizer"]["decay_every"] == 3
    capsys.readouterr()
    assert main(["config", "show", str(old), "--set", "model.n_clusters=6"]) == 0
    shown = tomllib.loads(capsys.readouterr().out)
    assert shown["model"]["n_clusters"] == 6 and shown["model"]["latent_dim"] == 8
    old.write_text("[embedding]\nlatent = 8\n")
    assert main(["config", "convert", str(old), str(tmp_path / "bad.toml")]) == 2
    assert "[embedding] latent: unknown key" in capsys.readouterr().err
    assert not (tmp_path / "bad.toml").exists()


def test_prepare_with_split_ids(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    rng = np.random.default_rng(0)
    for objid in (587722981742084144, 587722981742149749):
        pixels = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(raw / f"galaxy_{objid}.jpg")
    np.save(tmp_path / "ids.npy", np.array([587722981742149749], dtype=np.int64))
    argv = [
        "prepare",
        str(raw),
        str(tmp_path / "out"),
        "--grey",
        "--split-ids",
        str(tmp_path / "ids.npy"),
        "--workers",
        "1",
        "--quiet",
    ]
    assert main(argv) == 0
    assert "wrote 1 PNGs (128×128)" in capsys.readouterr().out
    with Image.open(tmp_path / "out" / "galaxy_587722981742149749.png") as png:
        assert (png.mode, png.size) == ("L", (128, 128))
    np.save(tmp_path / "bad.npy", np.array([1.5]))
    argv[5] = str(tmp_path / "bad.npy")
    assert main(argv) == 2
    assert "bad.npy: OBJIDs must be integers" in capsys.readouterr().err


@pytest.mark.slow
def test_fit_reads_the_published_format(tmp_path, capsys):
    data = tmp_path / "imgs"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(data / f"g{i}.png")
    old = tmp_path / "astrovader-config.txt"
    old.write_text(
        f"[directories]\ntrain_dir = {data}\nmodel_dir = SCRATCH/Models/\n"
        "[training]\nbatch_size = 4\ngmm_steps = 2\nwarm_up_steps = 1\nannealing_steps = 1\n"
        "static_steps = 1\nannealing_periods = 1\nGPUs = 2\n"
        "[dataset]\nside = 16\nb = 1\n[embedding]\nlatents = 3\nclusters = 2\n"
        "[loss_settings]\nwarm_up_factor = 1\nloss_type = mse\nscale_jank = 0.3\n"
    )
    out = tmp_path / "run"
    argv = [
        "fit",
        "--config",
        str(old),
        "--set",
        "model.filters=[4,4,2]",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    run = tomllib.loads((out / "config.toml").read_text())
    assert run["data"]["image_size"] == 16 and run["model"]["n_clusters"] == 2
    assert run["model"]["filters"] == [4, 4, 2] and run["loss"]["gamma"] == 1.0
    assert run["schedule"]["gamma_epochs"] == 1 and run["training"]["batch_size"] == 4
    old.write_text("[embedding]\nlatent = 3\n")
    assert main(["fit", "--config", str(old), "--out", str(tmp_path / "bad")]) == 2
    assert "[embedding] latent: unknown key" in capsys.readouterr().err


def test_prepare_packs_tfrecord_shards_that_fit_reads(tmp_path, capsys):
    from astrovader.config import Config
    from astrovader.data.pipelines.shards import read_manifest
    from astrovader.training.inputs import run_inputs

    raw = tmp_path / "raw"
    raw.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(raw / f"g{i}.png")
    argv = ["prepare", str(raw), str(tmp_path / "shards"), "--crop", "32", "--size", "16"]
    assert main([*argv, "--grey", "--format", "tfrecord", "--workers", "1", "--quiet"]) == 0
    assert "wrote 6 images in TFRecord shards (16×16)" in capsys.readouterr().out
    manifest = read_manifest(tmp_path / "shards")
    assert (manifest["count"], manifest["image_size"], manifest["bands"]) == (6, 16, 1)
    config = Config().replace(
        data={"path": str(tmp_path / "shards"), "image_size": 16, "validation_fraction": 0.0},
        training={"batch_size": 4},
    )
    inputs = run_inputs(config)
    assert inputs.n_train == 6 and sum(len(b) for b in inputs.train) == 6
    assert main([*argv, "--grey", "--format", "tfrecord", "--quiet"]) == 2
    assert "shards: exists and is not an empty directory" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--format", "hdf5"])
    assert stop.value.code == 2
