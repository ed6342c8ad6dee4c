"""Definitions (for Data partners): every metric in plain words, the SQL that runs, and a
reconciliation panel listing the appeals behind any report cell."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import streamlit as st

from metrics import dashboard, definitions
from metrics.catalog import METRICS
from ui import context, data, fmt, widgets

GROUP_KEYS = {"": "All appeals (no grouping)", "queue": "Queue", "priority": "Priority", "market": "Market",
              "site": "Site", "pod": "Pod"}


def metric_card(rec: dict) -> None:
    with st.container(border=True):
        st.markdown(f"**{rec['business_name']}** · `{rec['name']}` · v{rec['version']} · owner: {rec['owner']}")
        st.markdown(rec["description"])
        lines = [
            f"**Counted in:** {rec['cohort']}"
            + ("" if rec["cohort_timestamp"] in rec["cohort"] else f" (period of `{rec['cohort_timestamp']}`)"),
            f"**Formula:** {rec['formula']}",
            f"**Unit:** {rec['unit']} · format `{rec['format']}` · {rec['direction']} · kind: {rec['kind']}",
        ]
        if rec["needs"]:
            lines.append(f"**Needs:** {', '.join(rec['needs'])} (null when the table is absent)")
        lines += [f"**Edge case:** {e}" for e in rec["edge_cases"]]
        st.caption("  \n".join(lines))


def catalog() -> None:
    spec = definitions.as_json()
    st.subheader("Metrics")
    st.markdown(
        f"Metric catalog **v{spec['catalog_version']}** · first touch = the earliest specialist event of type "
        f"{', '.join(f'`{t}`' for t in spec['touch_event_types'])} (touch definition v{spec['touch_definition_version']}) "
        f"· groups with a rate denominator under **{spec['min_group_size']}** are marked *too few to compare*."
    )
    st.download_button("Download the catalog (JSON)", json.dumps(spec, indent=2), "metric_catalog.json",
                       "application/json", icon=":material/download:", on_click="ignore")
    records = spec["metrics"]
    for i in range(0, len(records), 2):
        cols = st.columns(2)
        for col, rec in zip(cols, records[i : i + 2], strict=False):
            with col:
                metric_card(rec)
    with st.expander("**Root-cause themes** · taxonomy v" + spec["themes"]["version"]):
        st.dataframe(pl.DataFrame(spec["themes"]["themes"]).with_columns(
            pl.col("codes").list.join(", "), pl.col("note_phrases").list.join(", ")), hide_index=True, width="stretch")


def sql_viewer(ctx: context.Context) -> None:
    st.subheader("The SQL that runs")
    c1, c2 = st.columns(2)
    metric = c1.selectbox("Metric", list(METRICS), format_func=lambda n: f"{METRICS[n].label} ({n})", key="sql_metric")
    key = c2.selectbox("Grouped by", list(GROUP_KEYS), format_func=GROUP_KEYS.get, key="sql_by")
    sql = data.report_sql(ctx.url, ctx.as_of, metric, (key,) if key else (), ctx.grain)
    cut = sql.find("report_facts as (")
    st.caption(f"One query, pushed down to the warehouse ({sql.count(chr(10)) + 1:,} lines): staging CTEs, the appeal "
               "models of sql/models/ (one row per appeal: `appeal_facts`), then this metric's cohort aggregate, "
               "shown first. Bind parameters start with `:`. On DuckDB the dashboard computes the models once per "
               "as-of time into temporary tables and its reports read those.")
    st.code(sql[cut:] if cut > 0 else sql, language="sql")
    if cut > 0:
        with st.expander(f"The whole query ({sql.count(chr(10)) + 1:,} lines)"):
            st.code(sql, language="sql", height=480)


def reconciliation(ctx: context.Context) -> None:
    st.subheader("Reconciliation")
    st.caption("Pick a metric, a period and a group: the report's number next to the appeals the engine counted in "
               "it (numerator and denominator for rates). Download the ids to check them against your own data.")
    metrics = list(dashboard.RECONCILABLE)
    starts = [s.isoformat() for s in reversed(ctx.starts)]
    if not starts:
        widgets.empty("The date range holds no period.")
        return
    c1, c2, c3, c4 = st.columns(4)
    metric = c1.selectbox("Metric", metrics, index=metrics.index("overturn_rate"), key="rec_metric",
                          format_func=lambda n: METRICS[n].label)
    if st.session_state.get("rec_period") not in starts:
        st.session_state["rec_period"] = ctx.focus.isoformat() if ctx.focus.isoformat() in starts else starts[0]
    period_iso = c2.selectbox("Period", starts, key="rec_period", format_func=lambda s: dashboard.period_choice_label(date.fromisoformat(s), ctx.grain))
    key = c3.selectbox("Group by", list(GROUP_KEYS), format_func=GROUP_KEYS.get, key="rec_key")
    period = date.fromisoformat(period_iso)
    cell = ctx.report(by=(key,) if key else (), metrics=(metric,), date_from=period,
                      date_to=dashboard.period_last_day(period, ctx.grain))
    value = None
    if key:
        values = sorted(v for v in cell[key].unique().to_list() if v is not None)
        if not values:
            widgets.empty(f"No {GROUP_KEYS[key].lower()} has {METRICS[metric].label.lower()} in this period.")
            return
        value = c4.selectbox(GROUP_KEYS[key], values, key=f"rec_value_{key}")
    row = dashboard.row_at(cell, period, {key: value} if key else None)
    rows, total = data.members(ctx.url, ctx.as_of, metric, period, ctx.grain,
                               ((key, value),) if key else (), ctx.filter_key)
    rec = dashboard.reconcile(metric, row, rows, total)
    cols = st.columns(3)
    cols[0].metric("Report value", fmt.value(metric, rec.report_value),
                   help=f"api.report for {ctx.label(period)}" + (f", {key} = {value}" if key else ""))
    for col, tile in zip(cols[1:], rec.tiles(), strict=True):
        col.metric(tile.label, tile.text, help=tile.help)
    if rec.matches is True:
        st.success("The listed appeals reproduce the report's number exactly.", icon=":material/check_circle:")
    elif rec.matches is False:
        st.error("The listed appeals do not reproduce the report's number: please report this to the metrics owners.",
                 icon=":material/error:")
    else:
        st.warning(f"Only the first {rows.height:,} of {total:,} appeals are listed (the engine's limit); narrow the "
                   "filters to reconcile.", icon=":material/warning:")
    widgets.show_members(ctx, metric, rows, total, "rec", f"reconcile_{metric}_{value or 'all'}_{period_iso}")


def render() -> None:
    ctx = context.current()
    widgets.header("Definitions", ctx, "What every number means, how it is computed, and proof that it adds up.",
                   period=False)
    catalog()
    reconciliation(ctx)
    sql_viewer(ctx)


if __name__ == "__main__":
    render()
