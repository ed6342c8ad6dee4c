"""Hand-derived cases for SLA policies, deadlines and business clocks (metrics.md "Durations"
and "SLA"; warehouse.md "SLA configuration").

Every expected value is worked out by hand; the arithmetic is in the comment beside it.
Instants in the fixtures are UTC. Local times are written "MST" (America/Phoenix, UTC-7 all
year), "EST/EDT" (America/New_York, UTC-5/-4; DST starts 2026-03-08 02:00 → 03:00 and ends
2026-11-01 02:00 → 01:00), "GMT/IST" (Europe/Dublin, UTC+0/+1; DST starts 2026-03-29 01:00 →
02:00). 2026-03-02 is a Monday; 2026-03-08, -03-29 and -11-01 are Sundays.
"""

from __future__ import annotations

import pytest

from tests.cases import T, appeal, ev, facts_by_id, policy
from tests.helpers import make_warehouse

# --------------------------------------------------------------------------- helpers


def hours(schedule_id: str, tz: str, weekdays, start: str, end: str) -> list[dict]:
    return [{"schedule_id": schedule_id, "timezone": tz, "weekday": d, "start_time": start, "end_time": end}
            for d in weekdays]


def approx(x):
    return pytest.approx(x, abs=1e-6)


CAL = [policy("*", "P2", 4, 24)]  # calendar clock: FTR 4 h, TTR 24 h for every queue at P2


# --------------------------------------------------------------------------- calendar clock


def test_calendar_clock_equals_calendar_duration(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("A1"), appeal("A2"), appeal("A3")],  # all created Mon 03-02 09:00
        "appeal_events": [
            ev("A1-01", "A1", "2026-03-02 10:30:00", "claimed"),
            ev("A1-02", "A1", "2026-03-03 08:00:00", "decided", outcome="upheld"),
            ev("A2-01", "A2", "2026-03-03 10:00:00", "decided", outcome="upheld"),
            ev("A3-01", "A3", "2026-03-02 13:00:00", "claimed"),
            ev("A3-02", "A3", "2026-03-03 09:00:00", "decided", outcome="upheld"),
        ],
        "sla_policies": CAL,
    })
    f = facts_by_id(api, url, T("2026-03-04 00:00"))
    for r in f.values():
        assert r["ftr_target_hours"] == approx(4.0)
        assert r["ttr_target_hours"] == approx(24.0)
    a1 = f["A1"]
    assert a1["ftr_hours"] == approx(1.5) and a1["ftr_clock_hours"] == approx(1.5)  # 10:30 - 09:00
    assert a1["ftr_sla"] == "achieved"  # 1.5 <= 4
    assert a1["ttr_hours"] == approx(23.0) and a1["ttr_clock_hours"] == approx(23.0)  # Tue 08:00 - Mon 09:00
    assert a1["ttr_sla"] == "achieved"  # 23 <= 24
    a2 = f["A2"]
    assert a2["ftr_clock_hours"] == approx(25.0)  # decided Tue 10:00 is the first touch: 25 h
    assert a2["ftr_sla"] == "breached"  # 25 > 4
    assert a2["ttr_clock_hours"] == approx(25.0)
    assert a2["ttr_sla"] == "breached"  # 25 > 24 (deadline Tue 09:00)
    a3 = f["A3"]
    assert a3["ftr_clock_hours"] == approx(4.0)  # 13:00 - 09:00, exactly at the deadline
    assert a3["ftr_sla"] == "achieved"  # at the deadline counts as achieved
    assert a3["ttr_clock_hours"] == approx(24.0)  # Tue 09:00 exactly at the deadline
    assert a3["ttr_sla"] == "achieved"


