"""Open work now: what is breached, what breaches within N hours, who holds it, how old it is.

One definition each, at the as-of instant T (metrics.md, SLA and backlog):
- **breached now**: open, resolution deadline before T. The same appeals as `backlog_breached`
  of the period that holds T (its end E is after T, so least(E, T) = T); tests/test_workload.py
  reconciles the two, queue by queue and specialist by specialist.
- **due within N hours**: open, resolution deadline in [T, T + N h]: pending now, breached
  if nobody decides it in time. The same appeals as `api.at_risk`.
- **needs action**: breached now or due within N hours (open, deadline at or before T + N h),
  soonest deadline first; time left = deadline − T (negative = overdue).
An open appeal without an SLA policy has no deadline: it is in none of them.

The owner is the facts' owner (the last assigned specialist of an open appeal), which is the
backlog's owner at the end of the period that holds T.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from metrics import api, models
from metrics.conditions import Before, Condition, Eq, Within
from metrics.warehouse import WarehouseError

RISK_WINDOWS = (4, 8, 24, 48, 72)
DEFAULT_HOURS = 24
OPEN = Eq("status", "open")
WORKLOAD_KEYS = ("queue", "specialist_id", "priority", "market", "pod", "site")

WORKLOAD_SCHEMA = {"open_appeals": pl.Int64, "breached": pl.Int64, "due_soon": pl.Int64,
                   "oldest_created_at": pl.Datetime("us", "UTC")}


def _hours(value) -> float:
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise WarehouseError(f"--hours: expected a number of hours, got {value!r}") from None
    if not 0 < hours <= 24 * 35:  # deadlines beyond 35 days after as_of are not computed exactly
        raise WarehouseError(f"--hours: must be more than 0 and at most {24 * 35} (got {value!r})")
    return hours


def breached_now(as_of: datetime) -> Condition:
    return OPEN & Before("ttr_deadline_at", as_of, "now")


def due_within(as_of: datetime, hours: float) -> Condition:
    return OPEN & Within("ttr_deadline_at", as_of, as_of + timedelta(hours=_hours(hours)))


def needs_action(as_of: datetime, hours: float) -> Condition:
    return OPEN & Before("ttr_deadline_at", as_of + timedelta(hours=_hours(hours)), "horizon", inclusive=True)


def by_group(url=None, as_of=None, key: str | None = "queue", hours: float = DEFAULT_HOURS,
             filters: dict | None = None) -> pl.DataFrame:
    """Per value of `key` (None: one total row): open appeals, breached now, due within
    `hours`, and the oldest open appeal's created_at; groups without open appeals are absent."""
    if key is not None and key not in WORKLOAD_KEYS:
        raise WarehouseError(f"key: must be one of {', '.join(WORKLOAD_KEYS)} (got {key!r})")
    wh = api.open_warehouse(url)
    now = api.resolve_as_of(wh, as_of)
    breached, due = breached_now(now), due_within(now, hours)
    params: dict = {"as_of": api.as_of_param(now)} | breached.params() | due.params()
    conds = [OPEN.sql(), *api._filter_sql(filters, params)]
    group_col = key or "cast(null as varchar)"
    sql = (
        f"select {group_col} as group_value, count(*) as open_appeals, "
        f"sum(case when {breached.sql()} then 1 else 0 end) as breached, "
        f"sum(case when {due.sql()} then 1 else 0 end) as due_soon, min(created_at) as oldest_created_at "
        f"from appeal_facts where {' and '.join(f'({c})' for c in conds)} group by {group_col}"
        + (f' order by {key} collate "C"' if key else "")  # PostgreSQL: no collate on an ordinal
    )
    frame = wh.query(wh.compose(None, sql, params), params)
    name = key or "group_value"
    out = api.conform(frame, {"group_value": pl.Utf8} | WORKLOAD_SCHEMA).rename({"group_value": name})
    ages = (pl.lit(now.astimezone(UTC)).cast(pl.Datetime("us", "UTC")) - pl.col("oldest_created_at"))
    return out.with_columns((ages.dt.total_seconds() / 3600.0).alias("oldest_age_hours"))


