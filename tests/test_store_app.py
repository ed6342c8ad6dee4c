"""The dashboard reads the store: built on first use, shown in the sidebar, and a refresh
(the sidebar button) brings in what changed in the warehouse."""

from __future__ import annotations

import os

import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import make_warehouse
from tests.test_app_connection import APP, ROWS, shown, sidebar_text


def test_dashboard_builds_reads_and_refreshes_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", make_warehouse(tmp_path, ROWS))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["dates"] = ["2026-01-12", "2026-03-10"]  # the running week of 9 Mar as the headline:
    at.query_params["period"] = "2026-03-09"  # the app now opens on the last complete week (issue 10)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # the same hand-derived Overview as tests/test_app_connection.py, now read from the store
    got = shown(at)
    assert got["Appeals created"] == ("2", "+0 (+0%)")
    assert got["Appeals resolved"] == ("1", "-1 (-50%)")
    assert got["Backlog open"] == ("1", "+1")
    assert any(s.label.startswith("Store ready (refresh: full, 4 appeals recomputed of 4") for s in at.status)
    text = sidebar_text(at)
    assert "Store** as of 10 Mar 2026 10:30 UTC" in text and "(full, 4 of 4 appeals recomputed)" in text

    # a4 is decided (upheld) at 12:00 on 10 Mar: after a refresh, 2 resolved this week, backlog 0
    rows = {"appeals": ROWS["appeals"], "appeal_events": ROWS["appeal_events"] + [
        {"event_id": "e8", "appeal_id": "a4", "occurred_at": "2026-03-10T12:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "upheld"}]}
    # the new warehouse replaces the file (as a nightly export does); the app notices the change
    new = make_warehouse(tmp_path / "next", rows)
    os.replace(new.split("///", 1)[1], str(tmp_path / "wh.duckdb"))
    at.button(key="_refresh_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    got = shown(at)
    assert got["Appeals resolved"] == ("2", "+0 (+0%)")  # a3, a4 vs a1, a2
    assert got["Backlog open"] == ("0", "+0")
    # a4 changed (new event) and was open (as_of moved): 1 of 4 recomputed
    assert "(incremental, 1 of 4 appeals recomputed)" in sidebar_text(at)
    assert "10 Mar 2026 12:00 UTC" in sidebar_text(at)
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_store_refreshed_from_this_very_file_is_not_asked_again_on_start(tmp_path, monkeypatch):
    """A new app process on a ready store: when the warehouse file is the one the store was
    refreshed from (its identity), the first page starts no background look at the warehouse
    (at 10M that look reads 59M event rows beside the first page); a file replaced since is
    looked at on the first page, and the store brought up to date in the background."""
    from metrics import refresh
    from ui import data

    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    url = make_warehouse(tmp_path, ROWS)
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", url)
    refresh.refresh(url)  # as `python -m metrics refresh`, before the app starts

    def start_app() -> AppTest:  # as a new process: no connection of an earlier app is left open
        import gc

        for wh in data._OPEN.values():
            wh.close()
        data._OPEN.clear()
        st.cache_data.clear()
        st.cache_resource.clear()
        gc.collect()  # DuckDB keeps a file's instance (the replaced file) while any connection to it lives
        data._LAST_CHECK.clear()
        data._BACKGROUND.clear()
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    start_app()
    assert url not in data._BACKGROUND  # nothing asked: the store describes this file

    # a4 decided at 12:00 on 10 Mar, in a file that replaces the warehouse while the app is down
    rows = {"appeals": ROWS["appeals"], "appeal_events": ROWS["appeal_events"] + [
        {"event_id": "e8", "appeal_id": "a4", "occurred_at": "2026-03-10T12:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "upheld"}]}
    new = make_warehouse(tmp_path / "next", rows)
    os.replace(new.split("///", 1)[1], url.split("///", 1)[1])
    start_app()
    thread = data._BACKGROUND[url]  # asked on the first page, in the background
    thread.join(timeout=120)
    assert refresh.refresh(url).mode == "unchanged"  # the background refresh brought it up to date
    assert refresh.source(url).as_of.isoformat().startswith("2026-03-10T12:00")
    st.cache_data.clear()
    st.cache_resource.clear()
