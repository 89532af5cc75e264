"""Loading many images: directories, .npy arrays, ids, skipped files and errors."""

import numpy as np
import pytest

from astrovader.config.sections import ScalingConfig
from astrovader.data.images.readers import IMAGE_SUFFIXES, ImageSet, find_images, load_images
from astrovader.errors import InputError

RNG = np.random.default_rng(7)


def expect(array, divisor):
    return (array / divisor).astype(np.float32)


def test_find_images_recursive_sorted_and_skipped(tmp_path, pixels):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    pixels.save(tmp_path / "b.png", pixels.u8(4, 4))
    pixels.save(tmp_path / "sub" / "a.JPG", pixels.u8(4, 4))
    pixels.save(tmp_path / "sub" / "deeper" / "c.png", pixels.u8(4, 4))
    pixels.save(tmp_path / ".hidden" / "h.png", pixels.u8(4, 4))
    pixels.save(tmp_path / ".dot.png", pixels.u8(4, 4))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub" / "labels.csv").write_text("id\n")
    paths, skipped = find_images(tmp_path)
    rel = [p.relative_to(tmp_path).as_posix() for p in paths]
    assert rel == ["b.png", "sub/a.JPG", "sub/deeper/c.png"]
    assert skipped == 2
    assert ".fits.gz" in IMAGE_SUFFIXES


def test_load_directory(tmp_path, capsys, pixels):
    images = {"x/one": pixels.u8(6, 6), "two": pixels.u8(6, 6)}
    (tmp_path / "x").mkdir()
    for name, a in images.items():
        pixels.save(tmp_path / f"{name}.png", a)
    (tmp_path / "readme.md").write_text("hi")
    got = load_images(tmp_path, bands=1, size=6, workers=2, progress=False)
    assert isinstance(got, ImageSet) and len(got) == 2
    assert got.ids == ("two", "x/one") and got.skipped == 1
    np.testing.assert_array_equal(got.images[0, ..., 0], expect(images["two"], 255))
    np.testing.assert_array_equal(got.images[1, ..., 0], expect(images["x/one"], 255))
    assert capsys.readouterr().err == ""
    single = load_images(tmp_path / "x" / "one.png", 1, size=6, progress=False)
    assert single.ids == ("one",)
    np.testing.assert_array_equal(single.images, got.images[1:])


def test_load_directory_errors(tmp_path, pixels):
    with pytest.raises(InputError, match="missing"):
        load_images(tmp_path / "missing", 1, size=8)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"no images found \(1 other"):
        load_images(tmp_path, 1, size=8, progress=False)
    pixels.save(tmp_path / "a.png", pixels.u8(8, 8))
    pixels.save(tmp_path / "a.jpg", pixels.u8(8, 8))
    with pytest.raises(InputError, match=r"a\.png.*same id 'a'"):
        load_images(tmp_path, 1, size=8, progress=False)
    (tmp_path / "a.jpg").unlink()
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError, match=r"broken\.png"):
        load_images(tmp_path, 1, size=8, progress=False)


def test_symlinked_folders_are_read_once_and_loops_end(tmp_path, pixels, warned):
    outside, root = tmp_path / "outside", tmp_path / "root"
    (outside / "deep").mkdir(parents=True)
    (root / "real").mkdir(parents=True)
    for name in ["a.png", "b.png", "deep/c.png"]:
        pixels.save(outside / name, pixels.u8(8, 8))
    pixels.save(root / "real" / "d.png", pixels.u8(8, 8))
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "real" / "again").symlink_to(root / "linked", target_is_directory=True)
    (root / "real" / "up").symlink_to(root, target_is_directory=True)  # a loop
    (outside / "deep" / "back").symlink_to(outside, target_is_directory=True)  # another
    with warned() as said:
        found = load_images(root, 1, size=8, progress=False)
    assert found.ids == ("linked/a", "linked/b", "linked/deep/c", "real/d")
    assert "skipped 3 symbolic link(s) to a folder read already" in said.text
    assert "linked/deep/back, real/again, real/up" in said.text
    with pytest.raises(InputError, match=r"root/linked: a symbolic link to a folder, and strict"):
        load_images(root, 1, size=8, progress=False, strict=True)


