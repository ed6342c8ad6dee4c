"""Hand-derived cases for `api.report` (metrics.md "Cohorting", "Rates", "Durations";
interfaces.md `report`).

Every expected value is worked out by hand; the arithmetic is in the comment beside it.
Instants are UTC unless stated. ISO weeks start on Monday: 2026-02-23, 03-02, 03-09, 03-16 ...
"""

from __future__ import annotations

import polars as pl
import pytest

from tests.cases import D, T, appeal, ev, policy
from tests.helpers import make_warehouse

METRICS = [
    "appeals_created",
    "appeals_resolved",
    "ttr_p50_hours",
    "ttr_p90_hours",
    "ftr_p50_hours",
    "ftr_p90_hours",
    "ftr_sla_attainment",
    "ttr_sla_attainment",
    "overturn_rate",
    "full_overturn_rate",
    "reopen_rate",
    "escalation_rate",
    "backlog_open",
    "backlog_breached",
    "qa_accuracy",
    "appeal_rate",
]
RATES = [
    "ftr_sla_attainment",
    "ttr_sla_attainment",
    "overturn_rate",
    "full_overturn_rate",
    "reopen_rate",
    "escalation_rate",
    "qa_accuracy",
    "appeal_rate",
]


# --------------------------------------------------------------------------- helpers


def _dated(df: pl.DataFrame) -> pl.DataFrame:
    # The contract says period_start is a date; normalise a datetime so value checks stay focused.
    if isinstance(df.schema["period_start"], pl.Datetime):
        df = df.with_columns(pl.col("period_start").dt.date())
    return df


def rows(df: pl.DataFrame, keys: tuple[str, ...] = ()) -> dict[tuple, dict]:
    out = {}
    for r in _dated(df).to_dicts():
        k = (r["period_start"], *(r[k] for k in keys))
        assert k not in out, f"duplicate cell {k}"
        out[k] = r
    return out


def z(v):
    """A count that may be reported as 0 or left null when nothing was counted."""
    return 0 if v is None else v


def approx(x):
    return pytest.approx(x, abs=1e-6)


def assert_rate(r: dict, name: str, num: int, den: int):
    assert z(r[f"{name}_numerator"]) == num, (name, r[f"{name}_numerator"])
    assert z(r[f"{name}_denominator"]) == den, (name, r[f"{name}_denominator"])
    if den == 0:
        assert r[name] is None, (name, r[name])  # zero denominator → null
    else:
        assert r[name] == approx(num / den), (name, r[name])


# --------------------------------------------------------------------------- shape


def test_report_columns(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("A1", "2026-03-02 09:00:00")],
        "appeal_events": [ev("A1-01", "A1", "2026-03-02 10:00:00", "decided", outcome="upheld")],
    })
    df = api.report(url, by=["queue"], period="week", as_of=T("2026-03-03 00:00"))
    assert df.columns[0] == "period_start"
    assert df.schema["period_start"] == pl.Date
    assert df.columns[1] == "queue"  # the keys follow period_start
    for m in METRICS:
        assert m in df.columns, m
    for r in RATES:
        assert f"{r}_numerator" in df.columns, r
        assert f"{r}_denominator" in df.columns, r
    tot = api.report(url, by=None, period="week", as_of=T("2026-03-03 00:00"))
    assert tot.columns[0] == "period_start"
    assert "queue" not in tot.columns  # totals: no key columns
    tot2 = api.report(url, by=[], period="week", as_of=T("2026-03-03 00:00"))
    assert tot2.columns == tot.columns


# --------------------------------------------------------------------------- weekly cohorting


