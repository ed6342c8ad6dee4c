"""Issue 14: bad values are data problems, not crashes. Each is read as null or left out,
counted by a named check with examples, and never moves the default as-of. Every expected
value is derived by hand beside the fixture."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from metrics import api, cli
from tests.cases import policy
from tests.helpers import make_warehouse


def found(url) -> dict[str, tuple[int, list[str]]]:
    return {c.name: (c.count, c.examples) for c in api.check(url)}


def ok_cli(capsys, *argv) -> str:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0 and err == "", err
    return out


# -- unreadable text timestamps ------------------------------------------------------------------
# Text columns, as a CSV load leaves them:
#   a1 created '2026-03-02 09:00:00'; e1 claimed '2026-03-02 10:00:00', e2 decided upheld '2026-03-03 09:00'
#   a2 created '31/12/2026 10:00'    -> unreadable: created_at null -> a2 left out of facts
#   e3 (a1) internal_note 'yesterday' -> unreadable: occurred_at null -> e3 ignored
# as_of = latest readable instant = e2 = 2026-03-03 09:00 UTC; a1: FTR 1 h, TTR 24 h.
TEXT_TABLES = """
create table appeals (appeal_id varchar, queue varchar, priority varchar, created_at varchar);
insert into appeals values ('a1', 'q1', 'P1', '2026-03-02 09:00:00'), ('a2', 'q1', 'P1', '31/12/2026 10:00');
create table appeal_events (event_id varchar, appeal_id varchar, occurred_at varchar, event_type varchar,
                            actor_id varchar, actor_type varchar, outcome varchar);
insert into appeal_events values
  ('e1', 'a1', '2026-03-02 10:00:00', 'claimed', 's1', 'specialist', null),
  ('e2', 'a1', '2026-03-03 09:00', 'decided', 's1', 'specialist', 'upheld'),
  ('e3', 'a1', 'yesterday', 'internal_note', 's1', 'specialist', null);
"""


def text_warehouse(tmp_path) -> str:
    path = tmp_path / "text.duckdb"
    con = duckdb.connect(str(path))
    con.execute(TEXT_TABLES)
    con.close()
    return f"duckdb:///{path}"


def assert_text_warehouse_read(url):
    assert api.resolve_as_of(url, None) == datetime(2026, 3, 3, 9, tzinfo=UTC)
    facts = api.facts(url)
    assert facts["appeal_id"].to_list() == ["a1"]
    assert facts.select("ftr_hours", "ttr_hours").row(0) == (1.0, 24.0)
    checks = found(url)
    assert checks["unreadable_value"] == (2, ["a2 (appeals.created_at)", "e3 (appeal_events.occurred_at)"])
    assert checks["appeal_missing_required_value"] == (1, ["a2"])
    assert checks["event_missing_required_value"] == (1, ["e3"])


def test_unreadable_text_timestamp_is_null_and_counted(tmp_path, capsys):
    url = text_warehouse(tmp_path)
    assert_text_warehouse_read(url)
    out = ok_cli(capsys, "check", "--warehouse", url)
    assert "unreadable_value\t2\ta2 (appeals.created_at), e3 (appeal_events.occurred_at)\n" in out
    ok_cli(capsys, "report", "--warehouse", url, "--by", "queue", "--out", str(tmp_path / "r.csv"))
    ok_cli(capsys, "wbr", "--warehouse", url, "--week", "2026-W10", "--out", str(tmp_path / "w.md"))


@pytest.mark.postgres
def test_unreadable_text_timestamp_on_postgresql(pg_url, tmp_path):
    """PostgreSQL has no try_cast: text is cast only when it has a timestamp's shape."""
    import sqlalchemy as sa

    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("drop schema if exists bad_text cascade; create schema bad_text; set search_path = bad_text"))
        for statement in TEXT_TABLES.strip().split(";"):
            if statement.strip():
                conn.execute(sa.text(statement))
    engine.dispose()
    assert_text_warehouse_read(f"{pg_url}?options=-csearch_path%3Dbad_text")


