"""The SQL mapping: one DuckDB `select` over the events file per contract table.

For anything the YAML mapping cannot say. A mapping file (`NAME.sql`) holds sections:

    -- timezone: Europe/Rome          (optional header: the zone of naive timestamps)
    -- table: appeals
    select ... from events ...
    -- table: appeal_events
    select ... from events ...

`events` is the events file (CSV, Parquet or XES, read as for the YAML mapping) plus
`source_row` (its file order, from 0). Sections run in file order, and each one's result can be
read by later ones under its table name (`appeal_events` may read `appeals`). Besides the
contract tables, an optional `import_skipped_rows` section (reason, rows, example_case_ids)
declares the rows the SQL leaves out, so the import's accounting is complete.

Before anything is written, every section is validated against the contract
(metrics/contract.py): names, required columns, types, non-null and unique ids, enumerated
values and events of unknown appeals each fail with one line naming `table.column`. Naive
timestamps (and dates) are read as local times in the header's zone (DuckDB's ICU: a time in a
spring-forward gap moves forward), and stored as UTC instants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from metrics.contract import (
    ACTOR_TYPES,
    BOOLEAN,
    DATE,
    DOUBLE,
    ENFORCEMENT_SOURCES,
    EVENT_TYPES,
    INT,
    TABLES,
    TEXT,
    TIME,
    TIMESTAMPTZ,
)
from metrics.importlog.common import (
    DEFAULT_MAX_UNMATCHED,
    NO_RULE,
    ImportResult,
    MappingError,
    parse_max_unmatched,
)
from metrics.importlog.summary import SKIPS_TABLE

_SECTION_RE = re.compile(r"^\s*--\s*table:\s*(\S+)\s*$")
_HEADER_RE = re.compile(r"^\s*--\s*(timezone|max_unmatched):\s*(\S+)\s*$")
_SKIP_COLUMNS = ("reason", "rows", "example_case_ids")
_IDS = {"appeals": "appeal_id", "appeal_events": "event_id", "enforcements": "enforcement_id",
        "specialists": "specialist_id", "qa_reviews": "review_id"}
_ENUMS = {("appeal_events", "event_type"): EVENT_TYPES, ("appeal_events", "actor_type"): ACTOR_TYPES,
          ("enforcements", "source"): ENFORCEMENT_SOURCES}
# DuckDB type families each contract type accepts (anything else is a one-line error)
_ACCEPTS = {
    TIMESTAMPTZ: ("TIMESTAMP", "DATE"),
    DATE: ("DATE", "TIMESTAMP"),
    TIME: ("TIME",),
    INT: ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"),
    DOUBLE: ("FLOAT", "DOUBLE", "DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"),
    BOOLEAN: ("BOOLEAN",),
}
_SQL_TYPES = {TEXT: "varchar", TIMESTAMPTZ: "timestamptz", DATE: "date", TIME: "time", INT: "bigint",
              DOUBLE: "double", BOOLEAN: "boolean"}


@dataclass
class SqlMapping:
    name: str
    sections: dict[str, str]  # table -> select, in file order
    timezone: str = "UTC"
    max_unmatched: str = DEFAULT_MAX_UNMATCHED
    lines: dict[str, int] = field(default_factory=dict)  # table -> line of its `-- table:` header


def load_sql_mapping(path: str | Path) -> SqlMapping:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"mapping: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping: cannot read {path}: {exc}") from None
    return parse_sql_mapping(text, name=path.stem)


def parse_sql_mapping(text: str, name: str = "mapping") -> SqlMapping:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    mp = SqlMapping(name=name, sections={})
    current: str | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            sql = "\n".join(body).strip().rstrip(";").strip()
            if not sql:
                raise MappingError(f"mapping.sql: section '{current}' has no select")
            mp.sections[current] = sql

    for n, line in enumerate(text.splitlines(), start=1):
        m = _SECTION_RE.match(line)
        if m:
            close()
            current, body = m.group(1), []
            if current not in TABLES and current != SKIPS_TABLE:
                raise MappingError(
                    f"mapping.sql line {n}: '{current}' is not a contract table "
                    f"(expected one of {', '.join([*TABLES, SKIPS_TABLE])})"
                )
            if current in mp.sections:
                raise MappingError(f"mapping.sql line {n}: table '{current}' has two sections")
            mp.lines[current] = n
            continue
        h = _HEADER_RE.match(line)
        if h and current is None:
            if h.group(1) == "timezone":
                try:
                    ZoneInfo(h.group(2))
                except (ZoneInfoNotFoundError, ValueError):
                    raise MappingError(f"mapping.sql line {n}: unknown time zone '{h.group(2)}'") from None
                mp.timezone = h.group(2)
            else:
                mp.max_unmatched = parse_max_unmatched(h.group(2), f"mapping.sql line {n}: max_unmatched")
            continue
        if current is not None:
            body.append(line)
    close()
    for table in ("appeals", "appeal_events"):
        if table not in mp.sections:
            raise MappingError(f"mapping.sql: required table '{table}' has no section ('-- table: {table}')")
    return mp


def _family(duck_type: str) -> str:
    t = duck_type.upper()
    if t.startswith("TIMESTAMP"):
        return "TIMESTAMP"
    if t.startswith("DECIMAL"):
        return "DECIMAL"
    return t


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def build_tables(raw: pl.DataFrame, mp: SqlMapping) -> tuple[dict[str, pl.DataFrame], ImportResult]:
    if "source_row" in raw.columns:
        raise MappingError("mapping.sql: the events file already has a column 'source_row' (the importer adds it)")
    events = raw.with_row_index("source_row").with_columns(pl.col("source_row").cast(pl.Int64))
    con = duckdb.connect()
    try:
        con.execute(f"set TimeZone = '{mp.timezone}'")  # zone validated above: naive values are local
        con.register("events", events.to_arrow())
        tables: dict[str, pl.DataFrame] = {}
        for table, sql in mp.sections.items():
            frame = _run_section(con, table, sql)
            con.register(table, frame.to_arrow())
            tables[table] = frame
    finally:
        con.close()
    _validate_values(tables)

    skipped: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    if SKIPS_TABLE in tables:
        for reason, n, ex in tables[SKIPS_TABLE].select(_SKIP_COLUMNS).iter_rows():
            skipped[reason] = skipped.get(reason, 0) + int(n)
            examples[reason] = [e.strip() for e in (ex or "").split(",") if e.strip()][:5]
        tables[SKIPS_TABLE] = tables[SKIPS_TABLE].with_columns(
            mapping=pl.lit(mp.name), is_unmatched=pl.col("reason") == NO_RULE,
            example_values=pl.lit(None, pl.String))
    total_skipped = sum(skipped.values())
    if total_skipped > events.height:
        raise MappingError(f"{SKIPS_TABLE}.rows: {total_skipped} rows declared skipped, but the events file has {events.height}")
    result = ImportResult(
        tables={k: t.height for k, t in tables.items()},
        source_rows=events.height,
        used_rows=events.height - total_skipped,
        skipped=skipped,
        cases=tables["appeals"].height,
        mapping_name=mp.name,
        examples=examples,
        max_unmatched=mp.max_unmatched,
        mapping_format="sql",
    )
    return tables, result


def _run_section(con, table: str, sql: str) -> pl.DataFrame:
    try:
        rel = con.sql(f"select * from (\n{sql}\n) as mapped")
        names, types = rel.columns, [str(t) for t in rel.types]
    except duckdb.Error as exc:
        raise MappingError(f"{table}: the select fails: {_one_line(exc)}") from None
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise MappingError(f"{table}.{dup}: the select names this column twice")
    if table == SKIPS_TABLE:
        expected = {"reason": TEXT, "rows": INT, "example_case_ids": TEXT}
        required = set(expected)
    else:
        spec = TABLES[table]
        expected = {c.name: c.type for c in spec.columns}
        required = {c.name for c in spec.columns if c.required}
    for n in names:
        if n not in expected:
            raise MappingError(f"{table}.{n}: not a column of {table} (columns: {', '.join(expected)})")
    for n in expected:
        if n in required and n not in names:
            raise MappingError(f"{table}.{n}: required column missing from the select")
    selects = []
    for n, t in zip(names, types, strict=True):
        want = expected[n]
        fam = _family(t)
        if want != TEXT and fam != '"NULL"' and fam != "NULL" and fam not in _ACCEPTS[want]:
            raise MappingError(f"{table}.{n}: the select gives {t}, expected {want} (cast it)")
        q = '"' + n.replace('"', '""') + '"'
        selects.append(f"cast({q} as {_SQL_TYPES[want]}) as {q}")
    try:
        out = con.sql(f"select {', '.join(selects)} from (\n{sql}\n) as mapped").pl()
    except duckdb.Error as exc:
        raise MappingError(f"{table}: the select fails: {_one_line(exc)}") from None
    text_cols = [n for n in names if expected[n] == TEXT]
    if text_cols:  # warehouse.md: text is trimmed, empty text is null
        out = out.with_columns(
            [pl.when(pl.col(c).str.strip_chars(" ") == "").then(None).otherwise(pl.col(c).str.strip_chars(" ")).alias(c)
             for c in text_cols]
        )
    for n in names:
        if expected[n] == TIMESTAMPTZ:
            out = out.with_columns(pl.col(n).dt.convert_time_zone("UTC"))
    return out


def _validate_values(tables: dict[str, pl.DataFrame]) -> None:
    for table, frame in tables.items():
        if table == SKIPS_TABLE:
            bad = frame.filter(pl.col("reason").is_null() | pl.col("rows").is_null() | (pl.col("rows") < 0))
            if bad.height:
                raise MappingError(f"{SKIPS_TABLE}.reason: {bad.height} rows without a reason or a row count >= 0")
            continue
        spec = TABLES[table]
        key = _IDS.get(table)
        for col in spec.columns:
            if col.name not in frame.columns:
                continue
            if not col.nullable:
                nulls = frame.filter(pl.col(col.name).is_null())
                if nulls.height:
                    raise MappingError(f"{table}.{col.name}: {nulls.height} rows are null{_example(nulls, key)}")
            allowed = _ENUMS.get((table, col.name))
            if allowed:
                bad = frame.filter(pl.col(col.name).is_not_null() & ~pl.col(col.name).is_in(list(allowed)))
                if bad.height:
                    value = bad[col.name][0]
                    raise MappingError(
                        f"{table}.{col.name}: {bad.height} rows hold a value outside the contract "
                        f"(e.g. '{value}'; expected one of {', '.join(allowed)})"
                    )
        if key and key in frame.columns:
            dup = frame.filter(pl.col(key).is_not_null() & pl.col(key).is_duplicated())
            if dup.height:
                raise MappingError(f"{table}.{key}: {dup[key].n_unique()} ids appear more than once (e.g. '{dup[key][0]}')")
    events, appeals = tables["appeal_events"], tables["appeals"]
    orphans = events.filter(~pl.col("appeal_id").is_in(appeals["appeal_id"].implode()))
    if orphans.height:
        raise MappingError(
            f"appeal_events.appeal_id: {orphans.height} events name an appeal not in appeals "
            f"(e.g. '{orphans['appeal_id'][0]}')"
        )


def _example(frame: pl.DataFrame, key: str | None) -> str:
    if key and key in frame.columns and frame[key][0] is not None:
        return f" (e.g. {key} '{frame[key][0]}')"
    return ""
