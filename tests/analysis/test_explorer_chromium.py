"""The explorer page in a real browser: Debian's chromium and chromium-driver through Selenium.

Mouse moves, clicks and drags are real input events (the DevTools protocol's
``Input.dispatchMouseEvent``) at the screen positions BokehJS draws the points at;
what is checked is what the page shows (its hover and detail panels, the drawn map,
the downloaded CSV). ``ASTROVADER_SCREENSHOTS=DIR`` keeps a picture of each state.
Skipped only when chromium, chromium-driver or selenium is absent.
"""

import csv
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from astrovader.analysis.explorer import PALETTE, ExplorerOptions, make_explorer
from astrovader.training.rundir.index import open_index

pytestmark = pytest.mark.slow

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")

# Screen position of map points, and deep queries through Bokeh's shadow roots.
JS = """
window.avt = {
  view: () => Bokeh.index.roots.find(v => v.model.name === 'map'),
  screen: (i) => {
    const v = avt.view(), d = v.model.renderers[0].data_source.data;
    const r = v.el.getBoundingClientRect();
    return [r.left + v.frame.x_scale.compute(d.x[i]), r.top + v.frame.y_scale.compute(d.y[i])];
  },
  data: (x, y) => {
    const v = avt.view(), r = v.el.getBoundingClientRect();
    return [v.frame.x_scale.invert(x - r.left), v.frame.y_scale.invert(y - r.top)];
  },
  deep: (selector, root) => {
    root = root || document;
    const found = Array.from(root.querySelectorAll(selector));
    for (const el of root.querySelectorAll('*'))
      if (el.shadowRoot) found.push(...avt.deep(selector, el.shadowRoot));
    return found;
  },
  centre: (el) => { el.scrollIntoView({block: 'nearest'}); const r = el.getBoundingClientRect();
                    return [r.left + r.width / 2, r.top + r.height / 2]; },
};
"""


