"""Hypothesis property tests: the config parser and the image readers let no exception out
but the project's own, with a one-line message naming the culprit, and every successful
read is float32 in [0, 1] with the requested shape.
"""

import gzip
import io
import string
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from astropy.io import fits
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from astrovader.config import Config, load_config, to_dict
from astrovader.data.images.readers import load_images, read_image
from astrovader.errors import ConfigError, InputError

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _one_line_naming(error: Exception, culprit) -> None:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    assert str(culprit) in text, text


def _check_images(imageset, bands, size):
    images = imageset.images
    assert images.dtype == np.float32
    assert images.shape == (len(imageset.ids), size, size, bands)
    assert np.isfinite(images).all() and images.min() >= 0.0 and images.max() <= 1.0


# --- configuration -------------------------------------------------------------------------

KNOWN = [(section, key) for section, keys in to_dict(Config()).items() for key in keys]
NAMES = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)
SCALARS = (
    st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.text(max_size=10)
    | st.sampled_from(["none", "mse", "bce", "zero", "error", "auto", "on"])
    | st.datetimes()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=8,
)
SECTION_NAMES = st.sampled_from([s for s, _ in KNOWN]) | NAMES
KEY = st.sampled_from(KNOWN) | st.tuples(SECTION_NAMES, NAMES)
TABLES = st.dictionaries(
    st.sampled_from([s for s, _ in KNOWN]) | NAMES,
    st.dictionaries(st.sampled_from([k for _, k in KNOWN]) | NAMES, VALUES, max_size=4) | SCALARS,
    max_size=4,
)


def _load(work: Path, content: str | bytes, overrides=()):
    """load_config on a file; an accepted configuration must survive a TOML round trip."""
    path = work / "fuzz.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    try:
        config = load_config(path, overrides)
    except ConfigError as error:
        assert "\n" not in str(error)
        return None
    assert isinstance(config, Config)
    config.save(work / "again.toml")
    assert load_config(work / "again.toml") == config
    return config


@FUZZ
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_config_file_of_random_text(work, content):
    _load(work, content)


@FUZZ
@given(TABLES)
def test_config_file_of_random_tables(work, tables):
    try:
        text = tomli_w.dumps(tables)
    except (TypeError, ValueError):
        assume(False)
    _load(work, text)


@FUZZ
@given(st.lists(st.tuples(KEY, VALUES | st.text(max_size=20)), max_size=4), st.data())
def test_random_overrides(work, pairs, data):
    overrides = []
    for (section, key), value in pairs:
        try:
            raw = tomli_w.dumps({"v": value})[4:].strip()
        except (TypeError, ValueError):
            raw = str(value)
        overrides.append(data.draw(st.sampled_from([f"{section}.{key}={raw}", raw, key])))
    _load(work, "", overrides)


@FUZZ
@given(st.lists(st.text(max_size=40), max_size=3))
def test_random_override_strings(work, overrides):
    _load(work, "[model]\nn_clusters = 4\n", overrides)


DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize("where", ["file", "override"])
def test_deeply_nested_toml(work, where):
    path = work / "deep.toml"
    path.write_text(f"[model]\nfilters = {DEEP}\n")
    with pytest.raises(ConfigError, match=r"model\.filters|deep\.toml"):
        if where == "file":
            load_config(path)
        else:
            load_config(overrides=[f"model.filters={DEEP}"])


@pytest.mark.parametrize("key", ["optimizer.learning_rate", "loss.gamma", "model.l2"])
def test_infinite_floats_are_impossible_values(key):
    with pytest.raises(ConfigError, match=key):
        load_config(overrides=[f"{key}=inf"])


@pytest.mark.parametrize(
    ("text", "overrides"),
    [("", ["[\n0].x=1"]), ('[data]\n"a\\nb" = 1\n', [])],
    ids=["override", "file"],
)
def test_names_with_newlines_give_one_line_errors(work, text, overrides):
    path = work / "newline.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides)
    assert "\n" not in str(caught.value)


# --- image files ---------------------------------------------------------------------------


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _fits_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    fits.PrimaryHDU(array).writeto(buffer)
    return buffer.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


_PIXELS = np.random.default_rng(3).integers(0, 256, (12, 10, 3), dtype=np.uint8)
TEMPLATES = {
    ".png": _encoded(Image.fromarray(_PIXELS), "PNG"),
    ".jpg": _encoded(Image.fromarray(_PIXELS[..., 0]), "JPEG"),
    ".fits": _fits_bytes(_PIXELS[..., 0].astype(np.float32)),
    ".fits.gz": gzip.compress(_fits_bytes(_PIXELS.transpose(2, 0, 1).astype(np.int16))),
    ".npy": _npy_bytes(_PIXELS[None]),
}


