"""Open work now (metrics.workload) and the drill-downs behind every number (api.backlog_members,
api.qa_members): hand-derived cases, then reconciliation with the report on the sample
(every listed row count equals the cell it opens)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from metrics import api, workload
from metrics.warehouse import WarehouseError
from tests.cases import T, appeal, ev, policy
from tests.helpers import make_warehouse

ROOT = Path(__file__).resolve().parent.parent
AS_OF = T("2026-03-04 12:00")  # a Wednesday; the ISO week starts Mon 2026-03-02

# Calendar clock at P2: resolution target 24 h, so deadline = created + 24 h. P9 has no policy.
CASE_APPEALS = [
    appeal("B1", "2026-03-02 09:00:00"),  # deadline Tue 03-03 09:00 < as_of: breached, 27 h overdue
    appeal("B2", "2026-03-03 11:00:00", queue="payments_hold"),  # deadline Wed 11:00: breached, 1 h overdue
    appeal("E1", "2026-03-03 12:00:00"),  # deadline Wed 12:00 = as_of: pending (not breached), due now (0 h)
    appeal("D1", "2026-03-03 13:00:00"),  # deadline Wed 13:00: due in 1 h
    appeal("D2", "2026-03-04 06:00:00"),  # deadline Thu 06:00: due in 18 h
    appeal("D3", "2026-03-04 11:00:00"),  # deadline Thu 11:00: due in 23 h
    appeal("R1", "2026-03-02 09:00:00"),  # resolved Mon 20:00: not open, in none
    appeal("X1", "2026-03-02 09:00:00", priority="P9"),  # open, no policy: no deadline, open only
]
CASE_EVENTS = [
    ev("B1-1", "B1", "2026-03-02 09:05:00", "assigned", actor_type="system", actor_id="s1"),
    ev("B2-1", "B2", "2026-03-03 11:05:00", "assigned", actor_type="system", actor_id="s2"),
    ev("D1-1", "D1", "2026-03-03 13:05:00", "assigned", actor_type="system", actor_id="s1"),
    ev("D2-1", "D2", "2026-03-04 06:05:00", "assigned", actor_type="system", actor_id="s2"),
    ev("E1-1", "E1", "2026-03-03 12:05:00", "assigned", actor_type="system", actor_id="s1"),
    ev("R1-1", "R1", "2026-03-02 20:00:00", "decided", outcome="upheld"),
]


@pytest.fixture(scope="module")
def case_url(tmp_path_factory) -> str:
    return make_warehouse(tmp_path_factory.mktemp("workload"), {
        "appeals": CASE_APPEALS, "appeal_events": CASE_EVENTS, "sla_policies": [policy("*", "P2", 4, 24)]})


def test_breached_due_and_open_by_hand(case_url):
    total = workload.by_group(case_url, AS_OF, key=None, hours=4).row(0, named=True)
    # open: B1 B2 E1 D1 D2 D3 X1 = 7; breached: B1, B2 = 2; due within 4 h: E1 (0 h), D1 (1 h) = 2
    assert (total["open_appeals"], total["breached"], total["due_soon"]) == (7, 2, 2)
    assert total["oldest_age_hours"] == pytest.approx(51.0)  # B1/X1 created Mon 09:00, as_of Wed 12:00
    wide = workload.by_group(case_url, AS_OF, key=None, hours=24).row(0, named=True)
    assert wide["due_soon"] == 4  # + D2 (18 h) and D3 (23 h); B1/B2 are breached, not due
    by_queue = {r["queue"]: r for r in workload.by_group(case_url, AS_OF, key="queue", hours=4).iter_rows(named=True)}
    assert (by_queue["account_suspension"]["open_appeals"], by_queue["account_suspension"]["breached"],
            by_queue["account_suspension"]["due_soon"]) == (6, 1, 2)  # B1 D1 D2 D3 E1 X1; B1; E1 D1
    assert (by_queue["payments_hold"]["open_appeals"], by_queue["payments_hold"]["breached"]) == (1, 1)  # B2
    by_owner = {r["specialist_id"]: r for r in workload.by_group(case_url, AS_OF, key="specialist_id", hours=4)
                .iter_rows(named=True)}
    assert (by_owner["s1"]["open_appeals"], by_owner["s1"]["breached"], by_owner["s1"]["due_soon"]) == (3, 1, 2)  # B1 D1 E1
    assert (by_owner["s2"]["open_appeals"], by_owner["s2"]["breached"], by_owner["s2"]["due_soon"]) == (2, 1, 0)  # B2 D2
    assert by_owner[None]["open_appeals"] == 2  # D3 and X1 were never assigned


@pytest.mark.parametrize("key", ["queue", "specialist_id"])
def test_the_total_row_from_the_groups_rows(case_url, key):
    """total_of(by_group(key)) is by_group(None): the pages derive the total from the queue rows.
    By owner the groups include the unassigned (null) one: D3 and X1 (the hand counts above)."""
    for hours in (4, 24):
        derived = workload.total_of(workload.by_group(case_url, AS_OF, key=key, hours=hours))
        assert derived.to_dicts() == workload.by_group(case_url, AS_OF, key=None, hours=hours).to_dicts()
    assert derived.row(0, named=True)["open_appeals"] == 7 and derived.row(0, named=True)["due_soon"] == 4
    # no open appeal (as_of before any creation): no row either way
    early = T("2026-02-01 00:00")
    empty = workload.by_group(case_url, early, key=key, hours=4)
    assert empty.is_empty() and workload.total_of(empty).is_empty()
    assert workload.by_group(case_url, early, key=None, hours=4).is_empty()


def test_needs_action_sorted_by_time_left(case_url):
    rows, total = workload.needs_action_list(case_url, AS_OF, hours=4)
    assert total == 4
    assert rows["appeal_id"].to_list() == ["B1", "B2", "E1", "D1"]  # deadlines Tue 09, Wed 11, Wed 12, Wed 13
    left = rows.select((pl.col("ttr_deadline_at") - pl.lit(AS_OF)).dt.total_seconds() / 3600)["ttr_deadline_at"]
    assert left.to_list() == pytest.approx([-27.0, -1.0, 0.0, 1.0])


def test_backlog_of_the_current_period_equals_breached_now(case_url):
    report = api.report(case_url, by="none", metrics="backlog_open,backlog_breached", as_of=AS_OF)
    week = report.filter(pl.col("period_start") == T("2026-03-02").date()).row(0, named=True)
    assert (week["backlog_open"], week["backlog_breached"]) == (7, 2)  # = open and breached now (above)
    rows, total = api.backlog_members(case_url, "2026-03-02", as_of=AS_OF, breached_only=True)
    assert total == 2 and sorted(rows["appeal_id"].to_list()) == ["B1", "B2"]


def test_policy_clock_age_on_a_calendar_clock_is_calendar_age(case_url):
    ages = dict(workload.clock_age_hours(case_url, AS_OF, ["B1", "D3", "X1"]).iter_rows())
    assert ages["B1"] == pytest.approx(51.0)  # Mon 09:00 → Wed 12:00
    assert ages["D3"] == pytest.approx(1.0)  # Wed 11:00 → 12:00
    assert "X1" not in ages  # no policy: no clock


def test_business_clock_age_counts_open_hours_only(tmp_path):
    # Mon-Fri 09:00-17:00 UTC. Created Mon 03-02 16:00; as_of Tue 03-03 10:00:
    # Mon 16-17 (1 h) + Tue 09-10 (1 h) = 2 business hours, 18 calendar hours.
    hours = [{"schedule_id": "uk", "timezone": "UTC", "weekday": d, "start_time": "09:00", "end_time": "17:00"}
             for d in range(1, 6)]
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("A1", "2026-03-02 16:00:00")], "appeal_events": [],
        "sla_policies": [policy("*", "P2", 4, 16, clock="business", schedule_id="uk")], "business_hours": hours})
    ages = dict(workload.clock_age_hours(url, T("2026-03-03 10:00"), ["A1"]).iter_rows())
    assert ages["A1"] == pytest.approx(2.0)


def test_clock_age_of_an_appeal_whose_raw_id_is_padded(tmp_path):
    """The listed ids are staged ids; a raw id padded with spaces ("  A1 ") is the same appeal
    (Warehouse.staged_text_in compares the raw text first, then the trimmed one)."""
    hours = [{"schedule_id": "uk", "timezone": "UTC", "weekday": d, "start_time": "09:00", "end_time": "17:00"}
             for d in range(1, 6)]
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("  A1 ", "2026-03-02 16:00:00"), appeal("A2 ", "2026-03-02 16:00:00", priority="P1"),
                    appeal("A3", "2026-03-03 08:00:00")],
        "appeal_events": [],
        "sla_policies": [policy("*", "P2", 4, 16, clock="business", schedule_id="uk"), policy("*", "P1", 4, 16)],
        "business_hours": hours})
    ages = dict(workload.clock_age_hours(url, T("2026-03-03 10:00"), ["A1", "A2", "A3"]).iter_rows())
    # A1: Mon 16-17 + Tue 09-10 = 2 business hours; A2 (P1, calendar): Mon 16:00 to Tue 10:00 = 18 h;
    # A3: Tue 08:00 to 10:00, before opening at 09:00 = 1 business hour
    assert ages == pytest.approx({"A1": 2.0, "A2": 18.0, "A3": 1.0})


def test_clock_ages_with_the_listed_appeals_read_from_the_store(tmp_path, monkeypatch):
    """With the store given, the listed appeals' rows come from its facts and the warehouse
    gives only the policies and schedules: the same ages as above. A2 is resolved at 10:00 (the
    store's as_of, its latest instant), so it is found by the second lookup (not open)."""
    from metrics import refresh, store

    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    hours = [{"schedule_id": "uk", "timezone": "UTC", "weekday": d, "start_time": "09:00", "end_time": "17:00"}
             for d in range(1, 6)]
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("  A1 ", "2026-03-02 16:00:00"), appeal("A2 ", "2026-03-02 16:00:00", priority="P1"),
                    appeal("A3", "2026-03-03 08:00:00")],
        "appeal_events": [ev("e1", "A2", "2026-03-03 10:00:00", "decided", outcome="upheld")],
        "sla_policies": [policy("*", "P2", 4, 16, clock="business", schedule_id="uk"), policy("*", "P1", 4, 16)],
        "business_hours": hours})
    wh = api.open_warehouse(url)
    refresh.refresh(wh)
    kept = store.open_store(wh, store.location(wh))
    try:
        assert kept.as_of == T("2026-03-03 10:00")
        assert api.facts(kept).sort("appeal_id")["status"].to_list() == ["open", "resolved", "open"]
        ages = dict(workload.clock_age_hours(wh, T("2026-03-03 10:00"), ["A1", "A2", "A3", "A9"], store=kept).iter_rows())
        # as in the test above: A1 2 business hours, A2 18 calendar hours, A3 1 business hour; A9 is no appeal
        assert ages == pytest.approx({"A1": 2.0, "A2": 18.0, "A3": 1.0})
    finally:
        kept.db.close()


