"""Issue 14 in the dashboard (AppTest): text from the warehouse is rendered as text, never as
Markdown or HTML; no secret of the warehouse URL reaches a page.

The Markdown check renders every Markdown-bearing element's source (st.markdown, caption,
title/header/subheader, alerts, metric labels) with markdown-it in GFM mode (with bare-URL
linking, as Streamlit's remark-gfm does) and looks for the planted URLs as an image or link.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from tests.helpers import make_warehouse

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TRACK = "http://127.0.0.1:9/"
QUEUE = f"![t]({TRACK}track.png)"
NAME = f"<img src={TRACK}name.png> [me]({TRACK}click) _x_"
POD = f"**pod** {TRACK}bare"

# Two appeals in the hostile queue, both decided by s1 (whose name is hostile); a3 was
# decided by a system actor (the decided_by_non_specialist control lists its id, also hostile).
ROWS = {
    "appeals": [
        {"appeal_id": "a1", "queue": QUEUE, "priority": "P1", "market": "US", "created_at": "2026-03-02T09:00:00"},
        {"appeal_id": "a2", "queue": QUEUE, "priority": "P1", "market": "US", "created_at": "2026-03-09T09:00:00"},
        {"appeal_id": f"[a3]({TRACK}id)", "queue": QUEUE, "priority": "P1", "market": "US",
         "created_at": "2026-03-09T10:00:00"},
    ],
    "appeal_events": [
        {"event_id": "e1", "appeal_id": "a1", "occurred_at": "2026-03-02T10:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "overturned"},
        {"event_id": "e2", "appeal_id": "a2", "occurred_at": "2026-03-10T10:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "upheld"},
        {"event_id": "e3", "appeal_id": f"[a3]({TRACK}id)", "occurred_at": "2026-03-10T11:00:00",
         "event_type": "decided", "actor_type": "system", "actor_id": "bot", "outcome": "upheld"},
    ],
    "specialists": [{"specialist_id": "s1", "display_name": NAME, "pod": POD, "team_lead": "Lee", "site": "X"}],
}


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    monkeypatch.delenv("APPEALS_WAREHOUSE_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def markdown_sources(at: AppTest) -> list[str]:
    out = [e.value for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info",
                                "success") for e in getattr(at, kind)]
    return out + [m.label for m in at.metric]


def rendered(at: AppTest) -> str:
    md = MarkdownIt("gfm-like")  # tables, strikethrough, bare-URL autolinks
    return "\n".join(md.render(text) for text in markdown_sources(at))


def test_markdown_in_warehouse_values_is_shown_as_text(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", make_warehouse(tmp_path, ROWS))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    seen = []
    for page in ("overview", "queues", "specialists", "root_causes", "data_quality", "definitions"):
        if page != "overview":
            at.switch_page(f"pages/{page}.py").run()
        if page == "overview":  # a filter on the hostile queue goes into every page's scope caption
            at.multiselect(key="queue").set_value([QUEUE]).run()
        if page == "specialists":  # the hostile name in the header and the drill-down title
            at.selectbox(key="specialist_pick").set_value("s1").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        html = rendered(at)
        assert "<img" not in html and f'href="{TRACK}' not in html, page
        seen.append(html)
    everything = "\n".join(seen)
    # shown as the literal text (HTML-escaped by the renderer) on the Queues header and drill title,
    # the Specialists header, the Data quality control and the scope caption
    assert f"![t]({TRACK}track.png)" in everything
    assert f"&lt;img src={TRACK}name.png&gt; [me]({TRACK}click) _x_" in everything
    assert f"[a3]({TRACK}id)" in everything


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://analyst@127.0.0.1:1/appeals?password=s3cret",
    "postgresql+psycopg://analyst:s3cret@127.0.0.1:1/appeals?sslpassword=s3cret",
])
def test_no_password_form_reaches_the_page(monkeypatch, url):
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", url)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception and len(at.error) == 1
    text = " ".join(markdown_sources(at))
    assert "s3cret" not in text and "127.0.0.1:1/appeals?" in text and "=***" in text


@pytest.mark.postgres
def test_query_password_not_in_the_sidebar_of_a_working_postgresql(pg_url, monkeypatch):
    """Trust authentication ignores the password, so the app opens and shows its URL."""
    from metrics.load import frames_from_rows
    from tests.pg import load_tables_pg

    load_tables_pg(pg_url, frames_from_rows(ROWS), schema="faults_md")
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", f"{pg_url}?password=s3cret&options=-csearch_path%3Dfaults_md")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "password=***" in sidebar and "s3cret" not in sidebar
    at.switch_page("pages/data_quality.py").run()
    assert "s3cret" not in " ".join(markdown_sources(at)) and "password=***" in " ".join(markdown_sources(at))
