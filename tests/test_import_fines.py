"""A log shaped like the road-traffic-fine log, imported with no preprocessing.

Shape (as the 4TU road traffic fine log): a case is a fine with many steps; only some fines are
appealed (to the prefecture, then possibly to a judge); the prefecture's result can arrive
before the send step; the final dismissal code sits on the Create Fine row; dates are local
(Europe/Rome) without a zone. The same hand-written log is imported through
mappings/road_traffic_fines.yml (YAML), mappings/road_traffic_fines.sql (SQL) and as an XES
file the test writes; all three give the same facts, derived by hand below.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

import duckdb
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from metrics import api
from metrics.importlog import UnmatchedRowsError, import_log

REPO = Path(__file__).resolve().parents[1]
YAML_MAPPING = REPO / "mappings" / "road_traffic_fines.yml"
SQL_MAPPING = REPO / "mappings" / "road_traffic_fines.sql"

COLUMNS = ["case:concept:name", "concept:name", "time:timestamp", "org:resource", "dismissal", "article",
           "vehicleClass", "amount"]
# case, activity, local date, resource, dismissal, article, vehicleClass, amount
ROWS = [
    # F1: a fine nobody appealed - an enforcement, not an appeal
    ("F1", "Create Fine", "2024-01-10", "561", "NIL", "157", "A", "35.0"),
    ("F1", "Send Fine", "2024-02-01", "", "", "", "", ""),
    ("F1", "Payment", "2024-02-15", "", "", "", "", ""),
    # F2: appealed, upheld (NIL); the result (03-01) arrives before the send step (03-10),
    # and the file lists the send row first
    ("F2", "Create Fine", "2024-01-05", "537", "NIL", "7", "A", "36.0"),
    ("F2", "Send Fine", "2024-01-20", "", "", "", "", ""),
    ("F2", "Insert Fine Notification", "2024-01-25", "", "", "", "", ""),
    ("F2", "Insert Date Appeal to Prefecture", "2024-02-01", "", "", "", "", ""),
    ("F2", "Send Appeal to Prefecture", "2024-03-10", "", "", "", "", ""),
    ("F2", "Receive Result Appeal from Prefecture", "2024-03-01", "", "", "", "", ""),
    ("F2", "Notify Result Appeal to Offender", "2024-03-20", "", "", "", "", ""),
    ("F2", "Payment", "2024-04-01", "", "", "", "", ""),
    # F3: appealed, overturned ("#" = dismissed by the prefecture)
    ("F3", "Create Fine", "2024-01-08", "550", "#", "158", "C", "74.0"),
    ("F3", "Send Fine", "2024-01-15", "", "", "", "", ""),
    ("F3", "Insert Date Appeal to Prefecture", "2024-01-30", "", "", "", "", ""),
    ("F3", "Send Appeal to Prefecture", "2024-02-05", "", "", "", "", ""),
    ("F3", "Receive Result Appeal from Prefecture", "2024-02-20", "", "", "", "", ""),
    # F4: upheld by the prefecture, a penalty added (skipped), then appealed to a judge: a reopen
    ("F4", "Create Fine", "2024-01-03", "561", "NIL", "7", "A", "36.0"),
    ("F4", "Insert Date Appeal to Prefecture", "2024-01-20", "", "", "", "", ""),
    ("F4", "Send Appeal to Prefecture", "2024-01-25", "", "", "", "", ""),
    ("F4", "Receive Result Appeal from Prefecture", "2024-02-10", "", "", "", "", ""),
    ("F4", "Notify Result Appeal to Offender", "2024-02-15", "", "", "", "", ""),
    ("F4", "Add penalty", "2024-03-01", "", "", "", "", ""),
    ("F4", "Appeal to Judge", "2024-03-05", "", "", "", "", ""),
    # F5: straight to a judge on 2024-03-31 (Rome still on CET at midnight; DST starts at 02:00)
    ("F5", "Create Fine", "2024-01-02", "537", "NIL", "157", "M", "35.0"),
    ("F5", "Send Fine", "2024-01-10", "", "", "", "", ""),
    ("F5", "Appeal to Judge", "2024-03-31", "", "", "", "", ""),
    # F6: a dismissal code the mapping does not list ("Q"), and a step no rule covers
    ("F6", "Create Fine", "2024-01-04", "550", "Q", "7", "A", "36.0"),
    ("F6", "Insert Date Appeal to Prefecture", "2024-02-02", "", "", "", "", ""),
    ("F6", "Receive Result Appeal from Prefecture", "2024-02-12", "", "", "", "", ""),
    ("F6", "Credit Collection Reminder", "2024-02-20", "", "", "", "", ""),
]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write_csv(path: Path) -> Path:
    lines = [",".join(COLUMNS)] + [",".join(r) for r in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xes(path: Path) -> Path:
    """The same log as gzip XES: one trace per case (case id as the trace's concept:name)."""
    types = {"time:timestamp": "date", "article": "int", "amount": "float"}
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">',
           '<global scope="event"><string key="concept:name" value="__INVALID__"/></global>']
    for case in dict.fromkeys(r[0] for r in ROWS):
        out.append(f'<trace><string key="concept:name" value="{case}"/>'
                   '<list key="tags"><string key="inner" value="ignored"/></list>')
        for r in (r for r in ROWS if r[0] == case):
            out.append("<event>")
            for key, value in zip(COLUMNS[1:], r[1:], strict=True):
                if value:
                    v = value + "T00:00:00" if key == "time:timestamp" else value
                    out.append(f'<{types.get(key, "string")} key="{key}" value={quoteattr(v)}/>')
            out.append("</event>")
        out.append("</trace>")
    out.append("</log>")
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(out))
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    d = tmp_path_factory.mktemp("fines")
    csv = write_csv(d / "fines.csv")
    out = {}
    for name, events, mapping in (("yaml", csv, YAML_MAPPING), ("sql", csv, SQL_MAPPING),
                                  ("xes", write_xes(d / "fines.xes.gz"), YAML_MAPPING)):
        wh = d / f"{name}.duckdb"
        out[name] = (import_log(events, mapping, wh), f"duckdb:///{wh}", wh)
    return out


