"""The sidebar's filter lists: the values each key takes in the facts, read by one narrow
scan (api.key_values), the same as a report of appeals_created by the keys over all months."""

from __future__ import annotations

import pytest

from metrics import api, refresh, store
from metrics.load import frames_from_rows
from metrics.warehouse import Warehouse
from tests.helpers import make_warehouse
from tests.pg import load_tables_pg
from tests.test_app_connection import ROWS

KEYS = ("queue", "priority", "market", "site", "pod")
# ROWS (tests/test_app_connection.py): a1, a2 in q1/P1/US; a3, a4 in q2/P2/DE; no specialists
# table, so no site or pod
EXPECTED = {"queue": ["q1", "q2"], "priority": ["P1", "P2"], "market": ["DE", "US"], "site": [], "pod": []}


def test_filter_values_from_the_warehouse_and_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    url = make_warehouse(tmp_path, ROWS)
    expected = EXPECTED
    assert api.key_values(url, KEYS) == expected
    wh = api.open_warehouse(url)
    refresh.refresh(wh, None)
    src = store.open_store(wh, store.location(wh, None))
    try:
        assert api.key_values(src, KEYS) == expected
        frame = api.report(src, by=list(KEYS), period="month", metrics=["appeals_created"])
        assert {k: sorted(v for v in frame[k].unique().to_list() if v is not None) for k in KEYS} == expected
        assert api.key_values(src, ("specialist", "specialist_id")) == {"specialist": ["s1"], "specialist_id": ["s1"]}
    finally:
        src.db.close()
        wh.engine.dispose()


def test_specialist_names_from_the_facts_and_the_store(tmp_path, monkeypatch):
    # ROWS: a1-a4 are owned by s1. Added: a5 assigned to s3, who has no specialists row; the
    # specialists table names s1 "Ann Lee" and s2 "Bo", who owns no appeal. The facts name s1
    # only: {s1: Ann Lee} (s2 owns nothing, s3 has no name), from the warehouse and, kept at
    # refresh, from the store's meta
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    rows = {k: list(v) for k, v in ROWS.items()}
    rows["appeals"].append({"appeal_id": "a5", "queue": "q2", "priority": "P2", "market": "DE",
                            "created_at": "2026-03-10T11:00:00"})
    rows["appeal_events"].append({"event_id": "e8", "appeal_id": "a5", "occurred_at": "2026-03-10T11:30:00",
                                  "event_type": "assigned", "actor_type": "system", "actor_id": "s3"})
    rows["specialists"] = [{"specialist_id": "s1", "display_name": "Ann Lee", "pod": "p1", "site": "dub"},
                           {"specialist_id": "s2", "display_name": "Bo", "pod": "p1", "site": "dub"}]
    url = make_warehouse(tmp_path, rows)
    assert api.specialist_names(url) == {"s1": "Ann Lee"}
    wh = api.open_warehouse(url)
    refresh.refresh(wh, None)
    src = store.open_store(wh, store.location(wh, None))
    try:
        assert src.meta["specialist_names"] == {"s1": "Ann Lee"}
        assert api.specialist_names(src) == {"s1": "Ann Lee"}
    finally:
        src.db.close()
        wh.engine.dispose()


@pytest.mark.postgres
def test_filter_values_on_postgresql(pg_url):
    # the same lists from PostgreSQL (the app with APPEALS_STORE=off reads them there), a key
    # asked twice under two names answered from one list
    load_tables_pg(pg_url, frames_from_rows(ROWS), schema="key_values")
    wh = Warehouse.open(pg_url, schema="key_values")
    try:
        assert api.key_values(wh, KEYS) == EXPECTED
        assert api.key_values(wh, ("specialist", "specialist_id", "queue")) == {
            "specialist": ["s1"], "specialist_id": ["s1"], "queue": ["q1", "q2"]}
    finally:
        wh.engine.dispose()
