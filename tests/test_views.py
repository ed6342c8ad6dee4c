"""metrics.views: page assembly from report frames, checked against hand-made frames."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from metrics import dashboard as views
from metrics.catalog import MIN_GROUP_SIZE

W1, W2, W3 = date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)  # ISO week starts (Mondays)


def approx(x, tol=1e-9):
    return pytest.approx(x, abs=tol)


# -- periods --------------------------------------------------------------------------------------


def test_period_arithmetic():
    assert views.period_start(date(2026, 3, 11), "week") == W2
    assert views.next_period(W2, "week") == W3 and views.previous_period(W2, "week") == W1
    assert views.next_period(date(2026, 12, 1), "month") == date(2027, 1, 1)
    assert views.previous_period(date(2026, 1, 1), "month") == date(2025, 12, 1)
    assert views.period_last_day(date(2026, 2, 1), "month") == date(2026, 2, 28)
    assert views.previous_period(date(2026, 3, 1), "day") == date(2026, 2, 28)
    assert views.period_starts(date(2026, 3, 4), date(2026, 3, 16), "week") == [W1, W2, W3]
    assert views.period_starts(date(2026, 3, 16), date(2026, 3, 4), "week") == []


def test_default_range_is_eight_iso_weeks_to_as_of():
    start, end = views.default_date_range(datetime(2026, 11, 22, 23, 58, tzinfo=UTC))
    assert end == date(2026, 11, 22)
    assert start == date(2026, 9, 28)  # Monday of the week of 16 Nov minus 7 weeks
    assert len(views.period_starts(start, end, "week")) == 8


def test_partial_period():
    assert views.is_partial(W2, "week", datetime(2026, 3, 12, 12, tzinfo=UTC))
    assert not views.is_partial(W2, "week", datetime(2026, 3, 15, 23, 30, tzinfo=UTC))  # < 1 h left


def test_labels():
    assert views.period_choice_label(W2, "week") == "W11 · 9–15 Mar 2026"
    assert views.period_choice_label(date(2026, 3, 30), "week") == "W14 · 30 Mar–5 Apr 2026"
    assert views.period_choice_label(date(2026, 3, 1), "month") == "March 2026"


# -- KPIs -------------------------------------------------------------------------------------------


def report_frame() -> pl.DataFrame:
    # week 1: 10 created, 8 resolved, TTR p50 20 h, overturn 2/8; week 2: 12 created, no
    # resolution (so no row values for resolved metrics), backlog 5.
    return pl.DataFrame(
        {
            "period_start": [W1, W2],
            "appeals_created": [10, 12],
            "appeals_resolved": [8, 0],
            "ttr_p50_hours": [20.0, None],
            "overturn_rate": [0.25, None],
            "overturn_rate_numerator": [2, 0],
            "overturn_rate_denominator": [8, 0],
            "backlog_open": [3, 5],
        }
    )


def test_kpis_current_previous_and_change():
    kpis = {k.name: k for k in views.kpis(report_frame(), W2, W1, metrics=(
        "appeals_created", "appeals_resolved", "ttr_p50_hours", "overturn_rate", "backlog_open"))}
    created = kpis["appeals_created"]
    assert (created.value, created.previous, created.change) == (12, 10, 2)
    assert created.relative_change == approx(0.2)
    assert kpis["ttr_p50_hours"].value is None and kpis["ttr_p50_hours"].change is None
    ov = kpis["overturn_rate"]
    assert (ov.numerator, ov.denominator, ov.prev_numerator, ov.prev_denominator) == (0, 0, 2, 8)
    assert ov.higher_is_better is False and ov.fmt == ".1%"


def test_kpis_absent_period_counts_zero():
    kpis = {k.name: k for k in views.kpis(report_frame(), W3, W2, metrics=("appeals_created", "ttr_p50_hours"))}
    assert kpis["appeals_created"].value == 0 and kpis["appeals_created"].previous == 12
    assert kpis["ttr_p50_hours"].value is None


def test_complete_periods_fills_counts_not_percentiles():
    out = views.complete_periods(report_frame(), [W1, W2, W3], ["appeals_created", "ttr_p50_hours", "overturn_rate"])
    assert out["period_start"].to_list() == [W1, W2, W3]
    assert out["appeals_created"].to_list() == [10, 12, 0]
    assert out["ttr_p50_hours"].to_list() == [20.0, None, None]
    assert out["overturn_rate_denominator"].to_list() == [8, 0, 0]


# -- group tables -----------------------------------------------------------------------------------


def test_group_table_with_wilson_and_minimum_size():
    rep = pl.DataFrame({
        "period_start": [W2, W2, W1],
        "queue": ["a", "b", "a"],
        "appeals_resolved": [20, 19, 7],
        "overturn_rate": [0.25, 0.0, 0.5],
        "overturn_rate_numerator": [5, 0, 1],
        "overturn_rate_denominator": [20, 19, 2],
    })
    table = views.group_table(rep, "queue", W2, ("appeals_resolved", "overturn_rate"))
    assert table["queue"].to_list() == ["a", "b"]
    a = table.row(0, named=True)
    assert a["overturn_rate_ci_lo"] == approx(0.1119, 1e-4) and a["overturn_rate_ci_hi"] == approx(0.4687, 1e-4)
    assert table["overturn_rate_too_few"].to_list() == [False, True]  # 19 < MIN_GROUP_SIZE = 20
    assert MIN_GROUP_SIZE == 20


def mix_frame() -> pl.DataFrame:
    # s1: A 6/30, B 5/10; s2: A 4/70, B 10/30. Peer A = 10/100 = 0.1, B = 15/40 = 0.375.
    return pl.DataFrame({
        "period_start": [W2] * 4,
        "specialist_id": ["s1", "s1", "s2", "s2"],
        "queue": ["A", "B", "A", "B"],
        "overturn_rate": [0.2, 0.5, 4 / 70, 1 / 3],
        "overturn_rate_numerator": [6, 5, 4, 10],
        "overturn_rate_denominator": [30, 10, 70, 30],
    })


def test_queue_mix_expected_rates():
    exp = dict(views.queue_mix_expected(mix_frame()).iter_rows())
    assert exp["s1"] == approx((30 * 0.1 + 10 * 0.375) / 40)  # 6.75/40 = 0.16875
    assert exp["s2"] == approx((70 * 0.1 + 30 * 0.375) / 100)  # 18.25/100 = 0.1825
    assert views.peer_rate(mix_frame()) == approx(25 / 140)


def test_funnel_and_specialist_table():
    report = pl.DataFrame({
        "period_start": [W2, W2, W2],
        "specialist_id": ["s1", "s2", None],
        "pod": ["p1", "p2", None],
        "appeals_resolved": [40, 100, 0],
        "ttr_p50_hours": [10.0, 12.0, None],
        "ttr_p90_hours": [30.0, 40.0, None],
        "ftr_p50_hours": [1.0, 2.0, None],
        "ftr_p90_hours": [3.0, 4.0, None],
        "overturn_rate": [11 / 40, 14 / 100, None],
        "overturn_rate_numerator": [11, 14, 0],
        "overturn_rate_denominator": [40, 100, 0],
        "qa_accuracy": [1.0, 0.5, None],
        "qa_accuracy_numerator": [2, 1, 0],
        "qa_accuracy_denominator": [2, 2, 0],
        "reopen_rate": [0.0, 0.01, None],
        "reopen_rate_numerator": [0, 1, 0],
        "reopen_rate_denominator": [40, 100, 0],
    })
    daily = pl.DataFrame({
        "period_start": [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 10), date(2026, 3, 11)],
        "specialist_id": ["s1", "s1", "s2", "s2"],
        "appeals_resolved": [30, 10, 0, 100],
    })
    table = views.specialist_table(report, daily, mix_frame(), W2)
    assert table["specialist_id"].to_list() == ["s1", "s2"]  # the unowned row is left out
    s1, s2 = table.row(0, named=True), table.row(1, named=True)
    assert (s1["active_days"], s1["resolved_per_active_day"]) == (2, 20.0)  # 40 resolved / 2 days
    assert (s2["active_days"], s2["resolved_per_active_day"]) == (1, 100.0)  # the day with 0 is not active
    assert s1["pod"] == "p1"
    # s1: expected 0.16875, n = 40: 95% upper = 0.16875 + 1.959964·sqrt(0.16875·0.83125/40) = 0.28482;
    # 99.8% upper = 0.16875 + 3.090232·0.059219 = 0.35175; observed 0.275 → within
    assert s1["overturn_expected"] == approx(0.16875)
    assert s1["funnel_status"] == "within limits"
    # s2: expected 0.1825, n = 100: 95% lower = 0.1825 − 1.959964·0.038626 = 0.10679; 99.8% lower =
    # 0.1825 − 3.090232·0.038626 = 0.06314; observed 0.14 → within
    assert s2["funnel_status"] == "within limits"
    assert views.most_unusual(table) == "s1"  # (0.275 − 0.16875)/0.059219 = 1.79 > s2's −1.10


def test_funnel_flags_too_few():
    table = pl.DataFrame({"specialist_id": ["s1"], "overturn_rate": [0.9], "overturn_rate_numerator": [9],
                          "overturn_rate_denominator": [10]})
    mix = pl.DataFrame({"specialist_id": ["s1"], "queue": ["A"], "overturn_rate_numerator": [9],
                        "overturn_rate_denominator": [10]})
    assert views.funnel(table, mix)["status"].to_list() == ["too few to compare"]


# -- pseudonyms ---------------------------------------------------------------------------------------


def test_pseudonyms_stable_unique_and_salted():
    ids = [f"sp_{i:03d}" for i in range(1, 31)]
    a = views.pseudonyms(ids, "salt-1")
    b = views.pseudonyms(list(reversed(ids)) + [None], "salt-1")
    assert a == b  # same id → same pseudonym, whatever the order or set
    assert len(set(a.values())) == len(ids)
    assert all(v.startswith("Specialist ") and "sp_" not in v for v in a.values())
    assert views.pseudonyms(ids, "salt-2") != a
    assert views.pseudonyms(ids[:5], "salt-1") == {i: a[i] for i in ids[:5]}


def test_pseudonymise_frame_drops_names():
    frame = pl.DataFrame({"appeal_id": ["a1", "a2"], "specialist_id": ["sp_001", None],
                          "specialist_name": ["Jordan Reyes", None]})
    out = views.pseudonymise(frame, "s")
    assert "specialist_name" not in out.columns
    assert out["specialist_id"][0] == views.pseudonym("sp_001", "s") and out["specialist_id"][1] is None


# -- movers -------------------------------------------------------------------------------------------


def test_top_movers_orders_by_absolute_change():
    policy = pl.DataFrame({
        "period_start": [W1, W2, W1, W2, W2],
        "policy": ["p1", "p1", "p2", "p2", None],
        "overturn_rate_numerator": [10, 4, 3, 5, 50],
        "overturn_rate_denominator": [50, 40, 30, 25, 100],
    })
    theme = pl.DataFrame({"period_start": [W2], "theme": ["tooling"], "overturn_rate_numerator": [3],
                          "overturn_rate_denominator": [3]})
    movers = views.top_movers({"Policy": (policy, "policy"), "Theme": (theme, "theme")}, W2, W1)
    assert movers.select("dimension", "value", "previous", "current", "change").rows() == [
        ("Policy", "p1", 10, 4, -6), ("Theme", "tooling", 0, 3, 3), ("Policy", "p2", 3, 5, 2),
    ]
    p1 = movers.row(0, named=True)
    assert p1["previous_rate"] == approx(0.2) and p1["current_rate"] == approx(0.1) and p1["rate_change"] == approx(-0.1)


# -- drill-down helpers and reconciliation -------------------------------------------------------------


def facts_rows() -> pl.DataFrame:
    ts = pl.Datetime("us", "UTC")
    return pl.DataFrame({
        "appeal_id": ["a1", "a2", "a3"],
        "queue": ["q"] * 3, "priority": ["P1", "P2", "P2"], "market": ["US"] * 3,
        "specialist_id": ["s1", None, "s2"], "specialist_name": ["Ann", None, "Bo"],
        "created_at": [datetime(2026, 3, 10, 0, tzinfo=UTC), datetime(2026, 3, 10, 9, tzinfo=UTC),
                       datetime(2026, 3, 5, 0, tzinfo=UTC)],
        "ttr_deadline_at": [datetime(2026, 3, 10, 18, tzinfo=UTC), None, datetime(2026, 3, 9, tzinfo=UTC)],
        "ttr_target_hours": [24.0, None, 40.0], "ftr_target_hours": [4.0, None, 8.0],
        "ttr_sla": ["pending", "n/a", "breached"], "sla_clock": ["calendar", None, "business"],
    }, schema_overrides={"created_at": ts, "ttr_deadline_at": ts})


def test_at_risk_table_hours():
    as_of = datetime(2026, 3, 10, 12, tzinfo=UTC)
    out = views.at_risk_table(facts_rows().head(1), as_of)
    assert out["age_hours"][0] == approx(12.0) and out["hours_left"][0] == approx(6.0)


def test_age_distribution_buckets():
    as_of = datetime(2026, 3, 10, 12, tzinfo=UTC)  # ages: 12 h, 3 h, 5.5 d
    dist = views.age_distribution(facts_rows(), as_of)
    got = {(r["age_bucket"], r["sla_state"]): r["appeals"] for r in dist.iter_rows(named=True)}
    assert got == {("8–24 h", "within SLA"): 1, ("< 4 h", "no SLA"): 1, ("3–7 d", "breached"): 1}
    assert dist["bucket_order"].to_list() == sorted(dist["bucket_order"].to_list())


def test_sla_targets_medians():
    assert views.sla_targets(facts_rows()) == {"ftr_target_hours": 6.0, "ttr_target_hours": 32.0}
    assert views.sla_targets(facts_rows().head(0)) == {"ftr_target_hours": None, "ttr_target_hours": None}


def test_reconcile_ratio_count_and_percentile():
    members = pl.DataFrame({"appeal_id": ["a", "b", "c"], "in_numerator": [True, False, False],
                            "in_denominator": [True, True, False]})
    row = {"period_start": W2, "overturn_rate": 0.5, "overturn_rate_numerator": 1, "overturn_rate_denominator": 2}
    rec = views.reconcile("overturn_rate", row, members, 3)
    assert (rec.listed_numerator, rec.listed_denominator, rec.matches) == (1, 2, True)
    assert views.reconcile("overturn_rate", row | {"overturn_rate_numerator": 2}, members, 3).matches is False
    assert views.reconcile("overturn_rate", row, members, 4).matches is None  # not all rows listed

    counted = pl.DataFrame({"appeal_id": ["a", "b"], "counted": [True, True]})
    assert views.reconcile("appeals_created", {"appeals_created": 2}, counted, 2).matches is True
    # p50 of 1, 2, 3, 4 by linear interpolation = 2.5
    pct = pl.DataFrame({"appeal_id": list("abcde"), "counted": [True] * 4 + [False],
                        "ttr_hours": [4.0, 1.0, 3.0, 2.0, None]})
    rec = views.reconcile("ttr_p50_hours", {"ttr_p50_hours": 2.5}, pct, 5)
    assert rec.recomputed == approx(2.5) and rec.matches is True


def test_reconcilable_metrics_are_appeal_level():
    assert "overturn_rate" in views.RECONCILABLE and "appeals_created" in views.RECONCILABLE
    assert not {"backlog_open", "backlog_breached", "qa_accuracy", "appeal_rate"} & set(views.RECONCILABLE)


def test_rate_with_previous():
    rep = pl.DataFrame({
        "period_start": [W1, W2, W2, W2],
        "policy": ["p1", "p1", "p2", None],
        "overturn_rate": [0.5, 0.25, 0.1, 0.3],
        "overturn_rate_numerator": [2, 5, 1, 3],
        "overturn_rate_denominator": [4, 20, 10, 10],
    })
    out = views.rate_with_previous(rep, "policy", W2, W1)
    assert out["policy"].to_list() == ["p1", "p2"]  # most overturns first, the null group left out
    assert out["previous_rate"].to_list() == [0.5, None]
    assert out["overturn_rate_ci_lo"][0] == approx(0.1119, 1e-4)  # 5/20, as in test_stats


def test_specialist_table_backlog_under_the_owner_then():
    # report rows as the engine gives them: s3 only holds backlog at the period end (nothing
    # resolved), s1 resolved 2 and holds 1 open appeal of which 1 is past its deadline
    report = pl.DataFrame({
        "period_start": [W2, W2],
        "specialist_id": ["s1", "s3"],
        "appeals_resolved": [2, 0],
        "backlog_open": [1, 3],
        "backlog_breached": [1, 0],
        "overturn_rate": [0.5, None],
        "overturn_rate_numerator": [1, 0],
        "overturn_rate_denominator": [2, 0],
    })
    daily = pl.DataFrame({"period_start": [date(2026, 3, 9)], "specialist_id": ["s1"], "appeals_resolved": [2]})
    mix = pl.DataFrame({"period_start": [W2], "specialist_id": ["s1"], "queue": ["A"], "overturn_rate": [0.5],
                        "overturn_rate_numerator": [1], "overturn_rate_denominator": [2]})
    table = views.specialist_table(report, daily, mix, W2)
    got = {r["specialist_id"]: (r["appeals_resolved"], r["backlog_open"], r["backlog_breached"], r["active_days"])
           for r in table.iter_rows(named=True)}
    assert got == {"s1": (2, 1, 1, 1), "s3": (0, 3, 0, 0)}  # a backlog-only specialist is listed
    assert "backlog_open" in views.SPECIALIST_METRICS and "backlog_breached" in views.SPECIALIST_METRICS
    assert "at that moment" in views.SPECIALIST_OWNER_RULE and "as-of" in views.SPECIALIST_OWNER_RULE
