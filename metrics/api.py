"""The engine's public Python API: facts, status spans, report, check, and bounded
drill-downs (appeals, at_risk, members: the appeals behind one report cell).

The CLI (`python -m metrics`) and the dashboard call these; nothing here imports streamlit.
`url` may be a SQLAlchemy URL or an already opened Warehouse. Callers pass names, values
and condition objects (metrics.conditions), never SQL text.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import polars as pl

from metrics.conditions import Condition, Eq, Within
from metrics.schema import ALL_FACTS_COLUMNS, FACTS_COLUMNS, SPANS_COLUMNS, SQL_TYPES, WIDE_COLUMNS
from metrics.warehouse import Warehouse, WarehouseError


def open_warehouse(url: str | Warehouse | None) -> Warehouse:
    if isinstance(url, Warehouse):
        return url
    if url is None:
        from metrics.bundled_sample import ensure_sample_duckdb

        url = f"duckdb:///{ensure_sample_duckdb()}"
    wh = Warehouse.open(url)
    wh.validate()
    return wh


def parse_instant(value: str | datetime | None, name: str = "--as-of") -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise WarehouseError(f"{name}: not an ISO-8601 instant: {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    from metrics.contract import SANE_FROM, SANE_UNTIL

    if not SANE_FROM <= dt < SANE_UNTIL:  # the data's own instants outside these are read as null
        raise WarehouseError(f"{name}: {value} is outside the years this product reads "
                             f"({SANE_FROM.year}–{SANE_UNTIL.year - 1})")
    return dt.astimezone(UTC)


def default_as_of(wh: Warehouse) -> datetime:
    """The latest created_at or occurred_at in the warehouse (metrics.md, "The as-of time")."""
    st = wh.staging_ctes()
    sql = (
        f"with stg_appeals as ({st['stg_appeals']}), stg_appeal_events as ({st['stg_appeal_events']}) "
        "select max(t) as as_of from ("
        " select max(created_at) as t from stg_appeals union all select max(occurred_at) from stg_appeal_events"
        ") as latest"
    )
    value = wh.query(sql)["as_of"][0]
    if value is None:
        raise WarehouseError("appeals: the table has no rows with created_at, so there is no as-of time")
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def resolve_as_of(url, as_of) -> datetime:
    """--as-of when given, else the warehouse's latest created_at or occurred_at."""
    return parse_instant(as_of) or default_as_of(open_warehouse(url))


