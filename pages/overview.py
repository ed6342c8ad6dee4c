"""Overview: how are appeals operations doing in the headline period, and what is about to breach?"""

from __future__ import annotations

import streamlit as st

from metrics import dashboard
from ui import context, data, widgets

RISK_WINDOWS = (4, 8, 24, 48, 72)


def render() -> None:
    ctx = context.current()
    widgets.header("Overview", ctx, "Headline KPIs of the period, the change against the period before, and the "
                   "appeals whose resolution deadline is close.")
    report = ctx.report(by=(), metrics=dashboard.GROUP_TABLE_METRICS)  # the same call as the Queues total row
    if report.height == 0:
        widgets.empty("No appeals match these filters in this date range.")
        return
    kpis = ctx.kpis(report)
    trend = widgets.trend_frame(report, ctx, dashboard.KPI_METRICS)
    st.subheader("Headline KPIs")
    widgets.kpi_grid(kpis, trend, ctx)
    st.caption("Arrows compare with the previous period; green is better, red worse, grey is neither "
               "(the metric catalog's direction). Sparklines: one point per period of the date range, the "
               "headline period in orange. Hover the (?) next to a label for its definition.")

    st.subheader("SLA at risk")
    left, right = st.columns([1, 3])
    hours = left.selectbox("Resolution deadline within the next", RISK_WINDOWS, index=RISK_WINDOWS.index(24),
                           format_func=lambda h: f"{h} hours", key="risk_hours")
    rows, total = data.at_risk(ctx.url, ctx.as_of, ctx.filter_key, float(hours), 200)
    right.markdown(f"**{total:,}** open appeals reach their resolution deadline in the next {hours} hours "
                   f"(after {widgets.fmt.instant(ctx.as_of)}); oldest first.")
    if total == 0:
        widgets.empty(f"No open appeal is due in the next {hours} hours.", "Try a longer window.")
        return
    table = dashboard.at_risk_table(rows, ctx.as_of)
    widgets.paged_table(table, ctx, "risk", columns=tuple(table.columns))
    widgets.csv_download(table, ctx, f"sla_at_risk_{hours}h", f"Download {table.height:,} rows (CSV)", "risk_csv")


if __name__ == "__main__":
    render()
