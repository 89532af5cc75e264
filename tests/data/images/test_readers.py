"""Reading one image: PNG, JPEG and FITS decoding, scaling, bands, resizing and errors."""

import gzip
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from astrovader.config.sections import ScalingConfig
from astrovader.data.images.readers import read_image
from astrovader.errors import InputError

RNG = np.random.default_rng(42)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def encode_png16(array, filters=(0, 1, 2, 3, 4), interlace=0):
    """A 16-bit PNG written from scratch (vectorised filters), independent of the reader."""
    height, width, channels = array.shape
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = array.astype(">u2").view(np.uint8).reshape(height, -1).astype(np.int64)
    bpp, prev, rows = channels * 2, np.zeros(raw.shape[1], np.int64), []
    for r in range(height):
        x, kind = raw[r], filters[r % len(filters)]
        left = np.concatenate([np.zeros(bpp, np.int64), x[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int64), prev[:-bpp]])
        pred = [0, left, prev, (left + prev) // 2, _paeth(left, prev, upleft)][kind]
        rows.append(bytes([kind]) + ((x - pred) % 256).astype(np.uint8).tobytes())
        prev = x

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, ctype, 0, 0, interlace)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def expect(array, divisor):
    return (array / divisor).astype(np.float32)


def test_grey_png_reads_back_exactly(tmp_path, pixels):
    a = pixels.u8(12, 12)
    out = read_image(pixels.save(tmp_path / "g.png", a), bands=1, size=12)
    assert out.dtype == np.float32 and out.shape == (12, 12, 1)
    np.testing.assert_array_equal(out[..., 0], expect(a, 255))


def test_rgb_png_colour_and_grey_by_averaging(tmp_path, pixels):
    a = pixels.u8(10, 10, 3)
    path = pixels.save(tmp_path / "c.png", a)
    np.testing.assert_array_equal(read_image(path, 3, size=10), expect(a, 255))
    grey = read_image(path, 1, size=10)[..., 0]
    np.testing.assert_allclose(grey, a.mean(axis=2) / 255, rtol=0, atol=1e-6)


def test_rgba_png_drops_alpha(tmp_path, pixels):
    a = pixels.u8(8, 8, 4)
    a[..., 3] = 0
    out = read_image(pixels.save(tmp_path / "a.png", a), 3, size=8)
    np.testing.assert_array_equal(out, expect(a[..., :3], 255))


def test_16bit_grey_png(tmp_path, pixels):
    a = pixels.u16(9, 9)
    out = read_image(pixels.save(tmp_path / "g16.png", a), 1, size=9)
    np.testing.assert_array_equal(out[..., 0], expect(a, 65535))


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_16bit_colour_and_alpha_png_keep_full_precision(tmp_path, channels, pixels):
    a = pixels.u16(7, 7, channels)
    a[0, 0, 0] = 257 * 100 + 1  # not representable in 8 bits
    path = tmp_path / "c16.png"
    path.write_bytes(encode_png16(a))
    keep = 1 if channels == 2 else 3
    out = read_image(path, keep, size=7)
    np.testing.assert_array_equal(out, expect(a[..., :keep], 65535))


def test_16bit_colour_png_of_every_filter_and_odd_shape(tmp_path, pixels):
    a = pixels.u16(37, 53, 4)
    path = tmp_path / "wide.png"
    for filters in [(0, 1, 2, 3, 4), (4,), (3,), (1, 4, 3, 2)]:
        path.write_bytes(encode_png16(a, filters))
        np.testing.assert_array_equal(read_image(path, 3, size=37), expect(a[:, 8:45, :3], 65535))


def _png16(width, height, idat_data, ctype=2):
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, ctype, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", idat_data)
        + chunk(b"IEND", b"")
    )