def test_weekly_cohorting(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("A", "2026-03-02 10:00:00"),  # Mon, week 03-02
            appeal("B", "2026-03-08 23:00:00"),  # Sun, still week 03-02
            appeal("C", "2026-03-10 10:00:00"),  # Tue, week 03-09
        ],
        "appeal_events": [
            ev("A-01", "A", "2026-03-04 10:00:00", "claimed"),  # FTR 48 h, week 03-02
            ev("A-02", "A", "2026-03-09 10:00:00", "decided", outcome="overturned"),  # TTR 168 h, week 03-09
            ev("B-01", "B", "2026-03-09 01:00:00", "claimed"),  # FTR 2 h, week 03-09
            ev("B-02", "B", "2026-03-09 05:00:00", "decided", outcome="upheld"),  # TTR 6 h, week 03-09
        ],
    })
    df = api.report(url, by=None, period="week", as_of=T("2026-03-12 00:00"))
    got = rows(df)
    assert set(got) == {(D("2026-03-02"),), (D("2026-03-09"),)}  # no other week has anything
    w1 = got[(D("2026-03-02"),)]
    assert w1["appeals_created"] == 2  # A, B by created_at
    assert z(w1["appeals_resolved"]) == 0
    assert w1["ftr_p50_hours"] == approx(48.0)  # A's first touch Wed 03-04
    assert w1["ttr_p50_hours"] is None  # nothing resolved in the week
    assert_rate(w1, "overturn_rate", 0, 0)
    assert w1["backlog_open"] == 2  # at E = 03-09 00:00 both A and B are open
    w2 = got[(D("2026-03-09"),)]
    assert w2["appeals_created"] == 1  # C
    assert w2["appeals_resolved"] == 2  # A (Mon 10:00), B (Mon 05:00)
    assert w2["ttr_p50_hours"] == approx(87.0)  # (6 + 168) / 2
    assert w2["ttr_p90_hours"] == approx(151.8)  # 6 + 0.9 * (168 - 6)
    assert w2["ftr_p50_hours"] == approx(2.0)  # only B's first touch falls here
    assert_rate(w2, "overturn_rate", 1, 2)  # A overturned, B upheld
    assert_rate(w2, "full_overturn_rate", 1, 2)
    assert_rate(w2, "reopen_rate", 0, 2)
    assert_rate(w2, "escalation_rate", 0, 2)
    assert w2["backlog_open"] == 1  # C (A and B resolved), state at as_of (end of week is later)


def test_percentiles_continuous(tmp_path, api):
    # all created Mon 03-02 09:00
    url = make_warehouse(tmp_path, {
        "appeals": [appeal(a, "2026-03-02 09:00:00") for a in ("P1", "P2", "P3", "P4", "W")],
        "appeal_events": [
            ev("P1-01", "P1", "2026-03-02 09:30:00", "claimed"),  # FTR 0.5
            ev("P1-02", "P1", "2026-03-02 10:00:00", "decided", outcome="upheld"),  # TTR 1
            ev("P2-01", "P2", "2026-03-02 10:00:00", "claimed"),  # FTR 1
            ev("P2-02", "P2", "2026-03-02 11:00:00", "decided", outcome="upheld"),  # TTR 2
            ev("P3-01", "P3", "2026-03-02 10:30:00", "claimed"),  # FTR 1.5
            ev("P3-02", "P3", "2026-03-02 12:00:00", "decided", outcome="upheld"),  # TTR 3
            ev("P4-01", "P4", "2026-03-02 11:00:00", "claimed"),  # FTR 2
            ev("P4-02", "P4", "2026-03-02 19:00:00", "decided", outcome="upheld"),  # TTR 10
            ev("W-01", "W", "2026-03-02 12:00:00", "claimed"),  # FTR 3 (withdrawn: counts in FTR)
            ev("W-02", "W", "2026-03-02 13:00:00", "withdrawn", "user", "u1"),
        ],
    })
    got = rows(api.report(url, by=None, period="week", as_of=T("2026-03-06 00:00")))
    assert set(got) == {(D("2026-03-02"),)}
    r = got[(D("2026-03-02"),)]
    assert r["appeals_created"] == 5
    assert r["appeals_resolved"] == 4
    # TTR sorted 1, 2, 3, 10: p50 at rank 1.5 → (2 + 3) / 2 = 2.5; p90 at rank 2.7 → 3 + 0.7 * 7 = 7.9
    assert r["ttr_p50_hours"] == approx(2.5)
    assert r["ttr_p90_hours"] == approx(7.9)
    # FTR sorted 0.5, 1, 1.5, 2, 3: p50 = 1.5; p90 at rank 3.6 → 2 + 0.6 * (3 - 2) = 2.6
    assert r["ftr_p50_hours"] == approx(1.5)
    assert r["ftr_p90_hours"] == approx(2.6)
    assert z(r["backlog_open"]) == 0  # everything resolved or withdrawn


