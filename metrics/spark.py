"""Apache Spark as a warehouse: a Spark Connect URL or a local session, behind `Warehouse`.

URL forms (README, "Warehouses"):

    sc://host:15002[/;token=...]        a Spark Connect server (the way Spark users connect)
    spark+local://[?master=local[2]]    an in-process local session (tests, trying it out);
                                        needs Java 17 (scripts/setup.sh installs it)

Add `?schema=NAME` (a Spark database) with --warehouse-schema as for any URL. The engine's SQL
is written in PostgreSQL spelling; `metrics.dialect.to_spark` turns it into Spark SQL and binds
stay `:name` (Spark's named parameter markers). Results come back as Arrow, so frames carry the
same types as DuckDB's. Sessions run in UTC, with the TIME type on (business hours).

The object returned by `make_engine` answers the small part of SQLAlchemy's Engine that
`Warehouse` uses (`connect()`, `execute(text, params)`, `dialect.name`, `dispose()`), so
every check, staging step and report runs unchanged.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import polars as pl

from metrics import dialect as sql_dialect

# Few partitions and a small driver: the default 200 shuffle partitions make every small
# aggregate 200 tasks, and the machine is shared (bench/README.md).
LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "1g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    # tiny stages: compiling whole-stage code costs more than it saves below ~1M rows
    "spark.sql.codegen.wholeStage": "false",
}
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",  # zone-less timestamps are UTC (warehouse.md)
    "spark.sql.timeType.enabled": "true",  # business_hours start/end are TIME values
}
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_sessions: dict[str, object] = {}
_lock = threading.Lock()


def is_spark_url(url: str) -> bool:
    return url.startswith(("sc://", "spark+local://", "spark://", "spark+"))


def check_url(url: str) -> None:
    """One line naming what is wrong with a Spark URL, else nothing."""
    from metrics.redact import redact_url
    from metrics.warehouse import WarehouseError

    if not url.startswith(("sc://", "spark+local://")):
        raise WarehouseError(f"--warehouse: {redact_url(url)} is no Spark URL this app opens; use sc://HOST:15002 "
                             "(Spark Connect, e.g. a cluster's Connect server) or spark+local:// (a local session)")


def session(url: str):
    """The Spark session for `url`, made once per process (Spark allows one local session)."""
    from metrics.warehouse import WarehouseError

    key = url.split("?", 1)[0]
    with _lock:
        found = _sessions.get(key)
        if found is not None:
            return found
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise WarehouseError("--warehouse: Spark URLs need the pyspark package (.venv/bin/pip install -r requirements-spark.txt; local Spark also needs Java 17)") from None
        if url.startswith("sc://"):
            builder = SparkSession.builder.remote(key)
        else:
            query = parse_qs(urlsplit(url.replace("spark+local://", "http://x/", 1)).query)
            master = query.get("master", ["local[2]"])[0]
            builder = SparkSession.builder.master(master).appName("appeals-analytics")
            folder = urlsplit(url.replace("spark+local://", "http://x", 1)).path
            if folder not in ("", "/"):  # spark+local:///path: the catalog's tables live there
                builder = builder.config("spark.sql.warehouse.dir", folder)
            for k, v in LOCAL_CONF.items():
                builder = builder.config(k, v)
            # 1 GB runs the tests; a 1M-appeal warehouse needs more (bench/README.md, Spark)
            memory = os.environ.get("APPEALS_SPARK_DRIVER_MEMORY", "").strip()
            if memory:
                builder = builder.config("spark.driver.memory", memory)
        for k, v in SESSION_CONF.items():
            if not url.startswith("sc://"):
                builder = builder.config(k, v)
        spark = builder.getOrCreate()
        for k, v in SESSION_CONF.items():  # a Connect server: per-session SQL settings
            with contextlib.suppress(Exception):
                spark.conf.set(k, v)
        if not url.startswith("sc://"):
            spark.sparkContext.setLogLevel("ERROR")
        _sessions[key] = spark
        return spark


def stop_sessions() -> None:
    """Stop every session this process started (tests; a Connect server keeps running)."""
    with _lock:
        for spark in _sessions.values():
            with contextlib.suppress(Exception):
                spark.stop()
        _sessions.clear()


def schema_from_url(url: str) -> str | None:
    query = parse_qs(urlsplit(url.replace("spark+local://", "http://x/", 1).replace("sc://", "http://", 1)).query)
    return query.get("schema", [None])[0]


@dataclass
class _Dialect:
    name: str = "spark"


class SparkResult:
    def __init__(self, table):
        self._table = table
        self._rows = [tuple(r.values()) for r in table.to_pylist()]

    def keys(self) -> list[str]:
        return list(self._table.column_names)

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def __iter__(self):
        return iter(self._rows)

    def one(self) -> tuple:
        if len(self._rows) != 1:
            raise ValueError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar(self):
        return self._rows[0][0] if self._rows else None


class SparkConnection:
    def __init__(self, engine: SparkEngine):
        self.engine = engine

    def execute(self, statement, params: dict | None = None) -> SparkResult:
        return SparkResult(self.engine.arrow(str(statement), params))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class SparkEngine:
    """The part of a SQLAlchemy Engine that `Warehouse` uses, over a Spark session."""

    dialect = _Dialect()

    def __init__(self, url: str):
        from metrics.redact import redact_text, redact_url
        from metrics.warehouse import WarehouseError

        check_url(url)
        self.url = url
        try:
            self.spark = session(url)
        except WarehouseError:
            raise
        except Exception as exc:  # noqa: BLE001 - no server, no Java...: one line saying so
            lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()] or [type(exc).__name__]
            raise WarehouseError(f"--warehouse: cannot open {redact_url(url)}: {redact_text(lines[0], url)[:300]}") from None

    def connect(self) -> SparkConnection:
        return SparkConnection(self)

    def dispose(self) -> None:
        """Sessions are shared per URL and outlive a Warehouse; `stop_sessions` ends them."""

    def arrow(self, sql: str, params: dict | None = None):
        spark_sql = sql_dialect.to_spark(sql)
        used = set(_PARAM.findall(spark_sql))
        args = {k: _bindable(v) for k, v in (params or {}).items() if k in used}
        return self.spark.sql(spark_sql, args=args or None).toArrow()

    def checkpoint(self, view: str, sql: str, params: dict | None = None) -> None:
        """The query's rows as temp view `view`, computed now and cut from their plan."""
        spark_sql = sql_dialect.to_spark(sql)
        used = set(_PARAM.findall(spark_sql))
        args = {k: _bindable(v) for k, v in (params or {}).items() if k in used}
        self.spark.sql(spark_sql, args=args or None).localCheckpoint(eager=True).createOrReplaceTempView(view)

    def frame(self, sql: str, params: dict | None = None) -> pl.DataFrame:
        return pl.from_arrow(self.arrow(sql, params))

    def columns(self, schema: str | None) -> list[tuple[str, str, str]]:
        """(table, column, data_type) of the tables in `schema` (the current database if none)."""
        db = schema or self.spark.catalog.currentDatabase()
        out = []
        for table in self.spark.catalog.listTables(db):
            if table.isTemporary:
                continue
            for f in self.spark.table(f"`{db}`.`{table.name}`").schema.fields:
                out.append((table.name, f.name, f.dataType.simpleString()))
        return out


