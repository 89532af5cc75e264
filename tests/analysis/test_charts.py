"""The report's charts: legends beside the data, never over it."""

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from astrovader.analysis import charts


@pytest.fixture
def drawn(monkeypatch):
    """The figures the chart functions save, drawn."""
    figures = []
    save = charts.save_figure

    def keep(fig, stem):
        FigureCanvasAgg(fig).draw()
        figures.append(fig)
        return save(fig, stem)

    monkeypatch.setattr(charts, "save_figure", keep)
    return figures


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_no_legend_covers_an_axes(drawn, tmp_path):
    rng = np.random.default_rng(0)
    charts.grouped_bars(
        {"argmax": np.array([40, 3, 25, 1]), "γ > 0.9": np.array([30, 1, 20, 0])},
        tmp_path / "bars",
        "Occupancy",
    )
    charts.scatter_map(
        rng.normal(size=(60, 2)), rng.integers(0, 4, 60), stem=tmp_path / "map", title="map"
    )
    rows = [
        {"epoch": e, "phase": p, "loss": 1.0 / e, "reconstruction": 1.0, "kl": 0.1, "gmm_kl": 0.2}
        for e, p in zip(range(1, 7), ["gamma"] * 3 + ["anneal", "static", "static"], strict=True)
    ]
    for row in rows:
        row.update({f"val_{k}": row[k] for k in ("loss", "reconstruction", "kl", "gmm_kl")})
    charts.loss_curves(rows, tmp_path / "losses")
    assert len(drawn) == 3
    for fig in drawn:
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
        assert legends
        frame = fig.bbox
        for legend in legends:
            box = legend.get_window_extent()
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1 + 1, "legend cut off"
            for ax in fig.axes:
                assert not _overlaps(box, ax.get_window_extent()), ax.get_title()


def test_images_of_any_band_count_tile_as_grey_or_colour():
    from astrovader.analysis.figures import mosaic

    rng = np.random.default_rng(1)
    two = rng.random((3, 8, 8, 2))  # per-band files: two bands shown as their mean
    canvas = mosaic([two, rng.random((2, 8, 8, 3))], pad=2)
    assert canvas.shape == (18, 28, 3)
    np.testing.assert_allclose(canvas[:8, :8], np.repeat(two[0].mean(-1, keepdims=True), 3, -1))
