"""Row builders and readers shared by the hand-derived case files (test_*_cases.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from tests.helpers import make_warehouse


def T(s: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM[:SS]' (tz-aware)."""
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def N(s: str) -> datetime:
    """The same instant as a naive UTC datetime (how `facts_by_id` returns timestamps)."""
    return datetime.fromisoformat(s)


def D(s: str) -> date:
    return date.fromisoformat(s)


def appeal(aid: str, created: str = "2026-03-02 09:00:00", queue: str = "account_suspension",
           priority: str = "P2", **kw) -> dict:
    return {"appeal_id": aid, "queue": queue, "priority": priority, "created_at": created, **kw}


def ev(eid: str, aid: str, at: str, etype: str, actor_type: str = "specialist",
       actor_id: str | None = "s1", **kw) -> dict:
    return {"event_id": eid, "appeal_id": aid, "occurred_at": at, "event_type": etype,
            "actor_type": actor_type, "actor_id": actor_id, **kw}


def policy(queue: str, priority: str, ftr: float | None, ttr: float | None, clock: str = "calendar",
           schedule_id: str | None = None) -> dict:
    return {"queue": queue, "priority": priority, "first_touch_target_hours": ftr,
            "resolution_target_hours": ttr, "clock": clock, "schedule_id": schedule_id}


def naive_utc(df: pl.DataFrame) -> pl.DataFrame:
    """Timestamps → naive UTC datetimes, whatever zone the engine attached."""
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            exprs.append(pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None))
    return df.with_columns(exprs) if exprs else df


def facts_by_id(api, url: str, as_of: datetime | None) -> dict[str, dict]:
    df = api.facts(url, as_of=as_of) if as_of is not None else api.facts(url)
    rows = naive_utc(df).to_dicts()
    ids = [r["appeal_id"] for r in rows]
    assert len(ids) == len(set(ids)), f"each appeal exactly once: {ids}"
    return {r["appeal_id"]: r for r in rows}


def wh(tmp_path, appeals: list[dict], events: list[dict], **tables) -> str:
    return make_warehouse(tmp_path, {"appeals": appeals, "appeal_events": events, **tables})
