"""Data quality: can the numbers be trusted, what did the engine exclude or correct, and how fresh is the data?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.checks import ALL_CHECKS as CHECKS
from metrics.redact import redact_url
from ui import context, data, exports, fmt, widgets

KINDS = {
    "control": ("Control", "An operating rule is broken (e.g. no solely automated decisions, no self-review)."),
    "excluded": ("Excluded", "Rows left out of the metrics."),
    "corrected": ("Corrected", "Rows used after a documented correction."),
    "flagged": ("Flagged", "Rows used as they are, with a consequence for some metrics."),
    "config": ("Config", "A name in the adapter's configuration matches nothing in the data."),
}
KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def render() -> None:
    ctx = context.current()
    widgets.header("Data quality", ctx, "The data checks the engine runs on every warehouse: what each one found, "
                   "examples, and its effect on the metrics. The checks cover the whole warehouse: the sidebar "
                   "filters do not apply here.", period=False)
    st.subheader("Freshness")
    counts = data.row_counts(ctx.url)
    cols = st.columns([2, 1, 1, 1])
    cols[0].metric("Data as of", fmt.instant(ctx.as_of), help="The latest created_at or occurred_at in the warehouse; "
                   "every number is computed as of this instant.")
    cols[1].metric("Appeals", f"{counts.get('appeals', 0):,}")
    cols[2].metric("Appeal events", f"{counts.get('appeal_events', 0):,}")
    cols[3].metric("QA reviews", f"{counts.get('qa_reviews', 0):,}" if "qa_reviews" in counts else "absent")
    st.caption(f"Warehouse {fmt.code(redact_url(ctx.url))} · tables: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    st.subheader("Checks")
    found = data.checks(ctx.url, ctx.as_of)
    controls = [c for c in found if c["kind"] == "control"]
    a, b, c = st.columns(3)
    run = (*CHECKS, *data.warehouse(ctx.url).adapter_checks)  # an adapter (e.g. Zendesk) brings its own
    known = {chk.name for chk in run}
    a.metric("Checks run", f"{len(run) + sum(x['name'] not in known for x in found)}")  # + import lines
    b.metric("Checks that found something", f"{len(found)}")
    c.metric("Control breaches (appeals)", f"{sum(x['count'] for x in controls):,}")
    for ctl in controls:
        st.warning(f"**{ctl['name'].replace('_', ' ').capitalize()}**: {ctl['count']:,} · {ctl['effect']} · e.g. "
                   f"{', '.join(fmt.md(x) for x in ctl['examples'])}", icon=":material/policy:")
    by_name = {x["name"]: x for x in found}
    rows = [
        {"check": chk.name, "kind": KINDS[chk.kind][0], "count": by_name.get(chk.name, {}).get("count", 0),
         "effect": chk.effect, "examples": ", ".join(by_name.get(chk.name, {}).get("examples", [])),
         "_quiet": chk.name not in by_name, "_kind": KIND_ORDER[chk.kind]}
        for chk in run
    ]
    rows += [  # lines beyond the fixed checks: the rows an import left out, per reason
        {"check": x["name"], "kind": KINDS[x["kind"]][0], "count": x["count"], "effect": x["effect"],
         "examples": ", ".join(x["examples"]), "_quiet": False, "_kind": KIND_ORDER[x["kind"]]}
        for x in found if x["name"] not in known
    ]
    table = pl.DataFrame(rows).sort(["_quiet", "_kind", "count"], descending=[False, False, True]).drop("_quiet", "_kind")
    if not found:
        st.success("Every check passed: nothing was excluded, corrected or flagged.", icon=":material/check_circle:")
    st.dataframe(table, hide_index=True, width="stretch", height="content", placeholder=fmt.DASH, column_config={
        "check": st.column_config.TextColumn("Check", pinned=True),
        "kind": st.column_config.TextColumn("Kind", help="; ".join(f"{v[0]}: {v[1]}" for v in KINDS.values())),
        "count": st.column_config.NumberColumn("Rows found", format="%,d"),
        "effect": st.column_config.TextColumn("Effect on the metrics", width="large"),
        "examples": st.column_config.TextColumn("Examples (up to 5 ids)"),
    })
    exports.table_downloads(table, ctx, "data_checks", "dq_checks")
    st.caption(" · ".join(f"**{v[0]}**: {v[1]}" for v in KINDS.values()))
    _import_section(ctx.url)


def _import_section(url: str) -> None:
    """How the warehouse was imported from a case log (import-log), when it was."""
    imp = data.import_summary(url)
    if imp is None:
        return
    st.subheader("Import")
    a, b, c, d = st.columns(4)
    a.metric("Source rows", f"{imp['source_rows']:,}")
    b.metric("Used", f"{imp['used_rows']:,}")
    c.metric("Skipped", f"{imp['skipped_rows']:,}", help="Counted per reason in the checks above (import_skipped:…).")
    d.metric("Unmatched", f"{imp['unmatched_rows']:,}", help=f"Rows no mapping rule decided; the import fails above "
             f"{imp['max_unmatched']}.")
    if imp["unmatched_rows"]:
        st.warning(f"{imp['unmatched_rows']:,} source rows matched no rule of mapping `{imp['mapping']}`: "
                   "add rules or named skips to the mapping.", icon=":material/rule:")
    if imp.get("unlisted_outcome_decisions"):
        st.info(f"{imp['unlisted_outcome_decisions']:,} decisions carry outcome values the mapping does not list "
                f"({imp['unlisted_outcome_values']}); they count with a null outcome (unknown_outcome).")
    st.caption(f"Imported from `{imp['events_file']}` with the {imp['mapping_format'].upper()} mapping "
               f"`{imp['mapping']}` at {fmt.instant(imp['imported_at'])}.")


if __name__ == "__main__":
    render()
