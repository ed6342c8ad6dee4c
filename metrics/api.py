"""The engine's public Python API: facts, report, check, definitions.

The CLI (`python -m metrics`) and the dashboard call these; nothing here imports streamlit.
`url` may be a SQLAlchemy URL or an already opened Warehouse.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from metrics import models
from metrics.warehouse import Warehouse, WarehouseError

FACTS_COLUMNS: dict[str, pl.DataType] = {
    "appeal_id": pl.Utf8,
    "queue": pl.Utf8,
    "priority": pl.Utf8,
    "market": pl.Utf8,
    "channel": pl.Utf8,
    "policy": pl.Utf8,
    "enforcement_source": pl.Utf8,
    "specialist_id": pl.Utf8,
    "created_at": pl.Datetime("us", "UTC"),
    "first_touch_at": pl.Datetime("us", "UTC"),
    "resolved_at": pl.Datetime("us", "UTC"),
    "status": pl.Utf8,
    "outcome": pl.Utf8,
    "is_overturned": pl.Boolean,
    "reopen_count": pl.Int64,
    "escalated": pl.Boolean,
    "ftr_hours": pl.Float64,
    "ttr_hours": pl.Float64,
    "ftr_clock_hours": pl.Float64,
    "ttr_clock_hours": pl.Float64,
    "ftr_target_hours": pl.Float64,
    "ttr_target_hours": pl.Float64,
    "ftr_sla": pl.Utf8,
    "ttr_sla": pl.Utf8,
    "user_wait_hours": pl.Float64,
    "root_cause": pl.Utf8,
    "theme": pl.Utf8,
}

WIDE_COLUMNS: dict[str, pl.DataType] = {
    "language": pl.Utf8,
    "enforced_by": pl.Utf8,
    "specialist_name": pl.Utf8,
    "pod": pl.Utf8,
    "site": pl.Utf8,
    "team_lead": pl.Utf8,
    "withdrawn_at": pl.Datetime("us", "UTC"),
    "sla_clock": pl.Utf8,
    "decider_actor_type": pl.Utf8,
    "ftr_deadline_at": pl.Datetime("us", "UTC"),
    "ttr_deadline_at": pl.Datetime("us", "UTC"),
    "ftr_sla_decided_at": pl.Datetime("us", "UTC"),
    "ttr_sla_decided_at": pl.Datetime("us", "UTC"),
}


def open_warehouse(url: str | Warehouse | None) -> Warehouse:
    if isinstance(url, Warehouse):
        return url
    if url is None:
        from metrics.sample import ensure_sample_duckdb

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


def resolve_as_of(wh: Warehouse, as_of) -> datetime:
    return parse_instant(as_of) or default_as_of(wh)


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
    as_of_dt = resolve_as_of(wh, as_of)
    schema = dict(FACTS_COLUMNS) | (WIDE_COLUMNS if wide else {})
    cols = ", ".join(schema)
    sql = models.with_models(wh.staging_ctes(), None, f"select {cols} from appeal_facts order by appeal_id")
    return conform(wh.query(sql, {"as_of": as_of_param(as_of_dt)}), schema)


def status_spans(url=None, as_of=None) -> pl.DataFrame:
    wh = open_warehouse(url)
    as_of_dt = resolve_as_of(wh, as_of)
    sql = models.with_models(
        wh.staging_ctes(), None, "select appeal_id, open_from, open_to from status_spans order by appeal_id, open_from"
    )
    schema = {"appeal_id": pl.Utf8, "open_from": pl.Datetime("us", "UTC"), "open_to": pl.Datetime("us", "UTC")}
    return conform(wh.query(sql, {"as_of": as_of_param(as_of_dt)}), schema)


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
        m = METRICS[name]
        if m.kind == "count":
            schema[name] = pl.Int64
        elif m.kind == "percentile":
            schema[name] = pl.Float64
        else:
            schema[name] = pl.Float64
            schema[f"{name}_numerator"] = pl.Int64
            schema[f"{name}_denominator"] = pl.Int64
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
    wh = open_warehouse(url)
    plan = plan_report(wh, by, period, date_from, date_to, metrics, tz, as_of, filters)
    schema = _report_schema(plan)
    if engine == "polars":
        from metrics import engine_polars

        frames = report_inputs(wh, plan.as_of)
        out = engine_polars.report(frames["facts"], frames["spans"], frames["qa"], frames["enforcements"], plan)
        return conform(out, schema)
    from metrics import engine_sql

    sql, params = engine_sql.compile_report(wh, plan)
    return conform(wh.query(sql, params), schema)


def report_inputs(url, as_of=None) -> dict[str, pl.DataFrame]:
    """The frames the Polars engine works on, pulled from the warehouse."""
    wh = open_warehouse(url)
    as_of_dt = resolve_as_of(wh, as_of)
    p = {"as_of": as_of_param(as_of_dt)}
    qa_schema = {"review_id": pl.Utf8, "appeal_id": pl.Utf8, "reviewed_at": pl.Datetime("us", "UTC"),
                 "decision_correct": pl.Boolean}
    enf_schema = {"enforcement_id": pl.Utf8, "action": pl.Utf8, "policy": pl.Utf8, "source": pl.Utf8,
                  "enforced_by": pl.Utf8, "enforced_at": pl.Datetime("us", "UTC")}
    st = wh.staging_ctes()
    qa = conform(wh.query(models.with_models(st, None, f"select {', '.join(qa_schema)} from qa_reviews_clean"), p), qa_schema)
    enf = conform(wh.query(models.with_models(st, None, f"select {', '.join(enf_schema)} from enforcements_clean"), p),
                  enf_schema)
    return {"facts": facts(wh, as_of_dt, wide=True), "spans": status_spans(wh, as_of_dt), "qa": qa, "enforcements": enf}


def check(url=None, as_of=None):
    """Run every data check; returns the checks that found something (CheckResult list)."""
    from metrics import checks

    wh = open_warehouse(url)
    as_of_dt = resolve_as_of(wh, as_of)
    rows = wh.query(checks.compile_checks(wh.staging_ctes()), {"as_of": as_of_param(as_of_dt)})
    return checks.results_from_rows(rows)
