"""Backlog by owner recomputed straight from metrics.md on random nasty warehouses, without
status_spans: for every period end E (days in a DST zone), each appeal created before E is
evaluated from its own events before E — ordered by (occurred_at, event_id), status from the
last decided / reopened / withdrawn, owner of an open appeal = actor of the last `assigned`
(null when none), site from `specialists` — and counted under (owner, site); breached when
its resolution deadline is before the earlier of E and as_of. The report must match cell
for cell (issue 15). Inputs are the cleaned event rows (events_effective) and facts, so the
staging rules are not re-implemented here.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics import api
from tests.helpers import make_warehouse
from tests.randomwh import random_as_of, random_tables

TZ = "America/New_York"


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def expected_backlog(url: str, as_of: datetime, tables: dict) -> dict[tuple, tuple[int, int]]:
    wh = api.open_warehouse(url)
    params = {"as_of": api.as_of_param(as_of)}
    events = wh.query(wh.compose(None, "select appeal_id, event_id, occurred_at, effective_at, event_type, actor_id "
                                       "from events_effective", params), params)
    facts = api.facts(wh, as_of=as_of, wide=True)
    site_of = {s["specialist_id"]: s["site"] for s in tables.get("specialists", [])}
    by_appeal: dict[str, list[dict]] = {}
    for e in events.to_dicts():
        by_appeal.setdefault(e["appeal_id"], []).append(e)
    for evs in by_appeal.values():
        evs.sort(key=lambda e: (_utc(e["occurred_at"]), e["event_id"]))  # str order = code points
    zone = ZoneInfo(TZ)
    first = min(_utc(c) for c in facts["created_at"].to_list()).astimezone(zone).date()
    last = as_of.astimezone(zone).date()
    out: Counter = Counter()
    day = first
    while day <= last:
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        for f in facts.to_dicts():
            if not _utc(f["created_at"]) < end:
                continue
            before = [e for e in by_appeal.get(f["appeal_id"], []) if _utc(e["effective_at"]) < end]
            statuses = [e["event_type"] for e in before if e["event_type"] in ("decided", "reopened", "withdrawn")]
            if statuses and statuses[-1] != "reopened":
                continue  # resolved or withdrawn at E
            assigned = [e["actor_id"] for e in before if e["event_type"] == "assigned"]
            owner = assigned[-1] if assigned else None
            deadline = _utc(f["ttr_deadline_at"])
            breached = deadline is not None and deadline < min(end, as_of)
            key = (day, owner, site_of.get(owner))
            out[(key, "open")] += 1
            out[(key, "breached")] += int(breached)
        day += timedelta(days=1)
    return {k: (n, out[(k, "breached")]) for (k, kind), n in out.items() if kind == "open"}


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 7])
def test_backlog_by_owner_matches_the_lifecycle_at_each_period_end(tmp_path, seed):
    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    as_of = api.resolve_as_of(url, random_as_of(seed, tables))
    expected = expected_backlog(url, as_of, tables)
    assert len({k[1] for k in expected}) >= 3  # several owners (and null) really occur
    for engine in ("sql", "polars"):
        rep = api.report(url, by=["specialist_id", "site"], period="day", tz=TZ, as_of=as_of,
                         metrics=["backlog_open", "backlog_breached"], engine=engine)
        got = {(r["period_start"], r["specialist_id"], r["site"]): (r["backlog_open"], r["backlog_breached"])
               for r in rep.to_dicts()}
        assert got == expected, engine