def test_bad_hours_and_keys_are_refused(case_url):
    with pytest.raises(WarehouseError, match="--hours"):
        workload.by_group(case_url, AS_OF, hours=0)
    with pytest.raises(WarehouseError, match="key"):
        workload.by_group(case_url, AS_OF, key="appeal_text")


def test_decision_notes_are_redacted(tmp_path):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("A1")],
        "appeal_events": [ev("A1-1", "A1", "2026-03-02 12:00:00", "decided", outcome="overturned",
                             note="Overturned ap_0000001 on 2026-03-02; reach jane.doe@example.com or +44 7700 900123")]})
    notes = workload.decision_notes(url, T("2026-03-03 00:00"), ["A1"])
    assert notes["decision_note"][0] == "Overturned ap_0000001 on 2026-03-02; reach [email] or [phone]"


def test_decision_notes_from_the_store(tmp_path, monkeypatch):
    """The store keeps the final decision notes (decision_notes): a drill-down's page reads them
    there, redacted the same; an appeal whose decision was reopened has no final note."""
    from metrics import refresh

    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("A1"), appeal("A2"), appeal("A3")],
        "appeal_events": [ev("A1-1", "A1", "2026-03-02 12:00:00", "decided", outcome="upheld",
                             note="Upheld; call +44 7700 900123"),
                          ev("A2-1", "A2", "2026-03-02 12:00:00", "decided", outcome="overturned", note="Wrong policy"),
                          ev("A2-2", "A2", "2026-03-02 13:00:00", "reopened")]})
    assert refresh.refresh(url).mode == "full"
    reader = refresh.source(url)
    assert type(reader).__name__ == "StoreWarehouse"
    stored = workload.decision_notes(reader, reader.as_of, ["A1", "A2", "A3"])
    assert stored.to_dicts() == [{"appeal_id": "A1", "decision_note": "Upheld; call [phone]"}]
    assert stored.equals(workload.decision_notes(url, reader.as_of, ["A1", "A2", "A3"]))
    reader.db.close()