def _png(width, height, depth, colour_type, interlace, payload) -> bytes:
    """A PNG with valid chunk checksums around any header values and pixel payload."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, interlace)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(payload))
        + chunk(b"IEND", b"")
    )


_ROWS = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in _PIXELS.astype(np.uint16) * 257)
# 16-bit colour: decoded by astrovader's own PNG reader, not by Pillow.
TEMPLATES[".16.png"] = _png(10, 12, 16, 2, 0, _ROWS)
MAGIC = {
    ".png": b"\x89PNG\r\n\x1a\n",
    ".jpg": b"\xff\xd8\xff",
    ".fits": b"SIMPLE  =                    T",
    ".fits.gz": b"\x1f\x8b\x08",
    ".npy": b"\x93NUMPY\x01\x00",
}
SUFFIXES = st.sampled_from(list(MAGIC))
BANDS_SIZE = st.tuples(st.sampled_from([1, 3]), st.integers(1, 20))
NAN_MODE = st.sampled_from(["error", "zero"])


def _read_any(work, content, suffix, bands, size, nan, folder):
    """Write ``content`` and read it as one file or inside a folder; check what comes back."""
    target = Path(tempfile.mkdtemp(dir=work))
    path = target / f"x{suffix.replace('.16', '')}"
    path.write_bytes(content)
    if folder:
        Image.fromarray(_PIXELS).save(target / "good.png")
    try:
        imageset = load_images(
            target if folder else path, bands, size=size, progress=False, nan_pixels=nan
        )
    except InputError as error:
        _one_line_naming(error, path)
        return None
    _check_images(imageset, bands, size)
    return imageset


@FUZZ
@given(SUFFIXES, st.booleans(), st.binary(max_size=600), BANDS_SIZE, NAN_MODE, st.booleans())
def test_random_bytes(work, suffix, magic, content, bands_size, nan, folder):
    prefix = MAGIC[suffix] if magic else b""
    _read_any(work, prefix + content, suffix, *bands_size, nan, folder)


@FUZZ
@given(
    st.sampled_from(list(TEMPLATES)),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=6),
    st.floats(0, 1),
    BANDS_SIZE,
    NAN_MODE,
    st.booleans(),
)
def test_mutated_valid_files(work, suffix, edits, keep, bands_size, nan, folder):
    content = bytearray(TEMPLATES[suffix])
    for where, value in edits:
        content[int(where * len(content))] = value
    content = bytes(content[: max(1, round(keep * len(content)))])
    _read_any(work, content, suffix, *bands_size, nan, folder)


def test_templates_are_valid(work):
    for suffix in TEMPLATES:
        imageset = _read_any(work, TEMPLATES[suffix], suffix, 1, 8, "error", folder=False)
        assert imageset is not None, suffix


@FUZZ
@given(
    st.integers(0, 20),
    st.integers(0, 20),
    st.sampled_from([8, 16]),
    st.sampled_from([0, 2, 4, 6]),
    st.sampled_from([0, 0, 0, 1]),
    st.binary(max_size=2000),
    BANDS_SIZE,
)
def test_png_headers_and_pixel_payloads(work, width, height, depth, ctype, interlace, raw, bs):
    _read_any(work, _png(width, height, depth, ctype, interlace, raw), ".png", *bs, "error", False)


DTYPES = st.sampled_from(
    ["uint8", "uint16", ">u2", "int8", "int32", "float16", "float32", ">f8", "bool", "complex64"]
)


@FUZZ
@given(
    hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=6)),
    BANDS_SIZE,
    NAN_MODE,
)
def test_random_npy_arrays(work, array, bands_size, nan):
    imageset = _read_any(work, _npy_bytes(array), ".npy", *bands_size, nan, folder=False)
    bands, size = bands_size
    same = array.ndim in (3, 4) and array.shape[1:3] == (size, size)
    if imageset is not None and same and array.dtype == np.uint8:
        if array.ndim == 3 or array.shape[3] == bands:
            np.testing.assert_array_equal(imageset.images.reshape(array.shape), array / 255)


PIXEL_SHAPES = st.tuples(
    st.integers(1, 4), st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3])
)
PIXEL_ARRAYS = (
    hnp.arrays("uint8", PIXEL_SHAPES)
    | hnp.arrays("uint16", PIXEL_SHAPES)
    | hnp.arrays("float32", PIXEL_SHAPES, elements=st.floats(0, 1, width=32) | st.just(np.nan))
)


@FUZZ
@given(PIXEL_ARRAYS, BANDS_SIZE, NAN_MODE)
def test_npy_arrays_of_pixels(work, array, bands_size, nan):
    bands, size = bands_size
    imageset = _read_any(work, _npy_bytes(array), ".npy", bands, size, nan, folder=False)
    has_nan = array.dtype.kind == "f" and np.isnan(array).any()
    expect_error = (bands == 3 and array.shape[3] != 3) or (has_nan and nan == "error")
    assert (imageset is None) == expect_error


PNG_MODES = ["L", "LA", "RGB", "RGBA", "P", "1", "I;16"]
JPEG_MODES = ["L", "RGB", "CMYK"]
COLOUR = {"RGB", "RGBA", "P", "CMYK"}


@FUZZ
@given(
    st.sampled_from([(".png", m) for m in PNG_MODES] + [(".jpg", m) for m in JPEG_MODES]),
    st.integers(1, 40),
    st.integers(1, 40),
    BANDS_SIZE,
    st.integers(0, 2**32 - 1),
)
def test_valid_images_of_random_size_and_mode(work, kind, height, width, bands_size, seed):
    suffix, mode = kind
    bands, size = bands_size
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    else:
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        image = Image.fromarray(pixels).convert(mode)
    path = work / f"valid{suffix}"
    image.save(path)
    if bands == 3 and mode not in COLOUR:
        with pytest.raises(InputError, match=r"1 band\(s\) but 3 are wanted"):
            read_image(path, bands, size=size)
        return
    got = read_image(path, bands, size=size)
    assert got.dtype == np.float32 and got.shape == (size, size, bands)
    assert got.min() >= 0.0 and got.max() <= 1.0


@FUZZ
@given(
    hnp.arrays(
        st.sampled_from(["int16", "float32", ">f8"]),
        st.sampled_from([1, 3]).flatmap(
            lambda b: st.tuples(st.just(b), st.integers(1, 12), st.integers(1, 12))
        )
        | st.tuples(st.integers(1, 12), st.integers(1, 12)),
    ),
    BANDS_SIZE,
    NAN_MODE,
)
def test_fits_of_random_shape_and_values(work, array, bands_size, nan):
    from astrovader.data.images.fits import band_axis

    bands, size = bands_size
    axis = band_axis(array.shape, "auto") if array.ndim == 3 else -2
    have = array.shape[axis] if array.ndim == 3 and axis >= 0 else 1
    path = work / "random.fits"
    fits.PrimaryHDU(array).writeto(path, overwrite=True)
    bad = int(np.count_nonzero(~np.isfinite(array.astype(np.float64))))
    try:
        imageset = load_images(path, bands, size=size, progress=False, nan_pixels=nan)
    except InputError as error:
        _one_line_naming(error, path)
        ambiguous = axis == -1 and "cannot tell the band axis" in str(error)
        assert ambiguous or (bands == 3 and have != 3) or (bad and nan == "error"), str(error)
        return
    _check_images(imageset, bands, size)
    assert imageset.replaced == bad


# --- the command line ----------------------------------------------------------------------

CLI_FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=False,  # new examples on every run, as the command line meets new files
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@CLI_FUZZ
@given(
    st.sampled_from(list(TEMPLATES)),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=6),
    st.floats(0, 1),
    st.sampled_from([16, 100, 10**6]),
    st.booleans(),
)
def test_the_prepare_command_on_mutated_files(capsys, suffix, edits, keep, limit, grey):
    """``astrovader prepare`` (framework-free) on damaged files of every kind, and images
    beyond a pixel limit: exit 0, or 2 with one error line and nothing written."""
    from astrovader.cli import main

    content = bytearray(TEMPLATES[suffix])
    for where, value in edits:
        content[int(where * len(content))] = value
    content = bytes(content[: max(1, round(keep * len(content)))])
    root = Path(tempfile.mkdtemp())
    (root / "raw").mkdir()
    (root / "raw" / f"x{suffix.replace('.16', '')}").write_bytes(content)
    Image.fromarray(_PIXELS).save(root / "raw" / "good.png")
    argv = ["prepare", str(root / "raw"), str(root / "out"), "--crop", "8", "--size", "8"]
    options = ["--workers", "1", "--quiet", "--max-pixels", str(limit)]
    status = main([*argv, *options, *(["--grey"] if grey else [])])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if limit < 120:  # the 10×12 good image is over the limit (unless the damaged file fails first)
        over = f"good.png: 10×12 pixels exceed data.max_pixels = {limit}" in err
        assert status == 2 and (over or f"{root / 'raw' / 'x'}." in err), err
    if status == 2:
        assert len([line for line in err.splitlines() if "error:" in line]) == 1, err
    else:
        assert status == 0, err
        assert (root / "out" / "good.png").is_file()