def test_overturn_reopen_escalation_rates(tmp_path, api):
    ids = ("O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8", "O9")
    url = make_warehouse(tmp_path, {
        "appeals": [appeal(a, "2026-03-02 09:00:00") for a in ids],
        "appeal_events": [
            ev("O1-01", "O1", "2026-03-02 10:00:00", "escalated", escalation_target="policy"),
            ev("O1-02", "O1", "2026-03-02 12:00:00", "decided", outcome="overturned"),
            ev("O2-01", "O2", "2026-03-02 13:00:00", "decided", outcome="partially_overturned"),
            ev("O3-01", "O3", "2026-03-03 10:00:00", "decided", outcome="upheld"),
            ev("O4-01", "O4", "2026-03-02 11:00:00", "decided", outcome="upheld"),
            ev("O4-02", "O4", "2026-03-02 15:00:00", "reopened", "user", "u1"),
            ev("O4-03", "O4", "2026-03-02 16:00:00", "escalated", escalation_target="legal"),
            ev("O4-04", "O4", "2026-03-04 10:00:00", "decided", outcome="upheld"),
            ev("O5-01", "O5", "2026-03-04 11:00:00", "decided"),  # no outcome
            ev("O6-01", "O6", "2026-03-04 12:00:00", "decided", outcome="reversed"),  # unknown outcome
            ev("O7-01", "O7", "2026-03-02 10:00:00", "escalated", escalation_target="policy"),
            ev("O7-02", "O7", "2026-03-03 09:00:00", "withdrawn", "user", "u1"),
            ev("O8-01", "O8", "2026-03-02 10:00:00", "escalated", escalation_target="policy"),  # stays open
            ev("O9-01", "O9", "2026-03-02 10:00:00", "decided", outcome="overturned"),
            ev("O9-02", "O9", "2026-03-03 10:00:00", "reopened", "user", "u1"),  # open again
        ],
    })
    got = rows(api.report(url, by=None, period="week", as_of=T("2026-03-07 00:00")))
    assert set(got) == {(D("2026-03-02"),)}
    r = got[(D("2026-03-02"),)]
    assert r["appeals_created"] == 9
    assert r["appeals_resolved"] == 6  # O1–O6; O7 withdrawn, O8 and O9 open
    assert_rate(r, "overturn_rate", 2, 4)  # O1 + O2 over known outcomes O1–O4 (O5, O6 excluded)
    assert_rate(r, "full_overturn_rate", 1, 4)  # O1 only
    assert_rate(r, "reopen_rate", 1, 6)  # O4
    assert_rate(r, "escalation_rate", 2, 6)  # O1, O4 (O7, O8 are not resolved)
    assert r["backlog_open"] == 2  # O8, O9 open at as_of (week ends after as_of)


def test_zero_denominators_are_null(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("A1", "2026-03-02 09:00:00")],
        "appeal_events": [],
        "enforcements": [],
        "qa_reviews": [],
        "sla_policies": [policy("*", "P2", 100, 500)],  # deadlines far after as_of → pending
    })
    got = rows(api.report(url, by=None, period="week", as_of=T("2026-03-04 00:00")))
    assert set(got) == {(D("2026-03-02"),)}
    r = got[(D("2026-03-02"),)]
    assert r["appeals_created"] == 1
    assert r["backlog_open"] == 1
    assert z(r["backlog_breached"]) == 0  # TTR deadline 03-02 09:00 + 500 h is after as_of
    for rate in RATES:
        if rate != "appeal_rate":
            assert_rate(r, rate, 0, 0)  # nothing resolved, no SLA decided, no reviews
    assert_rate(r, "appeal_rate", 1, 0)  # 1 appeal created ÷ 0 enforcements → null rate
    assert r["ttr_p50_hours"] is None and r["ftr_p50_hours"] is None


