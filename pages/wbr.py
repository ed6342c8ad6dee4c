"""Weekly review: the WBR of one ISO week, as exported by `python -m metrics wbr`."""

from __future__ import annotations

import streamlit as st

from metrics import dashboard as views
from ui import context, data, widgets


def render() -> None:
    ctx = context.current()
    widgets.header("Weekly review", ctx, "The weekly business review: what moved most and why, drift over several "
                   "weeks, SLA risks and anomalies, as of the end of the week.", period=False)
    weeks = [w for w in views.period_starts(ctx.date_from, ctx.date_to, "week")
             if not views.is_partial(w, "week", ctx.as_of, ctx.tz)] or views.period_starts(ctx.date_from, ctx.date_to,
                                                                                          "week")
    if not weeks:
        widgets.empty("No week in this date range.")
        return
    default = views.period_start(ctx.focus, "week")
    week = st.selectbox("Week", weeks, index=weeks.index(default) if default in weeks else len(weeks) - 1,
                        format_func=lambda w: views.period_choice_label(w, "week"), key="wbr_week")
    iso = week.isocalendar()
    name = f"{iso.year}-W{iso.week:02d}"
    markdown, html_text = data.weekly_review(ctx.url, ctx.as_of, name, ctx.tz)
    c1, c2 = st.columns(2)
    c1.download_button("Download Markdown", markdown.encode(), file_name=f"wbr_{name}.md", mime="text/markdown",
                       icon=":material/download:", key="wbr_md")
    c2.download_button("Download HTML (works offline)", html_text.encode(), file_name=f"wbr_{name}.html",
                       mime="text/html", icon=":material/download:", key="wbr_html")
    st.caption(f"Weeks run Monday 00:00 to Sunday 24:00 in **{ctx.tz}** (the sidebar's time zone). The sidebar "
               "filters do not apply: the review covers the whole operation, like its export "
               f"(`python -m metrics wbr --week {name} --tz {ctx.tz}`).")
    st.markdown(markdown)


if __name__ == "__main__":
    render()
