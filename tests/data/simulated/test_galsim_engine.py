"""GalSim engine: shapes, determinism, sky, noise, flux, shapes of the classes and colour."""

import math
import sys

import numpy as np
import pytest

pytest.importorskip("galsim")

from astrovader.data.simulated.galsim_engine import (
    GALSIM_CLASS_NAMES,
    GALSIM_PARAMETERS,
    render_galsim,
)
from astrovader.errors import InputError

SIZE = 32


def border(images):
    """The pixels of each stamp's outermost ring, (n, 4 * (size - 1))."""
    x = images[..., 0]
    return np.concatenate([x[:, 0, :], x[:, -1, :], x[:, 1:-1, 0], x[:, 1:-1, -1]], axis=1)


def column(records, key):
    return np.array([record[key] for record in records])


def axis_ratio(image, threshold):
    """Minor/major axis ratio from the second moments of the light above ``threshold``."""
    w = np.clip(image - threshold, 0, None)
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    total = w.sum()
    cx, cy = (w * xx).sum() / total, (w * yy).sum() / total
    cov = np.cov(np.stack([xx.ravel() - cx, yy.ravel() - cy]), aweights=w.ravel(), bias=True)
    small, large = np.linalg.eigvalsh(cov)
    return math.sqrt(small / large)


@pytest.fixture(scope="module")
def skyful():
    return render_galsim(120, SIZE, seed=3, sky=(200.0, 800.0), gain=2.0)


@pytest.fixture(scope="module")
def clean():
    return render_galsim(120, SIZE, seed=5)


@pytest.fixture(scope="module")
def colour():
    return render_galsim(120, SIZE, seed=5, bands=3)


def test_shapes_dtype_and_records(skyful):
    images, records = skyful
    assert images.shape == (120, SIZE, SIZE, 1) and images.dtype == np.float32
    assert [r["id"] for r in records] == [f"gal_{i:06d}" for i in range(120)]
    keys = {"id", "class", "class_name", *GALSIM_PARAMETERS}
    assert all(set(r) == keys for r in records)
    assert all(r["class_name"] == GALSIM_CLASS_NAMES[r["class"]] for r in records)
    assert {"flux", "sky", "hlr_px", "theta_deg", "psf_fwhm_px", "pixel_scale"} <= keys
    cls = column(records, "class")
    assert np.isnan(column(records, "knot_fraction")[cls != 4]).all()
    assert not np.isnan(column(records, "knot_fraction")[cls == 4]).any()
    assert np.isnan(column(records, "companion_separation_px")[cls != 5]).all()
    assert (column(records, "pixel_scale") == 1.0).all()
    theta = column(records, "theta_deg")
    assert theta.min() >= 0 and theta.max() <= 360 and theta.max() > 180
    assert len(render_galsim(2, 8, seed=0)[1][0]["id"]) == len("gal_000000")


def test_classes_balanced(skyful):
    assert np.bincount(column(skyful[1], "class"), minlength=6).tolist() == [20] * 6
    small = render_galsim(8, 16, seed=1)[1]
    assert np.bincount(column(small, "class"), minlength=6).tolist() == [2, 2, 1, 1, 1, 1]


def test_same_seed_same_set_other_seed_differs():
    images, records = render_galsim(18, 24, seed=11, sky=(10.0, 50.0))
    again, again_records = render_galsim(18, 24, seed=11, sky=(10.0, 50.0))
    np.testing.assert_array_equal(images, again)
    assert column(records, "flux").tolist() == column(again_records, "flux").tolist()
    other, _ = render_galsim(18, 24, seed=12, sky=(10.0, 50.0))
    assert not np.allclose(images, other)


def test_sky_stays_in_the_output_and_noise_follows_the_counts(skyful):
    images, records = skyful
    sky, ring = column(records, "sky"), border(images)
    assert sky.min() >= 200 and sky.max() <= 800 and sky.std() > 100
    variance = sky / 2.0 + 1.0  # Poisson in electrons (gain 2) and a read noise of 1 count
    z = (ring.mean(axis=1) - sky) / np.sqrt(variance / ring.shape[1])
    assert np.abs(z).max() < 5 and abs(np.median(z)) < 1
    np.testing.assert_allclose(np.median(ring.var(axis=1) / variance), 1.0, atol=0.15)


