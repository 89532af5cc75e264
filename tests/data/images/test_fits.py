"""FITS layouts: multi-extension files, cube orientation, tables in folders, .npy ids, limits."""

import gzip
import tracemalloc

import numpy as np
import pytest
from astropy.io import fits

from astrovader.data.images.fits import band_axis
from astrovader.data.images.readers import load_images, read_image
from astrovader.errors import InputError

RNG = np.random.default_rng(11)


def _mef(path, named=False, count=3, primary_stamp=True):
    arrays = [RNG.normal(0, 1, (8, 8 + i)) for i in range(count)]
    first = fits.PrimaryHDU(arrays[0]) if primary_stamp else fits.PrimaryHDU()
    rest = arrays[1:] if primary_stamp else arrays
    hdus = [first, *(fits.ImageHDU(a, name=f"G{i}" if named else None) for i, a in enumerate(rest))]
    fits.HDUList(hdus).writeto(path)
    return arrays


def test_every_image_hdu_is_one_stamp_with_stable_ids(tmp_path, minmax):
    arrays = _mef(tmp_path / "pack.fits")
    _mef(tmp_path / "named.fits", named=True, primary_stamp=False)
    fits.writeto(tmp_path / "one.fits", arrays[0])
    table = fits.BinTableHDU.from_columns([fits.Column(name="x", format="E", array=[1.0])])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(tmp_path / "catalog.fits")
    got = load_images(tmp_path, 1, size=8, progress=False, scaling=minmax)
    assert got.ids == (
        "named[G0]",
        "named[G1]",
        "named[G2]",
        "one",
        "pack[0]",
        "pack[1]",
        "pack[2]",
    )
    assert got.skipped == 1  # the catalogue table
    for i, array in enumerate(arrays):
        side = min(array.shape)
        top, left = (array.shape[0] - side) // 2, (array.shape[1] - side) // 2
        square = array[top : top + side, left : left + side]
        expected = (square - array.min()) / (array.max() - array.min())
        np.testing.assert_allclose(got.images[4 + i, ..., 0], expected, atol=1e-6)
    again = load_images(tmp_path / "pack.fits", 1, size=8, progress=False, scaling=minmax)
    assert again.ids == ("pack[0]", "pack[1]", "pack[2]")
    np.testing.assert_array_equal(again.images, got.images[4:])


def test_hst_aegis_files_give_ten_stamps(shared_dir):
    data = shared_dir / "data" / "hst_aegis"
    got = load_images(data, 1, size=32, progress=False)
    assert len(got) == 10 and got.skipped == 3  # two catalogues and the README
    assert "AEGIS_F606w_images_01[0]" in got.ids and "AEGIS_F814w_images_02[1]" in got.ids
    assert np.isfinite(got.images).all() and 0.5 < got.images.max() <= 1.0


@pytest.mark.parametrize(
    ("shape", "axis"),
    [
        ((3, 16, 16), 0),
        ((16, 16, 3), 2),
        ((32, 32, 5), 2),
        ((5, 32, 32), 0),
        ((3, 12, 10), 0),
        ((1, 7, 9), 0),
        ((9, 7, 1), 2),
        ((32, 32, 32), -1),
        ((5, 40, 5), -1),
        ((40, 30, 20), -1),
    ],
)
def test_band_axis_rule(shape, axis):
    assert band_axis(shape, "auto") == axis


def test_bands_last_cube_is_read_and_ambiguous_cube_is_refused(tmp_path, minmax):
    cube = RNG.normal(0, 1, (32, 32, 5))
    fits.writeto(tmp_path / "hwb.fits", cube)
    fits.writeto(tmp_path / "bhw.fits", np.moveaxis(cube, -1, 0))
    last = read_image(tmp_path / "hwb.fits", 1, size=32, scaling=minmax)
    first = read_image(tmp_path / "bhw.fits", 1, size=32, scaling=minmax)
    np.testing.assert_allclose(last, first, atol=1e-6)
    mean = cube.mean(axis=2)
    np.testing.assert_allclose(
        last[..., 0], (mean - mean.min()) / (mean.max() - mean.min()), atol=1e-6
    )
    fits.writeto(tmp_path / "cube.fits", RNG.normal(0, 1, (32, 32, 32)))
    with pytest.raises(
        InputError, match=r"cube\.fits: cannot tell the band axis .* data\.band_axis"
    ):
        read_image(tmp_path / "cube.fits", 1, size=32)
    forced = read_image(tmp_path / "cube.fits", 1, size=32, band_axis="last", scaling=minmax)
    assert forced.shape == (32, 32, 1)


