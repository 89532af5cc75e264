"""Neighbour masking: a rendered galaxy with a neighbour keeps its own flux and loses the other."""

import numpy as np
from astropy.modeling.models import Sersic2D

from astrovader.config import Config
from astrovader.data.images.neighbours import central_label, mask_neighbours, segments
from astrovader.data.images.options import ReadOptions

SIGMA = 1.0


def _scene(seed=0):
    yy, xx = np.mgrid[:64, :64]
    central = Sersic2D(amplitude=30, r_eff=5, n=1.5, x_0=31.5, y_0=32.0, ellip=0.3, theta=0.5)
    neighbour = Sersic2D(amplitude=40, r_eff=3, n=1.0, x_0=52, y_0=14, ellip=0.1, theta=1.0)
    noise = np.random.default_rng(seed).normal(10.0, SIGMA, (64, 64))  # sky 10 counts
    return central(xx, yy), neighbour(xx, yy), noise


def test_masking_removes_the_neighbour_and_keeps_the_central_galaxy():
    central, neighbour, noise = _scene()
    raw = (central + neighbour + noise)[..., None]
    masked, count = mask_neighbours(raw, "scene")
    masked = masked[..., 0]
    own = (central > 3 * SIGMA) & (neighbour < 0.1 * SIGMA)
    theirs = (neighbour > 3 * SIGMA) & (central < 0.1 * SIGMA)
    assert own.sum() > 100 and theirs.sum() > 30 and count >= theirs.sum()
    # The neighbour's flux is gone from its own pixels: what is left is sky noise.
    before = (raw[..., 0] - 10.0)[theirs].sum()
    after = (masked - 10.0)[theirs]
    assert before > 1000 and abs(after.sum()) < 4 * SIGMA * np.sqrt(theirs.sum())
    assert 0.7 < after.std() < 1.3
    # The central galaxy's pixels are untouched.
    np.testing.assert_array_equal(masked[own], raw[..., 0][own])
    labels = segments(raw[..., 0])
    assert labels[32, 31] == central_label(labels) != labels[14, 52] > 0


def test_the_option_is_off_in_the_paper_method_and_kept_by_the_reading():
    assert Config().data.mask_neighbours is False and Config.paper().data.mask_neighbours is False
    options = ReadOptions.from_config(Config().replace(data={"mask_neighbours": True}))
    again = ReadOptions.from_saved(1, 128, options.saved())
    assert again.mask_neighbours is True


def test_the_reading_masks_when_asked(tmp_path):
    from astropy.io import fits

    from astrovader.data.images.readers import load_images

    central, neighbour, noise = _scene(1)
    fits.PrimaryHDU(central + neighbour + noise).writeto(tmp_path / "pair.fits")
    plain = load_images(tmp_path, 1, size=64, progress=False)
    masked = load_images(tmp_path, 1, size=64, progress=False, mask_neighbours=True)
    region = (neighbour > 3 * SIGMA) & (central < 0.1 * SIGMA)
    assert plain.images[0, ..., 0][region].mean() > 0.2
    assert masked.images[0, ..., 0][region].mean() < 0.02
