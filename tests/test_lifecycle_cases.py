"""Hand-derived cases for the appeal lifecycle (metrics.md "The as-of time",
"Appeal lifecycle (per appeal)" and "Durations").

Every expected value is worked out by hand from the spec; the arithmetic is in the comment
beside it. Times are UTC unless stated. 2026-03-02 is a Monday.
"""

from __future__ import annotations

import polars as pl
import pytest

from tests.cases import N, T, appeal, ev, facts_by_id, wh
from tests.cases import naive_utc as _naive_utc
from tests.helpers import make_warehouse

FACTS_COLUMNS = [
    "appeal_id",
    "queue",
    "priority",
    "market",
    "channel",
    "policy",
    "enforcement_source",
    "specialist_id",
    "created_at",
    "first_touch_at",
    "resolved_at",
    "status",
    "outcome",
    "is_overturned",
    "reopen_count",
    "escalated",
    "ftr_hours",
    "ttr_hours",
    "ftr_clock_hours",
    "ttr_clock_hours",
    "ftr_target_hours",
    "ttr_target_hours",
    "ftr_sla",
    "ttr_sla",
    "user_wait_hours",
    "root_cause",
    "theme",
]


# --------------------------------------------------------------------------- helpers


def approx(x):
    return pytest.approx(x, abs=1e-9)


# --------------------------------------------------------------------------- shape


def test_facts_columns_and_types(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1")],
        [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "claimed"),
            ev("A1-02", "A1", "2026-03-02 11:00:00", "decided", outcome="upheld"),
        ],
    )
    df = api.facts(url, as_of=T("2026-03-03 00:00"))
    # interfaces.md: exactly these columns, in this order
    assert df.columns == FACTS_COLUMNS
    assert df.height == 1
    for col in ("created_at", "first_touch_at", "resolved_at"):
        assert isinstance(df.schema[col], pl.Datetime), col
    assert df.schema["is_overturned"] == pl.Boolean
    assert df.schema["escalated"] == pl.Boolean
    assert df.schema["reopen_count"].is_integer()
    for col in ("ftr_hours", "ttr_hours", "user_wait_hours"):
        assert df.schema[col].is_float(), col
    r = _naive_utc(df).to_dicts()[0]
    assert r["created_at"] == N("2026-03-02 09:00")
    assert r["first_touch_at"] == N("2026-03-02 10:00")
    assert r["resolved_at"] == N("2026-03-02 11:00")


# --------------------------------------------------------------------------- first touch


@pytest.mark.parametrize("touch_type", ["claimed", "message_to_user", "evidence_requested", "decided"])
def test_first_touch_each_touch_type(tmp_path, api, touch_type):
    extra = {"outcome": "upheld"} if touch_type == "decided" else {}
    url = wh(
        tmp_path,
        [appeal("A1", "2026-03-02 09:00:00")],
        [
            # none of these is a touch:
            ev("A1-01", "A1", "2026-03-02 09:10:00", "assigned", actor_id="s1"),  # routing
            ev("A1-02", "A1", "2026-03-02 09:20:00", "internal_note"),  # private note
            ev("A1-03", "A1", "2026-03-02 09:30:00", "message_to_user", "system", "autoack"),  # auto ack
            ev("A1-04", "A1", "2026-03-02 10:30:00", touch_type, **extra),  # the touch
            ev("A1-05", "A1", "2026-03-02 11:00:00", "claimed", actor_id="s2"),  # later touch
        ],
    )
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    assert r["first_touch_at"] == N("2026-03-02 10:30")  # earliest specialist touch
    assert r["ftr_hours"] == approx(1.5)  # 10:30 - 09:00 = 1.5 h


def test_non_touch_events_leave_first_touch_null(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1", "2026-03-02 09:00:00")],
        [
            ev("A1-01", "A1", "2026-03-02 09:10:00", "assigned", actor_id="s1"),
            ev("A1-02", "A1", "2026-03-02 09:20:00", "internal_note"),
            ev("A1-03", "A1", "2026-03-02 09:30:00", "message_to_user", "system", "autoack"),
            ev("A1-04", "A1", "2026-03-02 09:40:00", "evidence_received", "user", "u1"),
            ev("A1-05", "A1", "2026-03-02 09:50:00", "message_to_user", "user", "u1"),
            ev("A1-06", "A1", "2026-03-02 10:00:00", "escalated", escalation_target="policy"),  # not in touch set
            ev("A1-07", "A1", "2026-03-02 10:10:00", "claimed", "system", "router"),  # actor not a specialist
        ],
    )
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    assert r["first_touch_at"] is None  # no specialist event of a touch type
    assert r["ftr_hours"] is None
    assert r["status"] == "open"  # no decided/reopened/withdrawn
    assert r["escalated"] is True  # one escalated event


