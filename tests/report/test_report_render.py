"""The report renders in a real browser: headless Chromium takes a screenshot (kept as a test artifact) and, on a
test-only copy of the page with a tiny script, reports the decoded size of every image.

Chromium is Debian's ``chromium`` package. Without it the tests skip locally; under CI (``CI`` set) they fail, since
``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from freqprobe.report.html import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WINDOW = (1280, 2000)
TIMEOUT_SECONDS = 240
# Writes each image's decoded (natural) size into the DOM once the page has loaded, for --dump-dom to show.
PROBE = """<script>
window.addEventListener("load", function () {
  for (const img of document.images) {
    img.setAttribute("data-natural-width", img.naturalWidth);
    img.setAttribute("data-natural-height", img.naturalHeight);
  }
  document.body.setAttribute("data-probed-images", document.images.length);
});
</script>
"""


# Writes the geometry a reader sees into the DOM once the page has loaded: where the headline results end, the
# viewport's size, whether the page itself scrolls sideways, and the widest table's own scroll width.
GEOMETRY_PROBE = """<script>
window.addEventListener("load", function () {
  const body = document.body, headline = document.getElementById("headline");
  const facts = headline ? headline.querySelector(".results") : null;
  if (facts) {
    const box = facts.getBoundingClientRect();
    body.setAttribute("data-results-top", box.top);
    body.setAttribute("data-results-bottom", box.bottom);
    body.setAttribute("data-results-right", box.right);
  }
  body.setAttribute("data-viewport", window.innerWidth + "x" + window.innerHeight);
  body.setAttribute("data-page-width", document.documentElement.scrollWidth);
  let wrap = 0, table = 0;
  for (const element of document.querySelectorAll(".table-wrap")) {
    if (element.scrollWidth > table) { table = element.scrollWidth; wrap = element.clientWidth; }
  }
  body.setAttribute("data-widest-table", table + "/" + wrap);
});
</script>
"""
FIRST_SCREEN = (1280, 900)


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium not found (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def page(run_tree) -> Path:
    """The report of the whole run folder (10 figures: the spectrum folder draws its class spectra with and without a
    window; the report draws the learning curve)."""
    path, _ = write_report(run_tree)
    return path


@pytest.fixture(scope="module")
def spectrum_page(run_tree, tmp_path_factory) -> Path:
    """The report of one spectrum folder: two tables, then its five figures within the first screen."""
    path, _ = write_report(run_tree / "analysis" / "spectrum", tmp_path_factory.mktemp("spectrum-report") / "page.html")
    return path


def browser_command(chromium: str, profile: Path, *options: str) -> list[str]:
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *options,
    ]


def run_browser(command: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result


def artifact_dir(tmp_path: Path) -> Path:
    configured = os.environ.get("FREQPROBE_TEST_ARTIFACTS")
    folder = Path(configured) if configured else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_screenshot_shows_a_rendered_page(chromium, spectrum_page, tmp_path):
    screenshot = artifact_dir(tmp_path) / "report_screenshot.png"
    screenshot.unlink(missing_ok=True)
    run_browser(browser_command(
        chromium, tmp_path / "profile", f"--screenshot={screenshot}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        spectrum_page.resolve().as_uri(),
    ))
    print(f"report screenshot: {screenshot}")
    with Image.open(screenshot) as image:
        assert image.format == "PNG"
        assert image.size == WINDOW
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    ink = (np.abs(pixels - 255).sum(axis=2) > 30).mean()
    # text and table rules are grey or dark blue and thin; the spectra (magma colour map) fill areas with colour
    saturated = ((pixels.max(axis=2) - pixels.min(axis=2)) > 80).mean()
    assert ink > 0.05, f"screenshot {screenshot} is (nearly) blank: {ink:.1%} non-white pixels"
    assert saturated > 0.03, f"screenshot {screenshot} shows no figure: {saturated:.1%} coloured pixels"


class ImageAttributes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict] = []
        self.body: dict = {}

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "body":
            self.body = dict(attrs)


def decoded_images(chromium: str, page: Path, tmp_path: Path) -> list[dict]:
    """Every <img> of ``page`` as the browser loaded it, with its decoded (natural) size; the probed copy is written
    beside the page, so relative links resolve as they do for the page itself."""
    probed = page.with_name("probed.html")
    text = page.read_text(encoding="utf-8")
    probed.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        result = run_browser(browser_command(
            chromium, tmp_path / "profile", "--allow-file-access-from-files", "--virtual-time-budget=10000",
            "--dump-dom", probed.resolve().as_uri()
        ))
    finally:
        probed.unlink()  # it lies in the shared fixture folder
    dom = ImageAttributes()
    dom.feed(result.stdout)
    assert dom.body.get("data-probed-images") == str(text.count("<img ")), "the load handler did not run"
    for image in dom.images:
        # the decoded size equals the PNG's own size written into the page: the image really decoded
        assert int(image["data-natural-width"]) == int(image["width"]) > 0, image["src"][:80]
        assert int(image["data-natural-height"]) == int(image["height"]) > 0, image["src"][:80]
    return dom.images


def test_every_image_is_decoded_by_the_browser(chromium, page, tmp_path):
    images = decoded_images(chromium, page, tmp_path)
    assert len(images) == 10
    assert all(image["src"].startswith("data:image/png;base64,") for image in images)


def test_linked_figures_load_from_a_page_written_elsewhere(chromium, run_tree, tmp_path):
    page, _ = write_report(run_tree, tmp_path / "pages" / "linked.html", link_figures=True)
    text = page.read_text(encoding="utf-8")
    assert "base64" not in text and len(text) < 100_000  # the embedded page of the same folder is megabytes
    images = decoded_images(chromium, page, tmp_path)
    assert len(images) == 10
    assert all(image["src"].startswith("../") for image in images)


def probe_geometry(chromium: str, page: Path, tmp_path: Path) -> dict:
    probed = tmp_path / "geometry.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", GEOMETRY_PROBE + "</body>"), encoding="utf-8")
    result = run_browser(browser_command(
        chromium, tmp_path / "profile", f"--window-size={FIRST_SCREEN[0]},{FIRST_SCREEN[1]}",
        "--virtual-time-budget=10000", "--dump-dom", probed.resolve().as_uri(),
    ))
    dom = ImageAttributes()
    dom.feed(result.stdout)
    assert "data-viewport" in dom.body, "the load handler did not run"
    return dom.body


def test_the_first_screen_shows_the_headline_results(chromium, page, tmp_path):
    screenshot = artifact_dir(tmp_path) / "report_first_screen.png"
    screenshot.unlink(missing_ok=True)
    run_browser(browser_command(
        chromium, tmp_path / "shot-profile", f"--screenshot={screenshot}",
        f"--window-size={FIRST_SCREEN[0]},{FIRST_SCREEN[1]}", page.resolve().as_uri(),
    ))
    print(f"report first screen: {screenshot}")
    with Image.open(screenshot) as image:
        assert image.size == FIRST_SCREEN
    body = probe_geometry(chromium, page, tmp_path)
    width, height = (int(value) for value in body["data-viewport"].split("x"))
    # headless --dump-dom keeps some of the window for browser chrome: its viewport is at most the screenshot's
    assert width == FIRST_SCREEN[0] and 700 <= height <= FIRST_SCREEN[1]
    # the key numbers (data, model, accuracies, clean vs robust) lie wholly within the first screen
    assert 0 < float(body["data-results-top"]) < float(body["data-results-bottom"]) <= height
    assert float(body["data-results-right"]) <= width
    text = page.read_text(encoding="utf-8")
    assert text.index('id="headline"') < text.index("<figure>")  # no figure comes before it


def test_a_wide_table_scrolls_inside_its_box_not_the_page(chromium, tmp_path):
    folder = tmp_path / "wide"
    folder.mkdir()
    header = [f"column_{index}_with_a_long_name" for index in range(40)]
    rows = [[f"{0.5 + index / 100:.4f}" for index in range(40)] for _ in range(3)]
    lines = ["| " + " | ".join(row) + " |" for row in (header, ["---"] * 40, *rows)]
    (folder / "compare.md").write_text("# Wide\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    page, _ = write_report(folder)
    body = probe_geometry(chromium, page, tmp_path)
    width = int(body["data-viewport"].split("x")[0])
    table, box = (int(value) for value in body["data-widest-table"].split("/"))
    assert table > 2 * width  # the table really is wider than the page ...
    assert box < width and int(body["data-page-width"]) <= width  # ... and scrolls in its own box
