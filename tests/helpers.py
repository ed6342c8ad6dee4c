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
