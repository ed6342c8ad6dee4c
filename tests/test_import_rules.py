"""Each mapping rule on a hand-built log (expected values derived beside them), the SQL
mapping's validation, the XES reader, the import's checks, and XES on a shared real log."""

from __future__ import annotations

import gzip
import textwrap
from pathlib import Path
from xml.sax.saxutils import quoteattr

import polars as pl
import pytest
import yaml

from metrics import api
from metrics.importlog import EventsFileError, MappingError, import_log, read_events
from tests.helpers import make_warehouse

REPO = Path(__file__).resolve().parents[1]
REALDATA = next(
    (p / "shared" / "realdata" for p in REPO.parents[:2] if (p / "shared" / "realdata").exists()),
    REPO.parent / "shared" / "realdata",
)


def _events(url: str, appeal_id: str) -> list[tuple]:
    wh = api.open_warehouse(url)
    rows = wh.query(
        "select event_id, strftime(occurred_at at time zone 'UTC', '%H:%M'), event_type, actor_id, actor_type, "
        "outcome, escalation_target from appeal_events where appeal_id = :a order by event_id", {"a": appeal_id})
    return rows.rows()


# --------------------------------------------------------------------------------------------
# an incident-style state log: support lines, requeues, reopens
# --------------------------------------------------------------------------------------------

INCIDENTS = textwrap.dedent("""\
    case,ts,status,line,who,bot,kind,resolution
    C1,2024-05-06 08:00,Queued,1st,alice,,appeal,
    C1,2024-05-06 09:00,Accepted,1st,alice,,appeal,
    C1,2024-05-06 10:00,Completed,1st,alice,,appeal,fixed
    C1,2024-05-06 11:00,Queued,1st,alice,,appeal,
    C1,2024-05-06 12:00,Accepted,1st,alice,,appeal,
    C1,2024-05-06 12:30,Accepted,1st,alice,,appeal,
    C2,2024-05-06 08:00,Queued,1st,bob,,appeal-l2,
    C2,2024-05-06 08:30,Accepted,1st,bob,,appeal-l2,
    C2,2024-05-06 09:00,Accepted,2nd level,carol,,appeal-l2,
    C2,2024-05-06 09:30,Accepted,3rd level,dave,,appeal-l2,
    C2,2024-05-06 10:00,Accepted,,,auto,appeal-l2,
    C2,2024-05-06 11:00,Completed,3rd level,dave,,appeal-l2,duplicate
    C3,2024-05-06 08:00,Queued,1st,erin,,question,
    C3,2024-05-06 09:00,Accepted,1st,erin,,question,
    """)

INCIDENT_MAPPING = {
    "version": 2,
    "case_id": "case",
    "timestamp": {"column": "ts"},
    "derive": {"actor_or_bot": {"coalesce": ["who", "bot"]}},
    "appeals": {"any_row": {"where": {"kind": ["appeal", "appeal-*"]}}},
    "actor": {"column": "actor_or_bot"},
    "state": {"column": "status"},
    "attributes": {"queue": {"value": "support"}, "priority": {"value": "P2"}},
    "rules": [
        {"first_row": True, "to": "Queued", "created": True},
        {"changed": False, "to": {"not": "Completed"}, "where": {"line": ["2nd*", "3rd*"]},
         "events": [{"type": "escalated", "escalation_target": {"column": "line"}}]},
        {"changed": False, "where": {"line": None}, "skip": "no_line"},
        {"changed": False, "skip": "no_state_change"},
        {"to": "Queued", "skip": "requeued"},
        {"from": "Completed", "to": "Accepted",
         "events": ["reopened", {"type": "claimed", "actor": {"template": "{who}@{line}"}}]},
        {"to": "Accepted", "events": ["claimed"]},
        {"to": "Completed", "events": [{"type": "decided", "outcome_from": {
            "column": "resolution", "values": {"fixed": "overturned", "no fault": "upheld"}, "default": None}}]},
    ],
}


def _import(tmp_path, mapping: dict, text: str = INCIDENTS, name: str = "wh", **kw):
    events = tmp_path / f"{name}.csv"
    events.write_text(text, encoding="utf-8")
    mp = tmp_path / f"{name}.yml"
    mp.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    out = tmp_path / f"{name}.duckdb"
    return import_log(events, mp, out, **kw), f"duckdb:///{out}"


