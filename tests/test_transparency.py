"""Complaint-handling figures (interfaces.md `transparency`): hand-derived on a small warehouse,
and on the sample every figure recomputed from `facts --wide` rows."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime

import polars as pl

from metrics import api, transparency
from metrics.load import frames_from_rows, write_duckdb
from tests.helpers import make_warehouse

# period 2026-03-01 .. 2026-03-07 (UTC)
PLAN = [  # id, appellant, enforcement (policy, action) or None, created, decided at, outcome
    ("a1", "seller", ("impersonation", "account_suspension"), "2026-03-02 09:00", "2026-03-03 09:00", "overturned"),
    ("a2", "buyer", ("harassment", "account_suspension"), "2026-03-02 10:00", "2026-03-04 10:00", "upheld"),
    ("a3", "seller", ("counterfeit", "listing_removal"), "2026-03-03 00:00", "2026-03-03 06:00",
     "partially_overturned"),
    ("a4", "seller", None, "2026-03-04 00:00", None, None),
    ("a5", "seller", ("counterfeit", "listing_removal"), "2026-02-27 00:00", "2026-03-02 00:00", "upheld"),
    ("a6", "buyer", ("harassment", "account_suspension"), "2026-03-06 00:00", "2026-03-10 00:00", "upheld"),
]


def _rows(with_type: bool = True):
    appeals, events, enf = [], [], []
    for aid, who, e, created, decided, outcome in PLAN:
        row = {"appeal_id": aid, "queue": "q", "priority": "P1", "created_at": created, "enforcement_id": f"e_{aid}"}
        if with_type:
            row["appellant_type"] = who
        appeals.append(row)
        if e:
            enf.append({"enforcement_id": f"e_{aid}", "action": e[1], "policy": e[0], "source": "human",
                        "enforced_at": "2026-02-20 00:00"})
        if decided:
            events.append({"event_id": f"d_{aid}", "appeal_id": aid, "occurred_at": decided, "event_type": "decided",
                           "actor_id": "s1", "actor_type": "specialist", "outcome": outcome})
    return {"appeals": appeals, "appeal_events": events, "enforcements": enf}


def test_hand_derived(tmp_path):
    url = make_warehouse(tmp_path, _rows())
    got = transparency.figures(url, "2026-03-01", "2026-03-07")
    assert got == {
        # created in the period: a1, a2, a3, a4, a6 (a5 was created before it)
        "complaints_total": 5,
        "complaints_by_policy": {"harassment": 2, "counterfeit": 1, "impersonation": 1, "unknown": 1},  # a4: none
        "complaints_by_action": {"account_suspension": 3, "listing_removal": 1, "unknown": 1},
        # decided in the period: a1 overturned, a2 upheld, a3 partially, a5 upheld (a6 decided after it)
        "decisions": {"upheld": 2, "overturned": 1, "partially_overturned": 1},
        # hours to decision: a3 6, a1 24, a2 48, a5 72 → median (24 + 48) / 2
        "median_hours_to_decision": 36.0,
        "reversed_total": 2,
        "business_users": {  # sellers a1, a3, a4, a5
            "complaints_total": 3,
            "complaints_by_policy": {"counterfeit": 1, "impersonation": 1, "unknown": 1},
            "complaints_by_action": {"account_suspension": 1, "listing_removal": 1, "unknown": 1},
            "decisions": {"upheld": 1, "overturned": 1, "partially_overturned": 1},
            "median_hours_to_decision": 24.0,  # 6, 24, 72
            "reversed_total": 2,
        },
    }


def test_without_appellant_type_business_users_is_null(tmp_path):
    frames = frames_from_rows(_rows(with_type=False))
    frames["appeals"] = frames["appeals"].drop("appellant_type")  # the optional column is absent
    url = f"duckdb:///{write_duckdb(frames, tmp_path / 'wh.duckdb')}"
    got = transparency.figures(url, "2026-03-01", "2026-03-07")
    assert got["business_users"] is None and got["complaints_total"] == 5


def test_cli_and_bad_period(tmp_path):
    url = make_warehouse(tmp_path, _rows())
    out = tmp_path / "t.json"
    run = subprocess.run([sys.executable, "-m", "metrics", "transparency", "--warehouse", url, "--from", "2026-03-01",
                          "--to", "2026-03-07", "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(out.read_text())["reversed_total"] == 2
    bad = subprocess.run([sys.executable, "-m", "metrics", "transparency", "--warehouse", url, "--from", "2026-03-07",
                          "--to", "2026-03-01"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--to" in bad.stderr


def _recompute(facts: pl.DataFrame, lo: datetime, hi: datetime) -> dict:
    created = facts.filter((pl.col("created_at") >= lo) & (pl.col("created_at") < hi))
    decided = facts.filter((pl.col("status") == "resolved") & pl.col("outcome").is_not_null()
                           & (pl.col("resolved_at") >= lo) & (pl.col("resolved_at") < hi))
    counts = dict(decided.group_by("outcome").len().iter_rows())
    return {
        "complaints_total": created.height,
        "complaints_by_policy": dict(created.group_by(pl.col("policy").fill_null("unknown")).len().iter_rows()),
        "complaints_by_action": dict(created.group_by(pl.col("enforcement_action").fill_null("unknown")).len()
                                     .iter_rows()),
        "decisions": {k: counts.get(k, 0) for k in ("upheld", "overturned", "partially_overturned")},
        "median_hours_to_decision": decided["ttr_hours"].quantile(0.5, interpolation="linear"),
        "reversed_total": counts.get("overturned", 0) + counts.get("partially_overturned", 0),
    }


def test_sample_figures_reconcile_to_wide_facts():
    facts = api.facts(None, wide=True)
    lo, hi = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    got = transparency.figures(None, "2026-10-01", "2026-10-31")
    for key, sub in ((None, facts), ("business_users", facts.filter(pl.col("appellant_type") == "seller"))):
        want = _recompute(sub, lo, hi)
        have = got if key is None else got[key]
        assert set(have) == set(want) | ({"business_users"} if key is None else set())
        for name, value in want.items():
            if name == "median_hours_to_decision":
                assert math.isclose(have[name], value, rel_tol=1e-12), name
            else:
                assert have[name] == value, (key, name)
    # a month of the sample: thousands of complaints, about 79% from sellers, ~20% of decisions reversed
    assert got["complaints_total"] > 7000 and 0.7 < got["business_users"]["complaints_total"] / got["complaints_total"] < 0.9
    assert 0.15 < got["reversed_total"] / sum(got["decisions"].values()) < 0.3
