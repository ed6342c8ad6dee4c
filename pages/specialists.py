"""Specialists: who resolves how much, how fast, and who is overturned more than peers with
the same queue mix?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics import dashboard, stats, workload
from metrics.catalog import MIN_GROUP_SIZE
from ui import access, charts, context, data, drilldown, exports, fmt, widgets

METRICS = dashboard.SPECIALIST_METRICS
PAGE = "specialists"


def with_workload(ctx: context.Context, table: pl.DataFrame, hours: int) -> pl.DataFrame:
    """Each specialist's open work now (metrics.workload): owned, due within `hours`, breached, oldest."""
    work = data.workload(ctx.url, ctx.as_of, "specialist_id", float(hours), ctx.filter_key).select(
        "specialist_id", "open_appeals", "due_soon", "breached", "oldest_age_hours")
    return table.join(work, on="specialist_id", how="left").with_columns(
        pl.col("open_appeals", "due_soon", "breached").fill_null(0))


def show_table(ctx: context.Context, table: pl.DataFrame, names: dict[str, str], hours: int = 24):
    shown = fmt.for_display(table, METRICS).with_columns(
        pl.col("specialist_id").replace_strict(names, default=None).alias("name"),
        pl.struct("overturn_rate_ci_lo", "overturn_rate_ci_hi")
        .map_elements(lambda r: fmt.interval(r["overturn_rate_ci_lo"], r["overturn_rate_ci_hi"]), return_dtype=pl.Utf8)
        .alias("overturn_ci"),
        pl.when(pl.col("overturn_rate_too_few")).then(pl.lit("too few to compare"))
        .otherwise(pl.col("funnel_status")).alias("compare"),
        (pl.col("overturn_expected") * 100).alias("overturn_expected"),
    )
    config = {n: fmt.column(n) for n in METRICS} | {
        "backlog_open": fmt.column("backlog_open", "Open at period end"),
        "backlog_breached": fmt.column("backlog_breached", "Breached at period end"),
        "name": st.column_config.TextColumn("Specialist", pinned=True),
        "pod": "Pod",
        "resolved_per_active_day": st.column_config.NumberColumn(
            "Resolved / active day", format="%.1f", help="Appeals resolved ÷ days with at least one resolution"),
        "active_days": st.column_config.NumberColumn("Active days", format="%d"),
        "overturn_rate_numerator": st.column_config.NumberColumn("Overturned", format="%d"),
        "overturn_rate_denominator": st.column_config.NumberColumn("Resolved (known outcome)", format="%d"),
        "overturn_ci": st.column_config.TextColumn("Overturn 95% CI", help="Wilson score interval"),
        "overturn_expected": st.column_config.NumberColumn(
            "Expected for queue mix", format="%.1f%%", help="Peer overturn rate of each queue, weighted by "
            "this specialist's resolved appeals in it"),
        "compare": st.column_config.TextColumn(
            "Against peers", help=f"Overturn rate against the 95% / 99.8% limits around the queue-mix expected rate; "
            f"under {MIN_GROUP_SIZE} resolved appeals: too few to compare"),
        "qa_accuracy_denominator": st.column_config.NumberColumn("QA reviews", format="%d"),
        "open_appeals": st.column_config.NumberColumn("Open now", format="%d", help="Open appeals assigned to them now"),
        "due_soon": st.column_config.NumberColumn(f"Due in {hours} h", format="%d",
                                                  help=f"Their open appeals due in the next {hours} hours"),
        "breached": st.column_config.NumberColumn("Breached now", format="%d",
                                                  help="Their open appeals past the resolution deadline now"),
        "oldest_age_hours": st.column_config.NumberColumn("Oldest open (h)", format="%.0f"),
    }
    order = ["name", "pod", "open_appeals", "due_soon", "breached", "oldest_age_hours", "appeals_resolved", "active_days", "resolved_per_active_day", "backlog_open",
             "backlog_breached", "ttr_p50_hours",
             "ttr_p90_hours", "ftr_p50_hours", "ftr_p90_hours", "overturn_rate", "overturn_rate_numerator",
             "overturn_rate_denominator", "overturn_ci", "overturn_expected", "compare", "qa_accuracy",
             "qa_accuracy_denominator", "reopen_rate"]
    event = st.dataframe(ctx.private(shown), hide_index=True, column_order=order, column_config=config,
                         width="stretch", placeholder=fmt.DASH, on_select="rerun", selection_mode="single-cell",
                         key="specialist_table")
    exports.table_downloads(shown.select([c for c in order if c in shown.columns]), ctx, f"specialists_{ctx.focus}",
                            "spec_table")
    return event