@pytest.fixture(scope="module")
def page(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("explorer")
    return make_explorer(tiny_run, out, options=ExplorerOptions(progress=False))


@pytest.fixture(scope="module")
def browser(page, tmp_path_factory):
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("chromium / chromium-driver not installed (apt-get install chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    downloads = tmp_path_factory.mktemp("downloads")
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads
    driver.get(page.as_uri())
    wait(driver, "return Bokeh.index.roots.length >= 2 && document.querySelector('#map')")
    driver.execute_script(JS)
    yield driver
    driver.quit()


def wait(driver, script, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def mouse(driver, kind, x, y, button="none", clicks=0):
    driver.execute_cdp_cmd(
        "Input.dispatchMouseEvent",
        {"type": kind, "x": x, "y": y, "button": button, "clickCount": clicks},
    )


def click(driver, x, y):
    mouse(driver, "mouseMoved", x, y)
    mouse(driver, "mousePressed", x, y, "left", 1)
    mouse(driver, "mouseReleased", x, y, "left", 1)


def shot(driver, tmp_path, name):
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    keep = os.environ.get("ASTROVADER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / f"explorer-{name}.png")
    return Image.open(path).convert("RGB")


def lonely_point(driver, cluster=None):
    """A point of the map (of ``cluster``) far from every other one, and its screen position."""
    data = driver.execute_script(
        "const d = avt.view().model.renderers[0].data_source.data;"
        "return [Array.from(d.x), Array.from(d.y), Array.from(d.cluster)];"
    )
    xy = np.column_stack(data[:2])
    gap = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(len(xy)) * 1e9
    nearest = gap.min(axis=1)
    if cluster is not None:
        nearest[np.asarray(data[2]) != cluster] = -1
    i = int(np.argmax(nearest))
    return i, driver.execute_script(f"return avt.screen({i});")


def severe(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_hover_click_filter_and_export(browser, page, tiny_run, tmp_path):
    driver = browser
    assert severe(driver) == []
    shot(driver, tmp_path, "1-loaded")
    ids = driver.execute_script(
        "return Array.from(avt.view().model.renderers[0].data_source.data.id);"
    )
    # Hover: the panel shows the object's id (and its thumbnail).
    i, (x, y) = lonely_point(driver)
    mouse(driver, "mouseMoved", x, y)
    hover = wait(driver, "return document.getElementById('hover').textContent")
    assert ids[i] in hover and "anomaly score" in hover
    wait(driver, "return document.querySelector('#hover img').src.startsWith('data:image/png')")
    shot(driver, tmp_path, "2-hover")
    # Click: the detail panel lists the neighbours the run's index gives.
    click(driver, x, y)
    shown = wait(
        driver,
        "const l = document.querySelectorAll('#detail li[data-id]');"
        "return l.length && Array.from(l, e => e.dataset.id);",
    )
    index = open_index(tiny_run)
    row = index.objects.position(ids[i])
    _, want = index.kneighbors(index.index.z[[row]], 12, exclude=[row])
    assert shown == list(index.objects.ids[want[0]])
    shot(driver, tmp_path, "3-click")
    # Cluster filter: keep one cluster; the others' colours leave the drawn map.
    clusters = driver.execute_script(
        "return Array.from(avt.view().model.renderers[0].data_source.data.cluster);"
    )
    keep = clusters[i]
    hidden = next(c for c in sorted(set(clusters)) if c != keep)

    def hidden_pixels(picture):
        rgb = np.asarray(picture, float)
        colour = np.array([int(PALETTE[hidden][k : k + 2], 16) for k in (1, 3, 5)])
        found = 0
        for alpha in (0.8, 0.25):  # drawn, and drawn beside a selection
            blended = alpha * colour + (1 - alpha) * 255
            found += int((np.abs(rgb - blended).max(axis=2) < 8).sum())
        return found

    before = hidden_pixels(shot(driver, tmp_path, "4-before-filter"))
    assert before > 50
    for position, c in enumerate(sorted(set(clusters))):
        if c != keep:
            box = driver.execute_script(
                f"return avt.centre(avt.deep('input[type=checkbox]')[{position}]);"
            )
            click(driver, *box)
    after = shot(driver, tmp_path, "5-filtered")
    assert hidden_pixels(after) == 0
    # Hovering where a hidden point is drawn shows nothing new.
    j, (hx, hy) = lonely_point(driver, hidden)
    mouse(driver, "mouseMoved", hx, hy)
    time.sleep(0.3)
    assert ids[j] not in driver.execute_script(
        "return document.getElementById('hover').textContent"
    )
    # Box selection of the kept cluster's points, exported as a CSV of ids.
    tool = driver.execute_script("return avt.centre(avt.deep('.bk-tool-icon-box-select')[0]);")
    click(driver, *tool)
    frame = driver.execute_script(
        "const v = avt.view(), r = v.el.getBoundingClientRect(), f = v.frame.bbox;"
        "return [r.left + f.left, r.top + f.top, r.left + f.right, r.top + f.bottom];"
    )
    x0, y0 = frame[0] + 0.2 * (frame[2] - frame[0]), frame[1] + 0.2 * (frame[3] - frame[1])
    x1, y1 = frame[0] + 0.8 * (frame[2] - frame[0]), frame[1] + 0.8 * (frame[3] - frame[1])
    mouse(driver, "mouseMoved", x0, y0)
    mouse(driver, "mousePressed", x0, y0, "left", 1)
    for t in np.linspace(0, 1, 8):
        mouse(driver, "mouseMoved", x0 + t * (x1 - x0), y0 + t * (y1 - y0), "left")
    mouse(driver, "mouseReleased", x1, y1, "left", 1)
    shot(driver, tmp_path, "6-box-selected")
    screen = np.array(
        driver.execute_script(
            f"return Array.from({{length: {len(ids)}}}, (_, k) => avt.screen(k));"
        )
    )
    export = driver.execute_script(
        "return avt.centre(avt.deep('button').find(b => b.textContent.includes('Export')));"
    )
    click(driver, *export)
    target = driver.downloads / "selection.csv"
    end = time.monotonic() + 20
    while not target.is_file() and time.monotonic() < end:
        time.sleep(0.1)
    with open(target, newline="") as handle:
        exported = {row["id"] for row in csv.DictReader(handle)}
    inside = lambda m: (  # noqa: E731
        (screen[:, 0] > x0 + m)
        & (screen[:, 0] < x1 - m)
        & (screen[:, 1] > y0 + m)
        & (screen[:, 1] < y1 - m)
        & (np.asarray(clusters) == keep)
    )
    ids = np.asarray(ids)
    assert set(ids[inside(1.5)]) <= exported <= set(ids[inside(-1.5)])
    assert len(exported) >= 3
    shot(driver, tmp_path, "7-exported")
    assert severe(driver) == []