# --------------------------------------------------------------------------- status


def test_no_events_defaults(tmp_path, api):
    url = wh(tmp_path, [appeal("A1", "2026-03-02 09:00:00", market="US", channel="in_app")], [])
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    assert r["queue"] == "account_suspension"
    assert r["priority"] == "P2"
    assert r["market"] == "US"
    assert r["channel"] == "in_app"
    assert r["status"] == "open"  # no status event → open
    assert r["resolved_at"] is None
    assert r["first_touch_at"] is None
    assert r["outcome"] is None
    assert r["is_overturned"] is None
    assert r["specialist_id"] is None  # no decider, no assignment
    assert r["reopen_count"] == 0
    assert r["escalated"] is False
    assert r["user_wait_hours"] == approx(0.0)  # no request → 0
    assert r["ftr_hours"] is None
    assert r["ttr_hours"] is None


def test_status_resolved_reopened_withdrawn(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal(a) for a in ("R", "RO", "W", "RW")],
        [
            # R: decided → resolved
            ev("R-01", "R", "2026-03-02 12:00:00", "decided", outcome="upheld"),
            # RO: decided then reopened → open
            ev("RO-01", "RO", "2026-03-02 12:00:00", "decided", outcome="upheld"),
            ev("RO-02", "RO", "2026-03-02 15:00:00", "reopened", "user", "u1"),
            # W: withdrawn → withdrawn
            ev("W-01", "W", "2026-03-02 10:00:00", "withdrawn", "user", "u1"),
            # RW: decided, reopened, withdrawn → last status event is withdrawn
            ev("RW-01", "RW", "2026-03-02 12:00:00", "decided", outcome="overturned"),
            ev("RW-02", "RW", "2026-03-02 13:00:00", "reopened", "user", "u1"),
            ev("RW-03", "RW", "2026-03-02 14:00:00", "withdrawn", "user", "u1"),
        ],
    )
    f = facts_by_id(api, url, T("2026-03-03 00:00"))
    assert f["R"]["status"] == "resolved"
    assert f["R"]["resolved_at"] == N("2026-03-02 12:00")
    assert f["R"]["ttr_hours"] == approx(3.0)  # 12:00 - 09:00
    assert f["R"]["outcome"] == "upheld"

    assert f["RO"]["status"] == "open"  # last status event = reopened
    assert f["RO"]["resolved_at"] is None
    assert f["RO"]["outcome"] is None  # null unless resolved
    assert f["RO"]["is_overturned"] is None
    assert f["RO"]["ttr_hours"] is None  # not resolved
    assert f["RO"]["reopen_count"] == 1

    assert f["W"]["status"] == "withdrawn"
    assert f["W"]["resolved_at"] is None
    assert f["W"]["ttr_hours"] is None

    assert f["RW"]["status"] == "withdrawn"  # withdrawn is the last of decided/reopened/withdrawn
    assert f["RW"]["resolved_at"] is None
    assert f["RW"]["outcome"] is None
    assert f["RW"]["is_overturned"] is None


def test_reopened_then_redecided_resolves_at_final_decision(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1", "2026-03-02 09:00:00")],
        [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "decided", actor_id="s1", outcome="overturned",
               root_cause="agent_error"),
            ev("A1-02", "A1", "2026-03-03 09:00:00", "reopened", "specialist", "qa1"),
            ev("A1-03", "A1", "2026-03-04 11:30:00", "decided", actor_id="s2", outcome="upheld"),
        ],
    )
    r = facts_by_id(api, url, T("2026-03-05 00:00"))["A1"]
    assert r["status"] == "resolved"
    assert r["resolved_at"] == N("2026-03-04 11:30")  # the final decision
    assert r["ttr_hours"] == approx(50.5)  # 03-02 09:00 → 03-04 11:30 = 48 h + 2.5 h
    assert r["first_touch_at"] == N("2026-03-02 10:00")  # the first decision was the first touch
    assert r["ftr_hours"] == approx(1.0)
    assert r["outcome"] == "upheld"  # from the last decided event
    assert r["is_overturned"] is False
    assert r["specialist_id"] == "s2"  # actor of the last decided event
    assert r["reopen_count"] == 1