def total_of(groups: pl.DataFrame) -> pl.DataFrame:
    """by_group's one total row (key None), from its rows by any key: every open appeal is in
    exactly one group (a null value is a group of its own), so the counts add up, and the
    oldest open appeal is the oldest of the groups'. No rows: no open appeal, no row (as
    by_group). A page that shows both asks the warehouse once."""
    if groups.is_empty():
        return pl.DataFrame(schema={"group_value": pl.Utf8} | WORKLOAD_SCHEMA | {"oldest_age_hours": pl.Float64})
    return groups.select(
        pl.lit(None, pl.Utf8).alias("group_value"),
        *(pl.col(c).sum().cast(pl.Int64) for c in ("open_appeals", "breached", "due_soon")),
        pl.col("oldest_created_at").min(),
        pl.col("oldest_age_hours").max(),
    )


def needs_action_list(url=None, as_of=None, hours: float = DEFAULT_HOURS, filters: dict | None = None,
                      limit: int = 200, offset: int = 0) -> tuple[pl.DataFrame, int]:
    """A page of the open appeals that are breached or due within `hours`, soonest deadline
    first (most overdue on top), and how many there are."""
    wh = api.open_warehouse(url)
    now = api.resolve_as_of(wh, as_of)
    return api.appeals(wh, now, filters, where=needs_action(now, hours), order_by="ttr_deadline_at",
                       limit=limit, offset=offset)


def _bound_ids(url, as_of, appeal_ids, prefix: str):
    """(warehouse, binds with as_of, the bound id list for `in (...)`) for a bounded page of
    appeal ids (each a bind parameter, never spliced into SQL); None when there are none."""
    ids = list(dict.fromkeys(str(i) for i in appeal_ids))[: api.DRILL_LIMIT_MAX]
    if not ids:
        return None
    wh = api.open_warehouse(url)
    params: dict = {"as_of": api.as_of_param(api.resolve_as_of(wh, as_of))}
    params |= {f"{prefix}_{i}": a for i, a in enumerate(ids)}
    return wh, params, ", ".join(f":{prefix}_{i}" for i in range(len(ids)))


def clock_age_hours(url=None, as_of=None, appeal_ids=(), store=None) -> pl.DataFrame:
    """Age on each appeal's SLA policy clock at as_of (business hours on a business clock,
    calendar hours on a calendar clock; null without a usable policy), for a bounded list of
    appeals (a page of a drill-down). The schedule's open seconds are read from the same
    models the deadlines come from (clock_days, clock_pieces), so age + time left = target
    whenever the deadline lies inside the schedule's open hours.

    `store`: the warehouse's store (metrics.store), when it holds this as_of: the listed
    appeals' rows (the appeals_base columns the clock reads) come from its facts, and the
    warehouse is read for its policies and schedules only."""
    schema = {"appeal_id": pl.Utf8, "clock_age_hours": pl.Float64}
    bound = _bound_ids(url, as_of, appeal_ids, "ca")
    if bound is None:
        return pl.DataFrame(schema=schema)
    wh, params, id_list = bound
    overrides = None
    if store is not None and api.as_of_param(store.as_of) == params["as_of"]:
        # Finding 50 ids among the warehouse's appeals read every row of it (the test for ids
        # padded with spaces on each): 0.4 s of the dashboard's first load at 10M appeals; the
        # store's facts answer in 0.05 s (bench/README.md, first loads at 10M).
        listed = _listed_appeals(store, params, id_list)
        if listed.height == 0:
            return pl.DataFrame(schema=schema)
        overrides = {"appeals_base": _bound_rows(listed, params)}
        staging = wh.staging_ctes(src_filter={"appeals": "1 = 0", "appeal_events": "1 = 0"})
    else:
        # Only the listed appeals' own rows are staged: their policy, and the schedules' clocks
        # over the days from their first creation (an age is a difference of two readings of one
        # clock, whatever day the clock starts counting from). Over the whole warehouse this
        # computed every appeal's lifecycle first: 32 s of the Overview's 44 s first load at 1M.
        staging = wh.staging_ctes(src_filter={"appeals": wh.staged_text_in("src.appeal_id", id_list),
                                              "appeal_events": "1 = 0"})
    now_epoch = "cast(extract(epoch from cast(:as_of as timestamp with time zone)) as double precision)"
    now_day = "cast(cast(:as_of as timestamp with time zone) at time zone 'UTC' as date)"
    ctes = {
        "picked": (
            "select f.appeal_id, f.created_at, p.clock, p.schedule_id, "
            "cast(extract(epoch from f.created_at) as double precision) as created_epoch "
            "from appeals_base as f inner join appeal_policy as p on p.appeal_id = f.appeal_id "
            f"where f.appeal_id in ({id_list}) and p.has_policy and p.is_clock_usable"
        ),
        "age_points": (
            "select appeal_id, schedule_id, 'created' as point, created_epoch as at_epoch, "
            "cast(created_at at time zone 'UTC' as date) as utc_day from picked where clock = 'business' "
            f"union all select appeal_id, schedule_id, 'now', {now_epoch}, {now_day} "
            "from picked where clock = 'business'"
        ),
        "age_readings": (
            "select pt.appeal_id, pt.point, max(d.cum_before_day_seconds) + coalesce(sum(case "
            "when pc.start_epoch < pt.at_epoch then least(pc.end_epoch, pt.at_epoch) - pc.start_epoch else 0 end), 0) "
            "as clock_seconds from age_points as pt "
            "left join clock_days as d on d.schedule_id = pt.schedule_id and d.utc_day = pt.utc_day "
            "left join clock_pieces as pc on pc.schedule_id = pt.schedule_id and pc.utc_day = pt.utc_day "
            "group by pt.appeal_id, pt.point"
        ),
    }
    sql = (
        "select p.appeal_id, case when p.clock = 'business' then "
        "(max(case when r.point = 'now' then r.clock_seconds end) - max(case when r.point = 'created' then "
        "r.clock_seconds end)) / 3600.0 "
        f"else ({now_epoch} - max(p.created_epoch)) / 3600.0 end as clock_age_hours "
        "from picked as p left join age_readings as r on r.appeal_id = p.appeal_id "
        "group by p.appeal_id, p.clock"
    )
    query = models.with_models(staging, ctes, sql, upto="clock_days", overrides=overrides, dialect=wh.dialect)
    return api.conform(wh.query(query, params), schema)


