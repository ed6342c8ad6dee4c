"""Warehouse access: any SQLAlchemy URL, opened read-only, checked against the contract.

The engine pushes its SQL down through this class and pulls back Polars frames. For
DuckDB it fetches Arrow from the driver connection (no per-row Python objects); for other
dialects it reads rows through SQLAlchemy. Sessions run in UTC so timestamps without a
zone are read as UTC (warehouse.md).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl
import sqlalchemy as sa

from metrics.contract import BOOLEAN, DATE, DOUBLE, INT, TABLES, TEXT, TIME, TIMESTAMPTZ

SQL_CAST = {
    TEXT: "varchar",
    TIMESTAMPTZ: "timestamp with time zone",
    DATE: "date",
    TIME: "time",
    INT: "integer",
    DOUBLE: "double precision",
    BOOLEAN: "boolean",
}


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
    # DuckDB only: final models materialized as temp tables on one held connection, for
    # one as_of, so a page's or a benchmark's several reports reuse one facts computation.
    _session: object | None = None
    _session_lock: threading.Lock = field(default_factory=threading.Lock)
    _materialized_as_of: str | None = None

    # -- connection -------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, schema: str | None = None, adapter_sql: dict[str, str] | None = None) -> Warehouse:
        wh = cls(url=url, schema=schema, adapter_sql=dict(adapter_sql or {}))
        wh.engine = make_engine(url)
        try:
            with wh.engine.connect() as conn:
                conn.execute(sa.text("select 1"))
        except Exception as exc:  # noqa: BLE001 - any driver error means "unusable"
            raise WarehouseError(f"--warehouse: cannot open {redact_url(url)}: {_first_line(exc)}") from None
        return wh

    @classmethod
    def from_engine(cls, engine: sa.Engine, schema: str | None = None,
                    adapter_sql: dict[str, str] | None = None) -> Warehouse:
        """Wrap an engine made elsewhere (the dashboard's st.connection)."""
        url = engine.url.render_as_string(hide_password=True)
        return cls(url=url, schema=schema, adapter_sql=dict(adapter_sql or {}), engine=engine)

    @property
    def dialect(self) -> str:
        assert self.engine is not None
        return self.engine.dialect.name

    # -- introspection ------------------------------------------------------------------
    def columns(self) -> dict[str, list[str]]:
        """Contract tables present (by name) → their column names, from information_schema."""
        if self._columns is None:
            schema_filter = "table_schema = :schema" if self.schema else (
                "table_schema = current_schema()" if self.dialect == "postgresql" else "table_schema = 'main'"
            )
            sql = f"select table_name, column_name from information_schema.columns where {schema_filter}"
            params = {"schema": self.schema} if self.schema else {}
            found: dict[str, list[str]] = {}
            with self.engine.connect() as conn:
                for table, column in conn.execute(sa.text(sql), params):
                    found.setdefault(table, []).append(column)
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
        self._exclude_unknown_timezones()

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

    def staging_ctes(self) -> dict[str, str]:
        """One staging CTE per contract table: trimmed text (empty → null), cast types,
        absent optional columns and tables as typed nulls."""
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
                    ref = f'src."{col.name}"'
                    if col.type == TEXT:
                        expr = f"nullif(trim(both ' ' from cast({ref} as varchar)), '')"  # spaces only, as on every dialect
                    else:
                        expr = f"cast({ref} as {cast})"
                else:
                    expr = f"cast(null as {cast})"
                selects.append(f"{expr} as {col.name}")
            body = ",\n        ".join(selects)
            where = ""
            bad_tz = [f":{k}" for k in self.adapter_params if k.startswith("bad_tz_")]
            if table.name == "business_hours" and bad_tz:
                where = f"\n    where coalesce(nullif(trim(cast(src.timezone as varchar)), ''), '') not in ({', '.join(bad_tz)})"
            if exists:
                ctes[f"stg_{table.name}"] = f"select\n        {body}\n    from ({self.source(table.name)}) as src{where}"
            else:
                ctes[f"stg_{table.name}"] = f"select\n        {body}\n    where 1 = 0"
        return ctes

    # -- queries --------------------------------------------------------------------------
    # what reports, drill-downs, exports and the data checks read; other steps are freed
    FINAL_MODELS = ("appeals_base", "events_effective", "schedule_hours", "appeal_policy", "appeal_facts",
                    "status_spans", "qa_reviews_clean", "enforcements_clean")

    def materialize(self, as_of_param: str) -> bool:
        """Compute the final models once into temp tables (DuckDB); False where unsupported.

        The user's warehouse stays untouched: temp tables live in this connection's memory
        (DuckDB spills them to its temp directory when large) and vanish with it.
        """
        from metrics import models

        if self.dialect != "duckdb":
            return False
        key = f"{as_of_param}|{models.taxonomy_key()}"  # an edited taxonomy file means new facts
        if self._materialized_as_of == key:
            return True
        with self._session_lock:
            if self._session is None:
                self._session = self.engine.raw_connection()
            raw = self._session.driver_connection
            raw.execute("set TimeZone = 'UTC'")
            # derived rows may spill to the app's own temp folder, never beside the warehouse
            spill = Path(tempfile.gettempdir()) / "appeals-analytics-duckdb"
            spill.mkdir(parents=True, exist_ok=True)
            raw.execute(f"set temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
            raw.execute("set preserve_insertion_order = false")
            # bounded memory: the process's budget (APPEALS_DUCKDB_MEMORY_LIMIT); DuckDB's own limit
            # covers only its buffer pool, so it gets 70% and spills to the temp folder past that
            # (bench/README.md: peak RSS at 10M appeals)
            limit = os.environ.get("APPEALS_DUCKDB_MEMORY_LIMIT", "2GB")
            size = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT])i?B", limit.strip())
            if not size:
                raise WarehouseError(f"APPEALS_DUCKDB_MEMORY_LIMIT: expected a size like 2GB, got {limit!r}")
            budget_mb = float(size.group(1)) * {"K": 2**-10, "M": 1, "G": 2**10, "T": 2**20}[size.group(2)]
            raw.execute(f"set memory_limit = '{max(1, int(budget_mb * 0.7))}MiB'")
            staging = self.staging_ctes()
            done: dict[str, str] = {}
            order = list(models.model_sql(self.dialect))
            for i, name in enumerate(order):  # each model once, reading the ones before it
                sql = models.with_models(staging, None, f"select * from {name}", upto=name, overrides=done,
                                         dialect=self.dialect)
                native_sql, native_params = _duckdb_params(
                    f"create or replace temp table {name}_materialized as {sql}",
                    {**self.adapter_params, "as_of": as_of_param},
                )
                try:
                    raw.execute(native_sql, native_params or None)
                except Exception as exc:  # duckdb.OutOfMemoryException: say what to change, in one line
                    if "Out of Memory" not in str(exc):
                        raise
                    raise WarehouseError(
                        f"{name}: DuckDB ran out of its {limit} memory limit preparing this warehouse; "
                        "raise APPEALS_DUCKDB_MEMORY_LIMIT (e.g. 4GB)"
                    ) from None
                done[name] = f"select * from {name}_materialized"
                later = " ".join(models.model_sql(self.dialect)[m] for m in order[i + 1:])
                for step in list(done):  # free an intermediate step once no later model reads it
                    if step not in self.FINAL_MODELS and not re.search(rf"\b{step}\b", later):
                        raw.execute(f"drop table if exists {step}_materialized")
                        done[step] = models.model_sql(self.dialect)[step]
            self._materialized_as_of = key
        return True

    def model_overrides(self, as_of_param: str | None) -> dict[str, str]:
        """CTE bodies that read the materialized models, when they match this as_of."""
        from metrics import models

        if as_of_param is None or self._materialized_as_of != f"{as_of_param}|{models.taxonomy_key()}":
            return {}
        return {name: f"select * from {name}_materialized" for name in self.FINAL_MODELS}

    def compose(self, extra_ctes: dict[str, str] | None, select: str, params: dict | None = None) -> str:
        """The full query: staging, models (or their materialized tables), extra CTEs, select."""
        from metrics import models

        overrides = self.model_overrides((params or {}).get("as_of"))
        return models.with_models(self.staging_ctes(), extra_ctes, select, overrides=overrides, dialect=self.dialect)

    def query(self, sql: str, params: dict | None = None) -> pl.DataFrame:
        params = {**self.adapter_params, **(params or {})}
        if self._session is not None and self.dialect == "duckdb":
            with self._session_lock:
                raw = self._session.driver_connection
                native_sql, native_params = _duckdb_params(sql, params)
                return pl.from_arrow(raw.sql(native_sql, params=native_params or None).to_arrow_table())
        with self.engine.connect() as conn:
            if self.dialect == "duckdb":
                raw = conn.connection.driver_connection
                raw.execute("set TimeZone = 'UTC'")  # engines made elsewhere lack our listener
                native_sql, native_params = _duckdb_params(sql, params)
                return pl.from_arrow(raw.sql(native_sql, params=native_params or None).to_arrow_table())
            if self.dialect == "postgresql":
                conn.execute(sa.text("set time zone 'UTC'"))
            result = conn.execute(sa.text(sql), params)
            names = list(result.keys())
            rows = result.fetchall()
        return pl.DataFrame([tuple(r) for r in rows], schema=names, orient="row", infer_schema_length=None)


def make_engine(url: str) -> sa.Engine:
    if url.startswith("duckdb"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:" and not Path(path).exists():
            raise WarehouseError(f"--warehouse: DuckDB file not found: {path}")
        args = {"read_only": True} if path and path != ":memory:" else {}
        engine = sa.create_engine(url, connect_args=args)

        @sa.event.listens_for(engine, "connect")
        def _duck_utc(dbapi_conn, _record):  # after connect: ICU loads on first use
            dbapi_conn.execute("set TimeZone = 'UTC'")

        return engine
    try:
        engine = sa.create_engine(url, execution_options={"postgresql_readonly": True} if url.startswith("postgres") else {})
    except Exception as exc:  # noqa: BLE001
        raise WarehouseError(f"--warehouse: unusable URL {redact_url(url)}: {_first_line(exc)}") from None
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


def redact_url(url: str) -> str:
    """The URL without its password, for display."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
