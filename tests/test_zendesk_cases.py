"""Zendesk adapter edge cases (issue 16), each a hand-built Fivetran-shaped ticket.

Checked against how the reference Zendesk models (fivetran/dbt_zendesk) and Zendesk itself
read the same tickets (docs/zendesk.md, "Relation to the reference models"):
- tickets closed or solved on the ticket row without (or with truncated) status history are
  decided, at an approximate instant (`zendesk_status_from_ticket_row`);
- an agent-created ticket submitted as pending, and a status change to pending with no
  public agent comment, are waits but not touches;
- a wait ends when the ticket leaves pending (Zendesk's agent wait time), not only on a reply;
- `on-hold` (older exports) is `hold`; config `statuses` adds names; unknown ones are counted;
- config entries (groups, fields, statuses) that match nothing are reported.

Every expected value is derived beside it. Times are UTC; 2026-03-02 is a Monday and
2026-03-02 00:00 UTC is epoch 1772409600. SLA: P2 (normal) has a calendar policy, first touch
8 h and resolution 72 h. as_of is 2026-03-06 12:00.
"""

from __future__ import annotations

import re
from datetime import datetime

import polars as pl
import pytest

from metrics import api
from metrics.adapters import zendesk
from tests.test_zendesk import write_config, write_duckdb

AS_OF = "2026-03-06T12:00:00Z"
DAY0 = 1772409600  # 2026-03-02 00:00 UTC


def T(s: str) -> datetime:
    return datetime.fromisoformat(s)


def epoch(s: str) -> int:
    return int((T(s) - T("2026-03-02 00:00")).total_seconds()) + DAY0


USERS = [(1, "Ana Agent", "agent"), (2, "Bo Admin", "admin")] + [(i, f"User {i}", "end-user") for i in range(11, 21)]
GROUPS = [(101, "Appeals - Accounts"), (102, "Appeals - Listings"), (103, "Appeals - Payments")]
OUTCOME_FIELD = "360000000001"
MARKET_FIELD = "360000000099"  # configured, but never set on any ticket

TICKETS = [  # id, created_at, updated_at, status (ticket row), group_id, assignee_id, requester_id
    (2001, "2026-03-02 08:00", "2026-03-03 10:00", "closed", 101, 1, 11),  # old ticket: no history at all
    (2002, "2026-03-02 09:00", "2026-03-02 15:00", "solved", 101, None, 12),  # history stops at open; no assignee
    (2003, "2026-03-02 08:00", "2026-03-02 08:30", "closed", 101, 2, 13),  # updated_at before the last change
    (2004, "2026-03-02 08:00", "2026-03-03 09:00", "open", 101, 1, 14),  # history ends solved; row says open
    (2005, "2026-03-02 10:00", "2026-03-03 11:00", "open", 102, 1, 15),  # agent-created, submitted as pending
    (2006, "2026-03-02 08:00", "2026-03-04 09:00", "solved", 102, 2, 16),  # agent takes it out of pending
    (2007, "2026-03-02 08:00", "2026-03-02 16:00", "on-hold", 102, 1, 17),  # legacy spelling of hold
    (2008, "2026-03-02 08:00", "2026-03-02 15:00", "open", 102, 1, 18),  # pending flag without a message
    (2009, "2026-03-02 08:00", "2026-03-02 10:00", "Waiting on customer", 102, 1, 19),  # config `statuses`
    (2010, "2026-03-02 08:00", "2026-03-02 10:00", "awaiting_info", 102, 1, 20),  # unknown status
    (2011, "2026-03-02 08:00", "2026-03-02 08:00", "new", 103, None, 20),  # group misspelled in the config
]

