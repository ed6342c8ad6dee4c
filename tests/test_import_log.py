"""The event-log importer (metrics/importlog.py) and the shipped mappings (mappings/*.yml).

Real logs are read from ../shared/realdata beside the checkout (never copied into the repo);
those tests skip with a message when the folder is absent.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from metrics.contract import ACTOR_TYPES, EVENT_TYPES
from metrics.importlog import EventsFileError, MappingError, import_log

REPO = Path(__file__).resolve().parents[1]
MAPPINGS = REPO / "mappings"
# ../shared/realdata beside the checkout (a worktree under /work/wt/ looks one level further up)
REALDATA = next(
    (p / "shared" / "realdata" for p in Path(__file__).resolve().parents[2:4] if (p / "shared" / "realdata").exists()),
    Path(__file__).resolve().parents[2] / "shared" / "realdata",
)
SERVICENOW = REALDATA / "servicenow_incidents" / "events.parquet"
HELPDESK = REALDATA / "helpdesk_tickets" / "events.parquet"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _con(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _events(con, appeal_id: str) -> list[tuple]:
    """(event_id, occurred_at 'YYYY-MM-DD hh:mm:ss' UTC, type, actor_id, actor_type, outcome, target)."""
    return con.execute(
        """
        select event_id, strftime(occurred_at, '%Y-%m-%d %H:%M:%S'), event_type, actor_id, actor_type,
               outcome, escalation_target
        from appeal_events where appeal_id = ? order by occurred_at, event_id
        """,
        [appeal_id],
    ).fetchall()


def _appeal(con, appeal_id: str) -> dict:
    cur = con.execute(
        "select *, strftime(created_at, '%Y-%m-%d %H:%M:%S') as created_utc from appeals where appeal_id = ?",
        [appeal_id],
    )
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, appeal_id
    return dict(zip(names, rows[0], strict=True))


def _check_whole_import(con, result, raw: pl.DataFrame, case_col: str) -> None:
    n_cases = raw[case_col].n_unique()
    assert result.cases == n_cases
    assert con.execute("select count(*), count(distinct appeal_id) from appeals").fetchone() == (
        n_cases,
        n_cases,
    )
    assert result.source_rows == raw.height
    assert result.used_rows + sum(result.skipped.values()) == result.source_rows
    assert "no_matching_rule" not in result.skipped
    # the skip summary is in the warehouse too
    assert dict(con.execute("select reason, rows from import_skipped_rows").fetchall()) == result.skipped
    # contract values only; unique, deterministic ids; every event belongs to an appeal
    types = {r[0] for r in con.execute("select distinct event_type from appeal_events").fetchall()}
    assert types <= set(EVENT_TYPES)
    actor_types = {r[0] for r in con.execute("select distinct actor_type from appeal_events").fetchall()}
    assert actor_types <= set(ACTOR_TYPES)
    assert con.execute("select count(*) - count(distinct event_id) from appeal_events").fetchone() == (0,)
    assert con.execute(
        "select count(*) from appeal_events e anti join appeals a on a.appeal_id = e.appeal_id"
    ).fetchone() == (0,)
    # event ids follow the lifecycle order: <case>-<n> numbered 1.. by (occurred_at, event_id)
    bad = con.execute(
        """
        select count(*) from (
          select event_id, appeal_id,
                 row_number() over (partition by appeal_id order by occurred_at, event_id) as n
          from appeal_events)
        where event_id <> appeal_id || '-' || lpad(cast(n as varchar), 4, '0')
        """
    ).fetchone()
    assert bad == (0,)
    assert con.execute("select count(*) from appeals where queue is null or priority is null").fetchone() == (
        0,
    )
    assert result.tables["appeals"] == n_cases
    assert result.tables["appeal_events"] == con.execute("select count(*) from appeal_events").fetchone()[0]


# --------------------------------------------------------------------------------------------
# real logs
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servicenow(tmp_path_factory):
    if not SERVICENOW.exists():
        pytest.skip(f"real ServiceNow log not found at {SERVICENOW} (../shared/realdata beside the checkout)")
    out = tmp_path_factory.mktemp("sn") / "servicenow.duckdb"
    result = import_log(SERVICENOW, MAPPINGS / "servicenow_incidents.yml", out)
    con = _con(out)
    yield result, con, pl.read_parquet(SERVICENOW)
    con.close()


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory):
    if not HELPDESK.exists():
        pytest.skip(f"real help-desk log not found at {HELPDESK} (../shared/realdata beside the checkout)")
    out = tmp_path_factory.mktemp("hd") / "helpdesk.duckdb"
    result = import_log(HELPDESK, MAPPINGS / "helpdesk_tickets.yml", out)
    con = _con(out)
    yield result, con, pl.read_parquet(HELPDESK)
    con.close()


def test_servicenow_whole_log(servicenow):
    result, con, raw = servicenow
    _check_whole_import(con, result, raw, "number")
    assert result.cases == 20_769
    assert result.source_rows == 119_998
    # every row used or skipped for a named reason (pinned: a mapping change shows up here)
    assert result.skipped == {
        "no_state_change": 41_416,
        "closure_after_resolution": 20_772,
        "assignee_cleared": 1_903,
        "escalation_returned": 52,
        "unknown_state": 1,
    }
    assert result.used_rows == 55_854
    # every appeal has an event except INC0029233: opened at the end of the extract, one New row
    without = con.execute(
        "select appeal_id from appeals a anti join appeal_events e on e.appeal_id = a.appeal_id"
    ).fetchall()
    assert without == [("INC0029233",)]
    # no invented verdicts: decisions carry no outcome
    assert con.execute("select count(*) from appeal_events where outcome is not null").fetchone() == (0,)
    # 5 incidents have a first update stamped before opened_at (clock skew). Those rows are kept
    # as recorded: INC0000131/135 (first row Active: assigned + claimed) and INC0000134 (New with
    # an assignee: assigned) get events before created_at; INC0000130/164 (New, no assignee) are
    # creation records with no event.
    early = con.execute(
        """select distinct e.appeal_id from appeal_events e join appeals a using (appeal_id)
           where e.occurred_at < a.created_at order by 1"""
    ).fetchall()
    assert early == [("INC0000131",), ("INC0000134",), ("INC0000135",)]


def test_servicenow_hand_checked_cases(servicenow):
    _, con, _ = servicenow

    # INC0000047, raw rows in (sys_updated_at, sys_mod_count) order:
    #  mod state               sys_updated_at    sys_updated_by  assigned_to  group
    #  0   New                 2016-02-29 04:57  Updated by 746  Resolver 89  Group 70  -> created; assigned R89
    #  1   Active              2016-02-29 05:30  Updated by 21   Resolver 31  Group 24  -> assigned R31, claimed
    #  2,3,4 Active            05:33 / 11:31 / 11:32 (no change)                        -> no_state_change x3
    #  5   Active              2016-03-01 09:14  Updated by 332  Resolver 31            -> no_state_change
    #  6   Awaiting User Info  2016-03-01 09:14  Updated by 332  Resolver 89            -> assigned R89, evidence_requested
    #      (tie at 09:14 broken by sys_mod_count 5 < 6)
    #  7   Resolved            2016-03-01 09:52  Updated by 332                         -> decided (outcome null)
    #  8   Closed              2016-03-06 10:00  Updated by 908                         -> closure_after_resolution
    #  opened_at 2016-02-29 04:40, priority "3 - Moderate", contact_type Phone
    assert _events(con, "INC0000047") == [
        ("INC0000047-0001", "2016-02-29 04:57:00", "assigned", "Resolver 89", "specialist", None, None),
        ("INC0000047-0002", "2016-02-29 05:30:00", "assigned", "Resolver 31", "specialist", None, None),
        ("INC0000047-0003", "2016-02-29 05:30:00", "claimed", "Updated by 21", "specialist", None, None),
        ("INC0000047-0004", "2016-03-01 09:14:00", "assigned", "Resolver 89", "specialist", None, None),
        (
            "INC0000047-0005",
            "2016-03-01 09:14:00",
            "evidence_requested",
            "Updated by 332",
            "specialist",
            None,
            None,
        ),
        ("INC0000047-0006", "2016-03-01 09:52:00", "decided", "Updated by 332", "specialist", None, None),
    ]
    a = _appeal(con, "INC0000047")
    assert (a["queue"], a["priority"], a["channel"], a["created_utc"]) == (
        "Group 24",
        "P3",
        "phone",
        "2016-02-29 04:40:00",
    )

    # INC0011848 (reopened; created already Resolved by the integration account):
    #  0 Resolved 2016-03-28 10:45 Updated by 908 Resolver 17 -> assigned R17, decided by system
    #  1 Active   2016-03-29 14:07 Updated by 23  Resolver 17 -> reopened
    #  2 Active   2016-03-29 14:07 (no change)                -> no_state_change
    #  3 Resolved 2016-03-29 22:52 Updated by 111 Resolver 26 -> assigned R26, decided
    #  4 Closed   2016-04-03 22:59 Updated by 908             -> closure_after_resolution
    assert _events(con, "INC0011848") == [
        ("INC0011848-0001", "2016-03-28 10:45:00", "assigned", "Resolver 17", "specialist", None, None),
        ("INC0011848-0002", "2016-03-28 10:45:00", "decided", "Updated by 908", "system", None, None),
        ("INC0011848-0003", "2016-03-29 14:07:00", "reopened", "Updated by 23", "specialist", None, None),
        ("INC0011848-0004", "2016-03-29 22:52:00", "assigned", "Resolver 26", "specialist", None, None),
        ("INC0011848-0005", "2016-03-29 22:52:00", "decided", "Updated by 111", "specialist", None, None),
    ]

    # INC0000131 (first update at 07:14 is before opened_at 09:41 - kept as recorded):
    #  0 Active             2016-02-29 07:14 Updated by 265 Resolver 175 -> assigned R175, claimed
    #  1 Awaiting User Info 2016-02-29 09:45 Updated by 804              -> evidence_requested
    #  2 Resolved           2016-03-03 09:27 Updated by 804              -> decided
    #  3 Closed             2016-03-08 10:00 Updated by 908              -> closure_after_resolution
    assert [e[1:3] for e in _events(con, "INC0000131")] == [
        ("2016-02-29 07:14:00", "assigned"),
        ("2016-02-29 07:14:00", "claimed"),
        ("2016-02-29 09:45:00", "evidence_requested"),
        ("2016-03-03 09:27:00", "decided"),
    ]
    assert _appeal(con, "INC0000131")["created_utc"] == "2016-02-29 09:41:00"

    # INC0028320 (vendor escalation):
    #  0 New             2016-05-11 11:02 Updated by 44  Resolver 137 Group 46 -> created; assigned R137
    #  1 Awaiting Vendor 2016-05-11 11:33 Updated by 308 Resolver 83  Group 46 -> assigned R83, escalated (vendor)
    #  2 Active          2016-05-11 11:49 Updated by 308 Resolver 137 Group 59 -> assigned R137 (state: back from vendor)
    #  3 Active          2016-05-11 12:24 (no change)                         -> no_state_change
    #  4 Resolved        2016-05-11 13:09 Updated by 510                      -> decided
    assert [(e[2], e[3], e[6]) for e in _events(con, "INC0028320")] == [
        ("assigned", "Resolver 137", None),
        ("assigned", "Resolver 83", None),
        ("escalated", "Updated by 308", "vendor"),
        ("assigned", "Resolver 137", None),
        ("decided", "Updated by 510", None),
    ]
    assert _appeal(con, "INC0028320")["queue"] == "Group 59"  # the last group


def test_helpdesk_whole_log(helpdesk):
    result, con, raw = helpdesk
    _check_whole_import(con, result, raw, "Case ID")
    assert result.cases == 4_580
    assert result.source_rows == 21_348
    assert result.skipped == {
        "closure_after_resolution": 4_560,
        "repeat_resolution": 254,
        "repeat_closure": 14,
        "defect_tracker_status": 8,
    }
    assert result.used_rows == 16_512
    assert con.execute(
        "select count(*) from appeals a anti join appeal_events e on e.appeal_id = a.appeal_id"
    ).fetchone() == (0,)
    assert result.tables["specialists"] == 22


def test_helpdesk_hand_checked_cases(helpdesk):
    _, con, _ = helpdesk

    # Case 1 (Europe/Rome, CEST = UTC+2):
    #  Assign seriousness    Value 1 2012-10-09 14:50:17 -> internal_note   12:50:17Z
    #  Take in charge ticket Value 1 2012-10-09 14:51:01 -> assigned, claimed
    #  Take in charge ticket Value 2 2012-10-12 15:02:56 -> assigned, claimed (handed over)
    #  Resolve ticket        Value 1 2012-10-25 11:54:26 -> decided
    #  Closed                Value 3 2012-11-09 12:54:39 -> closure_after_resolution
    assert [e[:5] for e in _events(con, "Case 1")] == [
        ("Case 1-0001", "2012-10-09 12:50:17", "internal_note", "Value 1", "specialist"),
        ("Case 1-0002", "2012-10-09 12:51:01", "assigned", "Value 1", "specialist"),
        ("Case 1-0003", "2012-10-09 12:51:01", "claimed", "Value 1", "specialist"),
        ("Case 1-0004", "2012-10-12 13:02:56", "assigned", "Value 2", "specialist"),
        ("Case 1-0005", "2012-10-12 13:02:56", "claimed", "Value 2", "specialist"),
        ("Case 1-0006", "2012-10-25 09:54:26", "decided", "Value 1", "specialist"),
    ]
    a = _appeal(con, "Case 1")
    assert (a["queue"], a["priority"], a["created_utc"]) == (
        "workgroup Value 1",
        "seriousness Value 1",
        "2012-10-09 12:50:17",
    )

    # Case 192 (reopened after closure):
    #  Assign seriousness x2  Value 14 2013-07-04 10:02:50 / 10:08:34 -> internal_note x2
    #  Take in charge ticket  Value 1  2013-07-04 10:10:10 -> assigned, claimed
    #  Resolve ticket         Value 1  2013-07-18 13:02:35 -> decided
    #  Closed                 Value 3  2013-08-02 13:02:53 -> closure_after_resolution
    #  Take in charge ticket  Value 10 2013-08-05 07:50:34 -> reopened, assigned, claimed
    #  Resolve ticket         Value 10 2013-08-09 10:29:51 -> decided (final decision)
    #  Closed                 Value 3  2013-08-24 10:30:08 -> closure_after_resolution
    assert [(e[1], e[2], e[3]) for e in _events(con, "Case 192")] == [
        ("2013-07-04 08:02:50", "internal_note", "Value 14"),
        ("2013-07-04 08:08:34", "internal_note", "Value 14"),
        ("2013-07-04 08:10:10", "assigned", "Value 1"),
        ("2013-07-04 08:10:10", "claimed", "Value 1"),
        ("2013-07-18 11:02:35", "decided", "Value 1"),
        ("2013-08-05 05:50:34", "reopened", "Value 10"),
        ("2013-08-05 05:50:34", "assigned", "Value 10"),
        ("2013-08-05 05:50:34", "claimed", "Value 10"),
        ("2013-08-09 08:29:51", "decided", "Value 10"),
    ]

    # Case 1345 (wait, defect, tracker statuses; workgroup/seriousness differ on tracker rows):
    #  Assign seriousness    Value 8  2011-04-13 15:24:54 wg 1 sev 2 -> internal_note
    #  Take in charge ticket Value 8  2011-04-13 15:25:35            -> assigned, claimed
    #  Wait                  Value 2  2011-04-20 12:56:05            -> evidence_requested
    #  Take in charge ticket Value 2  2011-05-03 07:21:42            -> evidence_received (user), assigned, claimed
    #  Create SW anomaly     Value 2  2011-05-03 07:25:49            -> escalated (product)
    #  Resolve ticket        Value 2  2011-05-18 08:37:33            -> decided
    #  RESOLVED, INVALID     Value 2  2011-05-18 10:45:13 wg 3 sev 3 -> defect_tracker_status x2
    #  Closed                Value 5  2011-06-02 08:37:59            -> closure_after_resolution
    #  VERIFIED              Value 22 2011-06-08 17:05:32 wg 3 sev 3 -> defect_tracker_status
    assert [(e[1], e[2], e[3], e[4], e[6]) for e in _events(con, "Case 1345")] == [
        ("2011-04-13 13:24:54", "internal_note", "Value 8", "specialist", None),
        ("2011-04-13 13:25:35", "assigned", "Value 8", "specialist", None),
        ("2011-04-13 13:25:35", "claimed", "Value 8", "specialist", None),
        ("2011-04-20 10:56:05", "evidence_requested", "Value 2", "specialist", None),
        ("2011-05-03 05:21:42", "evidence_received", None, "user", None),
        ("2011-05-03 05:21:42", "assigned", "Value 2", "specialist", None),
        ("2011-05-03 05:21:42", "claimed", "Value 2", "specialist", None),
        ("2011-05-03 05:25:49", "escalated", "Value 2", "specialist", "product"),
        ("2011-05-18 06:37:33", "decided", "Value 2", "specialist", None),
    ]
    a = _appeal(con, "Case 1345")
    assert (a["queue"], a["priority"]) == ("workgroup Value 1", "seriousness Value 2")  # most common

    # Winter time (CET = UTC+1): Case 1534 "Resolve ticket" 2010-01-26 09:50:55 local
    assert ("2010-01-26 08:50:55", "decided") in [(e[1], e[2]) for e in _events(con, "Case 1534")]


# --------------------------------------------------------------------------------------------
# a hand-written CSV log
# --------------------------------------------------------------------------------------------

FIXTURE_CSV = textwrap.dedent(
    """\
    ticket,seq,updated,status,owner,who,requester,team,prio,opened,resolution
    T1,1,2024-03-08 09:00:00,open,,agent_a,cust_9,,2,2024-03-08 08:55,
    T1,3,2024-03-08 10:00:00,pending,alice,alice,cust_9,,2,2024-03-08 08:55,
    T1,2,2024-03-08 10:00:00,working,alice,alice,cust_9,,2,2024-03-08 08:55,
    T1,4,2024-03-08 11:00:00,pending,alice,alice,cust_9,,2,2024-03-08 08:55,
    T1,5,2024-03-10 02:30:00,working,alice,alice,cust_9,,2,2024-03-08 08:55,
    T1,6,2024-03-11 12:00:00,solved,alice,alice,cust_9,,2,2024-03-08 08:55,reversed
    T1,7,2024-03-12 12:00:00,closed,alice,bot,cust_9,,2,2024-03-08 08:55,reversed
    T1,8,2024-03-13T09:00:00,working,bob,bob,cust_9,,2,2024-03-08 08:55,
    T2,1,2024-03-09T10:00:00+00:00,working,carol,carol,cust_7,trust,1,2024-03-09 04:00,
    T2,2,2024-03-09 06:00:00,working,,carol,cust_7,trust,1,2024-03-09 04:00,
    T2,3,2024-03-09 07:00:00,escalated,,carol,cust_7,trust,1,2024-03-09 04:00,
    T2,4,2024-03-09 08:00:00,solved,,bot,cust_7,trust,1,2024-03-09 04:00,kept
     ,1,2024-03-09 08:00:00,solved,,bot,cust_7,trust,1,2024-03-09 04:00,kept
    T2,5,not a date,solved,,bot,cust_7,trust,1,2024-03-09 04:00,kept
    T3,1,,open,,agent_a,cust_1,,2,,
    T4,1,2024-03-09 09:00:00,weird,,agent_a,cust_2,,3,,
    """
)

FIXTURE_MAPPING = {
    "version": 1,
    "case_id": "ticket",
    "timestamp": {"column": "updated", "timezone": "America/New_York"},
    "order_by": ["seq"],
    "created_at": {"column": "opened"},
    "actor": {"column": "who", "system_actors": ["bot"]},
    "state": {"column": "status"},
    "assignment": {"column": "owner", "cleared_reason": "owner_cleared"},
    "attributes": {
        "queue": {"column": "team", "pick": "last", "default": "triage"},
        "priority": {"column": "prio", "values": {"1": "P1", "2": "P2"}},
        "market": {"value": "US"},
    },
    "rules": [
        {"changed": False, "skip": "no_state_change"},
        {"first_row": True, "to": "open", "created": True},
        {"from": ["solved", "closed"], "to": "working", "events": ["reopened"]},
        {
            "from": "pending",
            "to": "working",
            "events": [{"type": "evidence_received", "actor": "requester", "actor_type": "user"}],
        },
        {"to": "working", "events": ["claimed"]},
        {"to": "pending", "events": ["evidence_requested"]},
        {"to": "escalated", "events": [{"type": "escalated", "escalation_target": "legal"}]},
        {
            "to": "solved",
            "events": [
                {
                    "type": "decided",
                    "note": "resolution: {resolution}",
                    "outcome_from": {
                        "column": "resolution",
                        "values": {"kept": "upheld", "reversed": "overturned"},
                    },
                }
            ],
        },
        {"from": "solved", "to": "closed", "skip": "closure_after_resolution"},
    ],
}


@pytest.fixture
def fixture_files(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text(FIXTURE_CSV, encoding="utf-8")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(yaml.safe_dump(FIXTURE_MAPPING, sort_keys=False), encoding="utf-8")
    return events, mapping


def test_csv_fixture(fixture_files, tmp_path):
    events, mapping = fixture_files
    out = tmp_path / "wh.duckdb"
    result = import_log(events, mapping, out)

    assert result.source_rows == 16
    assert result.skipped == {
        "no_state_change": 1,  # T1 seq 4: pending → pending
        "closure_after_resolution": 1,  # T1 seq 7
        "owner_cleared": 1,  # T2 seq 2: owner removed, state unchanged
        "missing_case_id": 1,  # blank ticket
        "unparseable_timestamp": 1,  # T2 seq 5 "not a date"
        "missing_timestamp": 1,  # T3 (its only row): T3 is no appeal
        "no_matching_rule": 1,  # T4 state "weird"
    }
    assert result.used_rows == 9
    assert result.cases == 3  # T1, T2, T4

    con = _con(out)
    # America/New_York: EST (UTC-5) until 2024-03-10 02:00, then EDT (UTC-4).
    # T1 seq 2 and seq 3 tie at 10:00 local; the file lists seq 3 first, order_by puts seq 2 first.
    # T1 seq 5 at 02:30 local does not exist (spring forward) → 03:30 EDT = 07:30Z.
    assert _events(con, "T1") == [
        ("T1-0001", "2024-03-08 15:00:00", "assigned", "alice", "specialist", None, None),
        ("T1-0002", "2024-03-08 15:00:00", "claimed", "alice", "specialist", None, None),
        ("T1-0003", "2024-03-08 15:00:00", "evidence_requested", "alice", "specialist", None, None),
        ("T1-0004", "2024-03-10 07:30:00", "evidence_received", "cust_9", "user", None, None),
        ("T1-0005", "2024-03-11 16:00:00", "decided", "alice", "specialist", "overturned", None),
        ("T1-0006", "2024-03-13 13:00:00", "assigned", "bob", "specialist", None, None),
        ("T1-0007", "2024-03-13 13:00:00", "reopened", "bob", "specialist", None, None),
    ]
    # T2 seq 1 carries an offset (+00:00): used as is; the others are EST.
    assert _events(con, "T2") == [
        ("T2-0001", "2024-03-09 10:00:00", "assigned", "carol", "specialist", None, None),
        ("T2-0002", "2024-03-09 10:00:00", "claimed", "carol", "specialist", None, None),
        ("T2-0003", "2024-03-09 12:00:00", "escalated", "carol", "specialist", None, "legal"),
        ("T2-0004", "2024-03-09 13:00:00", "decided", "bot", "system", "upheld", None),
    ]
    assert con.execute("select note from appeal_events where event_id = 'T2-0004'").fetchone() == (
        "resolution: kept",
    )
    assert _events(con, "T4") == []

    t1, t2, t4 = _appeal(con, "T1"), _appeal(con, "T2"), _appeal(con, "T4")
    assert (t1["queue"], t1["priority"], t1["market"], t1["created_utc"]) == (
        "triage",
        "P2",
        "US",
        "2024-03-08 13:55:00",
    )
    assert (t2["queue"], t2["priority"], t2["created_utc"]) == ("trust", "P1", "2024-03-09 09:00:00")
    # no opened value: created at its first event; an unmapped priority value passes through
    assert (t4["priority"], t4["created_utc"]) == ("3", "2024-03-09 14:00:00")

    specialists = [r[0] for r in con.execute("select specialist_id from specialists order by 1").fetchall()]
    assert specialists == ["alice", "bob", "carol"]
    assert con.execute(
        "select data_type from information_schema.columns where table_name = 'appeal_events' "
        "and column_name = 'occurred_at'"
    ).fetchone() == ("TIMESTAMP WITH TIME ZONE",)
    con.close()

    # deterministic: importing again gives identical events
    again = tmp_path / "again.duckdb"
    import_log(events, mapping, again)
    with _con(out) as a, _con(again) as b:
        q = "select * from appeal_events order by event_id"
        assert a.execute(q).fetchall() == b.execute(q).fetchall()


# --------------------------------------------------------------------------------------------
# bad mappings: one line naming the key / column
# --------------------------------------------------------------------------------------------


def _mutate(path: list, value):
    def apply(m: dict) -> None:
        target = m
        for k in path[:-1]:
            target = target[k]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return apply


_DELETE = object()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_mutate(["case_id"], "number"), "mapping.case_id: column 'number' not in events file"),
        (
            _mutate(["timestamp", "column"], "sys_updated_at"),
            "mapping.timestamp.column: column 'sys_updated_at' not in events file",
        ),
        (
            _mutate(["attributes", "queue", "column"], "teams"),
            "mapping.attributes.queue.column: column 'teams' not in events file",
        ),
        (
            _mutate(["order_by"], ["seq", "sequence"]),
            "mapping.order_by[1]: column 'sequence' not in events file",
        ),
        (
            _mutate(["rules", 7, "events", 0, "note"], "{reason}"),
            "mapping.rules[7].events[0].note: column 'reason' not in events file",
        ),
        (
            _mutate(["rules", 4, "events"], ["claim"]),
            "mapping.rules[4].events[0].type: unknown event type 'claim'",
        ),
        (
            _mutate(["rules", 4, "events"], [{"type": "claimed", "actor_type": "robot"}]),
            "mapping.rules[4].events[0].actor_type: unknown actor type 'robot'",
        ),
        (
            _mutate(["rules", 7, "events", 0, "outcome_from", "values", "kept"], "confirmed"),
            "mapping.rules[7].events[0].outcome_from.values.kept: unknown outcome 'confirmed'",
        ),
        (
            _mutate(["timestamp", "timezone"], "Mars/Olympus"),
            "mapping.timestamp.timezone: unknown time zone 'Mars/Olympus'",
        ),
        (_mutate(["rulez"], []), "mapping: unknown key 'rulez'"),
        (_mutate(["rules", 0, "skip"], _DELETE), "mapping.rules[0]: needs exactly one of"),
        (
            _mutate(["rules", 0, "skip"], "No State Change"),
            "mapping.rules[0].skip: skip reason 'No State Change' must be snake_case",
        ),
        (_mutate(["rules"], []), "mapping.rules: is required"),
        (_mutate(["case_id"], _DELETE), "mapping.case_id: is required"),
        (
            _mutate(["attributes", "queue", "pick"], "latest"),
            "mapping.attributes.queue.pick: unknown pick 'latest'",
        ),
        (_mutate(["attributes", "region"], "team"), "mapping.attributes: unknown key 'region'"),
        (_mutate(["state"], _DELETE), "mapping.rules[0].changed: needs 'mapping.state'"),
    ],
)
def test_bad_mapping_names_the_key(fixture_files, tmp_path, mutate, expected):
    events, mapping = fixture_files
    m = yaml.safe_load(mapping.read_text())
    mutate(m)
    mapping.write_text(yaml.safe_dump(m, sort_keys=False))
    with pytest.raises(MappingError) as info:
        import_log(events, mapping, tmp_path / "wh.duckdb")
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert not (tmp_path / "wh.duckdb").exists()


def test_unreadable_mapping_and_events(fixture_files, tmp_path):
    events, mapping = fixture_files
    bad = tmp_path / "bad.yml"
    bad.write_text("case_id: [unclosed\n")
    with pytest.raises(MappingError, match=r"^mapping: not valid YAML at line \d+"):
        import_log(events, bad, tmp_path / "wh.duckdb")
    with pytest.raises(MappingError, match="^mapping: file not found"):
        import_log(events, tmp_path / "missing.yml", tmp_path / "wh.duckdb")
    with pytest.raises(EventsFileError, match="events file not found"):
        import_log(tmp_path / "missing.csv", mapping, tmp_path / "wh.duckdb")
    assert issubclass(MappingError, ValueError) and issubclass(EventsFileError, ValueError)


def test_shipped_mappings_parse():
    from metrics.importlog import load_mapping

    for name in ("servicenow_incidents", "helpdesk_tickets"):
        m = load_mapping(MAPPINGS / f"{name}.yml")
        assert m.rules and m.case_id
