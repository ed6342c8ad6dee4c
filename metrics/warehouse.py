"""Warehouse access: any SQLAlchemy URL, opened read-only, checked against the contract.

The engine pushes its SQL down through this class and pulls back Polars frames. For
DuckDB it fetches Arrow from the driver connection (no per-row Python objects); for other
dialects it reads rows through SQLAlchemy. Sessions run in UTC so timestamps without a
zone are read as UTC (warehouse.md).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from metrics.conditions import sql_literal
from metrics.contract import (
    BOOLEAN,
    DATE,
    DOUBLE,
    INT,
    MAX_HOLIDAYS_PER_YEAR,
    MAX_TARGET_HOURS,
    SANE_FROM,
    SANE_UNTIL,
    TABLES,
    TEXT,
    TIME,
    TIMESTAMPTZ,
)
from metrics.redact import redact_text, redact_url

SQL_CAST = {
    TEXT: "varchar",
    TIMESTAMPTZ: "timestamp with time zone",
    DATE: "date",
    TIME: "time",
    INT: "integer",
    DOUBLE: "double precision",
    BOOLEAN: "boolean",
}


# Source column types (information_schema.data_type) that hold text: their values are read
# with a cast that cannot fail (an unreadable value becomes null and is counted by a check).
TEXT_SOURCE_TYPES = ("character varying", "varchar", "text", "character", "char", "bpchar", "string", "nvarchar")
# Without try_cast (PostgreSQL...), text is cast only when it has the shape of the type.
TEXT_SHAPES = {
    TIMESTAMPTZ: r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)? ?(z|utc|[+-]\d{2}(:?\d{2})?)?$",
    DATE: r"^\d{4}-\d{2}-\d{2}$",
    TIME: r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$",
    INT: r"^[+-]?\d{1,9}$",
    DOUBLE: r"^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$|^[+-]?(nan|infinity|inf)$",
    BOOLEAN: r"^(true|false|t|f|yes|no|y|n|on|off|1|0)$",
}
# The id shown as an example of a bad value, per table (raw, as the warehouse holds it).
EXAMPLE_ID = {
    "appeals": ("appeal_id",), "appeal_events": ("event_id",), "enforcements": ("enforcement_id",),
    "specialists": ("specialist_id",), "qa_reviews": ("review_id",), "sla_policies": ("queue", "priority"),
    "business_hours": ("schedule_id",), "holidays": ("schedule_id",),
}
SPECIALIST_ATTRIBUTES = ("display_name", "pod", "team_lead", "site")


def _valid_calendar(kind: str, text: str) -> str | None:
    """For text already of the type's shape: the day exists and the clock reads within a day, so
    the cast cannot fail (PostgreSQL raises on 2026-02-30 or 25:00 where DuckDB's try_cast gives
    null; both now read null, counted by the column's check). 24:00 is the end of the day, as
    both engines read it; a 60th second is not (DuckDB refuses it)."""
    def part(start: int, length: int) -> str:
        return f"cast(substring({text} from {start} for {length}) as integer)"

    def clock(at: int) -> str:
        hour, minute = part(at, 2), part(at + 3, 2)
        second = (f"case when substring({text} from {at + 5} for 1) = ':' then {part(at + 6, 2)} else 0 end")
        return (f"({minute} < 60 and {second} < 60 and "
                f"({hour} < 24 or ({hour} = 24 and {minute} = 0 and {second} = 0)))")

    year, month, day = part(1, 4), part(6, 2), part(9, 2)
    leap = f"(mod({year}, 4) = 0 and (mod({year}, 100) <> 0 or mod({year}, 400) = 0))"
    days = (f"case when {month} = 2 then case when {leap} then 29 else 28 end "
            f"when {month} in (4, 6, 9, 11) then 30 else 31 end")
    date_ok = f"({month} between 1 and 12 and {day} between 1 and {days})"
    if kind == DATE:
        return date_ok
    if kind == TIMESTAMPTZ:
        has_clock = f"substring({text} from 11 for 1) in (' ', 'T', 't') and substring({text} from 14 for 1) = ':'"
        return f"{date_ok} and case when {has_clock} then {clock(12)} else true end"
    if kind == TIME:
        return clock(1)
    return None


class WarehouseError(Exception):
    """The warehouse cannot be used: one line naming the table, column or argument."""


@dataclass
class Warehouse:
    url: str
    schema: str | None = None
    adapter_sql: dict[str, str] = field(default_factory=dict)  # table → SELECT replacing it
    adapter_params: dict = field(default_factory=dict)  # binds the adapter's SQL needs
    adapter_name: str = ""
    adapter_config: str = ""  # the adapter's config file, shown with the connection
    adapter_checks: tuple = ()  # the adapter's own data checks (metrics.checks.Check), run by `check`
    engine: sa.Engine | None = None
    _columns: dict[str, list[str]] | None = None
    _types: dict[str, dict[str, str]] = field(default_factory=dict)  # table → column → data_type
    # DuckDB only: final models materialized as temp tables on one held connection, for
    # one as_of, so a page's or a benchmark's several reports reuse one facts computation.
    _session: object | None = None
    _session_lock: threading.Lock = field(default_factory=threading.Lock)
    _materialized_as_of: str | None = None
    # the DuckDB file the session's models are written to (alias, path), deleted with the session
    _models_db: tuple[str, Path] | None = None

    # -- connection -------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, schema: str | None = None, adapter_sql: dict[str, str] | None = None) -> Warehouse:
        from metrics import spark

        if schema is None and spark.is_spark_url(url):
            schema = spark.schema_from_url(url)  # sc://host:15002?schema=NAME
        wh = cls(url=url, schema=schema, adapter_sql=dict(adapter_sql or {}))
        wh.engine = make_engine(url)
        try:
            with wh.engine.connect() as conn:
                conn.execute(sa.text("select 1"))
        except Exception as exc:  # noqa: BLE001 - any driver error means "unusable"
            raise WarehouseError(f"--warehouse: cannot open {redact_url(url)}: {redact_text(_first_line(exc), url)}") from None
        return wh

    @classmethod
    def from_engine(cls, engine: sa.Engine, schema: str | None = None,
                    adapter_sql: dict[str, str] | None = None) -> Warehouse:
        """Wrap an engine made elsewhere (the dashboard's st.connection)."""
        url = redact_url(engine.url.render_as_string(hide_password=False))
        return cls(url=url, schema=schema, adapter_sql=dict(adapter_sql or {}), engine=engine)

    def close(self) -> None:
        """Let go of the warehouse (a replaced DuckDB file is otherwise read through the old handle)."""
        with self._session_lock:
            self.end_session()
        if self.engine is not None:
            self.engine.dispose()

    def end_session(self) -> None:
        """Close the held DuckDB session and delete its models' file (under _session_lock)."""
        if self._session is not None:
            if self._models_db is not None:
                with contextlib.suppress(Exception):  # a connection already gone has let go of it
                    self._session.driver_connection.execute(f"detach {self._models_db[0]}")
            with contextlib.suppress(Exception):  # a connection already gone is closed enough
                # closed for real, not handed back to the engine's pool: its temp tables (a
                # refresh's models and staged rows) and their memory go with it (10M: 1 GB held
                # through the reports and the switch)
                self._session.invalidate()
                self._session.close()
            self._session = None
            self._materialized_as_of = None
        if self._models_db is not None:
            _delete_models_file(self._models_db[1])
            self._models_db = None

    def _slice_rows(self, name: str, limit_mb: float) -> int:
        """Appeals per slice of a sliced model within a DuckDB limit of `limit_mb`."""
        return self.chunk_rows or max(50_000, int(limit_mb * self.rows_per_mb.get(name, self.CHUNK_ROWS_PER_MB)))

    def _events_sliced(self, raw, limit_mb: float) -> bool:
        """Whether the events will be de-duplicated in slices: the warehouse is big for the
        budget, and the models go to a file of their own (below). Below that the file costs
        more than it saves: a third longer at 1M appeals in 2 GB (bench/README.md)."""
        native_sql, native_params = _duckdb_params(f"select count(*) from ({self.source('appeals')}) as a",
                                                   dict(self.adapter_params))
        rows = int(raw.execute(native_sql, native_params or None).fetchone()[0])
        return rows > self._slice_rows("events_effective", limit_mb)

    def _models_database(self, raw) -> str:
        """The alias of a DuckDB file of this session's own, in the spill folder, that the models
        of a big warehouse are written to. As temp tables they lived uncompressed in memory and
        every block DuckDB evicted was written to its spill file again: 13.5 GB written to build
        1M appeals within 400 MB (bench/README.md, "10M end to end, evening session"); a file's
        blocks are compressed, and an evicted block that did not change is dropped, not written."""
        if self._models_db is None:
            _sweep_models_files()
            path = spill_folder() / f"models-{os.getpid()}-{uuid.uuid4().hex[:12]}.duckdb"
            alias = f"appeals_models_{uuid.uuid4().hex[:12]}"  # one process may hold several sessions
            raw.execute(f"attach {sql_literal(str(path))} as {alias} (read_write)")
            self._models_db = (alias, path)
            _MODELS_FILES.add(path)
        return self._models_db[0]

    @property
    def dialect(self) -> str:
        assert self.engine is not None
        return self.engine.dialect.name

    # -- introspection ------------------------------------------------------------------
    def columns(self) -> dict[str, list[str]]:
        """Contract tables present (by name) → their column names, from information_schema."""
        if self._columns is None and self.dialect == "spark":
            found = {}
            for table, column, data_type in self.engine.columns(self.schema):
                found.setdefault(table, []).append(column)
                self._types.setdefault(table, {})[column] = data_type.lower()
            self._columns = found
        if self._columns is None:
            schema_filter = "table_schema = :schema" if self.schema else (
                "table_schema = current_schema()" if self.dialect == "postgresql" else "table_schema = 'main'"
            )
            sql = f"select table_name, column_name, data_type from information_schema.columns where {schema_filter}"
            params = {"schema": self.schema} if self.schema else {}
            found: dict[str, list[str]] = {}
            with self.engine.connect() as conn:
                for table, column, data_type in conn.execute(sa.text(sql), params):
                    found.setdefault(table, []).append(column)
                    self._types.setdefault(table, {})[column] = str(data_type or "").lower()
            self._columns = found
        return self._columns

    def has_table(self, name: str) -> bool:
        return name in self.adapter_sql or name in self.columns()

    def validate(self) -> None:
        """Raise WarehouseError naming the first missing required table or column."""
        present = self.columns()
        for table in TABLES.values():
            if table.name in self.adapter_sql:
                continue
            if table.name not in present:
                if table.required:
                    raise WarehouseError(f"{table.name}: required table is missing from {redact_url(self.url)}")
                continue
            cols = set(present[table.name])
            for col in table.columns:
                if col.required and col.name not in cols:
                    kind = "required table" if table.required else "optional table (present)"
                    raise WarehouseError(f"{table.name}.{col.name}: required column is missing ({kind})")
        self._refuse_unreadable_required_columns()
        self._exclude_unknown_timezones()

    # -- values read as their contract type ------------------------------------------------
    def _is_text_source(self, table: str, column: str) -> bool:
        return self._types.get(table, {}).get(column, "").split("(")[0].strip() in TEXT_SOURCE_TYPES

    def typed(self, table: str, col, ref: str) -> str:
        """`ref` as the column's contract type; from a text column, null when it cannot be read."""
        cast = SQL_CAST[col.type]
        if col.type == TEXT or table in self.adapter_sql or not self._is_text_source(table, col.name):
            return f"cast({ref} as {cast})"
        if self.dialect in ("duckdb", "spark"):
            return f"try_cast({ref} as {cast})"
        text = f"trim(cast({ref} as varchar))"
        shape = TEXT_SHAPES[col.type].replace("'", "''")
        valid = _valid_calendar(col.type, text)
        read = f"cast({text} as {cast})" if valid is None else f"case when {valid} then cast({text} as {cast}) end"
        # nested: the parts are cast to integers only once the shape is known
        return f"case when lower({text}) ~ '{shape}' then {read} end"

    @staticmethod
    def sane(col, expr: str) -> str:
        """Absurd values read as null: instants outside SANE_FROM..SANE_UNTIL, SLA targets that
        are negative, NaN, infinite or beyond MAX_TARGET_HOURS."""
        if col.type == TIMESTAMPTZ:
            lo = f"cast('{SANE_FROM.isoformat()}' as timestamp with time zone)"
            hi = f"cast('{SANE_UNTIL.isoformat()}' as timestamp with time zone)"
            return f"case when {expr} >= {lo} and {expr} < {hi} then {expr} end"
        if col.name.endswith("_target_hours"):
            return f"case when {expr} >= 0 and {expr} <= {MAX_TARGET_HOURS} then {expr} end"
        return expr

    def _present_text_columns(self):
        """(table, column) of present, non-text contract columns stored as text."""
        present = self.columns()
        for table in TABLES.values():
            if table.name in self.adapter_sql or table.name not in present:
                continue
            for col in table.columns:
                if col.type != TEXT and col.name in present[table.name] and self._is_text_source(table.name, col.name):
                    yield table, col

    def _refuse_unreadable_required_columns(self) -> None:
        """A required column of which no value can be read is unusable (one line naming it);
        single unreadable values are data problems, counted by `unreadable_value`."""
        for table, col in self._present_text_columns():
            if not (table.required and col.required):
                continue
            ref = f'src."{col.name}"'
            sql = (f"select count(nullif(trim(cast({ref} as varchar)), '')) as n, count({self.typed(table.name, col, ref)}) "
                   f"as ok, min(cast({ref} as varchar)) as example from ({self.source(table.name)}) as src")
            with self.engine.connect() as conn:
                n, ok, example = conn.execute(sa.text(sql), self.adapter_params).one()
            if n and not ok:
                raise WarehouseError(f"{table.name}.{col.name}: required column cannot be read as {col.type}: "
                                     f"none of its {n:,} values is one (e.g. {str(example)[:40]!r})")

    def value_check_sql(self) -> dict[str, str]:
        """SQL (example ids) of the checks in checks.VALUE_CHECKS, from the raw values: text
        that cannot be read, instants outside the sane window, unusable SLA targets, holiday
        rows of a schedule-year closed most of the year."""
        hits: dict[str, list[str]] = {}
        present = self.columns()
        for table in TABLES.values():
            if table.name not in present and table.name not in self.adapter_sql:
                continue
            have = ({c.name for c in table.columns} if table.name in self.adapter_sql
                    else set(present[table.name]))
            src = f"({self.source(table.name)}) as src"
            ident = " || '/' || ".join(f"coalesce(cast(src.{c} as varchar), '')" for c in EXAMPLE_ID[table.name])
            for col in table.columns:
                if col.type == TEXT or col.name not in have:
                    continue
                ref = f'src."{col.name}"'
                typed = self.typed(table.name, col, ref)
                label = f"' ({table.name}.{col.name})'"
                if table.name not in self.adapter_sql and self._is_text_source(table.name, col.name):
                    hits.setdefault("unreadable_value", []).append(
                        f"select {ident} || {label} from {src} "
                        f"where nullif(trim(cast({ref} as varchar)), '') is not null and {typed} is null")
                sane = self.sane(col, typed)
                if sane != typed:
                    name = "timestamp_outside_window" if col.type == TIMESTAMPTZ else "sla_target_unusable"
                    hits.setdefault(name, []).append(
                        f"select {ident} || {label} from {src} where {typed} is not null and {sane} is null")
        if "holidays" in present or "holidays" in self.adapter_sql:
            hits["holidays_most_of_year"] = [
                "select schedule_id || ' ' || cast(holiday_date as varchar) from ("
                "select nullif(trim(cast(schedule_id as varchar)), '') as schedule_id, holiday_date, count(*) over "
                "(partition by nullif(trim(cast(schedule_id as varchar)), ''), extract(year from holiday_date)) as n "
                f"from ({self._holidays_typed()}) as h) as y where n > {MAX_HOLIDAYS_PER_YEAR}"]
        return {name: " union all ".join(parts) for name, parts in hits.items()}

    def _holidays_typed(self) -> str:
        col = TABLES["holidays"].column("holiday_date")
        return (f"select src.schedule_id, {self.typed('holidays', col, 'src.holiday_date')} as holiday_date "
                f"from ({self.source('holidays')}) as src")

    def unknown_timezones(self) -> list[str]:
        """Schedule zones that are not IANA names: their rows are left out (a data check)."""
        return sorted(v for k, v in self.adapter_params.items() if k.startswith("bad_tz_"))

    def _exclude_unknown_timezones(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if not self.has_table("business_hours"):
            return
        sql = f"select distinct nullif(trim(cast(timezone as varchar)), '') as tz from ({self.source('business_hours')}) as b"
        with self.engine.connect() as conn:
            zones = [r[0] for r in conn.execute(sa.text(sql), self.adapter_params) if r[0] is not None]
        bad = []
        for zone in zones:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                bad.append(zone)
        for i, zone in enumerate(sorted(bad)):
            self.adapter_params[f"bad_tz_{i}"] = zone

    def row_counts(self) -> dict[str, int]:
        counts = {}
        with self.engine.connect() as conn:
            for name in TABLES:
                if self.has_table(name):
                    sql = sa.text(f"select count(*) from ({self.source(name)}) as t")
                    counts[name] = int(conn.execute(sql, self.adapter_params).scalar())
        return counts

    # -- staging --------------------------------------------------------------------------
    def source(self, table: str) -> str:
        if table in self.adapter_sql:
            return self.adapter_sql[table]
        prefix = f'"{self.schema}".' if self.schema else ""
        return f'select * from {prefix}"{table}"'

    @staticmethod
    def staged_text(ref: str) -> str:
        """A text column as staging reads it: spaces trimmed, empty as null. Trimmed only when
        it starts or ends with a space (the same text): trimming every value took about 0.3 s per
        column of 5.9M event rows in DuckDB, and kept a filter on the column from becoming a
        semi-join (bench/README.md)."""
        raw = f"cast({ref} as varchar)"
        # spaces only, as on every dialect
        return f"nullif(case when {raw} like ' %' or {raw} like '% ' then trim(both ' ' from {raw}) else {raw} end, '')"

    @staticmethod
    def staged_text_in(ref: str, values: str) -> str:
        """`staged_text(ref) in (values)`, for values as staging gives them (not empty, no space
        at either end): the raw text is compared first and trimmed only when it starts or ends
        with a space. Trimming every row first took 1.8 s of a page of clock ages at 10M appeals."""
        raw = f"cast({ref} as varchar)"
        return (f"({raw} in ({values}) or (({raw} like ' %' or {raw} like '% ') "
                f"and {Warehouse.staged_text(ref)} in ({values})))")

    def staged_value(self, table: str, column: str) -> str:
        """A column of a source row (`src`) as staging reads it: for a `src_filter` on the staged
        value that runs before the other columns are staged (the table has the column)."""
        col = TABLES[table].column(column)
        ref = f'src."{column}"'
        return self.staged_text(ref) if col.type == TEXT else self.sane(col, self.typed(table, col, ref))

    def staging_ctes(self, src_filter: dict[str, str] | None = None) -> dict[str, str]:
        """One staging CTE per contract table: trimmed text (empty → null), cast types,
        absent optional columns and tables as typed nulls. `src_filter`: table -> a condition
        on its source rows (`src`), applied before the staging expressions are computed."""
        present = self.columns()
        ctes: dict[str, str] = {}
        for table in TABLES.values():
            if table.name in self.adapter_sql:
                have = {c.name for c in table.columns}
            else:
                have = set(present.get(table.name, []))
            exists = self.has_table(table.name)
            selects = []
            for col in table.columns:
                cast = SQL_CAST[col.type]
                if exists and col.name in have:
                    expr = self.staged_value(table.name, col.name)
                else:
                    expr = f"cast(null as {cast})"
                selects.append(f"{expr} as {col.name}")
            body = ",\n        ".join(selects)
            where = ""
            bad_tz = [f":{k}" for k in self.adapter_params if k.startswith("bad_tz_")]
            if table.name == "business_hours" and bad_tz:
                where = f"\n    where coalesce(nullif(trim(cast(src.timezone as varchar)), ''), '') not in ({', '.join(bad_tz)})"
            if exists and (src_filter or {}).get(table.name):
                where += (" and " if where else "\n    where ") + f"({src_filter[table.name]})"
            if exists and table.name == "specialists":
                ctes["stg_specialists"] = _agreeing_specialists(body, f"({self.source(table.name)}) as src{where}")
            elif exists and table.name == "holidays":
                ctes["stg_holidays"] = (
                    f"select {', '.join(c.name for c in table.columns)}\n    from (select\n        {body},\n"
                    "        count(*) over (partition by nullif(trim(cast(src.schedule_id as varchar)), ''), "
                    f"extract(year from {self.typed('holidays', table.column('holiday_date'), 'src.holiday_date')})) "
                    f"as n_in_year\n    from ({self.source(table.name)}) as src{where}) as h\n"
                    f"    where n_in_year <= {MAX_HOLIDAYS_PER_YEAR}")
            elif exists:
                ctes[f"stg_{table.name}"] = f"select\n        {body}\n    from ({self.source(table.name)}) as src{where}"
            else:
                ctes[f"stg_{table.name}"] = f"select\n        {body}\n    where 1 = 0"
        return ctes

    # -- queries --------------------------------------------------------------------------
    # what reports, drill-downs, exports and the data checks read; other steps are freed
    FINAL_MODELS = ("appeals_base", "events_effective", "schedule_hours", "appeal_policy", "appeal_facts",
                    "status_spans", "qa_reviews_clean", "enforcements_clean", "decision_notes")

    # models over every event, or joining several appeal-grain relations: above
    # CHUNK_ROWS_PER_MB appeals per MB of DuckDB's memory limit they run in slices (by a hash
    # of event_id for the de-duplication of events, of appeal_id for the others), each slice
    # small enough to stay within the limit; as one statement each ran out of memory at 10M
    # appeals in a 1.4 GB limit although every join and aggregate in it can spill
    # (bench/README.md)
    CHUNKED_MODELS = ("events_effective", "appeal_facts", "status_spans")
    CHUNK_ROWS_PER_MB = 1000
    # appeal_facts probes five appeal-grain relations in one pipeline and status_spans walks
    # every event of its appeals: a quarter of the slice size (bench/README.md, issue 8f)
    rows_per_mb: dict = field(default_factory=lambda: {"appeal_facts": 250, "status_spans": 250})
    chunk_rows: int | None = None  # fixed slice size (tests); None: from the memory limit
    slices: dict = field(default_factory=dict)  # model -> slices of the last materialize

    def materialize(self, as_of_param: str, memory_share: float = 0.7) -> bool:
        """Compute the final models once into temp tables (DuckDB); False where unsupported.

        The user's warehouse stays untouched: temp tables live in this connection's memory
        (DuckDB spills them to its temp directory when large) and vanish with it.
        `memory_share`: the part of the process budget DuckDB's own limit gets here.
        """
        from metrics import models

        if self.dialect == "spark":
            return self._materialize_spark(as_of_param)
        if self.dialect != "duckdb":
            return False
        key = f"{as_of_param}|{models.taxonomy_key()}"  # an edited taxonomy file means new facts
        if self._materialized_as_of == key:
            return True
        with self._session_lock:
            if self._session is None:
                self._session = self.engine.raw_connection()
            raw = self._session.driver_connection
            limit_mb = bound_duckdb(raw, memory_share)
            if self._models_db is None and self._events_sliced(raw, limit_mb):
                self._models_database(raw)
            staging = self.staging_ctes()
            params = {**self.adapter_params, "as_of": as_of_param}
            done: dict[str, str] = {}
            order = list(models.model_sql(self.dialect))
            for i, name in enumerate(order):  # each model once, reading the ones before it
                if name in self.CHUNKED_MODELS:
                    self._materialize_chunked(raw, name, staging, done, params, limit_mb)
                else:
                    sql = models.with_models(staging, None, f"select * from {name}", upto=name, overrides=done,
                                             dialect=self.dialect)
                    _run_bounded(raw, name, f"{self._create_table(self.materialized_table(name))} as {sql}", params)
                done[name] = f"select * from {self.materialized_table(name)}"
                later = " ".join(models.model_sql(self.dialect)[m] for m in order[i + 1:])
                for step in list(done):  # free an intermediate step once no later model reads it
                    if step not in self.FINAL_MODELS and not re.search(rf"\b{step}\b", later):
                        raw.execute(f"drop table if exists {self.materialized_table(step)}")
                        done[step] = models.model_sql(self.dialect)[step]
            self._materialized_as_of = key
        return True

    def _materialize_spark(self, as_of_param: str) -> bool:
        """Spark: every model once, as a checkpointed temp view of this session.

        Spark inlines a CTE at each reference, so the composed query would run the early models
        once per later use (minutes for 60 appeals); each model reads the views before it
        instead, and the checkpoint cuts the plan there. Views are named per warehouse (one
        session serves several) and vanish with the session; the warehouse stays untouched.
        """
        from metrics import models

        key = f"{as_of_param}|{models.taxonomy_key()}"
        if self._materialized_as_of == key:
            return True
        with self._session_lock:
            params = {**self.adapter_params, "as_of": as_of_param}
            self.checkpoint_models(self.staging_ctes(), params, f"materialized_{id(self):x}")
            self._materialized_as_of = key
        return True

    def checkpoint_models(self, staging: dict[str, str], params: dict, tag: str,
                          upto: str | None = None) -> dict[str, str]:
        """Spark: the models (through `upto`) over `staging`, each once as the checkpointed temp
        view `<model>_<tag>` reading the views before it; model -> `select * from <view>`.
        Also the store's incremental refresh, over the staging rows of the appeals it recomputes,
        where on DuckDB each is a temp table of this warehouse's session (facts, spans, notes and
        the per-appeal checks each ran the whole chain again: 4.3 s of checks at 10M)."""
        from metrics import models

        done: dict[str, str] = {}
        for name in models.model_sql(self.dialect):
            sql = models.with_models(staging, None, f"select * from {name}", upto=name, overrides=done,
                                     dialect=self.dialect)
            if self.dialect == "duckdb":
                _run_bounded(self._session.driver_connection, name,
                             f"create or replace temp table {name}_{tag} as {sql}", params)
            else:
                self.engine.checkpoint(f"{name}_{tag}", sql, params)
            done[name] = f"select * from {name}_{tag}"
            if name == upto:
                break
        return done

    def _create_table(self, table: str) -> str:
        """`create or replace` a table of the models: in their file, else a temp table."""
        return f"create or replace table {table}" if self._models_db else f"create or replace temp table {table}"

    def materialized_table(self, name: str) -> str:
        """Where a model is materialized: a temp table, or a table of the models' file."""
        if self.dialect == "spark":
            return f"{name}_materialized_{id(self):x}"
        return f"{self._models_db[0]}.{name}_materialized" if self._models_db else f"{name}_materialized"

    def _materialize_chunked(self, raw, name: str, staging: dict[str, str], done: dict[str, str], params: dict,
                             limit_mb: float) -> None:
        """One appeal-grain model in slices of appeals: every materialized relation keyed by
        appeal_id is read through `hash(appeal_id) % slices = i`; the enforcements a slice's
        appeals name are read whole (their first row per id is the same in any slice)."""
        from metrics import models

        n = int(raw.execute(f"select count(*) from {self.materialized_table('appeals_base')}").fetchone()[0])
        slices = max(1, -(-n // self._slice_rows(name, limit_mb)))
        self.slices[name] = slices
        if slices == 1:
            sql = models.with_models(staging, None, f"select * from {name}", upto=name, overrides=done,
                                     dialect=self.dialect)
            _run_bounded(raw, name, f"{self._create_table(self.materialized_table(name))} as {sql}", params)
            return
        by_event = name == "events_effective"  # every row of an event id in one slice: de-duplication holds
        db = self._models_db[0] if self._models_db else "temp"
        keyed = [] if by_event else [
            m for m, body in done.items() if body == f"select * from {self.materialized_table(m)}"
            and "appeal_id" in {c for (c,) in raw.execute(
                "select column_name from duckdb_columns() where database_name = ? and table_name = ?",
                [db, f"{m}_materialized"]).fetchall()}]
        staged = "stg_appeal_events" if by_event else "stg_enforcements"  # staged once, read per slice
        chunk = f"{db}.chunk_{staged}" if self._models_db else f"chunk_{staged}"
        _run_bounded(raw, name, f"{self._create_table(chunk)} as {staging[staged]}", params)
        try:
            for i in range(slices):
                overrides = dict(done)
                for m in keyed:
                    overrides[m] = f"select * from {self.materialized_table(m)} where {in_slice('appeal_id', slices, i)}"
                sliced = dict(staging)
                if by_event:
                    sliced[staged] = f"select * from {chunk} where {in_slice('event_id', slices, i)}"
                else:
                    sliced[staged] = (
                        f"select * from {chunk} where enforcement_id in (select enforcement_id "
                        f"from {self.materialized_table('appeals_base')} where {in_slice('appeal_id', slices, i)})")
                sql = models.with_models(sliced, None, f"select * from {name}", upto=name, overrides=overrides,
                                         dialect=self.dialect)
                verb = (f"{self._create_table(self.materialized_table(name))} as " if i == 0
                        else f"insert into {self.materialized_table(name)} ")
                _run_bounded(raw, name, verb + sql, params)
        finally:
            raw.execute(f"drop table if exists {chunk}")

    def span_facts(self) -> tuple[str, ...]:
        """The facts columns that `status_spans` rows carry beside the model's own (a store's
        spans keep the backlog's filter keys and deadline: metrics.store.SPAN_FACTS); none here."""
        return ()

    def qa_facts(self) -> tuple[str, ...]:
        """The facts columns that `qa_reviews_clean` rows carry beside the model's own, with
        `in_facts` (a store's: metrics.store.QA_FACTS); none here."""
        return ()

    def kept_key_values(self, as_of_param: str) -> dict[str, list[str]]:
        """The values facts columns take at as_of, kept with the state being read (a store keeps
        the filter keys' at refresh: metrics.api.key_values), by column; none here."""
        return {}

    def kept_specialist_names(self, as_of_param: str) -> dict[str, str] | None:
        """The specialists' names at as_of, kept with the state being read (a store keeps them
        at refresh: metrics.api.specialist_names); None here."""
        return None

    def model_overrides(self, as_of_param: str | None) -> dict[str, str]:
        """CTE bodies that read the materialized models, when they match this as_of."""
        from metrics import models

        if as_of_param is None or self._materialized_as_of != f"{as_of_param}|{models.taxonomy_key()}":
            return {}
        return {name: f"select * from {self.materialized_table(name)}" for name in self.FINAL_MODELS}

    def compose(self, extra_ctes: dict[str, str] | None, select: str, params: dict | None = None) -> str:
        """The full query: staging, models (or their materialized tables), extra CTEs, select."""
        from metrics import models

        if self.dialect == "spark" and (params or {}).get("as_of") and _reads_models(select, extra_ctes):
            # without it Spark reruns every model per reference; a query that reads none (a
            # holiday list) carries none of them either (models.with_models keeps what it reads)
            self.materialize(params["as_of"])
        overrides = self.model_overrides((params or {}).get("as_of"))
        return models.with_models(self.staging_ctes(), extra_ctes, select, overrides=overrides, dialect=self.dialect)

    @contextlib.contextmanager
    def _duckdb_cursor(self):
        """The DuckDB connection a query runs on: the held session (under its lock) when the
        models are materialized in it, else a pooled connection of the engine."""
        if self._session is not None:
            with self._session_lock:
                yield self._session.driver_connection
            return
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            raw.execute("set TimeZone = 'UTC'")  # engines made elsewhere lack our listener
            yield raw

    def query_staged(self, extra_ctes: dict[str, str], select: str, params: dict, stage: list[str]) -> pl.DataFrame:
        """`select` over the composed CTEs, with the CTEs named in `stage` computed first, each by
        a statement of its own, on DuckDB. The same answer as one statement; but DuckDB holds
        every grouped part of one statement at once: the weekly report over 10M facts ran out of
        a 2 GB budget where each part alone fits (bench/README.md, 10M). Only where the models are
        read from tables (materialized, or a store): over the raw CTE chain each part would
        compute every model again (4× the time of one statement at 1M). Elsewhere: one statement."""
        if self.dialect != "duckdb" or not stage or not self.model_overrides(params.get("as_of")):
            return self.query(self.compose(extra_ctes, select, params), params)
        tag = uuid.uuid4().hex[:12]
        tables = {name: f"{name}_{tag}" for name in stage}
        steps = {tables[name]: self.compose(extra_ctes, f"select * from {name}", params) for name in stage}
        final = self.compose({**extra_ctes, **{n: f"select * from {t}" for n, t in tables.items()}}, select, params)
        params = {**self.adapter_params, **params}
        with self._duckdb_cursor() as raw:
            return duckdb_staged(raw, steps, final, params)

    def query(self, sql: str, params: dict | None = None) -> pl.DataFrame:
        params = {**self.adapter_params, **(params or {})}
        if self.dialect == "spark":
            return self.engine.frame(sql, params)
        if self.dialect == "duckdb":
            with self._duckdb_cursor() as raw:
                return duckdb_frame(raw, sql, params)
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("set time zone 'UTC'"))
            result = conn.execute(sa.text(sql), params)
            names = list(result.keys())
            rows = result.fetchall()
        return pl.DataFrame([tuple(r) for r in rows], schema=names, orient="row", infer_schema_length=None)


def in_slice(column: str, slices: int, i: int) -> str:
    """The rows of slice i of `slices` by a key column (DuckDB): how every sliced build cuts its
    work, so the rows of one key (an appeal, an event id) always fall in one slice together."""
    return f"hash({column}) % {int(slices)} = {int(i)}"


def duckdb_frame(raw, sql: str, params: dict) -> pl.DataFrame:
    native_sql, native_params = _duckdb_params(sql, params)
    return pl.from_arrow(raw.sql(native_sql, params=native_params or None).to_arrow_table())


def duckdb_staged(raw, steps: dict[str, str], final: str, params: dict) -> pl.DataFrame:
    """Run each step into a temp table of this connection, then the final query, then drop them."""
    try:
        for table, sql in steps.items():
            native_sql, native_params = _duckdb_params(f"create temp table {table} as {sql}", params)
            raw.execute(native_sql, native_params or None)
        return duckdb_frame(raw, final, params)
    finally:
        for table in steps:
            with contextlib.suppress(Exception):  # a failed step leaves no table behind to drop
                raw.execute(f"drop table if exists {table}")


def _reads_models(select: str, extra_ctes: dict[str, str] | None) -> bool:
    """Whether a query reads any model (not only staging): on Spark only such a query is worth
    computing every model for first (a holiday list reads stg_holidays alone; the dashboard
    asks for one on every page: 87 s on the sample over Spark Connect when it did)."""
    from metrics import models

    text = " ".join([select, *(extra_ctes or {}).values()])
    return any(re.search(rf"\b{name}\b", text) for name in models.model_sql("spark"))


# PostgreSQL type OIDs → Polars types, for rows read in batches (unknown types: text)
_PG_TYPES_BY_OID = {16: pl.Boolean, 20: pl.Int64, 21: pl.Int64, 23: pl.Int64, 700: pl.Float64, 701: pl.Float64,
                    1700: pl.Float64, 25: pl.Utf8, 1042: pl.Utf8, 1043: pl.Utf8, 1082: pl.Date, 1083: pl.Time,
                    1114: pl.Datetime("us"), 1184: pl.Datetime("us", "UTC")}


def sqla_batches(wh: Warehouse, sql: str, params: dict, rows: int = 100_000) -> Iterator[pl.DataFrame]:
    """A SQLAlchemy warehouse's result in frames of up to `rows` rows, read through a
    server-side cursor, each with the same schema (from the result's column types); at least
    one frame, empty when there are no rows. What a refresh copies into the store: a whole
    model held as Python rows took 7.3 GB at 1M appeals on PostgreSQL (bench/README.md)."""
    params = {**wh.adapter_params, **params}
    with wh.engine.connect() as conn:
        if wh.dialect == "postgresql":
            conn.execute(sa.text("set time zone 'UTC'"))
        result = conn.execution_options(stream_results=True, max_row_buffer=rows).execute(sa.text(sql), params)
        names = list(result.keys())
        codes = [d[1] for d in result.cursor.description] if wh.dialect == "postgresql" else [None] * len(names)
        schema = {n: _PG_TYPES_BY_OID.get(c, pl.Utf8) for n, c in zip(names, codes, strict=True)}
        sent = False
        for part in result.partitions(rows):
            sent = True
            yield pl.DataFrame([tuple(r) for r in part], schema=schema, orient="row", strict=False)
        if not sent:
            yield pl.DataFrame(schema=schema)


def budget_mb() -> float:
    """The process's memory budget in MB (APPEALS_DUCKDB_MEMORY_LIMIT, default 2GB)."""
    limit = os.environ.get("APPEALS_DUCKDB_MEMORY_LIMIT", "2GB")
    size = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT])i?B", limit.strip())
    if not size:
        raise WarehouseError(f"APPEALS_DUCKDB_MEMORY_LIMIT: expected a size like 2GB, got {limit!r}")
    return float(size.group(1)) * {"K": 2**-10, "M": 1, "G": 2**10, "T": 2**20}[size.group(2)]


_MODELS_FILES: set[Path] = set()  # the models' files this process made and has not deleted


def _delete_models_file(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    _MODELS_FILES.discard(path)


@atexit.register
def _delete_own_models_files() -> None:  # a script that never closed its warehouse
    for path in list(_MODELS_FILES):
        _delete_models_file(path)


def _sweep_models_files() -> None:
    """Delete the models' files of processes that are gone (killed before they could)."""
    for path in spill_folder().glob("models-*.duckdb"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            _delete_models_file(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def spill_folder() -> Path:
    """The app's own scratch folder for DuckDB (spill files, the models' files)."""
    folder = Path(tempfile.gettempdir()) / "appeals-analytics-duckdb"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def bound_duckdb(raw, share: float) -> float:
    """Bound one DuckDB connection to `share` of the process budget (its limit covers only
    its buffer pool: the rest is for everything else in the process), spilling to the app's
    own temp folder, never beside the warehouse. Returns the limit in MB."""
    limit_mb = max(1.0, budget_mb() * share)
    spill = spill_folder()
    raw.execute("set TimeZone = 'UTC'")
    # DuckDB refuses to set the folder again once it has spilled there, even to the same
    # path: a 10M refresh's fingerprints spill, then its models bound the connection again
    if raw.execute("select current_setting('temp_directory')").fetchone()[0] != str(spill):
        raw.execute(f"set temp_directory = {sql_literal(str(spill))}")
    raw.execute("set preserve_insertion_order = false")
    raw.execute(f"set memory_limit = {sql_literal(f'{int(limit_mb)}MiB')}")
    return limit_mb


def _run_bounded(raw, name: str, sql: str, params: dict) -> None:
    native_sql, native_params = _duckdb_params(sql, params)
    try:
        raw.execute(native_sql, native_params or None)
    except Exception as exc:  # duckdb.OutOfMemoryException: say what to change, in one line
        if "Out of Memory" not in str(exc):
            raise
        limit = os.environ.get("APPEALS_DUCKDB_MEMORY_LIMIT", "2GB")
        detail = str(exc).strip().splitlines()[0][:160]
        raise WarehouseError(
            f"{name}: DuckDB ran out of its {limit} memory limit preparing this warehouse; "
            f"raise APPEALS_DUCKDB_MEMORY_LIMIT (e.g. 4GB) ({detail})"
        ) from None


def _agreeing_specialists(body: str, source: str) -> str:
    """Specialists staged so that rows sharing a specialist_id cannot reassign each other's
    name, pod, team lead or site: an attribute on which the rows disagree is read as null
    (counted by `duplicate_specialist_id`); rows that agree keep it."""
    cols = [c.name for c in TABLES["specialists"].columns]
    agreed = []
    for name in cols:
        if name in SPECIALIST_ATTRIBUTES:
            one = f"coalesce({name}, '')"
            agreed.append(f"case when min({one}) over w = max({one}) over w then {name} end as {name}")
        else:
            agreed.append(name)
    return (f"select {', '.join(agreed)}\n    from (select\n        {body}\n    from {source}) as s\n"
            "    window w as (partition by specialist_id)")


def duckdb_file(url: str) -> Path | None:
    """The file of a `duckdb:///path` URL; None for `:memory:` and server warehouses."""
    path = url.split("///", 1)[1] if url.startswith("duckdb") and "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def file_identity(url: str) -> tuple | None:
    """What identifies a DuckDB warehouse file's content without reading it: device, inode,
    size, mtime and ctime of the file and of its write-ahead log (a file replaced, rewritten,
    copied over with its old mtime, written to but not yet checkpointed, or deleted changes
    it). None for server warehouses, which have no such cheap signal."""
    path = duckdb_file(url)
    if path is None:
        return None
    try:
        main = path.stat()
    except OSError:
        return ("missing",)
    try:
        wal = Path(f"{path}.wal").stat()
        wal_part = (wal.st_size, wal.st_mtime_ns, wal.st_ctime_ns)
    except OSError:
        wal_part = ()
    return (main.st_dev, main.st_ino, main.st_size, main.st_mtime_ns, main.st_ctime_ns, *wal_part)


def make_engine(url: str) -> sa.Engine:
    from metrics import spark

    if spark.is_spark_url(url):
        return spark.SparkEngine(url)
    if url.startswith("duckdb"):
        path = duckdb_file(url)
        if path is not None and not path.exists():
            raise WarehouseError(f"--warehouse: DuckDB file not found: {path}")
        args = {"read_only": True} if path is not None else {}
        engine = sa.create_engine(url, connect_args=args)

        @sa.event.listens_for(engine, "connect")
        def _duck_utc(dbapi_conn, _record):  # after connect: ICU loads on first use
            dbapi_conn.execute("set TimeZone = 'UTC'")

        return engine
    try:
        engine = sa.create_engine(url, execution_options={"postgresql_readonly": True} if url.startswith("postgres") else {},
                                  pool_pre_ping=True)  # a restarted server: stale pooled connections are replaced
    except Exception as exc:  # noqa: BLE001
        raise WarehouseError(f"--warehouse: unusable URL {redact_url(url)}: {redact_text(_first_line(exc), url)}") from None
    if engine.dialect.name == "postgresql":

        @sa.event.listens_for(engine, "connect")
        def _utc(dbapi_conn, _record):  # sessions in UTC: naive timestamps are UTC
            cur = dbapi_conn.cursor()
            cur.execute("set time zone 'UTC'")
            cur.close()
            dbapi_conn.commit()

    return engine


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _duckdb_params(sql: str, params: dict) -> tuple[str, dict]:
    used = set(_PARAM.findall(sql))
    return _PARAM.sub(r"$\1", sql), {k: v for k, v in params.items() if k in used}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