def test_events_after_decision_do_not_change_status(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1")],
        [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "decided", outcome="overturned"),
            ev("A1-02", "A1", "2026-03-02 11:00:00", "message_to_user"),
            ev("A1-03", "A1", "2026-03-02 12:00:00", "internal_note"),
            ev("A1-04", "A1", "2026-03-02 13:00:00", "assigned", actor_id="s9"),
        ],
    )
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    assert r["status"] == "resolved"  # only decided/reopened/withdrawn count
    assert r["resolved_at"] == N("2026-03-02 10:00")
    assert r["specialist_id"] == "s1"  # resolved → last decider, not the later assignee


# --------------------------------------------------------------------------- outcome


def test_outcome_and_is_overturned(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal(a) for a in ("OV", "PO", "UP", "NONE", "UNK")],
        [
            ev("OV-01", "OV", "2026-03-02 10:00:00", "decided", outcome="overturned", root_cause="agent_error"),
            ev("PO-01", "PO", "2026-03-02 10:00:00", "decided", outcome="partially_overturned",
               root_cause="new_evidence"),
            ev("UP-01", "UP", "2026-03-02 10:00:00", "decided", outcome="upheld"),
            ev("NONE-01", "NONE", "2026-03-02 10:00:00", "decided"),  # no outcome
            ev("UNK-01", "UNK", "2026-03-02 10:00:00", "decided", outcome="reversed"),  # unknown value
        ],
    )
    f = facts_by_id(api, url, T("2026-03-03 00:00"))
    assert f["OV"]["outcome"] == "overturned"
    assert f["OV"]["is_overturned"] is True
    assert f["OV"]["root_cause"] == "agent_error"  # from the final decision
    assert f["PO"]["outcome"] == "partially_overturned"
    assert f["PO"]["is_overturned"] is True  # partially overturned counts as overturned
    assert f["UP"]["outcome"] == "upheld"
    assert f["UP"]["is_overturned"] is False
    for a in ("NONE", "UNK"):
        assert f[a]["status"] == "resolved", a  # still a decision
        assert f[a]["resolved_at"] == N("2026-03-02 10:00"), a
        assert f[a]["ttr_hours"] == approx(1.0), a
        assert f[a]["outcome"] is None, a  # missing / unknown → null
        assert f[a]["is_overturned"] is None, a  # null when outcome null

    checks = api.check(url, as_of=T("2026-03-03 00:00"))
    flagged = {x for c in checks for x in c.examples}
    assert "NONE" in flagged or "NONE-01" in flagged  # decided without outcome is counted
    assert "UNK" in flagged or "UNK-01" in flagged  # unknown outcome is counted


def test_outcome_text_trimmed_empty_null_case_sensitive(tmp_path, api):
    # warehouse.md: compared case-sensitively after trimming spaces; empty text counts as null
    url = wh(
        tmp_path,
        [appeal(a) for a in ("SP", "EMPTY", "CASE")],
        [
            ev("SP-01", "SP", "2026-03-02 10:00:00", "decided", outcome="  upheld "),
            ev("EMPTY-01", "EMPTY", "2026-03-02 10:00:00", "decided", outcome=""),
            ev("CASE-01", "CASE", "2026-03-02 10:00:00", "decided", outcome="Overturned"),
        ],
    )
    f = facts_by_id(api, url, T("2026-03-03 00:00"))
    assert f["SP"]["outcome"] == "upheld"  # trimmed
    assert f["SP"]["is_overturned"] is False
    assert f["EMPTY"]["status"] == "resolved"
    assert f["EMPTY"]["outcome"] is None  # "" → null → decided without outcome
    assert f["CASE"]["status"] == "resolved"
    assert f["CASE"]["outcome"] is None  # "Overturned" ≠ "overturned" → unknown → null
    assert f["CASE"]["is_overturned"] is None


