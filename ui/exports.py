"""Exports people use: every table as CSV and XLSX, every chart as PNG and SVG. The one export
helper of the app; pages call `table_downloads` and `chart_downloads`.

- Everything a page exports passes `ctx.private` (pseudonyms when asked) and the free-text
  redaction (metrics.redact) first, so a download never shows more than the page.
- CSV: timestamps as ISO-8601 UTC (the CLI's format, metrics.output).
- XLSX (XlsxWriter through Polars): typed columns (numbers stay numbers, rates as numbers with a
  percentage format, dates and instants as Excel dates: instants in UTC, as their header says),
  a frozen header row with filters, and a "Definitions" sheet with the catalog entry of every
  metric column in the sheet.
- Charts: the Vega-Lite spec rendered by vl-convert (no browser), on click only (deferred).
"""

from __future__ import annotations

import io
import json
import re

import altair as alt
import polars as pl
import streamlit as st

from metrics.catalog import METRICS
from metrics.output import _text_safe
from ui import charts
from ui.context import Context

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SUFFIXES = ("_numerator", "_denominator", "_ci_lo", "_ci_hi", "_previous", "_change")


def metric_of(column: str) -> str | None:
    """The catalog metric a column belongs to (overturn_rate_denominator -> overturn_rate)."""
    if column in METRICS:
        return column
    for suffix in _SUFFIXES:
        if column.endswith(suffix) and column[: -len(suffix)] in METRICS:
            return column[: -len(suffix)]
    return None


def safe_name(name: str) -> str:
    """A file name stem from a label: letters, digits, - and _ only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:120] or "export"


def _redacted(frame: pl.DataFrame) -> pl.DataFrame:
    from metrics import redact

    fn = getattr(redact, "redact_frame_texts", None)  # personal data in notes and appeal texts
    return fn(frame) if fn is not None else frame


def csv_bytes(frame: pl.DataFrame) -> bytes:
    return _text_safe(frame).write_csv().encode()


def definitions_frame(columns) -> pl.DataFrame:
    """One row per metric behind the columns: name, label, unit, definition, formula, cohort."""
    from metrics import definitions

    entries = {m["name"]: m for m in definitions.as_json()["metrics"]}
    names = list(dict.fromkeys(n for n in (metric_of(c) for c in columns) if n))
    rows = [{"metric": n, "label": entries[n]["label"], "unit": entries[n]["unit"],
             "definition": entries[n]["description"], "formula": entries[n]["formula"],
             "counted in": entries[n]["cohort"], "columns": ", ".join(c for c in columns if metric_of(c) == n)}
            for n in names if n in entries]
    schema = {k: pl.Utf8 for k in ("metric", "label", "unit", "definition", "formula", "counted in", "columns")}
    return pl.DataFrame(rows, schema=schema)


def _excel_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Instants as naive UTC (Excel has no time zones; headers say UTC); lists as text."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            col = (col.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if dtype.time_zone else col)
            out.append(col.alias(f"{name} (UTC)"))
        elif isinstance(dtype, pl.List):
            out.append(col.cast(pl.List(pl.Utf8)).list.join(", ").alias(name))
        else:
            out.append(col)
    return frame.select(out)


def xlsx_bytes(frame: pl.DataFrame, sheet: str = "data", notes: str | None = None) -> bytes:
    """The frame as a typed worksheet plus a Definitions sheet from the catalog."""
    import xlsxwriter

    buf = io.BytesIO()
    data = _excel_ready(frame)
    formats: dict[str, str] = {}
    for name in frame.columns:
        m = METRICS.get(metric_of(name) or "")
        if m is None or name.endswith(("_numerator", "_denominator")):
            continue
        formats[name] = "0.0%" if m.unit == "ratio" else ("0.0" if m.unit == "hours" else "#,##0")
    sheet = safe_name(sheet)[:31] or "data"
    with xlsxwriter.Workbook(buf) as wb:
        data.write_excel(wb, worksheet=sheet, column_formats=formats or None, autofit=True, freeze_panes=(1, 0),
                         dtype_formats={pl.Datetime: "yyyy-mm-dd hh:mm:ss", pl.Date: "yyyy-mm-dd"},
                         table_style="Table Style Light 9")
        defs = definitions_frame(frame.columns)
        if notes:
            defs = pl.concat([defs, pl.DataFrame([{"metric": "(note)", "definition": notes}], schema=defs.schema)],
                             how="vertical")
        defs.write_excel(wb, worksheet="Definitions", autofit=True, table_style="Table Style Light 1")
    return buf.getvalue()


def chart_bytes(chart: alt.TopLevelMixin | dict, fmt: str, scale: float = 2.0) -> bytes | str:
    """The chart (an Altair chart, or a spec whose datasets hold frames: ui.charts.metric_lines)
    as PNG bytes or SVG text (vl-convert; a width is set when the page's container gave it one)."""
    import vl_convert as vlc

    spec = json.dumps(charts.inline(chart)) if isinstance(chart, dict) else chart.to_json()
    if fmt == "png":
        return vlc.vegalite_to_png(spec, scale=scale)
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec)
    raise ValueError(f"chart format: expected png or svg, got {fmt!r}")