def test_calendar_pending_and_breached_while_open(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("P1", "2026-03-02 09:00:00"),  # FTR deadline 13:00 == as_of
            appeal("P2", "2026-03-02 08:00:00"),  # FTR deadline 12:00 < as_of
            appeal("P4", "2026-03-01 12:00:00"),  # FTR deadline Sun 16:00, TTR deadline Mon 12:00
        ],
        "appeal_events": [],
        "sla_policies": CAL,
    })
    f = facts_by_id(api, url, T("2026-03-02 13:00"))
    assert f["P1"]["ftr_sla"] == "pending"  # deadline 13:00 is at as_of → pending
    assert f["P1"]["ttr_sla"] == "pending"  # deadline Tue 09:00 > as_of
    assert f["P1"]["ftr_clock_hours"] is None  # clock still running
    assert f["P1"]["ttr_clock_hours"] is None
    assert f["P1"]["ftr_target_hours"] == approx(4.0)
    assert f["P2"]["ftr_sla"] == "breached"  # as_of 13:00 strictly after deadline 12:00
    assert f["P2"]["ttr_sla"] == "pending"  # deadline Tue 08:00
    assert f["P2"]["ftr_clock_hours"] is None
    assert f["P4"]["ftr_sla"] == "breached"  # Sun 16:00 < Mon 13:00
    assert f["P4"]["ttr_sla"] == "breached"  # Sun 12:00 + 24 h = Mon 12:00 < 13:00


def test_withdrawn_sla(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal(a) for a in ("W1", "W2", "W3", "W4")],  # created Mon 09:00
        "appeal_events": [
            ev("W1-01", "W1", "2026-03-02 10:00:00", "claimed"),
            ev("W1-02", "W1", "2026-03-03 12:00:00", "withdrawn", "user", "u1"),
            ev("W2-01", "W2", "2026-03-02 11:00:00", "withdrawn", "user", "u1"),
            ev("W3-01", "W3", "2026-03-02 14:00:00", "withdrawn", "user", "u1"),
            ev("W4-01", "W4", "2026-03-02 13:00:00", "withdrawn", "user", "u1"),
        ],
        "sla_policies": CAL,  # FTR deadline Mon 13:00, TTR deadline Tue 09:00
    })
    f = facts_by_id(api, url, T("2026-03-04 00:00"))
    assert f["W1"]["ftr_sla"] == "achieved"  # touched at 10:00 (1 h <= 4)
    assert f["W1"]["ftr_hours"] == approx(1.0)
    assert f["W1"]["ttr_sla"] == "breached"  # TTR deadline Tue 09:00 came before withdrawal Tue 12:00
    assert f["W2"]["ftr_sla"] == "n/a"  # withdrawn 11:00, before FTR deadline 13:00
    assert f["W2"]["ttr_sla"] == "n/a"  # withdrawn before Tue 09:00
    assert f["W3"]["ftr_sla"] == "breached"  # deadline 13:00 before withdrawal 14:00
    assert f["W3"]["ttr_sla"] == "n/a"
    assert f["W4"]["ftr_sla"] == "n/a"  # deadline 13:00 == withdrawal 13:00: not *before* → n/a
    for a in ("W1", "W2", "W3", "W4"):
        assert f[a]["status"] == "withdrawn"
        assert f[a]["ttr_hours"] is None  # never resolved
    for a in ("W2", "W3", "W4"):
        assert f[a]["ftr_hours"] is None  # never touched


def test_non_specialist_decision_stops_first_touch_clock_at_resolution(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("N1"), appeal("N2")],  # created Mon 09:00
        "appeal_events": [
            ev("N1-01", "N1", "2026-03-02 10:00:00", "decided", "system", "autobot", outcome="upheld"),
            ev("N2-01", "N2", "2026-03-02 09:05:00", "assigned", actor_id="s1"),  # not a touch
            ev("N2-02", "N2", "2026-03-02 15:00:00", "decided", "system", "autobot", outcome="upheld"),
        ],
        "sla_policies": CAL,
    })
    as_of = T("2026-03-04 00:00")
    f = facts_by_id(api, url, as_of)
    n1, n2 = f["N1"], f["N2"]
    assert n1["status"] == "resolved" and n2["status"] == "resolved"
    assert n1["first_touch_at"] is None and n1["ftr_hours"] is None  # no specialist touch
    assert n2["first_touch_at"] is None and n2["ftr_hours"] is None
    assert n1["ftr_sla"] == "achieved"  # FTR clock stops at resolved_at 10:00 <= deadline 13:00
    assert n2["ftr_sla"] == "breached"  # stops at 15:00 > 13:00
    assert n1["ttr_hours"] == approx(1.0) and n1["ttr_sla"] == "achieved"  # 10:00 - 09:00
    assert n2["ttr_hours"] == approx(6.0) and n2["ttr_sla"] == "achieved"  # 15:00 - 09:00 <= 24
    # (ftr_clock_hours is not asserted here: the spec does not say what it shows in this case)
    checks = api.check(url, as_of=as_of)
    flagged = {x for c in checks for x in c.examples}
    assert "N1" in flagged and "N2" in flagged  # decided by a non-specialist is a control


