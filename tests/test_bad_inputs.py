"""Every bad input of issue 7 through ``astrovader fit``: one line naming the culprit, exit 2,
nothing written (and an existing run untouched byte for byte).

The inputs that are not errors (non-image files, a colour image when grey is wanted, NaN
pixels under ``data.nan_pixels = "zero"``) are trained on once, in the ``finished_run``
fixture (a 3-epoch run, about 30 s on 2 CPU cores), whose run directory then serves as the
run that must not be overwritten. The incompatible model files are edited copies of an
untrained model saved by ``model_file``.
"""

import contextlib
import io
import json
import os
import struct
import zipfile
import zlib

import h5py
import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from astrovader.cli import main
from astrovader.data.images.readers import load_images, read_image
from astrovader.errors import AstrovaderError

RNG = np.random.default_rng(11)


def _grey(folder, n=12, prefix="g"):
    folder.mkdir(exist_ok=True)
    for i in range(n):
        pixels = RNG.integers(0, 256, (16, 16), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{prefix}{i:02d}.png")
    return folder


def _snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _png_header_only(width, height):
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="session")
def short(tiny_config):
    """``--set`` options of a short run on 12 stamps of 16 px (3 for validation, batch 4)."""
    return [
        "--quiet",
        *tiny_config.sets(
            data={"validation_fraction": 0.2},
            schedule={"static_epochs": 1},
            training={"batch_size": 4},
        ),
    ]


@pytest.fixture
def fit_fails(tmp_path, cli_error, tiny_config):
    """``fit_fails(data, *options)``: fit refuses ``data`` in one line and creates no run."""

    def run(data, *extra):
        out = tmp_path / "run"
        line = cli_error(["fit", str(data), "--out", str(out), *tiny_config.sets(), *extra])
        assert not out.exists()
        return line

    return run


NAN_FITS = np.linspace(0.0, 5.0, 256).reshape(16, 16)
NAN_FITS[2, 3], NAN_FITS[7, 7], NAN_FITS[9, 1] = np.nan, np.inf, -np.inf


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, tiny_config):
    """A compatible .keras file: an untrained tiny model, as a run would save it."""
    from astrovader.model.vade import AstroVaDEr

    path = tmp_path_factory.mktemp("model") / "model.keras"
    AstroVaDEr.from_settings(tiny_config()).save(path)
    return path


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, short):
    """A finished run on a folder with colour PNGs, NaN FITS pixels and a non-image file."""
    root = tmp_path_factory.mktemp("bad_inputs")
    data = _grey(root / "data", 10)
    for i in range(2):
        colour = RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(colour).save(data / f"colour{i}.png")
    fits.writeto(data / "holes.fits", NAN_FITS)
    (data / "notes.txt").write_text("observing log\n")
    run = root / "run"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(
            ["fit", str(data), "--out", str(run), *short, "--set", 'data.nan_pixels="zero"']
        )
    assert status == 0, err.getvalue()
    return data, run, err.getvalue()


# --- image files ---------------------------------------------------------------------------