COMMENTS = [  # id, ticket_id, user_id, created, public
    (9101, 2001, 11, "2026-03-02 08:00", True),  # descriptions are the appeal itself (no event)
    (9102, 2001, 1, "2026-03-02 12:00", True),
    (9201, 2002, 12, "2026-03-02 09:00", True),
    (9202, 2002, 1, "2026-03-02 10:00", True),
    (9301, 2003, 13, "2026-03-02 08:00", True),
    (9302, 2003, 2, "2026-03-02 11:00", True),
    (9401, 2004, 14, "2026-03-02 08:00", True),
    (9402, 2004, 1, "2026-03-02 12:00", True),
    (9501, 2005, 1, "2026-03-02 10:00", True),  # the agent's description (a phone appeal written down)
    (9502, 2005, 15, "2026-03-03 09:00", True),  # the requester answers while pending
    (9503, 2005, 1, "2026-03-03 11:00", True),  # the first real reply, 25 h after creation
    (9601, 2006, 16, "2026-03-02 08:00", True),
    (9602, 2006, 2, "2026-03-02 09:00", True),  # asks for evidence (with the change to pending)
    (9603, 2006, 2, "2026-03-04 09:00", True),  # the decision
    (9701, 2007, 17, "2026-03-02 08:00", True),
    (9702, 2007, 1, "2026-03-02 10:00", True),  # asks for evidence (with the change to pending)
    (9801, 2008, 18, "2026-03-02 08:00", True),
    (9802, 2008, 1, "2026-03-02 09:00", False),  # a private note with the change to pending
    (9803, 2008, 1, "2026-03-02 13:00", True),  # the first message the user sees
    (9804, 2008, 18, "2026-03-02 15:00", True),  # the user answers while pending
    (9901, 2009, 19, "2026-03-02 08:00", True),
    (9902, 2009, 1, "2026-03-02 10:00", True),
    (9951, 2010, 20, "2026-03-02 08:00", True),
    (9961, 2011, 20, "2026-03-02 08:00", True),
]

HISTORY = [  # ticket_id, field_name, updated, user_id, value
    # 2001: nothing (imported before the history starts)
    (2002, "status", "2026-03-02 09:00", 12, "new"),
    (2002, "status", "2026-03-02 09:30", 1, "open"),
    (2003, "status", "2026-03-02 08:00", 13, "new"),
    (2003, "status", "2026-03-02 09:00", 2, "open"),
    (2004, "status", "2026-03-02 08:00", 14, "new"),
    (2004, OUTCOME_FIELD, "2026-03-02 12:00", 1, "appeal_upheld"),
    (2004, "status", "2026-03-02 12:00", 1, "solved"),
    (2005, "status", "2026-03-02 10:00", 1, "pending"),  # submitted as pending by the agent
    (2005, "status", "2026-03-03 09:00", 15, "open"),  # the reply re-opens it (same update)
    (2006, "status", "2026-03-02 08:00", 16, "new"),
    (2006, "status", "2026-03-02 09:00", 2, "pending"),
    (2006, "status", "2026-03-03 09:00", 2, "open"),  # the agent takes it out of pending, no reply
    (2006, OUTCOME_FIELD, "2026-03-04 09:00", 2, "appeal_upheld"),
    (2006, "status", "2026-03-04 09:00", 2, "solved"),
    (2007, "status", "2026-03-02 08:00", 17, "new"),
    (2007, "status", "2026-03-02 10:00", 1, "pending"),
    (2007, "status", "2026-03-02 16:00", 1, "on-hold"),  # to a third party: the user no longer holds it
    (2008, "status", "2026-03-02 08:00", 18, "new"),
    (2008, "status", "2026-03-02 09:00", 1, "pending"),  # no public comment: the user was told nothing
    (2008, "status", "2026-03-02 15:00", 18, "open"),
    (2009, "status", "2026-03-02 08:00", 19, "new"),
    (2009, "status", "2026-03-02 10:00", 1, "Waiting on customer"),  # statuses: → pending
    (2010, "status", "2026-03-02 08:00", 20, "new"),
    (2010, "status", "2026-03-02 10:00", 1, "awaiting_info"),  # in no vocabulary
]

CONFIG = {
    "appeal_groups": [
        {"id": 101, "queue": "account_suspension"},
        {"name": "Appeals - Listings", "queue": "listing_removal"},
        {"name": "appeals - payments", "queue": "payments_hold"},  # the group is "Appeals - Payments"
    ],
    "escalation_groups": [{"id": 999, "target": "legal"}],  # no such group
    "outcome": {"custom_field": OUTCOME_FIELD, "values": {"appeal_upheld": "upheld"}},
    "fields": {"market": MARKET_FIELD},
    "statuses": {"Waiting on customer": "pending", "Escalated to tier 3": "hold"},
    "sla_policies": [{"queue": "*", "priority": "P2", "first_touch_target_hours": 8,
                      "resolution_target_hours": 72, "clock": "calendar"}],
}