def test_a_16bit_png_decompression_bomb_is_refused_in_bounded_memory(tmp_path):
    deflate = zlib.compressobj(9)
    block = bytes(1 << 20)
    bomb = b"".join(deflate.compress(block) for _ in range(256)) + deflate.flush()
    path = tmp_path / "bomb.png"
    path.write_bytes(_png16(16, 16, bomb))  # 16×16 RGB declared: 1,552 bytes; 256 MiB inside
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"bomb\.png: corrupt PNG \(more pixel data than"):
            read_image(path, 3, size=16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * path.stat().st_size + (4 << 20), peak


def test_16bit_png_with_data_after_its_compressed_pixels_is_refused(tmp_path, pixels):
    rows = b"".join(b"\x00" + pixels.u16(4, 3).astype(">u2").tobytes() for _ in range(4))
    path = tmp_path / "tail.png"
    path.write_bytes(_png16(4, 4, zlib.compress(rows) + b"hidden payload"))
    with pytest.raises(InputError, match=r"tail\.png: corrupt PNG \(14 bytes after the compressed"):
        read_image(path, 3, size=4)
    path.write_bytes(_png16(4, 4, zlib.compress(rows[:-1])))
    with pytest.raises(InputError, match=r"tail\.png: corrupt or truncated PNG \(too little"):
        read_image(path, 3, size=4)
    path.write_bytes(_png16(4, 4, zlib.compress(rows + b"\x00")))
    with pytest.raises(InputError, match=r"tail\.png: corrupt PNG \(more pixel data"):
        read_image(path, 3, size=4)
    path.write_bytes(_png16(4, 4, zlib.compress(rows)))
    assert read_image(path, 3, size=4).shape == (4, 4, 3)


def test_interlaced_16bit_colour_png_is_refused(tmp_path, pixels):
    path = tmp_path / "inter.png"
    path.write_bytes(encode_png16(pixels.u16(4, 4, 3), interlace=1))
    with pytest.raises(InputError, match=r"inter\.png.*interlaced"):
        read_image(path, 3, size=4)


def test_truncated_16bit_colour_png(tmp_path, pixels):
    data = encode_png16(pixels.u16(16, 16, 3))
    path = tmp_path / "cut16.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut16\.png.*truncated"):
        read_image(path, 3, size=16)


def test_jpeg_matches_pillow_decode(tmp_path, pixels):
    path = pixels.save(tmp_path / "p.jpg", pixels.u8(16, 16, 3))
    expected = np.asarray(Image.open(path).convert("RGB")) / 255
    np.testing.assert_array_equal(read_image(path, 3, size=16), expected.astype(np.float32))


def test_fits_min_max_scaling_2d_and_cubes(tmp_path, minmax):
    a = RNG.normal(100, 30, (3, 8, 8))
    fits.writeto(tmp_path / "cube.fits", a)
    scaled = (a - a.min()) / (a.max() - a.min())
    out = read_image(tmp_path / "cube.fits", 3, size=8, scaling=minmax)
    np.testing.assert_allclose(out, np.moveaxis(scaled, 0, -1), atol=1e-6)
    fits.writeto(tmp_path / "last.fits", np.moveaxis(a, 0, -1))
    np.testing.assert_allclose(
        read_image(tmp_path / "last.fits", 3, size=8, scaling=minmax), out, atol=1e-6
    )
    fits.writeto(tmp_path / "flat.fit", a[1])
    np.testing.assert_allclose(
        read_image(tmp_path / "flat.fit", 1, size=8, scaling=minmax)[..., 0],
        (a[1] - a[1].min()) / (a[1].max() - a[1].min()),
        atol=1e-6,
    )