def open_cell(ctx: context.Context, table: pl.DataFrame, names: dict[str, str], cell, hours: int) -> None:
    """A clicked cell → the appeals behind it (rows in the table's order; ids stay internal)."""
    if cell is None or cell[0] >= table.height:
        return
    row, col = cell
    sid = table["specialist_id"][row]
    group = (("specialist_id", sid),)
    who = fmt.md(names.get(sid, sid))
    if col in ("open_appeals", "due_soon", "breached", "oldest_age_hours", "name"):
        what = {"due_soon": "due_soon", "breached": "breached"}.get(col, "open")
        label = {"breached": "breached now", "due_soon": f"due in the next {hours} h", "open": "open now"}[what]
        drill = drilldown.Drill("workload", f"Appeals {label} · {who}", group=group, filters=ctx.filter_key,
                                what=what, hours=float(hours), notes=False, slot="table")
    else:
        drill = drilldown.cell_drill(ctx, col, group, who, "table")
    if drill is not None:
        drilldown.open_drill(PAGE, drill)


def show_funnel(ctx: context.Context, table: pl.DataFrame, mix: pl.DataFrame, names: dict[str, str]) -> None:
    points = dashboard.funnel(table, mix).with_columns(
        pl.col("specialist_id").replace_strict(names, default=None).alias("name"))
    peer = dashboard.peer_rate(mix)
    if peer is None or points.height == 0:
        widgets.empty("No resolved appeals with a known outcome in the headline period.")
        return
    n_max = int(points["overturn_rate_denominator"].max() or 1)
    n_min = max(5, int(min(MIN_GROUP_SIZE, points["overturn_rate_denominator"].min() or 1) * 0.7))
    curve = pl.DataFrame(stats.funnel_curve(peer, int(n_max * 1.1) + 1, n_min=n_min))
    exports.chart(charts.funnel_plot(ctx.private(points), curve), "overturn_funnel", "specialists_chart1")
    flagged = points.filter(pl.col("status").str.starts_with("above 99.8"))
    st.caption(
        f"Peer overturn rate {fmt.value('overturn_rate', peer)} (all specialists, headline period). Dashed and dotted "
        f"lines: 95% and 99.8% limits around it for each volume. Each point is coloured against its own limits "
        f"around the rate expected for its queue mix (grey tick). Under {MIN_GROUP_SIZE} resolved appeals with a "
        f"known outcome: too few to compare."
        + (f" **Above the 99.8% limit: {', '.join(fmt.md(n) for n in flagged['name'].to_list())}.**" if flagged.height else "")
    )


