"""The paper's preprocessing against a direct NumPy computation."""

import numpy as np
import pytest
from PIL import Image

from astrovader.data.prepare import PrepareOptions, objid_of, prepare_directory, prepare_pixels
from astrovader.errors import InputError

IDS = (587722981742084144, 587722981742149749, 588848899908370674)


def pillow_bilinear_weights(n_in, n_out):
    """Pillow's antialiased bilinear (triangle) resampling weights, (n_out, n_in)."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    weights = np.zeros((n_out, n_in))
    for i in range(n_out):
        centre = (i + 0.5) * scale
        low = max(int(centre - support + 0.5), 0)
        high = min(int(centre + support + 0.5), n_in)
        j = np.arange(low, high)
        w = np.clip(1 - np.abs((j - centre + 0.5) / support), 0, None)
        weights[i, low:high] = w / w.sum()
    return weights


def expected_png(pixels, grey=True):
    """Centre crop 32:224, band mean, resize 192 → 128 (float32 between the passes), round."""
    crop = pixels[32:224, 32:224].astype(np.float64)
    bands = [crop.mean(axis=2)] if grey else [crop[..., k] for k in range(3)]
    weights = pillow_bilinear_weights(192, 128)
    out = []
    for band in bands:
        band = band.astype(np.float32).astype(np.float64)
        across = (band @ weights.T).astype(np.float32).astype(np.float64)
        out.append((weights @ across).astype(np.float32))
    result = np.clip(np.floor(np.stack(out, axis=-1) + 0.5), 0, 255).astype(np.uint8)
    return result[..., 0] if grey else result


def galaxy(seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:256, :256]
    profile = 220 * np.exp(-((yy - 128) ** 2 / 900 + (xx - 120) ** 2 / 300))
    bands = [profile * f + rng.normal(0, 8, profile.shape) for f in (0.8, 1.0, 0.6)]
    return np.clip(np.stack(bands, axis=-1) + 20, 0, 255).astype(np.uint8)


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "raw"
    (folder / "sub").mkdir(parents=True)
    for k, objid in enumerate(IDS):
        target = folder / ("sub" if k == 2 else "") / f"galaxy_{objid}.jpg"
        Image.fromarray(galaxy(k)).save(target, quality=85)
    Image.fromarray(galaxy(9)).save(folder / "extra_1.png")
    return folder


def decoded(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_grey_pngs_equal_numpy(raw, tmp_path):
    done = prepare_directory(
        raw, tmp_path / "out", options=PrepareOptions(grey=True, workers=1, progress=False)
    )
    assert (done.written, done.not_selected, done.missing) == (4, 0, 0)
    for source in [*raw.glob("*.jpg"), *raw.glob("sub/*.jpg"), raw / "extra_1.png"]:
        target = (tmp_path / "out" / source.relative_to(raw)).with_suffix(".png")
        with Image.open(target) as png:
            assert (png.mode, png.size) == ("L", (128, 128))
            got = np.asarray(png)
        np.testing.assert_array_equal(got, expected_png(decoded(source)))


def test_colour_and_parallel(raw, tmp_path):
    prepare_directory(raw, tmp_path / "one", options=PrepareOptions(workers=1, progress=False))
    prepare_directory(raw, tmp_path / "two", options=PrepareOptions(workers=2, progress=False))
    source = raw / f"galaxy_{IDS[0]}.jpg"
    with Image.open(tmp_path / "two" / f"galaxy_{IDS[0]}.png") as png:
        assert png.mode == "RGB"
        got = np.asarray(png)
    np.testing.assert_array_equal(got, expected_png(decoded(source), grey=False))
    for path in (tmp_path / "one").rglob("*.png"):
        twin = tmp_path / "two" / path.relative_to(tmp_path / "one")
        np.testing.assert_array_equal(np.asarray(Image.open(path)), np.asarray(Image.open(twin)))


def test_split_ids_select_by_objid(raw, tmp_path):
    split = np.array([IDS[0], IDS[2], 1237645879578460255], dtype=np.int64)
    done = prepare_directory(
        raw,
        tmp_path / "out",
        options=PrepareOptions(grey=True, workers=1, progress=False),
        split_ids=split,
    )
    assert (done.written, done.not_selected, done.missing) == (2, 2, 1)
    written = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")
    )
    assert written == ["galaxy_587722981742084144.png", "sub", "sub/galaxy_588848899908370674.png"]


def test_objid_parsing():
    assert objid_of("galaxy_587722981742084144.jpg") == 587722981742084144
    assert objid_of("dir_123456789012345678/1237645879578460255_gri.png") == 1237645879578460255
    assert objid_of("img_12345678901234.png") is None
    assert objid_of("587722981742084144.fits.gz") == 587722981742084144


def test_stretch_and_sizes():
    pixels = np.full((256, 256, 3), 100, np.uint8)
    pixels[100:150, 100:150] = 140
    out = prepare_pixels(pixels, 192, size=128, grey=True, stretch=True)
    assert out.shape == (128, 128) and (out.min(), out.max()) == (0, 255)
    same = prepare_pixels(pixels[:192, :192, 0], 192, size=192, grey=False)
    np.testing.assert_array_equal(same, pixels[:192, :192, 0])


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match=r"nowhere: not a folder"):
        prepare_directory(
            tmp_path / "nowhere", tmp_path / "out", options=PrepareOptions(progress=False)
        )
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: no JPEG, PNG or FITS images found"):
        prepare_directory(
            tmp_path / "empty", tmp_path / "out", options=PrepareOptions(progress=False)
        )
    small = tmp_path / "small"
    small.mkdir()
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(small / "a.png")
    (small / "b.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(InputError, match=r"a\.png: cannot prepare image .*smaller than the 192"):
        prepare_directory(
            small, tmp_path / "out", options=PrepareOptions(workers=1, progress=False)
        )
    with pytest.raises(
        InputError, match=r"b\.jpg: corrupt file or not an image Pillow can identify"
    ):
        prepare_directory(
            small,
            tmp_path / "out",
            options=PrepareOptions(crop=64, size=32, workers=2, progress=False),
        )
    assert not list((tmp_path / "out").glob(".*"))
    with pytest.raises(InputError, match=r"must not be inside"):
        prepare_directory(small, small / "out", options=PrepareOptions(crop=64, progress=False))


def test_tfrecord_shards_hold_the_pngs_pixels_and_the_readers_ids(raw, tmp_path):
    from astrovader.data.images.readers import ReadOptions, load_images
    from astrovader.data.pipelines.stream import open_stream

    prepare_directory(
        raw, tmp_path / "png", options=PrepareOptions(grey=True, workers=1, progress=False)
    )
    done = prepare_directory(
        raw,
        tmp_path / "shards",
        options=PrepareOptions(grey=True, workers=2, progress=False, output_format="tfrecord"),
    )
    assert done.written == 4
    expected = load_images(tmp_path / "png", size=128, bands=1)
    batches = list(open_stream(tmp_path / "shards", ReadOptions(1, 128)).batches(3))
    ids = [i for batch_ids, _ in batches for i in batch_ids]
    pixels = np.concatenate([images for _, images in batches])
    assert (
        ids
        == list(expected.ids)
        == ["extra_1", *(f"galaxy_{i}" for i in IDS[:2]), f"sub/galaxy_{IDS[2]}"]
    )
    np.testing.assert_array_equal(pixels, expected.images)


def test_tfrecord_output_must_be_new_and_names_must_be_unique(raw, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match=r"taken: exists and is not an empty directory"):
        prepare_directory(
            raw,
            tmp_path / "taken",
            options=PrepareOptions(workers=1, progress=False, output_format="tfrecord"),
        )
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]
    with pytest.raises(InputError, match=r"output format 'zip' is not one of"):
        prepare_directory(
            raw, tmp_path / "x", options=PrepareOptions(progress=False, output_format="zip")
        )
    Image.fromarray(galaxy(3)).save(raw / f"galaxy_{IDS[0]}.png")
    with pytest.raises(InputError, match=rf"galaxy_{IDS[0]}\.png: same id 'galaxy_{IDS[0]}' as"):
        prepare_directory(
            raw,
            tmp_path / "y",
            options=PrepareOptions(workers=1, progress=False, output_format="tfrecord"),
        )
    assert not (tmp_path / "y").exists()


def test_fits_stamps_are_prepared_like_the_readers_read_them(tmp_path, shared_dir):
    from astrovader.data.images.readers import load_images

    aegis = shared_dir / "data" / "hst_aegis"
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("AEGIS_F606w_images_01.fits", "AEGIS_F606w_catalog.fits"):
        (raw / name).write_bytes((aegis / name).read_bytes())
    done = prepare_directory(
        raw, tmp_path / "out", options=PrepareOptions(crop=40, size=32, grey=True)
    )
    assert done.written == 3
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"AEGIS_F606w_images_01[{i}].png" for i in range(3)]
    read = load_images(raw, 1, size=32, crop=40, progress=False)
    for i, name in enumerate(names):
        png = np.asarray(Image.open(tmp_path / "out" / name), dtype=np.float64) / 255
        np.testing.assert_allclose(png, read.images[i, ..., 0], atol=0.5 / 255 + 1e-6)