def frames() -> dict[str, pl.DataFrame]:
    ts = pl.Datetime("us")
    return {
        "user": pl.DataFrame(USERS, schema={"id": pl.Int64, "name": pl.Utf8, "role": pl.Utf8}, orient="row"),
        "group": pl.DataFrame(GROUPS, schema={"id": pl.Int64, "name": pl.Utf8}, orient="row"),
        "ticket": pl.DataFrame(
            [(i, T(c), T(u), st, "normal", g, a, r) for i, c, u, st, g, a, r in TICKETS],
            schema={"id": pl.Int64, "created_at": ts, "updated_at": ts, "status": pl.Utf8, "priority": pl.Utf8,
                    "group_id": pl.Int64, "assignee_id": pl.Int64, "requester_id": pl.Int64}, orient="row"),
        "ticket_comment": pl.DataFrame(
            [(i, t, u, T(c), p) for i, t, u, c, p in COMMENTS],
            schema={"id": pl.Int64, "ticket_id": pl.Int64, "user_id": pl.Int64, "created": ts, "public": pl.Boolean},
            orient="row"),
        "ticket_field_history": pl.DataFrame(
            [(t, f, T(u), usr, v) for t, f, u, usr, v in HISTORY],
            schema={"ticket_id": pl.Int64, "field_name": pl.Utf8, "updated": ts, "user_id": pl.Int64,
                    "value": pl.Utf8}, orient="row"),
    }


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    url = write_duckdb(tmp_path_factory.mktemp("zdc") / "zendesk.duckdb", frames())
    return zendesk.open_warehouse(url, zendesk.load_config(write_config(tmp_path_factory.mktemp("cfg"), CONFIG)))


@pytest.fixture(scope="module")
def facts(wh) -> dict[str, dict]:
    return {r["appeal_id"]: r for r in api.facts(wh, as_of=AS_OF, wide=True).to_dicts()}


@pytest.fixture(scope="module")
def checks(wh) -> dict:
    return {c.name: c for c in api.check(wh, as_of=AS_OF)}


def naive(v):
    return None if v is None else v.replace(tzinfo=None)


def events_of(wh, appeal_id: str) -> list[tuple]:
    frame = wh.query(f"select * from ({wh.adapter_sql['appeal_events']}) as e "
                     "where appeal_id = :aid order by occurred_at, event_id", {"aid": appeal_id})
    return [(e["event_id"], e["event_type"], e["actor_type"], e["actor_id"], naive(e["occurred_at"]))
            for e in frame.to_dicts()]


# ------------------------------------------------------------- 1. status from the ticket row


def test_closed_ticket_without_history_is_decided_at_updated_at(wh, facts):
    assert events_of(wh, "2001") == [
        ("zc-9102", "message_to_user", "specialist", "1", T("2026-03-02 12:00")),
        # no status history: decided at the ticket's updated_at, by its assignee (1, an agent)
        ("zt-2001-status", "decided", "specialist", "1", T("2026-03-03 10:00")),
    ]
    f = facts["2001"]
    assert f["status"] == "resolved"
    assert naive(f["resolved_at"]) == T("2026-03-03 10:00")
    assert f["ttr_hours"] == pytest.approx(26.0)  # 03-02 08:00 → 03-03 10:00
    assert f["ftr_hours"] == pytest.approx(4.0)  # 08:00 → 12:00 (zc-9102)
    assert (f["specialist_id"], f["outcome"]) == ("1", None)  # no outcome field in the export


def test_truncated_history_and_unknown_solver(wh, facts):
    ev = events_of(wh, "2002")
    # history stops at open (09:30); the row says solved, updated 15:00; no assignee → system actor
    assert ev[-1] == ("zt-2002-status", "decided", "system", None, T("2026-03-02 15:00"))
    f = facts["2002"]
    assert (f["status"], naive(f["resolved_at"]), f["ttr_hours"]) == ("resolved", T("2026-03-02 15:00"),
                                                                     pytest.approx(6.0))  # 09:00 → 15:00
    assert f["decider_actor_type"] == "system"