# -- date-shaped text naming no instant ------------------------------------------------------------
# Text with a timestamp's shape but no such day or hour; PostgreSQL's cast raises on it, so it must
# be read as null (as DuckDB's try_cast does) and counted, the same on both engines:
#   a1 created '2026-03-02 09:00:00'; e1 claimed '2026-03-02 10:00:00'; e2 decided '2026-03-03 09:00'
#   a3 created '2026-02-30 10:00'      -> no 30 February: unreadable, a3 left out of facts
#   e4 (a1) internal_note '2026-03-02 25:00' -> no hour 25: unreadable, ignored
#   e5 (a1) internal_note '2026-03-02 24:00' -> the end of 2 March = 3 Mar 00:00: readable (both engines)
#   e6 (a1) internal_note '2026-13-01 10:00' -> no month 13: unreadable, ignored
#   e7 (a1) internal_note '2024-02-29 12:00-05:00' -> a real leap day with an offset: readable
# as_of = latest readable instant = e2 (3 Mar 09:00); a1: FTR 1 h (e1), TTR 24 h (e2).
IMPOSSIBLE_TABLES = """
create table appeals (appeal_id varchar, queue varchar, priority varchar, created_at varchar);
insert into appeals values ('a1', 'q1', 'P1', '2026-03-02 09:00:00'), ('a3', 'q1', 'P1', '2026-02-30 10:00');
create table appeal_events (event_id varchar, appeal_id varchar, occurred_at varchar, event_type varchar,
                            actor_id varchar, actor_type varchar, outcome varchar);
insert into appeal_events values
  ('e1', 'a1', '2026-03-02 10:00:00', 'claimed', 's1', 'specialist', null),
  ('e2', 'a1', '2026-03-03 09:00', 'decided', 's1', 'specialist', 'upheld'),
  ('e4', 'a1', '2026-03-02 25:00', 'internal_note', 's1', 'specialist', null),
  ('e5', 'a1', '2026-03-02 24:00', 'internal_note', 's1', 'specialist', null),
  ('e6', 'a1', '2026-13-01 10:00', 'internal_note', 's1', 'specialist', null),
  ('e7', 'a1', '2024-02-29 12:00-05:00', 'internal_note', 's1', 'specialist', null);
"""


def assert_impossible_instants_read(url):
    assert api.resolve_as_of(url, None) == datetime(2026, 3, 3, 9, tzinfo=UTC)
    facts = api.facts(url)
    assert facts["appeal_id"].to_list() == ["a1"]
    assert facts.select("ftr_hours", "ttr_hours").row(0) == (1.0, 24.0)
    checks = found(url)
    assert checks["unreadable_value"] == (3, ["a3 (appeals.created_at)", "e4 (appeal_events.occurred_at)",
                                              "e6 (appeal_events.occurred_at)"])


def test_date_shaped_text_naming_no_instant_is_null_and_counted(tmp_path):
    path = tmp_path / "impossible.duckdb"
    con = duckdb.connect(str(path))
    con.execute(IMPOSSIBLE_TABLES)
    con.close()
    assert_impossible_instants_read(f"duckdb:///{path}")


@pytest.mark.postgres
def test_date_shaped_text_naming_no_instant_on_postgresql(pg_url):
    """Was a one-line driver error on PostgreSQL ('date/time field value out of range')."""
    import sqlalchemy as sa

    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("drop schema if exists bad_day cascade; create schema bad_day; set search_path = bad_day"))
        for statement in IMPOSSIBLE_TABLES.strip().split(";"):
            if statement.strip():
                conn.execute(sa.text(statement))
    engine.dispose()
    assert_impossible_instants_read(f"{pg_url}?options=-csearch_path%3Dbad_day")


