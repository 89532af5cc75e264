"""Figure, table and page writers on small arrays (no TensorFlow)."""

import subprocess
import sys

import numpy as np
from astropy.table import Table
from PIL import Image

from astrovader.analysis import charts
from astrovader.analysis.figures import image_grid
from astrovader.analysis.html import Section, render, write_page
from astrovader.analysis.tables import write_table


def test_framework_free_modules_do_not_import_tensorflow():
    modules = ("metrics", "route", "latent", "gz2", "figures", "charts", "tables", "html")
    code = (
        "import sys\n"
        + "".join(f"import astrovader.analysis.{m}\n" for m in modules)
        + "assert not {'tensorflow', 'keras'} & set(sys.modules), 'framework imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_image_grid_writes_png_and_pdf_with_the_images(tmp_path):
    bright = np.ones((3, 8, 8, 1))
    dark = np.zeros((2, 8, 8, 1))
    paths = image_grid([bright, dark], tmp_path / "grid", row_labels=["a", "b"], title="t")
    assert [p.name for p in paths] == ["grid.png", "grid.pdf"]
    assert (tmp_path / "grid.pdf").read_bytes().startswith(b"%PDF")
    pixels = np.asarray(Image.open(tmp_path / "grid.png").convert("L"), float)
    assert pixels.max() == 255 and pixels.min() == 0
    colour = np.random.default_rng(0).uniform(size=(2, 8, 8, 3))
    image_grid([colour, colour - 0.5], tmp_path / "rgb", residual_rows=(1,))
    assert Image.open(tmp_path / "rgb.png").mode in ("RGB", "RGBA")
    assert not list(tmp_path.glob(".*"))


def test_charts_write_both_formats(tmp_path):
    rows = [
        {
            "epoch": e,
            "phase": p,
            "loss": 1.0 / (e + 1),
            "val_loss": 1.1 / (e + 1),
            "reconstruction": 1,
            "val_reconstruction": 1,
            "kl": 0.1,
            "val_kl": 0.1,
            "gmm_kl": 5 - e,
            "val_gmm_kl": 5 - e,
        }
        for e, p in enumerate(["gamma", "gamma", "anneal", "static"])
    ]
    charts.loss_curves(rows, tmp_path / "losses")
    charts.heatmap(
        np.eye(3), tmp_path / "heat", xlabel="x", ylabel="y", title="t", yticks=["a", "b", "c"]
    )
    charts.grouped_bars({"a": np.arange(4), "b": np.ones(4)}, tmp_path / "bars", "t")
    charts.scatter_map(
        np.random.default_rng(0).normal(size=(20, 2)),
        np.arange(20) % 3,
        stem=tmp_path / "map",
        title="t",
    )
    for stem in ("losses", "heat", "bars", "map"):
        assert Image.open(tmp_path / f"{stem}.png").size[0] > 100
        assert (tmp_path / f"{stem}.pdf").stat().st_size > 1000


def test_tables_round_trip_through_csv_and_fits(tmp_path):
    columns = {"id": np.array(["a", "bb"]), "n": np.array([3, 4]), "x": np.array([0.5, np.nan])}
    write_table(columns, tmp_path / "t")
    for suffix in ("csv", "fits"):
        table = Table.read(tmp_path / f"t.{suffix}")
        assert table.colnames == ["id", "n", "x"]
        assert list(table["id"]) == ["a", "bb"] and list(table["n"]) == [3, 4]
        assert table["x"][0] == 0.5


def test_page_escapes_text_and_links_relatively(tmp_path):
    section = Section(
        "Occupancy & more",
        ["a < b"],
        [("figures/occ", "cap <1>")],
        [("tables/occ", {"component": np.arange(2), "value": np.array([0.123456, np.nan])})],
    )
    text = render("T", [section], ["summary"])
    assert "a &lt; b" in text and "cap &lt;1&gt;" in text
    assert 'href="#occupancy---more"' in text and 'id="occupancy---more"' in text
    assert 'src="figures/occ.png"' in text and 'href="figures/occ.pdf"' in text
    assert 'href="tables/occ.csv"' in text and 'href="tables/occ.fits"' in text
    assert "<td>0.1235</td>" in text and "<td>–</td>" in text
    write_page(tmp_path / "index.html", "T", sections=[section], summary=["summary"])
    assert (tmp_path / "index.html").read_text() == text
