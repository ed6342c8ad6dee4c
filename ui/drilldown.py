"""Every number opens its appeals: one drill-down panel per page, opened by a click on a cell,
a KPI card's button or a row, and showing the appeals behind that number (bounded, paged,
with redacted decision notes, a case-tool link and a CSV of every listed row).

A click stores a `Drill` in the session (per page); `panel()` renders the open one. The rows
come from the engine (api.members, api.backlog_members, metrics.workload), never from SQL here.
Specialists are pseudonymised by the page context; notes are redacted by metrics.redact before
they reach this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date

import polars as pl
import streamlit as st

from metrics import dashboard
from metrics.catalog import METRICS
from ui import data, fmt, settings, widgets
from ui.context import Context

STATE = "_drill_{page}"

# the columns of a drill-down, in order (those present are shown)
DRILL_COLUMNS = (
    "appeal_id", "case_link", "review_id", "reviewed_at", "in_numerator", "in_denominator", "counted", "is_breached", "hours_left", "queue", "priority", "status", "outcome", "specialist_id",
    "specialist_name", "age_hours", "clock_age_hours", "created_at", "resolved_at", "ttr_deadline_at",
    "ttr_target_hours", "sla_clock", "ttr_sla", "ftr_sla", "policy", "enforcement_source", "enforced_by",
    "root_cause", "theme", "decision_note", "market",
)


@dataclass(frozen=True)
class Drill:
    """What a click asked for. kind: members (a report cell of a facts metric), backlog (open
    or breached at a period end), workload (breached / due_soon / open now)."""

    kind: str
    title: str
    metric: str | None = None
    period_start: date | None = None
    group: tuple[tuple[str, str], ...] = ()
    filters: tuple = ()
    what: str | None = None  # workload: breached, due_soon, open; members: numerator, all
    hours: float = 24.0
    breached_only: bool = False
    notes: bool = True
    slot: str = "main"  # where on the page the panel opens: under the element that was clicked
    extra: dict = field(default_factory=dict, compare=False, hash=False)


def open_drill(page: str, drill: Drill) -> None:
    st.session_state[STATE.format(page=page)] = drill


def close(page: str) -> None:
    st.session_state.pop(STATE.format(page=page), None)


def current(page: str) -> Drill | None:
    return st.session_state.get(STATE.format(page=page))


def rows_of(ctx: Context, drill: Drill) -> tuple[pl.DataFrame, int]:
    """The engine's rows for a drill (bounded by api.DRILL_LIMIT_MAX) and their total."""
    if drill.kind == "members":
        rows, total = data.members_in_zone(ctx.url, ctx.as_of, drill.metric, drill.period_start, ctx.grain,
                                           drill.group, drill.filters, ctx.tz)
        flag = {"numerator": "in_numerator", "counted": "counted"}.get(drill.what or "")
        if flag and flag in rows.columns:
            # a numerator (overturns, breaches) is listed alone: its count is the number clicked
            complete = rows.height >= total
            rows = rows.filter(pl.col(flag))
            total = rows.height if complete else total
        return rows, total
    if drill.kind == "backlog":
        return data.backlog_members(ctx.url, ctx.as_of, drill.period_start, ctx.grain, drill.group, drill.filters,
                                    drill.breached_only, ctx.tz)
    if drill.kind == "qa":
        return data.qa_members(ctx.url, ctx.as_of, drill.period_start, ctx.grain, drill.group, drill.filters, ctx.tz)
    if drill.kind == "open_age":
        # the rows behind one bar of the age chart: the same open rows, bucketed the same way
        rows, _ = dashboard.with_age_bucket(data.open_appeals(ctx.url, ctx.as_of, drill.filters)[0], ctx.as_of)
        for column, value in drill.group:
            rows = rows.filter(pl.col(column) == value)
        return rows.drop("age_bucket", "sla_state"), rows.height
    if drill.kind == "workload":
        filters = tuple(sorted(dict(drill.filters) | {k: (v,) for k, v in drill.group}.items()))
        return data.workload_appeals(ctx.url, ctx.as_of, drill.what, drill.hours, filters)
    raise ValueError(f"drill: unknown kind {drill.kind!r}")


