"""Seeded random warehouses, nasty on purpose, for engine parity tests.

Ties in occurred_at, reopen chains, events before creation, decisions without outcome,
unknown values, duplicate ids, events after as_of, optional tables present or absent,
business clocks across DST in two zones and holidays, reassignments (late routing, while
open, after a decision; at midnight and tied) and specialists with sites and team leads.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

EVENT_TYPES = ["assigned", "claimed", "message_to_user", "internal_note", "evidence_requested",
               "evidence_received", "escalated", "decided", "reopened", "withdrawn"]


def random_tables(seed: int, n_appeals: int = 60) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    start = datetime(2026, 2, 20, tzinfo=UTC) + timedelta(days=rng.randint(0, 250))
    queues = ["q_a", "q_b", "q_c"]
    prios = ["P0", "P1", "P2"]
    specialists = [f"s{i}" for i in range(5)]
    appeals, events, enforcements, qa = [], [], [], []
    eid = 0
    for i in range(n_appeals):
        created = start + timedelta(minutes=rng.choice([0, 30, 60]) * rng.randint(0, 60 * 24 * 30 // 60))
        aid = f"a{i:03d}"
        enf = f"e{i:03d}" if rng.random() < 0.9 else None
        appeals.append({
            "appeal_id": aid if rng.random() > 0.03 else f"  {aid} ",  # padded id: trimmed
            "enforcement_id": enf,
            "queue": rng.choice(queues),
            "priority": rng.choice(prios),
            "market": rng.choice(["US", "GB", "", None]),
            "channel": rng.choice(["in_app", "email"]),
            "language": "en",
            "created_at": created.isoformat(),
        })
        if enf:
            enforcements.append({
                "enforcement_id": enf, "action": rng.choice(queues), "policy": rng.choice(["p1", "p2"]),
                "source": rng.choice(["automated", "human"]), "enforced_by": rng.choice(specialists + ["model-v1"]),
                "enforced_at": (created - timedelta(hours=rng.randint(1, 300))).isoformat(),
            })
        t = created - timedelta(hours=rng.choice([0, 0, 0, 2]))  # sometimes before creation
        for _ in range(rng.randint(0, 9)):
            t = t + timedelta(minutes=rng.choice([0, 0, 15, 90, 600, 2000]))  # ties on purpose
            et = rng.choice(EVENT_TYPES + ["decided", "decided", "reopened", "bogus_type"])
            actor_type = rng.choice(["specialist", "specialist", "system", "user", "robot"])
            eid += 1
            events.append({
                "event_id": f"ev{eid:05d}" if rng.random() > 0.02 else f"ev{max(1, eid - 1):05d}",
                "appeal_id": aid if rng.random() > 0.03 else "ghost",
                "occurred_at": t.isoformat(),
                "event_type": et,
                "actor_id": rng.choice(specialists) if actor_type == "specialist" else "bot",
                "actor_type": actor_type,
                "outcome": rng.choice(["upheld", "overturned", "partially_overturned", None, "weird"])
                if et == "decided" else None,
                "root_cause": rng.choice(["agent_error", "automation_false_positive", None]) if et == "decided" else None,
                "note": rng.choice(["model flagged wrongly", "receipt provided", "", None]),
            })
        if rng.random() < 0.3:
            qa.append({"review_id": f"r{i}", "appeal_id": aid, "reviewed_at": (t + timedelta(days=2)).isoformat(),
                       "decision_correct": rng.random() < 0.8})
    events += _reassignments(seed, appeals, specialists, eid)
    tables: dict[str, list[dict]] = {"appeals": appeals, "appeal_events": events}
    if rng.random() < 0.8:
        tables["enforcements"] = enforcements
    if rng.random() < 0.8:
        tables["qa_reviews"] = qa
    if rng.random() < 0.85:
        tables["sla_policies"] = [
            {"queue": "*", "priority": "P0", "first_touch_target_hours": 1, "resolution_target_hours": 24,
             "clock": "calendar"},
            {"queue": "*", "priority": "P1", "first_touch_target_hours": 4, "resolution_target_hours": 16,
             "clock": "business", "schedule_id": "dub"},
            {"queue": "q_a", "priority": "P2", "first_touch_target_hours": 2, "resolution_target_hours": 30,
             "clock": "business", "schedule_id": "phx"},
            {"queue": "q_b", "priority": "P2", "first_touch_target_hours": 3, "resolution_target_hours": 10,
             "clock": "business", "schedule_id": "nowhere"},
        ]
        tables["business_hours"] = [
            {"schedule_id": "dub", "timezone": "Europe/Dublin", "weekday": w, "start_time": s, "end_time": e}
            for w in range(1, 6) for s, e in (("08:00:00", "12:00:00"), ("13:00:00", "17:30:00"))
        ] + [
            {"schedule_id": "phx", "timezone": "America/New_York", "weekday": w, "start_time": "18:00:00",
             "end_time": "00:00:00"} for w in range(1, 8)
        ] + [
            {"schedule_id": "phx", "timezone": "America/New_York", "weekday": 7, "start_time": "01:00:00",
             "end_time": "05:00:00"}
        ]
        tables["holidays"] = [{"schedule_id": "dub", "holiday_date": (start + timedelta(days=d)).date().isoformat()}
                              for d in (3, 17)]
    owner_rng = random.Random(seed + 10_000)
    if owner_rng.random() < 0.85:
        tables["specialists"] = _specialists(owner_rng, specialists)
    return tables


def _reassignments(seed: int, appeals: list[dict], specialists: list[str], last_eid: int) -> list[dict]:
    """Extra `assigned` events (own random stream, so the rest of the warehouse is unchanged):
    appeals routed late, reassigned while open, reassigned after a decision; some at midnight
    UTC (a day's end) or tied with another event of the appeal."""
    rng = random.Random(seed + 20_000)
    out = []
    eid = last_eid
    for a in appeals:
        if rng.random() < 0.5:
            continue
        t = datetime.fromisoformat(a["created_at"])
        for _ in range(rng.randint(1, 4)):
            t = t + timedelta(minutes=rng.choice([0, 30, 240, 1440, 3000]))
            if rng.random() < 0.2:
                t = t.replace(hour=0, minute=0) + timedelta(days=1)  # exactly at a UTC day's end
            eid += 1
            out.append({
                "event_id": f"ev{eid:05d}",
                "appeal_id": a["appeal_id"].strip(),
                "occurred_at": t.isoformat(),
                "event_type": "assigned",
                "actor_id": rng.choice(specialists + ["s_unknown", None]),
                "actor_type": "specialist",
                "outcome": None,
                "root_cause": None,
                "note": None,
            })
    return out


def _specialists(rng: random.Random, specialists: list[str]) -> list[dict]:
    """Sites, pods and team leads that partition the specialists differently; one specialist
    without a site; s_unknown (an assignee) is absent, so its appeals have a null site."""
    rows = []
    for sid in specialists:
        rows.append({
            "specialist_id": sid, "display_name": sid.upper(), "pod": rng.choice(["p1", "p2"]),
            "site": rng.choice(["dublin", "phoenix", "manila", None]), "team_lead": rng.choice(["L1", "L2", "L3"]),
            "timezone": "UTC",
        })
    return rows


def random_as_of(seed: int, tables: dict[str, list[dict]]) -> str | None:
    """Sometimes cut the warehouse in the middle (events after as_of, appeals after as_of)."""
    rng = random.Random(seed * 7 + 1)
    if rng.random() < 0.5:
        return None
    created = sorted(a["created_at"] for a in tables["appeals"])
    return created[len(created) * 3 // 4]