# -- the sample: every drill-down's row count equals the number it opens ------------------------


@pytest.fixture(scope="module")
def sample():
    from metrics.sample import ensure_sample_duckdb

    wh = api.prepare(f"duckdb:///{ensure_sample_duckdb(ROOT / 'data' / 'sample')}")
    return wh, api.resolve_as_of(wh, None)


def test_sample_breached_now_is_the_backlog_breached_of_the_current_week(sample):
    wh, as_of = sample
    week = (as_of - timedelta(days=as_of.weekday())).date()
    report = api.report(wh, by="queue", metrics="backlog_open,backlog_breached", date_from=week, as_of=as_of)
    now = workload.by_group(wh, as_of, key="queue", hours=24)
    joined = report.join(now, on="queue")
    assert joined.height == report.height == now.height
    assert joined["backlog_breached"].to_list() == joined["breached"].to_list()
    assert joined["backlog_open"].to_list() == joined["open_appeals"].to_list()
    assert now["breached"].sum() == 94  # the "Backlog breached 94"
    rows, total = api.backlog_members(wh, week, as_of=as_of, breached_only=True)
    assert total == rows.height == 94 and rows["is_breached"].all()
    rows, total = workload.needs_action_list(wh, as_of, hours=24)
    _, due = api.at_risk(wh, as_of, within_hours=24)
    assert total == 94 + due  # needs action = breached now + due within 24 h (44 on the sample)