# --------------------------------------------------------------------------- SLA attainment cohorting


def test_sla_attainment_counted_in_decision_period(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("S1", "2026-03-08 21:00:00"),  # Sun, FTR deadline Mon 03-09 01:00
            appeal("S2", "2026-03-08 20:00:00"),  # FTR deadline Mon 03-09 00:00 (week boundary)
            appeal("S3", "2026-03-08 23:00:00"),  # FTR deadline Mon 03-09 03:00
            appeal("S4", "2026-03-11 10:00:00"),  # FTR deadline 14:00 > as_of → pending
            appeal("S5", "2026-03-02 10:00:00"),  # FTR deadline 14:00, never touched
            appeal("S6", "2026-03-09 10:00:00"),
            appeal("S7", "2026-03-07 10:00:00"),  # Sat, FTR deadline Sat 14:00
        ],
        "appeal_events": [
            ev("S1-01", "S1", "2026-03-08 22:00:00", "claimed"),  # achieved, stop Sun 22:00 → week 03-02
            ev("S2-01", "S2", "2026-03-09 02:00:00", "claimed"),  # breached, deadline Mon 00:00 → week 03-09
            ev("S3-01", "S3", "2026-03-09 02:59:00", "claimed"),  # achieved, stop Mon 02:59 → week 03-09
            ev("S6-01", "S6", "2026-03-09 11:00:00", "claimed"),  # achieved → week 03-09
            ev("S7-01", "S7", "2026-03-10 09:00:00", "claimed"),  # breached, deadline Sat 03-07 → week 03-02
        ],
        "sla_policies": [policy("*", "P2", 4, 500)],  # TTR 500 h: every TTR SLA still pending
    })
    # S5 breached while open: deadline 03-02 14:00 < as_of → week 03-02
    got = rows(api.report(url, by=None, period="week", as_of=T("2026-03-11 12:00")))
    assert set(got) == {(D("2026-03-02"),), (D("2026-03-09"),)}
    w1 = got[(D("2026-03-02"),)]
    assert w1["appeals_created"] == 5  # S1, S2, S3, S5, S7
    assert_rate(w1, "ftr_sla_attainment", 1, 3)  # achieved S1; breached S5, S7
    assert_rate(w1, "ttr_sla_attainment", 0, 0)  # all pending
    w2 = got[(D("2026-03-09"),)]
    assert w2["appeals_created"] == 2  # S4, S6
    assert_rate(w2, "ftr_sla_attainment", 2, 3)  # achieved S3, S6; breached S2; S4 pending (no period)
    assert_rate(w2, "ttr_sla_attainment", 0, 0)


# --------------------------------------------------------------------------- backlog


