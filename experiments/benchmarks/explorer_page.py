"""Size and load time of the explorer page at 10⁴ and 10⁵ objects (headless Chromium).

The page is built by the explorer's own code (:func:`astrovader.analysis.explorer._document`
and ``_page``: BokehJS inline, sprite sheets of 32-px thumbnails and reconstructions inline)
from the built-in synthetic galaxies, cycled to N objects, with random map positions and
neighbours: the map and the model are not what is measured here. Load time is from the
request to BokehJS having drawn the map and the controls, in Debian's chromium through
Selenium, median of ``--repeats`` fresh loads.

Usage::

    nice -n 5 python experiments/benchmarks/explorer_page.py --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from astrovader._io import write_text_atomic
from astrovader.analysis.explorer import ExplorerOptions, Mapped, _document, _page
from astrovader.analysis.sprites import SpriteSheets, thumbnails
from astrovader.data.simulated.sersic import synthetic_imageset


def build(n: int, out: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    images = synthetic_imageset(2000, 32, seed=seed)[0].images
    tiles = thumbnails(images, 32)
    sheets = [SpriteSheets(n, 32, bands=1), SpriteSheets(n, 32, bands=1)]
    for sheet in sheets:
        for start in range(0, n, 2000):
            sheet.add(tiles[: min(2000, n - start)])
    mapped = Mapped(
        rows=np.arange(n),
        points=rng.normal(size=(n, 2)),
        neighbours=rng.integers(0, n, (n, 12)),
        distances=np.sort(rng.uniform(0, 2, (n, 12)), axis=1),
        columns={
            "id": np.array([f"obj{i:07d}" for i in range(n)]),
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-30, 30, n),
            "cluster": rng.integers(0, 12, n),
            "gamma_max": rng.uniform(0.3, 1, n),
            "score": rng.normal(-20, 5, n),
            "col:mag": rng.normal(21, 1, n),
        },
    )
    plot, controls, notes = _document(mapped, *sheets, ExplorerOptions(), "benchmark", [])
    page = out / f"explorer-{n}.html"
    write_text_atomic(page, _page(plot, controls, "benchmark", notes))
    return page


def load_seconds(page: Path, repeats: int) -> list[float]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    times = []
    for _ in range(repeats):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            start = time.perf_counter()
            driver.get(page.as_uri())
            while not driver.execute_script(
                "return window.Bokeh && Bokeh.index.roots.length >= 2 && "
                "Bokeh.index.roots.every(v => v.is_idle)"
            ):
                time.sleep(0.02)
            times.append(time.perf_counter() - start)
        finally:
            driver.quit()
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="a Markdown table of the results")
    args = parser.parse_args(argv)
    lines = [
        "| objects | page MB | load s (median) | loads |",
        "| ---: | ---: | ---: | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(float(s)) for s in args.sizes.split(",")):
            start = time.perf_counter()
            page = build(n, Path(tmp))
            built = time.perf_counter() - start
            times = load_seconds(page, args.repeats)
            size = page.stat().st_size / 1e6
            print(f"N={n}: built in {built:.1f} s, {size:.1f} MB, loads {times}", flush=True)
            lines.append(
                f"| {n:,} | {size:.1f} | {statistics.median(times):.2f} | "
                + ", ".join(f"{t:.2f}" for t in times)
                + " |"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_text_atomic(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