def test_reopen_detected_across_a_skipped_row(tmp_path):
    result, url = _import(tmp_path, INCIDENT_MAPPING)
    # C1: Queued (created) -> Accepted (claimed) -> Completed (decided, "fixed" = overturned)
    #     -> Queued (skip requeued: the state stays Completed) -> Accepted: from Completed = reopen
    #     -> Accepted again: unchanged against the carried state -> no_state_change
    assert _events(url, "C1") == [
        ("C1-0001", "09:00", "claimed", "alice", "specialist", None, None),
        ("C1-0002", "10:00", "decided", "alice", "specialist", "overturned", None),
        ("C1-0003", "12:00", "reopened", "alice", "specialist", None, None),
        ("C1-0004", "12:00", "claimed", "alice@1st", "specialist", None, None),  # template actor
    ]
    # C2: escalations between support lines, seen through `where` wildcards on the line column
    #     (the state does not change); a row without a line is skipped; the decision's
    #     "duplicate" is not listed and `default: null` drops it (counted)
    assert _events(url, "C2") == [
        ("C2-0001", "08:30", "claimed", "bob", "specialist", None, None),
        ("C2-0002", "09:00", "escalated", "carol", "specialist", None, "2nd level"),
        ("C2-0003", "09:30", "escalated", "dave", "specialist", None, "3rd level"),
        ("C2-0004", "11:00", "decided", "dave", "specialist", None, None),
    ]
    # C3 is a question, not an appeal (kind matches neither "appeal" nor "appeal-*")
    assert result.cases == 2
    # 14 rows: used C1 rows 1,2,3,5 + C2 rows 1,2,3,4,6 = 9; skipped 5
    assert result.skipped == {"not_an_appeal": 2, "requeued": 1, "no_state_change": 1, "no_line": 1}
    assert result.used_rows == 9
    assert result.unlisted_outcomes == {"duplicate": 1}


def test_version_1_state_misses_that_reopen(tmp_path):
    m = {**INCIDENT_MAPPING, "version": 1}  # skipped rows set the state (the old behaviour)
    result, url = _import(tmp_path, m)
    # C1 row 5's `from` is the skipped Queued row, so the reopen rule does not match: claimed
    assert [e[2] for e in _events(url, "C1")] == ["claimed", "decided", "claimed"]
    assert result.used_rows == 9


def test_the_bot_actor_comes_from_the_derived_coalesce(tmp_path):
    m = {**INCIDENT_MAPPING, "rules": [{"where": {"who": None}, "events": ["internal_note"]},
                                       *INCIDENT_MAPPING["rules"]]}
    result, url = _import(tmp_path, m)
    # C2 10:00 has no `who`: coalesce(who, bot) = "auto"
    notes = [e for e in _events(url, "C2") if e[2] == "internal_note"]
    assert notes == [("C2-0004", "10:00", "internal_note", "auto", "specialist", None, None)]
    assert result.skipped.get("no_line") is None


# --------------------------------------------------------------------------------------------
# outcome_from: which rows it reads; unlisted values
# --------------------------------------------------------------------------------------------

VERDICTS = textwrap.dedent("""\
    case,ts,step,code
    D1,2024-01-02 09:00,submit,
    D1,2024-01-02 10:00,verdict_known,reversed
    D1,2024-01-02 11:00,decide,
    D1,2024-01-02 12:00,amend,kept
    D2,2024-01-02 09:00,submit,
    D2,2024-01-02 11:00,decide,confirmed
    """)


@pytest.mark.parametrize(("rows", "d1", "d2"), [
    ("this_row", None, "confirmed"),  # D1's decide row has no code; D2's unlisted code passes through
    ("earlier_rows", "overturned", "confirmed"),  # D1: "reversed" from the 10:00 row
    ("case", "upheld", "confirmed"),  # D1: the case's last code, "kept" (12:00)
])
def test_outcome_from_rows(tmp_path, rows, d1, d2):
    m = {
        "case_id": "case", "timestamp": "ts", "activity": "step", "created_at": "created_rule",
        "rules": [
            {"activity": "submit", "created": True},
            {"activity": ["verdict_known", "amend"], "skip": "verdict_recorded"},
            {"activity": "decide", "events": [{"type": "decided", "outcome_from": {
                "column": "code", "rows": rows, "values": {"reversed": "overturned", "kept": "upheld"}}}]},
        ],
    }
    result, url = _import(tmp_path, m, VERDICTS)
    assert _events(url, "D1")[0][5] == d1
    assert _events(url, "D2")[0][5] == d2
    assert result.unlisted_outcomes == {"confirmed": 1}
    # the unlisted value reaches the warehouse, where the unknown_outcome check counts it
    found = {c.name: c for c in api.check(url)}
    assert (found["unknown_outcome"].count, found["unknown_outcome"].examples) == (1, ["D2-0001"])