# --------------------------------------------------------------------------- owner


def test_owner_rules(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal(a) for a in ("RES", "OPEN", "TOUCH", "REOP", "WD")],
        [
            # RES: assigned s1, decided by s2 → owner s2 (last decider)
            ev("RES-01", "RES", "2026-03-02 09:10:00", "assigned", actor_id="s1"),
            ev("RES-02", "RES", "2026-03-02 10:00:00", "decided", actor_id="s2", outcome="upheld"),
            # OPEN: assigned s1 then s2, claimed by s3 → owner s2 (last assigned; touching ≠ owning)
            ev("OPEN-01", "OPEN", "2026-03-02 09:10:00", "assigned", actor_id="s1"),
            ev("OPEN-02", "OPEN", "2026-03-02 09:20:00", "assigned", actor_id="s2"),
            ev("OPEN-03", "OPEN", "2026-03-02 09:30:00", "claimed", actor_id="s3"),
            # TOUCH: only touched by s3, never assigned → owner null
            ev("TOUCH-01", "TOUCH", "2026-03-02 09:30:00", "claimed", actor_id="s3"),
            ev("TOUCH-02", "TOUCH", "2026-03-02 09:40:00", "message_to_user", actor_id="s3"),
            # REOP: assigned s1, decided by s2, reopened → open → last assigned s1
            ev("REOP-01", "REOP", "2026-03-02 09:10:00", "assigned", actor_id="s1"),
            ev("REOP-02", "REOP", "2026-03-02 10:00:00", "decided", actor_id="s2", outcome="upheld"),
            ev("REOP-03", "REOP", "2026-03-02 11:00:00", "reopened", "user", "u1"),
            # WD: assigned s4, withdrawn → not resolved → last assigned s4
            ev("WD-01", "WD", "2026-03-02 09:10:00", "assigned", actor_id="s4"),
            ev("WD-02", "WD", "2026-03-02 09:50:00", "withdrawn", "user", "u1"),
        ],
    )
    f = facts_by_id(api, url, T("2026-03-03 00:00"))
    assert f["RES"]["specialist_id"] == "s2"
    assert f["OPEN"]["specialist_id"] == "s2"
    assert f["TOUCH"]["specialist_id"] is None
    assert f["TOUCH"]["first_touch_at"] == N("2026-03-02 09:30")  # still a touch, just no owner
    assert f["REOP"]["specialist_id"] == "s1"
    assert f["WD"]["specialist_id"] == "s4"


# --------------------------------------------------------------------------- reopen_count, escalated


def test_reopen_count_and_escalated(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1"), appeal("A2")],
        [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "decided", outcome="upheld"),
            ev("A1-02", "A1", "2026-03-02 11:00:00", "reopened", "user", "u1"),
            ev("A1-03", "A1", "2026-03-02 12:00:00", "escalated", escalation_target="legal"),
            ev("A1-04", "A1", "2026-03-02 13:00:00", "decided", outcome="upheld"),
            ev("A1-05", "A1", "2026-03-02 14:00:00", "reopened", "specialist", "qa1"),
            ev("A1-06", "A1", "2026-03-02 15:00:00", "decided", outcome="overturned"),
            ev("A1-07", "A1", "2026-03-02 16:00:00", "escalated", escalation_target="policy"),
            ev("A2-01", "A2", "2026-03-02 10:00:00", "decided", outcome="upheld"),
        ],
    )
    f = facts_by_id(api, url, T("2026-03-03 00:00"))
    assert f["A1"]["reopen_count"] == 2  # two reopened events
    assert f["A1"]["escalated"] is True  # ≥ 1 escalated event (two here)
    assert f["A1"]["status"] == "resolved"
    assert f["A1"]["resolved_at"] == N("2026-03-02 15:00")
    assert f["A1"]["outcome"] == "overturned"
    assert f["A2"]["reopen_count"] == 0
    assert f["A2"]["escalated"] is False


# --------------------------------------------------------------------------- enforcement columns