def _bindable(value):
    """Spark binds literals; a timezone-aware ISO string stays a string (cast in the SQL)."""
    return value


def copy_duckdb(url: str, duckdb_path: str, schema: str) -> dict[str, int]:
    """Copy every table of a DuckDB warehouse file into the Spark database `schema` (made if
    missing, tables replaced), keeping the contract's types; table → rows copied.

    For tests, benchmarks and trying Spark out with the sample; a real warehouse already has
    its tables in the Spark catalog. TIME columns travel as text and are cast back in Spark
    (Arrow's time type does not cross into Spark).
    """
    import duckdb

    spark = session(url)
    spark.sql(f"create database if not exists `{schema}`")
    counts = {}
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]
        for name in tables:
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'main' and table_name = ? order by ordinal_position", [name]).fetchall()
            out = ", ".join(f'cast("{c}" as varchar) as "{c}"' if t.startswith("TIME") and "ZONE" not in t
                            and not t.startswith("TIMESTAMP") else f'"{c}"' for c, t in cols)
            table = con.sql(f'select {out} from "{name}"').to_arrow_table()
            view = f"_incoming_{name}"
            spark.createDataFrame(table).createOrReplaceTempView(view)
            sel = ", ".join(f"cast(`{c}` as time) as `{c}`" if t.startswith("TIME") and not t.startswith("TIMESTAMP")
                            else f"`{c}`" for c, t in cols)
            spark.sql(f"drop table if exists `{schema}`.`{name}`")
            spark.sql(f"create table `{schema}`.`{name}` using parquet as select {sel} from `{view}`")
            spark.catalog.dropTempView(view)
            counts[name] = table.num_rows
    finally:
        con.close()
    return counts
