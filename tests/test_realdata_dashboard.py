"""The dashboard and the engine run on a real third-party log imported through its mapping.

The help-desk log (4,580 tickets, ../shared/realdata) is imported whole; the Overview then
renders with no exception and its first KPI equals the engine's report for the same week.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from metrics import api
from metrics import dashboard as views
from metrics.importlog import import_log

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="module")
def helpdesk_url(tmp_path_factory) -> str:
    events = REALDATA / "helpdesk_tickets" / "events.parquet"
    if not events.exists():
        pytest.skip(f"real logs not found at {REALDATA} (they live in ../shared/realdata beside the checkout)")
    out = tmp_path_factory.mktemp("realdata") / "helpdesk.duckdb"
    import_log(events, ROOT / "mappings" / "helpdesk_tickets.yml", out)
    return f"duckdb:///{out}"


def test_engine_numbers_on_the_helpdesk_log(helpdesk_url):
    facts = api.facts(helpdesk_url)
    # every ticket is an appeal, exactly once
    assert facts.height == 4580 and facts["appeal_id"].n_unique() == 4580
    total = api.report(helpdesk_url, by=[], period="month",
                       metrics=["appeals_created", "appeals_resolved", "overturn_rate"])
    assert total["appeals_created"].sum() == 4580
    # resolved in some month = resolved in facts (a Data partner's reconciliation)
    assert total["appeals_resolved"].sum() == facts.filter(pl.col("status") == "resolved").height
    # the log carries no verdicts: decisions have no outcome, so overturn rates are 0/0 → null
    assert total["overturn_rate"].is_null().all() and (total["overturn_rate_denominator"] == 0).all()


def test_overview_renders_on_the_helpdesk_log(helpdesk_url, monkeypatch):
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", helpdesk_url)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    as_of = api.resolve_as_of(helpdesk_url, None)
    week = views.period_start(views.default_date_range(as_of)[1], "week")
    rep = api.report(helpdesk_url, by=[], period="week", date_from=week, date_to=week, metrics=["appeals_created"])
    expected = rep["appeals_created"][0] if rep.height else 0
    assert metrics["Appeals created"].replace(",", "") == str(expected)
    st.cache_data.clear()
    st.cache_resource.clear()
