"""The catalog compiled to Polars: the reference implementation over facts.

Same plan, same catalog, independent code path from metrics.engine_sql; the parity tests
require both to give the same report. It works on frames already pulled from the
warehouse (wide facts, status spans, QA reviews, enforcements).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from metrics.catalog import COHORTS, ENFORCEMENT_KEYS, METRICS, OWNER_KEYS
from metrics.periods import POLARS_INTERVALS
from metrics.report_plan import ReportPlan


def period_of(col: str, plan: ReportPlan) -> pl.Expr:
    local = pl.col(col).dt.convert_time_zone(plan.tz).dt.replace_time_zone(None)
    return local.dt.truncate(POLARS_INTERVALS[plan.period]).dt.date().alias("period_start")


def _filtered(frame: pl.DataFrame, plan: ReportPlan, mapping: dict[str, str] | None = None,
              skip: tuple[str, ...] = ()) -> pl.DataFrame:
    for col, values in plan.filters.items():
        if col in skip:
            continue
        src = mapping[col] if mapping else col
        frame = frame.filter(pl.col(src).is_in(list(values)))
    return frame


def aggregates(cohort: str, plan: ReportPlan) -> list[pl.Expr]:
    """The Polars aggregates of the plan's metrics over one cohort's rows."""
    out: list[pl.Expr] = []
    for name in plan.metrics:
        m = METRICS[name]
        out += m.kind.polars_aggregates(m, cohort)
    return out


def periods(plan: ReportPlan, first: date | None) -> pl.DataFrame:
    start = plan.period_from or first
    if start is None or start > plan.period_to:
        return pl.DataFrame(schema={"period_start": pl.Date, "period_end": pl.Datetime("us", "UTC")})
    interval = POLARS_INTERVALS[plan.period]
    starts = pl.date_range(start, plan.period_to, interval=interval, eager=True)
    nexts = starts.dt.offset_by(interval)
    ends = nexts.cast(pl.Datetime("us")).dt.replace_time_zone(plan.tz, ambiguous="earliest").dt.convert_time_zone("UTC")
    return pl.DataFrame({"period_start": starts, "period_end": ends})


def report(facts: pl.DataFrame, spans: pl.DataFrame, qa: pl.DataFrame | None, enforcements: pl.DataFrame | None,
           plan: ReportPlan) -> pl.DataFrame:
    keys = plan.keys
    f = _filtered(facts, plan)
    parts: dict[str, pl.DataFrame] = {}
    for cohort_name in plan.cohorts():
        cohort = COHORTS[cohort_name]
        aggs = aggregates(cohort_name, plan)
        if cohort.source == "facts":
            rows = f.filter(cohort.where.polars().fill_null(False)).with_columns(period_of(cohort.timestamp, plan))
        elif cohort.source == "qa_reviews":
            rows = qa.join(f.select(["appeal_id", *keys]), on="appeal_id", how="inner").with_columns(
                period_of("reviewed_at", plan)
            )
        else:
            # owner-following keys (and filters on them) belong to the stretch open at E
            owner_filters = {k: v for k, v in plan.filters.items() if k in OWNER_KEYS}
            backlog_facts = _filtered(facts, plan, skip=OWNER_KEYS)
            first = (backlog_facts.select(period_of("created_at", plan)).get_column("period_start").min()
                     if backlog_facts.height else None)
            ps = periods(plan, first)
            fact_keys = [k for k in keys if k not in OWNER_KEYS]
            span_cols = list(dict.fromkeys([k for k in keys if k in OWNER_KEYS] + list(owner_filters)))
            s = spans.select(["appeal_id", "open_from", "open_to", *span_cols])
            for col, values in owner_filters.items():
                s = s.filter(pl.col(col).is_in(list(values)))
            rows = (
                s.join(backlog_facts.select(["appeal_id", "ttr_deadline_at", *fact_keys]), on="appeal_id", how="inner")
                .join(ps, how="cross")
                .filter(
                    (pl.col("open_from") < pl.col("period_end"))
                    & (pl.col("open_to").is_null() | (pl.col("period_end") <= pl.col("open_to")))
                )
                .with_columns(
                    (pl.col("ttr_deadline_at") < pl.min_horizontal("period_end", pl.lit(plan.as_of)))
                    .fill_null(False)
                    .alias("is_breached")
                )
            )
        parts[cohort_name] = rows.group_by(["period_start", *keys]).agg(aggs)

    if parts:
        cells = pl.concat([p.select(["period_start", *keys]) for p in parts.values()], how="vertical_relaxed").unique()
    else:
        cells = pl.DataFrame(schema={"period_start": pl.Date, **{k: pl.Utf8 for k in keys}})
    out = cells
    for part in parts.values():
        out = out.join(part, on=["period_start", *keys], how="left", nulls_equal=True)

    if plan.appeal_rate_supported:
        e = _filtered(enforcements, plan, ENFORCEMENT_KEYS)
        e = e.with_columns([pl.col(ENFORCEMENT_KEYS[k]).alias(k) for k in keys] + [period_of("enforced_at", plan)])
        den = e.group_by(["period_start", *keys]).agg(aggregates("enforcements", plan))
        parts["enforcements"] = den
        out = out.join(den, on=["period_start", *keys], how="left", nulls_equal=True)

    def ref(cohort: str, column: str) -> pl.Expr | None:
        return pl.col(column) if cohort in parts and column in out.columns else None

    cols: list[pl.Expr] = [pl.col("period_start"), *[pl.col(k) for k in keys]]
    for name in plan.metrics:
        m = METRICS[name]
        cols += m.kind.polars_outputs(m, ref)
    out = out.select(cols)
    out = out.filter(pl.col("period_start") <= plan.period_to)
    if plan.period_from:
        out = out.filter(pl.col("period_start") >= plan.period_from)
    return out.sort(["period_start", *keys], nulls_last=True)
