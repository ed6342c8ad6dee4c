"""Every excluded, corrected or flagged row is counted by a named check (warehouse.md)."""

from __future__ import annotations

import pytest

from metrics import api
from tests.helpers import make_warehouse

SPEC = "specialist"


def ev(event_id, appeal_id, at, event_type, actor_id="s1", actor_type=SPEC, **extra):
    return {"event_id": event_id, "appeal_id": appeal_id, "occurred_at": at, "event_type": event_type,
            "actor_id": actor_id, "actor_type": actor_type, **extra}


# e1 made by specialist s1 (who decides a1: self review), e2 by a model; one calendar policy for P1
ENFORCEMENTS = [
    {"enforcement_id": "e1", "action": "q", "policy": "p", "source": "human", "enforced_by": "s1",
     "enforced_at": "2026-03-01 09:00"},
    {"enforcement_id": "e2", "action": "q", "policy": "p", "source": "automated", "enforced_by": "m1",
     "enforced_at": "2026-03-01 09:00"},
]
POLICIES = [{"queue": "*", "priority": "P1", "first_touch_target_hours": 1, "resolution_target_hours": 8,
             "clock": "calendar"}]


def test_bad_rows_are_counted_by_name(tmp_path):
    rows = {
        "appeals": [
            {"appeal_id": "a1", "enforcement_id": "e1", "queue": "q", "priority": "P1", "created_at": "2026-03-02 09:00"},
            # duplicate id: the earliest-created row is kept, the other counted
            {"appeal_id": "a1", "enforcement_id": "e1", "queue": "q", "priority": "P1", "created_at": "2026-03-03 09:00"},
            {"appeal_id": "a2", "enforcement_id": "e2", "queue": "q", "priority": "P9", "created_at": "2026-03-02 10:00"},
            # no queue: excluded
            {"appeal_id": "a3", "queue": " ", "priority": "P1", "created_at": "2026-03-02 10:00"},
            # created after as_of (as_of below is 2026-03-05 00:00)
            {"appeal_id": "a4", "queue": "q", "priority": "P1", "created_at": "2026-03-06 10:00"},
        ],
        "appeal_events": [
            ev("x1", "a1", "2026-03-02 08:00", "claimed"),  # before created_at → corrected
            ev("x2", "a1", "2026-03-02 11:00", "decided", outcome="sideways"),  # unknown outcome
            ev("x3", "a2", "2026-03-02 11:00", "decided", actor_id="bot", actor_type="system"),  # no outcome, bot
            ev("x4", "ghost", "2026-03-02 11:00", "claimed"),  # unknown appeal
            ev("x5", "a2", "2026-03-02 12:00", "teleported"),  # unknown type
            ev("x6", "a2", "2026-03-02 12:30", "internal_note", actor_type="robot"),  # unknown actor type
            ev("x7", "a2", "2026-03-07 12:00", "reopened"),  # after as_of
            ev("x7", "a2", "2026-03-02 13:00", "internal_note"),  # duplicate event id (this one is earlier: kept)
        ],
        "enforcements": ENFORCEMENTS,
        "sla_policies": POLICIES,
    }
    url = make_warehouse(tmp_path, rows)
    results = {c.name: c for c in api.check(url, as_of="2026-03-05T00:00:00Z")}
    expected = {
        "duplicate_appeal_id": (1, ["a1"]),
        "appeal_missing_required_value": (1, ["a3"]),
        "appeals_after_as_of": (1, ["a4"]),
        "event_before_created_at": (1, ["x1"]),
        "unknown_outcome": (1, ["x2"]),
        # x3 has no outcome; x2's outcome is unknown, not missing
        "decided_without_outcome": (1, ["x3"]),
        "decided_by_non_specialist": (1, ["a2"]),
        "event_unknown_appeal": (1, ["x4"]),
        "unknown_event_type": (1, ["x5"]),
        "unknown_actor_type": (1, ["x6"]),
        "event_after_as_of": (1, ["x7"]),
        "duplicate_event_id": (1, ["x7"]),
        # a1 was decided by s1, who also made enforcement e1
        "self_review": (1, ["a1"]),
        # a2 is P9: neither (q, P9) nor (*, P9) exists
        "no_sla_policy": (1, ["a2"]),
    }
    for name, (count, examples) in expected.items():
        assert name in results, f"check {name} found nothing"
        assert (results[name].count, results[name].examples) == (count, examples), name
    assert set(results) == set(expected)

    facts = api.facts(url, as_of="2026-03-05T00:00:00Z")
    # a1 and a2 remain; a3 excluded (no queue), a4 not yet created
    assert facts["appeal_id"].to_list() == ["a1", "a2"]
    a1, a2 = facts.row(0, named=True), facts.row(1, named=True)
    # x1 at 08:00 is used as if at created_at 09:00 → ftr 0 h; decided at 11:00 → ttr 2 h, outcome unknown → null
    assert (a1["ftr_hours"], a1["ttr_hours"], a1["status"], a1["outcome"]) == (0.0, 2.0, "resolved", None)
    # a2: the system decision still resolves it (reopen at 03-07 is after as_of); kept duplicate x7 is a note
    assert (a2["status"], a2["reopen_count"], a2["specialist_id"]) == ("resolved", 0, "bot")


