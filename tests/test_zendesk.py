"""The Zendesk adapter on a hand-built Fivetran-shaped warehouse (docs/zendesk.md).

The fixture follows documented Zendesk semantics: a ticket's first comment is its
description (the submission); a requester's reply to a pending ticket sets it back to open in
the same update (same timestamp); a reply to a solved ticket reopens it; Zendesk's own system
user is id -1 and is not in the user table; schedule intervals are minutes from Sunday 00:00
in the schedule's (Rails-named) time zone; holidays are date ranges. Every expected value is
derived by hand beside it. Times are UTC; 2026-03-02 is a Monday; Europe/Berlin is UTC+1
until 2026-03-29, so the Berlin schedule's 09:00-17:00 is 08:00-16:00 UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from metrics import api
from metrics.adapters import zendesk
from metrics.warehouse import WarehouseError

AS_OF = "2026-03-06T12:00:00Z"


def T(s: str) -> datetime:
    return datetime.fromisoformat(s)


# --------------------------------------------------------------------------- the fixture

USERS = [  # id, name, role, time_zone, locale
    (1, "Ana Agent", "agent", "Berlin", "de"),
    (2, "Bo Admin", "admin", "Eastern Time (US & Canada)", "en-US"),
    (3, "Appeals Bot", "agent", "UTC", "en-US"),  # a bot account: configured as a system user
    (11, "Uma", "end-user", "Berlin", "de-DE"),
    (12, "Eve", "end-user", "London", "en-GB"),
    (13, "Ian", "end-user", "Eastern Time (US & Canada)", "en-US"),
    (14, "Ola", "end-user", "Warsaw", "pl"),
    (15, "Pat", "end-user", None, "en-US"),
]

GROUPS = [(101, "Appeals - Accounts"), (102, "Appeals - Listings"), (103, "Billing"), (104, "Policy Escalations")]

TICKETS = [  # id, created_at, status, priority, group_id, assignee_id, requester_id, submitter_id, via, external_id, deleted
    (1001, "2026-03-02 07:00", "closed", "high", 101, 1, 11, 11, "web", "enf-1", False),
    (1002, "2026-03-02 09:00", "solved", "normal", 102, 2, 12, 12, "email", "enf-2", False),
    (1003, "2026-03-02 10:00", "solved", "high", 101, 1, 13, 13, "mobile_sdk", None, False),
    (1004, "2026-03-02 10:30", "solved", "normal", 103, 2, 14, 14, "web", None, False),  # Billing: not an appeal
    (1005, "2026-03-02 11:00", "hold", "urgent", 104, 1, 14, 14, "api", None, False),  # now in the escalation group
    (1006, "2026-03-02 15:00", "open", None, 102, 1, 15, 1, "voice", None, False),  # created by an agent (phone)
    (1007, "2026-03-02 12:00", "deleted", "normal", 101, None, 14, 14, "web", None, False),  # deleted in Zendesk
    (1008, "2026-03-02 12:00", "open", "normal", 101, None, 14, 14, "web", None, True),  # deleted per Fivetran
]

COMMENTS = [  # id, ticket_id, user_id, created, public, body, deleted
    (5001, 1001, 11, "2026-03-02 07:00", True, "My account was suspended by mistake", False),
    (5002, 1001, 3, "2026-03-02 07:01", True, "We received your appeal", False),  # bot: automatic
    (5003, 1001, -1, "2026-03-02 07:02", False, "Routed to appeals by trigger", False),  # Zendesk system user
    (5004, 1001, 1, "2026-03-02 09:30", False, "Checked the detection logs", False),
    (5005, 1001, 1, "2026-03-02 10:00", True, "We are reviewing your appeal", False),
    (5006, 1001, 1, "2026-03-03 15:00", False, "Automation false positive; account restored", False),
    (5007, 1001, 1, "2026-03-03 15:00", True, "Your account is restored", False),
    (6001, 1002, 12, "2026-03-02 09:00", True, "Please restore my listing", False),
    (6002, 1002, 1, "2026-03-02 12:00", True, "Please send the purchase invoice", False),
    (6003, 1002, 12, "2026-03-03 09:00", True, "Here is the invoice", False),
    (6004, 1002, 2, "2026-03-03 11:00", True, "The removal stands: the invoice does not match", False),
    (7001, 1003, 13, "2026-03-02 10:00", True, "Please lift the suspension", False),
    (7002, 1003, 1, "2026-03-02 14:00", True, "Your appeal was not successful", False),
    (7003, 1003, 13, "2026-03-03 08:00", True, "I have new evidence", False),
    (7004, 1003, 1, "2026-03-03 13:00", False, "The new evidence checks out", False),
    (7005, 1003, 1, "2026-03-04 10:00", True, "We partly reversed the decision", False),
    (8501, 1004, 14, "2026-03-02 10:30", True, "Refund please", False),
    (8502, 1004, 2, "2026-03-02 11:00", True, "Refund sent", False),
    (8001, 1005, 14, "2026-03-02 11:00", True, "My shop was closed", False),
    (8002, 1005, 1, "2026-03-02 13:30", False, "Escalating to Policy", False),
    (9001, 1006, 1, "2026-03-02 15:00", True, "Appeal taken by phone for the user", False),
    (9003, 1006, 1, "2026-03-02 16:00", True, "A comment deleted since", True),
    (9002, 1006, 1, "2026-03-03 09:00", True, "We are looking into it", False),
]

OUTCOME_FIELD = "360000000001"
MARKET_FIELD = "360000000003"

HISTORY = [  # ticket_id, field_name, updated, user_id, value
    (1001, "status", "2026-03-02 07:00", 11, "new"),
    (1001, "group_id", "2026-03-02 07:00", 11, "101"),
    (1001, "priority", "2026-03-02 07:00", 11, "high"),
    (1001, MARKET_FIELD, "2026-03-02 07:00", 11, "DE"),
    (1001, "assignee_id", "2026-03-02 08:30", 2, "1"),
    (1001, "status", "2026-03-02 08:30", 2, "open"),
    (1001, OUTCOME_FIELD, "2026-03-03 15:00", 1, "appeal_overturned"),
    (1001, "status", "2026-03-03 15:00", 1, "solved"),
    (1001, "status", "2026-03-07 16:00", -1, "closed"),  # solved → closed: no event
    (1002, "status", "2026-03-02 09:00", 12, "new"),
    (1002, "group_id", "2026-03-02 09:00", 12, "102"),
    (1002, MARKET_FIELD, "2026-03-02 09:00", 12, "GB"),
    (1002, "status", "2026-03-02 12:00", 1, "pending"),
    (1002, "status", "2026-03-03 09:00", 12, "open"),  # the requester's reply re-opens a pending ticket
    (1002, "assignee_id", "2026-03-03 10:00", 2, "2"),
    (1002, OUTCOME_FIELD, "2026-03-03 11:00", 2, "appeal_upheld"),
    (1002, "status", "2026-03-03 11:00", 2, "solved"),
    (1003, "status", "2026-03-02 10:00", 13, "new"),
    (1003, "group_id", "2026-03-02 10:00", 13, "101"),
    (1003, "assignee_id", "2026-03-02 10:05", -1, "1"),  # auto-assigned by a trigger
    (1003, "status", "2026-03-02 10:05", -1, "open"),
    (1003, OUTCOME_FIELD, "2026-03-02 14:00", 1, "appeal_upheld"),
    (1003, "status", "2026-03-02 14:00", 1, "solved"),
    (1003, "status", "2026-03-03 08:00", 13, "open"),  # reply to a solved ticket: reopened
    (1003, OUTCOME_FIELD, "2026-03-04 10:00", 1, "appeal_partial"),
    (1003, "status", "2026-03-04 10:00", 1, "solved"),
    (1004, "status", "2026-03-02 10:30", 14, "new"),
    (1004, "group_id", "2026-03-02 10:30", 14, "103"),
    (1004, "status", "2026-03-02 11:00", 2, "solved"),
    (1005, "status", "2026-03-02 11:00", 14, "new"),
    (1005, "group_id", "2026-03-02 11:00", 14, "101"),
    (1005, "status", "2026-03-02 13:00", 1, "open"),
    (1005, "assignee_id", "2026-03-02 13:00", 1, "1"),
    (1005, "group_id", "2026-03-02 13:30", 1, "104"),  # to the escalation group
    (1005, "status", "2026-03-02 13:30", 1, "hold"),
    (1006, "status", "2026-03-02 15:00", 1, "new"),
    (1006, "group_id", "2026-03-02 15:00", 1, "102"),
    (1006, "assignee_id", "2026-03-02 15:00", 1, "1"),
    (1006, "status", "2026-03-03 09:00", 1, "open"),
    (1007, "status", "2026-03-02 12:00", 14, "new"),
    (1007, "group_id", "2026-03-02 12:00", 14, "101"),
    (1007, "status", "2026-03-02 12:30", 2, "deleted"),
]

TAGS = [
    (1001, "rc_automation_false_positive"), (1001, "appeal_overturned"), (1001, "vip"),
    (1002, "appeal_upheld"),
    (1003, "rc_new_evidence"), (1003, "appeal_partial"),
    (1005, "escalated_policy"),
]

BERLIN_WEEKDAYS = [(1980, 2460), (3420, 3900), (4860, 5340), (6300, 6780), (7740, 8220)]  # Mon..Fri 09-17
SCHEDULES = (  # id, name, time_zone, start_time, end_time, deleted
    [(900, "Berlin office", "Berlin", s, e, False) for s, e in BERLIN_WEEKDAYS]
    + [(901, "Old schedule", "UTC", 0, 10080, True)]  # deleted per Fivetran: no rows
    + [(902, "Weekends", "Mystery Zone", 0, 1440, False), (902, "Weekends", "Mystery Zone", 8640, 10080, False)]
)
HOLIDAYS = [(1, 900, "2026-03-04", "2026-03-05", "Local holiday", False)]  # Wed and Thu closed


def fivetran_frames() -> dict[str, pl.DataFrame]:
    """The Fivetran Zendesk tables (connector column names) as frames."""
    ts = pl.Datetime("us")
    return {
        "user": pl.DataFrame(
            [(i, n, f"{n.split()[0].lower()}@example.com", r, tz, loc, True, False) for i, n, r, tz, loc in USERS],
            schema={"id": pl.Int64, "name": pl.Utf8, "email": pl.Utf8, "role": pl.Utf8, "time_zone": pl.Utf8,
                    "locale": pl.Utf8, "active": pl.Boolean, "_fivetran_deleted": pl.Boolean}, orient="row"),
        "group": pl.DataFrame(GROUPS, schema={"id": pl.Int64, "name": pl.Utf8}, orient="row"),
        "ticket": pl.DataFrame(
            [(i, T(c), T(c), st, pr, g, a, r, s, f"Ticket {i}", f"Description of {i}", via, ext, d)
             for i, c, st, pr, g, a, r, s, via, ext, d in TICKETS],
            schema={"id": pl.Int64, "created_at": ts, "updated_at": ts, "status": pl.Utf8, "priority": pl.Utf8,
                    "group_id": pl.Int64, "assignee_id": pl.Int64, "requester_id": pl.Int64,
                    "submitter_id": pl.Int64, "subject": pl.Utf8, "description": pl.Utf8,
                    "via_channel": pl.Utf8, "external_id": pl.Utf8, "_fivetran_deleted": pl.Boolean},
            orient="row"),
        "ticket_comment": pl.DataFrame(
            [(i, t, u, T(c), p, b, d) for i, t, u, c, p, b, d in COMMENTS],
            schema={"id": pl.Int64, "ticket_id": pl.Int64, "user_id": pl.Int64, "created": ts,
                    "public": pl.Boolean, "body": pl.Utf8, "_fivetran_deleted": pl.Boolean}, orient="row"),
        "ticket_field_history": pl.DataFrame(
            [(t, f, T(u), usr, v) for t, f, u, usr, v in HISTORY],
            schema={"ticket_id": pl.Int64, "field_name": pl.Utf8, "updated": ts, "user_id": pl.Int64,
                    "value": pl.Utf8}, orient="row"),
        "ticket_tag": pl.DataFrame(TAGS, schema={"ticket_id": pl.Int64, "tag": pl.Utf8}, orient="row"),
        "schedule": pl.DataFrame(
            SCHEDULES, schema={"id": pl.Int64, "name": pl.Utf8, "time_zone": pl.Utf8, "start_time": pl.Int64,
                               "end_time": pl.Int64, "_fivetran_deleted": pl.Boolean}, orient="row"),
        "schedule_holiday": pl.DataFrame(
            [(i, s, date.fromisoformat(a), date.fromisoformat(b), n, d) for i, s, a, b, n, d in HOLIDAYS],
            schema={"id": pl.Int64, "schedule_id": pl.Int64, "start_date": pl.Date, "end_date": pl.Date,
                    "name": pl.Utf8, "_fivetran_deleted": pl.Boolean}, orient="row"),
    }


def write_duckdb(path: Path, frames: dict[str, pl.DataFrame], drop: dict[str, str] | None = None) -> str:
    con = duckdb.connect(str(path))
    try:
        for name, frame in frames.items():
            if drop and name in drop:
                frame = frame.drop(drop[name])
            con.register("_incoming", frame.to_arrow())
            con.execute(f'create table "{name}" as select * from _incoming')
            con.unregister("_incoming")
    finally:
        con.close()
    return f"duckdb:///{path}"


CONFIG = {  # the custom-field variant
    "appeal_groups": [
        {"id": 101, "queue": "account_suspension"},
        {"name": "Appeals - Listings", "queue": "listing_removal"},
    ],
    "escalation_groups": [{"name": "Policy Escalations", "target": "policy"}],
    "outcome": {
        "custom_field": OUTCOME_FIELD,
        "values": {"appeal_upheld": "upheld", "appeal_overturned": "overturned",
                   "appeal_partial": "partially_overturned"},
    },
    "root_cause": {"tag_prefix": "rc_"},
    "system_users": [3],
    "fields": {"enforcement_id": "external_id", "market": MARKET_FIELD},
    "sla_policies": [
        {"queue": "*", "priority": "P1", "first_touch_target_hours": 4, "resolution_target_hours": 12,
         "clock": "business", "schedule_id": "900"},
        {"queue": "*", "priority": "P2", "first_touch_target_hours": 8, "resolution_target_hours": 72,
         "clock": "calendar"},
    ],
}

TAGS_CONFIG = {
    **CONFIG,
    "outcome": {"tags": {"appeal_overturned": "overturned", "appeal_upheld": "upheld",
                         "appeal_partial": "partially_overturned"}},
}


def write_config(tmp_path: Path, data: dict, name: str = "zendesk.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def zd_url(tmp_path_factory) -> str:
    return write_duckdb(tmp_path_factory.mktemp("zd") / "zendesk.duckdb", fivetran_frames())


@pytest.fixture(scope="module")
def wh(zd_url, tmp_path_factory):
    cfg = zendesk.load_config(write_config(tmp_path_factory.mktemp("cfg"), CONFIG))
    return zendesk.open_warehouse(zd_url, cfg)


@pytest.fixture(scope="module")
def facts(wh) -> dict[str, dict]:
    frame = api.facts(wh, as_of=AS_OF, wide=True)
    return {r["appeal_id"]: r for r in frame.to_dicts()}


def naive(v):
    return None if v is None else v.replace(tzinfo=None)


def events_of(wh, appeal_id: str) -> list[dict]:
    frame = wh.query(f"select * from ({wh.adapter_sql['appeal_events']}) as e "
                     "where appeal_id = :aid order by occurred_at, event_id", {"aid": appeal_id})
    return frame.to_dicts()


# --------------------------------------------------------------------------- appeals


def test_appeals_are_tickets_of_the_appeals_groups(wh):
    rows = {r["appeal_id"]: r for r in wh.query(f"select * from ({wh.adapter_sql['appeals']}) as a").to_dicts()}
    # 1004 is in Billing (not an appeals group); 1007 has Zendesk status deleted; 1008 is Fivetran-deleted.
    # 1005 sits in the escalation group now but was in 101 before: still an appeal, queue from 101.
    assert sorted(rows) == ["1001", "1002", "1003", "1005", "1006"]
    assert {k: r["queue"] for k, r in rows.items()} == {
        "1001": "account_suspension",  # group 101, configured by id
        "1002": "listing_removal",  # group 102, configured by name "Appeals - Listings"
        "1003": "account_suspension",
        "1005": "account_suspension",  # latest appeals group in its group history
        "1006": "listing_removal",
    }
    assert {k: r["priority"] for k, r in rows.items()} == {
        "1001": "P1", "1002": "P2", "1003": "P1",  # high → P1, normal → P2
        "1005": "P0",  # urgent → P0
        "1006": "P2",  # no priority → the map's `none` entry (default P2)
    }
    assert {k: r["channel"] for k, r in rows.items()} == {
        "1001": "web_form", "1002": "email", "1003": "in_app",  # default channel map
        "1005": "api", "1006": "voice",  # unmapped via_channel values pass through
    }
    r = rows["1001"]
    assert r["enforcement_id"] == "enf-1"  # fields.enforcement_id: external_id
    assert r["market"] == "DE"  # latest value of the market custom field
    assert rows["1003"]["market"] is None  # never set
    assert r["language"] == "de-DE"  # the requester's locale
    assert r["appeal_text"] == "Description of 1001"
    assert naive(r["created_at"]) == T("2026-03-02 07:00")


# --------------------------------------------------------------------------- events


def test_events_of_a_ticket_with_a_bot_acknowledgement(wh):
    ev = [(e["event_id"], e["event_type"], e["actor_type"], e["actor_id"]) for e in events_of(wh, "1001")]
    assert ev == [
        # 5001 is the description (the appeal itself): no event
        ("zc-5002", "message_to_user", "system", "3"),  # the configured bot: an automatic message, not a touch
        ("zc-5003", "internal_note", "system", "-1"),  # Zendesk's system user (not in the user table)
        ("zf-1001-assignee_id-1772440200", "assigned", "specialist", "1"),  # 08:30; actor = the new assignee
        ("zc-5004", "internal_note", "specialist", "1"),  # private agent comment: not a touch
        ("zc-5005", "message_to_user", "specialist", "1"),  # public agent comment: the first touch
        ("zc-5006", "internal_note", "specialist", "1"),
        ("zc-5007", "message_to_user", "specialist", "1"),
        ("zf-1001-status-1772550000", "decided", "specialist", "1"),  # to solved at 2026-03-03 15:00
        # solved → closed on 03-07: no event
    ]
    decided = events_of(wh, "1001")[-1]
    assert decided["outcome"] == "overturned"  # custom field value appeal_overturned at the decision
    assert decided["root_cause"] == "automation_false_positive"  # tag rc_automation_false_positive
    assert decided["note"] == "Automation false positive; account restored"  # the solver's private comment, same instant


def test_pending_and_the_users_reply_are_a_wait(wh):
    ev = [(e["event_type"], e["actor_type"], naive(e["occurred_at"])) for e in events_of(wh, "1002")]
    assert ev == [
        ("message_to_user", "specialist", T("2026-03-02 12:00")),  # zc-6002
        ("evidence_requested", "specialist", T("2026-03-02 12:00")),  # status → pending by agent 1
        ("evidence_received", "user", T("2026-03-03 09:00")),  # requester comment while pending
        ("assigned", "specialist", T("2026-03-03 10:00")),
        ("message_to_user", "specialist", T("2026-03-03 11:00")),
        ("decided", "specialist", T("2026-03-03 11:00")),
    ]
    assert events_of(wh, "1002")[-1]["note"] == "The removal stands: the invoice does not match"  # public, same instant


def test_reopen_then_decided_again(wh):
    ev = [(e["event_type"], e["actor_type"], e["outcome"], e["root_cause"]) for e in events_of(wh, "1003")]
    assert ev == [
        ("assigned", "specialist", None, None),  # by trigger (-1) at 10:05; actor = assignee 1
        ("message_to_user", "specialist", None, None),  # 14:00
        ("decided", "specialist", "upheld", None),  # 14:00; tags give a root cause to the final decision only
        ("reopened", "user", None, None),  # 03-03 08:00 solved → open by the requester (their comment: no event)
        ("internal_note", "specialist", None, None),
        ("message_to_user", "specialist", None, None),
        ("decided", "specialist", "partially_overturned", "new_evidence"),  # 03-04 10:00
    ]


def test_escalation_group_and_agent_created_ticket(wh):
    ev = [(e["event_type"], e["escalation_target"]) for e in events_of(wh, "1005")]
    # 13:00 assigned; 13:30 a private note (zc-8002) and the move to "Policy Escalations" → escalated
    # (same instant: ordered by event id); status hold: no event
    assert ev == [("assigned", None), ("internal_note", None), ("escalated", "policy")]
    ev = [(e["event_id"], e["event_type"]) for e in events_of(wh, "1006")]
    # 9001 is the agent-created description (not a touch); 9003 is Fivetran-deleted
    assert ev == [("zf-1006-assignee_id-1772463600", "assigned"), ("zc-9002", "message_to_user")]


# --------------------------------------------------------------------------- facts through the engine


def test_facts(facts):
    assert sorted(facts) == ["1001", "1002", "1003", "1005", "1006"]

    f = facts["1001"]  # P1: business clock on the Berlin schedule
    assert naive(f["first_touch_at"]) == T("2026-03-02 10:00")  # zc-5005; the bot's 07:01 message is not a touch
    assert f["ftr_hours"] == pytest.approx(3.0)  # 07:00 → 10:00
    assert f["status"] == "resolved"
    assert naive(f["resolved_at"]) == T("2026-03-03 15:00")
    assert f["ttr_hours"] == pytest.approx(32.0)  # Mon 07:00 → Tue 15:00
    assert (f["outcome"], f["is_overturned"], f["reopen_count"]) == ("overturned", True, 0)
    assert f["specialist_id"] == "1"  # the decider
    assert f["root_cause"] == "automation_false_positive"
    # created 08:00 Berlin (before the 09:00 open); first touch 11:00 Berlin → 2 business hours
    assert f["ftr_clock_hours"] == pytest.approx(2.0)
    # Mon 09-17 (8 h) + Tue 09:00-16:00 Berlin (15:00 UTC) (7 h) = 15 business hours
    assert f["ttr_clock_hours"] == pytest.approx(15.0)
    assert f["ftr_sla"] == "achieved"  # 2 <= 4
    # 12 business hours: Mon 8 h + Tue 4 h → Tue 13:00 Berlin = 12:00 UTC; resolved 15:00 UTC
    assert naive(f["ttr_deadline_at"]) == T("2026-03-03 12:00")
    assert f["ttr_sla"] == "breached"

    f = facts["1002"]  # P2: calendar clock
    assert naive(f["first_touch_at"]) == T("2026-03-02 12:00")
    assert f["ftr_hours"] == pytest.approx(3.0)  # 09:00 → 12:00
    assert f["user_wait_hours"] == pytest.approx(21.0)  # pending 03-02 12:00 → reply 03-03 09:00
    assert naive(f["resolved_at"]) == T("2026-03-03 11:00")
    assert f["ttr_hours"] == pytest.approx(26.0)
    assert (f["outcome"], f["is_overturned"], f["specialist_id"]) == ("upheld", False, "2")
    assert f["root_cause"] is None  # no rc_ tag
    assert (f["ftr_clock_hours"], f["ttr_clock_hours"]) == (pytest.approx(3.0), pytest.approx(26.0))
    assert (f["ftr_sla"], f["ttr_sla"]) == ("achieved", "achieved")  # 3 <= 8, 26 <= 72

    f = facts["1003"]  # P1, business clock; reopened once
    assert naive(f["first_touch_at"]) == T("2026-03-02 14:00")
    assert f["ftr_hours"] == pytest.approx(4.0)
    assert f["reopen_count"] == 1
    assert f["status"] == "resolved"
    assert naive(f["resolved_at"]) == T("2026-03-04 10:00")  # the final decision counts
    assert f["ttr_hours"] == pytest.approx(48.0)
    assert (f["outcome"], f["is_overturned"]) == ("partially_overturned", True)
    assert f["root_cause"] == "new_evidence"
    # created Mon 11:00 Berlin; first touch 15:00 Berlin → 4 business hours = the target: achieved
    assert f["ftr_clock_hours"] == pytest.approx(4.0)
    assert f["ftr_sla"] == "achieved"
    # Mon 11-17 (6 h) + Tue 09-17 (8 h) + Wed 03-04 holiday (0 h) until 11:00 Berlin = 14 business hours
    assert f["ttr_clock_hours"] == pytest.approx(14.0)
    assert f["ttr_sla"] == "breached"  # deadline Mon 6 h + Tue 6 h → Tue 15:00 Berlin

    f = facts["1005"]  # escalated, untouched, open; P0 has no policy
    assert f["first_touch_at"] is None  # an internal note and an assignment are not touches
    assert (f["status"], f["escalated"], f["specialist_id"]) == ("open", True, "1")  # owner: last assigned
    assert (f["ftr_sla"], f["ttr_sla"]) == ("n/a", "n/a")

    f = facts["1006"]  # created by an agent: its first public comment is the description
    assert naive(f["first_touch_at"]) == T("2026-03-03 09:00")
    assert f["ftr_hours"] == pytest.approx(18.0)  # 03-02 15:00 → 03-03 09:00 (the deleted 16:00 comment is gone)
    assert f["ftr_sla"] == "breached"  # 18 > 8 calendar hours
    assert f["ttr_sla"] == "breached"  # open; deadline 03-05 15:00 (72 h) is before as_of 03-06 12:00
    assert f["status"] == "open" and f["ttr_hours"] is None


def test_report_by_queue(wh):
    rep = api.report(wh, by=["queue"], period="week", as_of=AS_OF)
    rows = {r["queue"]: r for r in rep.to_dicts() if r["period_start"] == date(2026, 3, 2)}
    a, listing = rows["account_suspension"], rows["listing_removal"]
    assert (a["appeals_created"], listing["appeals_created"]) == (3, 2)  # 1001, 1003, 1005 | 1002, 1006
    assert (a["appeals_resolved"], listing["appeals_resolved"]) == (2, 1)  # 1001, 1003 | 1002
    assert (a["overturn_rate_numerator"], a["overturn_rate_denominator"]) == (2, 2)  # overturned + partial
    assert (a["full_overturn_rate_numerator"], a["full_overturn_rate_denominator"]) == (1, 2)
    assert (a["reopen_rate_numerator"], a["reopen_rate_denominator"]) == (1, 2)  # 1003
    assert (a["escalation_rate_numerator"], a["escalation_rate_denominator"]) == (0, 2)  # 1005 is not resolved
    assert a["ttr_p50_hours"] == pytest.approx(40.0)  # median(32, 48)
    assert a["ftr_p50_hours"] == pytest.approx(3.5)  # median(3, 4); 1005 has no touch
    assert listing["ttr_p50_hours"] == pytest.approx(26.0)
    assert listing["ftr_p50_hours"] == pytest.approx(10.5)  # median(3, 18)
    assert (listing["overturn_rate_numerator"], listing["overturn_rate_denominator"]) == (0, 1)
    # first-touch SLAs decided this week: 1001 achieved, 1003 achieved | 1002 achieved, 1006 breached
    assert (a["ftr_sla_attainment_numerator"], a["ftr_sla_attainment_denominator"]) == (2, 2)
    assert (listing["ftr_sla_attainment_numerator"], listing["ftr_sla_attainment_denominator"]) == (1, 2)


def test_schedules_specialists_and_holidays(wh):
    bh = wh.query(f"select * from ({wh.adapter_sql['business_hours']}) as b order by schedule_id, weekday").to_dicts()
    berlin = [(r["weekday"], r["start_time"], r["end_time"], r["timezone"]) for r in bh if r["schedule_id"] == "900"]
    # minutes from Sunday 00:00: 1980 = Monday 09:00, 2460 = Monday 17:00, ...; "Berlin" → Europe/Berlin
    assert berlin == [(d, time(9), time(17), "Europe/Berlin") for d in range(1, 6)]
    weekend = [(r["weekday"], r["start_time"], r["end_time"], r["timezone"]) for r in bh if r["schedule_id"] == "902"]
    # 0-1440 = Sunday (weekday 7) all day; 8640-10080 = Saturday all day (end 00:00 = midnight);
    # an unmappable zone name passes through (the engine leaves the rows out and counts them)
    assert weekend == [(6, time(0), time(0), "Mystery Zone"), (7, time(0), time(0), "Mystery Zone")]
    assert not [r for r in bh if r["schedule_id"] == "901"]  # Fivetran-deleted schedule

    hol = wh.query(f"select * from ({wh.adapter_sql['holidays']}) as h order by holiday_date").to_dicts()
    assert [(r["schedule_id"], r["holiday_date"]) for r in hol] == [("900", date(2026, 3, 4)), ("900", date(2026, 3, 5))]

    sp = wh.query(f"select * from ({wh.adapter_sql['specialists']}) as s order by specialist_id").to_dicts()
    # agents and admins, not the configured bot (3); Rails zone names mapped to IANA
    assert [(r["specialist_id"], r["display_name"], r["timezone"]) for r in sp] == [
        ("1", "Ana Agent", "Europe/Berlin"), ("2", "Bo Admin", "America/New_York")]


def test_checks_count_the_unknown_schedule_zone(wh):
    found = {c.name: c for c in api.check(wh, as_of=AS_OF)}
    assert found["business_hours_unknown_timezone"].examples == ["Mystery Zone"]
    assert "decided_without_outcome" not in found  # every decision has its custom-field value
    assert found["no_sla_policy"].examples == ["1005"]  # P0 has no row


# --------------------------------------------------------------------------- the tags variant


def test_outcome_from_tags_applies_to_the_final_decision(zd_url, tmp_path):
    cfg = zendesk.load_config(write_config(tmp_path, TAGS_CONFIG))
    wh = zendesk.open_warehouse(zd_url, cfg)
    f = {r["appeal_id"]: r for r in api.facts(wh, as_of=AS_OF).to_dicts()}
    assert f["1001"]["outcome"] == "overturned"  # tag appeal_overturned
    assert f["1002"]["outcome"] == "upheld"  # tag appeal_upheld
    assert f["1003"]["outcome"] == "partially_overturned"  # tag appeal_partial, on the final decision
    decisions = [e["outcome"] for e in events_of(wh, "1003") if e["event_type"] == "decided"]
    assert decisions == [None, "partially_overturned"]  # tags carry no time: the first decision has none
    found = {c.name: c for c in api.check(wh, as_of=AS_OF)}
    # ... and the data checks count it (1003's first solve, 2026-03-02 14:00 UTC)
    assert found["decided_without_outcome"].examples == ["zf-1003-status-1772460000"]


def test_withdrawn_outcome_value_makes_a_withdrawal(zd_url, tmp_path):
    data = {**CONFIG, "outcome": {"custom_field": OUTCOME_FIELD,
                                  "values": {**CONFIG["outcome"]["values"], "appeal_upheld": "withdrawn"}}}
    wh = zendesk.open_warehouse(zd_url, zendesk.parse_config(data))
    f = {r["appeal_id"]: r for r in api.facts(wh, as_of=AS_OF).to_dicts()}
    assert f["1002"]["status"] == "withdrawn"  # its solve carried appeal_upheld, mapped to withdrawn here
    assert f["1003"]["status"] == "resolved"  # first solve is a withdrawal, reopened, then decided


# --------------------------------------------------------------------------- SQL hygiene


_ALLOWED_LITERALS = {
    # Zendesk vocabulary (field names, statuses, roles) and contract vocabulary, plus SQL constants
    "status", "assignee_id", "group_id", "deleted", "new", "open", "pending", "hold", "solved", "closed",
    "agent", "admin", "end-user", "system", "specialist", "user", "message_to_user", "internal_note",
    "evidence_received", "evidence_requested", "decided", "withdrawn", "reopened", "assigned", "escalated",
    "zc-", "zf-", "-status-", "-reopen", "-assignee_id-", "-group_id-", "", "00:00:00", "1 minute",
    "zt-", "-status",  # an event taken from the ticket row (its status history disagrees or is missing)
    "claimed", "-claim",  # a self-assignment, when the config maps it to a claim
}


def test_config_reaches_sql_only_as_bind_parameters(zd_url):
    cfg = zendesk.parse_config({**CONFIG, "schema": None, "time_zones": {"Head Office": "Europe/Dublin"}})
    cols = {t: set(c) | {"_fivetran_deleted", "description", "via_channel", "external_id", "time_zone", "locale",
                         "body", "tag"}
            for t, c in {**zendesk.REQUIRED_COLUMNS, **zendesk.OPTIONAL_TABLES, "ticket_tag": ("ticket_id",)}.items()}
    sql, params = zendesk.build_adapter_sql(cfg, cols, ["Berlin", "Head Office"])
    text = "\n".join(sql.values())
    code = re.sub(r"--[^\n]*", "", text)  # comments are prose
    literals = set(re.findall(r"'((?:[^']|'')*)'", code))
    assert literals <= _ALLOWED_LITERALS, literals - _ALLOWED_LITERALS
    for value in ("101", "Appeals - Listings", "account_suspension", "listing_removal", "Policy Escalations",
                  OUTCOME_FIELD, MARKET_FIELD, "appeal_overturned", "rc_", "P1", "P2", "web_form",
                  "Head Office", "Europe/Dublin", "Europe/Berlin"):
        assert value not in text, value
        assert value in {str(v) for v in params.values()}, value  # ... but bound
    assert set(re.findall(r"(?<![:\w]):([A-Za-z_]\w*)", text)) <= set(params)  # every bind has a value
    assert "::" not in text and "group by all" not in text.lower()


def test_schema_name_is_a_quoted_identifier():
    cfg = zendesk.parse_config({**CONFIG, "schema": "zendesk_fivetran"})
    cols = {t: set(c) for t, c in {**zendesk.REQUIRED_COLUMNS}.items()}
    sql, _ = zendesk.build_adapter_sql(cfg, cols)
    assert '"zendesk_fivetran"."ticket"' in sql["appeals"] and '"zendesk_fivetran"."group"' in sql["appeals"]
    assert set(sql) == {"appeals", "appeal_events", "specialists", "sla_policies"}  # no schedule tables
    with pytest.raises(ValueError, match=r"^zendesk config: schema: must be a plain schema name"):
        zendesk.parse_config({**CONFIG, "schema": 'x"; drop table ticket; --'})


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("change", "key"), [
    ({"appeal_groups": None}, "appeal_groups"),
    ({"appeal_groups": [{"id": 1, "name": "x", "queue": "q"}]}, r"appeal_groups\[0\]"),
    ({"appeal_groups": [{"id": "Appeals", "queue": "q"}]}, r"appeal_groups\[0\]\.id"),
    ({"outcome": None}, "outcome"),
    ({"outcome": {"custom_field": "1", "tags": {"a": "upheld"}}}, "outcome"),
    ({"outcome": {"custom_field": "1", "values": {"x": "reversed"}}}, r"outcome\.values\.x"),
    ({"outcome": {"tags": {"t": "maybe"}}}, r"outcome\.tags\.t"),
    ({"root_cause": {"tag_prefix": ""}}, r"root_cause\.tag_prefix"),
    ({"priorities": {"critical": "P0"}}, r"priorities\.critical"),
    ({"fields": {"market": "external_id"}}, r"fields\.market"),
    ({"sla_policies": [{"queue": "*", "priority": "P1", "clock": "business"}]}, r"sla_policies\[0\]\.schedule_id"),
    ({"time_zones": {"X": "Mars/Olympus"}}, r"time_zones\.X"),
    ({"apeal_groups": []}, "apeal_groups"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path, change, key):
    data = {**CONFIG, **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValueError) as err:
        zendesk.load_config(write_config(tmp_path, data))
    message = str(err.value)
    assert "\n" not in message
    assert re.search(rf": {key}: ", message), message


def test_missing_fivetran_column_is_named(tmp_path):
    url = write_duckdb(tmp_path / "broken.duckdb", fivetran_frames(), drop={"ticket_field_history": "updated"})
    with pytest.raises(WarehouseError, match=r"^ticket_field_history\.updated: required Zendesk") as err:
        zendesk.open_warehouse(url, zendesk.parse_config(CONFIG))
    assert "\n" not in str(err.value)
    frames = fivetran_frames()
    del frames["ticket_tag"]
    url = write_duckdb(tmp_path / "no_tags.duckdb", frames)
    with pytest.raises(WarehouseError, match=r"^ticket_tag: "):
        zendesk.open_warehouse(url, zendesk.parse_config(CONFIG))  # the config reads rc_ tags
    no_tags = {k: v for k, v in CONFIG.items() if k != "root_cause"}
    wh = zendesk.open_warehouse(url, zendesk.parse_config(no_tags))  # without tags in the config it opens
    assert api.facts(wh, as_of=AS_OF).height == 5


def test_example_config_loads():
    cfg = zendesk.load_config(Path(__file__).resolve().parent.parent / "adapters" / "zendesk.example.yml")
    assert cfg.appeal_groups and (cfg.outcome_field or cfg.outcome_tags)


def test_open_adapted_entry_point(zd_url, tmp_path):
    from metrics.adapters import open_adapted

    wh = open_adapted("zendesk", zd_url, write_config(tmp_path, CONFIG))
    assert wh.adapter_name == "zendesk"
    from metrics.warehouse import Warehouse

    opened = zendesk.open_warehouse(Warehouse.open(zd_url), zendesk.parse_config(CONFIG))  # e.g. from_engine
    assert api.facts(opened, as_of=AS_OF).height == 5
    with pytest.raises(WarehouseError, match="--adapter: unknown adapter"):
        open_adapted("freshdesk", zd_url, write_config(tmp_path, CONFIG))


# --------------------------------------------------------------------------- PostgreSQL


def test_same_facts_on_postgresql(request, wh):
    try:
        from tests.pg import load_tables_pg
    except ImportError:
        pytest.skip("tests/pg.py is not there")
    try:
        pg_url = request.getfixturevalue("pg_url")
    except pytest.FixtureLookupError:
        pytest.skip("no pg_url fixture (tests/conftest.py)")
    # load_tables_pg makes every non-contract column text: the adapter must cast its way through
    load_tables_pg(pg_url, fivetran_frames(), "zd_fixture")
    pg = zendesk.open_warehouse(pg_url, zendesk.parse_config({**CONFIG, "schema": "zd_fixture"}))
    duck_facts = api.facts(wh, as_of=AS_OF, wide=True)
    pg_facts = api.facts(pg, as_of=AS_OF, wide=True)
    from polars.testing import assert_frame_equal

    assert_frame_equal(pg_facts, duck_facts, check_exact=False, abs_tol=1e-9)
    assert_frame_equal(api.report(pg, by=["queue"], as_of=AS_OF), api.report(wh, by=["queue"], as_of=AS_OF),
                       check_exact=False, abs_tol=1e-9)