def _rows(path: Path, sql: str) -> list[tuple]:
    # through the engine's warehouse (the facts above hold the file open with its settings)
    return api.open_warehouse(f"duckdb:///{path}").query(sql).rows()


def test_yaml_row_accounting(imported):
    result, _, _ = imported["yaml"]
    assert result.source_rows == 30
    # F1: Create Fine used (its enforcement), Send Fine + Payment are not an appeal = 2
    # fine_process_step: F2 Send Fine, Insert Fine Notification, Payment (3); F3 Send Fine;
    #   F4 Add penalty; F5 Send Fine = 6
    # no_matching_rule: F6 "Credit Collection Reminder" = 1
    assert result.skipped == {"fine_process_step": 6, "not_an_appeal": 2, "no_matching_rule": 1}
    # used: F1 1, F2 5 (Create, Insert Date, Receive, Send Appeal, Notify), F3 4, F4 6, F5 2, F6 3 = 21
    assert result.used_rows == 21
    assert result.cases == 5  # F2..F6
    assert result.examples["no_matching_rule"] == ["F6"]
    assert result.unmatched_examples == ["activity 'Credit Collection Reminder', from 'decided', "
                                         "state 'decided' (1 rows, e.g. case F6)"]
    assert result.unlisted_outcomes == {"Q": 1}  # F6's decision, passed through and counted
    assert result.tables["enforcements"] == 6 and result.tables["appeal_events"] == 11


