"""The explorer's gallery of the least typical objects: the run's lowest anomaly scores first."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from astrovader.analysis.explorer import ExplorerOptions, least_typical, make_explorer
from astrovader.data.tables.clusters import read_clusters

pytestmark = pytest.mark.slow


def test_the_gallery_shows_the_lowest_anomaly_scores_first(tiny_run, tmp_path):
    page = make_explorer(tiny_run, tmp_path, options=ExplorerOptions(progress=False, listed=7))
    text = page.read_text()
    gallery = text[text.index('<div id="least-typical">') :]
    gallery = gallery[: gallery.index("</div></div>")]
    shown = re.findall(r'<figure data-index="\d+" data-id="([^"]+)">', gallery)
    table = read_clusters(tiny_run / "clusters.csv")
    order = np.argsort(table["anomaly_score"], kind="stable")[:7]
    assert shown == list(table["id"][order])
    # Each thumbnail is the object's own image (a PNG), not a blank tile.
    urls = re.findall(r'src="data:image/png;base64,([^"]+)"', gallery)
    assert len(urls) == 7
    tiles = [np.asarray(Image.open(io.BytesIO(base64.b64decode(u)))) for u in urls]
    assert all(t.std() > 0 for t in tiles)
    # The gallery comes before the map on the page.
    assert text.index('id="least-typical"') < text.index('id="map"')


def test_unknown_scores_go_last():
    score = np.array([3.0, -1e300, -2.0, 5.0])
    np.testing.assert_array_equal(least_typical(score, 3), [2, 0, 3])
