"""Streaming generation to FITS cubes and PNG folders."""

import csv
import os
import stat
import tomllib
import warnings

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from astrovader._version import __version__
from astrovader.errors import AstrovaderError


def small_model(bands=1):
    from astrovader.model.vade import AstroVaDEr

    model = AstroVaDEr(
        image_size=16, bands=bands, latent_dim=4, n_clusters=3, filters=(4, 4, 2), seed=0
    )
    mu = np.array([[0, 0, 0, 0], [5, 5, 0, 0], [-5, 0, 5, 0]], np.float32)
    var = np.array([[1, 1, 1, 1], [0.25, 0.25, 0.25, 0.25], [4, 4, 4, 4]], np.float32)
    model.prior.set_mixture(np.array([2.0, 1.0, 1.0]), mu, var=var)
    return model


@pytest.fixture(scope="module")
def grey_model():
    return small_model()


def test_fits_cube_headers_and_table(grey_model, tmp_path):
    from astrovader.inference.generate import generate_files

    out = tmp_path / "g.fits"
    seed = generate_files(
        grey_model, out, n=7, seed=11, batch_size=3, model_name="m.keras", progress=False
    )
    assert seed == 11
    [(z, comps)] = list(grey_model.iter_latents(7, None, seed=11, batch_size=7))
    with warnings.catch_warnings(), fits.open(out) as hdus:
        warnings.simplefilter("error")
        hdus.verify("exception")
        header, cube, table = hdus[0].header, hdus[0].data, hdus["LATENTS"].data
        assert cube.shape == (7, 16, 16) and cube.dtype == np.dtype(">f4")
        assert (header["MIXCOMP"], header["MODEL"], header["SEED"]) == (-1, "m.keras", 11)
        assert all(len(key) <= 8 for key in header) and "HIERARCH" not in repr(header)
        assert (header["NCLUST"], header["NLATENT"], header["AVVERS"]) == (3, 4, __version__)
        assert hdus["LATENTS"].columns.names == ["z", "component"]
        np.testing.assert_array_equal(table["z"], z)
        np.testing.assert_array_equal(table["component"], comps)
        np.testing.assert_array_equal(cube, grey_model.decode(z)[..., 0])
    assert not [p for p in tmp_path.iterdir() if p.name != "g.fits"]