def test_resolution_clock_not_stopped_by_reopened_decision(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("R1", "2026-03-02 09:00:00"), appeal("R2", "2026-03-02 09:00:00"),
                    appeal("R3", "2026-03-02 11:00:00")],
        "appeal_events": [
            ev("R1-01", "R1", "2026-03-02 12:00:00", "decided", outcome="upheld"),
            ev("R1-02", "R1", "2026-03-02 20:00:00", "reopened", "user", "u1"),
            ev("R1-03", "R1", "2026-03-03 09:30:00", "decided", outcome="upheld"),
            ev("R2-01", "R2", "2026-03-02 12:00:00", "decided", outcome="upheld"),
            ev("R2-02", "R2", "2026-03-02 20:00:00", "reopened", "user", "u1"),
            ev("R3-01", "R3", "2026-03-02 12:00:00", "decided", outcome="upheld"),
            ev("R3-02", "R3", "2026-03-02 20:00:00", "reopened", "user", "u1"),
        ],
        "sla_policies": CAL,
    })
    f = facts_by_id(api, url, T("2026-03-03 10:00"))
    r1, r2, r3 = f["R1"], f["R2"], f["R3"]
    assert r1["ftr_sla"] == "achieved"  # first touch = first decision 12:00: 3 h <= 4
    assert r1["ftr_clock_hours"] == approx(3.0)
    assert r1["ttr_hours"] == approx(24.5)  # final decision Tue 09:30 - Mon 09:00
    assert r1["ttr_clock_hours"] == approx(24.5)
    assert r1["ttr_sla"] == "breached"  # 24.5 > 24 (the 12:00 decision did not stop it)
    assert r2["status"] == "open"
    assert r2["ttr_clock_hours"] is None  # running
    assert r2["ttr_sla"] == "breached"  # deadline Tue 09:00 < as_of Tue 10:00
    assert r3["ftr_clock_hours"] == approx(1.0)  # 12:00 - 11:00
    assert r3["ttr_sla"] == "pending"  # deadline Tue 11:00 >= as_of Tue 10:00


# --------------------------------------------------------------------------- policy lookup


def test_policy_fallback_to_star_row_and_missing_policy(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("F1", queue="account_suspension", priority="P2"),  # no own row → (*, P2)
            appeal("F2", queue="listing_removal", priority="P2"),  # own row
            appeal("F3", queue="account_suspension", priority="P1"),  # no row at all
            appeal("F4", queue="listing_removal", priority="P3"),  # own row only for P2 → (*, P3)
        ],
        "appeal_events": [ev(f"{a}-01", a, "2026-03-02 11:00:00", "claimed") for a in ("F1", "F2", "F3", "F4")],
        "sla_policies": [
            policy("*", "P2", 4, 24),
            policy("listing_removal", "P2", 1, 8),
            policy("*", "P3", 6, 48),
        ],
    })
    f = facts_by_id(api, url, T("2026-03-02 12:00"))
    # every appeal: created 09:00, touched 11:00 → ftr 2 h
    for r in f.values():
        assert r["ftr_hours"] == approx(2.0)
    assert (f["F1"]["ftr_target_hours"], f["F1"]["ttr_target_hours"]) == (approx(4.0), approx(24.0))
    assert f["F1"]["ftr_clock_hours"] == approx(2.0)
    assert f["F1"]["ftr_sla"] == "achieved"  # 2 <= 4
    assert f["F1"]["ttr_sla"] == "pending"  # deadline Tue 09:00 >= as_of
    assert (f["F2"]["ftr_target_hours"], f["F2"]["ttr_target_hours"]) == (approx(1.0), approx(8.0))
    assert f["F2"]["ftr_sla"] == "breached"  # 2 > 1
    assert f["F2"]["ttr_sla"] == "pending"  # deadline 17:00
    assert f["F3"]["ftr_sla"] == "n/a" and f["F3"]["ttr_sla"] == "n/a"  # no policy
    assert f["F3"]["ftr_clock_hours"] is None and f["F3"]["ttr_clock_hours"] is None
    assert f["F3"]["ftr_target_hours"] is None and f["F3"]["ttr_target_hours"] is None
    assert (f["F4"]["ftr_target_hours"], f["F4"]["ttr_target_hours"]) == (approx(6.0), approx(48.0))
    assert f["F4"]["ftr_sla"] == "achieved"  # 2 <= 6


