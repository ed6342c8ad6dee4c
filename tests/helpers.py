"""Build small warehouses for tests from rows written out by hand."""

from __future__ import annotations

from pathlib import Path

from metrics.load import frames_from_rows, write_duckdb


def make_warehouse(tmp_path: Path, rows_by_table: dict[str, list[dict]], name: str = "wh.duckdb") -> str:
    """Write the given tables to a DuckDB file and return its SQLAlchemy URL.

    Timestamps are ISO-8601 strings; one without an offset is read as UTC (warehouse.md).
    Tables not given are absent (optional tables) — pass `appeals` and `appeal_events`.
    """
    path = write_duckdb(frames_from_rows(rows_by_table), Path(tmp_path) / name)
    return f"duckdb:///{path}"


def chart_spec(chart) -> dict:
    """The JSON-ready Vega-Lite spec of a chart: an Altair chart's, or a spec dict whose datasets
    hold frames (ui.charts.sparkline, metric_lines), with their rows inlined (dates and instants as ISO text)."""
    from ui import charts

    return charts.inline(chart) if isinstance(chart, dict) else chart.to_dict()