def test_yaml_events_by_hand(imported):
    _, _, path = imported["yaml"]
    q = ("select event_id, strftime(occurred_at, '%Y-%m-%d %H:%M'), event_type, actor_id, actor_type, outcome, "
         "escalation_target from appeal_events where appeal_id = ? order by event_id")
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    # Rome is UTC+1 in Jan-Mar 2024: a local date is 23:00 UTC the day before.
    # F2: the result (03-01) sorts before the send step (03-10); the outcome NIL comes from Create Fine
    assert con.execute(q, ["F2"]).fetchall() == [
        ("F2-0001", "2024-02-29 23:00", "decided", "prefecture", "specialist", "upheld", None),
        ("F2-0002", "2024-03-09 23:00", "assigned", "prefecture", "specialist", None, None),
        ("F2-0003", "2024-03-19 23:00", "message_to_user", "police", "specialist", None, None),
    ]
    # F4: Add penalty (skipped) does not become the judge row's previous state: reopen detected
    assert con.execute(q, ["F4"]).fetchall() == [
        ("F4-0001", "2024-01-24 23:00", "assigned", "prefecture", "specialist", None, None),
        ("F4-0002", "2024-02-09 23:00", "decided", "prefecture", "specialist", "upheld", None),
        ("F4-0003", "2024-02-14 23:00", "message_to_user", "police", "specialist", None, None),
        ("F4-0004", "2024-03-04 23:00", "reopened", "offender", "user", None, None),
        ("F4-0005", "2024-03-04 23:00", "escalated", "police", "specialist", None, "judge"),
    ]
    assert con.execute(q, ["F5"]).fetchall() == []  # created by its judge appeal; nothing else yet
    assert con.execute(q, ["F6"]).fetchall() == [
        ("F6-0001", "2024-02-11 23:00", "decided", "prefecture", "specialist", "Q", None)]
    enf = con.execute("select enforcement_id, action, policy, source, enforced_by, "
                      "strftime(enforced_at, '%Y-%m-%d %H:%M') from enforcements order by 1").fetchall()
    # one per fine (appealed or not), at its Create Fine date; policy combines article and vehicle class
    assert enf == [
        ("fine-F1", "traffic_fine", "art157/A", "human", "561", "2024-01-09 23:00"),
        ("fine-F2", "traffic_fine", "art7/A", "human", "537", "2024-01-04 23:00"),
        ("fine-F3", "traffic_fine", "art158/C", "human", "550", "2024-01-07 23:00"),
        ("fine-F4", "traffic_fine", "art7/A", "human", "561", "2024-01-02 23:00"),
        ("fine-F5", "traffic_fine", "art157/M", "human", "537", "2024-01-01 23:00"),
        ("fine-F6", "traffic_fine", "art7/A", "human", "550", "2024-01-03 23:00"),
    ]
    appeals = con.execute("select appeal_id, enforcement_id, queue, priority, market, "
                          "strftime(created_at, '%Y-%m-%d %H:%M') from appeals order by 1").fetchall()
    con.close()
    assert appeals == [
        ("F2", "fine-F2", "fine_appeals", "P3", "IT", "2024-01-31 23:00"),
        ("F3", "fine-F3", "fine_appeals", "P3", "IT", "2024-01-29 23:00"),
        ("F4", "fine-F4", "fine_appeals", "P3", "IT", "2024-01-19 23:00"),
        ("F5", "fine-F5", "fine_appeals", "P3", "IT", "2024-03-30 23:00"),  # 03-31 00:00 CET
        ("F6", "fine-F6", "fine_appeals", "P3", "IT", "2024-02-01 23:00"),
    ]


# facts derived by hand (as_of = the latest instant, F5's created_at 2024-03-30 23:00 UTC):
#   F2 created 01-31 23:00, decided 02-29 23:00 upheld: TTR = FTR = 29 days = 696 h
#   F3 created 01-29 23:00, decided 02-19 23:00 overturned: 21 days = 504 h
#   F4 created 01-19 23:00, decided 02-09 23:00 (FTR 504 h), reopened 03-04: open, owner = last assignee
#   F5 created 03-30 23:00, no event: open, no touch
#   F6 created 02-01 23:00, decided 02-11 23:00 with unknown outcome "Q": resolved, outcome null, 240 h
EXPECTED_FACTS = {
    "F2": ("resolved", "upheld", False, 0, False, 696.0, 696.0, "prefecture"),
    "F3": ("resolved", "overturned", True, 0, False, 504.0, 504.0, "prefecture"),
    "F4": ("open", None, None, 1, True, 504.0, None, "prefecture"),
    "F5": ("open", None, None, 0, False, None, None, None),
    "F6": ("resolved", None, None, 0, False, 240.0, 240.0, "prefecture"),
}
FACT_KEYS = ["status", "outcome", "is_overturned", "reopen_count", "escalated", "ftr_hours", "ttr_hours",
             "specialist_id"]