def render() -> None:
    ctx = context.current()
    if access.role() != access.LEAD:  # a deep link past the navigation: leads only
        st.error("The Specialists page is for team leads.", icon=":material/lock:")
        st.stop()
    widgets.header("Specialists", ctx, "One row per specialist (the owner: who decided, or to whom an open appeal is "
                   "assigned). Compare overturn rates fairly: against peers with the same queue mix, with intervals.")
    report = ctx.report(by=("specialist_id", "pod"), metrics=METRICS)
    daily = ctx.focus_report(by=("specialist_id",), metrics=("appeals_resolved",), period="day")
    mix = ctx.focus_report(by=("specialist_id", "queue"), metrics=("overturn_rate",)).filter(
        pl.col("specialist_id").is_not_null())
    table = dashboard.specialist_table(report, daily, mix, ctx.focus)
    if table.height == 0:
        widgets.empty("No specialist resolved or owned appeals in the headline period with these filters.")
        return
    known = {} if ctx.pseudonymise else data.specialist_names(ctx.url, ctx.as_of)
    names = ctx.specialist_names(report["specialist_id"].to_list(), known)
    st.subheader(f"All specialists · {ctx.label(ctx.focus)}")
    hours = st.columns([1, 3])[0].selectbox("Due within the next", workload.RISK_WINDOWS,
                         index=workload.RISK_WINDOWS.index(workload.DEFAULT_HOURS), format_func=lambda h: f"{h} hours",
                         key="specialist_hours")
    table = with_workload(ctx, table, hours)
    event = show_table(ctx, table, names, hours)
    open_cell(ctx, table, names, drilldown.new_cell(event, "specialist_table"), hours)
    st.caption(f"Workload now ({fmt.instant(ctx.as_of)}): open appeals assigned to each specialist, those due in the "
               f"next {hours} h and those already past their resolution deadline, and the age of the oldest, beside "
               "the quality figures of the headline period. **Click a cell** to list its appeals.")
    st.caption(dashboard.SPECIALIST_OWNER_RULE)
    drilldown.panel(ctx, PAGE, "table")
    st.subheader("Overturn rate against volume")
    show_funnel(ctx, table, mix, names)

    ids = sorted(table["specialist_id"].to_list(), key=lambda i: names.get(i, i))
    if st.session_state.get("specialist_pick") not in ids:  # default: the most unusual overturn rate
        st.session_state["specialist_pick"] = dashboard.most_unusual(table)
    pick = st.selectbox("Specialist to look into", ids, key="specialist_pick", format_func=names.get)
    st.header(fmt.md(names[pick]), divider="gray")
    trend = widgets.trend_frame(report.filter(pl.col("specialist_id") == pick).drop("pod"), ctx, METRICS)
    trend = dashboard.with_wilson(trend, "overturn_rate")
    pods = report.filter(pl.col("specialist_id") == pick)["pod"].drop_nulls().unique().to_list()
    notes = ctx.annotations(scope={"pod": tuple(pods)} if pods else None)  # holidays of the specialist's site
    group, where = (("specialist_id", pick),), fmt.md(names[pick])
    c1, c2 = st.columns(2)
    for col, name, title, metrics in ((c1, "resolved", "Appeals resolved", ["appeals_resolved"]),
                                      (c1, "ttr_ftr", "Time to resolve and first touch",
                                       ["ttr_p50_hours", "ttr_p90_hours", "ftr_p50_hours"]),
                                      (c2, "overturn_rate", "Overturn rate with its 95% Wilson interval", None),
                                      (c2, "qa_reopen", "QA accuracy and reopen rate", ["qa_accuracy", "reopen_rate"])):
        with col:
            st.markdown(f"**{title}**")
            if metrics is None:
                chart = charts.rate_band(trend, "overturn_rate", ctx.grain, annotations=notes,
                                         selection=charts.click_selection(["period_iso"]))
            else:
                chart = charts.metric_lines(trend, metrics, ctx.grain, annotations=notes,
                                            selection=charts.click_selection(["period_iso", "metric"]))
            key = f"sp_{name}_chart"
            event = exports.chart(chart, f"{name}_{names[pick]}", f"specialists_{name}", on_select="rerun",
                                  chart_key=key)
            drilldown.open_point(ctx, PAGE, event, key, group, where, "trends",
                                 metric="overturn_rate" if metrics is None else None)
    st.caption("**Click a point** to list the appeals behind it (QA accuracy: the QA reviews). Periods in "
               f"{ctx.tz}.")
    drilldown.panel(ctx, PAGE, "trends")
    widgets.drilldown(ctx, {"specialist_id": pick}, "spec_drill", title=f"Appeals of {fmt.md(names[pick])}",
                      file_label=names[pick])


if __name__ == "__main__":
    render()
