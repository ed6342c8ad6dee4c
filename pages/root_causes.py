"""Root causes: why are decisions overturned, where do the overturns come from, and what moved?"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from metrics import dashboard, impact, themes
from metrics.catalog import METRICS
from ui import charts, context, data, drilldown, exports, fmt, widgets

PAGE = "root_causes"

RATE = ("overturn_rate",)
GROUPINGS = {"theme": "Theme", "root_cause": "Root-cause code"}
NO_CODE = "(none recorded)"


def render() -> None:
    ctx = context.current()
    taxonomy = themes.load()
    theme_labels = taxonomy.labels()
    widgets.header("Root causes", ctx, "Overturned decisions by root cause over time, by enforcement source, policy and "
                   "model version, and what moved most against the previous period.")
    grouping = st.segmented_control("Group overturns by", list(GROUPINGS), format_func=GROUPINGS.get,
                                    default="theme", key="rc_grouping", required=True) or "theme"
    causes = ctx.report(by=(grouping,), metrics=RATE)
    overturns = causes.filter(pl.col("period_start").is_in(ctx.starts) & (pl.col("overturn_rate_numerator") > 0))
    overturns = overturns.with_columns(pl.col(grouping).fill_null(NO_CODE))  # overturns decided without a code
    if overturns.height == 0:
        widgets.empty("No overturned appeals match these filters in this date range.")
        return
    overturns = overturns.rename({"overturn_rate_numerator": "overturns"})
    if grouping == "theme":
        overturns = overturns.with_columns(pl.col("theme").replace(theme_labels))
    overturns = dashboard.share_of_total(overturns, grouping, "overturns").with_columns(
        pl.col("period_start").dt.strftime("%Y-%m-%d").alias("period_iso"))
    st.subheader(f"Overturns by {GROUPINGS[grouping].lower()}")
    chart = charts.stacked_counts(overturns, grouping, "overturns", ctx.grain, GROUPINGS[grouping],
                                  "overturned appeals", share="share", annotations=ctx.annotations(),
                                  selection=charts.mark_selection([grouping, "period_iso"]))
    event = exports.chart(chart, f"overturns_by_{grouping}",
                          "root_causes_chart1", on_select="rerun", chart_key="rc_causes_chart")
    point = drilldown.picked_point(event, "rc_causes_chart")
    if point and point.get(grouping) is not None and point.get("period_iso"):
        label = point[grouping]
        raw = {v: k for k, v in theme_labels.items()}.get(label, label) if grouping == "theme" else label
        group = () if raw == NO_CODE else ((grouping, raw),)
        start = date.fromisoformat(point["period_iso"])
        drilldown.open_drill(PAGE, drilldown.Drill(
            "members", f"Overturns · {fmt.md(label)} · {ctx.label(start)}", metric="overturn_rate", period_start=start,
            group=group, filters=ctx.filter_key, what="numerator", slot="causes"))
    drilldown.panel(ctx, PAGE, "causes")
    st.caption(f"Counted in the period of the final decision (resolved_at). Themes come from taxonomy "
               f"v{taxonomy.version} (`metrics/taxonomy/themes.yaml`: rules over root-cause codes, enforcement and "
               "decision-note wording, lowest precedence wins); unclassified overturns feed the candidate themes below.")

    by_source = ctx.report(by=("enforcement_source",), metrics=RATE)
    source = dashboard.with_wilson(by_source.filter(pl.col("enforcement_source").is_not_null()
                                             & pl.col("period_start").is_in(ctx.starts)), "overturn_rate")
    st.subheader("Overturn rate by enforcement source")
    if source.height:
        chart = charts.rate_band(source, "overturn_rate", ctx.grain, series="enforcement_source",
                                 annotations=ctx.annotations(),
                                 selection=charts.click_selection(["period_iso", "enforcement_source"]))
        event = exports.chart(chart, "overturn_rate_by_source", "root_causes_chart2", on_select="rerun",
                              chart_key="rc_source_chart")
        drilldown.open_point(ctx, PAGE, event, "rc_source_chart", (), "enforcement source", "source",
                             metric="overturn_rate", series="enforcement_source")
        st.caption("A point: the overturn rate of the decisions on that source's enforcements in the period, with "
                   "its 95% Wilson band. **Click a point** to list those decisions (overturns flagged) with their "
                   "redacted notes.")
        drilldown.panel(ctx, PAGE, "source")
    else:
        widgets.empty("No appeal in this selection has a known enforcement.", "Appeals need an enforcements row.")

    policy = ctx.report(by=("policy",), metrics=RATE)
    models = ctx.report(by=("enforced_by",), metrics=RATE, filters=ctx.with_filters(enforcement_source=["automated"]))
    c1, c2 = st.columns(2)
    for col, frame, key, title in ((c1, policy, "policy", "Policy"), (c2, models, "enforced_by", "Model version")):
        with col:
            st.subheader(f"By {title.lower()} · {ctx.label(ctx.focus, short=True)}")
            table = dashboard.rate_with_previous(frame, key, ctx.focus, ctx.previous)
            if table.height == 0:
                widgets.empty(f"No overturn data by {title.lower()} in the headline period.")
                continue
            chart = charts.rate_bars(table, key, title, previous_col="previous_rate",
                                     selection=charts.mark_selection([key]))
            event = exports.chart(chart, f"overturn_rate_by_{key}", f"root_causes_{key}_chart", on_select="rerun",
                                  chart_key=f"rc_{key}_chart")
            point = drilldown.picked_point(event, f"rc_{key}_chart")
            if point and point.get(key) is not None:
                filters = ctx.filter_key if key == "policy" else ctx.with_filters(enforcement_source=["automated"])
                drilldown.open_drill(PAGE, drilldown.Drill(
                    "members", f"Overturns · {title} {fmt.md(point[key])} · {ctx.label(ctx.focus)}",
                    metric="overturn_rate", period_start=ctx.focus, group=((key, str(point[key])),), filters=filters,
                    what="numerator", slot="rates"))
    st.caption("Bars: overturn rate in the headline period with its 95% Wilson interval (grey); orange tick: the "
               "previous period. Model versions are the automated enforcements' `enforced_by`. **Click a bar** "
               "to list its overturned appeals with their decision notes.")
    drilldown.panel(ctx, PAGE, "rates")

    st.subheader("Top movers")
    movers = dashboard.top_movers({GROUPINGS[grouping]: (causes, grouping), "Policy": (policy, "policy"),
                               "Model version": (models, "enforced_by"),
                               "Enforcement source": (by_source, "enforcement_source")},
                              ctx.focus, ctx.previous)
    if movers.height == 0:
        widgets.empty("Nothing moved: the overturn counts are the same as in the previous period.",
                      "Pick another headline period.")
    else:
        _movers_table(movers, ctx, grouping, theme_labels)
        drilldown.panel(ctx, PAGE, "movers")
    _impact(ctx, causes if grouping == "theme" else ctx.report(by=("theme",), metrics=RATE), theme_labels)
    _candidates(ctx, taxonomy)
    _complaint_figures(ctx)


def _movers_table(movers: pl.DataFrame, ctx, grouping: str, theme_labels: dict[str, str]) -> None:
    is_cause = pl.col("dimension") == GROUPINGS[grouping]
    movers = movers.with_columns(pl.col("value").alias("raw_value")).with_columns(
        pl.when(is_cause).then(pl.col("value").replace(theme_labels)).otherwise(pl.col("value")).alias("value"),
        *(pl.when(is_cause).then(None).otherwise(pl.col(c)).alias(c) for c in ("previous_rate", "current_rate",
                                                                              "rate_change")),
    )
    fmt_rate = METRICS["overturn_rate"]
    shown = movers.with_columns(pl.col(c) * 100 for c in ("previous_rate", "current_rate", "rate_change"))
    event = st.dataframe(shown, hide_index=True, width="stretch", placeholder="—", on_select="rerun",
                         selection_mode="single-cell", key="rc_movers", column_order=[c for c in shown.columns
                                                                                      if c != "raw_value"],
                         column_config={
        "dimension": "Grouping", "value": "Group",
        "previous": st.column_config.NumberColumn(f"Overturns {ctx.label(ctx.previous, short=True)}", format="%d"),
        "current": st.column_config.NumberColumn(f"Overturns {ctx.label(ctx.focus, short=True)}", format="%d"),
        "change": st.column_config.NumberColumn("Change", format="%+d"),
        "previous_rate": st.column_config.NumberColumn("Rate before", format="%.1f%%", help=fmt_rate.description),
        "current_rate": st.column_config.NumberColumn("Rate now", format="%.1f%%", help=fmt_rate.description),
        "rate_change": st.column_config.NumberColumn("Rate change (pp)", format="%+.1f"),
        "previous_denominator": st.column_config.NumberColumn("Resolved before", format="%d"),
        "current_denominator": st.column_config.NumberColumn("Resolved now", format="%d"),
    })
    exports.table_downloads(movers, ctx, f"top_movers_{ctx.focus}", "rc_movers")
    st.caption(f"The groups whose overturn count changed most from {ctx.label(ctx.previous)} to "
               f"{ctx.label(ctx.focus)}. Rates are left blank for themes and codes: only overturned appeals have one. "
               "**Click a row** to list its overturned appeals and their decision notes (the previous period's when you "
               "click a previous-period cell).")
    cell = drilldown.new_cell(event, "rc_movers")
    if cell is not None and cell[0] < movers.height:
        row, col = cell
        dim, raw, label = movers["dimension"][row], movers["raw_value"][row], movers["value"][row]
        keys = {GROUPINGS[grouping]: grouping, "Policy": "policy", "Model version": "enforced_by",
                "Enforcement source": "enforcement_source"}
        start = ctx.previous if col.startswith("previous") else ctx.focus
        filters = ctx.with_filters(enforcement_source=["automated"]) if dim == "Model version" else ctx.filter_key
        drilldown.open_drill(PAGE, drilldown.Drill(
            "members", f"Overturns · {dim} {fmt.md(label)} · {ctx.label(start)}", metric="overturn_rate",
            period_start=start, group=((keys[dim], raw),), filters=filters, what="numerator", slot="movers"))


def _impact(ctx, by_theme: pl.DataFrame, theme_labels: dict[str, str]) -> None:
    st.subheader(f"What fixing a theme is worth · {ctx.label(ctx.focus, short=True)}")
    total = ctx.report(by=(), metrics=RATE)
    by_queue = ctx.report(by=("theme", "queue"), metrics=RATE)
    by_source = ctx.report(by=("theme", "enforcement_source"), metrics=RATE)
    table = impact.impact_table(by_theme, total, by_queue, by_source, ctx.focus, ctx.previous)
    if table.height == 0:
        widgets.empty("No overturned appeal in the headline period.", "Pick another headline period.")
        return
    shown = table.with_columns(pl.col("theme").replace(theme_labels), pl.col("share") * 100,
                               pl.col("rate_drop") * 100)
    event = st.dataframe(shown, hide_index=True, width="stretch", placeholder="—", on_select="rerun",
                         selection_mode="single-cell", key="rc_impact", column_config={
        "theme": "Theme", "overturns": st.column_config.NumberColumn("Overturns", format="%d"),
        "share": st.column_config.NumberColumn("Share of overturns", format="%.0f%%"),
        "rate_drop": st.column_config.NumberColumn("Fix it: overturn rate falls by (pp)", format="%.1f"),
        "previous": st.column_config.NumberColumn(f"Overturns {ctx.label(ctx.previous, short=True)}", format="%d"),
        "change": st.column_config.NumberColumn("Change", format="%+d"),
        "z": st.column_config.NumberColumn("Change vs noise (z)", format="%+.1f"),
        "is_mover": st.column_config.CheckboxColumn("Mover", help=f"|z| ≥ {impact.MIN_MOVER_Z} on at least "
                                                    f"{impact.MIN_MOVER_COUNT} overturns in the two periods"),
        "largest_queue": "Largest queue", "largest_source": "Largest enforcement source",
    })
    exports.table_downloads(table, ctx, f"theme_impact_{ctx.focus}", "rc_impact")
    st.caption("Fixing a theme removes its overturns: the overturn rate of the period would fall by its overturns "
               "over all decisions. A mover changed by more than chance explains (z = change ÷ √(before + now)) on "
               "enough overturns; small themes are never called movers. **Click a row** for its appeals and notes.")
    cell = drilldown.new_cell(event, "rc_impact")
    if cell is not None and cell[0] < table.height:
        row, col = cell
        theme = table["theme"][row]
        start = ctx.previous if col == "previous" else ctx.focus
        drilldown.open_drill(PAGE, drilldown.Drill(
            "members", f"Overturns · theme {fmt.md(theme_labels.get(theme, theme))} · {ctx.label(start)}",
            metric="overturn_rate", period_start=start, group=(("theme", theme),), filters=ctx.filter_key,
            what="numerator", slot="impact"))
    drilldown.panel(ctx, PAGE, "impact")


NOTE_SCOPES = {"focus": "Headline period", "range": "Whole date range"}


def _candidates(ctx, taxonomy) -> None:
    st.subheader("Candidate new themes")
    c1, c2 = st.columns([2, 1])
    scope = c1.segmented_control("Read the notes of overturns decided in", list(NOTE_SCOPES),
                                 format_func=NOTE_SCOPES.get, default="range", key="rc_note_scope",
                                 required=True) or "range"
    every = c2.toggle("All overturns, not only unclassified", key="rc_all_notes")
    lo, hi = (ctx.focus, ctx.focus_last_day) if scope == "focus" else (ctx.date_from, ctx.date_to)
    found, info = data.theme_candidates(ctx.url, ctx.as_of, lo, hi, not every, taxonomy.version)
    b_lo, b_hi = info["baseline"]
    what = "overturns" if every else "unclassified overturns"
    if found.height == 0:
        widgets.empty(f"No wording stands out in the notes of {info['notes_in_period']:,} {what} decided "
                      f"{lo:%-d %b}–{hi:%-d %b %Y} against {info['notes_in_baseline']:,} in the 8 weeks before.",
                      "Try a longer period, or include all overturns.")
        return
    st.dataframe(found, hide_index=True, width="stretch", column_config={
        "rank": st.column_config.NumberColumn("#", format="%d"),
        "terms": st.column_config.TextColumn("Wording", help="Paste into a note_contains rule of the taxonomy file"),
        "appeals": st.column_config.NumberColumn("Appeals", format="%d"),
        "baseline_appeals": st.column_config.NumberColumn("Baseline", format="%d"),
        "example_appeal_ids": "Example appeals",
        "score": st.column_config.NumberColumn("Strength (z)", format="%.1f"),
        "related_terms": "Related wording", "trend": "Appeals by week", "queues": "Queues",
        "example_notes": st.column_config.TextColumn("Example notes (redacted)", width="large"),
    })
    st.caption(f"Words and phrases far more frequent in the decision notes of {info['notes_in_period']:,} {what} "
               f"decided {lo:%-d %b}–{hi:%-d %b %Y} than in {info['notes_in_baseline']:,} decided "
               f"{b_lo:%-d %b}–{b_hi:%-d %b %Y} (log-odds z-score; at least 5 appeals). To adopt one, add a rule to "
               f"`metrics/taxonomy/themes.yaml` (now v{taxonomy.version}) and bump its version. E-mail addresses, "
               "phone numbers and handles are masked.")


def _complaint_figures(ctx) -> None:
    st.subheader("Complaint-handling figures (DSA Art. 15, P2B Art. 11)")
    figures = data.transparency(ctx.url, ctx.as_of, ctx.date_from, ctx.date_to)
    cols = st.columns(4)
    decided = sum(figures["decisions"].values())
    median = figures["median_hours_to_decision"]
    cols[0].metric("Complaints received", f"{figures['complaints_total']:,}")
    cols[1].metric("Decisions", f"{decided:,}")
    cols[2].metric("Reversed (fully or partly)", f"{figures['reversed_total']:,}")
    cols[3].metric("Median time to decision", "—" if median is None else f"{median:,.1f} h")
    rows = [{"who": "All appellants", **_flat(figures)}]
    if figures["business_users"] is not None:
        rows.append({"who": "Business users (sellers)", **_flat(figures["business_users"])})
    st.dataframe(pl.DataFrame(rows), hide_index=True, width="stretch", placeholder="—")
    note = ("" if figures["business_users"] is not None else
            " The warehouse has no `appeals.appellant_type`, so business-user (P2B) figures are not available.")
    st.caption(f"Complaints are appeals created {ctx.date_from:%-d %b}–{ctx.date_to:%-d %b %Y}, decisions those "
               "resolved in it with a known outcome (UTC days); the sidebar filters do not apply. The same JSON as "
               f"`python -m metrics transparency --from {ctx.date_from} --to {ctx.date_to}`.{note}")


def _flat(block: dict) -> dict:
    top = lambda d: ", ".join(f"{k} {v:,}" for k, v in list(d.items())[:3])  # noqa: E731
    return {"complaints": block["complaints_total"], "upheld": block["decisions"]["upheld"],
            "overturned": block["decisions"]["overturned"],
            "partially_overturned": block["decisions"]["partially_overturned"],
            "median_hours": block["median_hours_to_decision"], "top_policies": top(block["complaints_by_policy"]),
            "top_actions": top(block["complaints_by_action"])}


if __name__ == "__main__":
    render()
