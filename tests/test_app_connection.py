"""AppTest of app.py itself: which warehouse it opens, the errors it shows instead of a
traceback, and the Overview of a hand-made warehouse whose numbers are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import make_warehouse

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    monkeypatch.delenv("APPEALS_WAREHOUSE_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


# The running week of 9 Mar as the headline, through the URL: since issue 10 the app opens on the
# last complete week by default (as_of Tue 10 Mar 10:30 -> week of 2 Mar); the hand-derived
# numbers below are those of the week of 9 Mar, unchanged.
RUNNING_WEEK = {"dates": ["2026-01-12", "2026-03-10"], "period": "2026-03-09"}


def run(params: dict | None = None, **secrets) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in secrets.items():
        at.secrets[key] = value
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sidebar_text(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def shown(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta or None) for m in at.metric}


# Four appeals, one specialist, no SLA policies. ISO weeks: 2 Mar and 9 Mar 2026.
#   a1 created Mon 2 Mar 09:00, claimed 10:00 (FTR 1 h), overturned Tue 3 Mar 09:00 (TTR 24 h)
#   a2 created Tue 3 Mar 12:00, claimed 14:00 (FTR 2 h), upheld Wed 4 Mar 12:00 (TTR 24 h)
#   a3 created Mon 9 Mar 08:00, claimed 09:00 (FTR 1 h), upheld Tue 10 Mar 08:00 (TTR 24 h)
#   a4 created Tue 10 Mar 10:00, assigned 10:30 (no touch: open)
# as_of = the latest instant = 10 Mar 10:30 → headline week 9 Mar, compared with week 2 Mar.
ROWS = {
    "appeals": [
        {"appeal_id": "a1", "queue": "q1", "priority": "P1", "market": "US", "created_at": "2026-03-02T09:00:00"},
        {"appeal_id": "a2", "queue": "q1", "priority": "P1", "market": "US", "created_at": "2026-03-03T12:00:00"},
        {"appeal_id": "a3", "queue": "q2", "priority": "P2", "market": "DE", "created_at": "2026-03-09T08:00:00"},
        {"appeal_id": "a4", "queue": "q2", "priority": "P2", "market": "DE", "created_at": "2026-03-10T10:00:00"},
    ],
    "appeal_events": [
        {"event_id": "e1", "appeal_id": "a1", "occurred_at": "2026-03-02T10:00:00", "event_type": "claimed",
         "actor_type": "specialist", "actor_id": "s1"},
        {"event_id": "e2", "appeal_id": "a1", "occurred_at": "2026-03-03T09:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "overturned", "root_cause": "agent_error"},
        {"event_id": "e3", "appeal_id": "a2", "occurred_at": "2026-03-03T14:00:00", "event_type": "claimed",
         "actor_type": "specialist", "actor_id": "s1"},
        {"event_id": "e4", "appeal_id": "a2", "occurred_at": "2026-03-04T12:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "upheld"},
        {"event_id": "e5", "appeal_id": "a3", "occurred_at": "2026-03-09T09:00:00", "event_type": "claimed",
         "actor_type": "specialist", "actor_id": "s1"},
        {"event_id": "e6", "appeal_id": "a3", "occurred_at": "2026-03-10T08:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "upheld"},
        {"event_id": "e7", "appeal_id": "a4", "occurred_at": "2026-03-10T10:30:00", "event_type": "assigned",
         "actor_type": "system", "actor_id": "s1"},
    ],
}


def test_overview_of_a_hand_made_warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", make_warehouse(tmp_path, ROWS))
    at = run(RUNNING_WEEK)
    got = shown(at)
    assert got["Appeals created"] == ("2", "+0 (+0%)")  # a3, a4 vs a1, a2
    assert got["Appeals resolved"] == ("1", "-1 (-50%)")  # a3 vs a1, a2
    assert got["Backlog open"] == ("1", "+1")  # a4 open at the end of the week; none on 9 Mar 00:00
    assert got["Backlog breached"] == ("0", "+0")  # no SLA policy: nothing can breach
    assert got["TTR p50"] == ("24.0 h", "+0.0 h")
    assert got["FTR p50"] == ("1.0 h", "-0.5 h")  # 1 h vs median(1 h, 2 h) = 1.5 h
    assert got["FTR p90"] == ("1.0 h", "-0.9 h")  # vs 1 + 0.9·(2 − 1) = 1.9 h
    assert got["Overturn rate"] == ("0.0%", "-50.0 pp")  # 0/1 vs 1/2
    assert got["Resolution SLA"] == ("—", None)  # no sla_policies table: no SLA decided
    assert got["QA accuracy"] == ("—", None)
    captions = " ".join(c.value for c in at.caption)
    assert "0 / 1 appeals" in captions and "Week 11 of 2026" in " ".join(c.value for c in at.caption)
    assert "10 Mar 2026 10:30 UTC" in sidebar_text(at)  # freshness on every page

    at.multiselect(key="queue").set_value(["q1"]).run()  # q1 had nothing in the headline week
    got = shown(at)
    assert got["Appeals created"] == ("0", "-2 (-100%)") and got["Overturn rate"] == ("—", None)


def test_default_is_the_bundled_sample_read_only():
    at = run()
    assert "data/sample/warehouse.duckdb" in sidebar_text(at)
    assert at.title[0].value == "Overview" and len(at.metric) >= 11


def test_secrets_url_is_used_when_no_environment_variable(tmp_path):
    url = make_warehouse(tmp_path, ROWS, name="from_secrets.duckdb")
    at = run(connections={"warehouse": {"url": url}})
    assert "from_secrets.duckdb" in sidebar_text(at)
    assert dict((m.label, m.value) for m in at.metric)["Appeals created"] == "2"


def test_environment_variable_wins_over_secrets(tmp_path, monkeypatch):
    env_url = make_warehouse(tmp_path, ROWS, name="from_env.duckdb")
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", env_url)
    at = run(connections={"warehouse": {"url": "duckdb:////nowhere/secrets.duckdb"}})
    assert "from_env.duckdb" in sidebar_text(at)


def test_missing_file_is_one_line_not_a_traceback(monkeypatch):
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", "duckdb:////nowhere/at/all.duckdb")
    at = run()
    assert len(at.error) == 1 and "DuckDB file not found: /nowhere/at/all.duckdb" in at.error[0].value
    assert not at.metric


def test_missing_column_is_named(tmp_path, monkeypatch):
    path = tmp_path / "broken.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table appeals (appeal_id varchar, created_at timestamp)")
    con.execute("create table appeal_events (event_id varchar)")
    con.close()
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", f"duckdb:///{path}")
    at = run()
    assert len(at.error) == 1 and "appeals.queue: required column is missing" in at.error[0].value


def test_password_is_not_shown(monkeypatch):
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", "postgresql+psycopg://analyst:s3cret@127.0.0.1:1/appeals")
    at = run()
    text = " ".join(e.value for e in at.error) + " ".join(c.value for c in at.caption)
    assert at.error and "s3cret" not in text and "analyst:***@127.0.0.1" in text


@pytest.mark.postgres
def test_overview_on_postgresql(pg_url, monkeypatch):
    """The same hand-made warehouse in PostgreSQL, reached through st.connection by URL (the
    schema chosen with libpq's search_path option): the same numbers."""
    from metrics.load import frames_from_rows
    from tests.pg import load_tables_pg

    load_tables_pg(pg_url, frames_from_rows(ROWS), schema="dashboard_hand")
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", f"{pg_url}?options=-csearch_path%3Ddashboard_hand")
    at = run(RUNNING_WEEK)
    got = shown(at)
    assert got["Appeals resolved"] == ("1", "-1 (-50%)")
    assert got["FTR p90"] == ("1.0 h", "-0.9 h")
    assert got["Overturn rate"] == ("0.0%", "-50.0 pp")
    assert "postgresql+psycopg://postgres@127.0.0.1" in sidebar_text(at)
    for page in ("queues", "specialists", "root_causes", "definitions", "data_quality"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception and not at.error, (page, [e.value for e in at.exception])
