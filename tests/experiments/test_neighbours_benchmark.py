"""The neighbour-masking benchmark: neighbours land off-centre, and the script runs end to end."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("neighbours")


def test_neighbours_are_added_off_centre_and_masking_takes_them_out(bench):
    yy, xx = np.mgrid[:32, :32]
    central = 100 * np.exp(-(np.hypot(yy - 15.5, xx - 15.5) ** 2) / 8)
    counts = np.broadcast_to((50.0 + central)[None, ..., None], (20, 32, 32, 1))
    crowded = bench.with_neighbours(counts, 1.0, 0)
    added = crowded[..., 0] - counts[..., 0]
    near = np.hypot(yy - 15.5, xx - 15.5) < 3
    peaks = added.reshape(20, -1).max(1)
    assert (peaks > 25).all()  # every stamp got a neighbour at least 0.3 of the central's peak
    assert (added[:, near].max(1) < 0.1 * peaks).all()  # the centre stays the central's
    noisy = crowded + np.random.default_rng(0).normal(0, 1, crowded.shape)
    far = np.hypot(yy - 15.5, xx - 15.5) > 7
    plain, masked = bench.read(noisy, False), bench.read(noisy, True)
    assert (plain[:, far].max(1) > 0.3).all()  # the neighbour shows in the default reading
    assert np.median(masked[:, far].max(1)) < 0.15  # and is gone once masked


def test_the_benchmark_writes_its_table(bench, tmp_path):
    assert bench.main(["--tiny", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "neighbours.md").read_text()
    assert "| neighbours, masked |" in text and "| no neighbours |" in text
