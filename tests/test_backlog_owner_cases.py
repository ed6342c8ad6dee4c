"""Hand-derived cases: backlog grouped by a key that follows the owner (metrics.md, "report
rows"; issue 15). An appeal counts in the backlog of a period end E under the owner given
by the lifecycle evaluated from the events before E: open → the actor of the last
`assigned` event before E (null when none), even after a reopen whose decision was taken by
someone else. pod, site and team_lead follow that owner. Every other metric keeps the owner
as of as_of. Each case runs on the SQL engine and the Polars reference (DuckDB), and on
PostgreSQL (SQL engine).

The fixture (instants UTC; as_of Mon 2026-03-09 12:00; resolution target 48 calendar hours):

  specialists: s1 pod p1, site dublin,  team_lead L1
               s2 pod p1, site phoenix, team_lead L1
               s3 pod p2, site phoenix, team_lead L2

  A1 created Mon 03-02 10:00 (deadline Wed 03-04 10:00)
     unassigned until 03-04 12:00 (→ s1), decided by s1 Fri 03-06 12:00
     open stretches: (03-02 10:00, 03-04 12:00] owner null; (03-04 12:00, 03-06 12:00] s1
  B1 created Mon 03-02 09:00 (deadline Wed 03-04 09:00), still open at as_of
     assigned s1 03-02 09:00 (same instant as creation), reassigned s2 03-03 15:00, s3 Thu 03-05 00:00
     open stretches: (03-02 09:00, 03-03 15:00] s1; (03-03 15:00, 03-05 00:00] s2; (03-05 00:00, -) s3
  C1 created Mon 03-02 20:00 (deadline Wed 03-04 20:00), open at as_of
     assigned s1 03-02 21:00, reassigned s2 03-03 02:00, decided by s3 03-03 20:00 (s3 never assigned),
     reopened by the user 03-04 06:00, reassigned s1 03-05 10:00, reassigned s3 Mon 03-09 02:00
     open stretches: (03-02 20:00, 03-02 21:00] null; (03-02 21:00, 03-03 02:00] s1;
       (03-03 02:00, 03-03 20:00] s2; closed (03-03 20:00, 03-04 06:00];
       (03-04 06:00, 03-05 10:00] s2 (reopened: the last assigned, not the decider s3);
       (03-05 10:00, 03-09 02:00] s1; (03-09 02:00, -) s3
  D1 created Tue 03-03 12:00 (deadline Thu 03-05 12:00)
     assigned s3 at 03-03 11:00 (recorded before creation: takes effect at 12:00); at 03-04 09:00
     two assignments tie (D1-02 → s2, D1-03 → s3): event_id order makes s3 the last, the owner
     never changes; decided by s3 Fri 03-06 03:00
     open stretch: (03-03 12:00, 03-06 03:00] s3

Owners as of as_of (every other metric): A1 s1 (decider), B1 s3, C1 s3 (last assigned), D1 s3.

Period ends E: UTC days end at 00:00 UTC. New York days end at local midnight: 05:00 UTC
while EST (through the end of Sat 03-07), 04:00 UTC from Sun 03-08 (EDT starts 03-08 02:00
local), so the end of 03-08 is 03-09 04:00 UTC. The last period contains as_of; its E is
after as_of, so breached compares deadlines with as_of. The backlog at E is the stretches
with open_from < E <= open_to; an event exactly at E is not before E.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from metrics.load import frames_from_rows, write_duckdb
from tests.cases import D, T, appeal, ev, policy

AS_OF = T("2026-03-09 12:00")

SPECIALISTS = [
    {"specialist_id": "s1", "display_name": "Ann", "pod": "p1", "site": "dublin", "team_lead": "L1"},
    {"specialist_id": "s2", "display_name": "Bo", "pod": "p1", "site": "phoenix", "team_lead": "L1"},
    {"specialist_id": "s3", "display_name": "Cy", "pod": "p2", "site": "phoenix", "team_lead": "L2"},
]


def tables() -> dict[str, list[dict]]:
    return {
        "appeals": [
            appeal("A1", "2026-03-02 10:00:00"),
            appeal("B1", "2026-03-02 09:00:00"),
            appeal("C1", "2026-03-02 20:00:00"),
            appeal("D1", "2026-03-03 12:00:00"),
        ],
        "appeal_events": [
            ev("A1-01", "A1", "2026-03-04 12:00:00", "assigned", actor_id="s1"),
            ev("A1-02", "A1", "2026-03-06 12:00:00", "decided", actor_id="s1", outcome="upheld"),
            ev("B1-01", "B1", "2026-03-02 09:00:00", "assigned", actor_id="s1"),
            ev("B1-02", "B1", "2026-03-03 15:00:00", "assigned", actor_id="s2"),
            ev("B1-03", "B1", "2026-03-05 00:00:00", "assigned", actor_id="s3"),
            ev("C1-01", "C1", "2026-03-02 21:00:00", "assigned", actor_id="s1"),
            ev("C1-02", "C1", "2026-03-03 02:00:00", "assigned", actor_id="s2"),
            ev("C1-03", "C1", "2026-03-03 20:00:00", "decided", actor_id="s3", outcome="upheld"),
            ev("C1-04", "C1", "2026-03-04 06:00:00", "reopened", "user", "u1"),
            ev("C1-05", "C1", "2026-03-05 10:00:00", "assigned", actor_id="s1"),
            ev("C1-06", "C1", "2026-03-09 02:00:00", "assigned", actor_id="s3"),
            ev("D1-01", "D1", "2026-03-03 11:00:00", "assigned", actor_id="s3"),
            ev("D1-02", "D1", "2026-03-04 09:00:00", "assigned", actor_id="s2"),
            ev("D1-03", "D1", "2026-03-04 09:00:00", "assigned", actor_id="s3"),
            ev("D1-04", "D1", "2026-03-06 03:00:00", "decided", actor_id="s3", outcome="overturned"),
        ],
        "specialists": SPECIALISTS,
        "sla_policies": [policy("*", "P2", 1000, 48)],
    }


@pytest.fixture(scope="module", params=["duckdb-sql", "duckdb-polars", pytest.param("postgres-sql", marks=pytest.mark.postgres)])
def target(request, tmp_path_factory):
    """(warehouse, engine): the fixture in DuckDB for both engines, and in PostgreSQL."""
    frames = frames_from_rows(tables())
    if request.param == "postgres-sql":
        from metrics.warehouse import Warehouse
        from tests.pg import load_tables_pg

        pg_url = request.getfixturevalue("pg_url")
        load_tables_pg(pg_url, frames, schema="backlog_owner")
        return Warehouse.open(pg_url, schema="backlog_owner"), "sql"
    path = write_duckdb(frames, tmp_path_factory.mktemp("backlog_owner") / "wh.duckdb")
    return f"duckdb:///{path}", request.param.split("-")[1]


BACKLOG = ["backlog_open", "backlog_breached"]


def cells(api, target, by, period, tz, metrics=BACKLOG, filters=None) -> dict[tuple, tuple]:
    """(period_start, *keys) → (metric values...) of a report."""
    url, engine = target
    df = api.report(url, by=by, period=period, tz=tz, as_of=AS_OF, metrics=metrics, filters=filters, engine=engine)
    out = {}
    for r in df.to_dicts():
        key = (r["period_start"], *(r[k] for k in by))
        assert key not in out, f"duplicate cell {key}"
        out[key] = tuple(r[m] for m in metrics)
    return out


# --------------------------------------------------------------------------- the spans export


def test_spans_carry_the_owner_of_each_stretch(api, target):
    url, engine = target
    if engine == "polars":
        pytest.skip("spans come from the warehouse; the engines differ only in the report")
    got = api.status_spans(url, as_of=AS_OF)
    assert got.columns == ["appeal_id", "open_from", "open_to", "specialist_id", "pod", "site", "team_lead"]
    rows = [
        (r["appeal_id"], r["open_from"], r["open_to"], r["specialist_id"], r["site"], r["team_lead"])
        for r in got.to_dicts()
    ]

    def t(s):
        return datetime.fromisoformat(s).replace(tzinfo=UTC) if s else None

    assert rows == [
        # unassigned until 03-04 12:00, then s1 until the decision
        ("A1", t("2026-03-02 10:00"), t("2026-03-04 12:00"), None, None, None),
        ("A1", t("2026-03-04 12:00"), t("2026-03-06 12:00"), "s1", "dublin", "L1"),
        # assigned at creation: no unowned stretch; two reassignments split it twice
        ("B1", t("2026-03-02 09:00"), t("2026-03-03 15:00"), "s1", "dublin", "L1"),
        ("B1", t("2026-03-03 15:00"), t("2026-03-05 00:00"), "s2", "phoenix", "L1"),
        ("B1", t("2026-03-05 00:00"), None, "s3", "phoenix", "L2"),
        # the decided → reopened gap (03-03 20:00, 03-04 06:00] is not open; after the reopen the
        # owner is the last assignee s2 (the decider s3 was never assigned)
        ("C1", t("2026-03-02 20:00"), t("2026-03-02 21:00"), None, None, None),
        ("C1", t("2026-03-02 21:00"), t("2026-03-03 02:00"), "s1", "dublin", "L1"),
        ("C1", t("2026-03-03 02:00"), t("2026-03-03 20:00"), "s2", "phoenix", "L1"),
        ("C1", t("2026-03-04 06:00"), t("2026-03-05 10:00"), "s2", "phoenix", "L1"),
        ("C1", t("2026-03-05 10:00"), t("2026-03-09 02:00"), "s1", "dublin", "L1"),
        ("C1", t("2026-03-09 02:00"), None, "s3", "phoenix", "L2"),
        # the pre-creation assignment owns from creation; the tied pair ends on s3: no split
        ("D1", t("2026-03-03 12:00"), t("2026-03-06 03:00"), "s3", "phoenix", "L2"),
    ]


# --------------------------------------------------------------------------- by specialist_id, daily


def test_daily_by_specialist_utc(api, target):
    got = cells(api, target, ["specialist_id"], "day", "UTC")
    assert got == {
        # E = 03-03 00:00: B1 (s1 since 09:00), C1 (s1 since 21:00); A1 not yet assigned → null.
        # No deadline before E (earliest is 03-04 09:00).
        (D("2026-03-02"), None): (1, 0),
        (D("2026-03-02"), "s1"): (2, 0),
        # E = 03-04 00:00: A1 null; B1 s2 (since 03-03 15:00); C1 decided 03-03 20:00 → closed;
        # D1 s3. Deadlines 03-04 09:00 and later: none breached.
        (D("2026-03-03"), None): (1, 0),
        (D("2026-03-03"), "s2"): (1, 0),
        (D("2026-03-03"), "s3"): (1, 0),
        # E = 03-05 00:00: A1 s1 (deadline 03-04 10:00 < E: breached); B1 still s2 (its move to s3
        # is at E itself, not before it; deadline 03-04 09:00: breached); C1 reopened, owner the
        # last assigned s2 (deadline 03-04 20:00: breached); D1 s3 (deadline 03-05 12:00 > E).
        (D("2026-03-04"), "s1"): (1, 1),
        (D("2026-03-04"), "s2"): (2, 2),
        (D("2026-03-04"), "s3"): (1, 0),
        # E = 03-06 00:00: A1 s1, C1 s1 (since 03-05 10:00); B1 s3, D1 s3 (deadline 03-05 12:00 < E).
        (D("2026-03-05"), "s1"): (2, 2),
        (D("2026-03-05"), "s3"): (2, 2),
        # E = 03-07, 03-08, 03-09 00:00: A1 and D1 decided (03-06); C1 s1, B1 s3, both breached.
        (D("2026-03-06"), "s1"): (1, 1),
        (D("2026-03-06"), "s3"): (1, 1),
        (D("2026-03-07"), "s1"): (1, 1),
        (D("2026-03-07"), "s3"): (1, 1),
        (D("2026-03-08"), "s1"): (1, 1),  # C1's move to s3 is 03-09 02:00, after E = 03-09 00:00
        (D("2026-03-08"), "s3"): (1, 1),
        # E = 03-10 00:00 (after as_of 03-09 12:00): B1 s3, C1 s3; breached against as_of.
        (D("2026-03-09"), "s3"): (2, 2),
    }


def test_daily_by_specialist_new_york(api, target):
    got = cells(api, target, ["specialist_id"], "day", "America/New_York")
    assert got == {
        # E = 03-03 05:00 UTC: A1 null; B1 s1; C1 s2 (reassigned 03-03 02:00 < E). D1 not created.
        (D("2026-03-02"), None): (1, 0),
        (D("2026-03-02"), "s1"): (1, 0),
        (D("2026-03-02"), "s2"): (1, 0),
        # E = 03-04 05:00 UTC: A1 null; B1 s2; C1 closed (decided 03-03 20:00, reopened 03-04 06:00,
        # after E); D1 s3. No deadline before E.
        (D("2026-03-03"), None): (1, 0),
        (D("2026-03-03"), "s2"): (1, 0),
        (D("2026-03-03"), "s3"): (1, 0),
        # E = 03-05 05:00 UTC: A1 s1 (breached); B1 s3 (moved at 03-05 00:00 < E; breached); C1 s2
        # (breached); D1 s3 (deadline 03-05 12:00 > E: not breached).
        (D("2026-03-04"), "s1"): (1, 1),
        (D("2026-03-04"), "s2"): (1, 1),
        (D("2026-03-04"), "s3"): (2, 1),
        # E = 03-06 05:00 UTC: A1 s1, C1 s1; B1 s3; D1 decided 03-06 03:00 < E. All breached.
        (D("2026-03-05"), "s1"): (2, 2),
        (D("2026-03-05"), "s3"): (1, 1),
        # E = 03-07 05:00 and 03-08 05:00 UTC: C1 s1, B1 s3 (A1 decided 03-06 12:00).
        (D("2026-03-06"), "s1"): (1, 1),
        (D("2026-03-06"), "s3"): (1, 1),
        (D("2026-03-07"), "s1"): (1, 1),
        (D("2026-03-07"), "s3"): (1, 1),
        # E = 03-09 00:00 EDT = 03-09 04:00 UTC: C1 moved to s3 at 02:00 < E → both under s3
        # (in UTC the same local date's end, 03-09 00:00 UTC, still had C1 under s1).
        (D("2026-03-08"), "s3"): (2, 2),
        # E = 03-10 04:00 UTC, after as_of: B1, C1 s3, breached against as_of.
        (D("2026-03-09"), "s3"): (2, 2),
    }


# --------------------------------------------------------------------------- by site, daily


def test_daily_by_site_utc(api, target):
    # s1 → dublin; s2, s3 → phoenix; no owner → null site. From the specialist cells above.
    got = cells(api, target, ["site"], "day", "UTC")
    assert got == {
        (D("2026-03-02"), None): (1, 0),  # A1
        (D("2026-03-02"), "dublin"): (2, 0),  # B1, C1 (s1)
        (D("2026-03-03"), None): (1, 0),  # A1
        (D("2026-03-03"), "phoenix"): (2, 0),  # B1 (s2), D1 (s3)
        (D("2026-03-04"), "dublin"): (1, 1),  # A1 (s1), breached
        (D("2026-03-04"), "phoenix"): (3, 2),  # B1, C1 (s2) breached; D1 (s3) not yet
        (D("2026-03-05"), "dublin"): (2, 2),  # A1, C1 (s1)
        (D("2026-03-05"), "phoenix"): (2, 2),  # B1, D1 (s3)
        (D("2026-03-06"), "dublin"): (1, 1),  # C1
        (D("2026-03-06"), "phoenix"): (1, 1),  # B1
        (D("2026-03-07"), "dublin"): (1, 1),
        (D("2026-03-07"), "phoenix"): (1, 1),
        (D("2026-03-08"), "dublin"): (1, 1),
        (D("2026-03-08"), "phoenix"): (1, 1),
        (D("2026-03-09"), "phoenix"): (2, 2),  # B1, C1 (s3)
    }


def test_daily_by_site_new_york(api, target):
    got = cells(api, target, ["site"], "day", "America/New_York")
    assert got == {
        (D("2026-03-02"), None): (1, 0),  # A1
        (D("2026-03-02"), "dublin"): (1, 0),  # B1 (s1)
        (D("2026-03-02"), "phoenix"): (1, 0),  # C1 (s2)
        (D("2026-03-03"), None): (1, 0),  # A1
        (D("2026-03-03"), "phoenix"): (2, 0),  # B1 (s2), D1 (s3)
        (D("2026-03-04"), "dublin"): (1, 1),  # A1 (s1)
        (D("2026-03-04"), "phoenix"): (3, 2),  # C1 (s2), B1 (s3) breached; D1 (s3) not
        (D("2026-03-05"), "dublin"): (2, 2),  # A1, C1 (s1)
        (D("2026-03-05"), "phoenix"): (1, 1),  # B1 (s3)
        (D("2026-03-06"), "dublin"): (1, 1),  # C1
        (D("2026-03-06"), "phoenix"): (1, 1),  # B1
        (D("2026-03-07"), "dublin"): (1, 1),
        (D("2026-03-07"), "phoenix"): (1, 1),
        (D("2026-03-08"), "phoenix"): (2, 2),  # B1, C1 (s3)
        (D("2026-03-09"), "phoenix"): (2, 2),
    }


# --------------------------------------------------------------------------- weekly: team_lead, specialist


def test_weekly_by_team_lead_utc(api, target):
    got = cells(api, target, ["team_lead"], "week", "UTC")
    assert got == {
        # E = Mon 03-09 00:00 UTC: A1, D1 decided; B1 s3 → L2; C1 s1 (its move to s3 is at 02:00,
        # after E) → L1. Both deadlines long past. (By the owner as of as_of both would be L2.)
        (D("2026-03-02"), "L1"): (1, 1),
        (D("2026-03-02"), "L2"): (1, 1),
        # E = 03-16 00:00, after as_of: B1, C1 both s3 → L2, breached against as_of.
        (D("2026-03-09"), "L2"): (2, 2),
    }


def test_weekly_by_team_lead_new_york(api, target):
    got = cells(api, target, ["team_lead"], "week", "America/New_York")
    assert got == {
        # E = Mon 03-09 00:00 EDT = 04:00 UTC: C1 moved to s3 at 02:00 UTC < E → L2 with B1.
        (D("2026-03-02"), "L2"): (2, 2),
        (D("2026-03-09"), "L2"): (2, 2),
    }


def test_weekly_by_specialist_both_zones(api, target):
    assert cells(api, target, ["specialist_id"], "week", "UTC") == {
        (D("2026-03-02"), "s1"): (1, 1),  # C1 at 03-09 00:00 UTC
        (D("2026-03-02"), "s3"): (1, 1),  # B1
        (D("2026-03-09"), "s3"): (2, 2),
    }
    assert cells(api, target, ["specialist_id"], "week", "America/New_York") == {
        (D("2026-03-02"), "s3"): (2, 2),  # B1, C1 at 03-09 04:00 UTC
        (D("2026-03-09"), "s3"): (2, 2),
    }


# --------------------------------------------------------------------------- other metrics, filters


def test_other_metrics_keep_the_owner_as_of(api, target):
    # appeals_created counts by created_at under the owner as of as_of (A1 s1; B1, C1, D1 s3);
    # backlog under the owner at E. Rows are the union of both cohorts' cells.
    got = cells(api, target, ["specialist_id"], "day", "UTC", metrics=["appeals_created", "backlog_open"])
    assert {k: v for k, v in got.items() if k[0] <= D("2026-03-03")} == {
        (D("2026-03-02"), None): (0, 1),  # A1 unassigned at E
        (D("2026-03-02"), "s1"): (1, 2),  # created: A1; backlog: B1, C1
        (D("2026-03-02"), "s3"): (2, 0),  # created: B1, C1; nothing of s3's open at 03-03 00:00
        (D("2026-03-03"), None): (0, 1),  # backlog A1
        (D("2026-03-03"), "s2"): (0, 1),  # backlog B1
        (D("2026-03-03"), "s3"): (1, 1),  # created D1; backlog D1
    }


def test_filter_on_an_owner_key_selects_stretches(api, target):
    # site = dublin (s1): the backlog whose owner at E is s1, whoever owns the appeal now;
    # same numbers as the dublin cells of test_daily_by_site_utc
    got = cells(api, target, [], "day", "UTC", filters={"site": ["dublin"]})
    assert got == {
        (D("2026-03-02"),): (2, 0),
        (D("2026-03-04"),): (1, 1),
        (D("2026-03-05"),): (2, 2),
        (D("2026-03-06"),): (1, 1),
        (D("2026-03-07"),): (1, 1),
        (D("2026-03-08"),): (1, 1),
    }