def test_a_long_command_writes_no_verify_warning_and_the_readme_names_every_key(
    grey_model, tmp_path
):
    from pathlib import Path

    from astrovader.cli import build_parser
    from astrovader.inference.generate import generate_files

    command = "astrovader generate run --n 7 --seed 11 --out " + "/long/path" * 6 + "/g.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # astropy's VerifyWarning: "Card is too long"
        generate_files(
            grey_model, tmp_path / "g.fits", n=2, seed=1, progress=False, command=command
        )
    header = fits.getheader(tmp_path / "g.fits")
    assert header["COMMAND"] == command
    assert "COMMAND: command that wrote the file" in str(header["COMMENT"])
    structural = {"SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "EXTEND", "COMMENT"}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    generate_help = build_parser()._subparsers._group_actions[0].choices["generate"].description
    for key in set(header) - structural:
        assert key in readme and key in generate_help, key


def test_colour_cube_is_bands_first(tmp_path):
    from astrovader.inference.generate import generate_files

    model = small_model(bands=3)
    generate_files(model, tmp_path / "c.fits", n=4, component=1, seed=2, progress=False)
    with fits.open(tmp_path / "c.fits") as hdus:
        cube, table = hdus[0].data, hdus[1].data
        assert cube.shape == (4, 3, 16, 16)
        assert hdus[0].header["MIXCOMP"] == 1
        np.testing.assert_array_equal(table["component"], [1, 1, 1, 1])
        expected = model.decode(np.asarray(table["z"]))
        np.testing.assert_array_equal(cube, np.moveaxis(expected, -1, 1))


def test_same_seed_same_images_whatever_the_batch_size(grey_model, tmp_path):
    from astrovader.inference.generate import generate_files

    generate_files(grey_model, tmp_path / "a.fits", n=9, seed=5, batch_size=2, progress=False)
    generate_files(grey_model, tmp_path / "b.fits", n=9, seed=5, batch_size=9, progress=False)
    generate_files(grey_model, tmp_path / "c.fits", n=9, seed=6, batch_size=9, progress=False)
    a, b, c = (fits.getdata(tmp_path / f"{n}.fits") for n in "abc")
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_latents_follow_the_prior(grey_model):
    from astrovader.model.sampling import latent_batches

    parts = list(
        latent_batches(grey_model.mixture(), 20000, component=None, seed=0, batch_size=4096)
    )
    z, comps = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    np.testing.assert_allclose(np.bincount(comps) / len(comps), [0.5, 0.25, 0.25], atol=0.015)
    mix = grey_model.mixture()
    for c in range(3):
        np.testing.assert_allclose(z[comps == c].mean(axis=0), mix["mu"][c], atol=0.1)
        np.testing.assert_allclose(z[comps == c].var(axis=0), mix["var"][c], rtol=0.1)


def test_png_folder(grey_model, tmp_path):
    from astrovader.inference.generate import generate_files

    out = tmp_path / "pngs"
    generate_files(grey_model, out, n=5, component=2, seed=3, batch_size=2, progress=False)
    with open(out / "latents.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["file"] for r in rows] == [f"00000{i}.png" for i in range(5)]
    assert {r["component"] for r in rows} == {"2"}
    z = np.array([[float(r[f"z_{j}"]) for j in range(4)] for r in rows], np.float32)
    expected = np.floor(grey_model.decode(z)[..., 0] * 255 + 0.5).clip(0, 255)
    for row, image in zip(rows, expected, strict=True):
        with Image.open(out / row["file"]) as png:
            assert png.mode == "L"
            np.testing.assert_allclose(np.asarray(png), image, atol=1)
    meta = tomllib.loads((out / "generation.toml").read_text())
    assert meta == {"component": 2, "model": "", "seed": 3, "n": 5}
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask  # a folder like mkdir's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pngs"]  # no lock, no temporary


def test_bad_requests_write_nothing(grey_model, tmp_path):
    from astrovader.inference.generate import generate_files

    with pytest.raises(AstrovaderError, match=r"component 3 is out of range: the model has 3"):
        generate_files(grey_model, tmp_path / "x.fits", n=2, component=3, progress=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.txt").write_text("x")
    with pytest.raises(AstrovaderError, match=r"full: exists and is not an empty folder"):
        generate_files(grey_model, tmp_path / "full", n=2, progress=False)
    with pytest.raises(AstrovaderError, match=r"compressed FITS"):
        generate_files(grey_model, tmp_path / "x.fits.gz", n=2, progress=False)
    with pytest.raises(AstrovaderError, match=r"n \(0\) and batch_size"):
        generate_files(grey_model, tmp_path / "x.fits", n=0, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_the_band_order_of_per_band_files_is_in_the_fits_header(tmp_path):
    from astrovader.config.sections import CatalogConfig
    from astrovader.data.images.options import ReadOptions
    from astrovader.inference.generate import generate_files
    from astrovader.model.vade import AstroVaDEr

    catalog = CatalogConfig(path_column=("F606W_FILE", "F814W_FILE"))
    reading = ReadOptions(bands=2, size=16, catalog=catalog).saved()
    model = AstroVaDEr(
        image_size=16, bands=2, latent_dim=2, n_clusters=2, filters=(4, 4, 2), reading=reading
    )
    assert model.read_options().catalog.band_names == ("F606W_FILE", "F814W_FILE")
    generate_files(model, tmp_path / "g.fits", n=2, seed=0, progress=False)
    assert fits.getheader(tmp_path / "g.fits")["BANDS"] == "F606W_FILE F814W_FILE"
