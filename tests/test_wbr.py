"""The weekly business review on a small hand-built warehouse: sentences carry the numbers."""

from __future__ import annotations

import pytest

from metrics import wbr
from metrics.warehouse import WarehouseError
from tests.helpers import make_warehouse


def _appeal(i, queue, created):
    return {"appeal_id": f"a{i}", "queue": queue, "priority": "P1", "created_at": created,
            "enforcement_id": f"e{i}"}


def _decided(i, at, outcome, root_cause=None, actor="s1"):
    return {"event_id": f"d{i}", "appeal_id": f"a{i}", "occurred_at": at, "event_type": "decided",
            "actor_id": actor, "actor_type": "specialist", "outcome": outcome, "root_cause": root_cause}


def test_wbr_headline_and_why(tmp_path):
    # Week 2026-W10 (Mon 03-02) then W11 (Mon 03-09). Queue q1:
    #   W10: 2 appeals created and decided, 1 overturned (agent_error)  → overturn 50%
    #   W11: 4 appeals created and decided, 3 overturned (automation_false_positive), 1 upheld → 75%
    # Queue q2: W11 one appeal decided upheld.
    appeals, events = [], []
    plan = [
        (1, "q1", "2026-03-02 09:00", "2026-03-03 09:00", "overturned", "agent_error"),
        (2, "q1", "2026-03-02 10:00", "2026-03-03 10:00", "upheld", None),
        (3, "q1", "2026-03-09 09:00", "2026-03-10 09:00", "overturned", "automation_false_positive"),
        (4, "q1", "2026-03-09 10:00", "2026-03-10 10:00", "overturned", "automation_false_positive"),
        (5, "q1", "2026-03-09 11:00", "2026-03-10 11:00", "overturned", "automation_false_positive"),
        (6, "q1", "2026-03-09 12:00", "2026-03-10 12:00", "upheld", None),
        (7, "q2", "2026-03-09 12:00", "2026-03-11 12:00", "upheld", None),
    ]
    for i, queue, created, decided, outcome, rc in plan:
        appeals.append(_appeal(i, queue, created))
        events.append(_decided(i, decided, outcome, rc))
    url = make_warehouse(tmp_path, {"appeals": appeals, "appeal_events": events})
    text = wbr.render(url, "2026-W11", str(tmp_path / "wbr.md"))
    # appeals created: W11 = 5 (a3..a7), W10 = 2 → +150.0%
    assert "Appeals created was 5 in 2026-W11, +150.0% week over week." in text
    # overturn rate: W11 3 of 5 known outcomes = 60.0%; W10 1 of 2 = 50.0% → +10.0 pp, worse
    assert "Overturn rate was 60.0% (3 of 5) in 2026-W11, +10.0 pp week over week (worse)." in text
    # why: q1 overturns 1 → 3 (+2); theme automation false positives 0 → 3 (+3)
    assert ("Why q1: overturns theme automation false positives went from 0 to 3 (+3), "
            "while the queue's overturns changed by +2 in all.") in text
    assert (tmp_path / "wbr.md").read_text() == text
    html_text = (wbr.render(url, "2026-W11", str(tmp_path / "wbr.html")), (tmp_path / "wbr.html").read_text())[1]
    assert html_text.startswith("<!doctype html>") and "<table>" in html_text


def test_wbr_bad_week(tmp_path):
    url = make_warehouse(tmp_path, {"appeals": [_appeal(1, "q", "2026-03-02 09:00")], "appeal_events": []})
    with pytest.raises(WarehouseError, match="--week"):
        wbr.render(url, "2026-53")
    with pytest.raises(WarehouseError, match="nothing happened"):
        wbr.render(url, "2025-W01")