def test_schedule_without_open_hours_is_na(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("G1")],
        "appeal_events": [
            ev("G1-01", "G1", "2026-03-02 10:00:00", "claimed"),
            ev("G1-02", "G1", "2026-03-02 11:00:00", "decided", outcome="upheld"),
        ],
        "sla_policies": [policy("*", "P2", 4, 24, "business", "ghost")],
        # only another schedule has hours; "ghost" has none
        "business_hours": hours("office", "America/Phoenix", range(1, 6), "09:00:00", "17:00:00"),
    })
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["G1"]
    assert r["ftr_sla"] == "n/a"  # schedule with no open hours → n/a
    assert r["ttr_sla"] == "n/a"
    assert r["ftr_hours"] == approx(1.0)  # calendar durations unaffected
    assert r["ttr_hours"] == approx(2.0)


# --------------------------------------------------------------------------- business clocks


PHX = hours("phx", "America/Phoenix", range(1, 6), "09:00:00", "17:00:00")  # Mon–Fri 09–17 MST = 16:00–24:00 UTC


def test_phoenix_business_clock_deadline_is_closing_instant(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("PA", "2026-03-02 22:00:00"),  # Mon 15:00 MST
            appeal("PB", "2026-03-02 22:00:00"),
            appeal("PC", "2026-03-02 22:00:00"),
            appeal("PD", "2026-03-07 17:00:00"),  # Sat 10:00 MST (closed)
        ],
        "appeal_events": [
            ev("PA-01", "PA", "2026-03-03 00:00:00", "claimed"),  # Mon 17:00 MST (closing instant)
            ev("PA-02", "PA", "2026-03-03 21:00:00", "decided", outcome="upheld"),  # Tue 14:00 MST
            ev("PB-01", "PB", "2026-03-03 01:00:00", "claimed"),  # Mon 18:00 MST (after hours)
            ev("PB-02", "PB", "2026-03-03 22:00:00", "decided", outcome="upheld"),  # Tue 15:00 MST
            ev("PC-01", "PC", "2026-03-03 22:30:00", "decided", outcome="upheld"),  # Tue 15:30 MST
            ev("PD-01", "PD", "2026-03-09 17:00:00", "claimed"),  # Mon 10:00 MST
        ],
        "sla_policies": [policy("account_suspension", "P2", 2, 8, "business", "phx")],
        "business_hours": PHX,
    })
    f = facts_by_id(api, url, T("2026-03-10 00:00"))
    # Deadlines for PA/PB/PC (created Mon 15:00 MST):
    #   FTR 2 h: Mon 15:00–17:00 → Mon 17:00 MST = Tue 00:00 UTC
    #   TTR 8 h: Mon 2 h + Tue 09:00–15:00 (6 h) → Tue 15:00 MST = Tue 22:00 UTC
    pa = f["PA"]
    assert pa["ftr_hours"] == approx(2.0)  # 22:00 → 00:00 UTC
    assert pa["ftr_clock_hours"] == approx(2.0)  # Mon 15–17 MST
    assert pa["ftr_sla"] == "achieved"  # touch exactly at the deadline
    assert pa["ttr_hours"] == approx(23.0)  # Mon 22:00 → Tue 21:00 UTC
    assert pa["ttr_clock_hours"] == approx(7.0)  # Mon 2 h + Tue 09–14 MST 5 h
    assert pa["ttr_sla"] == "achieved"  # 7 <= 8
    assert pa["ftr_target_hours"] == approx(2.0) and pa["ttr_target_hours"] == approx(8.0)
    pb = f["PB"]
    assert pb["ftr_hours"] == approx(3.0)  # 22:00 → 01:00 UTC
    assert pb["ftr_clock_hours"] == approx(2.0)  # 17:00–18:00 MST is closed: still 2 h
    assert pb["ftr_sla"] == "breached"  # deadline was Mon 17:00 MST (closing), touch at 18:00
    assert pb["ttr_hours"] == approx(24.0)
    assert pb["ttr_clock_hours"] == approx(8.0)  # 2 + Tue 09–15 MST 6 h
    assert pb["ttr_sla"] == "achieved"  # exactly at the deadline Tue 15:00 MST
    pc = f["PC"]
    assert pc["ftr_hours"] == approx(24.5) and pc["ttr_hours"] == approx(24.5)  # decision = first touch
    assert pc["ftr_clock_hours"] == approx(8.5)  # 2 + Tue 09:00–15:30 MST 6.5
    assert pc["ftr_sla"] == "breached"
    assert pc["ttr_clock_hours"] == approx(8.5)
    assert pc["ttr_sla"] == "breached"  # 15:30 > 15:00 MST
    pd = f["PD"]
    assert pd["ftr_hours"] == approx(48.0)  # Sat 17:00 → Mon 17:00 UTC
    assert pd["ftr_clock_hours"] == approx(1.0)  # weekend closed; Mon 09–10 MST
    assert pd["ftr_sla"] == "achieved"  # deadline Mon 11:00 MST
    # TTR deadline: 8 h from Mon 09:00 MST → Mon 17:00 MST = Tue 03-10 00:00 UTC == as_of
    assert pd["ttr_sla"] == "pending"
    assert pd["ttr_clock_hours"] is None