def test_updated_at_before_the_last_change_uses_the_latest_recorded_instant(facts):
    # 2003: updated_at 08:30 is before the recorded change to open at 09:00, so the decision is
    # put at the latest instant the export records for the ticket: the agent comment at 11:00
    f = facts["2003"]
    assert (f["status"], naive(f["resolved_at"]), f["specialist_id"]) == ("resolved", T("2026-03-02 11:00"), "2")
    assert f["ttr_hours"] == pytest.approx(3.0)  # 08:00 → 11:00


def test_open_row_after_a_recorded_solve_is_reopened(wh, facts):
    ev = events_of(wh, "2004")
    assert [e[:3] for e in ev] == [
        ("zc-9402", "message_to_user", "specialist"),
        (f"zf-2004-status-{epoch('2026-03-02 12:00')}", "decided", "specialist"),
        ("zt-2004-status", "reopened", "system"),  # at updated_at 03-03 09:00
    ]
    f = facts["2004"]
    assert (f["status"], f["resolved_at"], f["reopen_count"]) == ("open", None, 1)


def test_status_repairs_are_counted(checks):
    c = checks["zendesk_status_from_ticket_row"]
    assert c.kind == "corrected"
    assert (c.count, c.examples) == (4, ["2001", "2002", "2003", "2004"])
    # the decisions taken from the ticket row carry no outcome (none was recorded): counted too
    assert checks["decided_without_outcome"].examples == ["zt-2001-status", "zt-2002-status", "zt-2003-status"]
    assert checks["decided_by_non_specialist"].examples == ["2002"]  # the solver of 2002 is unknown


def test_no_closed_or_solved_ticket_is_open_in_facts(facts):
    rows = {str(t[0]): zendesk.LEGACY_STATUSES.get(t[3], t[3]) for t in TICKETS}
    decided = sorted(k for k, st in rows.items() if st in ("solved", "closed"))
    assert decided == ["2001", "2002", "2003", "2006"]
    assert {k: facts[k]["status"] for k in decided} == dict.fromkeys(decided, "resolved")


# ------------------------------------------------------------- 2. agent-created pending ticket


def test_agent_created_pending_ticket_is_not_touched_at_creation(wh, facts):
    assert events_of(wh, "2005") == [
        # 9501 is the description; the submission as pending starts a wait, but told the user
        # nothing beyond the description: actor_type system (not a touch), actor_id the agent
        (f"zf-2005-status-{epoch('2026-03-02 10:00')}", "evidence_requested", "system", "1", T("2026-03-02 10:00")),
        ("zc-9502", "evidence_received", "user", "15", T("2026-03-03 09:00")),  # the reply ends the wait
        ("zc-9503", "message_to_user", "specialist", "1", T("2026-03-03 11:00")),
    ]
    f = facts["2005"]
    assert naive(f["first_touch_at"]) == T("2026-03-03 11:00")
    assert f["ftr_hours"] == pytest.approx(25.0)  # was 0 h when the submission counted as a touch
    assert f["user_wait_hours"] == pytest.approx(23.0)  # 03-02 10:00 → 03-03 09:00


# ------------------------------------------------------------- 3. the wait ends on leaving pending


def test_agent_taking_a_ticket_out_of_pending_ends_the_wait(wh, facts):
    ev = events_of(wh, "2006")
    assert ev[:3] == [
        ("zc-9602", "message_to_user", "specialist", "2", T("2026-03-02 09:00")),
        # with the public comment of the same update: a real request, by the specialist
        (f"zf-2006-status-{epoch('2026-03-02 09:00')}", "evidence_requested", "specialist", "2", T("2026-03-02 09:00")),
        # pending → open by the agent, no reply: the wait ends here
        (f"zf-2006-status-{epoch('2026-03-03 09:00')}", "evidence_received", "specialist", "2", T("2026-03-03 09:00")),
    ]
    f = facts["2006"]
    assert f["user_wait_hours"] == pytest.approx(24.0)  # 03-02 09:00 → 03-03 09:00 (was 48 h: until the decision)
    assert f["ttr_hours"] == pytest.approx(49.0)  # 03-02 08:00 → 03-04 09:00
    assert f["outcome"] == "upheld"