def test_no_sky_means_a_zero_background_with_read_noise(clean):
    ring = border(clean[0])
    assert (column(clean[1], "sky") == 0).all()
    assert abs(np.median(ring.mean(axis=1))) < 0.2 and np.abs(ring.mean(axis=1)).max() < 3
    assert 0.8 < np.median(ring.std(axis=1)) < 1.3


def test_stamp_sums_match_the_recorded_flux(clean, skyful):
    images, records = clean
    flux = column(records, "flux")
    assert flux.min() >= 2e3 and flux.max() <= 2e4 and flux.max() / flux.min() > 4
    ratio = images.sum(axis=(1, 2, 3)) / flux
    assert ratio.min() > 0.85 and ratio.max() < 1.1
    images, records = skyful
    flux, sky = column(records, "flux"), column(records, "sky")
    excess = images.sum(axis=(1, 2, 3)) - sky * SIZE**2
    sigma = np.sqrt((sky * SIZE**2 + flux) / 2.0 + SIZE**2)
    assert (np.abs(excess - flux) < 5 * sigma + 0.1 * flux).all()
    assert 0.93 < np.median(excess / flux) < 1.05


def test_flux_scales_with_the_stamp_area():
    flux = column(render_galsim(60, 64, seed=2)[1], "flux")
    assert flux.min() >= 8e3 and flux.max() <= 8e4


def test_edge_on_discs_are_more_elongated_than_face_on(clean):
    images, records = clean
    cls = column(records, "class")
    ratios = {c: [axis_ratio(im[..., 0], 3.0) for im in images[cls == c]] for c in (1, 2)}
    assert np.median(ratios[2]) < 0.6 * np.median(ratios[1])
    assert np.median(ratios[2]) < 0.5 < 0.7 < np.median(ratios[1])


def test_colour_tints_spheroids_red_and_discs_blue(colour, clean):
    images, records = colour
    assert images.shape == (120, SIZE, SIZE, 3) and images.dtype == np.float32
    assert column(records, "flux").tolist() == column(clean[1], "flux").tolist()
    cls, sums = column(records, "class"), images.sum(axis=(1, 2))
    red_over_blue = sums[:, 0] / sums[:, 2]
    assert (red_over_blue[cls == 0] > 1.5).all()
    assert (red_over_blue[(cls == 1) | (cls == 2) | (cls == 4)] < 0.75).all()
    bulge_disc = red_over_blue[cls == 3]
    assert (bulge_disc > 0.7).all() and (bulge_disc < 1.2).all()
    green, grey = sums[:, 1], 0.78 * clean[0].sum(axis=(1, 2, 3))  # read noise: 32 per sum
    np.testing.assert_allclose(green, grey, rtol=0.02, atol=200)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "positive integer, got 0"),
        ({"n": 2.5}, "got 2.5"),
        ({"size": 4}, "at least 8, got 4"),
        ({"bands": 2}, "bands must be 1 .* got 2"),
        ({"sky": (5.0, 1.0)}, r"sky .* got \(5.0, 1.0\)"),
        ({"sky": (-1.0, 2.0)}, r"0 <= low <= high, got \(-1.0, 2.0\)"),
        ({"sky": (1.0,)}, r"got \(1.0,\)"),
        ({"sky": "ab"}, "got 'ab'"),
        ({"gain": 0.0}, "gain must be a positive number, got 0.0"),
        ({"gain": -2}, "got -2"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"n": 6, "size": 16, "seed": 0, **kwargs}
    with pytest.raises(InputError, match=match):
        render_galsim(**args)


def test_without_galsim_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "galsim", None)
    with pytest.raises(
        InputError, match=r"needs GalSim; install it with: pip install 'astrovader\[sim\]'"
    ):
        render_galsim(6, 16, seed=0)