def test_phoenix_business_pending_until_deadline_then_breached(tmp_path, api):
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("PE", "2026-03-06 23:00:00")],  # Fri 16:00 MST
        "appeal_events": [],
        "sla_policies": [policy("account_suspension", "P2", 2, 8, "business", "phx")],
        "business_hours": PHX,
    })
    # FTR deadline: Fri 16–17 MST (1 h) + Mon 09–10 MST (1 h) → Mon 03-09 10:00 MST = 17:00 UTC
    # TTR deadline: Fri 1 h + Mon 09–16 MST (7 h) → Mon 16:00 MST = 23:00 UTC
    r = facts_by_id(api, url, T("2026-03-07 20:00"))["PE"]
    assert r["ftr_sla"] == "pending"  # a calendar 2 h clock would have breached at Sat 01:00 UTC
    assert r["ttr_sla"] == "pending"
    r = facts_by_id(api, url, T("2026-03-09 17:00:00"))["PE"]
    assert r["ftr_sla"] == "pending"  # deadline == as_of → pending
    r = facts_by_id(api, url, T("2026-03-09 17:00:01"))["PE"]
    assert r["ftr_sla"] == "breached"  # as_of strictly after the deadline
    assert r["ttr_sla"] == "pending"  # 23:00 UTC still ahead
    assert r["ftr_clock_hours"] is None  # still running