def test_policy_and_enforcement_source_from_enforcements(tmp_path, api):
    rows = {
        "appeals": [appeal("A1", enforcement_id="E1"), appeal("A2", enforcement_id="E404"), appeal("A3")],
        "appeal_events": [],
        "enforcements": [
            {"enforcement_id": "E1", "action": "account_suspension", "policy": "counterfeit",
             "source": "automated", "enforced_by": "model-v3", "enforced_at": "2026-03-01 08:00:00"},
        ],
    }
    url = make_warehouse(tmp_path, rows)
    f = facts_by_id(api, url, T("2026-03-03 00:00"))
    assert f["A1"]["policy"] == "counterfeit"
    assert f["A1"]["enforcement_source"] == "automated"
    assert f["A2"]["policy"] is None  # unknown enforcement → null
    assert f["A3"]["enforcement_source"] is None  # no enforcement id → null

    url2 = make_warehouse(tmp_path, {"appeals": [appeal("A1", enforcement_id="E1")], "appeal_events": []},
                          name="no_enf.duckdb")
    r = facts_by_id(api, url2, T("2026-03-03 00:00"))["A1"]
    assert r["policy"] is None  # enforcements table absent → null (not available)
    assert r["enforcement_source"] is None


# --------------------------------------------------------------------------- user wait


def test_user_wait_single_wait_ended_by_evidence_received(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1")],
        [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "evidence_requested"),
            ev("A1-02", "A1", "2026-03-02 13:30:00", "evidence_received", "user", "u1"),
            ev("A1-03", "A1", "2026-03-02 15:00:00", "decided", outcome="upheld"),
        ],
    )
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    assert r["user_wait_hours"] == approx(3.5)  # 10:00 → 13:30; the decision ends nothing (no wait running)


def test_user_wait_ended_by_decided_or_withdrawn(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("D"), appeal("W")],
        [
            ev("D-01", "D", "2026-03-02 10:00:00", "evidence_requested"),
            ev("D-02", "D", "2026-03-02 12:00:00", "decided", outcome="upheld"),
            ev("W-01", "W", "2026-03-02 10:00:00", "evidence_requested"),
            ev("W-02", "W", "2026-03-02 11:15:00", "withdrawn", "user", "u1"),
        ],
    )
    f = facts_by_id(api, url, T("2026-03-03 00:00"))
    assert f["D"]["user_wait_hours"] == approx(2.0)  # 10:00 → decided 12:00
    assert f["W"]["user_wait_hours"] == approx(1.25)  # 10:00 → withdrawn 11:15


def test_user_wait_running_at_as_of_and_later_events_ignored(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1")],
        [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "evidence_requested"),
            ev("A1-02", "A1", "2026-03-02 18:00:00", "evidence_received", "user", "u1"),  # after as_of
        ],
    )
    r = facts_by_id(api, url, T("2026-03-02 16:00"))["A1"]
    assert r["user_wait_hours"] == approx(6.0)  # 10:00 → as_of 16:00 (the 18:00 answer is ignored)
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    assert r["user_wait_hours"] == approx(8.0)  # 10:00 → 18:00 once the answer is visible


def test_user_wait_second_request_does_not_restart(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1")],
        [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "evidence_requested"),
            ev("A1-02", "A1", "2026-03-02 11:00:00", "evidence_requested", actor_id="s2"),  # wait running
            ev("A1-03", "A1", "2026-03-02 12:00:00", "evidence_received", "user", "u1"),
            ev("A1-04", "A1", "2026-03-02 13:00:00", "evidence_received", "user", "u1"),  # no wait running
        ],
    )
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    # one wait 10:00 → 12:00 = 2.0 (restart would give 1.0; two waits would give 3.0)
    assert r["user_wait_hours"] == approx(2.0)


def test_user_wait_two_separate_waits_summed(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1")],
        [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "evidence_requested"),
            ev("A1-02", "A1", "2026-03-02 11:00:00", "evidence_received", "user", "u1"),
            ev("A1-03", "A1", "2026-03-02 13:00:00", "evidence_requested"),
            ev("A1-04", "A1", "2026-03-02 15:30:00", "evidence_received", "user", "u1"),
        ],
    )
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    assert r["user_wait_hours"] == approx(3.5)  # (11:00-10:00) + (15:30-13:00) = 1 + 2.5


# --------------------------------------------------------------------------- events before created_at