def test_legacy_on_hold_is_hold_and_ends_the_wait(wh, facts):
    ev = events_of(wh, "2007")
    assert ev[-1] == (f"zf-2007-status-{epoch('2026-03-02 16:00')}", "evidence_received", "specialist", "1",
                      T("2026-03-02 16:00"))
    # pending 10:00 → on-hold (= hold) 16:00: 6 h (read as an unknown status the wait ran to
    # as_of: 03-02 10:00 → 03-06 12:00 = 98 h)
    assert facts["2007"]["user_wait_hours"] == pytest.approx(6.0)
    assert facts["2007"]["status"] == "open"  # row on-hold = history hold: nothing to repair


# ------------------------------------------------------------- 4. a pending flag is no touch


def test_pending_without_a_public_comment_is_not_a_touch(wh, facts):
    ev = events_of(wh, "2008")
    assert ev == [  # same instant: ordered by event id
        ("zc-9802", "internal_note", "specialist", "1", T("2026-03-02 09:00")),
        (f"zf-2008-status-{epoch('2026-03-02 09:00')}", "evidence_requested", "system", "1", T("2026-03-02 09:00")),
        ("zc-9803", "message_to_user", "specialist", "1", T("2026-03-02 13:00")),
        ("zc-9804", "evidence_received", "user", "18", T("2026-03-02 15:00")),
    ]
    f = facts["2008"]
    assert naive(f["first_touch_at"]) == T("2026-03-02 13:00")  # not 09:00: the user was told nothing then
    assert f["ftr_hours"] == pytest.approx(5.0)  # 08:00 → 13:00 (was 1 h)
    assert f["user_wait_hours"] == pytest.approx(6.0)  # time in pending, 09:00 → 15:00
    assert f["ftr_sla"] == "achieved"  # 5 <= 8


def test_self_assignment_is_a_claim_when_the_config_maps_it(tmp_path):
    # the main fixture of tests/test_zendesk.py, with claim_on_self_assignment
    from tests import test_zendesk as main

    url = write_duckdb(tmp_path / "zd.duckdb", main.fivetran_frames())
    claims = zendesk.open_warehouse(url, zendesk.parse_config({**main.CONFIG, "claim_on_self_assignment": True}))
    f = {r["appeal_id"]: r for r in api.facts(claims, as_of=AS_OF).to_dicts()}
    # 1005: agent 1 assigns it to themselves at 13:00 (created 11:00): claimed, FTR 2 h
    # (without the option it has no touch at all: tests/test_zendesk.py)
    assert naive(f["1005"]["first_touch_at"]) == T("2026-03-02 13:00")
    assert f["1005"]["ftr_hours"] == pytest.approx(2.0)
    assert f["1005"]["specialist_id"] == "1"  # still the owner through the assignment
    # 1006: the agent-created ticket is self-assigned at its creation (15:00): not a claim
    assert naive(f["1006"]["first_touch_at"]) == T("2026-03-03 09:00")
    # 1002: self-assigned by 2 at 03-03 10:00, after the first reply at 03-02 12:00: unchanged
    assert naive(f["1002"]["first_touch_at"]) == T("2026-03-02 12:00")
    ev = events_of(claims, "1001")  # assigned by 2 to 1: routing, no claim
    assert [e[1] for e in ev].count("claimed") == 0
    with pytest.raises(ValueError, match=r"^zendesk config: claim_on_self_assignment: must be true or false"):
        zendesk.parse_config({**main.CONFIG, "claim_on_self_assignment": "yes"})


# ------------------------------------------------------------- status vocabulary