def test_dublin_split_shift_holiday_and_midnight_end(tmp_path, api):
    # Mon–Fri 09:00–12:00 and 13:00–17:00; Sat 20:00–00:00 (midnight end); holiday Tue 2026-03-17.
    # Europe/Dublin is GMT (= UTC) until 2026-03-29.
    dub = (hours("dub", "Europe/Dublin", range(1, 6), "09:00:00", "12:00:00")
           + hours("dub", "Europe/Dublin", range(1, 6), "13:00:00", "17:00:00")
           + hours("dub", "Europe/Dublin", [6], "20:00:00", "00:00:00"))
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("D1", "2026-03-16 11:00:00", queue="listing_removal", priority="P1"),  # Mon
            appeal("D2", "2026-03-21 22:00:00", queue="listing_removal", priority="P1"),  # Sat
            appeal("D3", "2026-03-16 09:00:00", queue="listing_removal", priority="P1"),  # Mon
        ],
        "appeal_events": [
            ev("D1-01", "D1", "2026-03-16 12:30:00", "claimed"),  # lunch break
            ev("D1-02", "D1", "2026-03-18 10:00:00", "decided", outcome="upheld"),  # Wed
            ev("D2-01", "D2", "2026-03-23 09:30:00", "claimed"),  # Mon
            ev("D2-02", "D2", "2026-03-23 15:00:00", "decided", outcome="upheld"),
            ev("D3-01", "D3", "2026-03-16 12:30:00", "claimed"),
        ],
        "sla_policies": [policy("listing_removal", "P1", 3, 8, "business", "dub")],
        "business_hours": dub,
        "holidays": [{"schedule_id": "dub", "holiday_date": "2026-03-17"}],
    })
    f = facts_by_id(api, url, T("2026-03-24 00:00"))
    d1 = f["D1"]
    assert d1["ftr_hours"] == approx(1.5)  # 11:00 → 12:30
    assert d1["ftr_clock_hours"] == approx(1.0)  # 11–12 open, 12–12:30 lunch closed
    assert d1["ftr_sla"] == "achieved"  # deadline: 11–12 (1) + 13–15 (2) → Mon 15:00
    assert d1["ttr_hours"] == approx(47.0)  # Mon 11:00 → Wed 10:00
    # Mon 11–12 (1) + 13–17 (4) + Tue holiday (0) + Wed 09–10 (1) = 6
    assert d1["ttr_clock_hours"] == approx(6.0)
    assert d1["ttr_sla"] == "achieved"  # deadline Wed 12:00 (5 Mon + 3 Wed); ignoring the holiday gives 13 h
    d2 = f["D2"]
    assert d2["ftr_hours"] == approx(35.5)  # Sat 22:00 → Mon 09:30 = 24 + 11.5
    assert d2["ftr_clock_hours"] == approx(2.5)  # Sat 22–24 (2) + Mon 09–09:30 (0.5)
    assert d2["ftr_sla"] == "achieved"  # deadline Mon 10:00
    assert d2["ttr_hours"] == approx(41.0)  # Sat 22:00 → Mon 15:00 = 24 + 17
    assert d2["ttr_clock_hours"] == approx(7.0)  # 2 + Mon 09–12 (3) + 13–15 (2)
    assert d2["ttr_sla"] == "achieved"  # deadline: 2 + 3 + 3 → Mon 16:00
    d3 = f["D3"]
    assert d3["ftr_hours"] == approx(3.5)  # 09:00 → 12:30
    assert d3["ftr_clock_hours"] == approx(3.0)  # 09–12
    assert d3["ftr_sla"] == "breached"  # deadline reached at 12:00 (lunch closing); touch at 12:30 is late
    # TTR deadline: Mon 09–12 (3) + 13–17 (4) + Tue holiday + Wed 09–10 (1) → Wed 03-18 10:00 < as_of
    assert d3["ttr_sla"] == "breached"
    assert d3["ttr_clock_hours"] is None  # still open


def test_schedule_open_one_weekday_only(tmp_path, api):
    # Saturday 10:00–12:00 only (timezone UTC; no DST involved). The other six days are closed.
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("S1", "2026-03-13 12:00:00", queue="ip_counterfeit", priority="P1"),  # Fri
            appeal("S2", "2026-03-13 12:00:00", queue="ip_counterfeit", priority="P1"),
        ],
        "appeal_events": [
            ev("S1-01", "S1", "2026-03-14 11:00:00", "claimed"),  # Sat 11:00
            ev("S2-01", "S2", "2026-03-16 12:00:00", "claimed"),  # Mon 12:00
        ],
        "sla_policies": [policy("ip_counterfeit", "P1", 2, 100, "business", "sat")],
        "business_hours": hours("sat", "UTC", [6], "10:00:00", "12:00:00"),
    })
    f = facts_by_id(api, url, T("2026-03-20 00:00"))
    assert f["S1"]["ftr_clock_hours"] == approx(1.0)  # Sat 10:00 → 11:00
    assert f["S1"]["ftr_sla"] == "achieved"  # deadline Sat 03-14 12:00
    assert f["S2"]["ftr_clock_hours"] == approx(2.0)  # Sat 10–12; Sun/Mon closed
    assert f["S2"]["ftr_sla"] == "breached"  # deadline Sat 12:00, touch Mon 12:00
    assert f["S2"]["ttr_sla"] == "pending"  # 100 h at 2 h a week: deadline months away