def test_backlog_open_and_breached_with_reopen(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("B1", "2026-03-02 10:00:00"),  # TTR deadline Tue 03-03 10:00
            appeal("B2", "2026-03-04 10:00:00"),  # TTR deadline Thu 03-05 10:00
            appeal("B3", "2026-03-19 12:00:00"),  # TTR deadline Fri 03-20 12:00 (after as_of)
            appeal("B4", "2026-03-08 12:00:00"),  # TTR deadline Mon 03-09 12:00
        ],
        "appeal_events": [
            ev("B1-01", "B1", "2026-03-03 10:00:00", "decided", outcome="upheld"),
            ev("B1-02", "B1", "2026-03-10 09:00:00", "reopened", "user", "u1"),
            ev("B1-03", "B1", "2026-03-18 10:00:00", "decided", outcome="overturned"),
            ev("B4-01", "B4", "2026-03-09 06:00:00", "decided", outcome="upheld"),
        ],
        "sla_policies": [policy("*", "P2", 1000, 24)],
    })
    got = rows(api.report(url, by=None, period="week", as_of=T("2026-03-20 00:00")))
    assert set(got) == {(D("2026-03-02"),), (D("2026-03-09"),), (D("2026-03-16"),)}
    w1 = got[(D("2026-03-02"),)]  # E = 03-09 00:00
    assert w1["appeals_created"] == 3  # B1, B2, B4
    assert z(w1["appeals_resolved"]) == 0  # B1's resolved_at is its final decision (03-18)
    assert w1["backlog_open"] == 2  # B2, B4 open; B1 resolved by events before E
    assert w1["backlog_breached"] == 1  # B2 (deadline 03-05 < E); B4 deadline 03-09 12:00 > E
    # TTR SLA: B1 breached at deadline 03-03 10:00 (its 03-03 decision was reopened); B2 breached 03-05
    assert_rate(w1, "ttr_sla_attainment", 0, 2)
    w2 = got[(D("2026-03-09"),)]  # E = 03-16 00:00
    assert z(w2["appeals_created"]) == 0
    assert w2["appeals_resolved"] == 1  # B4 (Mon 03-09 06:00)
    assert w2["backlog_open"] == 2  # B1 (reopened 03-10), B2
    assert w2["backlog_breached"] == 2  # both deadlines long before E
    assert_rate(w2, "ttr_sla_attainment", 1, 1)  # B4 achieved: 18 h <= 24, stop 03-09 06:00
    w3 = got[(D("2026-03-16"),)]  # E = 03-23 00:00, min(E, as_of) = 03-20 00:00
    assert w3["appeals_created"] == 1  # B3
    assert w3["appeals_resolved"] == 1  # B1 final decision 03-18
    assert_rate(w3, "reopen_rate", 1, 1)  # B1 was reopened
    assert_rate(w3, "overturn_rate", 1, 1)  # B1's final outcome
    assert w3["backlog_open"] == 2  # B2, B3
    assert w3["backlog_breached"] == 1  # B2; B3's deadline 03-20 12:00 is not before as_of 03-20 00:00
    assert_rate(w3, "ttr_sla_attainment", 0, 0)  # B3 pending


# --------------------------------------------------------------------------- reporting timezone


def _tz_fixture(tmp_path):
    return make_warehouse(tmp_path, {
        "appeals": [appeal("Z1", "2026-03-01 23:30:00")],  # Sun 23:30 UTC = Mon 03-02 00:30 Berlin (UTC+1)
        "appeal_events": [
            ev("Z1-01", "Z1", "2026-03-02 08:00:00", "claimed"),  # FTR 8.5 h
            ev("Z1-02", "Z1", "2026-03-08 23:30:00", "decided", outcome="upheld"),  # = Mon 03-09 00:30 Berlin
        ],
    })


def test_reporting_timezone_shifts_week(tmp_path, api):
    url = _tz_fixture(tmp_path)
    as_of = T("2026-03-10 00:00")
    utc = rows(api.report(url, by=None, period="week", tz="UTC", as_of=as_of))
    assert set(utc) == {(D("2026-02-23"),), (D("2026-03-02"),)}
    u1 = utc[(D("2026-02-23"),)]
    assert u1["appeals_created"] == 1  # Sun 03-01 is in the week of Mon 02-23
    assert u1["backlog_open"] == 1  # open at E = 03-02 00:00 UTC
    u2 = utc[(D("2026-03-02"),)]
    assert z(u2["appeals_created"]) == 0
    assert u2["appeals_resolved"] == 1  # Sun 03-08 23:30 UTC
    assert u2["ttr_p50_hours"] == approx(168.0)  # exactly 7 days
    assert u2["ftr_p50_hours"] == approx(8.5)  # 03-01 23:30 → 03-02 08:00
    assert z(u2["backlog_open"]) == 0  # resolved before E = 03-09 00:00 UTC

    berlin = rows(api.report(url, by=None, period="week", tz="Europe/Berlin", as_of=as_of))
    assert set(berlin) == {(D("2026-03-02"),), (D("2026-03-09"),)}
    b1 = berlin[(D("2026-03-02"),)]
    assert b1["appeals_created"] == 1  # Mon 00:30 Berlin
    assert b1["ftr_p50_hours"] == approx(8.5)  # first touch Mon 09:00 Berlin
    assert z(b1["appeals_resolved"]) == 0
    assert b1["backlog_open"] == 1  # E = 03-09 00:00 Berlin = 03-08 23:00 UTC, decided 23:30 UTC after E
    b2 = berlin[(D("2026-03-09"),)]
    assert b2["appeals_resolved"] == 1  # Mon 03-09 00:30 Berlin
    assert b2["ttr_p50_hours"] == approx(168.0)
    assert z(b2["backlog_open"]) == 0