# -- widgets ---------------------------------------------------------------------------------

def table_downloads(frame: pl.DataFrame, ctx: Context, name: str, key: str, label: str | None = None,
                    notes: str | None = None) -> None:
    """CSV and XLSX buttons for a table (pseudonymised and redacted as the page shows it)."""
    shown = _redacted(ctx.private(frame))
    stem = safe_name(name)
    rows = f"{shown.height:,} rows"
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button(f"{label or rows} (CSV)", lambda: csv_bytes(shown), file_name=f"{stem}.csv", mime="text/csv",
                       icon=":material/download:", key=f"{key}_csv", on_click="ignore",
                       help="Comma-separated; instants in ISO-8601 UTC.")
    c2.download_button(f"{label or rows} (XLSX)", lambda: xlsx_bytes(shown, stem, notes), file_name=f"{stem}.xlsx",
                       mime=XLSX_MIME, icon=":material/table_view:", key=f"{key}_xlsx", on_click="ignore",
                       help="Excel workbook: typed columns (rates as percentages, instants in UTC) and a "
                            "Definitions sheet from the metric catalog.")


def chart_downloads(chart: alt.TopLevelMixin | dict, name: str, key: str, width: int = 900) -> None:
    """PNG and SVG buttons under a chart (rendered on click, at a fixed width)."""
    stem = safe_name(name)

    def sized() -> alt.TopLevelMixin | dict:  # on click: a copy of a layered chart costs 20-30 ms a render
        if isinstance(chart, dict):
            return {**chart, "width": width}
        return chart.properties(width=width) if not isinstance(chart, alt.FacetChart) else chart

    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button("PNG", lambda: chart_bytes(sized(), "png"), file_name=f"{stem}.png", mime="image/png",
                       icon=":material/image:", key=f"{key}_png", on_click="ignore", type="tertiary")
    c2.download_button("SVG", lambda: chart_bytes(sized(), "svg"), file_name=f"{stem}.svg", mime="image/svg+xml",
                       icon=":material/image:", key=f"{key}_svg", on_click="ignore", type="tertiary")


def chart(chart_obj: alt.TopLevelMixin | dict, name: str, key: str, **altair_args):
    """A chart (an Altair chart, or a Vega-Lite spec: ui.charts.metric_lines) on the page, with
    its PNG and SVG downloads under it; `altair_args` go to st.vega_lite_chart (on_select="rerun",
    selection_mode, and `chart_key` for its key), and its selection event is returned."""
    if "chart_key" in altair_args:
        altair_args["key"] = altair_args.pop("chart_key")
    spec = dict(chart_obj) if isinstance(chart_obj, dict) else charts.vega_spec(chart_obj)
    event = st.vega_lite_chart(spec, width="stretch", **altair_args)
    chart_downloads(chart_obj, name, key)
    return event