def test_dublin_spring_forward(tmp_path, api):
    # Sunday 00:00–04:00 Europe/Dublin. On Sun 2026-03-29 that is 00:00 GMT → 04:00 IST
    # = 00:00–03:00 UTC: only 3 real hours. On Sun 2026-04-05: 00:00–04:00 IST = Sat 04-04 23:00 → 03:00 UTC.
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("DS", "2026-03-28 23:00:00", queue="ip_counterfeit", priority="P1"),
            appeal("DS2", "2026-03-28 23:00:00", queue="ip_counterfeit", priority="P1"),
        ],
        "appeal_events": [
            ev("DS-01", "DS", "2026-03-29 01:30:00", "claimed"),  # 02:30 IST
            ev("DS-02", "DS", "2026-03-29 03:30:00", "decided", outcome="upheld"),  # 04:30 IST, closed
        ],
        "sla_policies": [policy("ip_counterfeit", "P1", 2, 3.5, "business", "dub_sun")],
        "business_hours": hours("dub_sun", "Europe/Dublin", [7], "00:00:00", "04:00:00"),
    })
    f = facts_by_id(api, url, T("2026-04-04 23:30"))
    ds = f["DS"]
    assert ds["ftr_hours"] == approx(2.5)  # 23:00 → 01:30 UTC
    assert ds["ftr_clock_hours"] == approx(1.5)  # 00:00 → 01:30 UTC real time (wall clock says 2.5)
    assert ds["ftr_sla"] == "achieved"  # deadline 00:00 + 2 h = 02:00 UTC
    assert ds["ttr_hours"] == approx(4.5)  # 23:00 → 03:30 UTC
    assert ds["ttr_clock_hours"] == approx(3.0)  # open 00:00–03:00 UTC that day
    assert ds["ttr_sla"] == "achieved"  # deadline: 3 h on 03-29 + 0.5 h from 04-04 23:00 → 04-04 23:30 UTC
    ds2 = f["DS2"]
    assert ds2["ftr_sla"] == "breached"  # deadline 03-29 02:00 UTC long past
    assert ds2["ttr_sla"] == "pending"  # deadline 04-04 23:30 UTC == as_of
    ds2 = facts_by_id(api, url, T("2026-04-04 23:30:01"))["DS2"]
    assert ds2["ttr_sla"] == "breached"


def test_new_york_spring_forward_vs_phoenix(tmp_path, api):
    # Sunday 01:00–05:00 local in both zones.
    # New York Sun 2026-03-08: 01:00 EST = 06:00 UTC → 05:00 EDT = 09:00 UTC: 3 real hours.
    #   Sun 2026-03-15: 01:00 EDT = 05:00 UTC → 09:00 UTC.
    # Phoenix Sun 2026-03-08: 01:00–05:00 MST = 08:00–12:00 UTC: 4 hours (no DST).
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("NY1", "2026-03-07 12:00:00", queue="livestream_ban", priority="P1"),
            appeal("NY2", "2026-03-07 12:00:00", queue="livestream_ban", priority="P1"),
            appeal("PX1", "2026-03-07 12:00:00", queue="payments_hold", priority="P1"),
        ],
        "appeal_events": [
            ev("NY1-01", "NY1", "2026-03-08 08:30:00", "claimed"),  # 04:30 EDT
            ev("NY1-02", "NY1", "2026-03-15 05:15:00", "decided", outcome="upheld"),  # 01:15 EDT
            ev("NY2-01", "NY2", "2026-03-08 09:30:00", "claimed"),  # 05:30 EDT, after close
            ev("PX1-01", "PX1", "2026-03-08 08:30:00", "claimed"),  # 01:30 MST
            ev("PX1-02", "PX1", "2026-03-08 11:45:00", "decided", outcome="upheld"),  # 04:45 MST
        ],
        "sla_policies": [
            policy("livestream_ban", "P1", 3, 3.5, "business", "nyc_sun"),
            policy("payments_hold", "P1", 3, 3.5, "business", "phx_sun"),
        ],
        "business_hours": hours("nyc_sun", "America/New_York", [7], "01:00:00", "05:00:00")
        + hours("phx_sun", "America/Phoenix", [7], "01:00:00", "05:00:00"),
    })
    f = facts_by_id(api, url, T("2026-03-16 00:00"))
    ny1 = f["NY1"]
    assert ny1["ftr_hours"] == approx(20.5)  # Sat 12:00 → Sun 08:30 UTC
    assert ny1["ftr_clock_hours"] == approx(2.5)  # 06:00 → 08:30 UTC (wall clock 01:00→04:30 would say 3.5)
    assert ny1["ftr_sla"] == "achieved"  # deadline 06:00 + 3 h = 09:00 UTC (the closing instant)
    assert ny1["ttr_hours"] == approx(185.25)  # 8 days (192 h) - 6.75 h
    assert ny1["ttr_clock_hours"] == approx(3.25)  # 3 h on 03-08 + 05:00–05:15 UTC on 03-15
    assert ny1["ttr_sla"] == "achieved"  # deadline 3 h + 0.5 h → 03-15 05:30 UTC
    ny2 = f["NY2"]
    assert ny2["ftr_clock_hours"] == approx(3.0)  # the whole 3-hour window
    assert ny2["ftr_sla"] == "breached"  # deadline 09:00 UTC (05:00 EDT close); touch 09:30 UTC
    px1 = f["PX1"]
    assert px1["ftr_clock_hours"] == approx(0.5)  # 08:00 → 08:30 UTC
    assert px1["ftr_sla"] == "achieved"
    assert px1["ttr_hours"] == approx(23.75)  # Sat 12:00 → Sun 11:45
    assert px1["ttr_clock_hours"] == approx(3.75)  # 08:00 → 11:45 UTC
    assert px1["ttr_sla"] == "breached"  # deadline 08:00 + 3.5 h = 11:30 UTC


