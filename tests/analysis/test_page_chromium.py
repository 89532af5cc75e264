"""``index.html`` in headless Chromium: every image loads, no console error, a screenshot.

How: Chromium (Debian's ``chromium`` package) runs headless twice on the page.

1. A copy of the page beside it gets a first script that records ``error``
   events (capture phase, so failed image loads count) and, on ``load``, writes
   a JSON verdict into the DOM: the number of images, those with
   ``naturalWidth == 0`` and the errors. ``--dump-dom`` prints the DOM.
2. The page itself is screenshotted with ``--enable-logging=stderr --v=0``,
   which prints every console message as an ``INFO:CONSOLE`` line; the report
   has no script, so there must be none.

A negative control (a copy with one image made missing and a failing script)
proves that the check sees both faults. Skipped only when ``chromium`` is absent.
"""

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)
CHECK = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var t = e.target;
  window.__errors.push(t && t.getAttribute && t.getAttribute("src")
    ? "failed to load " + t.getAttribute("src") : "error: " + e.message);
}, true);
window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var broken = images.filter(function (i) { return !i.complete || i.naturalWidth === 0; })
    .map(function (i) { return i.getAttribute("src"); });
  var sections = Array.from(document.querySelectorAll("section")).map(function (s) {
    var box = s.getBoundingClientRect();
    return {id: s.id, top: box.top + window.scrollY, height: box.height,
            images: s.querySelectorAll("img").length};
  });
  var figures = images.map(function (i) {
    return {src: i.getAttribute("src"), alt: i.getAttribute("alt"), natural: i.naturalWidth,
            shown: i.getBoundingClientRect().width};
  });
  var out = document.createElement("pre");
  out.id = "astrovader-check";
  out.textContent = JSON.stringify({images: images.length, broken: broken,
                                    errors: window.__errors, sections: sections,
                                    figures: figures,
                                    height: document.documentElement.scrollHeight});
  document.body.appendChild(out);
});
</script>"""


WIDTH = 1280
WINDOW = f"--window-size={WIDTH},900"


def _chromium(tmp_path, *args):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _check(page, tmp_path):
    """Load a checking copy of ``page`` beside it; return the verdict and console lines."""
    copy = page.with_name("check-" + page.name)
    copy.write_text(page.read_text().replace("<head>", "<head>" + CHECK, 1))
    try:
        done = _chromium(
            tmp_path, WINDOW, "--virtual-time-budget=20000", "--dump-dom", copy.as_uri()
        )
    finally:
        copy.unlink()
    found = re.search(r'<pre id="astrovader-check">(.*?)</pre>', done.stdout, re.S)
    assert found, "the page never finished loading"
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(html.unescape(found.group(1))), console


def test_page_loads_every_image_and_link_without_console_errors(tiny_report, tmp_path):
    page = tiny_report["out"] / "index.html"
    verdict, console = _check(page, tmp_path)
    text = page.read_text()
    assert verdict["images"] == text.count("<img ")
    assert verdict["images"] >= 15
    assert verdict["broken"] == [] and verdict["errors"] == [] and console == []
    # Every figure has its caption as alt text and is drawn at a readable width.
    for figure in verdict["figures"]:
        assert figure["alt"] and figure["natural"] > 0 and figure["shown"] >= 200, figure
    # Every link of the page (figure PNG and PDF, table CSV and FITS) names a file.
    links = [html.unescape(link) for link in re.findall(r'href="([^"#][^"]*)"', text)]
    assert len(links) >= 2 * verdict["images"]
    assert [link for link in links if not (page.parent / link).is_file()] == []


def test_one_screenshot_per_section(tiny_report, tmp_path):
    """The whole page drawn once, cut into one picture per section; none blank.

    ``ASTROVADER_SCREENSHOTS=DIR`` keeps the pictures (``DIR/section-<id>.png``).
    """
    page = tiny_report["out"] / "index.html"
    verdict, _ = _check(page, tmp_path)
    ids = re.findall(r'<section id="([^"]+)">', page.read_text())
    assert [s["id"] for s in verdict["sections"]] == ids and len(ids) >= 12
    shot, height = tmp_path / "index.png", verdict["height"]
    done = _chromium(
        tmp_path,
        f"--window-size={WIDTH},{height}",
        "--virtual-time-budget=20000",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert [line for line in done.stderr.splitlines() if ":CONSOLE" in line] == []
    full = Image.open(shot).convert("RGB")
    assert full.size == (WIDTH, height)
    keep = os.environ.get("ASTROVADER_SCREENSHOTS")
    for section in verdict["sections"]:
        top = round(section["top"])
        part = full.crop((0, top, WIDTH, top + round(section["height"])))
        pixels = np.asarray(part.convert("L"), float)
        assert part.height >= 40, section
        # Text alone inks about 1 % of a section; a drawn figure far more.
        inked = np.mean(pixels < 200)
        assert pixels.std() > 10 and inked > (0.03 if section["images"] else 0.002), section
        part.save(tmp_path / f"section-{section['id']}.png")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            part.save(Path(keep) / f"section-{section['id']}.png")


def test_the_check_sees_a_broken_image_and_a_script_error(tiny_report, tmp_path):
    page = tiny_report["out"] / "index.html"
    bad = page.with_name("broken.html")
    text = page.read_text().replace('src="figures/losses.png"', 'src="figures/missing.png"')
    bad.write_text(text.replace("</body>", "<script>undefinedFunction();</script></body>"))
    try:
        verdict, console = _check(bad, tmp_path)
    finally:
        bad.unlink()
    assert verdict["broken"] == ["figures/missing.png"]
    assert "failed to load figures/missing.png" in verdict["errors"]
    assert any("undefinedFunction" in e for e in verdict["errors"])
    assert any("undefinedFunction" in line for line in console)
