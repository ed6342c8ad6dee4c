"""Widgets shared by the pages: header, KPI cards, empty states, the appeal drill-down."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from metrics import dashboard
from metrics.catalog import METRICS
from metrics.dashboard import Kpi
from ui import charts, data, fmt
from ui.context import Context

PAGE_SIZE = 50

APPEAL_COLUMNS = (
    "appeal_id", "queue", "priority", "market", "status", "outcome", "specialist_id", "specialist_name",
    "created_at", "first_touch_at", "resolved_at", "ftr_hours", "ttr_hours", "ftr_sla", "ttr_sla",
    "reopen_count", "escalated", "policy", "enforcement_source", "enforced_by", "root_cause", "theme",
)


def header(title: str, ctx: Context, question: str, period: bool = True) -> None:
    """Page title, the question it answers, and the period, scope and freshness it shows."""
    st.title(title)
    if not period:
        st.caption(f"{question}  \nTimes in {ctx.tz} · data as of **{ctx.instant(ctx.as_of)}** ({fmt.age(ctx.as_of)})")
        return
    partial = " (still running: counts are partial)" if ctx.focus_is_partial else ""
    st.caption(
        f"{question}  \n"
        f"**{_upper_first(ctx.label(ctx.focus))}**{partial} compared with {ctx.comparison_label} · "
        f"{ctx.scope} · periods in {ctx.tz} · data as of **{ctx.instant(ctx.as_of)}** ({fmt.age(ctx.as_of)})"
    )


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def empty(message: str, hint: str = "Widen the date range or remove a filter in the sidebar.") -> None:
    st.info(f"{message}  \n{hint}", icon=":material/info:")


def kpi_card(kpi: Kpi, trend: pl.DataFrame | None, ctx: Context, on_list=None) -> None:
    """st.metric with the change against the previous period (coloured by the metric's direction),
    numerator/denominator for rates, and a sparkline of the trend."""
    with st.container(border=True):
        help_text = kpi.description
        if kpi.denominator is not None:
            help_text += f"\n\nThis period: {fmt.parts(kpi.numerator, kpi.denominator)}; " \
                         f"{'previous' if ctx.compare == 'previous' else 'the 4 periods before, pooled'}: " \
                         f"{fmt.parts(kpi.prev_numerator, kpi.prev_denominator) or fmt.DASH}."
        st.metric(
            kpi.label, fmt.value(kpi.name, kpi.value), fmt.change(kpi), delta_color=fmt.delta_color(kpi.higher_is_better),
            help=help_text, delta_description=(f"vs {ctx.label(ctx.previous, short=True)}" if ctx.compare == "previous"
                               else "vs 4-period avg") if kpi.change is not None else None,
            delta_arrow="off" if kpi.change == 0 else "auto",
        )
        if kpi.denominator is not None:
            st.caption(f"{fmt.parts(kpi.numerator, kpi.denominator)} appeals")
        elif kpi.unit == "hours":
            st.caption("calendar hours")
        else:
            st.caption("appeals" if kpi.name != "backlog_open" else "open at period end")
        if trend is not None and trend.height > 1 and trend[kpi.name].drop_nulls().len() > 0:
            if on_list is None:
                st.vega_lite_chart(charts.sparkline(trend, kpi.name, ctx.grain, ctx.focus), width="stretch")
            else:  # a point of the sparkline lists that period's appeals, as the button lists the headline's
                from ui import drilldown

                key = f"kpi_spark_{kpi.name}"
                event = st.vega_lite_chart(charts.sparkline(trend, kpi.name, ctx.grain, ctx.focus, selectable=True),
                                           width="stretch", on_select="rerun", key=key)
                point = drilldown.picked_point(event, key)
                if point and point.get("period_iso"):
                    on_list(kpi, date.fromisoformat(str(point["period_iso"])))
        if on_list is not None:  # the appeals behind the number (ui.drilldown)
            st.button("List appeals", key=f"kpi_list_{kpi.name}", on_click=on_list, args=(kpi,),
                      icon=":material/list:", type="tertiary")


def kpi_grid(kpis: list[Kpi], trend: pl.DataFrame | None, ctx: Context, per_row: int = 4, on_list=None,
             listable=()) -> None:
    for i in range(0, len(kpis), per_row):
        cols = st.columns(per_row)
        for col, kpi in zip(cols, kpis[i : i + per_row], strict=False):
            with col:
                kpi_card(kpi, trend, ctx, on_list if kpi.name in listable else None)


def appeals_table(frame: pl.DataFrame, ctx: Context, extra: tuple[str, ...] = (), columns: tuple[str, ...] | None = None,
                  height: int | None = None) -> None:
    """Facts rows for display: the useful columns, specialists pseudonymised when asked."""
    frame = ctx.private(frame)
    cols = [c for c in (columns or (*extra, *APPEAL_COLUMNS)) if c in frame.columns]
    config = {
        "appeal_id": st.column_config.TextColumn("Appeal", pinned=True),
        "created_at": st.column_config.DatetimeColumn("Created", format="D MMM YYYY HH:mm", timezone=ctx.tz),
        "first_touch_at": st.column_config.DatetimeColumn("First touch", format="D MMM YYYY HH:mm", timezone=ctx.tz),
        "resolved_at": st.column_config.DatetimeColumn("Resolved", format="D MMM YYYY HH:mm", timezone=ctx.tz),
        "ttr_deadline_at": st.column_config.DatetimeColumn("Resolution due", format="D MMM YYYY HH:mm", timezone=ctx.tz),
        "ftr_hours": st.column_config.NumberColumn("FTR (h)", format="%.1f"),
        "ttr_hours": st.column_config.NumberColumn("TTR (h)", format="%.1f"),
        "age_hours": st.column_config.NumberColumn("Age (h)", format="%.1f"),
        "hours_left": st.column_config.NumberColumn("Hours left", format="%.1f"),
        "ttr_target_hours": st.column_config.NumberColumn("Target (h)", format="%.0f"),
        "sla_clock": "Clock",
        "specialist_id": st.column_config.TextColumn("Specialist"),
        "specialist_name": st.column_config.TextColumn("Name"),
        "in_numerator": st.column_config.CheckboxColumn("In numerator"),
        "in_denominator": st.column_config.CheckboxColumn("In denominator"),
        "counted": st.column_config.CheckboxColumn("Counted"),
        "escalated": st.column_config.CheckboxColumn("Escalated"),
        "ftr_sla": "FTR SLA", "ttr_sla": "TTR SLA", "reopen_count": "Reopens", "queue": "Queue",
        "priority": "Priority", "market": "Market", "status": "Status", "outcome": "Outcome", "policy": "Policy",
        "enforcement_source": "Source", "enforced_by": "Enforced by", "root_cause": "Root cause", "theme": "Theme",
    }
    st.dataframe(frame.select(cols), hide_index=True, column_config=config, width="stretch",
                 height=height or "auto", placeholder=fmt.DASH)


def csv_download(frame: pl.DataFrame, ctx: Context, name: str, label: str, key: str) -> None:
    """CSV and XLSX of a table (ui.exports, the one export helper)."""
    from ui import exports

    exports.table_downloads(frame, ctx, name, key)


def paged_table(frame: pl.DataFrame, ctx: Context, key: str, **table_args) -> None:
    """A table of facts rows, one page at a time, with a pager under it (rows already bounded
    by the engine)."""
    pages = max(1, -(-frame.height // PAGE_SIZE))
    holder = st.container()
    page = 1
    if pages > 1:
        left, right = st.columns([3, 1], vertical_alignment="center")
        with left:
            page = st.pagination(pages, key=f"{key}_page", max_visible_pages=9)
        start = (page - 1) * PAGE_SIZE
        right.caption(f"Rows {start + 1:,}–{min(start + PAGE_SIZE, frame.height):,} of {frame.height:,}")
    with holder:
        appeals_table(frame.slice((page - 1) * PAGE_SIZE, PAGE_SIZE), ctx, **table_args)


def drilldown(ctx: Context, group: dict[str, str | None], key: str, default_metric: str = "appeals_resolved",
              title: str = "Appeals behind a number", file_label: str | None = None) -> None:
    """Pick a metric and a period: the appeals the engine counted in that cell for `group`
    (api.members), paged, with a CSV of all of them."""
    st.subheader(title)
    metrics = list(dashboard.RECONCILABLE)
    c1, c2 = st.columns([2, 2])
    metric = c1.selectbox("Metric", metrics, index=metrics.index(default_metric), key=f"{key}_metric",
                          format_func=lambda n: METRICS[n].label)
    starts = [s.isoformat() for s in reversed(ctx.starts)]
    if not starts:
        empty("The date range holds no period.")
        return
    default = ctx.focus.isoformat() if ctx.focus.isoformat() in starts else starts[0]
    if st.session_state.get(f"{key}_period") not in starts:
        st.session_state[f"{key}_period"] = default
    period_iso = c2.selectbox("Period", starts, key=f"{key}_period",
                              format_func=lambda s: dashboard.period_choice_label(date.fromisoformat(s), ctx.grain))
    period = date.fromisoformat(period_iso)
    rows, total = data.members_in_zone(ctx.url, ctx.as_of, metric, period, ctx.grain, tuple(sorted(group.items())),
                                       ctx.filter_key, ctx.tz)
    label = file_label or "_".join(str(v) for v in group.values())
    show_members(ctx, metric, rows, total, key, f"{metric}_{label.replace(' ', '_')}_{period_iso}")


def show_members(ctx: Context, metric: str, rows: pl.DataFrame, total: int, key: str, file_stem: str) -> None:
    m = METRICS[metric]
    if total == 0:
        empty(f"No appeals count towards {m.label.lower()} in this period for this selection.",
              "Pick another period or metric, or widen the filters.")
        return
    st.markdown(m.kind.member_summary(m, rows, total))
    extra = tuple(m.kind.member_flags(m))
    if rows.height < total:
        st.warning(f"Showing the first {rows.height:,} of {total:,} appeals (the engine's drill-down limit); "
                   "narrow the filters to see all.", icon=":material/warning:")
    paged_table(rows, ctx, key, extra=extra)
    csv_download(rows, ctx, file_stem, f"Download {rows.height:,} rows (CSV)", f"{key}_csv")


def trend_frame(report: pl.DataFrame, ctx: Context, metrics, key: str | None = None) -> pl.DataFrame:
    """The report over the selected periods only, absent cells filled (counts 0, others null)."""
    return dashboard.complete_periods(report.filter(pl.col("period_start").is_in(ctx.starts)), ctx.starts, metrics, key)
