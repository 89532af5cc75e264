"""Noise information where the data have it: a catalogue's noise variance, a weight map HDU."""

import numpy as np
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from astropy.table import Table
from astropy.visualization import AsinhStretch, ManualInterval

from astrovader.config.sections import CatalogConfig, ScalingConfig
from astrovader.data.images.catalogue import read_catalogue
from astrovader.data.images.readers import load_images
from astrovader.data.images.scaling import scale


def _by_hand(raw: np.ndarray, sigma: float) -> np.ndarray:
    """The default reading with the sky's σ given: astropy step by step."""
    scaling = ScalingConfig()
    _, median, _ = sigma_clipped_stats(raw, sigma=3.0, maxiters=5)
    data = raw - median
    low, high = scaling.noise_floor * sigma, np.percentile(data, scaling.upper_percentile)
    return AsinhStretch(scaling.asinh_a)(ManualInterval(low, high)(data, clip=True), clip=True)


def test_the_catalogue_noise_variance_sets_the_sky_noise(shared_dir):
    catalogue = shared_dir / "data" / "hst_aegis" / "AEGIS_F814w_catalog.fits"
    table = Table.read(catalogue)
    stamps, _ = read_catalogue(catalogue)
    np.testing.assert_allclose([s.noise for s in stamps], np.sqrt(table["NOISE_VARIANCE"]))
    assert all(
        s.noise == 0 for s in read_catalogue(catalogue, CatalogConfig(noise_column="none"))[0]
    )
    with fits.open(stamps[1].path) as hdus:
        raw = hdus[stamps[1].hdu].data.astype(np.float64)
    given = scale(raw[..., None], ScalingConfig(), noise=stamps[1].noise)[..., 0]
    np.testing.assert_allclose(given, _by_hand(raw, stamps[1].noise), atol=1e-6)
    measured = scale(raw[..., None], ScalingConfig())[..., 0]
    assert np.abs(given - measured).max() > 0.003  # the catalogue's σ, not the measured one
    got = load_images(catalogue, 1, size=16, progress=False)
    off = load_images(
        catalogue, 1, size=16, progress=False, catalog=CatalogConfig(noise_column="none")
    )
    assert not np.array_equal(got.images[1], off.images[1])


def test_a_weight_map_after_a_stamp_is_its_noise_not_a_stamp(tmp_path):
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[:32, :32] - 15.5
    sci = 3.0 + rng.normal(0, 0.5, (32, 32)) + 40 * np.exp(-(xx**2 + yy**2) / 10)
    weight = np.full((32, 32), 1 / 0.2**2)  # σ = 0.2, not the 0.5 the pixels show
    fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(sci, name="SCI"), fits.ImageHDU(weight, name="WHT")]
    ).writeto(tmp_path / "drz.fits")
    got = load_images(tmp_path, 1, size=32, progress=False)
    assert got.ids == ("drz",)  # one stamp: the weight map is not a second one
    np.testing.assert_allclose(got.images[0, ..., 0], _by_hand(sci, 0.2), atol=1e-6)
    measured = scale(sci[..., None], ScalingConfig())[..., 0]
    assert np.abs(got.images[0, ..., 0] - measured).max() > 0.01
    # A variance map the same way, in a file of several stamps: each map follows its stamp.
    hdus = [fits.PrimaryHDU()]
    for i, sigma in enumerate((0.2, 0.9)):
        hdus += [
            fits.ImageHDU(sci + i, name=f"S{i}"),
            fits.ImageHDU(weight * 0 + sigma**2, name="VAR"),
        ]
    fits.HDUList(hdus).writeto(tmp_path / "many.fits")
    many = load_images(tmp_path / "many.fits", 1, size=32, progress=False)
    assert many.ids == ("many[S0]", "many[S1]")
    np.testing.assert_allclose(many.images[1, ..., 0], _by_hand(sci + 1, 0.9), atol=1e-6)