def test_reporting_timezone_shifts_day(tmp_path, api):
    url = _tz_fixture(tmp_path)
    as_of = T("2026-03-10 00:00")
    utc = rows(api.report(url, by=None, period="day", tz="UTC", as_of=as_of))
    # days 03-01 … 03-08 (UTC): created 03-01, open (backlog) at the end of 03-01 … 03-07, resolved 03-08
    assert sorted(k[0] for k in utc) == [D(f"2026-03-0{d}") for d in range(1, 9)]
    assert utc[(D("2026-03-01"),)]["appeals_created"] == 1
    assert utc[(D("2026-03-07"),)]["backlog_open"] == 1
    assert utc[(D("2026-03-08"),)]["appeals_resolved"] == 1
    assert z(utc[(D("2026-03-08"),)]["backlog_open"]) == 0
    berlin = rows(api.report(url, by=None, period="day", tz="Europe/Berlin", as_of=as_of))
    # days 03-02 … 03-09 (Berlin): created Mon 03-02 00:30; resolved Mon 03-09 00:30
    assert sorted(k[0] for k in berlin) == [D(f"2026-03-0{d}") for d in range(2, 10)]
    assert berlin[(D("2026-03-02"),)]["appeals_created"] == 1
    assert berlin[(D("2026-03-02"),)]["ftr_p50_hours"] == approx(8.5)
    assert berlin[(D("2026-03-08"),)]["backlog_open"] == 1  # E = 03-09 00:00 Berlin = 03-08 23:00 UTC
    assert berlin[(D("2026-03-09"),)]["appeals_resolved"] == 1


# --------------------------------------------------------------------------- grouping


def _grouping_fixture(tmp_path):
    return make_warehouse(tmp_path, {
        "appeals": [
            appeal("Q1", "2026-03-02 09:00:00", queue="account_suspension"),
            appeal("Q2", "2026-03-03 09:00:00", queue="account_suspension"),
            appeal("Q3", "2026-03-02 09:00:00", queue="listing_removal"),
            appeal("Q4", "2026-03-09 09:00:00", queue="payments_hold"),
        ],
        "appeal_events": [
            ev("Q1-01", "Q1", "2026-03-02 12:00:00", "decided", actor_id="s1", outcome="overturned"),
            ev("Q2-01", "Q2", "2026-03-03 09:30:00", "assigned", actor_id="s3"),
            ev("Q2-02", "Q2", "2026-03-03 10:00:00", "withdrawn", "user", "u1"),
            ev("Q3-01", "Q3", "2026-03-04 09:00:00", "decided", actor_id="s2", outcome="upheld"),
            ev("Q4-01", "Q4", "2026-03-09 11:00:00", "decided", actor_id="s1", outcome="partially_overturned"),
        ],
    })