def test_config_status_names_and_unknown_statuses(wh, facts, checks):
    ev = events_of(wh, "2009")
    # "Waiting on customer" → pending (config `statuses`, case-insensitive), with a public reply
    assert ev[-1] == (f"zf-2009-status-{epoch('2026-03-02 10:00')}", "evidence_requested", "specialist", "1",
                      T("2026-03-02 10:00"))
    assert facts["2009"]["user_wait_hours"] == pytest.approx(98.0)  # 03-02 10:00 → as_of 03-06 12:00
    assert [e[1] for e in events_of(wh, "2010")] == []  # awaiting_info is in no vocabulary: no event
    assert facts["2010"]["status"] == "open"
    c = checks["zendesk_unknown_status"]
    assert (c.kind, c.count, c.examples) == ("flagged", 1, ["2010 (awaiting_info)"])


# ------------------------------------------------------------- configuration checks


def test_config_entries_that_match_nothing(wh, checks):
    # 2011 is in "Appeals - Payments"; the config spells it "appeals - payments": not an appeal
    assert sorted(facts_ids := [r["appeal_id"] for r in api.facts(wh, as_of=AS_OF).to_dicts()]) == [
        str(i) for i in range(2001, 2011)]
    assert len(facts_ids) == 10
    g = checks["zendesk_config_group_unmatched"]
    assert (g.kind, g.count) == ("config", 2)
    assert g.examples == [
        "appeal_groups[2] name 'appeals - payments': no such group; group Appeals - Payments differs only in "
        "case or spaces: 1 tickets in it are left out",  # 2011
        "escalation_groups[0] id 999: no such group",
    ]
    f = checks["zendesk_config_field_unseen"]
    # the market field is never set; the outcome field is (2004, 2006)
    assert f.examples == [f"fields.market {MARKET_FIELD}: never set on any of the 10 appeals "
                          "(market is null on every appeal)"]
    s = checks["zendesk_config_status_unmatched"]
    assert s.examples == ["statuses.escalated to tier 3: no ticket has this status"]  # Waiting on customer occurs


def test_config_checks_alone_for_the_connection_status(wh):
    from metrics.checks import run_adapter_checks

    found = run_adapter_checks(wh, {}, kinds=("config",))
    assert [c.name for c in found] == ["zendesk_config_group_unmatched", "zendesk_config_field_unseen",
                                       "zendesk_config_status_unmatched"]
    assert [c.count for c in found] == [2, 1, 1]


def test_config_reaches_the_check_sql_only_as_bind_parameters():
    cfg = zendesk.parse_config(CONFIG)
    cols = {t: set(c) | {"updated_at", "assignee_id"} for t, c in zendesk.REQUIRED_COLUMNS.items()}
    checks, params = zendesk.build_adapter_checks(cfg, cols)
    assert [c.name for c in checks] == list(zendesk.CHECK_KINDS)
    text = re.sub(r"--[^\n]*", "", "\n".join(c.sql for c in checks))  # comments are prose
    for value in ("appeals - payments", "Appeals - Listings", "999", MARKET_FIELD, OUTCOME_FIELD, "escalated to tier 3",
                  "waiting on customer", "on-hold"):
        assert value not in text, value
        assert value in {str(v) for v in params.values()}, value


def test_bad_status_config_is_one_line():
    with pytest.raises(ValueError, match=r"^zendesk config: statuses\.Waiting: must be one of new, open"):
        zendesk.parse_config({**CONFIG, "statuses": {"Waiting": "paused"}})


# ------------------------------------------------------------- PostgreSQL


def test_same_facts_and_checks_on_postgresql(request, wh):
    from polars.testing import assert_frame_equal

    from tests.pg import load_tables_pg

    pg_url = request.getfixturevalue("pg_url")
    load_tables_pg(pg_url, frames(), "zd_cases")  # every column text: the adapter casts its way through
    pg = zendesk.open_warehouse(pg_url, zendesk.parse_config({**CONFIG, "schema": "zd_cases"}))
    assert_frame_equal(api.facts(pg, as_of=AS_OF, wide=True), api.facts(wh, as_of=AS_OF, wide=True),
                       check_exact=False, abs_tol=1e-9)
    duck = [(c.name, c.count, c.examples) for c in api.check(wh, as_of=AS_OF)]
    assert [(c.name, c.count, c.examples) for c in api.check(pg, as_of=AS_OF)] == duck
    assert ("zendesk_status_from_ticket_row", 4, ["2001", "2002", "2003", "2004"]) in duck