def test_per_appeal_checks_read_from_the_store(tmp_path, monkeypatch):
    """The store keeps the hits of the per-appeal checks (they read the models); read there they
    equal the checks run on the warehouse, at the store's as-of (the latest instant)."""
    from metrics import refresh

    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    rows = {
        "appeals": [
            {"appeal_id": "a1", "enforcement_id": "e1", "queue": "q", "priority": "P1", "created_at": "2026-03-02 09:00"},
            {"appeal_id": "a2", "enforcement_id": "e2", "queue": "q", "priority": "P9", "created_at": "2026-03-02 10:00"},
            {"appeal_id": "a4", "queue": "q", "priority": "P1", "created_at": "2026-03-06 10:00"},
        ],
        "appeal_events": [
            ev("x2", "a1", "2026-03-02 11:00", "decided", outcome="overturned"),
            ev("x3", "a2", "2026-03-02 11:00", "decided", actor_id="bot", actor_type="system"),
            ev("x8", "a2", "2026-03-07 12:00", "internal_note"),
        ],
        "enforcements": ENFORCEMENTS,
        "sla_policies": POLICIES,
    }
    url = make_warehouse(tmp_path, rows)
    assert refresh.refresh(url).mode == "full"
    reader = refresh.source(url)
    assert type(reader).__name__ == "StoreWarehouse"
    # as_of is the latest instant, 2026-03-07 12:00 (x8), so a4 (created 03-06) is in the facts
    assert reader.as_of.isoformat() == "2026-03-07T12:00:00+00:00"
    kept = {c.name: (c.count, c.examples) for c in api.check(url, kept=reader)}
    # by hand: x3 is a decision with no outcome, made by a system (a2's); s1 decided a1 and made
    # e1; a2 is P9 (no (q, P9) or (*, P9) policy); a4 has no event at all
    assert {k: v for k, v in kept.items() if k in {"decided_without_outcome", "decided_by_non_specialist",
                                                   "self_review", "no_sla_policy", "appeal_without_events",
                                                   "sla_schedule_without_hours"}} == {
        "decided_without_outcome": (1, ["x3"]), "decided_by_non_specialist": (1, ["a2"]),
        "self_review": (1, ["a1"]), "no_sla_policy": (1, ["a2"]), "appeal_without_events": (1, ["a4"])}
    assert api.check(url, kept=reader) == api.check(url)
    with pytest.raises(api.WarehouseError, match="the store holds as_of"):
        api.check(url, as_of="2026-03-05T00:00:00Z", kept=reader)
    reader.db.close()


def test_clean_warehouse_reports_nothing(tmp_path):
    url = make_warehouse(tmp_path, {
        "appeals": [{"appeal_id": "a1", "queue": "q", "priority": "P1", "created_at": "2026-03-02 09:00"}],
        "appeal_events": [ev("x1", "a1", "2026-03-02 10:00", "claimed")],
        "sla_policies": [{"queue": "q", "priority": "P1", "first_touch_target_hours": 1,
                          "resolution_target_hours": 8, "clock": "calendar"}],
    })
    assert api.check(url) == []


# Two copies of event id d1 for appeal a1 at the same instant (tied on occurred_at and
# appeal_id), one decided upheld, one decided overturned. Decision 2 ranks the rest of the row
# in code-point order: event_type equal, actor equal, outcome 'overturned' < 'upheld', so the
# overturned copy is the event whichever order the rows are stored in; the other is counted.
#   a1 created 2026-03-02 09:00, decided 2026-03-03 09:00 -> outcome overturned, TTR 24 h
TIED_COPIES = [
    {"event_id": "d1", "appeal_id": "a1", "occurred_at": "2026-03-03 09:00", "event_type": "decided",
     "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"},
    {"event_id": "d1", "appeal_id": "a1", "occurred_at": "2026-03-03 09:00", "event_type": "decided",
     "actor_id": "s1", "actor_type": "specialist", "outcome": "overturned"},
]
TIED_APPEALS = [{"appeal_id": "a1", "queue": "q1", "priority": "P1", "created_at": "2026-03-02 09:00"}]


def _assert_overturned_copy_kept(source):
    facts = api.facts(source)
    assert facts.select("appeal_id", "outcome", "ttr_hours").rows() == [("a1", "overturned", 24.0)]
    assert {c.name: c.count for c in api.check(source)}["duplicate_event_id"] == 1


def test_tied_duplicate_event_rows_keep_the_same_copy_in_any_storage_order(tmp_path):
    for order, name in ((TIED_COPIES, "as_listed.duckdb"), (TIED_COPIES[::-1], "reversed.duckdb")):
        _assert_overturned_copy_kept(make_warehouse(tmp_path, {"appeals": TIED_APPEALS, "appeal_events": order}, name))


@pytest.mark.postgres
def test_tied_duplicate_event_rows_on_postgresql(pg_url):
    from metrics.load import frames_from_rows
    from metrics.warehouse import Warehouse
    from tests.pg import load_tables_pg

    for order, schema in ((TIED_COPIES, "tied_a"), (TIED_COPIES[::-1], "tied_b")):
        load_tables_pg(pg_url, frames_from_rows({"appeals": TIED_APPEALS, "appeal_events": order}), schema=schema)
        _assert_overturned_copy_kept(Warehouse.open(pg_url, schema=schema))
