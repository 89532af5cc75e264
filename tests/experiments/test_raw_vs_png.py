"""The raw-flux against PNG benchmark: its sets hold the same galaxies, and every stamp is read."""

import numpy as np
import pytest

from astrovader.config.sections import ScalingConfig
from astrovader.data.images.readers import load_images


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("raw_vs_png")


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["builtin", "galsim"])
def test_both_readings_hold_every_galaxy_with_its_label(bench, engine, tmp_path):
    if engine not in bench.engines():
        pytest.skip("GalSim is not installed")
    labels = bench.write_sets(engine, 230, 16, 5, 100.0, tmp_path)
    raw = load_images(tmp_path / "raw", 1, size=16, progress=False, scaling=ScalingConfig())
    png = load_images(tmp_path / "png", 1, size=16, progress=False, scaling=ScalingConfig())
    # 115 single FITS files and 115 stamps packed 100 to a multi-extension file: all read.
    assert len(raw.ids) == len(png.ids) == 230
    assert set(raw.ids) == set(labels["raw"]) and set(png.ids) == set(labels["png"])
    assert sum("[" in i for i in raw.ids) == 115
    # The same galaxy in both readings: its label, and pixels that correlate with its own
    # (stretches and, for the built-in engine, noise differ) more than with another's.
    by_name = {i.split("[")[-1].rstrip("]"): k for k, i in enumerate(raw.ids)}
    order = [by_name[i] for i in png.ids]
    assert [labels["raw"][raw.ids[k]] for k in order] == [labels["png"][i] for i in png.ids]

    def correlation(a, b):
        return np.mean([np.corrcoef(x.ravel(), y.ravel())[0, 1] for x, y in zip(a, b, strict=True)])

    same = correlation(raw.images[order], png.images)
    other = correlation(raw.images[order], np.roll(png.images, 1, axis=0))
    assert same > 0.7 and same > other + 0.1, (same, other)


def test_summary_gives_mean_sd_and_the_difference(bench):
    rows = [
        {"engine": "builtin", "reading": r, "seed": s, "read": 10, "images": 10, "acc": a}
        for r, s, a in [("raw", 0, 0.8), ("raw", 1, 0.6), ("png", 0, 0.7), ("png", 1, 0.7)]
    ]
    table = bench.summarise(rows)
    assert "| builtin | raw | 20 of 20 | 0.700 ± 0.100 |" in table
    assert "| builtin | raw − png | | +0.000 ± 0.100 |" in table
