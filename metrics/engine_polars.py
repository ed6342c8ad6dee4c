"""The catalog compiled to Polars: the reference implementation over facts.

Same plan, same catalog, independent code path from metrics.engine_sql; the parity tests
require both to give the same report. It works on frames already pulled from the
warehouse (wide facts, status spans, QA reviews, enforcements).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from metrics.catalog import COHORTS, ENFORCEMENT_KEYS, METRICS, OWNER_KEYS
from metrics.conditions import Always
from metrics.report_plan import ReportPlan

_TRUNC = {"day": "1d", "week": "1w", "month": "1mo"}


def period_of(col: str, plan: ReportPlan) -> pl.Expr:
    local = pl.col(col).dt.convert_time_zone(plan.tz).dt.replace_time_zone(None)
    return local.dt.truncate(_TRUNC[plan.period]).dt.date().alias("period_start")


def _filtered(frame: pl.DataFrame, plan: ReportPlan, mapping: dict[str, str] | None = None,
              skip: tuple[str, ...] = ()) -> pl.DataFrame:
    for col, values in plan.filters.items():
        if col in skip:
            continue
        src = mapping[col] if mapping else col
        frame = frame.filter(pl.col(src).is_in(list(values)))
    return frame


def _count(cond) -> pl.Expr:
    if isinstance(cond, Always):
        return pl.len()
    return cond.polars().fill_null(False).sum()


def _aggs(cohort: str, plan: ReportPlan) -> list[pl.Expr]:
    out: list[pl.Expr] = []
    for name in plan.metrics:
        m = METRICS[name]
        if m.numerator_cohort == cohort:
            out.append(pl.len().alias(f"{name}_numerator"))
            continue
        if m.cohort != cohort or m.numerator_cohort:
            continue
        if m.kind == "count":
            out.append(_count(m.where).alias(name))
        elif m.kind == "percentile":
            out.append(pl.col(m.value).quantile(m.quantile, interpolation="linear").alias(name))
        else:
            den = m.denominator
            num = m.numerator if isinstance(den, Always) else m.numerator & den
            out.append(_count(num).alias(f"{name}_numerator"))
            out.append(_count(den).alias(f"{name}_denominator"))
    return out


def periods(plan: ReportPlan, first: date | None) -> pl.DataFrame:
    start = plan.period_from or first
    if start is None or start > plan.period_to:
        return pl.DataFrame(schema={"period_start": pl.Date, "period_end": pl.Datetime("us", "UTC")})
    interval = {"day": "1d", "week": "1w", "month": "1mo"}[plan.period]
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
        aggs = _aggs(cohort_name, plan)
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
        den = e.group_by(["period_start", *keys]).agg(pl.len().alias("appeal_rate_denominator"))
        out = out.join(den, on=["period_start", *keys], how="left", nulls_equal=True)

    cols: list[pl.Expr] = [pl.col("period_start"), *[pl.col(k) for k in keys]]
    for name in plan.metrics:
        m = METRICS[name]
        present = m.cohort in parts or (m.numerator_cohort and plan.appeal_rate_supported)
        if m.kind == "count":
            cols.append(pl.col(name).fill_null(0).cast(pl.Int64) if name in out.columns else pl.lit(0, pl.Int64).alias(name))
        elif m.kind == "percentile":
            cols.append(pl.col(name).cast(pl.Float64))
        elif not present:
            cols += [pl.lit(None, pl.Float64).alias(name), pl.lit(None, pl.Int64).alias(f"{name}_numerator"),
                     pl.lit(None, pl.Int64).alias(f"{name}_denominator")]
        else:
            num = pl.col(f"{name}_numerator").fill_null(0).cast(pl.Int64)
            den = pl.col(f"{name}_denominator").fill_null(0).cast(pl.Int64) if f"{name}_denominator" in out.columns else pl.lit(0, pl.Int64)
            cols += [
                pl.when(den > 0).then(num.cast(pl.Float64) / den).otherwise(None).alias(name),
                num.alias(f"{name}_numerator"),
                den.alias(f"{name}_denominator"),
            ]
    out = out.select(cols)
    out = out.filter(pl.col("period_start") <= plan.period_to)
    if plan.period_from:
        out = out.filter(pl.col("period_start") >= plan.period_from)
    return out.sort(["period_start", *keys], nulls_last=True)