# -- absurd instants ------------------------------------------------------------------------------
# a1 created 2 Mar 2026 09:00, decided 3 Mar 09:00; e9 (a1) internal_note dated 9999-12-31 (a "never"
# placeholder); a0 created 0001-01-01. Both instants are outside 1990..2100: read as null. a0 then has
# no created_at and is left out; e9 is ignored. as_of stays 3 Mar 2026 09:00 (not 9999-12-31).
def test_far_future_event_never_becomes_the_as_of(tmp_path, capsys):
    url = make_warehouse(tmp_path, {
        "appeals": [{"appeal_id": "a1", "queue": "q", "priority": "P1", "created_at": "2026-03-02T09:00:00"},
                    {"appeal_id": "a0", "queue": "q", "priority": "P1", "created_at": "0001-01-01T00:00:00"}],
        "appeal_events": [
            {"event_id": "e1", "appeal_id": "a1", "occurred_at": "2026-03-03T09:00:00", "event_type": "decided",
             "actor_type": "specialist", "actor_id": "s1", "outcome": "upheld"},
            {"event_id": "e9", "appeal_id": "a1", "occurred_at": "9999-12-31T00:00:00", "event_type": "internal_note",
             "actor_type": "specialist", "actor_id": "s1"},
        ],
    })
    assert api.resolve_as_of(url, None) == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert api.facts(url)["appeal_id"].to_list() == ["a1"]
    checks = found(url)
    assert checks["timestamp_outside_window"] == (2, ["a0 (appeals.created_at)", "e9 (appeal_events.occurred_at)"])
    assert "event_after_as_of" not in checks  # e9 is no future event: it has no instant at all
    ok_cli(capsys, "report", "--warehouse", url, "--by", "none", "--period", "day", "--out", str(tmp_path / "r.csv"))


# -- SLA targets ------------------------------------------------------------------------------------
# Four appeals created Mon 2 Mar 2026 09:00, none touched; as_of = 5 Mar 09:00 (a probe event) = 72 h later.
#   q_nan/P1:  FTR target NaN  -> null -> ftr_sla n/a;  TTR 100 h -> pending (deadline 6 Mar 13:00)
#   q_neg/P1:  FTR -5 h        -> null -> n/a (it was "breached" at creation); TTR +inf -> null -> n/a
#   q_huge/P1: FTR 1e300 h     -> null -> n/a;           TTR 24 h -> breached (deadline 3 Mar 09:00)
#   q_zero/P1: FTR 0 h stays a target (due at creation) -> breached; TTR 100 h -> pending
def test_unusable_sla_targets_are_null_and_counted(tmp_path, capsys):
    created = "2026-03-02T09:00:00"
    queues = ["q_nan", "q_neg", "q_huge", "q_zero"]
    url = make_warehouse(tmp_path, {
        "appeals": [{"appeal_id": q, "queue": q, "priority": "P1", "created_at": created} for q in queues],
        "appeal_events": [{"event_id": "probe", "appeal_id": "q_nan", "occurred_at": "2026-03-05T09:00:00",
                           "event_type": "internal_note", "actor_type": "system", "actor_id": "bot"}],
        "sla_policies": [policy("q_nan", "P1", float("nan"), 100), policy("q_neg", "P1", -5, float("inf")),
                         policy("q_huge", "P1", 1e300, 24), policy("q_zero", "P1", 0, 100)],
    })
    facts = {r["appeal_id"]: (r["ftr_sla"], r["ttr_sla"], r["ftr_target_hours"], r["ttr_target_hours"])
             for r in api.facts(url).iter_rows(named=True)}
    assert facts == {"q_nan": ("n/a", "pending", None, 100.0), "q_neg": ("n/a", "n/a", None, None),
                     "q_huge": ("n/a", "breached", None, 24.0), "q_zero": ("breached", "pending", 0.0, 100.0)}
    assert found(url)["sla_target_unusable"] == (4, [
        "q_huge/P1 (sla_policies.first_touch_target_hours)", "q_nan/P1 (sla_policies.first_touch_target_hours)",
        "q_neg/P1 (sla_policies.first_touch_target_hours)", "q_neg/P1 (sla_policies.resolution_target_hours)"])
    ok_cli(capsys, "report", "--warehouse", url, "--by", "queue", "--out", str(tmp_path / "r.csv"))


