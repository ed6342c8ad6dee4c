"""Bring your own log: import a case event log (CSV, Parquet, XES) into a contract warehouse.

Two ways to map (mappings/README.md): a YAML mapping (`yaml_mapping`: rules over the rows of
each case) and a SQL mapping (`sql_mapping`: one DuckDB `select` over the events per contract
table). Either way the import writes, beside the contract tables, `import_skipped_rows` and
`import_runs` (`summary`): what was left out and why, which `check` and the Data quality page show.
"""

from __future__ import annotations

from pathlib import Path

from metrics.importlog.common import (
    EventsFileError,
    ImportResult,
    MappingError,
    UnmatchedRowsError,
    enforce_unmatched,
    parse_max_unmatched,
)
from metrics.importlog.read import read_events
from metrics.importlog.summary import run_table
from metrics.importlog.yaml_mapping import build_tables, load_mapping
from metrics.load import write_duckdb

__all__ = [
    "EventsFileError",
    "ImportResult",
    "MappingError",
    "UnmatchedRowsError",
    "build_tables",
    "import_log",
    "load_mapping",
    "read_events",
]


def import_log(
    events_path: str | Path,
    mapping_path: str | Path,
    out_path: str | Path,
    max_unmatched: str | int | None = None,
) -> ImportResult:
    """Import `events_path` through the mapping (`.yml`/`.yaml` or `.sql`) into a DuckDB warehouse.

    `max_unmatched` (rows, or a share such as "1%") overrides the mapping's threshold; above
    it the import fails with a one-line error and nothing is written.
    """
    limit = None if max_unmatched is None else parse_max_unmatched(max_unmatched, "--max-unmatched")
    mapping_path = Path(mapping_path)
    if mapping_path.suffix.lower() == ".sql":
        from metrics.importlog import sql_mapping

        mp = sql_mapping.load_sql_mapping(mapping_path)
        raw = read_events(events_path)
        tables, result = sql_mapping.build_tables(raw, mp)
        key = "mapping"
    else:
        mp = load_mapping(mapping_path)
        raw = read_events(events_path)
        tables, result = build_tables(raw, mp)
        key = "mapping.max_unmatched"
    if limit is not None:
        result.max_unmatched = limit
        key = "--max-unmatched"
    enforce_unmatched(result, key)
    tables["import_runs"] = run_table(result, events_path)
    result.tables["import_runs"] = 1
    write_duckdb(tables, out_path)
    result.out_path = str(out_path)
    return result