def test_new_york_nonexistent_local_time_shifted_forward(tmp_path, api):
    # Sunday 02:30–05:00 America/New_York. On 2026-03-08, 02:30 does not exist → 03:30 EDT
    # (= 07:30 UTC); close 05:00 EDT = 09:00 UTC: open 1.5 h. On 2026-03-15: 02:30 EDT = 06:30 UTC.
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("G1", "2026-03-07 12:00:00", priority="P3"),
                    appeal("G2", "2026-03-07 12:00:00", priority="P3")],
        "appeal_events": [
            ev("G1-01", "G1", "2026-03-08 08:00:00", "claimed"),  # 04:00 EDT
            ev("G2-01", "G2", "2026-03-15 06:45:00", "claimed"),  # 02:45 EDT
        ],
        "sla_policies": [policy("account_suspension", "P3", 2, 100, "business", "nyc_gap")],
        "business_hours": hours("nyc_gap", "America/New_York", [7], "02:30:00", "05:00:00"),
    })
    f = facts_by_id(api, url, T("2026-03-16 00:00"))
    assert f["G1"]["ftr_hours"] == approx(20.0)  # Sat 12:00 → Sun 08:00
    assert f["G1"]["ftr_clock_hours"] == approx(0.5)  # 07:30 → 08:00 UTC
    assert f["G1"]["ftr_sla"] == "achieved"
    assert f["G2"]["ftr_hours"] == approx(186.75)  # 192 h - 5.25 h
    assert f["G2"]["ftr_clock_hours"] == approx(1.75)  # 1.5 (03-08) + 06:30–06:45 UTC (03-15)
    assert f["G2"]["ftr_sla"] == "achieved"  # deadline 1.5 + 0.5 → 03-15 07:00 UTC


def test_new_york_ambiguous_local_time_first_occurrence(tmp_path, api):
    # Sunday 01:30–03:00 America/New_York. On 2026-11-01 01:30 happens twice; the first is
    # 01:30 EDT = 05:30 UTC; 03:00 EST = 08:00 UTC → open 2.5 real hours.
    url = make_warehouse(tmp_path, {
        "appeals": [appeal("FB1", "2026-10-31 12:00:00", priority="P0")],
        "appeal_events": [
            ev("FB1-01", "FB1", "2026-11-01 08:00:00", "decided", outcome="upheld"),  # 03:00 EST
        ],
        "sla_policies": [policy("account_suspension", "P0", 3, 2, "business", "nyc_fb")],
        "business_hours": hours("nyc_fb", "America/New_York", [7], "01:30:00", "03:00:00"),
    })
    r = facts_by_id(api, url, T("2026-11-02 00:00"))["FB1"]
    assert r["ttr_hours"] == approx(20.0)  # Sat 12:00 → Sun 08:00 UTC
    assert r["ttr_clock_hours"] == approx(2.5)  # 05:30 → 08:00 UTC
    assert r["ttr_sla"] == "breached"  # deadline 05:30 + 2 h = 07:30 UTC < 08:00
    assert r["ftr_hours"] == approx(20.0)  # the decision is the first touch
    assert r["ftr_clock_hours"] == approx(2.5)
    # FTR target 3 h: 2.5 h on 11-01, + 0.5 h on Sun 11-08 from 01:30 EST (06:30 UTC) → 11-08 07:00 UTC
    assert r["ftr_sla"] == "achieved"  # stopped at 08:00 UTC on 11-01 with 2.5 h <= 3
