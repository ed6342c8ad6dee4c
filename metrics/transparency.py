"""Complaint-handling figures for a reporting period (EU DSA Art. 15(1)(d); P2B Art. 11 for sellers).

`python -m metrics transparency` (interfaces.md): complaints are the appeals created in the
period, decisions the appeals resolved in it with a known outcome (a decision without an
outcome is counted by the `decided_without_outcome` check, not here). Every figure is an
aggregate over `appeal_facts`, pushed down to the warehouse, so it reconciles to
`facts --wide` rows (tests/test_transparency.py recomputes each one).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metrics import api
from metrics.warehouse import WarehouseError

OUTCOMES = ("upheld", "overturned", "partially_overturned")
REVERSED = ("overturned", "partially_overturned")
BUSINESS_USER = "seller"
UNKNOWN = "unknown"  # a complaint whose enforcement (policy, action) is not in the warehouse


def _bounds(date_from, date_to, tz: str) -> tuple[datetime, datetime]:
    start = api._date(date_from, "--from")
    end = api._date(date_to, "--to")
    if start is None or end is None:
        raise WarehouseError("--from/--to: both dates of the reporting period are required")
    if end < start:
        raise WarehouseError(f"--to: {end} is before --from {start}")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise WarehouseError(f"--tz: unknown IANA time zone {tz!r}") from None
    return (datetime.combine(start, time.min, zone), datetime.combine(end + timedelta(days=1), time.min, zone))


def has_appellant_type(wh) -> bool:
    return "appeals" in wh.adapter_sql or "appellant_type" in wh.columns().get("appeals", [])


def figures(url=None, date_from: date | str | None = None, date_to: date | str | None = None, as_of=None,
            tz: str = "UTC") -> dict:
    """The transparency object of interfaces.md for [date_from, date_to] (whole days in `tz`)."""
    wh = api.open_warehouse(url)
    as_of_dt = api.resolve_as_of(wh, as_of)
    lo, hi = _bounds(date_from, date_to, tz)
    params = {"as_of": api.as_of_param(as_of_dt), "period_from": lo.isoformat(), "period_to": hi.isoformat()}
    created = ("created_at >= cast(:period_from as timestamp with time zone) "
               "and created_at < cast(:period_to as timestamp with time zone)")
    decided = ("status = 'resolved' and outcome in ('upheld', 'overturned', 'partially_overturned') "
               "and resolved_at >= cast(:period_from as timestamp with time zone) "
               "and resolved_at < cast(:period_to as timestamp with time zone)")
    seller = f"coalesce(appellant_type = '{BUSINESS_USER}', false)"
    complaints = wh.query(wh.compose(None, (
        f"select {seller} as is_business, coalesce(policy, '{UNKNOWN}') as policy, "
        f"coalesce(enforcement_action, '{UNKNOWN}') as action, count(*) as n "
        f"from appeal_facts where {created} group by 1, 2, 3"), params), params)
    decisions = wh.query(wh.compose(None, (
        f"select {seller} as is_business, outcome, count(*) as n "
        f"from appeal_facts where {decided} group by 1, 2"), params), params)
    medians = wh.query(wh.compose(None, (
        "select percentile_cont(0.5) within group (order by ttr_hours) as all_hours, "
        f"percentile_cont(0.5) within group (order by ttr_hours) filter (where {seller}) as business_hours "
        f"from appeal_facts where {decided}"), params), params).row(0, named=True)

    def block(business_only: bool, median) -> dict:
        rows_c = [r for r in complaints.iter_rows(named=True) if r["is_business"] or not business_only]
        rows_d = [r for r in decisions.iter_rows(named=True) if r["is_business"] or not business_only]
        by_policy: dict[str, int] = {}
        by_action: dict[str, int] = {}
        for r in rows_c:
            by_policy[r["policy"]] = by_policy.get(r["policy"], 0) + int(r["n"])
            by_action[r["action"]] = by_action.get(r["action"], 0) + int(r["n"])
        outcome = {k: 0 for k in OUTCOMES}
        for r in rows_d:
            outcome[r["outcome"]] += int(r["n"])
        return {
            "complaints_total": sum(by_policy.values()),
            "complaints_by_policy": dict(sorted(by_policy.items(), key=lambda kv: (-kv[1], kv[0]))),
            "complaints_by_action": dict(sorted(by_action.items(), key=lambda kv: (-kv[1], kv[0]))),
            "decisions": outcome,
            "median_hours_to_decision": None if median is None else float(median),
            "reversed_total": sum(outcome[k] for k in REVERSED),
        }

    out = block(False, medians["all_hours"])
    out["business_users"] = block(True, medians["business_hours"]) if has_appellant_type(wh) else None
    return out


def write(result: dict, out: str | None) -> str:
    text = json.dumps(result, indent=2)
    if out and out != "-":
        path = Path(out)
        if path.suffix.lower() != ".json":
            raise ValueError(f"--out: transparency figures are one JSON object; use a .json file, not {path.suffix!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return text