def test_group_by_queue(tmp_path, api):
    url = _grouping_fixture(tmp_path)
    got = rows(api.report(url, by=["queue"], period="week", as_of=T("2026-03-12 00:00")), ("queue",))
    # no (03-09, account_suspension) or (03-09, listing_removal) rows: nothing happened there
    assert set(got) == {
        (D("2026-03-02"), "account_suspension"),
        (D("2026-03-02"), "listing_removal"),
        (D("2026-03-09"), "payments_hold"),
    }
    a = got[(D("2026-03-02"), "account_suspension")]
    assert a["appeals_created"] == 2  # Q1, Q2
    assert a["appeals_resolved"] == 1  # Q1 (Q2 withdrawn)
    assert_rate(a, "overturn_rate", 1, 1)
    assert a["ttr_p50_hours"] == approx(3.0)  # Q1: 12:00 - 09:00
    assert z(a["backlog_open"]) == 0
    lr = got[(D("2026-03-02"), "listing_removal")]
    assert lr["appeals_created"] == 1
    assert lr["appeals_resolved"] == 1
    assert_rate(lr, "overturn_rate", 0, 1)  # upheld
    assert lr["ttr_p50_hours"] == approx(48.0)  # Mon 09:00 → Wed 09:00
    ph = got[(D("2026-03-09"), "payments_hold")]
    assert ph["appeals_created"] == 1
    assert_rate(ph, "overturn_rate", 1, 1)  # partially overturned counts
    assert_rate(ph, "full_overturn_rate", 0, 1)  # but not as a full overturn


def test_group_by_specialist(tmp_path, api):
    url = _grouping_fixture(tmp_path)
    got = rows(api.report(url, by=["specialist_id"], period="week", as_of=T("2026-03-12 00:00")),
               ("specialist_id",))
    # owners: Q1 s1 (decider), Q2 s3 (last assigned, withdrawn), Q3 s2 (decider), Q4 s1 (decider)
    assert set(got) == {
        (D("2026-03-02"), "s1"),
        (D("2026-03-02"), "s2"),
        (D("2026-03-02"), "s3"),
        (D("2026-03-09"), "s1"),
    }
    assert got[(D("2026-03-02"), "s1")]["appeals_created"] == 1  # Q1
    assert got[(D("2026-03-02"), "s1")]["appeals_resolved"] == 1
    assert got[(D("2026-03-02"), "s2")]["appeals_resolved"] == 1  # Q3
    assert got[(D("2026-03-02"), "s3")]["appeals_created"] == 1  # Q2
    assert z(got[(D("2026-03-02"), "s3")]["appeals_resolved"]) == 0
    assert got[(D("2026-03-09"), "s1")]["appeals_created"] == 1  # Q4
    assert_rate(got[(D("2026-03-09"), "s1")], "overturn_rate", 1, 1)


# --------------------------------------------------------------------------- qa, appeal rate


def test_qa_accuracy_by_reviewed_at(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("A1", "2026-03-02 09:00:00"), appeal("A2", "2026-03-02 09:00:00"),
                    appeal("A3", "2026-03-09 09:00:00")],
        "appeal_events": [
            ev("A1-01", "A1", "2026-03-02 12:00:00", "decided", outcome="upheld"),
            ev("A2-01", "A2", "2026-03-03 12:00:00", "decided", outcome="overturned"),
            ev("A3-01", "A3", "2026-03-09 12:00:00", "decided", outcome="upheld"),
        ],
        "qa_reviews": [
            {"review_id": "R1", "appeal_id": "A1", "reviewed_at": "2026-03-06 10:00:00", "decision_correct": True},
            {"review_id": "R2", "appeal_id": "A2", "reviewed_at": "2026-03-09 10:00:00", "decision_correct": False},
            {"review_id": "R3", "appeal_id": "A3", "reviewed_at": "2026-03-10 10:00:00", "decision_correct": True},
        ],
    })
    got = rows(api.report(url, by=None, period="week", as_of=T("2026-03-12 00:00")))
    assert_rate(got[(D("2026-03-02"),)], "qa_accuracy", 1, 1)  # R1 (Fri 03-06)
    assert_rate(got[(D("2026-03-09"),)], "qa_accuracy", 1, 2)  # R2 wrong (Mon 03-09), R3 right (Tue 03-10)


