"""The WBR's HTML export opens offline in headless Chromium: every chart is drawn from the file
alone (inline SVG), and the page asks the network for nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics import wbr

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"


def test_wbr_html_renders_offline(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    out = tmp_path / "wbr_2026-W44.html"
    wbr.render(None, "2026-W44", str(out))
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox",
                                                                          "--disable-gpu"])
        try:
            context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text().startswith("Appeals weekly business review — 2026-W44")
            charts = page.locator("svg polyline")
            assert charts.count() == len(wbr.HEADLINE)
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 5
            assert "First-touch SLA fell" in page.locator("li").first.inner_text()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "wbr_2026-W44_html.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [out.as_uri()]  # the file itself, nothing else
