"""`python -m metrics` as other people's scripts use it (interfaces.md), run as a subprocess.

The warehouse holds two appeals written out by hand; every expected value below is derived
by hand from the events (metrics.md), with the arithmetic beside it.

  A1  listing_removal / P1 / US / in_app, created Mon 2026-03-02 10:00Z, enforcement e1
      (counterfeit, automated, model-v1, action listing_removal, enforced 03-02 08:00)
      ev1 03-02 10:30 assigned s1              routing, not a touch
      ev2 03-02 12:00 claimed s1               first touch -> ftr = 12:00 - 10:00 = 2 h
      ev3 03-02 13:00 evidence_requested s1    user wait starts
      ev4 03-03 13:00 evidence_received (user) user wait ends -> 24 h
      ev5 03-04 08:00 decided s1 overturned, root cause automation_false_positive
                                               -> resolved, ttr = 2 days - 2 h = 46 h
      QA r1 03-04 09:30 decision_correct = true
  A2  account_suspension / P1 / GB / email, created Tue 2026-03-03 09:00Z, enforcement e2
      (harassment, human, agent7, action account_suspension, enforced 03-02 20:00)
      ev6 03-03 09:05 assigned s2              owner s2 (last assignment, not resolved)
      ev7 03-03 10:00 escalated s2             escalated; not a touch
      ev8 03-04 12:00 internal_note s2         not a touch -> no first touch, still open
  ev9 03-03 00:00 internal_note for appeal "ghost": counted by the event_unknown_appeal check.

  as_of (default) = latest created_at / occurred_at = ev8 = 2026-03-04 12:00Z.
  SLA policy ('*', P1): first touch 4 h, resolution 72 h, calendar clock.
  A1: ftr deadline 10:00 + 4 h = 03-02 14:00, touched 12:00        -> achieved, clock 2 h
      ttr deadline 03-02 10:00 + 72 h = 03-05 10:00, resolved 03-04 08:00 -> achieved, clock 46 h
  A2: ftr deadline 03-03 09:00 + 4 h = 03-03 13:00 < as_of, no touch -> breached (decided 03-03 13:00)
      ttr deadline 03-06 09:00 >= as_of, not resolved               -> pending; clocks still running (null)
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from tests.helpers import make_warehouse

ROOT = Path(__file__).resolve().parent.parent

ROWS = {
    "appeals": [
        {"appeal_id": "A1", "enforcement_id": "e1", "queue": "listing_removal", "priority": "P1", "market": "US",
         "channel": "in_app", "language": "en", "created_at": "2026-03-02T10:00:00Z"},
        {"appeal_id": "A2", "enforcement_id": "e2", "queue": "account_suspension", "priority": "P1", "market": "GB",
         "channel": "email", "language": "en", "created_at": "2026-03-03T09:00:00Z"},
    ],
    "appeal_events": [
        {"event_id": "ev1", "appeal_id": "A1", "occurred_at": "2026-03-02T10:30:00Z", "event_type": "assigned",
         "actor_id": "s1", "actor_type": "specialist"},
        {"event_id": "ev2", "appeal_id": "A1", "occurred_at": "2026-03-02T12:00:00Z", "event_type": "claimed",
         "actor_id": "s1", "actor_type": "specialist"},
        {"event_id": "ev3", "appeal_id": "A1", "occurred_at": "2026-03-02T13:00:00Z",
         "event_type": "evidence_requested", "actor_id": "s1", "actor_type": "specialist"},
        {"event_id": "ev4", "appeal_id": "A1", "occurred_at": "2026-03-03T13:00:00Z",
         "event_type": "evidence_received", "actor_id": "u1", "actor_type": "user"},
        {"event_id": "ev5", "appeal_id": "A1", "occurred_at": "2026-03-04T08:00:00Z", "event_type": "decided",
         "actor_id": "s1", "actor_type": "specialist", "outcome": "overturned",
         "root_cause": "automation_false_positive"},
        {"event_id": "ev6", "appeal_id": "A2", "occurred_at": "2026-03-03T09:05:00Z", "event_type": "assigned",
         "actor_id": "s2", "actor_type": "specialist"},
        {"event_id": "ev7", "appeal_id": "A2", "occurred_at": "2026-03-03T10:00:00Z", "event_type": "escalated",
         "actor_id": "s2", "actor_type": "specialist", "escalation_target": "policy"},
        {"event_id": "ev8", "appeal_id": "A2", "occurred_at": "2026-03-04T12:00:00Z", "event_type": "internal_note",
         "actor_id": "s2", "actor_type": "specialist"},
        {"event_id": "ev9", "appeal_id": "ghost", "occurred_at": "2026-03-03T00:00:00Z",
         "event_type": "internal_note", "actor_id": "s1", "actor_type": "specialist"},
    ],
    "enforcements": [
        {"enforcement_id": "e1", "user_id": "u1", "action": "listing_removal", "policy": "counterfeit",
         "source": "automated", "enforced_by": "model-v1", "enforced_at": "2026-03-02T08:00:00Z"},
        {"enforcement_id": "e2", "user_id": "u2", "action": "account_suspension", "policy": "harassment",
         "source": "human", "enforced_by": "agent7", "enforced_at": "2026-03-02T20:00:00Z"},
    ],
    "qa_reviews": [
        {"review_id": "r1", "appeal_id": "A1", "reviewer_id": "qa1", "reviewed_at": "2026-03-04T09:30:00Z",
         "decision_correct": True},
    ],
    "sla_policies": [
        {"queue": "*", "priority": "P1", "first_touch_target_hours": 4.0, "resolution_target_hours": 72.0,
         "clock": "calendar"},
    ],
}

FACTS_COLUMNS = [  # interfaces.md `facts`, in order
    "appeal_id", "queue", "priority", "market", "channel", "policy", "enforcement_source", "specialist_id",
    "created_at", "first_touch_at", "resolved_at", "status", "outcome", "is_overturned", "reopen_count",
    "escalated", "ftr_hours", "ttr_hours", "ftr_clock_hours", "ttr_clock_hours", "ftr_target_hours",
    "ttr_target_hours", "ftr_sla", "ttr_sla", "user_wait_hours", "root_cause", "theme",
]


def T(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


EXPECTED_FACTS = {
    "A1": {
        "appeal_id": "A1", "queue": "listing_removal", "priority": "P1", "market": "US", "channel": "in_app",
        "policy": "counterfeit", "enforcement_source": "automated",
        "specialist_id": "s1",                      # actor of the final decision
        "created_at": T("2026-03-02T10:00:00"),
        "first_touch_at": T("2026-03-02T12:00:00"),  # ev2 claimed (ev1 assigned is routing)
        "resolved_at": T("2026-03-04T08:00:00"),     # ev5 decided
        "status": "resolved", "outcome": "overturned", "is_overturned": True,
        "reopen_count": 0, "escalated": False,
        "ftr_hours": 2.0,                            # 12:00 - 10:00
        "ttr_hours": 46.0,                           # 03-04 08:00 - 03-02 10:00 = 48 - 2
        "ftr_clock_hours": 2.0, "ttr_clock_hours": 46.0,  # calendar clock = calendar hours
        "ftr_target_hours": 4.0, "ttr_target_hours": 72.0,
        "ftr_sla": "achieved",                       # 12:00 <= deadline 14:00
        "ttr_sla": "achieved",                       # 03-04 08:00 <= deadline 03-05 10:00
        "user_wait_hours": 24.0,                     # ev3 03-02 13:00 -> ev4 03-03 13:00
        "root_cause": "automation_false_positive",
        "theme": "automation_false_positives",       # overturned, code rule of the taxonomy
    },
    "A2": {
        "appeal_id": "A2", "queue": "account_suspension", "priority": "P1", "market": "GB", "channel": "email",
        "policy": "harassment", "enforcement_source": "human",
        "specialist_id": "s2",                       # not resolved: last assignment (ev6)
        "created_at": T("2026-03-03T09:00:00"),
        "first_touch_at": None,                      # escalated / internal_note are not touches
        "resolved_at": None,
        "status": "open", "outcome": None, "is_overturned": None,
        "reopen_count": 0, "escalated": True,        # ev7
        "ftr_hours": None, "ttr_hours": None,
        "ftr_clock_hours": None, "ttr_clock_hours": None,  # clocks still running
        "ftr_target_hours": 4.0, "ttr_target_hours": 72.0,
        "ftr_sla": "breached",                       # deadline 03-03 13:00 < as_of 03-04 12:00, no touch
        "ttr_sla": "pending",                        # deadline 03-06 09:00 >= as_of
        "user_wait_hours": 0.0,                      # no evidence request
        "root_cause": None, "theme": None,           # themes only for overturned appeals
    },
}

REPORT_COLUMNS = ["period_start", "queue"]
for _name, _is_rate in [
    ("appeals_created", False), ("appeals_resolved", False), ("ttr_p50_hours", False), ("ttr_p90_hours", False),
    ("ftr_p50_hours", False), ("ftr_p90_hours", False), ("ftr_sla_attainment", True), ("ttr_sla_attainment", True),
    ("overturn_rate", True), ("full_overturn_rate", True), ("reopen_rate", True), ("escalation_rate", True),
    ("backlog_open", False), ("backlog_breached", False), ("qa_accuracy", True), ("appeal_rate", True),
]:
    REPORT_COLUMNS += [_name, f"{_name}_numerator", f"{_name}_denominator"] if _is_rate else [_name]

# report --by queue --period week: both appeals were created in ISO week 2026-03-02 (Mon), and
# as_of (03-04 12:00) is in that week, so there is one period; backlog is taken at its end E =
# 2026-03-09 00:00, with the lifecycle as of as_of. None = empty CSV cell (null).
EXPECTED_REPORT = {
    "listing_removal": {
        "period_start": "2026-03-02",
        "appeals_created": 1,                        # A1 created 03-02
        "appeals_resolved": 1,                       # A1 resolved 03-04
        "ttr_p50_hours": 46.0, "ttr_p90_hours": 46.0,  # one value: every percentile is it
        "ftr_p50_hours": 2.0, "ftr_p90_hours": 2.0,
        "ftr_sla_attainment": (1.0, 1, 1),           # achieved at its stop 03-02 12:00: 1 / (1 + 0)
        "ttr_sla_attainment": (1.0, 1, 1),           # achieved at its stop 03-04 08:00
        "overturn_rate": (1.0, 1, 1),                # overturned / resolved with known outcome
        "full_overturn_rate": (1.0, 1, 1),           # `overturned` itself
        "reopen_rate": (0.0, 0, 1),                  # reopen_count 0 of 1 resolved
        "escalation_rate": (0.0, 0, 1),              # A1 never escalated
        "backlog_open": 0, "backlog_breached": 0,    # resolved before E
        "qa_accuracy": (1.0, 1, 1),                  # r1 correct, reviewed 03-04 09:30 <= as_of
        "appeal_rate": (1.0, 1, 1),                  # 1 appeal created / 1 enforcement (action listing_removal)
    },
    "account_suspension": {
        "period_start": "2026-03-02",
        "appeals_created": 1,                        # A2 created 03-03
        "appeals_resolved": 0,
        "ttr_p50_hours": None, "ttr_p90_hours": None,  # nothing resolved
        "ftr_p50_hours": None, "ftr_p90_hours": None,  # never touched
        "ftr_sla_attainment": (0.0, 0, 1),           # breached, decided at its deadline 03-03 13:00
        "ttr_sla_attainment": (None, 0, 0),          # pending: not decided yet
        "overturn_rate": (None, 0, 0),
        "full_overturn_rate": (None, 0, 0),
        "reopen_rate": (None, 0, 0),
        "escalation_rate": (None, 0, 0),             # escalated, but the rate is over resolved appeals
        "backlog_open": 1,                           # created before E, open
        "backlog_breached": 0,                       # ttr deadline 03-06 09:00 not before min(E, as_of)
        "qa_accuracy": (None, 0, 0),                 # no review of A2
        "appeal_rate": (1.0, 1, 1),                  # A2 / e2 (action account_suspension, 03-02 20:00)
    },
}


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def wh_url(tmp_path_factory) -> str:
    return make_warehouse(tmp_path_factory.mktemp("cli"), ROWS)


def _cell(value: str):
    return None if value == "" else value


def _check_facts_records(records: list[dict]) -> None:
    assert [r["appeal_id"] for r in records] == ["A1", "A2"]
    for rec in records:
        assert list(rec) == FACTS_COLUMNS
        expected = EXPECTED_FACTS[rec["appeal_id"]]
        for col in FACTS_COLUMNS:
            got, want = rec[col], expected[col]
            if isinstance(want, datetime):
                got = datetime.fromisoformat(got.replace("Z", "+00:00")) if isinstance(got, str) else got
                assert got == want, col
            elif isinstance(want, bool):
                assert got in (want, str(want).lower()), col
            elif isinstance(want, float):
                assert float(got) == pytest.approx(want, rel=1e-12), col
            elif isinstance(want, int):
                assert int(got) == want, col
            else:
                assert (None if got == "" else got) == want, col


# -- facts ------------------------------------------------------------------------------------


def test_facts_csv(wh_url, tmp_path):
    out = tmp_path / "x.csv"
    proc = run_cli("facts", "--warehouse", wh_url, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="") as fh:
        _check_facts_records(list(csv.DictReader(fh)))
    # instants are ISO-8601 UTC with a Z
    assert "2026-03-02T10:00:00" in out.read_text() and out.read_text().count("Z") >= 4


def test_facts_stdout(wh_url):
    proc = run_cli("facts", "--warehouse", wh_url, "--out", "-")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split(",") == FACTS_COLUMNS
    _check_facts_records(list(csv.DictReader(io.StringIO(proc.stdout))))


def test_facts_json(wh_url, tmp_path):
    out = tmp_path / "x.json"
    proc = run_cli("facts", "--warehouse", wh_url, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    records = json.loads(out.read_text())
    assert isinstance(records, list)
    _check_facts_records(records)


def test_facts_parquet(wh_url, tmp_path):
    out = tmp_path / "x.parquet"
    proc = run_cli("facts", "--warehouse", wh_url, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    frame = pl.read_parquet(out)
    assert frame.columns == FACTS_COLUMNS
    assert frame.schema["created_at"] == pl.Datetime("us", "UTC")
    assert frame.schema["is_overturned"] == pl.Boolean
    assert frame.schema["reopen_count"] == pl.Int64
    assert frame.schema["ttr_hours"] == pl.Float64
    _check_facts_records(frame.sort("appeal_id").to_dicts())


def test_facts_as_of_cuts_the_warehouse(wh_url):
    # as of 03-02 23:00 only A1 exists, touched (12:00) but not resolved; its ttr SLA is pending
    proc = run_cli("facts", "--warehouse", wh_url, "--as-of", "2026-03-02T23:00:00Z", "--out", "-")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["appeal_id"], r["status"], r["ftr_sla"], r["ttr_sla"]) for r in rows] == [
        ("A1", "open", "achieved", "pending")]
    assert float(rows[0]["user_wait_hours"]) == pytest.approx(10.0)  # 13:00 -> as_of 23:00, still waiting


# -- report -------------------------------------------------------------------------------------


def test_report_by_queue_week(wh_url):
    proc = run_cli("report", "--warehouse", wh_url, "--by", "queue", "--period", "week", "--out", "-")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split(",") == REPORT_COLUMNS
    rows = {r["queue"]: r for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert set(rows) == set(EXPECTED_REPORT)
    for queue, expected in EXPECTED_REPORT.items():
        got = rows[queue]
        for name, want in expected.items():
            if isinstance(want, tuple):
                value, num, den = want
                assert (_cell(got[name]) is None) == (value is None), name
                if value is not None:
                    assert float(got[name]) == pytest.approx(value), name
                assert int(got[f"{name}_numerator"]) == num, name
                assert int(got[f"{name}_denominator"]) == den, name
            elif want is None:
                assert _cell(got[name]) is None, name
            elif isinstance(want, str):
                assert got[name] == want, name
            else:
                assert float(got[name]) == pytest.approx(want), name


def test_report_to_file_formats(wh_url, tmp_path):
    for ext in ("csv", "json", "parquet"):
        out = tmp_path / f"r.{ext}"
        proc = run_cli("report", "--warehouse", wh_url, "--by", "queue", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        assert out.stat().st_size > 0
    assert pl.read_parquet(tmp_path / "r.parquet").columns == REPORT_COLUMNS


# -- definitions, check --------------------------------------------------------------------------


def test_definitions_json():
    proc = run_cli("definitions", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    names = [m["name"] for m in doc["metrics"]]
    assert names == [c for c in REPORT_COLUMNS[2:] if not c.endswith(("_numerator", "_denominator"))]


def test_check_on_usable_data(wh_url):
    proc = run_cli("check", "--warehouse", wh_url)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines
    by_name = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert by_name["event_unknown_appeal"][1:] == ["1", "ev9"]  # name, count, examples


def _duckdb_without_created_at(path: Path) -> str:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("create table appeals (appeal_id varchar, queue varchar, priority varchar)")
        con.execute("insert into appeals values ('A1', 'q', 'P1')")
        con.execute("create table appeal_events (event_id varchar, appeal_id varchar, occurred_at timestamptz, "
                    "event_type varchar, actor_id varchar, actor_type varchar)")
    finally:
        con.close()
    return f"duckdb:///{path}"


def test_check_missing_required_column_exits_3(tmp_path):
    url = _duckdb_without_created_at(tmp_path / "broken.duckdb")
    proc = run_cli("check", "--warehouse", url)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "appeals.created_at" in lines[0]
    assert "Traceback" not in proc.stderr


def test_facts_on_missing_required_column_exits_2(tmp_path):
    url = _duckdb_without_created_at(tmp_path / "broken.duckdb")
    proc = run_cli("facts", "--warehouse", url, "--out", "-")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "appeals.created_at" in proc.stderr


# -- bad arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize("args,mentions", [
    (["report", "--by", "queue", "--period", "year", "--out", "-"], "--period"),
    (["report", "--by", "queue", "--tz", "Mars/Base", "--out", "-"], "Mars/Base"),
    (["report", "--by", "nonsense", "--out", "-"], "nonsense"),
    (["facts", "--out", "-"], "missing.duckdb"),
    (["report", "--out", "-"], "missing.duckdb"),
    (["check"], "missing.duckdb"),
    (["facts", "--as-of", "yesterday", "--out", "-"], "--as-of"),
    (["facts", "--out", "x.xlsx"], "--out"),
])
def test_bad_arguments_exit_2_with_one_line(wh_url, args, mentions):
    warehouse = "duckdb:///missing.duckdb" if mentions == "missing.duckdb" else wh_url
    proc = run_cli(*args, "--warehouse", warehouse)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert mentions in lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not (ROOT / "missing.duckdb").exists()


def test_check_exits_3_when_a_required_column_cannot_be_read(tmp_path):
    # created_at holds text that is no timestamp: the column exists but is unusable
    import duckdb

    path = tmp_path / "badtype.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table appeals as select 'a1' as appeal_id, 'q' as queue, 'P1' as priority, "
                "'yesterday-ish' as created_at")
    con.execute("create table appeal_events as select 'e1' as event_id, 'a1' as appeal_id, "
                "timestamptz '2026-01-01 00:00:00+00' as occurred_at, 'claimed' as event_type, "
                "'s1' as actor_id, 'specialist' as actor_type")
    con.close()
    proc = run_cli("check", "--warehouse", f"duckdb:///{path}")
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "created_at" in lines[0] and "Traceback" not in proc.stderr


def test_backlog_recomputed_from_facts_and_spans(tmp_path):
    # a Data partner recomputes backlog_open from `facts` plus `spans` (open when
    # open_from < E <= open_to) and gets the report's number for every week
    import polars as pl

    from tests.helpers import make_warehouse

    url = make_warehouse(tmp_path, {
        "appeals": [{"appeal_id": "a1", "queue": "q", "priority": "P1", "created_at": "2026-03-02 09:00"},
                    {"appeal_id": "a2", "queue": "q", "priority": "P1", "created_at": "2026-03-03 09:00"}],
        "appeal_events": [
            {"event_id": "e1", "appeal_id": "a1", "occurred_at": "2026-03-04 09:00", "event_type": "decided",
             "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"},
            {"event_id": "e2", "appeal_id": "a1", "occurred_at": "2026-03-10 09:00", "event_type": "reopened",
             "actor_id": "u", "actor_type": "user"},
            {"event_id": "e3", "appeal_id": "a2", "occurred_at": "2026-03-20 09:00", "event_type": "decided",
             "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"},
        ],
    })
    spans_csv, report_csv = tmp_path / "spans.csv", tmp_path / "report.csv"
    assert run_cli("spans", "--warehouse", url, "--out", str(spans_csv)).returncode == 0
    assert run_cli("report", "--warehouse", url, "--by", "none", "--metrics", "backlog_open",
                   "--out", str(report_csv)).returncode == 0
    spans = pl.read_csv(spans_csv, try_parse_dates=True)
    report = pl.read_csv(report_csv, try_parse_dates=True)
    # weeks start 03-02, 03-09, 03-16 (as_of 03-20 09:00 is in the third); ends E = next Monday
    # a1 open (03-02 09:00, 03-04 09:00] and (03-10 09:00, open); a2 open (03-03 09:00, 03-20 09:00]
    # E=03-09: a2 → 1; E=03-16: a1 (reopened), a2 → 2; E=03-23: a1 → 1
    assert report["backlog_open"].to_list() == [1, 2, 1]
    for row in report.iter_rows(named=True):
        end = pl.datetime(row["period_start"].year, row["period_start"].month, row["period_start"].day,
                          time_zone="UTC") + pl.duration(days=7)
        n = spans.filter((pl.col("open_from") < end) & (pl.col("open_to").is_null() | (end <= pl.col("open_to"))))
        assert n.height == row["backlog_open"]


def test_backlog_by_owner_recomputed_from_spans(tmp_path):
    # the exported spans carry the owner of each open stretch; a Data partner recomputes the
    # backlog by specialist (owner at the period end) from them, row for row
    import polars as pl

    from tests.cases import D
    from tests.helpers import make_warehouse
    from tests.test_backlog_owner_cases import tables

    url = make_warehouse(tmp_path, tables())
    spans_csv, report_csv = tmp_path / "spans.csv", tmp_path / "report.csv"
    as_of = ("--as-of", "2026-03-09T12:00:00Z")
    assert run_cli("spans", "--warehouse", url, *as_of, "--out", str(spans_csv)).returncode == 0
    assert run_cli("report", "--warehouse", url, *as_of, "--by", "specialist_id", "--period", "week",
                   "--metrics", "backlog_open", "--out", str(report_csv)).returncode == 0
    spans = pl.read_csv(spans_csv, try_parse_dates=True)
    assert spans.columns == ["appeal_id", "open_from", "open_to", "specialist_id", "pod", "site", "team_lead"]
    report = pl.read_csv(report_csv, try_parse_dates=True)
    # week 03-02 (E = 03-09 00:00): C1 under s1 (moved to s3 at 02:00), B1 under s3; week 03-09 (E after
    # as_of): both under s3 (tests/test_backlog_owner_cases.py derives these)
    assert report.select("period_start", "specialist_id", "backlog_open").rows() == [
        (D("2026-03-02"), "s1", 1), (D("2026-03-02"), "s3", 1), (D("2026-03-09"), "s3", 2)]
    for row in report.iter_rows(named=True):
        end = pl.datetime(row["period_start"].year, row["period_start"].month, row["period_start"].day,
                          time_zone="UTC") + pl.duration(days=7)
        n = spans.filter((pl.col("open_from") < end) & (pl.col("open_to").is_null() | (end <= pl.col("open_to")))
                         & (pl.col("specialist_id") == row["specialist_id"]))
        assert n.height == row["backlog_open"]
