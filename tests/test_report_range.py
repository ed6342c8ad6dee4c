"""A report over a date range keeps each part's rows to that range before grouping
(metrics/engine_sql.py); the answer must be the same as grouping everything and keeping the
range's cells, including at the edge where a far-east time zone moves an instant of the
day before `from` into the first period."""

from __future__ import annotations

from datetime import date

from polars.testing import assert_frame_equal

from metrics import api
from tests.helpers import make_warehouse

ROWS = {
    "appeals": [
        # 8 Mar 2026 10:30 UTC is 9 Mar 00:30 in Pacific/Kiritimati (UTC+14): week of 9 Mar there,
        # week of 2 Mar in UTC
        {"appeal_id": "edge", "queue": "q1", "priority": "P1", "market": "US", "created_at": "2026-03-08T10:30:00"},
        {"appeal_id": "old", "queue": "q1", "priority": "P1", "market": "US", "created_at": "2026-02-02T09:00:00"},
        {"appeal_id": "new", "queue": "q1", "priority": "P1", "market": "US", "created_at": "2026-03-10T09:00:00"},
    ],
    "appeal_events": [
        {"event_id": "e1", "appeal_id": "old", "occurred_at": "2026-02-03T09:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "upheld"},
        {"event_id": "e2", "appeal_id": "edge", "occurred_at": "2026-03-09T09:00:00", "event_type": "decided",
         "actor_type": "specialist", "actor_id": "s1", "outcome": "overturned", "root_cause": "agent_error"},
        {"event_id": "e3", "appeal_id": "new", "occurred_at": "2026-03-11T09:00:00", "event_type": "claimed",
         "actor_type": "specialist", "actor_id": "s1"},
    ],
}


def _created(frame) -> dict[date, int]:
    return {r["period_start"]: r["appeals_created"] for r in frame.iter_rows(named=True) if r["appeals_created"]}


def test_a_range_keeps_the_far_east_edge_and_drops_earlier_weeks(tmp_path):
    url = make_warehouse(tmp_path, ROWS)
    kw = dict(by=[], period="week", date_from=date(2026, 3, 9), date_to=date(2026, 3, 15),
              metrics=["appeals_created", "appeals_resolved"])
    # UTC: only "new" is created in the week of 9 Mar ("edge" is 8 Mar, week of 2 Mar; "old" is February)
    utc = api.report(url, tz="UTC", **kw)
    assert _created(utc) == {date(2026, 3, 9): 1}
    assert utc["appeals_resolved"].to_list() == [1]  # edge, decided 9 Mar 09:00 UTC
    # UTC+14: "edge" is 9 Mar 00:30 local, in the week of 9 Mar with "new"
    east = api.report(url, tz="Pacific/Kiritimati", **kw)
    assert _created(east) == {date(2026, 3, 9): 2}
    for tz in ("UTC", "Pacific/Kiritimati", "America/Phoenix"):
        sql = api.report(url, tz=tz, **kw)
        assert_frame_equal(sql, api.report(url, tz=tz, engine="polars", **kw), check_exact=False, rel_tol=1e-9)
        # the same cells as the whole history's report, restricted to the range afterwards
        whole = api.report(url, tz=tz, by=[], period="week", metrics=["appeals_created", "appeals_resolved"])
        kept = whole.filter(whole["period_start"] >= date(2026, 3, 9), whole["period_start"] <= date(2026, 3, 15))
        assert_frame_equal(sql, kept, check_exact=True)