# -- a schedule that is all holiday -------------------------------------------------------------------
# Schedule "office": Mon-Fri 09:00-17:00 UTC. Policy (*, P1): FTR 4 business hours. a1 created Mon 2 Mar
# 2026 09:00, claimed 15:00 = 6 open hours -> breached. A holidays table closing "office" on all 365 days
# of 2026 would stop the clock (nothing ever breaches): those 365 rows are ignored and counted.
def test_holiday_on_every_day_is_ignored_and_counted(tmp_path):
    days = [(date(2026, 1, 1) + timedelta(days=i)).isoformat() for i in range(365)]
    url = make_warehouse(tmp_path, {
        "appeals": [{"appeal_id": "a1", "queue": "q", "priority": "P1", "created_at": "2026-03-02T09:00:00"}],
        "appeal_events": [{"event_id": "e1", "appeal_id": "a1", "occurred_at": "2026-03-02T15:00:00",
                           "event_type": "claimed", "actor_type": "specialist", "actor_id": "s1"}],
        "sla_policies": [policy("*", "P1", 4, 40, "business", "office")],
        "business_hours": [{"schedule_id": "office", "timezone": "UTC", "weekday": d, "start_time": "09:00:00",
                            "end_time": "17:00:00"} for d in range(1, 6)],
        "holidays": [{"schedule_id": "office", "holiday_date": d} for d in days],
    })
    row = api.facts(url).row(0, named=True)
    assert (row["ftr_sla"], row["ftr_clock_hours"]) == ("breached", 6.0)
    assert found(url)["holidays_most_of_year"] == (365, [f"office 2026-01-0{d}" for d in range(1, 6)])


# -- duplicate specialists ----------------------------------------------------------------------------
# s1 twice, disagreeing: ("Bea", pod_a, Lee, Berlin) and an impostor ("Aaa", pod_b, Max, Dublin) that
# would win by name order. Every disagreeing attribute is read as null; site agrees ("Berlin") and stays.
# s2 twice with identical rows: nothing is lost. The check counts the extra rows: one of s1, one of s2.
def test_duplicate_specialist_reassigns_nothing(tmp_path):
    url = make_warehouse(tmp_path, {
        "appeals": [{"appeal_id": "a1", "queue": "q", "priority": "P1", "created_at": "2026-03-02T09:00:00"},
                    {"appeal_id": "a2", "queue": "q", "priority": "P1", "created_at": "2026-03-02T09:00:00"}],
        "appeal_events": [
            {"event_id": "e1", "appeal_id": "a1", "occurred_at": "2026-03-02T10:00:00", "event_type": "decided",
             "actor_type": "specialist", "actor_id": "s1", "outcome": "upheld"},
            {"event_id": "e2", "appeal_id": "a2", "occurred_at": "2026-03-02T10:00:00", "event_type": "decided",
             "actor_type": "specialist", "actor_id": "s2", "outcome": "upheld"},
        ],
        "specialists": [
            {"specialist_id": "s1", "display_name": "Bea", "pod": "pod_a", "team_lead": "Lee", "site": "Berlin"},
            {"specialist_id": "s1", "display_name": "Aaa", "pod": "pod_b", "team_lead": "Max", "site": "Berlin"},
            {"specialist_id": "s2", "display_name": "Cy", "pod": "pod_a", "team_lead": "Lee", "site": "Berlin"},
            {"specialist_id": "s2", "display_name": "Cy", "pod": "pod_a", "team_lead": "Lee", "site": "Berlin"},
        ],
    })
    facts = {r["appeal_id"]: (r["specialist_id"], r["specialist_name"], r["pod"], r["team_lead"], r["site"])
             for r in api.facts(url, wide=True).iter_rows(named=True)}
    assert facts == {"a1": ("s1", None, None, None, "Berlin"), "a2": ("s2", "Cy", "pod_a", "Lee", "Berlin")}
    assert found(url)["duplicate_specialist_id"] == (2, ["s1", "s2"])


# -- a required column of which nothing can be read stays unusable (exit 3 from check, 2 elsewhere) ---
def test_required_column_with_no_readable_value_is_named(tmp_path, capsys):
    path = tmp_path / "allbad.duckdb"
    con = duckdb.connect(str(path))
    con.execute(TEXT_TABLES.replace("'2026-03-02 09:00:00'), ('a2'", "'02/03/2026 09:00'), ('a2'"))
    con.close()
    code = cli.main(["facts", "--warehouse", f"duckdb:///{path}", "--out", "-"])
    _, err = capsys.readouterr()
    assert code == 2 and err == ("error: appeals.created_at: required column cannot be read as timestamptz: "
                                 "none of its 2 values is one (e.g. '02/03/2026 09:00')\n")