def test_fits_image_in_extension_and_gzip(tmp_path, minmax):
    a = RNG.random((6, 6))
    hdus = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(a)])
    hdus.writeto(tmp_path / "ext.fits")
    with gzip.open(tmp_path / "z.fits.gz", "wb") as f:
        f.write((tmp_path / "ext.fits").read_bytes())
    expected = (a - a.min()) / (a.max() - a.min())
    for name in ("ext.fits", "z.fits.gz"):
        got = read_image(tmp_path / name, 1, size=6, scaling=minmax)[..., 0]
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_fits_errors(tmp_path):
    table = fits.BinTableHDU.from_columns([fits.Column(name="x", format="E", array=[1.0])])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(tmp_path / "table.fits")
    with pytest.raises(InputError, match=r"table\.fits.*no image HDU"):
        read_image(tmp_path / "table.fits", 1, size=4)
    a = np.ones((4, 4))
    a[1, 2] = np.nan
    fits.writeto(tmp_path / "nan.fits", a)
    with pytest.raises(InputError, match=r"nan\.fits.*NaN"):
        read_image(tmp_path / "nan.fits", 1, size=4)


@pytest.mark.filterwarnings("ignore:File may have been truncated")
def test_truncated_fits(tmp_path):
    fits.writeto(tmp_path / "whole.fits", RNG.random((64, 64)))
    data = (tmp_path / "whole.fits").read_bytes()
    (tmp_path / "cut.fits").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.fits.*truncated"):
        read_image(tmp_path / "cut.fits", 1, size=64)


def test_constant_fits_becomes_zeros(tmp_path, minmax):
    fits.writeto(tmp_path / "flat.fits", np.full((5, 5), 7.0))
    for scaling in (minmax, ScalingConfig()):
        got = read_image(tmp_path / "flat.fits", 1, size=5, scaling=scaling)
        np.testing.assert_array_equal(got, np.zeros((5, 5, 1)))


def test_resize_only_when_needed_and_antialiased(tmp_path, pixels):
    a = pixels.u8(16, 16)
    path = pixels.save(tmp_path / "x.png", a)
    np.testing.assert_array_equal(read_image(path, 1, size=16)[..., 0], expect(a, 255))
    stripes = np.zeros((64, 64), np.uint8)
    stripes[:, ::2] = 255
    small = read_image(pixels.save(tmp_path / "s.png", stripes), 1, size=16)
    assert small.shape == (16, 16, 1)
    # point sampling would give columns of 0 or 1; an antialiased filter averages them
    assert np.abs(small - 0.5).max() < 0.05


def test_non_square_is_centre_cropped(tmp_path, pixels):
    a = pixels.u8(10, 16)
    out = read_image(pixels.save(tmp_path / "wide.png", a), 1, size=10)
    np.testing.assert_array_equal(out[..., 0], expect(a[:, 3:13], 255))


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("empty.png", b"", "empty file"),
        ("text.png", b"not an image at all", "corrupt"),
    ],
)
def test_bad_files(tmp_path, name, content, pattern):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=rf"{name.replace('.', '[.]')}.*{pattern}"):
        read_image(tmp_path / name, 1, size=8)


def test_missing_truncated_and_corrupt(tmp_path, pixels):
    with pytest.raises(InputError, match=r"nowhere\.png.*no such file"):
        read_image(tmp_path / "nowhere.png", 1, size=8)
    pixels.save(tmp_path / "ok.png", pixels.u8(32, 32, 3))
    whole = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "half.png").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=r"half\.png.*truncated"):
        read_image(tmp_path / "half.png", 3, size=32)
    pixels.save(tmp_path / "ok.jpg", pixels.u8(32, 32, 3))
    jpeg = (tmp_path / "ok.jpg").read_bytes()
    middle = len(jpeg) // 2
    (tmp_path / "bad.jpg").write_bytes(jpeg[:middle] + bytes(pixels.u8(len(jpeg) - middle)))
    with pytest.raises(InputError, match=r"bad\.jpg.*corrupt"):
        read_image(tmp_path / "bad.jpg", 3, size=32)


def test_grey_image_where_colour_wanted(tmp_path, pixels):
    path = pixels.save(tmp_path / "grey.png", pixels.u8(8, 8))
    with pytest.raises(InputError, match=r"grey\.png.*1 band"):
        read_image(path, 3, size=8)
