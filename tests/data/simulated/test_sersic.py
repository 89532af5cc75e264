"""Synthetic galaxies: determinism, balance, records, files and separable classes."""

import csv
import math

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression

from astrovader.data.images.readers import load_images
from astrovader.data.simulated.sersic import (
    CLASS_NAMES,
    PARAMETERS,
    simulate,
    synthetic_imageset,
)
from astrovader.data.simulated.writer import write_simulation
from astrovader.errors import InputError


def same_records(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for key in x:
            if isinstance(x[key], float) and math.isnan(x[key]):
                assert math.isnan(y[key]), key
            else:
                assert x[key] == y[key], key


def axis_ratio(image):
    """Minor/major axis ratio from the second moments of the light above the sky."""
    w = np.clip(image[..., 0].astype(float) / 255 - 0.1, 0, None)
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    total = w.sum()
    cx, cy = (w * xx).sum() / total, (w * yy).sum() / total
    cov = np.cov(np.stack([xx.ravel() - cx, yy.ravel() - cy]), aweights=w.ravel(), bias=True)
    small, large = np.linalg.eigvalsh(cov)
    return math.sqrt(small / large)


@pytest.fixture(scope="module")
def sample():
    return simulate(600, 32, seed=7)


def test_shapes_range_and_determinism(sample):
    images, records = sample
    assert images.shape == (600, 32, 32, 1) and images.dtype == np.uint8
    assert images.max() > 200 and images.min() < 10
    again, again_records = simulate(600, 32, seed=7)
    np.testing.assert_array_equal(images, again)
    same_records(records, again_records)
    other, _ = simulate(600, 32, seed=8)
    assert not np.array_equal(images, other)


def test_classes_balanced_and_records_complete(sample):
    _, records = sample
    assert len(CLASS_NAMES) >= 5
    classes = np.array([r["class"] for r in records])
    assert np.bincount(classes).tolist() == [120] * len(CLASS_NAMES)
    assert records[0]["id"] == "gal_000000" and len({r["id"] for r in records}) == 600
    for record in records:
        assert list(record) == ["id", "class", "class_name", *PARAMETERS]
        assert record["class_name"] == CLASS_NAMES[record["class"]]
    counts = np.bincount([r["class"] for r in simulate(12, 16, seed=0)[1]], minlength=5)
    assert counts.max() - counts.min() <= 1


def test_parameters_follow_the_classes(sample):
    _, records = sample
    by = {name: [r for r in records if r["class_name"] == name] for name in CLASS_NAMES}
    assert all(r["disc_q"] < 0.3 for r in by["disc_edge_on"])
    assert all(r["disc_q"] > 0.55 for r in by["disc_face_on"])
    assert all(math.isnan(r["inclination_deg"]) for r in by["smooth"])
    assert all(0.25 <= r["bulge_fraction"] <= 0.5 for r in by["bulge_disc"])
    assert all(math.isfinite(r["companion_dx"]) for r in by["companion"])
    assert all(math.isnan(r["companion_dx"]) for r in by["smooth"])


def test_edge_on_discs_are_elongated_and_smooth_galaxies_round(sample):
    images, records = sample
    names = np.array([r["class_name"] for r in records])
    ratios = np.array([axis_ratio(image) for image in images])
    assert np.median(ratios[names == "disc_edge_on"]) < 0.4
    assert np.median(ratios[names == "smooth"]) > 0.75
    assert ratios[names == "disc_edge_on"].max() < ratios[names == "smooth"].min()


def test_pixels_separate_the_classes(sample):
    images, records = sample
    x = images[..., 0].reshape(len(images), 16, 2, 16, 2).mean(axis=(2, 4)).reshape(len(images), -1)
    x /= 255.0
    y = np.array([r["class"] for r in records])
    model = LogisticRegression(max_iter=1000).fit(x[:450], y[:450])
    assert model.score(x[450:], y[450:]) > 0.6  # chance is 0.2


def test_colour_bulges_red_discs_blue():
    images, records = simulate(100, 32, seed=3, bands=3)
    _, grey_records = simulate(100, 32, seed=3, bands=1)
    assert images.shape == (100, 32, 32, 3)
    same_records(records, grey_records)

    def red_over_blue(i):
        light = images[i].astype(float) - np.median(images[i], axis=(0, 1))
        light = np.clip(light, 0, None).sum(axis=(0, 1))
        return light[0] / light[2]

    smooth = [red_over_blue(i) for i, r in enumerate(records) if r["class_name"] == "smooth"]
    discs = [red_over_blue(i) for i, r in enumerate(records) if r["class_name"] == "disc_face_on"]
    assert min(smooth) > 1.0 > max(discs)


def test_synthetic_imageset_matches_simulate():
    images, records = simulate(20, 16, seed=1)
    imageset, records2 = synthetic_imageset(20, 16, seed=1)
    assert imageset.ids == tuple(r["id"] for r in records)
    np.testing.assert_array_equal(imageset.images, (images / 255.0).astype(np.float32))
    same_records(records, records2)


def test_write_synthetic_files_and_labels(tmp_path):
    out = write_simulation(tmp_path / "set", 15, size=16, seed=2, progress=False)
    images, records = simulate(15, 16, seed=2)
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([f"{r['id']}.png" for r in records] + ["labels.csv"])
    for image, record in zip(images, records, strict=True):
        np.testing.assert_array_equal(
            np.asarray(Image.open(out / f"{record['id']}.png")), image[..., 0]
        )
    with open(out / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["id", "class", "class_name", *PARAMETERS]
    assert [row["id"] for row in rows] == [r["id"] for r in records]
    assert [int(row["class"]) for row in rows] == [r["class"] for r in records]
    for row, record in zip(rows, records, strict=True):
        for key in PARAMETERS:
            value = float(row[key])
            assert (math.isnan(value) and math.isnan(record[key])) or value == pytest.approx(
                record[key], rel=1e-5, abs=1e-6
            )
    loaded = load_images(out, bands=1, size=16, progress=False)
    assert loaded.skipped == 1 and loaded.ids == tuple(r["id"] for r in records)


def test_write_synthetic_refuses_non_empty_and_writes_colour(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match=r"full.*not empty"):
        write_simulation(tmp_path / "full", 5, size=16, seed=0, progress=False)
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    (tmp_path / "empty").mkdir()
    write_simulation(tmp_path / "empty", 5, size=16, seed=0, bands=3, progress=False)
    assert Image.open(tmp_path / "empty" / "gal_000000.png").mode == "RGB"


def test_bad_arguments():
    with pytest.raises(InputError, match="bands"):
        simulate(5, 16, seed=0, bands=2)
    with pytest.raises(InputError, match="number of images"):
        simulate(0, 16, seed=0)


def test_two_thousand_small_images_have_balanced_classes():
    images, records = simulate(2000, 32, seed=0)
    assert images.shape == (2000, 32, 32, 1) and images.dtype == np.uint8
    assert np.bincount([r["class"] for r in records]).tolist() == [400] * 5