def test_created_rule_without_a_creation_row(tmp_path):
    text = VERDICTS + "D3,2024-01-03 09:00,decide,kept\n"
    m = {
        "case_id": "case", "timestamp": "ts", "activity": "step", "created_at": "created_rule",
        "rules": [{"activity": "submit", "created": True}, {"activity": "*", "skip": "other"}],
    }
    result, url = _import(tmp_path, m, text)
    # D3 has no submit row: it is no appeal, its one row counted as no_created_at
    assert result.cases == 2 and result.skipped["no_created_at"] == 1
    created = api.open_warehouse(url).query(
        "select appeal_id, strftime(created_at at time zone 'UTC', '%H:%M') from appeals order by 1").rows()
    assert created == [("D1", "09:00"), ("D2", "09:00")]  # the submit rows, not the first event


# --------------------------------------------------------------------------------------------
# bad YAML: one line naming the key
# --------------------------------------------------------------------------------------------


def _set(path, value):
    def apply(m):
        t = m
        for k in path[:-1]:
            t = t[k]
        t[path[-1]] = value
    return apply


@pytest.mark.parametrize(("mutate", "expected"), [
    (_set(["appeals"], {"any_rows": {"where": {"kind": "x"}}}), "mapping.appeals: unknown key 'any_rows'"),
    (_set(["appeals", "any_row", "where"], {"kindx": "x"}),
     "mapping.appeals.any_row.where.kindx: column 'kindx' not in events file"),
    (_set(["rules", 1, "where"], {"line": {"nott": "x"}}), "mapping.rules[1].where.line: unknown key 'nott'"),
    (_set(["rules", 1, "where"], {"lane": "x"}), "mapping.rules[1].where.lane: column 'lane' not in events file"),
    (_set(["state", "skipped_rows"], "forget"),
     "mapping.state.skipped_rows: expected one of set_state, keep_state, got 'forget'"),
    (lambda m: (_set(["created_at"], "created_rule")(m), _set(["rules", 0], {"first_row": True, "skip": "x"})(m)),
     "mapping.created_at: 'created_rule' needs a rule with 'created: true'"),
    (_set(["derive"], {"who": "{line}"}), "mapping.derive.who: column 'who' is already in the events file"),
    (_set(["derive"], {"x": {"coalesce": ["who"]}}), "mapping.derive.x.coalesce: name two or more columns"),
    (_set(["derive"], {"x": "{nope}"}), "mapping.derive.x: column 'nope' not in events file"),
    (_set(["rules", 7, "events", 0, "outcome_from", "rows"], "previous"),
     "mapping.rules[7].events[0].outcome_from.rows: expected one of this_row, earlier_rows, case"),
    (_set(["max_unmatched"], "ten"), "mapping.max_unmatched: expected a row count (e.g. 0) or a share"),
    (_set(["enforcements"], {"action": {"value": "a"}}), "mapping.enforcements: needs 'when'"),
    (_set(["enforcements"], {"when": {"where": {"kind": "x"}}, "action": {"value": "a"}, "policy": {"value": "p"},
                             "source": {"value": "robot"}}),
     "mapping.enforcements.source: 'robot' is not one of automated, human"),
    (_set(["enforcements"], {"when": {"where": {"kind": "x"}}, "action": {"value": "a"}, "source": {"value": "human"}}),
     "mapping.enforcements.policy: is required"),
    (_set(["version"], 3), "mapping.version: unsupported version 3"),
    (_set(["rules", 6, "events"], [{"type": "claimed", "actor": {"value": "x", "column": "who"}}]),
     "mapping.rules[6].events[0].actor: give exactly one of"),
])
def test_bad_mapping_names_the_key(tmp_path, mutate, expected):
    m = yaml.safe_load(yaml.safe_dump(INCIDENT_MAPPING))
    mutate(m)
    with pytest.raises(MappingError) as info:
        _import(tmp_path, m)
    assert expected in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "wh.duckdb").exists()


# --------------------------------------------------------------------------------------------
# the SQL mapping: validated against the contract, one line naming table.column
# --------------------------------------------------------------------------------------------

TINY = textwrap.dedent("""\
    case,ts,who
    A1,2024-01-15 09:00,s1
    A1,2024-07-01 09:00,s1
    A2,2024-01-16 10:00,s2
    """)