def test_appeal_rate(tmp_path, api):
    def enf(eid, at):
        return {"enforcement_id": eid, "action": "listing_removal", "policy": "counterfeit",
                "source": "automated", "enforced_by": "model-v1", "enforced_at": at}

    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("A1", "2026-03-03 09:00:00", enforcement_id="E2"),
            appeal("A2", "2026-03-05 09:00:00", enforcement_id="E1"),
            appeal("A3", "2026-03-10 09:00:00", enforcement_id="E5"),
        ],
        "appeal_events": [],
        "enforcements": [
            enf("E1", "2026-02-27 08:00:00"),  # week 02-23
            enf("E2", "2026-03-02 08:00:00"),  # week 03-02
            enf("E3", "2026-03-03 08:00:00"),  # week 03-02
            enf("E4", "2026-03-04 08:00:00"),  # week 03-02
            enf("E5", "2026-03-10 08:00:00"),  # week 03-09
        ],
    })
    got = rows(api.report(url, by=None, period="week", as_of=T("2026-03-12 00:00")))
    # appeals by created_at ÷ enforcements by enforced_at in the same week (not matched by id)
    assert_rate(got[(D("2026-03-02"),)], "appeal_rate", 2, 3)  # A1, A2 ÷ E2, E3, E4
    assert_rate(got[(D("2026-03-09"),)], "appeal_rate", 1, 1)  # A3 ÷ E5


# --------------------------------------------------------------------------- day and month periods


def test_period_day(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("A1", "2026-03-02 09:00:00")],
        "appeal_events": [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "claimed"),
            ev("A1-02", "A1", "2026-03-03 15:00:00", "decided", outcome="upheld"),
        ],
    })
    got = rows(api.report(url, by=None, period="day", as_of=T("2026-03-04 00:00")))
    assert set(got) == {(D("2026-03-02"),), (D("2026-03-03"),)}
    d1 = got[(D("2026-03-02"),)]
    assert d1["appeals_created"] == 1
    assert d1["ftr_p50_hours"] == approx(1.0)  # 10:00 - 09:00
    assert d1["backlog_open"] == 1  # open at E = 03-03 00:00
    d2 = got[(D("2026-03-03"),)]
    assert d2["appeals_resolved"] == 1
    assert d2["ttr_p50_hours"] == approx(30.0)  # 03-02 09:00 → 03-03 15:00
    assert z(d2["backlog_open"]) == 0


def test_period_month(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("M1", "2026-02-27 10:00:00"), appeal("M2", "2026-03-02 09:00:00")],
        "appeal_events": [
            ev("M1-01", "M1", "2026-03-31 23:00:00", "decided", outcome="upheld"),
            ev("M2-01", "M2", "2026-04-01 01:00:00", "decided", outcome="overturned"),
        ],
    })
    got = rows(api.report(url, by=None, period="month", as_of=T("2026-04-02 00:00")))
    assert set(got) == {(D("2026-02-01"),), (D("2026-03-01"),), (D("2026-04-01"),)}
    feb = got[(D("2026-02-01"),)]
    assert feb["appeals_created"] == 1  # M1
    assert feb["backlog_open"] == 1  # M1 open at 03-01 00:00
    mar = got[(D("2026-03-01"),)]
    assert mar["appeals_created"] == 1  # M2
    assert mar["appeals_resolved"] == 1  # M1 on 03-31 23:00
    # M1: 02-27 10:00 → 03-01 10:00 = 48 h; → 03-31 10:00 = +720 h; → 23:00 = +13 h → 781 h
    assert mar["ttr_p50_hours"] == approx(781.0)
    assert mar["backlog_open"] == 1  # M2 open at 04-01 00:00
    apr = got[(D("2026-04-01"),)]
    assert apr["appeals_resolved"] == 1  # M2
    assert apr["ttr_p50_hours"] == approx(712.0)  # 03-02 09:00 → 04-01 09:00 = 720 h, minus 8 h
    assert_rate(apr, "overturn_rate", 1, 1)
    assert z(apr["backlog_open"]) == 0
