"""Write contract tables (Polars frames) into a DuckDB file with the contract's types."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from metrics.contract import DUCKDB_TYPES, TABLES


def write_duckdb(tables: dict[str, pl.DataFrame], path: str | Path) -> Path:
    """Create (or replace) a DuckDB warehouse file holding `tables`.

    Columns are cast to the contract's types; columns not in the contract are kept as they
    come (a warehouse may carry more than the contract needs).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        for name, frame in tables.items():
            con.register("_incoming", frame.to_arrow())
            spec = TABLES.get(name)
            selects = []
            for col in frame.columns:
                quoted = '"' + col.replace('"', '""') + '"'
                if spec is not None and col in spec.column_names:
                    sql_type = DUCKDB_TYPES[spec.column(col).type]
                    selects.append(f"cast({quoted} as {sql_type}) as {quoted}")
                else:
                    selects.append(quoted)
            con.execute(f'create table "{name}" as select {", ".join(selects)} from _incoming')
            con.unregister("_incoming")
    finally:
        con.close()
    return path


def frames_from_rows(rows_by_table: dict[str, list[dict]]) -> dict[str, pl.DataFrame]:
    """Rows (dicts) per table → frames with every contract column of that table present.

    Missing contract columns are filled with nulls, so small test fixtures only spell out
    what matters to them. A table given as an empty list becomes an empty table.
    """
    frames: dict[str, pl.DataFrame] = {}
    for name, rows in rows_by_table.items():
        spec = TABLES[name]
        present = {k for row in rows for k in row}
        columns = [c.name for c in spec.columns] + sorted(present - set(spec.column_names))
        data = {col: [row.get(col) for row in rows] for col in columns}
        frames[name] = pl.DataFrame(data, schema={col: _polars_type(name, col) for col in columns}, strict=False)
    return frames


def _polars_type(table: str, column: str) -> pl.DataType:
    spec = TABLES[table]
    if column not in spec.column_names:
        return pl.Utf8
    t = spec.column(column).type
    return {
        "text": pl.Utf8,
        "timestamptz": pl.Utf8,  # ISO strings; cast by DuckDB on load
        "date": pl.Utf8,
        "time": pl.Utf8,
        "int": pl.Int64,
        "double": pl.Float64,
        "boolean": pl.Boolean,
    }[t]