@pytest.mark.parametrize("way", ["yaml", "sql", "xes"])
def test_facts_by_hand(imported, way):
    _, url, _ = imported[way]
    facts = api.facts(url)
    got = {r["appeal_id"]: tuple(r[k] for k in FACT_KEYS) for r in facts.to_dicts()}
    assert got == EXPECTED_FACTS
    created = dict(zip(facts["appeal_id"], facts["created_at"], strict=True))
    assert created["F5"] == utc("2024-03-30 23:00")
    assert dict(zip(facts["appeal_id"], facts["policy"], strict=True))["F3"] == "art158/C"


def test_yaml_sql_and_xes_give_the_same_warehouse(imported):
    facts = {way: api.facts(url) for way, (_, url, _) in imported.items()}
    assert_frame_equal(facts["yaml"], facts["sql"])
    assert_frame_equal(facts["yaml"], facts["xes"])
    for table, order in (("appeals", "appeal_id"), ("appeal_events", "event_id"), ("enforcements", "enforcement_id"),
                         ("specialists", "specialist_id")):
        cols = {"appeals": "appeal_id, enforcement_id, queue, priority, market, created_at",
                "appeal_events": "event_id, appeal_id, occurred_at, event_type, actor_id, actor_type, outcome, "
                                 "escalation_target",
                "enforcements": "enforcement_id, action, policy, source, enforced_by, enforced_at",
                "specialists": "specialist_id"}[table]
        q = f"select {cols} from {table} order by {order}"
        base = _rows(imported["yaml"][2], q)
        assert base, table
        assert _rows(imported["sql"][2], q) == base, table
        assert _rows(imported["xes"][2], q) == base, table
    # the XES file carries the same 30 rows; its skip accounting is the CSV's
    assert imported["xes"][0].skipped == imported["yaml"][0].skipped


def test_appeal_rate_from_the_enforcements(imported):
    _, url, _ = imported["yaml"]
    rep = api.report(url, by=[], period="month", metrics=["appeal_rate"])
    by_month = {r["period_start"].isoformat(): (r["appeal_rate_numerator"], r["appeal_rate_denominator"])
                for r in rep.to_dicts()}
    # appeals by created_at month (UTC): Jan F3 F4 F2 (3), Feb F6 (1), Mar F5 (1);
    # fines by enforced_at month: all six in January
    assert by_month["2024-01-01"] == (3, 6)
    assert by_month["2024-02-01"][0] == 1 and by_month["2024-03-01"][0] == 1


def test_version_1_state_misses_the_reopen(tmp_path):
    # with `skipped_rows: set_state` (version 1), F4's skipped "Add penalty" row becomes the
    # judge row's previous state: the reopen rule (from decided/notified) no longer matches and
    # the judge row falls through to the creation rule - the reopen is missed
    m = yaml.safe_load(YAML_MAPPING.read_text())
    m["state"]["skipped_rows"] = "set_state"
    mapping = tmp_path / "v1.yml"
    mapping.write_text(yaml.safe_dump(m, sort_keys=False))
    import_log(write_csv(tmp_path / "f.csv"), mapping, tmp_path / "v1.duckdb")
    f4 = api.facts(f"duckdb:///{tmp_path / 'v1.duckdb'}").filter(pl.col("appeal_id") == "F4").row(0, named=True)
    assert (f4["status"], f4["reopen_count"], f4["escalated"]) == ("resolved", 0, False)


def test_unmatched_rows_above_the_threshold_fail_the_import(tmp_path):
    csv = write_csv(tmp_path / "f.csv")
    out = tmp_path / "wh.duckdb"
    with pytest.raises(UnmatchedRowsError) as info:
        import_log(csv, YAML_MAPPING, out, max_unmatched=0)
    msg = str(info.value)
    assert msg.startswith("--max-unmatched: 1 of 30 rows (3.3%) matched no rule, more than the 0 allowed")
    assert "activity 'Credit Collection Reminder'" in msg and "\n" not in msg
    assert not out.exists()
    # 1 row of 30 is 3.3%: a 3% share fails, 4% passes; the count 1 passes
    with pytest.raises(UnmatchedRowsError):
        import_log(csv, YAML_MAPPING, out, max_unmatched="3%")
    assert import_log(csv, YAML_MAPPING, out, max_unmatched="4%").unmatched_rows == 1
    assert import_log(csv, YAML_MAPPING, out, max_unmatched=1).unmatched_rows == 1
    # the mapping's own threshold applies when the caller gives none
    m = yaml.safe_load(YAML_MAPPING.read_text())
    m["max_unmatched"] = 0
    strict = tmp_path / "strict.yml"
    strict.write_text(yaml.safe_dump(m, sort_keys=False))
    with pytest.raises(UnmatchedRowsError, match=r"^mapping.max_unmatched: 1 of 30 rows"):
        import_log(csv, strict, tmp_path / "strict.duckdb")


