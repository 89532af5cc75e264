"""Multi-band stamps from per-band files: the AEGIS F606W + F814W stamps, reprojected grids."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table, join
from astropy.wcs import WCS

from astrovader.config import Config
from astrovader.config.sections import CatalogConfig, ScalingConfig
from astrovader.data.images.options import ReadOptions
from astrovader.data.images.readers import load_images
from astrovader.errors import ConfigError, InputError

IDENTS = ["23409", "14886", "9024", "17038", "24216"]
LINEAR = ScalingConfig(sky="none", interval="minmax", stretch="linear")


@pytest.fixture(scope="module")
def aegis(shared_dir):
    return shared_dir / "data" / "hst_aegis"


def _two_band_table(aegis):
    v, i = (Table.read(aegis / f"AEGIS_F{b}w_catalog.fits") for b in (606, 814))
    for table, band in ((v, "F606W"), (i, "F814W")):
        table[f"{band}_FILE"] = [str(aegis / f.strip()) for f in table["GAL_FILENAME"]]
        table[f"{band}_HDU"] = table["GAL_HDU"]
    keep = ["IDENT", "RA", "DEC", "F606W_FILE", "F606W_HDU"]
    return join(v[keep], i["IDENT", "F814W_FILE", "F814W_HDU"], keys="IDENT")


def test_a_two_band_catalogue_of_the_aegis_stamps(aegis, tmp_path):
    table = _two_band_table(aegis)
    path = tmp_path / "two_band.fits"
    table.write(path)
    catalog = CatalogConfig(
        path_column=("F606W_FILE", "F814W_FILE"), hdu_column=("F606W_HDU", "F814W_HDU")
    )
    options = ReadOptions(bands=2, size=32, scaling=LINEAR, catalog=catalog)
    got = load_images(path, options=options, progress=False)
    assert got.images.shape == (5, 32, 32, 2)
    assert sorted(got.ids) == sorted(IDENTS) and list(got.ids) == [str(i) for i in table["IDENT"]]
    np.testing.assert_array_equal(got.columns["ra"], table["RA"])
    np.testing.assert_array_equal(got.columns["dec"], table["DEC"])
    for band, name in enumerate(("F606W", "F814W")):
        one = load_images(
            aegis / f"AEGIS_{name[:-1]}w_catalog.fits", 1, size=32, progress=False, scaling=LINEAR
        )
        rows = [list(one.ids).index(i) for i in got.ids]
        # Min-max is over both bands together, so each band matches up to its scale.
        for k, row in enumerate(rows):
            single, stacked = one.images[row, ..., 0], got.images[k, ..., band]
            assert np.corrcoef(single.ravel(), stacked.ravel())[0, 1] > 0.999
    # The same stamps from per-band catalogues matched by id.
    matched = ReadOptions(
        bands=2,
        size=32,
        scaling=LINEAR,
        catalog=CatalogConfig(band_catalogs=("AEGIS_F814w_catalog.fits",)),
    )
    by_id = load_images(aegis / "AEGIS_F606w_catalog.fits", options=matched, progress=False)
    assert list(by_id.ids) == IDENTS
    for k, ident in enumerate(by_id.ids):
        np.testing.assert_array_equal(by_id.images[k], got.images[list(got.ids).index(ident)])


def test_the_band_order_is_in_the_configuration_and_checked():
    config = Config().replace(
        catalog={"path_column": ["F606W_FILE", "F814W_FILE"]}, data={"bands": 2}
    )
    assert config.catalog.band_names == ("F606W_FILE", "F814W_FILE")
    assert 'path_column = [\n    "F606W_FILE",\n    "F814W_FILE",\n]' in config.to_toml()
    with pytest.raises(ConfigError, match=r"data.bands = 3 .* must be 2 \(the bands F606W_FILE"):
        config.replace(data={"bands": 3})


def _wcs(crpix, scale_arcsec, shape):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [215.0, 53.0]
    wcs.wcs.crpix = crpix
    wcs.wcs.cdelt = [-scale_arcsec / 3600, scale_arcsec / 3600]
    return wcs


def test_a_band_on_another_grid_is_reprojected_onto_the_first(tmp_path):
    from reproject import reproject_interp

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:40, :40]
    first = np.exp(-((xx - 20.3) ** 2 + (yy - 19.6) ** 2) / 30.0) + 0.01 * rng.normal(size=(40, 40))
    first_wcs = _wcs([20.5, 20.5], 0.05, (40, 40))
    other_wcs = _wcs([17.0, 16.0], 0.075, (30, 30))  # coarser pixels, shifted centre
    other = rng.random((30, 30)) + np.exp(-((np.mgrid[:30, :30][1] - 16) ** 2) / 20.0)
    fits.PrimaryHDU(first, header=first_wcs.to_header()).writeto(tmp_path / "v.fits")
    fits.PrimaryHDU(other, header=other_wcs.to_header()).writeto(tmp_path / "i.fits")
    Table({"id": ["g"], "v": ["v.fits"], "i": ["i.fits"]}).write(tmp_path / "cat.csv")
    none = ScalingConfig(interval="none", sky="none")
    catalog = CatalogConfig(path_column=("v", "i"))
    raw = _raw_stack(tmp_path / "cat.csv", catalog)
    expected, _ = reproject_interp((other, other_wcs), first_wcs, (40, 40), order="bilinear")
    np.testing.assert_array_equal(raw[..., 0], first)
    np.testing.assert_allclose(raw[..., 1], expected, equal_nan=True)
    assert np.isfinite(raw[..., 1]).sum() > 300
    # Without a WCS, two grids cannot be matched: one line, naming the band.
    fits.PrimaryHDU(other).writeto(tmp_path / "bare.fits")
    Table({"id": ["g"], "v": ["v.fits"], "i": ["bare.fits"]}).write(tmp_path / "bare.csv")
    with pytest.raises(InputError, match=r"band 2 \(.*bare.fits\) is 30×30 pixels on another grid"):
        load_images(
            tmp_path / "bare.csv",
            options=ReadOptions(bands=2, size=16, scaling=none, catalog=catalog),
            progress=False,
        )


def _raw_stack(path, catalog):
    from astrovader.data.images.catalogue import read_catalogue
    from astrovader.data.images.decode import raw_stamp

    [stamp], _ = read_catalogue(path, catalog)
    return raw_stamp(stamp, ReadOptions(bands=2, size=16, catalog=catalog))
