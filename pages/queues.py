"""Queues: how does each queue do, and what is behind one queue's numbers?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics import dashboard, workload
from metrics.catalog import METRICS
from ui import charts, context, data, drilldown, exports, fmt, settings, widgets

TABLE_METRICS = dashboard.GROUP_TABLE_METRICS
PAGE = "queues"
ALL = "All queues"


# the four trend charts: (name, title, metrics, colours, SLA target line)
TREND_CHARTS = (
    ("volume", "Volume in and out", ("appeals_created", "appeals_resolved"), (charts.BLUE, charts.GREEN), None),
    ("backlog", "Backlog at period end", ("backlog_open", "backlog_breached"), (charts.BLUE, charts.RED), None),
    ("ttr", "Time to resolve (TTR) against the SLA target", ("ttr_p50_hours", "ttr_p90_hours"),
     (charts.BLUE, charts.TEAL), "ttr_target_hours"),
    ("ftr", "First touch (FTR) against the SLA target", ("ftr_p50_hours", "ftr_p90_hours"),
     (charts.BLUE, charts.TEAL), "ftr_target_hours"),
)


def queue_table(ctx: context.Context, report: pl.DataFrame, total: pl.DataFrame) -> pl.DataFrame:
    table = dashboard.group_table(report, "queue", ctx.focus, TABLE_METRICS)
    overall = dashboard.group_table(total.with_columns(pl.lit(ctx.total_label).alias("queue")), "queue", ctx.focus,
                                    TABLE_METRICS)
    return pl.concat([table, overall], how="diagonal_relaxed")


def with_workload(ctx: context.Context, table: pl.DataFrame, hours: int) -> pl.DataFrame:
    """The open work now (metrics.workload: breached now, due within `hours`) beside each queue."""
    now = data.workload(ctx.url, ctx.as_of, "queue", float(hours), ctx.filter_key)
    total = data.workload(ctx.url, ctx.as_of, None, float(hours), ctx.filter_key).with_columns(
        pl.lit(ctx.total_label).alias("queue")).select(now.columns)
    work = pl.concat([now, total]).select("queue", "breached", "due_soon")
    return table.join(work, on="queue", how="left").with_columns(pl.col("breached", "due_soon").fill_null(0))


SLA_FIRST = ["queue", "breached", "due_soon", "ttr_sla_attainment", "ftr_sla_attainment",
             "backlog_open", "backlog_breached"]
REST = ["appeals_created", "appeals_resolved", "ttr_p50_hours", "ttr_p90_hours", "ftr_p50_hours", "ftr_p90_hours",
        "overturn_rate", "overturn_parts", "overturn_ci", "reopen_rate", "escalation_rate", "qa_accuracy"]


def show_table(ctx: context.Context, table: pl.DataFrame, hours: int, target: float, every: bool):
    """Exceptions first: breached now, due soon and SLA attainment against its target, then the
    backlog; the other metrics behind the "All columns" toggle. A cell opens its appeals."""
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
               "overturn_ci": st.column_config.TextColumn("Overturn 95% CI", help="Wilson score interval"),
               "breached": st.column_config.NumberColumn("Breached now", format="%d",
                                                         help="Open appeals past their resolution deadline at the as-of time"),
               "due_soon": st.column_config.NumberColumn(f"Due in {hours} h", format="%d",
                                                         help=f"Open appeals due in the next {hours} hours"),
               "ttr_sla_attainment": st.column_config.Column(
                   f"Resolution SLA (target {target * 100:.0f}%)", help=METRICS["ttr_sla_attainment"].description),
               "ftr_sla_attainment": st.column_config.Column(
                   f"First-touch SLA (target {target * 100:.0f}%)", help=METRICS["ftr_sla_attainment"].description),
               "backlog_open": fmt.column("backlog_open", "Open at period end"),
               "backlog_breached": fmt.column("backlog_breached", "Breached at period end")}
    order = SLA_FIRST + (REST if every else [])
    styled = settings.sla_styled(shown, ("ttr_sla_attainment", "ftr_sla_attainment"), target)
    return shown, st.dataframe(styled, hide_index=True, column_order=order, column_config=config, width="stretch",
                               placeholder=fmt.DASH, on_select="rerun", selection_mode="single-cell", key="queue_table")


def open_cell(ctx: context.Context, shown: pl.DataFrame, cell, hours: int) -> None:
    if cell is None or cell[0] >= shown.height:
        return
    row, col = cell
    queue = shown["queue"][row]
    group = () if queue == ctx.total_label else (("queue", queue),)
    where = ctx.total_label.lower() if queue == ctx.total_label else fmt.md(queue)
    if col in ("breached", "due_soon", "queue"):
        what = {"breached": "breached", "due_soon": "due_soon"}.get(col, "open")
        label = {"breached": "breached now", "due_soon": f"due in the next {hours} h", "open": "open now"}[what]
        drill = drilldown.Drill("workload", f"Appeals {label} · {where}", group=group, filters=ctx.filter_key,
                                what=what, hours=float(hours), notes=False, slot="table")
    else:
        drill = drilldown.cell_drill(ctx, col, group, where, "table")
    if drill is not None:
        drilldown.open_drill(PAGE, drill)


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
        c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
        hours = c1.selectbox("Due within the next", workload.RISK_WINDOWS,
                             index=workload.RISK_WINDOWS.index(workload.DEFAULT_HOURS),
                             format_func=lambda h: f"{h} hours", key="queue_hours")
        every = c2.toggle("All columns (volumes, times, overturns, QA)", key="queue_all_columns")
        target = settings.sla_target()
        shown, event = show_table(ctx, with_workload(ctx, table, hours), hours, target, every)
        open_cell(ctx, shown, drilldown.new_cell(event, "queue_table"), hours)
        st.caption(f"Exceptions first: breached now and due within {hours} h at {fmt.instant(ctx.as_of)}; SLA "
                   f"attainment = achieved ÷ (achieved + breached) of SLAs decided in the period, green at or above "
                   f"the {target * 100:.0f}% target, red below (APPEALS_SLA_TARGET). Percentiles in calendar hours; "
                   "overturn "
                   "rate with its 95% Wilson interval. **Click a cell** to list the appeals behind it.")
        exports.table_downloads(table, ctx, f"queues_{ctx.focus}", "queues_table")
        drilldown.panel(ctx, PAGE, "table")

    queues = sorted(q for q in report["queue"].unique().to_list() if q is not None)
    if (st.session_state.get("queue_pick") or st.query_params.get("queue_pick")) not in queues:
        # default: the queue that needs attention (a shared link's queue_pick= wins)
        st.session_state["queue_pick"] = dashboard.needs_attention(table.filter(pl.col("queue") != ctx.total_label)) or queues[0]
    queue = st.selectbox("Queue to look into", queues, key="queue_pick", bind="query-params",
                         help="Opens on the queue with the lowest resolution-SLA attainment in the headline period.")
    st.header(fmt.md(queue), divider="gray")

    trend = widgets.trend_frame(report.filter(pl.col("queue") == queue), ctx, TABLE_METRICS)
    open_rows, open_total = data.open_appeals(ctx.url, ctx.as_of, ctx.with_filters(queue=[queue]))
    sla = dashboard.sla_targets(open_rows)
    notes = ctx.annotations(queue)
    group, where = (("queue", queue),), fmt.md(queue)
    c1, c2 = st.columns(2)
    c3, c4 = st.columns(2)
    for i, (col, (name, title, metrics, colors, target)) in enumerate(zip((c1, c2, c3, c4), TREND_CHARTS, strict=True)):
        with col:
            st.markdown(f"**{title}**")
            targets = {"SLA target (median)": sla[target]} if target else None
            chart = charts.metric_lines(trend, list(metrics), ctx.grain, colors=list(colors), targets=targets,
                                        annotations=notes, selection=charts.click_selection(["period_iso", "metric"]))
            event = exports.chart(chart, f"{name}_{queue}", f"queues_chart{i + 1}", on_select="rerun",
                                  chart_key=f"q_{name}_chart")
            drilldown.open_point(ctx, PAGE, event, f"q_{name}_chart", group, where, "trends")
    st.caption("**Click a point** to list the appeals behind it: created or resolved in that period, open or "
               "breached at its end, or the resolved (first-touched) appeals whose times make the percentile. "
               f"Periods in {ctx.tz}.")
    if open_rows.height:
        st.caption(fmt.targets_caption(dashboard.targets_by_priority(open_rows)))
    drilldown.panel(ctx, PAGE, "trends")

    c5, c6 = st.columns(2)
    with c5:
        st.markdown(f"**Age of the {open_total:,} open appeals** (at {fmt.instant(ctx.as_of)})")
        if open_total == 0:
            widgets.empty("No open appeals in this queue.", "Nothing is waiting.")
        else:
            chart = charts.age_histogram(dashboard.age_distribution(open_rows, ctx.as_of),
                                         selection=charts.mark_selection(["age_bucket", "sla_state"]))
            event = exports.chart(chart, f"open_age_{queue}", "queues_chart5", on_select="rerun", chart_key="q_age_chart")
            point = drilldown.picked_point(event, "q_age_chart")
            if point and point.get("age_bucket") and point.get("sla_state"):
                drilldown.open_drill(PAGE, drilldown.Drill(
                    "open_age", f"Open appeals aged {point['age_bucket']} · {point['sla_state']} · {fmt.md(queue)}",
                    group=(("age_bucket", point["age_bucket"]), ("sla_state", point["sla_state"])),
                    filters=ctx.with_filters(queue=[queue]), notes=False, slot="age"))
            if open_rows.height < open_total:
                st.caption(f"The oldest {open_rows.height:,} of {open_total:,} open appeals.")
            st.caption("Click a bar to list its appeals.")
    with c6:
        st.markdown("**Priority mix of appeals created**")
        prio = ctx.report(by=("priority",), metrics=("appeals_created",), filters=ctx.with_filters(queue=[queue]))
        prio = prio.filter(pl.col("period_start").is_in(ctx.starts))
        prio = dashboard.share_of_total(prio, "priority", "appeals_created")
        chart = charts.stacked_counts(prio, "priority", "appeals_created", ctx.grain, "Priority",
                                      METRICS["appeals_created"].label, share="share", scheme="orangered",
                                      sort=["P3", "P2", "P1", "P0"], annotations=notes,
                                      selection=charts.mark_selection(["period_iso", "priority"]))
        event = exports.chart(chart, f"priority_mix_{queue}",
                              "queues_chart6", on_select="rerun", chart_key="q_priority_chart")
        drilldown.open_point(ctx, PAGE, event, "q_priority_chart", group, where, "priority",
                             metric="appeals_created", series="priority")
        st.caption("Click a bar to list the appeals it counts.")

    drilldown.panel(ctx, PAGE, "age")
    drilldown.panel(ctx, PAGE, "priority")
    widgets.drilldown(ctx, {"queue": queue}, "queue_drill", title=f"Appeals behind a number · {fmt.md(queue)}")


if __name__ == "__main__":
    render()
