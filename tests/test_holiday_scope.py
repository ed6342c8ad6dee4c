"""Issue 10: holiday annotations only where they apply (decision 61). A schedule reaches appeals
through sla_policies (a queue's own business-clock row for a priority, else the `*` row of that
priority; a calendar row of its own replaces `*`) and through the specialists who work to it
(their time zone is the schedule's, warehouse.md `specialists.timezone`, `business_hours.timezone`)."""

from __future__ import annotations

from datetime import date

import polars as pl

from metrics import annotations, api
from tests.helpers import make_warehouse

# Hand-made links:
#   *  P2 business phoenix      *  P3 business phoenix      *  P1 calendar
#   qa P2 business dublin       (qa has no P3 row: P3 runs on * → phoenix)
#   qb P2 calendar              (qb's own calendar row replaces * P2; P3 from * → phoenix)
#   qc none of its own          (P2, P3 from * → phoenix)
#   staff: site dub (pods d1, d2) in Europe/Dublin → dublin; site phx (pod p1) → phoenix
POLICIES = pl.DataFrame({"queue": ["*", "*", "*", "qa", "qb"], "priority": ["P2", "P3", "P1", "P2", "P2"],
                         "schedule_id": ["phoenix", "phoenix", None, "dublin", None]})
STAFF = pl.DataFrame({"site": ["dub", "dub", "phx"], "pod": ["d1", "d2", "p1"],
                      "schedule_id": ["dublin", "dublin", "phoenix"]})
LINKS = annotations.ScheduleLinks.of(POLICIES, STAFF, ["qa", "qb", "qc"])


def test_which_schedules_a_filter_reaches():
    assert LINKS.applicable({}) is None  # unfiltered: every holiday
    assert LINKS.applicable({}, "qa") == {"dublin", "phoenix"}  # P2 own dublin, P3 from * phoenix
    assert LINKS.applicable({"priority": ("P2",)}, "qa") == {"dublin"}
    assert LINKS.applicable({"priority": ("P2",)}, "qb") == set()  # its own calendar row replaces * P2
    assert LINKS.applicable({"queue": ("qb",)}) == {"phoenix"}  # P3 from *
    assert LINKS.applicable({"priority": ("P1",)}) == set()  # a calendar clock has no holidays
    assert LINKS.applicable({"site": ("dub",)}) == {"dublin"}
    assert LINKS.applicable({"pod": ("p1",)}) == {"phoenix"}
    # queue and site narrow together: qc runs on phoenix only, the dub site works to dublin
    assert LINKS.applicable({"site": ("dub",)}, "qc") == set()
    assert LINKS.applicable({"site": ("dub",)}, "qa") == {"dublin"}
    assert LINKS.applicable({"market": ("DE",)}) is None  # a market ties to no schedule


def test_holidays_show_only_on_the_charts_they_apply_to():
    closed = {"dublin": [date(2026, 10, 26)], "phoenix": [date(2026, 11, 26)]}
    notes = annotations.from_holidays(closed, LINKS)
    # unfiltered: both, each with its schedule, sites and queues
    texts = annotations.frame(notes, date(2026, 10, 1), date(2026, 11, 30), "week")["text"].to_list()
    assert texts == ["26 Oct: Holiday: dublin schedule closed (site dub; queue qa)",
                     "26 Nov: Holiday: phoenix schedule closed (site phx; queues qa, qb, qc)"]
    # a chart of qc (phoenix only) shows no Dublin holiday
    qc = annotations.frame(notes, date(2026, 10, 1), date(2026, 11, 30), "week", "qc", LINKS.applicable({}, "qc"))
    assert qc.select("period_start", "text").rows() == [
        (date(2026, 11, 23), "26 Nov: Holiday: phoenix schedule closed (site phx; queues qa, qb, qc)")]
    dub = annotations.frame(notes, date(2026, 10, 1), date(2026, 11, 30), "week", None,
                            LINKS.applicable({"site": ("dub",)}))
    assert dub["text"].to_list() == ["26 Oct: Holiday: dublin schedule closed (site dub; queue qa)"]


def test_links_are_read_from_the_warehouse(tmp_path):
    # The same shape from the tables: a calendar policy reads as a null schedule; staff join on time zone.
    url = make_warehouse(tmp_path, {
        "appeals": [{"appeal_id": "a1", "queue": "qa", "priority": "P2", "created_at": "2026-03-02 09:00"}],
        "appeal_events": [],
        "sla_policies": [
            {"queue": "*", "priority": "P2", "first_touch_target_hours": 8.0, "resolution_target_hours": 40.0,
             "clock": "business", "schedule_id": "phoenix"},
            {"queue": "qb", "priority": "P2", "first_touch_target_hours": 8.0, "resolution_target_hours": 40.0,
             "clock": "calendar", "schedule_id": None}],
        "business_hours": [{"schedule_id": "phoenix", "timezone": "America/Phoenix", "weekday": 1,
                            "start_time": "09:00:00", "end_time": "17:00:00"}],
        "specialists": [{"specialist_id": "s1", "display_name": "S", "pod": "p1", "team_lead": "L", "site": "phx",
                         "timezone": "America/Phoenix", "active_from": "2026-01-01", "active_to": None},
                        {"specialist_id": "s2", "display_name": "T", "pod": "d1", "team_lead": "L", "site": "dub",
                         "timezone": "Europe/Dublin", "active_from": "2026-01-01", "active_to": None}],
    })
    policies, staff = api.schedule_links(url)
    assert sorted(policies.rows(), key=str) == sorted([("*", "P2", "phoenix"), ("qb", "P2", None)], key=str)
    assert staff.rows() == [("phx", "p1", "phoenix")]  # no Dublin schedule: s2 works to none
    links = annotations.ScheduleLinks.of(policies, staff, ["qa", "qb"])
    assert links.applicable({}, "qa") == {"phoenix"} and links.applicable({}, "qb") == set()
