"""Queues: how does each queue do, and what is behind one queue's numbers?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics import dashboard
from metrics.catalog import METRICS
from ui import charts, context, data, exports, fmt, widgets

TABLE_METRICS = dashboard.GROUP_TABLE_METRICS


def queue_table(ctx: context.Context, report: pl.DataFrame, total: pl.DataFrame) -> pl.DataFrame:
    table = dashboard.group_table(report, "queue", ctx.focus, TABLE_METRICS)
    overall = dashboard.group_table(total.with_columns(pl.lit(ctx.total_label).alias("queue")), "queue", ctx.focus,
                                TABLE_METRICS)
    return pl.concat([table, overall], how="diagonal_relaxed")


def show_table(table: pl.DataFrame) -> None:
    shown = fmt.for_display(table, TABLE_METRICS).with_columns(
        pl.struct("overturn_rate_ci_lo", "overturn_rate_ci_hi")
        .map_elements(lambda r: fmt.interval(r["overturn_rate_ci_lo"], r["overturn_rate_ci_hi"]), return_dtype=pl.Utf8)
        .alias("overturn_ci"),
        pl.struct("overturn_rate_numerator", "overturn_rate_denominator")
        .map_elements(lambda r: fmt.parts(r["overturn_rate_numerator"], r["overturn_rate_denominator"]),
                      return_dtype=pl.Utf8)
        .alias("overturn_parts"),
    )
    config = {"queue": st.column_config.TextColumn("Queue", pinned=True)} | {n: fmt.column(n) for n in TABLE_METRICS}
    config |= {"overturn_parts": st.column_config.TextColumn("Overturned / resolved", help="Numerator / denominator"),
               "overturn_ci": st.column_config.TextColumn("Overturn 95% CI", help="Wilson score interval")}
    order = ["queue", "appeals_created", "appeals_resolved", "backlog_open", "backlog_breached", "ttr_p50_hours",
             "ttr_p90_hours", "ftr_p50_hours", "ftr_p90_hours", "ftr_sla_attainment", "ttr_sla_attainment",
             "overturn_rate", "overturn_parts", "overturn_ci", "reopen_rate", "escalation_rate", "qa_accuracy"]
    st.dataframe(shown, hide_index=True, column_order=order, column_config=config, width="stretch",
                 placeholder=fmt.DASH)


def render() -> None:
    ctx = context.current()
    widgets.header("Queues", ctx, "One row per queue for the headline period; pick a queue for its trends, its open "
                   "appeals and the appeals behind any number.")
    report = ctx.report(by=("queue",), metrics=TABLE_METRICS)
    if report.height == 0:
        widgets.empty("No appeals match these filters in this date range.")
        return
    table = queue_table(ctx, report, ctx.report(by=(), metrics=TABLE_METRICS))
    st.subheader(f"All queues · {ctx.label(ctx.focus)}")
    if table.height <= 1:
        widgets.empty("No queue has activity in the headline period.", "Pick another headline period.")
    else:
        show_table(table)
        exports.table_downloads(table, ctx, f"queues_{ctx.focus}", "queues_table")
        st.caption("Percentiles in calendar hours; SLA attainment = achieved ÷ (achieved + breached) of SLAs decided "
                   "in the period; overturn rate with its 95% Wilson interval. Click a column to sort.")

    queues = sorted(q for q in report["queue"].unique().to_list() if q is not None)
    if (st.session_state.get("queue_pick") or st.query_params.get("queue_pick")) not in queues:
        # default: the queue that needs attention (a shared link's queue_pick= wins)
        st.session_state["queue_pick"] = dashboard.needs_attention(table.filter(pl.col("queue") != ctx.total_label)) or queues[0]
    queue = st.selectbox("Queue to look into", queues, key="queue_pick", bind="query-params",
                         help="Opens on the queue with the lowest resolution-SLA attainment in the headline period.")
    st.header(fmt.md(queue), divider="gray")

    trend = widgets.trend_frame(report.filter(pl.col("queue") == queue), ctx, TABLE_METRICS)
    open_rows, open_total = data.open_appeals(ctx.url, ctx.as_of, ctx.with_filters(queue=[queue]))
    targets = dashboard.sla_targets(open_rows)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Volume in and out**")
        exports.chart(charts.metric_lines(trend, ["appeals_created", "appeals_resolved"], ctx.grain,
                                            colors=[charts.BLUE, charts.GREEN], annotations=ctx.annotations(queue)), f"volume_{queue}", "queues_chart1")
    with c2:
        st.markdown("**Backlog at period end**")
        exports.chart(charts.metric_lines(trend, ["backlog_open", "backlog_breached"], ctx.grain,
                                            colors=[charts.BLUE, charts.RED], annotations=ctx.annotations(queue)), f"backlog_{queue}", "queues_chart2")
    c3, c4 = st.columns(2)
    with c3:
        st.markdown("**Time to resolve (TTR) against the SLA target**")
        exports.chart(charts.metric_lines(trend, ["ttr_p50_hours", "ttr_p90_hours"], ctx.grain, colors=[charts.BLUE, charts.TEAL],
                                            targets={"SLA target (median)": targets["ttr_target_hours"]}, annotations=ctx.annotations(queue)), f"ttr_{queue}", "queues_chart3")
    with c4:
        st.markdown("**First touch (FTR) against the SLA target**")
        exports.chart(charts.metric_lines(trend, ["ftr_p50_hours", "ftr_p90_hours"], ctx.grain, colors=[charts.BLUE, charts.TEAL],
                                            targets={"SLA target (median)": targets["ftr_target_hours"]}, annotations=ctx.annotations(queue)), f"ftr_{queue}", "queues_chart4")
    if open_rows.height:
        st.caption(fmt.targets_caption(dashboard.targets_by_priority(open_rows)))

    c5, c6 = st.columns(2)
    with c5:
        st.markdown(f"**Age of the {open_total:,} open appeals** (at {fmt.instant(ctx.as_of)})")
        if open_total == 0:
            widgets.empty("No open appeals in this queue.", "Nothing is waiting.")
        else:
            exports.chart(charts.age_histogram(dashboard.age_distribution(open_rows, ctx.as_of)), f"open_age_{queue}", "queues_chart5")
            if open_rows.height < open_total:
                st.caption(f"The oldest {open_rows.height:,} of {open_total:,} open appeals.")
    with c6:
        st.markdown("**Priority mix of appeals created**")
        prio = ctx.report(by=("priority",), metrics=("appeals_created",), filters=ctx.with_filters(queue=[queue]))
        prio = prio.filter(pl.col("period_start").is_in(ctx.starts))
        prio = dashboard.share_of_total(prio, "priority", "appeals_created")
        exports.chart(charts.stacked_counts(prio, "priority", "appeals_created", ctx.grain, "Priority",
                                              METRICS["appeals_created"].label, share="share", scheme="orangered",
                                              sort=["P3", "P2", "P1", "P0"], annotations=ctx.annotations(queue)), f"priority_mix_{queue}", "queues_chart6")

    widgets.drilldown(ctx, {"queue": queue}, "queue_drill", title=f"Appeals behind a number · {fmt.md(queue)}")


if __name__ == "__main__":
    render()