def test_import_accounting_is_in_the_warehouse(imported):
    _, _, path = imported["yaml"]
    skips = _rows(path, "select reason, rows, example_case_ids, is_unmatched from import_skipped_rows order by reason")
    assert skips == [
        ("fine_process_step", 6, "F2, F3, F4, F5", False),
        ("no_matching_rule", 1, "F6", True),
        ("not_an_appeal", 2, "F1", False),
    ]
    runs = _rows(path, "select mapping, mapping_format, events_file, source_rows, used_rows, skipped_rows, "
                       "unmatched_rows, max_unmatched, appeals, unlisted_outcome_decisions, unlisted_outcome_values "
                       "from import_runs")
    assert runs == [("road_traffic_fines", "yaml", "fines.csv", 30, 21, 9, 1, "10%", 5, 1, "Q")]
    # the SQL mapping declares the rows of unappealed fines (F1's Send Fine and Payment)
    sql_skips = _rows(imported["sql"][2], "select reason, rows, example_case_ids from import_skipped_rows")
    assert sql_skips == [("not_an_appeal", 2, "F1")]
    assert imported["sql"][0].used_rows == 28


def test_check_shows_import_skips_and_appeals_without_events(imported):
    _, url, _ = imported["yaml"]
    proc = subprocess.run([sys.executable, "-m", "metrics", "check", "--warehouse", url],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = {ln.split("\t")[0]: ln.split("\t")[1:] for ln in proc.stdout.strip().splitlines()}
    assert lines["import_skipped:fine_process_step"] == ["6", "F2, F3, F4, F5"]
    assert lines["import_skipped:not_an_appeal"] == ["2", "F1"]
    assert lines["import_skipped:no_matching_rule"] == ["1", "F6"]
    assert lines["appeal_without_events"] == ["1", "F5"]
    assert lines["unknown_outcome"] == ["1", "F6-0001"]  # the unlisted "Q", passed through


def test_data_quality_page_shows_the_import(imported, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    _, url, _ = imported["yaml"]
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data_quality.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    # the import's accounting (derived in test_yaml_row_accounting)
    assert (shown["Source rows"], shown["Used"], shown["Skipped"], shown["Unmatched"]) == ("30", "21", "9", "1")
    table = at.dataframe[0].value
    counts = dict(zip(table["check"], table["count"], strict=True))
    assert counts["import_skipped:fine_process_step"] == 6 and counts["import_skipped:no_matching_rule"] == 1
    assert counts["appeal_without_events"] == 1
    assert any("matched no rule" in w.value for w in at.warning)
    st.cache_data.clear()
    st.cache_resource.clear()


def test_import_log_cli_reports_and_fails_above_the_threshold(tmp_path):
    csv = write_csv(tmp_path / "fines.csv")
    run = [sys.executable, "-m", "metrics", "import-log", "--events", str(csv), "--mapping", str(YAML_MAPPING)]
    ok = subprocess.run([*run, "--out", str(tmp_path / "ok.duckdb")], capture_output=True, text=True, cwd=REPO,
                        timeout=300)
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.splitlines()
    assert "unmatched_rows\t1\t(allowed 10%)" in lines
    assert "skipped:no_matching_rule\t1\tF6" in lines
    assert "unmatched\tactivity 'Credit Collection Reminder', from 'decided', state 'decided' (1 rows, e.g. case F6)" in lines
    assert "outcome_value_not_listed\tQ\t1" in lines
    bad = subprocess.run([*run, "--out", str(tmp_path / "bad.duckdb"), "--max-unmatched", "0"],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1
    assert bad.stderr.startswith("error: --max-unmatched: 1 of 30 rows (3.3%) matched no rule")
    assert not (tmp_path / "bad.duckdb").exists()
    typo = subprocess.run([*run, "--out", str(tmp_path / "t.duckdb"), "--max-unmatched", "ten"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert typo.returncode == 2 and "--max-unmatched: expected a row count" in typo.stderr