APPEALS_SQL = ("select \"case\" as appeal_id, 'q' as queue, 'P1' as priority, min(cast(ts as timestamp)) as created_at "
               "from events group by 1")
EVENTS_SQL = ("select \"case\" || '-' || source_row as event_id, \"case\" as appeal_id, cast(ts as timestamp) as "
              "occurred_at, 'claimed' as event_type, who as actor_id, 'specialist' as actor_type from events")


def _sql_import(tmp_path, text: str) -> tuple:
    events = tmp_path / "tiny.csv"
    events.write_text(TINY)
    mapping = tmp_path / "tiny.sql"
    mapping.write_text(text)
    out = tmp_path / "tiny.duckdb"
    return import_log(events, mapping, out), f"duckdb:///{out}", out


def _sql(appeals=APPEALS_SQL, events=EVENTS_SQL, head="-- timezone: America/New_York"):
    return f"{head}\n-- table: appeals\n{appeals};\n\n-- table: appeal_events\n{events}\n"


def test_sql_mapping_reads_naive_times_in_its_zone(tmp_path):
    result, url, _ = _sql_import(tmp_path, _sql())
    assert result.cases == 2 and result.mapping_format == "sql" and result.used_rows == 3
    # New York: 09:00 EST (UTC-5) in January = 14:00Z; 09:00 EDT (UTC-4) in July = 13:00Z
    rows = api.open_warehouse(url).query(
        "select event_id, strftime(occurred_at at time zone 'UTC', '%m-%d %H:%M') from appeal_events order by 1").rows()
    assert rows == [("A1-0", "01-15 14:00"), ("A1-1", "07-01 13:00"), ("A2-2", "01-16 15:00")]


@pytest.mark.parametrize(("text", "expected"), [
    (_sql(head="-- timezone: Mars/Base"), "mapping.sql line 1: unknown time zone 'Mars/Base'"),
    (_sql().replace("-- table: appeals", "-- table: appeal"), "mapping.sql line 2: 'appeal' is not a contract table"),
    (_sql().replace("-- table: appeal_events", "-- table: appeals"), "table 'appeals' has two sections"),
    ("-- table: appeals\n" + APPEALS_SQL, "mapping.sql: required table 'appeal_events' has no section"),
    (_sql(appeals="selec 1"), "appeals: the select fails: Parser Error"),
    (_sql(appeals=APPEALS_SQL.replace(", 'P1' as priority", "")), "appeals.priority: required column missing"),
    (_sql(appeals=APPEALS_SQL.replace("'P1' as priority", "'P1' as priority, 'x' as prio")),
     "appeals.prio: not a column of appeals"),
    (_sql(appeals=APPEALS_SQL.replace("min(cast(ts as timestamp))", "min(ts)")),
     "appeals.created_at: the select gives VARCHAR, expected timestamptz (cast it)"),
    (_sql(appeals=APPEALS_SQL.replace("'q' as queue", "case when \"case\" = 'A2' then null else 'q' end as queue")),
     "appeals.queue: 1 rows are null (e.g. appeal_id 'A2')"),
    (_sql(events=EVENTS_SQL.replace("'claimed'", "'claim'")),
     "appeal_events.event_type: 3 rows hold a value outside the contract (e.g. 'claim'"),
    (_sql(events=EVENTS_SQL.replace("\"case\" || '-' || source_row", "'x'")),
     "appeal_events.event_id: 1 ids appear more than once (e.g. 'x')"),
    (_sql(events=EVENTS_SQL.replace("\"case\" as appeal_id", "'ghost' as appeal_id")),
     "appeal_events.appeal_id: 3 events name an appeal not in appeals (e.g. 'ghost')"),
    (_sql(events=EVENTS_SQL.replace("'specialist' as actor_type", "'specialist' as actor_type, 1 as points")),
     "appeal_events.points: not a column of appeal_events"),
])
def test_bad_sql_mapping_is_one_line_naming_the_column(tmp_path, text, expected):
    with pytest.raises(MappingError) as info:
        _sql_import(tmp_path, text)
    assert expected in str(info.value), str(info.value)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "tiny.duckdb").exists()


# --------------------------------------------------------------------------------------------
# XES reading; the checks an import needs
# --------------------------------------------------------------------------------------------