def test_events_before_created_at_used_as_if_at_created_at(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1", "2026-03-02 09:00:00")],
        [
            ev("A1-01", "A1", "2026-03-02 08:00:00", "claimed"),  # 1 h before created_at
            ev("A1-02", "A1", "2026-03-02 11:00:00", "decided", outcome="upheld"),
        ],
    )
    as_of = T("2026-03-03 00:00")
    r = facts_by_id(api, url, as_of)["A1"]
    assert r["first_touch_at"] == N("2026-03-02 09:00")  # reported at created_at, not 08:00
    assert r["ftr_hours"] == approx(0.0)  # 09:00 - 09:00 (not -1)
    assert r["ttr_hours"] == approx(2.0)  # 11:00 - 09:00
    checks = api.check(url, as_of=as_of)
    # the early event is counted by a data check (name not fixed): A1 has no other anomaly
    hits = [c for c in checks if "A1" in c.examples or "A1-01" in c.examples]
    assert hits, [(c.name, c.examples) for c in checks]
    assert any(c.count == 1 for c in hits)  # one event, one appeal


def test_user_wait_started_before_created_at_counts_from_created_at(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1", "2026-03-02 09:00:00")],
        [
            ev("A1-01", "A1", "2026-03-02 07:00:00", "evidence_requested"),  # before created_at
            ev("A1-02", "A1", "2026-03-02 10:00:00", "evidence_received", "user", "u1"),
        ],
    )
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    assert r["user_wait_hours"] == approx(1.0)  # from created_at 09:00 (not 07:00) to 10:00
    assert r["ftr_hours"] == approx(0.0)  # evidence_requested by a specialist is the touch, at created_at


def test_early_events_ordered_by_recorded_time(tmp_path, api):
    # Both events precede created_at (09:00). Ordering uses the recorded occurred_at:
    # decided (08:00) then reopened (08:30) → open. (Clamping both to 09:00 first and
    # breaking the tie by event_id, "X1" < "X2", would wrongly give reopened then decided.)
    url = wh(
        tmp_path,
        [appeal("A1", "2026-03-02 09:00:00")],
        [
            ev("X2", "A1", "2026-03-02 08:00:00", "decided", outcome="upheld"),
            ev("X1", "A1", "2026-03-02 08:30:00", "reopened", "user", "u1"),
        ],
    )
    r = facts_by_id(api, url, T("2026-03-03 00:00"))["A1"]
    assert r["status"] == "open"
    assert r["reopen_count"] == 1
    assert r["first_touch_at"] == N("2026-03-02 09:00")  # decided (specialist) at clamped created_at


# --------------------------------------------------------------------------- as_of


def test_event_exactly_at_as_of_counts_later_ignored(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("AT"), appeal("LATE")],
        [
            ev("AT-01", "AT", "2026-03-02 12:00:00", "decided", outcome="upheld"),
            ev("LATE-01", "LATE", "2026-03-02 11:00:00", "claimed"),
            ev("LATE-02", "LATE", "2026-03-02 12:00:01", "decided", outcome="overturned"),
            ev("LATE-03", "LATE", "2026-03-02 12:30:00", "escalated"),
        ],
    )
    f = facts_by_id(api, url, T("2026-03-02 12:00:00"))
    assert f["AT"]["status"] == "resolved"  # event at as_of counts
    assert f["AT"]["ttr_hours"] == approx(3.0)
    assert f["LATE"]["status"] == "open"  # decided 1 s after as_of is ignored
    assert f["LATE"]["resolved_at"] is None
    assert f["LATE"]["outcome"] is None
    assert f["LATE"]["escalated"] is False  # escalation after as_of ignored
    assert f["LATE"]["first_touch_at"] == N("2026-03-02 11:00")


def test_appeals_created_after_as_of_absent(tmp_path, api):
    url = wh(
        tmp_path,
        [
            appeal("EARLY", "2026-03-02 09:00:00"),
            appeal("EXACT", "2026-03-02 12:00:00"),  # created exactly at as_of → exists
            appeal("FUTURE", "2026-03-02 12:00:01"),  # created after as_of → absent
        ],
        [ev("EARLY-01", "EARLY", "2026-03-02 10:00:00", "claimed")],
    )
    as_of = T("2026-03-02 12:00:00")
    f = facts_by_id(api, url, as_of)
    assert set(f) == {"EARLY", "EXACT"}
    checks = api.check(url, as_of=as_of)
    assert any("FUTURE" in c.examples for c in checks), [(c.name, c.examples) for c in checks]


