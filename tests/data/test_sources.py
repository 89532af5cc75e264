"""One angular scale: mixed stamp sizes are named, small stamps padded with their own sky."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.stats import sigma_clipped_stats

from astrovader.config import Config
from astrovader.data.images.decode import raw_stamp
from astrovader.data.images.options import ReadOptions
from astrovader.data.images.stamps import Stamp
from astrovader.data.sources import fit_to_images, load_data

SIDES = (40, 60, 80)


def _stamps(folder, sides=SIDES, sky=5.0, sigma=2.0):
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i, side in enumerate(sides):
        yy, xx = np.mgrid[:side, :side] - (side - 1) / 2
        image = sky + rng.normal(0, sigma, (side, side)) + 200 * np.exp(-(xx**2 + yy**2) / 18)
        fits.PrimaryHDU(image).writeto(folder / f"s{side}_{i}.fits")
    return folder


def _config(folder, **data):
    return Config().replace(
        data={
            "path": str(folder),
            "image_size": 32,
            "pixel_scale": 0.03,
            "validation_fraction": 0.0,
            **data,
        },
        model={"n_clusters": 2},
        training={"batch_size": 2},
    )


def test_stamps_of_mixed_angular_sizes_are_named_with_the_crop_that_fixes_them(tmp_path, warned):
    config = _config(_stamps(tmp_path / "mixed"))
    with warned() as said:
        fitted = fit_to_images(config, load_data(config, progress=False))
    assert (
        "stamps span 1.2″ to 2.4″ (40 to 80 px at 0.03″/px) and each is resized from its own "
        "largest square" in said.text
    )
    assert "set data.crop_arcsec = 1.8" in said.text
    assert fitted.data.image_arcsec == 0.0  # mixed: no one angular size
    same = _config(_stamps(tmp_path / "same", sides=(60, 60, 60)))
    with warned() as said:
        fitted = fit_to_images(same, load_data(same, progress=False))
    assert "stamps span" not in said.text
    assert fitted.data.image_arcsec == pytest.approx(1.8)


def test_a_stamp_smaller_than_the_crop_is_padded_with_its_own_sky_and_counted(tmp_path, warned):
    folder = _stamps(tmp_path / "mixed")
    config = _config(folder, crop_arcsec=2.1)  # 70 px: the 40 and 60 px stamps are padded
    with warned() as said:
        fitted = fit_to_images(config, load_data(config, progress=False))
    assert "2 of 3 stamps are smaller than the crop and were padded" in said.text
    assert "stamps span" not in said.text and fitted.data.image_arcsec == 2.1
    info = {}
    stamp = Stamp("s40", folder / "s40_0.fits")
    raw = raw_stamp(stamp, ReadOptions.from_config(config), info)[..., 0]
    assert raw.shape == (70, 70) and info == {"side": 40, "scale": 0.03, "padded": True}
    original = fits.getdata(folder / "s40_0.fits")
    np.testing.assert_array_equal(raw[15:55, 15:55], original)
    border = np.concatenate([raw[:15].ravel(), raw[55:].ravel()])
    _, median, sigma = sigma_clipped_stats(original, sigma=3.0, maxiters=5)
    assert border.mean() == pytest.approx(median, abs=0.1)
    assert border.std() == pytest.approx(sigma, rel=0.05)
    again = raw_stamp(stamp, ReadOptions.from_config(config))[..., 0]
    np.testing.assert_array_equal(again, raw)  # the same noise at every reading
