"""Issue 10 items 4-8 in headless Chromium on the sample, with screenshots to look at
(artifacts/screenshots/): the reporting zone and the trailing comparison from a shared link,
annotated time charts with hollow small-n points, adaptive age buckets, export buttons under
every chart and table, and the controls a page does not read folded away."""

from __future__ import annotations

from tests.test_browser import assert_no_exception, browser, open_page, screenshot, server, wait_idle  # noqa: F401


def test_queues_in_a_time_zone_with_annotations_and_exports(server, browser):  # noqa: F811
    page = open_page(browser, f"{server}/queues?queue_pick=listing_removal&tz=Europe%2FDublin")
    try:
        assert_no_exception(page)
        caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
        assert "periods in Europe/Dublin" in caption and "GMT" in caption  # as-of in Dublin time (GMT in Nov)
        charts = page.locator('[data-testid="stVegaLiteChart"]')
        for i in range(charts.count()):
            charts.nth(i).scroll_into_view_if_needed()
        wait_idle(page)
        buttons = page.locator('[data-testid="stDownloadButton"]').all_inner_texts()
        assert sum("PNG" in b for b in buttons) >= 6 and sum("SVG" in b for b in buttons) >= 6
        assert any("(XLSX)" in b for b in buttons) and any("(CSV)" in b for b in buttons)
        screenshot(page, "queues_time_zone_annotations_exports")
    finally:
        page.close()


def test_overview_against_the_trailing_average(server, browser):  # noqa: F811
    page = open_page(browser, f"{server}/overview?compare=4-period+average")
    try:
        assert_no_exception(page)
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "the average of the 4 weeks before" in main
        assert "vs 4-period avg" in main
        screenshot(page, "overview_trailing_average")
    finally:
        page.close()


def test_data_quality_folds_the_filters_away(server, browser):  # noqa: F811
    page = open_page(browser, f"{server}/data-quality")
    try:
        assert_no_exception(page)
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Not used on this page" in sidebar
        page.locator('[data-testid="stSidebar"] summary:has-text("Not used on this page")').click()
        wait_idle(page)
        screenshot(page, "data_quality_filters_folded")
    finally:
        page.close()