def with_context(ctx: Context, rows: pl.DataFrame, notes: bool) -> pl.DataFrame:
    """Ages, time left, policy-clock age, redacted notes and the case-tool link for rows."""
    now = pl.lit(ctx.as_of.astimezone(UTC)).cast(pl.Datetime("us", "UTC"))
    out = rows.with_columns(
        ((now - pl.col("created_at")).dt.total_seconds() / 3600.0).alias("age_hours"),
        pl.when(pl.col("status") == "open").then((pl.col("ttr_deadline_at") - now).dt.total_seconds() / 3600.0)
        .alias("hours_left"),  # time left only means something while the appeal is open
    )
    ids = tuple(out["appeal_id"].to_list())
    if ids and "status" in out.columns and out.filter(pl.col("status") == "open").height:
        open_ids = tuple(out.filter(pl.col("status") == "open")["appeal_id"].to_list())
        out = out.join(data.clock_ages(ctx.url, ctx.as_of, open_ids), on="appeal_id", how="left")
    if notes and ids:
        out = out.join(data.decision_notes(ctx.url, ctx.as_of, ids), on="appeal_id", how="left")
    template = settings.case_url_template()
    if template:
        out = out.with_columns(pl.col("appeal_id").map_elements(lambda a: template.format(appeal_id=a),
                                                                return_dtype=pl.Utf8).alias("case_link"))
    return out


COLUMN_CONFIG = {
    "case_link": st.column_config.LinkColumn("Case", display_text="Open ↗",
                                             help="The appeal in the case tool (APPEALS_CASE_URL_TEMPLATE)"),
    "hours_left": st.column_config.NumberColumn("Time left (h)", format="%+.1f",
                                                help="Resolution deadline − as-of; negative = overdue"),
    "age_hours": st.column_config.NumberColumn("Age (calendar h)", format="%.1f"),
    "clock_age_hours": st.column_config.NumberColumn(
        "Age (policy clock h)", format="%.1f",
        help="Hours on the SLA policy's clock since created (business hours on a business clock)"),
    "decision_note": st.column_config.TextColumn("Decision note (redacted)", width="large"),
    "is_breached": st.column_config.CheckboxColumn("Breached"),
    "in_numerator": st.column_config.CheckboxColumn("In numerator"),
    "in_denominator": st.column_config.CheckboxColumn("In denominator"),
    "counted": st.column_config.CheckboxColumn("Counted"),
}


