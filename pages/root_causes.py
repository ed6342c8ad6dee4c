"""Root causes: why are decisions overturned, where do the overturns come from, and what moved?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics import dashboard
from metrics.catalog import METRICS
from metrics.themes import THEMES, UNCLASSIFIED
from ui import charts, context, widgets

RATE = ("overturn_rate",)
THEME_LABELS = {t.name: t.label for t in THEMES} | {UNCLASSIFIED: "Unclassified"}
GROUPINGS = {"theme": "Theme", "root_cause": "Root-cause code"}
NO_CODE = "(none recorded)"


def render() -> None:
    ctx = context.current()
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
        overturns = overturns.with_columns(pl.col("theme").replace(THEME_LABELS))
    overturns = dashboard.share_of_total(overturns, grouping, "overturns")
    st.subheader(f"Overturns by {GROUPINGS[grouping].lower()}")
    st.altair_chart(charts.stacked_counts(overturns, grouping, "overturns", ctx.grain, GROUPINGS[grouping],
                                          "overturned appeals", share="share"), width="stretch")
    st.caption("Counted in the period of the final decision (resolved_at). Themes come from the versioned taxonomy "
               "(root-cause codes first, then decision-note wording); unclassified overturns feed new themes.")

    by_source = ctx.report(by=("enforcement_source",), metrics=RATE)
    source = dashboard.with_wilson(by_source.filter(pl.col("enforcement_source").is_not_null()
                                             & pl.col("period_start").is_in(ctx.starts)), "overturn_rate")
    st.subheader("Overturn rate by enforcement source")
    if source.height:
        st.altair_chart(charts.rate_band(source, "overturn_rate", ctx.grain, series="enforcement_source"),
                        width="stretch")
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
            st.altair_chart(charts.rate_bars(table, key, title, previous_col="previous_rate"), width="stretch")
    st.caption("Bars: overturn rate in the headline period with its 95% Wilson interval (grey); orange tick: the "
               "previous period. Model versions are the automated enforcements' `enforced_by`.")

    st.subheader("Top movers")
    movers = dashboard.top_movers({GROUPINGS[grouping]: (causes, grouping), "Policy": (policy, "policy"),
                               "Model version": (models, "enforced_by"),
                               "Enforcement source": (by_source, "enforcement_source")},
                              ctx.focus, ctx.previous)
    if movers.height == 0:
        widgets.empty("Nothing moved: the overturn counts are the same as in the previous period.",
                      "Pick another headline period.")
        return
    is_cause = pl.col("dimension") == GROUPINGS[grouping]
    movers = movers.with_columns(
        pl.when(is_cause).then(pl.col("value").replace(THEME_LABELS)).otherwise(pl.col("value")).alias("value"),
        *(pl.when(is_cause).then(None).otherwise(pl.col(c)).alias(c) for c in ("previous_rate", "current_rate",
                                                                              "rate_change")),
    )
    fmt_rate = METRICS["overturn_rate"]
    shown = movers.with_columns(pl.col(c) * 100 for c in ("previous_rate", "current_rate", "rate_change"))
    st.dataframe(shown, hide_index=True, width="stretch", placeholder="—", column_config={
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
    st.caption(f"The groups whose overturn count changed most from {ctx.label(ctx.previous)} to "
               f"{ctx.label(ctx.focus)}. Rates are left blank for themes and codes: only overturned appeals have one.")


if __name__ == "__main__":
    render()
