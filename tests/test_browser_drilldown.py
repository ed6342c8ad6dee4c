"""A lead's clicks in headless Chromium on the sample (issue 10): from the Overview to the 94
breached appeals, and from a root-cause mover to its decision notes, each in two clicks; then a
scan of every page and every download for personal data that escaped redaction. Screenshots
go to artifacts/screenshots/ (drill_*.png)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.test_browser import assert_no_exception, browser, open_page, screenshot, server, wait_idle  # noqa: F401

pytestmark = pytest.mark.browser

ROW = 35  # Streamlit's data-grid row (and header) height in px
PANEL = '[data-testid="stMarkdownContainer"]:has-text("appeals ·")'

# What personal data looks like in the sample's texts (metrics/sample/text.py): e-mail
# addresses, the fictional phone ranges of each market, and @handles.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"\+(?:1 602 555|44 7700 900|49 30 23125|353 20 910|48 22 000|61 491 570)")
HANDLE = re.compile(r"(?<![\w.])@[A-Za-z_][\w.]{2,}")


def personal_data(text: str) -> list[str]:
    return EMAIL.findall(text) + PHONE.findall(text) + HANDLE.findall(text)


def click_cell(page, grid, row: int, x_offset: float) -> None:
    """Click a cell of a Streamlit data grid (drawn on a canvas): row 0 is the first data row."""
    box = grid.bounding_box()
    page.mouse.click(box["x"] + x_offset, box["y"] + ROW + ROW * row + ROW / 2)


def nav(page, title: str) -> None:
    page.locator(f'[data-testid="stSidebarNav"] a:has-text("{title}")').first.click()
    page.wait_for_function(f"() => document.querySelector('h1') && document.querySelector('h1').innerText.trim() === '{title}'",
                           timeout=90_000)
    wait_idle(page)


def test_overview_to_the_94_breached_appeals_in_two_clicks(server, browser):  # noqa: F811
    page = open_page(browser, f"{server}/queues")
    page.set_viewport_size({"width": 1440, "height": 1000})
    try:
        nav(page, "Overview")  # click 1
        grid = page.locator('[data-testid="stDataFrame"]').first  # Exceptions now: 5 queues, then All queues
        # the SLA columns are in view at 1440 px without scrolling sideways
        header = grid.bounding_box()
        assert header["x"] + header["width"] <= 1440
        click_cell(page, grid, 5, 170 + 55)  # click 2: "Breached now" of the All queues row
        page.wait_for_selector(PANEL, timeout=60_000)
        wait_idle(page)
        assert_no_exception(page)
        assert page.locator('h3:has-text("Appeals breached now · all queues")').count() == 1
        assert page.locator(PANEL).first.inner_text().startswith("94 appeals")
        screenshot(page, "drill_overview_breached")
    finally:
        page.close()


def test_a_root_cause_mover_to_its_notes_in_two_clicks(server, browser):  # noqa: F811
    page = open_page(browser, f"{server}/overview")
    try:
        nav(page, "Root causes")  # click 1
        movers = page.locator(".st-key-rc_movers [data-testid='stDataFrame'], [data-testid='stDataFrame'].st-key-rc_movers").first
        movers.scroll_into_view_if_needed()
        click_cell(page, movers, 0, 40)  # click 2: the top mover
        page.wait_for_selector(PANEL, timeout=60_000)
        wait_idle(page)
        assert_no_exception(page)
        panel = page.locator(PANEL).first.inner_text()
        assert "decision notes are redacted" in panel
        assert page.locator('h3:has-text("Overturns ·")').count() == 1
        # the notes themselves: in the panel's CSV (the grid is drawn on a canvas)
        page.locator('button:has-text("Prepare a CSV")').first.click()
        page.wait_for_selector('[data-testid="stDownloadButton"] button:has-text("Download")', timeout=60_000)
        with page.expect_download() as info:
            page.locator('[data-testid="stDownloadButton"] button:has-text("Download")').first.click()
        rows = list(csv.DictReader(io.StringIO(info.value.path().read_text())))
        assert rows and all(r["outcome"] in ("overturned", "partially_overturned") for r in rows)
        notes = [r["decision_note"] for r in rows if r["decision_note"]]
        assert notes, "the mover's overturns come with their decision notes"
        assert not personal_data(" ".join(notes))
        screenshot(page, "drill_root_cause_mover")
    finally:
        page.close()


PAGES = ("overview", "queues", "specialists", "root-causes", "weekly-review", "definitions", "data-quality")


@pytest.mark.parametrize("path", PAGES)
def test_no_personal_data_on_any_page_or_download(server, browser, path):  # noqa: F811
    page = open_page(browser, f"{server}/{path}")
    try:
        for button in page.locator('button:has-text("Prepare a CSV")').all():  # every drill-down download
            button.click()
            wait_idle(page)
        text = page.locator('[data-testid="stMain"]').inner_text()
        found = personal_data(text)
        assert not found, found[:5]
        downloads = page.locator('[data-testid="stDownloadButton"] button')
        for i in range(downloads.count()):
            with page.expect_download() as info:
                downloads.nth(i).click()
            content = info.value.path().read_text(errors="replace")
            found = personal_data(content)
            assert not found, (info.value.suggested_filename, found[:5])
    finally:
        page.close()
