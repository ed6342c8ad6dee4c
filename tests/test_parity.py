"""The SQL engine (pushed down) and the Polars reference agree on random, nasty warehouses."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import api
from tests.helpers import make_warehouse
from tests.randomwh import random_as_of, random_tables

CASES = [
    (["queue"], "week", "UTC"),
    ([], "day", "Europe/Dublin"),
    (["specialist_id", "priority"], "month", "America/Phoenix"),
    (["policy"], "week", "Australia/Sydney"),
    (["theme", "enforcement_source"], "week", "UTC"),
]


@pytest.mark.parametrize("seed", range(12))
def test_sql_and_polars_reports_agree(tmp_path, seed):
    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(seed, tables)
    by, period, tz = CASES[seed % len(CASES)]
    sql = api.report(url, by=by, period=period, tz=tz, as_of=as_of, engine="sql")
    ref = api.report(url, by=by, period=period, tz=tz, as_of=as_of, engine="polars")
    assert sql.height > 0
    assert_frame_equal(sql, ref, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("seed", [3, 8])
def test_engines_agree_with_filters_and_range(tmp_path, seed):
    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    kwargs = dict(by=["queue"], period="week", filters={"queue": ["q_a", "q_b"], "priority": ["P1", "P2"]})
    facts = api.facts(url)
    first = facts["created_at"].min().date()
    kwargs["date_from"] = first.isoformat()
    sql = api.report(url, engine="sql", **kwargs)
    ref = api.report(url, engine="polars", **kwargs)
    assert set(sql["queue"].unique().to_list()) <= {"q_a", "q_b"}
    assert_frame_equal(sql, ref, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("seed", [0, 2, 5])
def test_engines_agree_on_a_window_in_the_middle(tmp_path, seed):
    """A range inside the history, in a zone west of UTC: the SQL backlog reads only the open
    stretches that can hold one of its period ends (engine_sql._backlog_sources); the Polars
    engine joins them all. Stretches closed before the window and opened after it exist."""
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(seed, tables)
    spans = api.status_spans(url, as_of)
    start = spans["open_from"].sort()[spans.height // 3].date()  # a third of the stretches open before it
    end = start + timedelta(days=2)
    window_from = datetime.combine(start, time(0), tzinfo=ZoneInfo("America/Los_Angeles")).astimezone(UTC)
    window_to = datetime.combine(end + timedelta(days=1), time(0), tzinfo=ZoneInfo("America/Los_Angeles")).astimezone(UTC)
    assert (spans["open_to"] < window_from).sum() > 0  # closed before the window's first period end
    assert (spans["open_from"] >= window_to).sum() > 0  # opened after its last
    kwargs = dict(by=["queue"], period="day", tz="America/Los_Angeles", as_of=as_of,
                  date_from=start.isoformat(), date_to=end.isoformat())
    sql = api.report(url, engine="sql", **kwargs)
    ref = api.report(url, engine="polars", **kwargs)
    assert sql["backlog_open"].sum() > 0
    assert_frame_equal(sql, ref, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_every_appeal_once_in_facts(tmp_path, seed):
    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(seed, tables)
    facts = api.facts(url, as_of=as_of)
    ids = {a["appeal_id"].strip() for a in tables["appeals"]
           if as_of is None or a["created_at"] <= as_of}
    assert facts["appeal_id"].n_unique() == facts.height
    assert set(facts["appeal_id"].to_list()) == ids
    # a Data partner can recompute appeals_created from facts alone
    rep = api.report(url, by=[], period="week", as_of=as_of, metrics=["appeals_created"])
    assert rep["appeals_created"].sum() == facts.height
    by_week = facts.group_by(pl.col("created_at").dt.truncate("1w").dt.date().alias("period_start")).len()
    joined = rep.join(by_week, on="period_start", how="left")
    assert (joined["appeals_created"] == joined["len"].fill_null(0)).all()


@pytest.mark.parametrize("seed", [1, 4])
def test_materialized_session_gives_the_same_answers(tmp_path, seed):
    # api.prepare computes each model once into temp tables; every answer must be unchanged
    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    plain_facts = api.facts(url, wide=True)
    plain_report = api.report(url, by=["queue", "priority"], period="week")
    plain_checks = [(c.name, c.count, c.examples) for c in api.check(url)]
    wh = api.prepare(url)
    assert wh.model_overrides(api.as_of_param(api.resolve_as_of(wh, None)))  # really materialized
    assert_frame_equal(api.facts(wh, wide=True), plain_facts)
    assert_frame_equal(api.report(wh, by=["queue", "priority"], period="week"), plain_report)
    assert [(c.name, c.count, c.examples) for c in api.check(wh)] == plain_checks


# -- backlog by owner-following keys (issue 15) ---------------------------------------------------

OWNER_CASE = dict(by=["specialist_id", "site"], period="day", tz="America/New_York")


@pytest.mark.parametrize("seed", range(6))
def test_backlog_by_owner_keys_engines_agree(tmp_path, seed):
    # random reassignments (late routing, while open, after decisions, at midnight, tied):
    # the backlog cells of a daily report by specialist and site in a DST zone
    tables = random_tables(seed)
    assert sum(e["event_type"] == "assigned" for e in tables["appeal_events"]) > 30
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(seed, tables)
    sql = api.report(url, as_of=as_of, engine="sql", **OWNER_CASE)
    ref = api.report(url, as_of=as_of, engine="polars", **OWNER_CASE)
    assert sql["backlog_open"].sum() > 0
    assert_frame_equal(sql, ref, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    sites = sorted({s for s in sql["site"].to_list() if s is not None})
    if sites:  # a filter on an owner key selects stretches in both engines
        kwargs = OWNER_CASE | {"filters": {"site": sites[:1]}, "metrics": ["backlog_open", "backlog_breached"]}
        assert_frame_equal(api.report(url, as_of=as_of, engine="sql", **kwargs),
                           api.report(url, as_of=as_of, engine="polars", **kwargs))
