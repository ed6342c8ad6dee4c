"""The SQL backlog counts each open stretch from the steps where it starts and stops counting
(engine_sql._backlog_steps); the drill-down lists the same stretches row by row, one per
period end (engine_sql.BACKLOG_FROM). Both must give the same counts, at every period end,
in any zone: stretches that open, close or pass their deadline exactly at a period end, zones
whose midnight is skipped by daylight saving time (America/Santiago, America/Havana), a zone
off the hour (Asia/Kathmandu), owner-following keys and filters, and a range inside the history.

The random warehouses put appeals on the half hour from a UTC midnight and events on the
quarter hour, so many instants fall exactly on a period end in these zones.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import api, engine_sql
from tests.helpers import make_warehouse
from tests.randomwh import random_as_of, random_tables

BACKLOG = ["backlog_open", "backlog_breached"]
CASES = [
    ([], "day", "America/Santiago", {}),
    (["specialist_id"], "week", "Asia/Kathmandu", {}),
    (["queue", "pod"], "day", "America/Havana", {"priority": ["P0", "P1"]}),
    (["site"], "month", "UTC", {"specialist_id": ["s1", "s2", "s3"]}),
    (["priority"], "day", "Pacific/Chatham", {"queue": ["q_a", "q_c"]}),
    (["team_lead", "queue"], "week", "Europe/Dublin", {}),
]


def _row_by_row(monkeypatch) -> None:
    monkeypatch.setattr(engine_sql, "_backlog_intervals", lambda plan: None)


@pytest.mark.parametrize("seed", range(12))
def test_backlog_steps_count_what_the_rows_list(tmp_path, monkeypatch, seed):
    tables = random_tables(seed, n_appeals=90)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(seed, tables)
    by, period, tz, filters = CASES[seed % len(CASES)]
    kwargs = dict(by=by, period=period, tz=tz, as_of=as_of, metrics=BACKLOG, filters=filters, engine="sql")
    if seed % 3 == 2:  # a range inside the history: stretches opened before it count at its first end
        first = api.facts(url)["created_at"].min()
        kwargs["date_from"] = (first + (api.facts(url)["created_at"].max() - first) / 3).date().isoformat()
    steps = api.report(url, **kwargs)
    with monkeypatch.context() as m:
        _row_by_row(m)
        rows = api.report(url, **kwargs)
    assert rows.height > 0 and rows["backlog_open"].sum() > 0
    assert_frame_equal(steps, rows)


def test_a_stretch_counts_from_the_end_after_it_opens_to_the_last_end_it_reaches(tmp_path, monkeypatch):
    """Hand-derived, day grain, UTC, as_of 2026-03-05 12:00. Period ends are the midnights
    2026-03-02 00:00 (end of 03-01), 03-03, 03-04, 03-05 and 03-06 (the running day).

    - A: created 03-01 00:00 exactly, decided 03-03 00:00 exactly. Open at the ends E with
      03-01 00:00 < E <= 03-03 00:00: the ends of 03-01 and 03-02. P0 (every appeal here):
      resolution deadline 24 h after creation, 03-02 00:00 exactly: not before the end of 03-01
      (equal), so breached only at the end of 03-02.
    - B: created 03-01 12:00, still open; deadline 03-02 12:00.
      Open at every end from 03-01's; breached where the deadline is before E and before
      as_of: the ends of 03-02 (03-03 00:00), 03-03, 03-04 and 03-05 (03-06 00:00 is after
      as_of, but the deadline is before as_of).
    - C: created 03-02 00:00 exactly, decided 03-04 00:00 exactly; deadline 03-03 00:00
      exactly: not before the end of 03-02 (equal), so breached only at the end of 03-03.

    backlog_open by day: 03-01: A, B = 2; 03-02: A, B, C = 3; 03-03: B, C = 2; 03-04: B = 1;
    03-05: B = 1. backlog_breached: 03-01: 0; 03-02: A, B = 2; 03-03: B, C = 2; 03-04: B = 1; 03-05: B = 1.
    """
    appeals = [
        {"appeal_id": a, "enforcement_id": None, "queue": "q", "priority": "P0", "market": "US", "channel": "in_app",
         "language": "en", "created_at": t}
        for a, t in (("A", "2026-03-01T00:00:00+00:00"), ("B", "2026-03-01T12:00:00+00:00"),
                     ("C", "2026-03-02T00:00:00+00:00"))
    ]
    events = [
        {"event_id": f"{a}-d", "appeal_id": a, "occurred_at": t, "event_type": "decided", "actor_id": "s1",
         "actor_type": "specialist", "outcome": "upheld", "root_cause": None, "note": None}
        for a, t in (("A", "2026-03-03T00:00:00+00:00"), ("C", "2026-03-04T00:00:00+00:00"))
    ]
    policies = [{"queue": "*", "priority": "P0", "first_touch_target_hours": 1, "resolution_target_hours": 24,
                 "clock": "calendar"}]
    url = make_warehouse(tmp_path, {"appeals": appeals, "appeal_events": events, "sla_policies": policies})
    kwargs = dict(by=[], period="day", tz="UTC", as_of="2026-03-05T12:00:00+00:00", metrics=BACKLOG, engine="sql")
    got = api.report(url, **kwargs).select(["period_start", *BACKLOG])
    expected = pl.DataFrame({
        "period_start": pl.date_range(pl.date(2026, 3, 1), pl.date(2026, 3, 5), eager=True),
        "backlog_open": [2, 3, 2, 1, 1],
        "backlog_breached": [0, 2, 2, 1, 1],
    })
    assert_frame_equal(got, expected)
    with monkeypatch.context() as m:
        _row_by_row(m)
        assert_frame_equal(api.report(url, **kwargs).select(["period_start", *BACKLOG]), expected)
