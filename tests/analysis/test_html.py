"""The report page: long tables shown in part, paged in full, with links to CSV/FITS."""

import re

import numpy as np

from astrovader.analysis.html import PAGE, Section, write_page


def test_a_long_table_shows_its_first_page_and_links_every_page(tmp_path):
    n = 2 * PAGE + 7
    columns = {"id": np.array([f"g{i}" for i in range(n)]), "mse": np.arange(n) / 10}
    section = Section("Per-object table", ["rows"], tables=[("tables/objects", columns)])
    page = write_page(tmp_path / "index.html", "report", sections=[section], summary=["summary"])
    text = page.read_text()
    shown = re.findall(r"<td class=\"text\">(g\d+)</td>", text)
    assert shown == [f"g{i}" for i in range(PAGE)]
    assert 'href="tables/objects.csv"' in text and 'href="tables/objects.fits"' in text
    links = re.findall(r'href="(tables/objects-pages/\d+\.html)"', text)
    assert links == [f"tables/objects-pages/{p:03d}.html" for p in (1, 2, 3)]
    seen = []
    for link in links:
        sub = (tmp_path / link).read_text()
        seen += re.findall(r"<td class=\"text\">(g\d+)</td>", sub)
        assert 'href="../objects.csv"' in sub
    assert seen == [f"g{i}" for i in range(n)]
    last = (tmp_path / links[-1]).read_text()
    assert 'href="002.html">previous' in last and "next" not in last