def test_sample_breached_by_specialist_reconciles(sample):
    wh, as_of = sample
    week = (as_of - timedelta(days=as_of.weekday())).date()
    report = api.report(wh, by="specialist_id", metrics="backlog_breached", date_from=week, as_of=as_of)
    now = workload.by_group(wh, as_of, key="specialist_id", hours=24)
    merged = report.join(now, on="specialist_id", how="full", coalesce=True, nulls_equal=True).fill_null(0)
    assert merged["backlog_breached"].to_list() == merged["breached"].to_list()


def test_sample_backlog_cells_of_past_weeks_list_their_appeals(sample):
    wh, as_of = sample
    report = api.report(wh, by="queue", metrics="backlog_open,backlog_breached", date_from="2026-11-02", as_of=as_of)
    for row in report.filter(pl.col("queue").is_in(["payments_hold", "listing_removal"])).iter_rows(named=True):
        _, n_open = api.backlog_members(wh, row["period_start"], group={"queue": row["queue"]}, as_of=as_of)
        _, n_breached = api.backlog_members(wh, row["period_start"], group={"queue": row["queue"]}, as_of=as_of,
                                            breached_only=True)
        assert (n_open, n_breached) == (row["backlog_open"], row["backlog_breached"]), row


def test_sample_qa_cells_list_their_reviews(sample):
    wh, as_of = sample
    report = api.report(wh, by="queue", metrics="qa_accuracy", date_from="2026-11-09", as_of=as_of)
    for row in report.iter_rows(named=True):
        rows, total = api.qa_members(wh, row["period_start"], group={"queue": row["queue"]}, as_of=as_of)
        assert total == rows.height == row["qa_accuracy_denominator"]
        assert int(rows["in_numerator"].sum()) == row["qa_accuracy_numerator"]


def test_sample_business_clock_ages_agree_with_deadlines(sample):
    """A breached appeal has spent more than its target on its policy clock; a pending one less."""
    wh, as_of = sample
    rows, _ = workload.needs_action_list(wh, as_of, hours=72, limit=400)
    ages = workload.clock_age_hours(wh, as_of, rows["appeal_id"].to_list())
    both = rows.join(ages, on="appeal_id").with_columns(
        (pl.col("ttr_deadline_at") < pl.lit(as_of)).alias("late"))
    assert both.height == rows.height
    assert (both.filter("late")["clock_age_hours"] >= both.filter("late")["ttr_target_hours"]).all()
    assert (both.filter(~pl.col("late"))["clock_age_hours"] <= both.filter(~pl.col("late"))["ttr_target_hours"]).all()
    assert both.filter(pl.col("sla_clock") == "business").height > 0


@pytest.mark.parametrize("seed", [1, 6, 9])
def test_clock_ages_of_a_page_equal_the_whole_warehouse_computation(tmp_path, monkeypatch, seed):
    """clock_age_hours stages only the listed appeals (their policy; the schedules' clocks from
    two days before the earliest of them): on random nasty warehouses (duplicate ids, business
    and calendar clocks, DST zones, holidays) every appeal's age equals the one computed with
    every appeal staged (the clock counting from the warehouse's first appeal), for a page of
    three and for all appeals at once."""
    from polars.testing import assert_frame_equal

    from metrics.warehouse import Warehouse
    from tests.randomwh import random_as_of, random_tables

    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(seed, tables)
    facts = api.facts(url, as_of, wide=True)
    assert (facts["sla_clock"] == "business").sum() >= 29  # 34, 29 and 40 of 60 on business clocks
    ids = sorted(facts["appeal_id"].to_list())
    scoped_all = workload.clock_age_hours(url, as_of, ids).sort("appeal_id")
    scoped_page = workload.clock_age_hours(url, as_of, ids[-3:]).sort("appeal_id")
    assert scoped_all["clock_age_hours"].is_not_null().sum() > 0
    unscoped = Warehouse.staging_ctes
    monkeypatch.setattr(Warehouse, "staging_ctes", lambda self, src_filter=None: unscoped(self))
    whole = workload.clock_age_hours(url, as_of, ids).sort("appeal_id")
    assert_frame_equal(scoped_all, whole, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
    assert_frame_equal(scoped_page, whole.filter(pl.col("appeal_id").is_in(ids[-3:])), check_exact=False,
                       rel_tol=1e-12, abs_tol=1e-9)