def test_npy_uint8_uint16_and_float(tmp_path, pixels):
    a = pixels.u8(3, 5, 5)
    np.save(tmp_path / "a.npy", a)
    got = load_images(tmp_path / "a.npy", 1, size=5, progress=False)
    assert got.ids == ("000000", "000001", "000002")
    np.testing.assert_array_equal(got.images[..., 0], expect(a, 255))
    b = pixels.u16(2, 4, 4, 1)
    np.save(tmp_path / "b.npy", b)
    np.testing.assert_array_equal(
        load_images(tmp_path / "b.npy", 1, size=4).images, expect(b, 65535)
    )
    c = RNG.random((2, 4, 4, 3)).astype(np.float32)
    np.save(tmp_path / "c.npy", c)
    np.testing.assert_array_equal(load_images(tmp_path / "c.npy", 3, size=4).images, c)
    grey = load_images(tmp_path / "c.npy", 1, size=4).images[..., 0]
    np.testing.assert_allclose(grey, c.mean(axis=3), atol=1e-6)
    resized = load_images(tmp_path / "c.npy", 3, size=8, progress=False).images
    assert resized.shape == (2, 8, 8, 3) and 0 <= resized.min() and resized.max() <= 1


AS_IS = {"scaling": ScalingConfig(interval="none")}


@pytest.mark.parametrize(
    ("array", "fields", "pattern"),
    [
        (np.full((2, 4, 4), 1.5), AS_IS, r"range from 1\.5 to 1\.5, .*already in \[0, 1\]"),
        (np.array([[[np.nan]]]), {}, "NaN"),
        (np.zeros((2, 4, 4), np.int64), {}, "dtype int64"),
        (np.zeros((4, 4)), {}, "shape"),
        (np.zeros((2, 4, 4), np.uint8), {}, "1 band"),
    ],
)
def test_npy_errors(tmp_path, array, fields, pattern):
    np.save(tmp_path / "bad.npy", array)
    bands = 3 if "band" in pattern else 1
    with pytest.raises(InputError, match=rf"bad\.npy.*{pattern}"):
        load_images(tmp_path / "bad.npy", bands, size=4, progress=False, **fields)


def test_stamps_much_smaller_than_the_size_or_elongated_are_named(tmp_path, pixels, warned):
    folder = tmp_path / "odd"
    folder.mkdir()
    pixels.save(folder / "a_strip.png", pixels.u8(1, 1000))
    pixels.save(folder / "b_dot.png", pixels.u8(1, 1))
    pixels.save(folder / "c_fine.png", pixels.u8(20, 30))
    with warned() as said:
        found = load_images(folder, 1, size=32, progress=False)
    assert len(found) == 3
    assert "2 stamp(s) much smaller than data.image_size or of an extreme aspect ratio" in said.text
    assert "a_strip.png: 1×1000 pixels, an extreme aspect ratio: its centred square keeps 0.1%" in (
        said.text
    )
    assert "and 1 more" in said.text and "c_fine" not in said.text
    with pytest.raises(
        InputError, match=r"b_dot\.png: 1×1 pixels, much smaller than data\.image_size"
    ):
        load_images(folder / "b_dot.png", 1, size=32, progress=False, strict=True)
    np.save(tmp_path / "strips.npy", pixels.u8(3, 2, 40))
    with warned() as said:
        load_images(tmp_path / "strips.npy", 1, size=8, progress=False)
    assert "strips.npy (every image): 2×40 pixels, an extreme aspect ratio" in said.text
    with pytest.raises(InputError, match=r"strips\.npy \(every image\): 2×40 pixels"):
        load_images(tmp_path / "strips.npy", 1, size=8, progress=False, strict=True)