def test_corrupt_png(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    (data / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(RNG.integers(0, 256, 64)))
    line = fit_fails(data)
    assert "broken.png: corrupt" in line


def test_truncated_png(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    whole = (data / "g05.png").read_bytes()
    (data / "g05.png").write_bytes(whole[: len(whole) * 2 // 3])
    line = fit_fails(data)
    assert "g05.png: corrupt or truncated" in line


def test_truncated_jpeg(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    Image.fromarray(RNG.integers(0, 256, (16, 16), dtype=np.uint8)).save(data / "cut.jpg")
    whole = (data / "cut.jpg").read_bytes()
    (data / "cut.jpg").write_bytes(whole[: len(whole) - 40])
    line = fit_fails(data)
    assert "cut.jpg: corrupt or truncated image (image file is truncated" in line


def test_fits_without_image_hdu_is_refused_alone_and_strictly(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    table = fits.BinTableHDU.from_columns([fits.Column(name="flux", format="E", array=[1.0])])
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(), table]).writeto(tmp_path / "table.fits")
    (data / "table.fits").write_bytes((tmp_path / "table.fits").read_bytes())
    line = fit_fails(data / "table.fits")
    assert f"{data / 'table.fits'}: no path column (looked for path, file" in line
    line = fit_fails(data, "--set", "data.strict=true")
    assert "table.fits: not an image file, and strict checking refuses" in line


def test_fits_with_nan_and_inf_pixels(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    fits.writeto(data / "holes.fits", NAN_FITS)
    line = fit_fails(data)
    assert "holes.fits: image has 3 NaN or infinite pixel(s)" in line
    assert 'data.nan_pixels = "zero"' in line


@pytest.mark.slow
def test_nan_pixels_zero_trains_and_reports_the_count(finished_run, minmax):
    data, run, err = finished_run
    reports = [line for line in err.splitlines() if "NaN" in line]
    assert reports == [
        f"astrovader fit: warning: {data}: replaced 3 NaN or infinite pixel(s) by 0 "
        '(data.nan_pixels = "zero")'
    ]
    ids = [line.split(",")[0] for line in (run / "clusters.csv").read_text().splitlines()[1:]]
    assert "holes" in ids and len(ids) == 13
    got = read_image(data / "holes.fits", 1, size=16, nan_pixels="zero", scaling=minmax)[..., 0]
    finite = np.isfinite(NAN_FITS)
    low, high = NAN_FITS[finite].min(), NAN_FITS[finite].max()
    expected = np.where(finite, (NAN_FITS - low) / (high - low), 0.0)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_zero_byte_image(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    (data / "nothing.png").write_bytes(b"")
    line = fit_fails(data)
    assert "nothing.png: empty file" in line


@pytest.mark.parametrize("name", ["flat.png", "flat.fits"])
def test_zero_width_image(tmp_path, name, fit_fails):
    data = _grey(tmp_path / "data")
    if name.endswith(".png"):
        (data / name).write_bytes(_png_header_only(width=0, height=7))
    else:
        fits.writeto(data / name, np.zeros((7, 0)))
    line = fit_fails(data)
    assert f"{name}: image has zero size (7×0)" in line


# --- folders and paths ---------------------------------------------------------------------


@pytest.mark.slow
def test_non_image_files_are_skipped_and_counted(finished_run):
    data, run, err = finished_run
    reports = [line for line in err.splitlines() if "non-image" in line]
    assert reports == [
        f"astrovader fit: warning: {data}: skipped 1 non-image file(s) "
        "(data.strict = true makes them an error)"
    ]
    assert (run / "model.keras").is_file()


def test_non_image_files_are_an_error_when_strict(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    (data / "b_notes.txt").write_text("x")
    (data / "a_labels.csv").write_text("id\n")
    line = fit_fails(data, "--set", "data.strict=true")
    assert f"{data / 'a_labels.csv'}: not an image file" in line and "(2 found)" in line


@pytest.mark.slow
def test_colour_image_is_averaged_when_grey_is_wanted(finished_run):
    data, run, _ = finished_run
    ids = [line.split(",")[0] for line in (run / "clusters.csv").read_text().splitlines()[1:]]
    assert {"colour0", "colour1"} <= set(ids)
    rgb = np.asarray(Image.open(data / "colour0.png"), dtype=np.float64)
    grey = load_images(data / "colour0.png", bands=1, size=16, progress=False).images[0, ..., 0]
    np.testing.assert_allclose(grey, rgb.mean(axis=2) / 255, atol=1e-6)


def test_grey_image_when_colour_is_wanted(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    line = fit_fails(data, "--set", "data.bands=3")
    assert "g00.png: image has 1 band(s) but 3 are wanted" in line


def test_empty_directory(tmp_path, fit_fails):
    (tmp_path / "void").mkdir()
    line = fit_fails(tmp_path / "void")
    assert f"{tmp_path / 'void'}: no images found (0 other file(s) skipped)" in line


def test_missing_path(tmp_path, fit_fails):
    line = fit_fails(tmp_path / "nowhere")
    assert f"{tmp_path / 'nowhere'}: no such file or directory" in line


def test_unreadable_image_file(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    (data / "g03.png").chmod(0)
    if os.access(data / "g03.png", os.R_OK):
        pytest.skip("chmod 000 does not stop this user (root) from reading")
    line = fit_fails(data)
    assert "g03.png: cannot read file (Permission denied)" in line


def test_unreadable_data_folder(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    locked = _grey(data / "locked", 2, prefix="l")
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        pytest.skip("chmod 000 does not stop this user (root) from listing a folder")
    line = fit_fails(data)
    assert f"{locked}: cannot read folder (Permission denied)" in line


def test_broken_link_in_the_data_folder(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    os.symlink(tmp_path / "gone.png", data / "ghost.png")
    line = fit_fails(data)
    assert "ghost.png: cannot read image (broken symbolic link)" in line


def test_folder_where_a_config_file_is_expected(tmp_path, cli_error):
    out = tmp_path / "run"
    line = cli_error(["fit", "--config", str(tmp_path), "--out", str(out)])
    assert f"{tmp_path}: cannot read config (Is a directory)" in line
    assert not out.exists()


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("model.n_cluster=2", "unknown config key model.n_cluster"),
        ("model.n_clusters=two", "model.n_clusters = 'two' is not allowed: must be an integer"),
        ("model.n_clusters=2.5", "model.n_clusters: expected int or str, got 2.5"),
        ("data.strict=1", "data.strict: expected bool, got 1"),
        ("data.image_size=20", "data.image_size = 20 is not allowed: must be a positive multiple"),
        ("schedule.gamma_epochs=-1", "schedule.gamma_epochs = -1 is not allowed"),
        ("data.nan_pixels=drop", "data.nan_pixels = 'drop' is not allowed"),
    ],
)
def test_bad_setting(tmp_path, setting, message, fit_fails):
    data = _grey(tmp_path / "data")
    line = fit_fails(data, "--set", setting)
    assert message in line


def test_bad_config_file(tmp_path, fit_fails):
    config = tmp_path / "bad.toml"
    config.write_text("[schedule]\nperiods = -5\n")
    data = _grey(tmp_path / "data")
    line = fit_fails(data, "--config", str(config))
    assert f"{config}: schedule.periods = -5 is not allowed" in line


def test_more_clusters_than_images(tmp_path, fit_fails):
    data = _grey(tmp_path / "data")
    line = fit_fails(data, "--set", "model.n_clusters=50")
    assert "12 images (12 for training) are too few for model.n_clusters = 50 (set" in line


# --- model files and existing runs ---------------------------------------------------------


def _edited(source, target, name, edit):
    """Copy a .keras archive, passing one member's JSON through ``edit``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for member in old.namelist():
            payload = old.read(member)
            if member == name:
                content = json.loads(payload)
                edit(content)
                payload = json.dumps(content).encode()
            new.writestr(member, payload)
    return target


def _bad_model(kind, source, folder):
    target = folder / f"{kind}.keras"
    if kind == "truncated":
        whole = source.read_bytes()
        target.write_bytes(whole[: len(whole) // 2])
    elif kind == "not_zip":
        target.write_text("a model, honestly")
    elif kind == "keras2_hdf5":
        with h5py.File(target, "w") as handle:
            handle["model_weights"] = np.zeros(3)
    elif kind == "keras2_metadata":
        _edited(source, target, "metadata.json", lambda m: m.update(keras_version="2.3.1"))
    elif kind == "unknown_class":
        rename = {"class_name": "AstroVaDEr2", "registered_name": "astrovader>AstroVaDEr2"}
        _edited(source, target, "config.json", lambda c: c.update(rename))
    elif kind == "astrovader_major":
        _edited(
            source, target, "config.json", lambda c: c["config"].update(astrovader_version="7.0.0")
        )
    elif kind == "unknown_option":
        _edited(source, target, "config.json", lambda c: c["config"].update(wings=2))
    elif kind == "wrong_shape":
        _edited(source, target, "config.json", lambda c: c["config"].update(n_clusters=3))
    return target


MODEL_ERRORS = {
    "truncated": "not a .keras model (not a complete zip archive)",
    "not_zip": "not a .keras model (not a complete zip archive)",
    "keras2_hdf5": "an HDF5 (Keras 2) file, not a .keras model",
    "keras2_metadata": "saved by Keras 2.3.1, which this Keras",
    "unknown_class": "holds a 'astrovader>AstroVaDEr2' model, not an AstroVaDEr model",
    "astrovader_major": "saved by astrovader 7.0.0, incompatible with this astrovader",
    "unknown_option": "cannot load the model (Unrecognized keyword arguments",
    "wrong_shape": "cannot load the model (",
}


@pytest.mark.parametrize("kind", list(MODEL_ERRORS))
def test_incompatible_model_file(model_file, tmp_path, kind):
    from astrovader.model.loading import load_model

    path = _bad_model(kind, model_file, tmp_path)
    with pytest.raises(AstrovaderError) as caught:
        load_model(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {MODEL_ERRORS[kind]}")
    assert "\n" not in message


def test_model_file_loads_when_compatible(model_file, tmp_path):
    from astrovader.model.loading import load_model
    from astrovader.model.vade import AstroVaDEr

    model = load_model(model_file)
    assert isinstance(model, AstroVaDEr)
    assert (model.n_clusters, model.latent_dim, model.image_size) == (2, 2, 16)
    for kind in ("missing", "folder"):
        path = tmp_path / kind
        if kind == "folder":
            path.mkdir()
        reason = "it is a directory" if kind == "folder" else "no such file"
        with pytest.raises(AstrovaderError, match=rf"^{path}: cannot load the model \({reason}\)$"):
            load_model(path)


@pytest.mark.parametrize("kind", ["truncated", "unknown_class", "astrovader_major"])
def test_incompatible_model_file_from_the_command_line(model_file, tmp_path, cli_error, kind):
    data = _grey(tmp_path / "data")
    path = _bad_model(kind, model_file, tmp_path)
    out = tmp_path / "k"
    line = cli_error(["pick-k", str(path), str(data), "--out", str(out)])
    assert f"{path}: " in line
    assert not out.exists()


@pytest.mark.slow
def test_run_directory_holding_a_finished_run_is_untouched(finished_run, cli_error, short):
    data, run, _ = finished_run
    before = _snapshot(run)
    assert {"config.toml", "model.keras", "history.csv", "clusters.csv"} <= set(before)
    line = cli_error(["fit", str(data), "--out", str(run), *short])
    assert f"{run}: already holds a run" in line and "--overwrite" in line
    assert _snapshot(run) == before