def as_of_param(as_of: datetime) -> str:
    return as_of.astimezone(UTC).isoformat()


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Cast a result to a fixed schema, so every dialect returns identical frames."""
    exprs = []
    for name, dtype in schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            src = frame.schema[name]
            if isinstance(src, pl.Datetime):
                col = col.dt.replace_time_zone("UTC") if src.time_zone is None else col.dt.convert_time_zone("UTC")
                col = col.dt.cast_time_unit("us")
            else:
                col = col.cast(dtype)
            exprs.append(col.alias(name))
        else:
            exprs.append(col.cast(dtype).alias(name))
    return frame.select(exprs)


def facts(url=None, as_of=None, wide: bool = False) -> pl.DataFrame:
    """One row per appeal created at or before as_of, the `facts` columns of interfaces.md."""
    wh = open_warehouse(url)
    sql, params, schema = _facts_query(wh, resolve_as_of(wh, as_of), wide)
    return conform(wh.query(sql, params), schema)


def _facts_query(wh: Warehouse, as_of_dt: datetime, wide: bool) -> tuple[str, dict, dict]:
    schema = dict(FACTS_COLUMNS) | (WIDE_COLUMNS if wide else {})
    params = {"as_of": as_of_param(as_of_dt)}
    sql = wh.compose(None, f'select {", ".join(schema)} from appeal_facts order by appeal_id collate "C"', params)
    return sql, params, schema


def status_spans(url=None, as_of=None) -> pl.DataFrame:
    """The open stretches behind backlog, with the owner during each (SPANS_COLUMNS)."""
    wh = open_warehouse(url)
    as_of_dt = resolve_as_of(wh, as_of)
    params = {"as_of": as_of_param(as_of_dt)}
    sql = wh.compose(None, f'select {", ".join(SPANS_COLUMNS)} from status_spans '
                           'order by appeal_id collate "C", open_from', params)
    return conform(wh.query(sql, params), SPANS_COLUMNS)


def key_values(url=None, keys=("queue",), as_of=None) -> dict[str, list[str]]:
    """The values each grouping key takes over the appeals created up to as_of (what a filter
    can pick), sorted; one narrow scan of the facts (the dashboard's filter lists: the same
    values as a report of appeals_created by these keys over all periods, without grouping
    every period of history)."""
    from metrics.catalog import resolve_keys

    wh = open_warehouse(url)
    as_of_dt = resolve_as_of(wh, as_of)
    cols = [resolve_keys([k])[0] for k in keys]
    params = {"as_of": as_of_param(as_of_dt)}
    distinct = list(dict.fromkeys(cols))
    kept = wh.kept_key_values(params["as_of"])
    if all(c in kept for c in distinct):
        return {k: list(kept[c]) for k, c in zip(keys, cols, strict=True)}
    # each column's values on its own: the distinct combinations of all of them took a hash
    # of every tuple (the sidebar's five over the 10M store: 0.17 s against 0.10 s)
    sql = wh.compose(None, " union all ".join(
        f"select {i} as key_index, {c} as key_value from (select distinct {c} from appeal_facts) as d{i}"
        for i, c in enumerate(distinct)), params)
    rows = wh.query(sql, params)
    values = {c: sorted(v for v in rows.filter(pl.col("key_index") == i)["key_value"].to_list() if v is not None)
              for i, c in enumerate(distinct)}
    return {k: values[c] for k, c in zip(keys, cols, strict=True)}


def specialist_names(url=None, as_of=None) -> dict[str, str]:
    """specialist_id → the name the appeals' facts give it (`specialist_name`: the owner's
    `specialists.display_name`, one per id), for every specialist some appeal created up to
    as_of names; kept at refresh in a store (the Specialists page's labels on every rerun)."""
    wh = open_warehouse(url)
    params = {"as_of": as_of_param(resolve_as_of(wh, as_of))}
    kept = wh.kept_specialist_names(params["as_of"])
    if kept is not None:
        return kept
    sql = wh.compose(None, "select specialist_id, min(specialist_name) as specialist_name from appeal_facts "
                           "where specialist_id is not null and specialist_name is not null group by specialist_id",
                     params)
    return dict(wh.query(sql, params).iter_rows())


def _date(value, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise WarehouseError(f"{name}: not an ISO date (YYYY-MM-DD): {value!r}") from None


def _report_schema(plan) -> dict[str, pl.DataType]:
    from metrics.catalog import METRICS

    schema: dict[str, pl.DataType] = {"period_start": pl.Date}
    for k in plan.keys:
        schema[k] = pl.Utf8
    for name in plan.metrics:
        schema |= METRICS[name].kind.columns(name)
    return schema


def plan_report(wh: Warehouse, by=None, period="week", date_from=None, date_to=None, metrics=None, tz="UTC",
                as_of=None, filters=None):
    from metrics.report_plan import make_plan

    if isinstance(by, str):
        by = by.split(",")
    if isinstance(metrics, str):
        metrics = metrics.split(",")
    return make_plan(
        by, metrics, period, tz, resolve_as_of(wh, as_of), _date(date_from, "--from"), _date(date_to, "--to"),
        filters, wh.has_table("qa_reviews"), wh.has_table("enforcements"),
    )


def report(url=None, by=None, period: str = "week", date_from=None, date_to=None, metrics=None, tz: str = "UTC",
           as_of=None, filters: dict | None = None, engine: str = "sql") -> pl.DataFrame:
    """One row per (period, group) as `python -m metrics report` (interfaces.md)."""
    from metrics.report_plan import pinned_keys

    wh = open_warehouse(url)
    plan = plan_report(wh, by, period, date_from, date_to, metrics, tz, as_of, filters)
    schema = _report_schema(plan)
    keys = plan.keys
    pinned = pinned_keys(keys, plan.filters)
    plan = replace(plan, keys=[k for k in keys if k not in pinned])
    if engine == "polars":
        from metrics import engine_polars

        frames = report_inputs(wh, plan.as_of)
        out = engine_polars.report(frames["facts"], frames["spans"], frames["qa"], frames["enforcements"], plan)
    else:
        from metrics import engine_sql

        out = engine_sql.run_report(wh, plan)
    return conform(with_pinned(out, keys, pinned), schema)


def with_pinned(frame: pl.DataFrame, keys: list[str], pinned: dict[str, str]) -> pl.DataFrame:
    """A report asked without its pinned keys (report_plan.pinned_keys), grouped by `keys`
    again: the pinned ones added back as the constant columns they are, in their place."""
    if not pinned:
        return frame
    rest = [c for c in frame.columns if c != "period_start" and c not in keys]
    return frame.with_columns(pl.lit(v, pl.Utf8).alias(k) for k, v in pinned.items()).select(
        "period_start", *keys, *rest)


def holidays(url, start: date, end: date, as_of=None) -> dict[str, list[date]]:
    """Closed days of each business-hours schedule between `start` and `end` (inclusive), from
    the `holidays` table as the SLA clocks read it (stg_holidays: broken years left out);
    {} without the table."""
    wh = open_warehouse(url)
    if not wh.has_table("holidays"):
        return {}
    params = {"week_from": start.isoformat(), "week_to": end.isoformat(), "as_of": as_of_param(resolve_as_of(wh, as_of))}
    sql = wh.compose(None, "select schedule_id, holiday_date from stg_holidays where holiday_date >= "
                           "cast(:week_from as date) and holiday_date <= cast(:week_to as date) "
                           'order by holiday_date, schedule_id collate "C"', params)
    out: dict[str, list[date]] = {}
    for sid, day in wh.query(sql, params).iter_rows():
        if sid is not None:
            out.setdefault(sid, []).append(day if isinstance(day, date) else date.fromisoformat(str(day)))
    return out


def schedule_links(url, as_of=None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What ties a business-hours schedule (and so its holidays) to the appeals (warehouse.md):
    (policies, staff). policies: every `sla_policies` row (queue, priority, schedule_id, null on a
    calendar clock; queue `*` is the default for a priority: a queue's own row, even a calendar
    one, replaces it). staff: (site, pod, schedule_id) of
    the specialists whose time zone is the schedule's (`specialists.timezone` =
    `business_hours.timezone`). Empty frames for absent tables."""
    wh = open_warehouse(url)
    params = {"as_of": as_of_param(resolve_as_of(wh, as_of))}
    p_schema = {"queue": pl.Utf8, "priority": pl.Utf8, "schedule_id": pl.Utf8}
    s_schema = {"site": pl.Utf8, "pod": pl.Utf8, "schedule_id": pl.Utf8}
    policies, staff = pl.DataFrame(schema=p_schema), pl.DataFrame(schema=s_schema)
    if wh.has_table("sla_policies"):
        policies = conform(wh.query(wh.compose(None, "select distinct queue, priority, case when clock = 'business' "
                                                     "then schedule_id end as schedule_id from stg_sla_policies",
                                            params), params), p_schema)
    if wh.has_table("specialists") and wh.has_table("business_hours"):
        staff = conform(wh.query(wh.compose(None, "select distinct s.site, s.pod, b.schedule_id from stg_specialists "
                                                  "as s inner join stg_business_hours as b on b.timezone = s.timezone",
                                            params), params), s_schema)
    return policies, staff


def report_inputs(url, as_of=None) -> dict[str, pl.DataFrame]:
    """The frames the Polars engine works on, pulled from the warehouse."""
    wh = open_warehouse(url)
    as_of_dt = resolve_as_of(wh, as_of)
    p = {"as_of": as_of_param(as_of_dt)}
    qa_schema = {"review_id": pl.Utf8, "appeal_id": pl.Utf8, "reviewed_at": pl.Datetime("us", "UTC"),
                 "decision_correct": pl.Boolean}
    enf_schema = {"enforcement_id": pl.Utf8, "action": pl.Utf8, "policy": pl.Utf8, "source": pl.Utf8,
                  "enforced_by": pl.Utf8, "enforced_at": pl.Datetime("us", "UTC")}
    qa = conform(wh.query(wh.compose(None, f"select {', '.join(qa_schema)} from qa_reviews_clean", p), p), qa_schema)
    enf = conform(wh.query(wh.compose(None, f"select {', '.join(enf_schema)} from enforcements_clean", p), p),
                  enf_schema)
    return {"facts": facts(wh, as_of_dt, wide=True), "spans": status_spans(wh, as_of_dt), "qa": qa, "enforcements": enf}


def check(url=None, as_of=None, max_age_hours: float | None = None, now: datetime | None = None, kept=None):
    """Run every data check; returns the checks that found something (CheckResult list).
    With `max_age_hours`, also `warehouse_stale` when the latest event is older than that.
    With `kept` (the store's state, refreshed from this warehouse at this as_of), the
    per-appeal checks are read from the hits the store keeps instead of the models."""
    from metrics import checks
    from metrics.importlog.summary import skip_checks

    wh = open_warehouse(url)
    as_of_dt = resolve_as_of(wh, as_of)
    if kept is not None and kept.as_of != as_of_dt:
        raise WarehouseError(f"--as-of: the store holds as_of {kept.as_of.isoformat()}, not {as_of_dt.isoformat()}")
    # rows an import left out of this warehouse (import_skipped_rows), after the data checks
    found = checks.run_checks(wh, {"as_of": as_of_param(as_of_dt)}, kept=kept) + skip_checks(wh)
    stale = checks.freshness(default_as_of(wh), max_age_hours, now)
    return found + ([stale] if stale else [])


def import_summary(url=None) -> dict | None:
    """How the warehouse was imported from a case log (import_runs), or None if it was not."""
    from metrics.importlog.summary import import_summary as summary

    return summary(open_warehouse(url))


def config_checks(url=None):
    """The adapter's configuration checks alone (names in its config that match nothing in the
    data), for the connection status; they do not depend on the as-of time."""
    from metrics import checks

    return checks.run_adapter_checks(open_warehouse(url), {}, kinds=("config",))


# -- bounded drill-downs ----------------------------------------------------------------------

DRILL_LIMIT_MAX = 5000


def _page_of_facts(select: str, cond: str, order: str, limit: int, offset: int) -> str:
    """A page of `appeal_facts` rows and the count of all that match, in one statement (one
    snapshot). The count is its own aggregate: `count(*) over ()` on the page's query kept
    every matching wide row to number them before the limit (at 10M, 278k open appeals in the
    needs-action list: 0.69 s against 0.41 s this way, where the page is a top-N)."""
    return (
        f"select page.*, total.total_rows from (select {select} from appeal_facts where {cond} "
        f"order by {order} limit {limit} offset {offset}) as page "
        f"cross join (select count(*) as total_rows from appeal_facts where {cond}) as total order by {order}"
    )


def _filter_sql(filters: dict | None, params: dict, alias: str = "") -> list[str]:
    from metrics.catalog import resolve_keys

    out = []
    for key, values in (filters or {}).items():
        if not values:
            continue
        (col,) = resolve_keys([key])
        names = []
        for i, v in enumerate(values):
            params[f"d_{col}_{i}"] = str(v)
            names.append(f":d_{col}_{i}")
        out.append(f"{alias}{col} in ({', '.join(names)})")
    return out


def appeals(url=None, as_of=None, filters: dict | None = None, where: Condition | None = None,
            order_by: str = "appeal_id", limit: int = 200, offset: int = 0) -> tuple[pl.DataFrame, int]:
    """A page of wide facts rows (pushed down: filter, order, limit) and the total row count.

    `where` is a condition object (metrics.conditions) and `order_by` one of the facts columns;
    no SQL text comes in. Values from users arrive in `filters` and in the condition's binds.
    """
    if where is not None and not isinstance(where, Condition):
        raise WarehouseError("where: expected a metrics.conditions.Condition, not SQL text")
    if order_by not in ALL_FACTS_COLUMNS:
        raise WarehouseError(f"order_by: unknown facts column {order_by!r}")
    wh = open_warehouse(url)
    as_of_dt = resolve_as_of(wh, as_of)
    params: dict = {"as_of": as_of_param(as_of_dt)}
    conds = _filter_sql(filters, params)
    if where is not None:
        conds.append(where.sql())
        params |= where.params()
    cond = " and ".join(f"({c})" for c in conds) or "1 = 1"
    limit = max(0, min(int(limit), DRILL_LIMIT_MAX))
    schema = dict(ALL_FACTS_COLUMNS)
    cols = ", ".join(schema)
    select = _page_of_facts(cols, cond, f'{order_by}, appeal_id collate "C"', limit, max(0, int(offset)))
    frame = wh.query(wh.compose(None, select, params), params)
    total = int(frame["total_rows"][0]) if frame.height else 0
    return conform(frame, schema), total


def at_risk(url=None, as_of=None, filters: dict | None = None, within_hours: float = 24.0, limit: int = 200):
    """Open appeals whose resolution deadline falls within the next `within_hours`, oldest first."""
    from datetime import timedelta

    now = resolve_as_of(open_warehouse(url), as_of)
    due = Eq("status", "open") & Within("ttr_deadline_at", now, now + timedelta(hours=float(within_hours)))
    return appeals(url, now, filters, where=due, order_by="created_at", limit=limit)


def members(url=None, metric: str = "overturn_rate", period_start=None, period: str = "week", tz: str = "UTC",
            group: dict | None = None, filters: dict | None = None, as_of=None, limit: int = 1000,
            offset: int = 0) -> tuple[pl.DataFrame, int]:
    """The appeals behind one report cell: rows of its cohort in that period and group, with
    `in_numerator` / `in_denominator` (ratios) or `counted` (counts, percentile inputs).

    Backlog, QA and appeal-rate cells are not appeal-level in the same way; for backlog the
    rows are the appeals open at the period end.
    """
    from metrics.catalog import COHORTS, METRICS
    from metrics.engine_sql import period_of

    if metric not in METRICS:
        raise WarehouseError(f"metric: unknown metric {metric!r}")
    m = METRICS[metric]
    cohort = COHORTS[m.kind.row_cohort(m)]
    if cohort.source != "facts":
        raise WarehouseError(f"metric: {metric} is not reconciled at appeal level here (cohort {cohort.name})")
    wh = open_warehouse(url)
    plan = plan_report(wh, None, period, None, None, [metric], tz, as_of, None)
    params: dict = {"as_of": as_of_param(plan.as_of), "tz": tz, "cell_period": _date(period_start, "period_start")}
    conds = _filter_sql(filters, params) + _filter_sql({k: [v] for k, v in (group or {}).items() if v is not None},
                                                       params)
    for k, v in (group or {}).items():
        if v is None:
            from metrics.catalog import resolve_keys

            conds.append(f"{resolve_keys([k])[0]} is null")
    conds.append(cohort.where.sql())
    # the cell's instants first, widened by a day each side for any zone (the exact test
    # follows): a range the database checks against each row group's bounds and pushes into
    # its scan; the period's expression alone was evaluated on every row of the group
    from metrics.periods import next_period

    params["cell_next"] = next_period(params["cell_period"], period) if params["cell_period"] else None
    conds.append(f"{cohort.timestamp} >= cast(:cell_period as date) - interval '1 day'")
    conds.append(f"{cohort.timestamp} < cast(:cell_next as date) + interval '1 day'")
    conds.append(f"{period_of(cohort.timestamp, period, tz, wh.dialect)} = cast(:cell_period as date)")
    cond = " and ".join(f"({c})" for c in conds)
    member_flags = m.kind.member_flags(m)
    flags = ", ".join(f"({c.sql()}) as {flag}" for flag, c in member_flags.items())
    schema = dict(ALL_FACTS_COLUMNS)
    cols = ", ".join(schema)
    limit = max(0, min(int(limit), DRILL_LIMIT_MAX))
    select = _page_of_facts(f"{cols}, {flags}", cond, 'appeal_id collate "C"', limit, max(0, int(offset)))
    frame = wh.query(wh.compose(None, select, params), params)
    total = int(frame["total_rows"][0]) if frame.height else 0
    flag_schema = {flag: pl.Boolean for flag in member_flags}
    return conform(frame, schema | flag_schema), total


FACTS_BATCH_ROWS = 100_000  # rows per batch written by write_facts on PostgreSQL


def write_facts(url, out: str, as_of=None, wide: bool = False) -> int:
    """Write facts to a file; returns the row count.

    On DuckDB a Parquet target is written by the warehouse itself (COPY, streamed), so memory
    does not grow with the number of appeals; other targets and dialects go through Polars.
    """
    from pathlib import Path

    from metrics.conditions import sql_literal
    from metrics.output import write_frame

    wh = open_warehouse(url)
    as_of_dt = resolve_as_of(wh, as_of)
    if wh.dialect == "duckdb" and out != "-" and Path(out).suffix.lower() == ".parquet":
        schema = dict(FACTS_COLUMNS) | (WIDE_COLUMNS if wide else {})
        cols = ", ".join(
            f"cast({name} as timestamp with time zone) as {name}" if isinstance(dtype, pl.Datetime)
            else f"cast({name} as {SQL_TYPES[dtype]}) as {name}"
            for name, dtype in schema.items()
        )
        inner = wh.compose(None, f'select {cols} from appeal_facts order by appeal_id collate "C"', {"as_of": as_of_param(as_of_dt)})
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        target = sql_literal(str(Path(out).resolve()))
        wh.query(f"copy ({inner}) to {target} (format parquet, compression zstd)", {"as_of": as_of_param(as_of_dt)})
        return pl.scan_parquet(out).select(pl.len()).collect().item()
    if wh.dialect == "postgresql":
        # read in batches through a server-side cursor and written as they come: the whole
        # facts as Python rows took 4.2 GB at 1M appeals (bench/README.md, PostgreSQL)
        from metrics.output import write_frames
        from metrics.warehouse import sqla_batches

        sql, params, schema = _facts_query(wh, as_of_dt, wide)
        return write_frames((conform(b, schema) for b in sqla_batches(wh, sql, params, rows=FACTS_BATCH_ROWS)), out)
    frame = facts(wh, as_of_dt, wide=wide)
    write_frame(frame, out)
    return frame.height


def prepare(url=None, as_of=None) -> Warehouse:
    """Open a warehouse and, on DuckDB, compute the final models once for this as_of so that
    the reports, drill-downs and pages that follow reuse them (see Warehouse.materialize)."""
    wh = open_warehouse(url)
    wh.materialize(as_of_param(resolve_as_of(wh, as_of)))
    return wh


def connection_info(url=None, as_of=None) -> dict:
    """What is connected: dialect, adapter, URL without secrets, freshness and row counts."""
    from metrics.warehouse import redact_url

    wh = open_warehouse(url)
    return {
        "dialect": wh.dialect,
        "adapter": wh.adapter_name or "contract tables",
        "adapter_config": wh.adapter_config or None,
        "url": redact_url(wh.url),
        "as_of": resolve_as_of(wh, as_of),
        "row_counts": wh.row_counts(),
    }


def backlog_members(url=None, period_start=None, period: str = "week", tz: str = "UTC", group: dict | None = None,
                    filters: dict | None = None, as_of=None, breached_only: bool = False, limit: int = 1000,
                    offset: int = 0) -> tuple[pl.DataFrame, int]:
    """The appeals behind one backlog_open (or, with `breached_only`, backlog_breached) cell:
    the open appeals at the end of that period for that group, by the report's own rule
    (engine_sql.BACKLOG_FROM), soonest resolution deadline first, with `is_breached`.
    Owner-following keys (specialist_id, pod, site, team_lead) are the owner's at the period end."""
    from metrics import engine_sql

    wh = open_warehouse(url)
    merged = {k: list(v) for k, v in (filters or {}).items() if v}
    for k, v in (group or {}).items():
        if v is None:
            raise WarehouseError(f"group: {k} must have a value for a backlog drill-down")
        merged[k] = [v]
    start = _date(period_start, "period_start")
    plan = plan_report(wh, None, period, start, start, ["backlog_open"], tz, as_of, merged)
    schema = dict(ALL_FACTS_COLUMNS)
    limit = max(0, min(int(limit), DRILL_LIMIT_MAX))
    sql, params = engine_sql.compile_backlog_members(wh, plan, breached_only, list(schema), limit, max(0, int(offset)))
    frame = wh.query(sql, params)
    total = int(frame["total_rows"][0]) if frame.height else 0
    return conform(frame, schema | {"is_breached": pl.Boolean}), total


def qa_members(url=None, period_start=None, period: str = "week", tz: str = "UTC", group: dict | None = None,
               filters: dict | None = None, as_of=None, limit: int = 1000, offset: int = 0) -> tuple[pl.DataFrame, int]:
    """The QA reviews behind one qa_accuracy cell (reviewed in that period, the appeal in the
    group), with the reviewed appeal's facts and `in_numerator` (decision_correct), the same
    join the report makes (qa_reviews_clean × appeal_facts)."""
    from metrics.engine_sql import period_of

    wh = open_warehouse(url)
    plan = plan_report(wh, None, period, None, None, ["qa_accuracy"], tz, as_of, None)
    if not wh.has_table("qa_reviews"):
        return pl.DataFrame(schema=dict(ALL_FACTS_COLUMNS)), 0
    params: dict = {"as_of": as_of_param(plan.as_of), "tz": tz, "cell_period": _date(period_start, "period_start")}
    merged = {k: list(v) for k, v in (filters or {}).items() if v} | {k: [v] for k, v in (group or {}).items()}
    conds = _filter_sql(merged, params, alias="f.")
    conds.append(f"{period_of('q.reviewed_at', period, tz, wh.dialect)} = cast(:cell_period as date)")
    schema = dict(ALL_FACTS_COLUMNS)
    cols = ", ".join(f"f.{c}" for c in schema)
    limit = max(0, min(int(limit), DRILL_LIMIT_MAX))
    select = (
        f"select {cols}, q.review_id, q.reviewed_at, coalesce(q.decision_correct, false) as in_numerator, "
        "true as in_denominator, count(*) over () as total_rows "
        "from qa_reviews_clean as q inner join appeal_facts as f on f.appeal_id = q.appeal_id "
        f"where {' and '.join(f'({c})' for c in conds)} "
        f'order by q.reviewed_at, q.review_id collate "C" limit {limit} offset {max(0, int(offset))}'
    )
    frame = wh.query(wh.compose(None, select, params), params)
    total = int(frame["total_rows"][0]) if frame.height else 0
    return conform(frame, schema | {"review_id": pl.Utf8, "reviewed_at": pl.Datetime("us", "UTC"),
                                    "in_numerator": pl.Boolean, "in_denominator": pl.Boolean}), total