def test_xes_reader(tmp_path):
    xes = tmp_path / "log.xes"
    xes.write_text(textwrap.dedent("""\
        <?xml version="1.0" encoding="UTF-8"?>
        <log xmlns="http://www.xes-standard.org/">
          <string key="concept:name" value="the log"/>
          <trace>
            <string key="concept:name" value="T1"/>
            <event><string key="concept:name" value="open"/><date key="time:timestamp" value="2024-01-02T09:00:00.000+01:00"/>
              <list key="tags"><string key="tag" value="not a column"/></list></event>
            <event><string key="concept:name" value="close"/><int key="n" value="3"/></event>
          </trace>
          <trace><string key="concept:name" value="T2"/><event><boolean key="flag" value="true"/></event></trace>
        </log>
        """))
    df = read_events(xes)
    # trace attributes become case:<key> on each event; values are text; file order is kept;
    # a list attribute has no value of its own and its children are not columns
    assert df.columns == ["case:concept:name", "concept:name", "time:timestamp", "n", "flag"]
    assert df.rows() == [
        ("T1", "open", "2024-01-02T09:00:00.000+01:00", None, None),
        ("T1", "close", None, "3", None),
        ("T2", None, None, None, "true"),
    ]
    bad = tmp_path / "bad.xes.gz"
    with gzip.open(bad, "wt") as fh:
        fh.write("<log><trace><event>")
    with pytest.raises(EventsFileError, match=r"^cannot read events file .*bad.xes.gz: not well-formed XES"):
        read_events(bad)
    with pytest.raises(EventsFileError, match=r"unsupported extension '.json'"):
        other = tmp_path / "x.json"
        other.write_text("{}")
        read_events(other)


def test_check_flags_an_empty_required_table_and_appeals_without_events(tmp_path):
    url = make_warehouse(tmp_path, {
        "appeals": [{"appeal_id": "A1", "queue": "q", "priority": "P1", "created_at": "2026-03-02 09:00"}],
        "appeal_events": [],
    })
    found = {c.name: (c.count, c.examples) for c in api.check(url)}
    assert found["required_table_empty"] == (1, ["appeal_events"])
    assert found["appeal_without_events"] == (1, ["A1"])
    assert not any(name.startswith("import_skipped:") for name in found)  # not an imported warehouse
    assert api.import_summary(url) is None


# --------------------------------------------------------------------------------------------
# a shared real log, as XES
# --------------------------------------------------------------------------------------------


def test_helpdesk_log_as_xes_imports_like_its_parquet(tmp_path):
    src = REALDATA / "helpdesk_tickets" / "events.parquet"
    if not src.exists():
        pytest.skip(f"real help-desk log not found at {src} (../shared/realdata beside the checkout)")
    raw = pl.read_parquet(src).with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S"))
    text = raw.with_columns(pl.all().cast(pl.String))
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">']
    for (case,), group in text.group_by("Case ID", maintain_order=True):
        out.append(f'<trace><string key="concept:name" value={quoteattr(case)}/>')
        for row in group.drop("Case ID").iter_rows(named=True):
            attrs = "".join(f'<string key={quoteattr(k)} value={quoteattr(v)}/>' for k, v in row.items() if v is not None)
            out.append(f"<event>{attrs}</event>")
        out.append("</trace>")
    out.append("</log>")
    xes = tmp_path / "helpdesk.xes.gz"
    with gzip.open(xes, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(out))
    m = yaml.safe_load((REPO / "mappings" / "helpdesk_tickets.yml").read_text())
    m["case_id"] = "case:concept:name"
    mapping = tmp_path / "helpdesk_xes.yml"
    mapping.write_text(yaml.safe_dump(m, sort_keys=False))
    from_xes = import_log(xes, mapping, tmp_path / "xes.duckdb")
    from_parquet = import_log(src, REPO / "mappings" / "helpdesk_tickets.yml", tmp_path / "pq.duckdb")
    # the pinned numbers of test_import_log.py, through the XES file
    assert from_xes.cases == from_parquet.cases == 4_580
    assert from_xes.skipped == from_parquet.skipped and from_xes.used_rows == 16_512
    q = "select * exclude (occurred_at), epoch(occurred_at) from appeal_events order by event_id"
    a = api.open_warehouse(f"duckdb:///{tmp_path / 'xes.duckdb'}").query(q)
    b = api.open_warehouse(f"duckdb:///{tmp_path / 'pq.duckdb'}").query(q)
    assert a.height == 22_175 and a.equals(b)


