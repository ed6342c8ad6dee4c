"""Overview: what needs action now (exceptions first), then how appeals operations did in the
headline period against the period before. Every number opens the appeals behind it."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics import dashboard, report_cache, workload
from metrics.catalog import METRICS
from ui import context, data, drilldown, fmt, settings, widgets

PAGE = "overview"
RISK_WINDOWS = workload.RISK_WINDOWS
ALL = "All queues"
SLA_METRICS = report_cache.SLA_METRICS  # the exceptions table's reports are kept in the store at refresh


def exceptions_table(ctx: context.Context, hours: float) -> pl.DataFrame:
    """Per queue (and all queues): breached now, due within `hours`, open now, oldest, and the
    headline period's SLA attainment with its parts (the engine's numbers, joined)."""
    now = data.workload(ctx.url, ctx.as_of, "queue", hours, ctx.filter_key)
    total = data.workload(ctx.url, ctx.as_of, None, hours, ctx.filter_key).with_columns(
        pl.lit(ALL).alias("queue")).select(now.columns)
    sla = dashboard.group_table(ctx.report(by=("queue",), metrics=SLA_METRICS), "queue", ctx.focus, SLA_METRICS, ())
    sla_all = dashboard.group_table(ctx.report(by=(), metrics=SLA_METRICS).with_columns(pl.lit(ALL).alias("queue")),
                                    "queue", ctx.focus, SLA_METRICS, ())
    rows = pl.concat([now.join(sla, on="queue", how="full", coalesce=True),
                      total.join(sla_all, on="queue", how="full", coalesce=True)], how="diagonal_relaxed")
    counts = ("open_appeals", "breached", "due_soon")
    return rows.with_columns(pl.col(c).fill_null(0) for c in counts).filter(pl.col("queue").is_not_null())


def show_exceptions(ctx: context.Context, table: pl.DataFrame, hours: int, target: float, key: str):
    """The exceptions table: SLA columns first (visible at 1440 px without scrolling); a cell opens its appeals."""
    shown = table.sort([pl.col("queue") == ALL, "breached", "queue"], descending=[False, True, False]).with_columns(
        *(pl.struct(f"{m}_numerator", f"{m}_denominator").map_elements(
            lambda r, m=m: fmt.parts(r[f"{m}_numerator"], r[f"{m}_denominator"]), return_dtype=pl.Utf8)
          .alias(f"{m}_parts") for m in SLA_METRICS),
    )
    target_txt = f"target {target * 100:.0f}%"
    config = {
        "queue": st.column_config.TextColumn("Queue", pinned=True, width=170),
        "breached": st.column_config.NumberColumn("Breached now", format="%d", width=110,
                                                  help="Open appeals past their resolution deadline at the as-of time"),
        "due_soon": st.column_config.NumberColumn(f"Due in {hours} h", format="%d",
                                                  help=f"Open appeals whose resolution deadline falls in the next {hours} hours"),
        "ttr_sla_attainment": st.column_config.Column(
            f"Resolution SLA ({target_txt})", help=METRICS["ttr_sla_attainment"].description + " Headline period."),
        "ttr_sla_attainment_parts": st.column_config.TextColumn("Achieved / decided"),
        "ftr_sla_attainment": st.column_config.Column(
            f"First-touch SLA ({target_txt})", help=METRICS["ftr_sla_attainment"].description + " Headline period."),
        "ftr_sla_attainment_parts": st.column_config.TextColumn("Achieved / decided "),
        "open_appeals": st.column_config.NumberColumn("Open now", format="%d"),
        "oldest_age_hours": st.column_config.NumberColumn("Oldest open (h)", format="%.0f"),
    }
    order = ["queue", "breached", "due_soon", "ttr_sla_attainment", "ttr_sla_attainment_parts",
             "ftr_sla_attainment", "ftr_sla_attainment_parts", "open_appeals", "oldest_age_hours"]
    event = st.dataframe(settings.sla_styled(shown, SLA_METRICS, target, scaled=False), hide_index=True, column_order=order, column_config=config, width="stretch",
                         placeholder=fmt.DASH, on_select="rerun", selection_mode="single-cell", key=key)
    return shown, event


def open_exception_cell(ctx: context.Context, shown: pl.DataFrame, cell, hours: int, page: str, slot: str) -> None:
    """A clicked cell of the exceptions table → the appeals behind it."""
    if cell is None:
        return
    row, col = cell
    if row >= shown.height:
        return
    queue = shown["queue"][row]
    group = () if queue == ALL else (("queue", queue),)
    where = "all queues" if queue == ALL else fmt.md(queue)
    drill = None
    if col in ("breached", "due_soon", "open_appeals", "oldest_age_hours", "queue"):
        what = {"breached": "breached", "due_soon": "due_soon"}.get(col, "open")
        label = {"breached": "breached now", "due_soon": f"due in the next {hours} h", "open": "open now"}[what]
        drill = drilldown.Drill("workload", f"Appeals {label} · {where}", group=group, filters=ctx.filter_key,
                                what=what, hours=float(hours), notes=False, slot=slot)
    elif col.startswith(("ttr_sla", "ftr_sla")):
        metric = "ttr_sla_attainment" if col.startswith("ttr") else "ftr_sla_attainment"
        drill = drilldown.Drill("members", f"{METRICS[metric].label}: SLAs decided in {ctx.label(ctx.focus)} · {where}",
                                metric=metric, period_start=ctx.focus, group=group, filters=ctx.filter_key,
                                slot=slot)
    if drill is not None and drilldown.current(page) != drill:
        drilldown.open_drill(page, drill)


def kpi_drill(ctx: context.Context):
    """The callback of a KPI card's "List appeals" (the headline period) and of a click on a
    point of its sparkline (that point's period): the appeals behind that number."""
    def on_list(kpi, period_start=None) -> None:
        name = kpi.name
        start = period_start or ctx.focus
        title = f"{kpi.label} · {ctx.label(start)}"
        if name == "qa_accuracy":
            drill = drilldown.Drill("qa", f"QA reviews · {ctx.label(start)}", metric=name, period_start=start,
                                    filters=ctx.filter_key, slot="kpi")
        elif name in ("backlog_open", "backlog_breached"):
            drill = drilldown.Drill("backlog", title, period_start=start, filters=ctx.filter_key,
                                    breached_only=name == "backlog_breached", notes=False, slot="kpi")
        else:
            kind = METRICS[name].kind
            what = "counted" if not kind.has_parts else "all"
            drill = drilldown.Drill("members", title, metric=name, period_start=start, filters=ctx.filter_key,
                                    what=what, slot="kpi")
        drilldown.open_drill(PAGE, drill)
    return on_list


LISTABLE = tuple(n for n in dashboard.KPI_METRICS if METRICS[n].reconcilable) + ("backlog_open", "backlog_breached",
                                                                                 "qa_accuracy")


def render() -> None:
    ctx = context.current()
    widgets.header("Overview", ctx, "What needs action now, then the headline KPIs of the period against the one "
                   "before. Click any number to list the appeals behind it.")
    target = settings.sla_target()

    st.subheader("Exceptions now")
    left, right = st.columns([1, 3])
    hours = left.selectbox("Breaching within the next", RISK_WINDOWS, index=RISK_WINDOWS.index(workload.DEFAULT_HOURS),
                           format_func=lambda h: f"{h} hours", key="risk_hours")
    table = exceptions_table(ctx, float(hours))
    right.caption(f"Open appeals by queue at {fmt.instant(ctx.as_of)}: breached (past their resolution deadline) and "
                  f"due within {hours} h; SLA attainment of {ctx.label(ctx.focus)} against the {target * 100:.0f}% "
                  "target (green at or above, red below; APPEALS_SLA_TARGET). **Click a cell** to list its appeals.")
    if table.height == 0:
        widgets.empty("No open appeals and no SLA decided with these filters.")
    else:
        shown, event = show_exceptions(ctx, table, hours, target, "exceptions")
        open_exception_cell(ctx, shown, drilldown.new_cell(event, "exceptions"), hours, PAGE, "exceptions")
        drilldown.panel(ctx, PAGE, "exceptions")

    needs_action(ctx, hours)

    report = ctx.report(by=(), metrics=dashboard.GROUP_TABLE_METRICS)  # the same call as the Queues total row
    st.subheader("Headline KPIs")
    if report.height == 0:
        widgets.empty("No appeals match these filters in this date range.")
        return
    kpis = ctx.kpis(report)
    trend = widgets.trend_frame(report, ctx, dashboard.KPI_METRICS)
    widgets.kpi_grid(kpis, trend, ctx, on_list=kpi_drill(ctx), listable=LISTABLE)
    st.caption("Arrows compare with the previous period; green is better, red worse, grey is neither "
               "(the metric catalog's direction). Sparklines: one point per period of the date range, the "
               "headline period in orange. Hover the (?) next to a label for its definition. "
               "**List appeals** opens the appeals behind a card (for QA accuracy, the QA reviews and their appeals); "
               "**click a sparkline point** for that period's.")
    drilldown.panel(ctx, PAGE, "kpi")


def needs_action(ctx: context.Context, hours: int) -> None:
    st.subheader("Needs action")
    rows, total = data.needs_action(ctx.url, ctx.as_of, float(hours), ctx.filter_key)
    if total == 0:
        widgets.empty(f"No open appeal is breached or due in the next {hours} hours.", "Try a longer window.")
        return
    breached = rows.filter(pl.col("ttr_deadline_at") < pl.lit(ctx.as_of)).height if rows.height == total else None
    link = "" if settings.case_url_template() else (" Set APPEALS_CASE_URL_TEMPLATE (e.g. "
                                                    "`https://yourco.zendesk.com/agent/tickets/{appeal_id}`) "
                                                    "for a link to each appeal in the case tool.")
    st.caption(f"**{total:,}** open appeals across queues are breached"
               + (f" ({breached:,})" if breached is not None else "")
               + f" or reach their resolution deadline in the next {hours} hours, most overdue first "
               "(time left = deadline − as-of; negative = overdue). Age on the policy clock counts business hours "
               f"on a business-hours SLA.{link}")
    cols = ("hours_left", "appeal_id", "case_link", "queue", "priority", "specialist_id", "specialist_name",
            "clock_age_hours", "age_hours", "ttr_target_hours", "sla_clock", "ttr_deadline_at", "market")
    drilldown.show_rows(ctx, rows, total, "needs_action", f"needs_action_{hours}h", notes=False, columns=cols)


if __name__ == "__main__":
    render()