def show_rows(ctx: Context, rows: pl.DataFrame, total: int, key: str, file_stem: str, notes: bool = True,
              columns: tuple[str, ...] = DRILL_COLUMNS) -> None:
    """A bounded list of appeals: a page at a time (notes and clock ages read for that page
    only), and a CSV of every listed row with redacted notes and pseudonyms when on."""
    if rows.height < total:
        st.warning(f"Showing the first {rows.height:,} of {total:,} appeals (the engine's drill-down limit); "
                   "narrow the filters to see all.", icon=":material/warning:")
    pages = max(1, -(-rows.height // widgets.PAGE_SIZE))
    page = 1
    holder = st.container()
    if pages > 1:
        left, right = st.columns([3, 1], vertical_alignment="center")
        with left:
            page = st.pagination(pages, key=f"{key}_page", max_visible_pages=9)
        start = (page - 1) * widgets.PAGE_SIZE
        right.caption(f"Rows {start + 1:,}–{min(start + widgets.PAGE_SIZE, rows.height):,} of {rows.height:,}")
    shown = with_context(ctx, rows.slice((page - 1) * widgets.PAGE_SIZE, widgets.PAGE_SIZE), notes)
    shown = ctx.private(shown)
    if notes and "decision_note" in shown.columns:  # the notes next to the appeal, where the eye starts
        columns = ("appeal_id", "case_link", "decision_note", *(c for c in columns if c not in ("appeal_id", "case_link",
                                                                                               "decision_note")))
    # columns with nothing in them on this list (time left of resolved appeals, flags all true) say nothing
    cols = [c for c in columns if c in shown.columns and (c == "appeal_id" or shown[c].null_count() < shown.height)]
    if drill_flags_constant(shown):
        cols = [c for c in cols if c not in ("in_numerator", "in_denominator", "counted")]
    with holder:
        config = dict(COLUMN_CONFIG)
        st.dataframe(shown.select(cols), hide_index=True, width="stretch", placeholder=fmt.DASH,
                     column_config=config | _base_config(cols, ctx.tz), key=f"{key}_table")
    if st.session_state.get(f"{key}_csv_ready"):
        full = ctx.private(with_context(ctx, rows, notes))
        st.download_button(f"Download {rows.height:,} rows (CSV)", full.select([c for c in columns if c in full.columns])
                           .write_csv().encode(), file_name=f"{file_stem}.csv", mime="text/csv",
                           icon=":material/download:", key=f"{key}_csv")
    else:  # notes for thousands of rows are read only when asked for
        st.button(f"Prepare a CSV of {rows.height:,} rows", key=f"{key}_csv_prepare", icon=":material/download:",
                  on_click=lambda: st.session_state.__setitem__(f"{key}_csv_ready", True))


def drill_flags_constant(frame: pl.DataFrame) -> bool:
    """True when every listed row is in the numerator and the denominator (a numerator list)."""
    flags = [c for c in ("in_numerator", "in_denominator", "counted") if c in frame.columns]
    return bool(flags) and all(frame[c].fill_null(False).all() for c in flags)


def _base_config(cols, tz: str) -> dict:
    out = {}
    labels = {"appeal_id": "Appeal", "queue": "Queue", "priority": "Priority", "status": "Status",
              "outcome": "Outcome", "specialist_id": "Owner", "specialist_name": "Name", "sla_clock": "Clock",
              "ttr_sla": "TTR SLA", "ftr_sla": "FTR SLA", "policy": "Policy", "enforcement_source": "Source",
              "enforced_by": "Enforced by", "root_cause": "Root cause", "theme": "Theme", "market": "Market"}
    for c in cols:
        if c in labels:
            out[c] = st.column_config.TextColumn(labels[c], pinned=c == "appeal_id")
        elif c.endswith("_at"):
            out[c] = st.column_config.DatetimeColumn(c.replace("_at", "").replace("ttr_deadline", "Resolution due")
                                                     .replace("_", " ").capitalize(),
                                                     format="D MMM YYYY HH:mm", timezone=tz)
        elif c == "ttr_target_hours":
            out[c] = st.column_config.NumberColumn("Target (h)", format="%.0f")
    return out


def panel(ctx: Context, page: str, slot: str = "main") -> None:
    """The open drill-down of this page, if it was opened from `slot`."""
    drill = current(page)
    if drill is None or drill.slot != slot:
        return
    drawn = f"_drill_drawn_{page}"
    if st.session_state.get(drawn) is ctx.run:
        # a panel of this page was drawn higher up in this run, before a click on a chart further
        # down opened this one: run again, so the page shows this one alone
        st.rerun()
    st.session_state[drawn] = ctx.run
    with st.container(border=True, key=f"drill_panel_{page}"):
        head, close_col = st.columns([6, 1], vertical_alignment="center")
        head.subheader(drill.title)
        close_col.button("Close", key=f"drill_close_{page}", on_click=close, args=(page,), icon=":material/close:")
        if drill.kind == "unsupported":
            widgets.empty(f"{METRICS[drill.metric].label} counts {METRICS[drill.metric].cohort_spec.source.value.replace('_', ' ')}"
                          ", not appeals one by one: it has no appeal list.", "Pick another cell.")
            return
        rows, total = rows_of(ctx, drill)
        if total == 0:
            widgets.empty("No appeals behind this number.", "Pick another cell.")
            return
        st.markdown(f"**{total:,}** appeals · as of {fmt.instant(ctx.as_of)}"
                    + (" · decision notes are redacted (e-mails, phones, card numbers, handles, user links)"
                       if drill.notes else ""))
        # a file name shows no specialist id when pseudonyms are on
        shown_group = [ctx.specialist_names([v]).get(v, v) if k == "specialist_id" else v for k, v in drill.group]
        stem = "_".join(x for x in [page, drill.kind, drill.metric or drill.what or "", *shown_group,
                                    drill.period_start.isoformat() if drill.period_start else ""] if x)
        show_rows(ctx, rows, total, f"drill_{page}", stem.replace(" ", "_"), notes=drill.notes)


def picked_cell(event) -> tuple[int, str] | None:
    """The (row, column) of a single-cell selection event, or None."""
    try:
        cells = event.selection.cells
    except AttributeError:
        return None
    if not cells:
        return None
    row, col = cells[0]
    return int(row), str(col)


def new_cell(event, key: str) -> tuple[int, str] | None:
    """The cell picked in this run, only when it differs from the last one seen (a closed
    panel stays closed while the table keeps its selection)."""
    cell = picked_cell(event)
    seen = f"_drill_seen_{key}"
    if cell == st.session_state.get(seen):
        return None
    st.session_state[seen] = cell
    return cell


# report-table column → the metric whose appeals it counts (display columns derived from a metric)
_DERIVED = {"overturn_parts": "overturn_rate", "overturn_ci": "overturn_rate", "overturn_expected": "overturn_rate",
            "compare": "overturn_rate", "active_days": "appeals_resolved", "resolved_per_active_day": "appeals_resolved"}


def metric_of(column: str) -> tuple[str | None, str]:
    """(metric, part) of a report-table column: part is numerator, denominator or value."""
    if column in _DERIVED:
        return _DERIVED[column], "value"
    for suffix, part in (("_numerator", "numerator"), ("_denominator", "denominator"), ("_badge", "value"),
                         ("_parts", "value"), ("_ci_lo", "value"), ("_ci_hi", "value")):
        if column.endswith(suffix) and column[: -len(suffix)] in METRICS:
            return column[: -len(suffix)], part
    return (column, "value") if column in METRICS else (None, "value")


def cell_drill(ctx: Context, column: str, group: tuple[tuple[str, str], ...], where: str, slot: str,
               period_start: date | None = None) -> Drill | None:
    """The drill-down behind one cell of a report table (a group's metric in a period)."""
    metric, part = metric_of(column)
    if metric is None:
        return None
    start = period_start or ctx.focus
    m = METRICS[metric]
    title = f"{m.label} · {where} · {ctx.label(start)}"
    if metric in ("backlog_open", "backlog_breached"):
        return Drill("backlog", title, period_start=start, group=group, filters=ctx.filter_key,
                     breached_only=metric == "backlog_breached", notes=False, slot=slot)
    if metric == "qa_accuracy":
        return Drill("qa", f"QA reviews · {where} · {ctx.label(start)}", metric=metric, period_start=start,
                     group=group, filters=ctx.filter_key, slot=slot)
    if not m.reconcilable:
        return Drill("unsupported", title, metric=metric, slot=slot)
    what = "numerator" if part == "numerator" else "counted" if not m.kind.has_parts else "all"
    return Drill("members", title, metric=metric, period_start=start, group=group, filters=ctx.filter_key,
                 what=what, slot=slot)


def point_drill(ctx: Context, point: dict | None, group: tuple[tuple[str, str], ...], where: str, slot: str,
                metric: str | None = None, series: str | None = None) -> Drill | None:
    """The drill-down behind a clicked point of a time chart (ui.charts.click_selection): the
    appeals of that metric in the point's period (`period_iso`, a period of the reporting zone,
    so the list is the zone's period as the chart is), the chart's group and filters, and the
    point's series (`series`: a grouping key such as enforcement_source) when the chart has
    one line per group. `metric` is the chart's metric, else the point's `metric` field."""
    if not point or not point.get("period_iso"):
        return None  # a click beside every point, or on an annotation
    try:
        start = date.fromisoformat(str(point["period_iso"]))
    except ValueError:
        return None
    name = metric or point.get("metric")
    if name not in METRICS:
        return None
    if series:
        if point.get(series) is None:
            return None
        group = (*group, (series, str(point[series])))
        where = f"{where} · {point[series]}" if where else str(point[series])
    return cell_drill(ctx, name, group, where, slot, start)


def open_point(ctx: Context, page: str, event, key: str, group: tuple[tuple[str, str], ...], where: str, slot: str,
               metric: str | None = None, series: str | None = None) -> Drill | None:
    """Open the drill-down of a time chart's newly clicked point (see point_drill)."""
    drill = point_drill(ctx, picked_point(event, key), group, where, slot, metric, series)
    if drill is not None:
        open_drill(page, drill)
    return drill


def picked_point(event, key: str, name: str = "pick") -> dict | None:
    """The clicked mark's field values of a selectable chart, only when new (see new_cell)."""
    try:  # the event is a dict (attribute access too, in a browser; a plain dict set in session state)
        points = (event or {}).get("selection", {}).get(name) or []
    except AttributeError:
        points = []
    point = dict(points[0]) if points else None
    seen = f"_drill_seen_{key}"
    if point == st.session_state.get(seen):
        return None
    st.session_state[seen] = point
    return point