# the appeals_base columns the policy clock reads (appeal_policy, clock_range, `picked`)
_CLOCK_BASE = {"appeal_id": pl.Utf8, "queue": pl.Utf8, "priority": pl.Utf8,
               "created_at": pl.Datetime("us", "UTC")}


def _listed_appeals(store, params: dict, id_list: str) -> pl.DataFrame:
    """The listed appeals' appeals_base columns, from the store's facts (one row per appeal
    there). The open ones first: a drill-down asks ages of open appeals, and the status test
    lets the id test run on few rows (0.05 s against 0.16 s at 10M)."""
    cols = ", ".join(_CLOCK_BASE)
    asked = {k: v for k, v in params.items() if k.startswith("ca_")}

    def read(cond: str, binds: dict, names: str) -> pl.DataFrame:
        select = f"select {cols} from appeal_facts where {cond} and appeal_id in ({names})"
        binds = {**binds, "as_of": params["as_of"]}
        return api.conform(store.query(store.compose(None, select, binds), binds), _CLOCK_BASE)

    found = read(OPEN.sql(), asked, id_list)
    seen = set(found["appeal_id"].to_list())
    rest = {k: v for k, v in asked.items() if v not in seen}
    if rest:
        found = pl.concat([found, read("1 = 1", rest, ", ".join(f":{k}" for k in rest))])
    return found


def _bound_rows(listed: pl.DataFrame, params: dict) -> str:
    """appeals_base as the listed rows, each value a bind parameter (added to `params`)."""
    selects = []
    for i, row in enumerate(listed.iter_rows(named=True)):
        params |= {f"cb_id_{i}": row["appeal_id"], f"cb_q_{i}": row["queue"], f"cb_p_{i}": row["priority"],
                   f"cb_c_{i}": row["created_at"].isoformat()}
        selects.append(f"select cast(:cb_id_{i} as varchar) as appeal_id, cast(:cb_q_{i} as varchar) as queue, "
                       f"cast(:cb_p_{i} as varchar) as priority, "
                       f"cast(:cb_c_{i} as timestamp with time zone) as created_at")
    return "\nunion all\n".join(selects)


def decision_notes(url=None, as_of=None, appeal_ids=()) -> pl.DataFrame:
    """The final decision note of each of a bounded list of appeals, redacted
    (metrics.redact.redact_personal) before it leaves the engine."""
    from metrics.redact import redact_frame_texts

    schema = {"appeal_id": pl.Utf8, "decision_note": pl.Utf8}
    bound = _bound_ids(url, as_of, appeal_ids, "dn")
    if bound is None:
        return pl.DataFrame(schema=schema)
    wh, params, id_list = bound
    sql = wh.compose(None, f"select appeal_id, decision_note from decision_notes where appeal_id in ({id_list})",
                     params)
    return redact_frame_texts(api.conform(wh.query(sql, params), schema))