def test_npy_raw_flux_is_scaled_and_companion_ids_name_it(tmp_path):
    flux = RNG.normal(100.0, 5.0, (4, 16, 16))
    np.save(tmp_path / "cut.npy", flux)
    (tmp_path / "cut_ids.txt").write_text("a\nb\nc\nd\n")
    got = load_images(tmp_path / "cut.npy", 1, size=16, progress=False)
    assert got.ids == ("a", "b", "c", "d")
    assert got.images.min() == 0.0 and got.images.max() == pytest.approx(1.0, abs=1e-6)
    (tmp_path / "cut_ids.txt").write_text("a\nb\n")
    with pytest.raises(InputError, match=r"cut_ids\.txt: 2 ids for the 4 images"):
        load_images(tmp_path / "cut.npy", 1, size=16, progress=False)


def test_crop_in_pixels_and_arcseconds(tmp_path, minmax):
    image = np.zeros((64, 64))
    image[24:40, 24:40] = RNG.random((16, 16)) + 1
    wcs = {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRPIX1": 32, "CRPIX2": 32}
    header = fits.Header({**wcs, "CDELT1": -0.5 / 3600, "CDELT2": 0.5 / 3600})
    fits.writeto(tmp_path / "wcs.fits", image, header)
    centre = image[24:40, 24:40]
    expected = (centre - centre.min()) / (centre.max() - centre.min())
    by_pixels = read_image(tmp_path / "wcs.fits", 1, size=16, crop=16, scaling=minmax)
    np.testing.assert_allclose(by_pixels[..., 0], expected, atol=1e-6)
    by_angle = read_image(tmp_path / "wcs.fits", 1, size=16, crop_arcsec=8.0, scaling=minmax)
    np.testing.assert_allclose(by_angle, by_pixels, atol=1e-6)
    fits.writeto(tmp_path / "plain.fits", image)
    with pytest.raises(InputError, match=r"plain\.fits: data\.crop_arcsec needs a pixel scale"):
        read_image(tmp_path / "plain.fits", 1, size=16, crop_arcsec=8.0)
    given = {"crop_arcsec": 8.0, "pixel_scale": 0.5, "scaling": minmax}
    scaled = read_image(tmp_path / "plain.fits", 1, size=16, **given)
    np.testing.assert_allclose(scaled, by_pixels, atol=1e-6)


def test_pixel_limit_is_checked_before_decoding(tmp_path, pixels):
    fits.writeto(tmp_path / "big.fits", np.zeros((64, 64), np.float32))
    with pytest.raises(InputError, match=r"big\.fits: 64×64 values exceed data\.max_pixels = 1000"):
        read_image(tmp_path / "big.fits", 1, size=8, max_pixels=1000)
    png = pixels.save(tmp_path / "big.png", pixels.u8(64, 64))
    with pytest.raises(InputError, match=r"big\.png: 64×64 pixels exceed data\.max_pixels"):
        read_image(png, 1, size=8, max_pixels=1000)


def test_byte_limit_is_checked_before_decoding(tmp_path, pixels):
    fits.writeto(tmp_path / "f64.fits", np.zeros((64, 64), np.float64))  # 32,768 bytes
    fits.writeto(tmp_path / "u8.fits", np.zeros((64, 64), np.uint8))  # 4,096 bytes
    with pytest.raises(
        InputError, match=r"f64\.fits: 64×64 values of BITPIX -64 hold 32768 bytes, over data\.max"
    ):
        read_image(tmp_path / "f64.fits", 1, size=8, max_bytes=10000)
    with gzip.open(tmp_path / "f64.fits.gz", "wb") as handle:
        handle.write((tmp_path / "f64.fits").read_bytes())
    with pytest.raises(InputError, match=r"f64\.fits\.gz: .* hold 32768 bytes, over data\.max_b"):
        read_image(tmp_path / "f64.fits.gz", 1, size=8, max_bytes=10000)
    assert read_image(tmp_path / "u8.fits", 1, size=8, max_bytes=10000).shape == (8, 8, 1)
    png = pixels.save(tmp_path / "rgb.png", pixels.u8(40, 40, 3))  # 4,800 bytes decoded
    with pytest.raises(InputError, match=r"rgb\.png: 4800 bytes decoded exceed data\.max_bytes"):
        read_image(png, 1, size=8, max_bytes=4799)
    assert read_image(png, 1, size=8, max_bytes=4800).shape == (8, 8, 1)
    (tmp_path / "huge.png").write_bytes(png.read_bytes() + bytes(3 << 20))
    with pytest.raises(InputError, match=r"huge\.png: a file of \d+ bytes, more than an image"):
        read_image(tmp_path / "huge.png", 1, size=8, max_bytes=4800)
    np.save(tmp_path / "rows.npy", np.zeros((3, 40, 40), np.float64))
    with pytest.raises(InputError, match=r"rows\.npy: 12800 bytes per image exceed data\.max_b"):
        load_images(tmp_path / "rows.npy", 1, size=8, max_bytes=12799, progress=False)


def _fits_with_long_header(cards: int) -> bytes:
    """A primary HDU whose header holds ``cards`` COMMENT cards before its END card."""
    head = [b"SIMPLE  =                    T", b"BITPIX  =                    8"]
    head += [b"NAXIS   =                    2", b"NAXIS1  =                    4"]
    head += [b"NAXIS2  =                    4"]
    body = b"".join(card.ljust(80) for card in head) + b"COMMENT".ljust(80) * cards
    body += b"END".ljust(80)
    body = body.ljust(-(-len(body) // 2880) * 2880)
    return body + bytes(2880)


def test_a_gzipped_fits_header_is_bounded_before_astropy_parses_it(tmp_path):
    from astrovader.data.images.fits import MAX_HEADER_BYTES

    path = tmp_path / "long.fits.gz"
    path.write_bytes(gzip.compress(_fits_with_long_header(100_000), 9))  # an 8 MB header
    assert path.stat().st_size < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"long\.fits\.gz: the FITS header of HDU 0 is longer"):
            load_images(tmp_path, 1, size=4, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * MAX_HEADER_BYTES, peak
    path.write_bytes(gzip.compress(_fits_with_long_header(1000)))  # 81 kB: accepted
    assert read_image(path, 1, size=4).shape == (4, 4, 1)


def _png_claiming(width, height, depth, colour_type) -> bytes:
    """A PNG whose header announces a huge image, with a few bytes of compressed rows."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("depth", "colour_type"), [(16, 2), (16, 0), (8, 0), (8, 2)])
def test_decompression_bombs_are_refused_before_decoding(tmp_path, depth, colour_type):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming(12000, 12000, depth, colour_type))
    with pytest.raises(InputError, match=r"bomb\.png: 12000×12000 pixels exceed data\.max_pixels"):
        read_image(path, 1, size=32)


def test_a_real_large_png_is_refused_with_the_default_limit(tmp_path):
    from PIL import Image

    Image.new("L", (9000, 8000)).save(tmp_path / "big.png")
    with pytest.raises(InputError, match=r"big\.png: 9000×8000 pixels exceed data\.max_pixels"):
        load_images(tmp_path, 1, size=32, progress=False)


def _packed(path, rng, history=0):
    """A pack of stamps of several types: float, int16 with BSCALE/BZERO, a tile-compressed one.

    ``history`` cards in the primary header move every later HDU in the file.
    """
    arrays = [rng.normal(0, 5, (6, 7)).astype(dtype) for dtype in ("f4", "f8", "i4")]
    scaled = fits.ImageHDU((rng.integers(0, 999, (6, 6))).astype("f8"), name="SCALED")
    scaled.scale("int16", bzero=100, bscale=0.5)
    primary = fits.PrimaryHDU()
    for i in range(history):
        primary.header.add_history(f"card {i}")
    hdus = [primary, *(fits.ImageHDU(a) for a in arrays), scaled]
    hdus.append(fits.CompImageHDU(rng.normal(0, 1, (6, 6)).astype("f4"), name="TILED"))
    fits.HDUList(hdus).writeto(path, overwrite=True)


@pytest.mark.parametrize("name", ["pack.fits", "pack.fits.gz"])
def test_packed_stamps_read_as_astropy_reads_them(tmp_path, name):
    from astrovader.data.images import fits as fits_spans
    from astrovader.data.images.fits import read_hdu
    from astrovader.data.images.stamps import file_stamps

    path = tmp_path / name
    for seed in (0, 1):  # the file is rewritten in place: the second read must see the new data
        _packed(path, np.random.default_rng(seed), history=60 * seed)
        stamps = file_stamps(path, "pack")
        assert [s.id for s in stamps] == [
            "pack[1]",
            "pack[2]",
            "pack[3]",
            "pack[SCALED]",
            "pack[TILED]",
        ]
        with fits.open(path) as hdus:
            expected = [np.asarray(hdus[s.hdu].data, float) for s in stamps]
        for stamp, want in zip(stamps, expected, strict=True):
            array, header = read_hdu(path, stamp.hdu, max_pixels=10**4)
            np.testing.assert_array_equal(array, want)
            assert header["NAXIS1"] == want.shape[1]
            direct = fits_spans.read_plain_hdu(path, stamp.hdu)
            if name.endswith(".gz") or stamp.id == "pack[TILED]":
                assert direct is None  # left to fits.open
            else:
                np.testing.assert_array_equal(np.asarray(direct.data, float), want)
    with pytest.raises(InputError, match=r"pack\[2\]: 6×7 values exceed data\.max_pixels = 40"):
        read_hdu(path, 2, max_pixels=40, where="pack[2]")