def test_default_as_of_is_latest_created_or_occurred(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A1", "2026-03-02 09:00:00"), appeal("A2", "2026-03-02 09:00:00")],
        [
            ev("A1-01", "A1", "2026-03-02 10:00:00", "evidence_requested"),
            ev("A2-01", "A2", "2026-03-02 15:00:00", "claimed"),  # latest timestamp in the warehouse
        ],
    )
    f = facts_by_id(api, url, None)
    # default as_of = 15:00 → A1's wait still running: 10:00 → 15:00 = 5.0
    assert f["A1"]["user_wait_hours"] == approx(5.0)
    assert f["A2"]["ftr_hours"] == approx(6.0)  # 15:00 - 09:00, the event at as_of counts


# --------------------------------------------------------------------------- ordering ties


def test_same_time_ties_broken_by_event_id(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("A"), appeal("B")],
        [
            # A: decided and reopened at the same instant; "A-01" < "A-02" → decided, reopened → open
            ev("A-01", "A", "2026-03-02 12:00:00", "decided", outcome="upheld"),
            ev("A-02", "A", "2026-03-02 12:00:00", "reopened", "user", "u1"),
            # B: first decision, then at 14:00 reopened "B-02" and decided "B-03" → resolved at 14:00
            ev("B-01", "B", "2026-03-02 10:00:00", "decided", actor_id="s1", outcome="upheld"),
            ev("B-03", "B", "2026-03-02 14:00:00", "decided", actor_id="s2", outcome="overturned"),
            ev("B-02", "B", "2026-03-02 14:00:00", "reopened", "user", "u1"),
        ],
    )
    f = facts_by_id(api, url, T("2026-03-03 00:00"))
    assert f["A"]["status"] == "open"
    assert f["A"]["resolved_at"] is None
    assert f["B"]["status"] == "resolved"
    assert f["B"]["resolved_at"] == N("2026-03-02 14:00")
    assert f["B"]["ttr_hours"] == approx(5.0)  # 14:00 - 09:00
    assert f["B"]["outcome"] == "overturned"
    assert f["B"]["specialist_id"] == "s2"
    assert f["B"]["reopen_count"] == 1


# --------------------------------------------------------------------------- durations


def test_ftr_ttr_hours_and_nulls(tmp_path, api):
    url = wh(
        tmp_path,
        [appeal("DONE", "2026-03-02 09:00:00"), appeal("TOUCHED", "2026-03-02 09:15:00"),
         appeal("WD", "2026-03-02 09:00:00")],
        [
            ev("DONE-01", "DONE", "2026-03-02 09:45:00", "message_to_user"),
            ev("DONE-02", "DONE", "2026-03-03 10:30:00", "decided", outcome="upheld"),
            ev("TOUCHED-01", "TOUCHED", "2026-03-02 11:00:00", "claimed"),
            ev("WD-01", "WD", "2026-03-02 10:00:00", "claimed"),
            ev("WD-02", "WD", "2026-03-02 12:00:00", "withdrawn", "user", "u1"),
        ],
    )
    f = facts_by_id(api, url, T("2026-03-04 00:00"))
    assert f["DONE"]["ftr_hours"] == approx(0.75)  # 09:45 - 09:00
    assert f["DONE"]["ttr_hours"] == approx(25.5)  # 03-02 09:00 → 03-03 10:30 = 24 + 1.5
    assert f["TOUCHED"]["ftr_hours"] == approx(1.75)  # 11:00 - 09:15
    assert f["TOUCHED"]["ttr_hours"] is None  # open: clock not stopped
    assert f["WD"]["ftr_hours"] == approx(1.0)  # withdrawn appeals keep their first touch
    assert f["WD"]["ttr_hours"] is None  # TTR only for resolved appeals
    # no SLA tables → no policy → clock and target columns null, SLA n/a
    for a in f.values():
        assert a["ftr_clock_hours"] is None and a["ttr_clock_hours"] is None
        assert a["ftr_target_hours"] is None and a["ttr_target_hours"] is None
        assert a["ftr_sla"] == "n/a" and a["ttr_sla"] == "n/a"