def test_servicenow_import_skips_and_event_less_appeal_reach_check(tmp_path):
    src = REALDATA / "servicenow_incidents" / "events.parquet"
    if not src.exists():
        pytest.skip(f"real ServiceNow log not found at {src} (../shared/realdata beside the checkout)")
    out = tmp_path / "sn.duckdb"
    result = import_log(src, REPO / "mappings" / "servicenow_incidents.yml", out)
    found = {c.name: (c.count, c.examples) for c in api.check(f"duckdb:///{out}")}
    # every skip reason of the import (pinned in test_import_log.py) is a check line
    assert {k.removeprefix("import_skipped:"): v[0] for k, v in found.items()
            if k.startswith("import_skipped:")} == result.skipped
    assert found["import_skipped:unknown_state"][0] == 1
    # INC0029233 has only its creation row (opened at the end of the extract)
    assert found["appeal_without_events"] == (1, ["INC0029233"])
    assert "required_table_empty" not in found
    summary = api.import_summary(f"duckdb:///{out}")
    assert (summary["source_rows"], summary["used_rows"], summary["unmatched_rows"]) == (119_998, 55_854, 0)


@pytest.mark.parametrize(("log", "mapping", "sets_state"), [
    ("servicenow_incidents", "servicenow_incidents", ("escalation_returned", "closure_after_resolution",
                                                      "unknown_state")),
    ("helpdesk_tickets", "helpdesk_tickets", ("closure_after_resolution",)),
])
def test_version_2_with_state_setting_skips_reproduces_the_shipped_numbers(tmp_path, log, mapping, sets_state):
    # The shipped mappings are version 1 (every row sets the state). Written as version 2, the
    # skips that stand for a real transition (a return from a vendor wait, a closure, the -100
    # state) say `sets_state: true`; the other skips (no change, repeats) keep the state -
    # and the import is the same, event for event.
    from metrics.importlog.yaml_mapping import build_tables, load_mapping, parse_mapping

    src = REALDATA / log / "events.parquet"
    if not src.exists():
        pytest.skip(f"real log not found at {src} (../shared/realdata beside the checkout)")
    raw = pl.read_parquet(src)
    v1_tables, v1 = build_tables(raw, load_mapping(REPO / "mappings" / f"{mapping}.yml"))
    m = yaml.safe_load((REPO / "mappings" / f"{mapping}.yml").read_text())
    m["version"] = 2
    for rule in m["rules"]:
        if rule.get("skip") in sets_state:
            rule["sets_state"] = True
    v2_tables, v2 = build_tables(raw, parse_mapping(m, mapping))
    assert v2.skipped == v1.skipped and v2.used_rows == v1.used_rows
    assert v2_tables["appeal_events"].equals(v1_tables["appeal_events"])


def test_sets_state_belongs_on_a_skip_rule(tmp_path):
    m = yaml.safe_load(yaml.safe_dump(INCIDENT_MAPPING))
    m["rules"][6]["sets_state"] = True
    with pytest.raises(MappingError, match=r"^mapping.rules\[6\].sets_state: belongs on a 'skip' rule"):
        _import(tmp_path, m)


def test_helpdesk_sql_mapping_gives_the_yaml_import(tmp_path):
    # mappings/helpdesk_tickets.sql says in SQL what helpdesk_tickets.yml says in rules
    src = REALDATA / "helpdesk_tickets" / "events.parquet"
    if not src.exists():
        pytest.skip(f"real help-desk log not found at {src} (../shared/realdata beside the checkout)")
    by_yaml = import_log(src, REPO / "mappings" / "helpdesk_tickets.yml", tmp_path / "yaml.duckdb")
    by_sql = import_log(src, REPO / "mappings" / "helpdesk_tickets.sql", tmp_path / "sql.duckdb")
    assert by_sql.skipped == by_yaml.skipped  # the pinned reasons of test_import_log.py
    assert (by_sql.cases, by_sql.used_rows, by_sql.tables["appeal_events"]) == (4_580, 16_512, 22_175)
    urls = [f"duckdb:///{tmp_path / 'yaml.duckdb'}", f"duckdb:///{tmp_path / 'sql.duckdb'}"]
    for q in ("select * from appeals order by appeal_id",
              # the SQL names the columns the log has (no outcome, no root cause: the YAML leaves them null)
              "select event_id, appeal_id, epoch(occurred_at), event_type, actor_id, actor_type, escalation_target, "
              "note from appeal_events order by event_id",
              "select specialist_id from specialists order by 1"):
        a, b = (api.open_warehouse(u).query(q) for u in urls)
        assert a.equals(b), q
    a, b = (api.facts(u) for u in urls)
    assert a.equals(b) and a.height == 4_580
