"""Property-based (hypothesis): broken warehouses never crash the engine, every appeal is in
facts exactly once or counted by a check, and every planted anomaly is counted.

Tables are written as text, the way a CSV load leaves them, so that unreadable values can be
planted next to absurd ones. A fixed CI budget: a few examples, no deadline, derandomized (the
same examples on every run, so CI is reproducible)."""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import api
from metrics.warehouse import WarehouseError

GOOD = ["2026-03-02 09:00:00", "2026-03-02 17:30:00", "2026-03-03T08:15:00Z", "2026-03-09 12:00:00+01:00"]
UNREADABLE = ["31/12/2026 10:00", "yesterday", "2026-13-45 10:00", "nan"]
OUTSIDE = ["9999-12-31 00:00:00", "0001-01-01 00:00:00", "1900-06-01 12:00:00"]
TARGETS = ["4", "24", "0", "NaN", "inf", "-3", "1e300", "abc", None]
EVENT_TYPES = ["assigned", "claimed", "decided", "reopened", "withdrawn", "bogus"]

instant = st.one_of(st.sampled_from(GOOD), st.sampled_from(UNREADABLE), st.sampled_from(OUTSIDE), st.none())


@st.composite
def warehouses(draw):
    n = draw(st.integers(1, 5))
    appeals = [(f"a{i}", draw(st.sampled_from(["q1", "q2", None])), "P1", draw(instant)) for i in range(n)]
    events = [(f"e{j}", draw(st.sampled_from([a[0] for a in appeals] + ["ghost"])), draw(instant),
               draw(st.sampled_from(EVENT_TYPES)), draw(st.sampled_from(["s1", "s2"])), "specialist",
               draw(st.sampled_from(["upheld", "overturned", None])))
              for j in range(draw(st.integers(0, 8)))]
    policies = [(q, "P1", draw(st.sampled_from(TARGETS)), draw(st.sampled_from(TARGETS))) for q in ("q1", "*")]
    specialists = [("s1", draw(st.sampled_from(["Ana", "Bo"])), draw(st.sampled_from(["p1", "p2"])))
                   for _ in range(draw(st.integers(0, 3)))]
    return appeals, events, policies, specialists


def write(tmp: Path, tables) -> str:
    appeals, events, policies, specialists = tables
    path = tmp / "broken.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table appeals (appeal_id varchar, queue varchar, priority varchar, created_at varchar)")
    con.execute("create table appeal_events (event_id varchar, appeal_id varchar, occurred_at varchar, "
                "event_type varchar, actor_id varchar, actor_type varchar, outcome varchar)")
    con.execute("create table sla_policies (queue varchar, priority varchar, first_touch_target_hours varchar, "
                "resolution_target_hours varchar, clock varchar, schedule_id varchar)")
    con.execute("create table specialists (specialist_id varchar, display_name varchar, pod varchar)")
    con.executemany("insert into appeals values (?, ?, ?, ?)", appeals)
    if events:
        con.executemany("insert into appeal_events values (?, ?, ?, ?, ?, ?, ?)", events)
    con.executemany("insert into sla_policies values (?, ?, ?, ?, 'calendar', null)", policies)
    if specialists:
        con.executemany("insert into specialists values (?, ?, ?)", specialists)
    con.close()
    return f"duckdb:///{path}"


def planted(values, kind) -> int:
    return sum(1 for v in values if v in kind)


def unusable_target(v) -> bool:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return False  # unreadable text or null: not a number at all
    return math.isnan(x) or x < 0 or x > 87_600


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(warehouses())
def test_broken_warehouses_are_counted_not_crashed(tables):
    appeals, events, policies, _ = tables
    with tempfile.TemporaryDirectory() as tmp:
        url = write(Path(tmp), tables)
        readable_created = [a for a in appeals if a[3] in GOOD]
        readable_events = [e for e in events if e[2] in GOOD]
        unusable = [name for name, values in (("appeals.created_at", [a[3] for a in appeals]),
                                               ("appeal_events.occurred_at", [e[2] for e in events]))
                    if any(v is not None for v in values) and all(v in UNREADABLE for v in values if v is not None)]
        if unusable:  # not one readable value: the column is unusable, one line naming it
            with pytest.raises(WarehouseError, match=f"^{unusable[0]}: required column cannot be read"):
                api.facts(url)
            return
        if not readable_created and not readable_events:
            with pytest.raises(WarehouseError, match="no as-of time"):
                api.facts(url)
            return
        as_of = api.resolve_as_of(url, None)
        assert datetime(2026, 3, 1, tzinfo=UTC) < as_of < datetime(2026, 3, 10, tzinfo=UTC)  # never 9999 or 0001

        facts = api.facts(url)
        checks = {c.name: c.count for c in api.check(url)}
        api.report(url, by="queue", period="day")  # no crash on any grain of the data

        # every appeal exactly once in facts, or counted as left out (ids are unique here)
        ids = facts["appeal_id"].to_list()
        assert len(ids) == len(set(ids))
        complete = {a[0] for a in appeals if a[1] is not None and a[3] in GOOD}
        assert set(ids) == complete
        assert len(ids) + checks.get("appeal_missing_required_value", 0) == len(appeals)

        # every planted anomaly counted, by its own check
        created = [a[3] for a in appeals]
        occurred = [e[2] for e in events]
        assert checks.get("unreadable_value", 0) == (planted(created, UNREADABLE) + planted(occurred, UNREADABLE)
                                                     + sum(1 for p in policies for v in p[2:] if v == "abc"))
        assert checks.get("timestamp_outside_window", 0) == planted(created, OUTSIDE) + planted(occurred, OUTSIDE)
        assert checks.get("sla_target_unusable", 0) == sum(unusable_target(v) for p in policies for v in p[2:])
