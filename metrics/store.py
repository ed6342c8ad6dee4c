"""The store: the materialized layer the dashboard and the CLI read.

It holds, for one as-of (the warehouse's latest instant when it was refreshed), the rows of
the final models reports read (`appeal_facts` wide, `status_spans`, `qa_reviews_clean`,
`enforcements_clean`, and `decision_notes` for theme discovery and drill-downs), the hits
of the per-appeal data checks, plus what `metrics.refresh` needs to bring it up to date
cheaply: fingerprints of the warehouse rows per day and per day and key (appeals with their
events, enforcements), per-id fingerprints of specialists, event ids shared by several appeals,
and one row of metadata.

Two places, one layout:
- default: DuckDB files the product owns, `<data>/store/<key of the warehouse URL>/`. Each
  refresh writes a new generation file and then points `CURRENT` at it (an atomic rename),
  so readers (the dashboard, other processes) keep reading the previous generation while a
  refresh runs: DuckDB lets one process write a file only when no other process has it open.
- `--store URL`: a schema in a database the user names (`?schema=NAME`, default
  `appeals_store`; PostgreSQL or a DuckDB file), written with ordinary SQL. A refresh builds
  `<table>__next` tables and swaps them in with one transaction.

The warehouse is never written. Reading goes through `StoreWarehouse`, a Warehouse whose
final models are the stored tables, so `api.report` & co compile exactly the same SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import polars as pl
import sqlalchemy as sa

from metrics.contract import TABLES
from metrics.warehouse import SQL_CAST, Warehouse, WarehouseError, _duckdb_params, redact_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = "appeals_store"
# stored table → the model whose rows it holds (reports read these through overrides)
MODEL_TABLES = {"appeal_facts": "facts", "status_spans": "spans", "qa_reviews_clean": "qa_reviews",
                "enforcements_clean": "enforcements", "decision_notes": "notes"}
# stored per appeal: an incremental refresh keeps the rows of unchanged appeals, recomputes the
# rest; check_hits: the hits of the per-appeal data checks (metrics.checks.per_appeal_hits)
APPEAL_TABLES = ("facts", "spans", "notes", "check_hits")
# The order a DuckDB store keeps its per-appeal tables in, so that a report's filters skip whole
# row groups (DuckDB keeps each one's min and max):
# - facts by queue, then created_at: a queue filter and the range of periods (every timestamp
#   a cohort counts by comes at or after created_at);
# - spans by open_to (open ones last): the backlog reads only the stretches not closed before
#   its first period end.
# A queue's month KPI report at 10M appeals: 1.71 s over tables in hash order, 1.26 s with the
# facts ordered (bench/README.md). A full build orders them all; a refresh appends its
# recomputed appeals' rows in this order after the unchanged ones, kept in theirs.
STORED_ORDER = {"facts": ("queue", "created_at"), "spans": ("open_to",)}
# The facts columns a DuckDB store's spans carry beside the model's own: the deadline and the
# dashboard's appeal-level filter keys. A backlog report that reads no other facts column
# then counts the stretches alone, without joining each to its appeal's facts row
# (metrics.engine_sql._backlog_sources). Written where the spans are put in STORED_ORDER.
SPAN_FACTS = ("queue", "priority", "market", "ttr_deadline_at")
# The facts columns a DuckDB store's QA reviews carry, with `in_facts` (the review's appeal has
# a facts row: the report's inner join), ordered by reviewed_at: the dashboard's filter keys and
# the owner. A QA part that filters and groups by no other column reads the reviews alone; the
# join to 2M facts rows of one queue was 55 ms of every dashboard report at 10M, 5 ms without
# (metrics.engine_sql, bench/README.md). Written where the QA reviews are (metrics.refresh).
QA_FACTS = ("queue", "priority", "market", "site", "pod", "specialist_id")
STATE_TABLES = ("fp_appeals", "fp_appeals_by_day", "fp_enforcements", "fp_enforcements_by_day", "fp_specialists",
                "contested_events", "report_cache")
TABLE_NAMES = (*MODEL_TABLES.values(), "check_hits", *STATE_TABLES, "store_meta")


def store_dir() -> Path:
    """Where default stores live (APPEALS_STORE_DIR, else the product's data folder)."""
    env = os.environ.get("APPEALS_STORE_DIR", "").strip()
    return Path(env) if env else ROOT / "data" / "store"


def warehouse_key(wh: Warehouse) -> str:
    """One store per warehouse URL (and adapter): a short stable digest of them."""
    text = json.dumps([wh.url, wh.schema, wh.adapter_name, sorted(wh.adapter_sql.items())], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- the database a store lives in ------------------------------------------------------------

class StoreDB:
    """A read-write (or read-only) connection to the store's database."""

    dialect: str

    def execute(self, sql: str, params: dict | None = None) -> None:
        raise NotImplementedError

    def query(self, sql: str, params: dict | None = None) -> pl.DataFrame:
        raise NotImplementedError

    def write(self, table: str, data, create: bool) -> int:
        """Create `table` from (or append to it) a Polars frame or an Arrow RecordBatchReader."""
        raise NotImplementedError

    def close(self) -> None:
        pass


# The dashboard holds two DuckDB instances, the store's and the warehouse's, and each one's
# limit is its own: together they get half of the process budget
# (APPEALS_DUCKDB_MEMORY_LIMIT, default 2GB), the Python side (Streamlit, Polars frames, charts)
# the other half. Each taking half, the 10M Data quality page (raw rows on the warehouse's)
# after the report pages (the store's) took the app to 2.4 GB (bench/README.md).
STORE_READER_SHARE = 0.3  # the store's reports group millions of stored facts
WAREHOUSE_READER_SHARE = 0.2  # beside a store: data checks over raw rows, bounded lists


def reader_settings(share: float = 0.5) -> dict[str, str]:
    """DuckDB settings of a reading connection: `share` of the process budget
    (APPEALS_DUCKDB_MEMORY_LIMIT, default 2GB), spilling to the app's temp folder past it."""
    import re
    import tempfile

    limit = os.environ.get("APPEALS_DUCKDB_MEMORY_LIMIT", "2GB").strip()
    size = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT])i?B", limit)
    if not size:
        raise WarehouseError(f"APPEALS_DUCKDB_MEMORY_LIMIT: expected a size like 2GB, got {limit!r}")
    budget_mb = float(size.group(1)) * {"K": 2**-10, "M": 1, "G": 2**10, "T": 2**20}[size.group(2)]
    spill = Path(tempfile.gettempdir()) / "appeals-analytics-duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    return {"memory_limit": f"{max(64, int(budget_mb * share))}MiB", "temp_directory": str(spill)}


def bound_reader_memory(con, share: float = 0.5) -> None:
    for name, value in reader_settings(share).items():
        con.execute(f"set {name} = '{value.replace(chr(39), chr(39) * 2)}'")


class DuckStoreDB(StoreDB):
    """A DuckDB store file. Read-only (the dashboard): every query runs on a cursor of its
    own, taken from a small pool (a DuckDB cursor is a connection to the same database), so
    sessions read concurrently (DuckDB releases the GIL while a query runs) instead of
    queueing behind one connection. Read-write (a refresh): one connection, one lock."""

    dialect = "duckdb"
    POOL_IDLE_MAX = 8  # cursors kept idle between queries; more are opened under load and closed after

    def __init__(self, path: str, read_only: bool = False):
        import duckdb

        self.path = path
        self.read_only = read_only
        self.con = duckdb.connect(path, read_only=read_only)
        self.con.execute("set TimeZone = 'UTC'")
        if not read_only:
            from metrics.refresh import bound_memory

            bound_memory(self.con)
        else:
            bound_reader_memory(self.con, STORE_READER_SHARE)
        self.lock = threading.Lock()  # one DuckDB connection is not for concurrent use
        self._idle: list = []  # read-only: cursors not running a query
        self._pool_lock = threading.Lock()
        self._closed = False
        self.cursors_opened = 0  # how many cursors this store handed out (tests, benches)

    @contextlib.contextmanager
    def cursor(self):
        """A cursor for one query: the connection itself (under its lock) when read-write, a
        pooled cursor of its own when read-only."""
        if not self.read_only:
            with self.lock:
                yield self.con
            return
        with self._pool_lock:
            if self._closed:
                raise WarehouseError(f"store: {self.path} was closed (a newer generation replaced it)")
            cur = self._idle.pop() if self._idle else None
            if cur is None:
                cur = self.con.cursor()  # inherits the database's settings; its own time zone below
                self.cursors_opened += 1
                fresh = True
            else:
                fresh = False
        if fresh:
            cur.execute("set TimeZone = 'UTC'")
        try:
            yield cur
        finally:
            with self._pool_lock:
                if self._closed or len(self._idle) >= self.POOL_IDLE_MAX:
                    cur.close()
                else:
                    self._idle.append(cur)

    def execute(self, sql, params=None):
        native, p = _duckdb_params(sql, params or {})
        with self.cursor() as con:
            con.execute(native, p or None)

    def query(self, sql, params=None):
        native, p = _duckdb_params(sql, params or {})
        with self.cursor() as con:
            return pl.from_arrow(con.sql(native, params=p or None).to_arrow_table())

    def write(self, table, data, create):
        with self.lock:
            self.con.register("_store_incoming", data)
            try:
                if create:
                    self.con.execute(f"create table {table} as select * from _store_incoming")
                else:
                    self.con.execute(f"insert into {table} by name select * from _store_incoming")
            finally:
                self.con.unregister("_store_incoming")
        return 0

    def close(self):
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for cur in idle:
            with contextlib.suppress(Exception):
                cur.close()
        with self.lock:
            self.con.close()


_PG_TYPES = {pl.Utf8: "text", pl.Float64: "double precision", pl.Float32: "real", pl.Int64: "bigint",
             pl.Int32: "integer", pl.Int16: "smallint", pl.Int8: "smallint", pl.Boolean: "boolean",
             pl.Date: "date", pl.Time: "time", pl.UInt64: "numeric", pl.UInt32: "bigint"}


def _pg_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "timestamp with time zone"
    if isinstance(dtype, pl.Decimal):
        return "numeric"
    return _PG_TYPES.get(dtype.base_type() if hasattr(dtype, "base_type") else dtype, "text")


class SqlaStoreDB(StoreDB):
    """Any SQLAlchemy database (PostgreSQL): ordinary SQL, COPY for bulk rows."""

    def __init__(self, engine: sa.Engine, reader: bool = False):
        self.engine = engine
        self.dialect = engine.dialect.name
        self.reader = reader
        self.lock = threading.Lock()
        self.conn = engine.connect()
        if self.dialect == "postgresql":
            self.conn.execute(sa.text("set time zone 'UTC'"))
            self.conn.commit()

    def execute(self, sql, params=None):
        self.conn.execute(sa.text(sql), params or {})

    def query(self, sql, params=None):
        with self.lock:
            try:
                result = self.conn.execute(sa.text(sql), params or {})
                names = list(result.keys())
                rows = result.fetchall()
            finally:
                if self.reader:  # never sit in a transaction: a refresh's swap waits for readers' locks
                    self.conn.rollback()
        return pl.DataFrame([tuple(r) for r in rows], schema=names, orient="row", infer_schema_length=None)

    def write(self, table, data, create):
        frames = [data] if isinstance(data, pl.DataFrame) else None
        if frames is None:  # an Arrow RecordBatchReader: a frame per batch, memory bounded
            frames = (pl.from_arrow(batch) for batch in data)
            first = pl.DataFrame(schema=pl.from_arrow(data.schema.empty_table()).schema)
        else:
            first = frames[0]
        if create:
            cols = ", ".join(f"{_qi(c)} {_pg_type(t)}" for c, t in first.schema.items())
            self.conn.execute(sa.text(f"create table {table} ({cols})"))
        n = 0
        raw = self.conn.connection.driver_connection
        for frame in frames:
            if frame.height == 0:
                continue
            col_list = ", ".join(_qi(c) for c in frame.columns)
            with raw.cursor() as cur, cur.copy(f"copy {table} ({col_list}) from stdin") as copy:
                for row in frame.iter_rows():
                    copy.write_row(row)
            n += frame.height
        return n

    def close(self):
        self.conn.close()


# -- where a store lives ----------------------------------------------------------------------

@dataclass
class Location:
    """A store's place. `names(which)` gives qualified table names: "current" (readers),
    "prev" (the state a refresh starts from) and "next" (the state it builds)."""

    label: str
    # the tables of the state being built that already hold the previous state's rows (begin's
    # `keep`, where the place can copy them cheaply): the refresh deletes what it recomputes
    kept: tuple[str, ...] = ()

    def meta(self) -> dict | None:
        raise NotImplementedError

    def open_reader(self) -> StoreDB | None:
        raise NotImplementedError

    def begin(self, keep: tuple[str, ...] = ()) -> StoreDB:
        """A writable state to build "next" in; `keep`: tables it may start from the previous
        state's rows (self.kept says which it did)."""
        raise NotImplementedError

    def names(self, which: str) -> dict[str, str]:
        raise NotImplementedError

    def commit(self, db: StoreDB) -> None:
        raise NotImplementedError

    def abort(self, db: StoreDB) -> None:
        raise NotImplementedError

    def lock_path(self) -> Path:
        raise NotImplementedError

    def note_identity(self, identity: list) -> None:
        """Remember that the live state still matches a warehouse file with this identity
        (a refresh that found nothing changed). Only the default store keeps such a note."""

    def noted_identity(self) -> list | None:
        return None


@dataclass
class GenerationsLocation(Location):
    """Default store: generation files in a folder the product owns, CURRENT names the live one."""

    folder: Path = field(default_factory=Path)
    _next_path: Path | None = None

    def _current_file(self) -> Path | None:
        pointer = self.folder / "CURRENT"
        if not pointer.exists():
            return None
        name = pointer.read_text().strip()
        path = self.folder / name
        return path if name and path.exists() else None

    def generation(self) -> str | None:
        """The live generation's file name (changes on every refresh that wrote something)."""
        current = self._current_file()
        return current.name if current else None

    def meta(self):
        current = self._current_file()
        if current is None:
            return None
        db = DuckStoreDB(str(current), read_only=True)
        try:
            return _read_meta(db, "main.store_meta")
        finally:
            db.close()

    def open_reader(self):
        current = self._current_file()
        return DuckStoreDB(str(current), read_only=True) if current else None

    def begin(self, keep=()):
        self.folder.mkdir(parents=True, exist_ok=True)
        current = self._current_file()
        for path in self.folder.glob("store-*.duckdb"):  # a killed refresh's file (we hold the lock)
            if current is None or (path != current and path.stat().st_mtime > current.stat().st_mtime):
                path.unlink(missing_ok=True)
                Path(str(path) + ".wal").unlink(missing_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self._next_path = self.folder / f"store-{stamp}-{os.getpid()}.duckdb"
        self.kept = ()
        # the live file's bytes are its whole state once checkpointed (no WAL beside it): copying
        # them costs a fraction of re-inserting the unchanged rows (bench/README.md)
        copy = bool(keep) and current is not None and not Path(str(current) + ".wal").exists()
        if copy:
            shutil.copyfile(current, self._next_path)
        db = DuckStoreDB(str(self._next_path))
        try:
            if copy:
                present = db.query("select table_name from information_schema.tables where table_schema = 'main'")
                for t in present["table_name"].to_list():
                    if t not in keep:
                        db.execute(f"drop table main.{_qi(t)}")
                self.kept = tuple(t for t in keep if t in present["table_name"].to_list())
            if current is not None:
                db.execute(f"attach '{str(current).replace(chr(39), chr(39) * 2)}' as prev (read_only)")
        except BaseException:
            self.abort(db)
            raise
        self._has_prev = current is not None
        return db

    def names(self, which):
        prefix = {"current": "main.", "next": "main.", "prev": "prev.main."}[which]
        return {t: f"{prefix}{t}" for t in TABLE_NAMES}

    def commit(self, db):
        db.execute("checkpoint")
        db.close()
        tmp = self.folder / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(self._next_path.name)
        os.replace(tmp, self.folder / "CURRENT")  # the switch: atomic on POSIX
        self._cleanup(keep={self._next_path.name})

    def abort(self, db):
        try:
            db.close()
        finally:
            for suffix in ("", ".wal"):
                Path(str(self._next_path) + suffix).unlink(missing_ok=True)

    def _cleanup(self, keep: set[str]) -> None:
        """Drop generations older than the previous one (a reader may still hold that one open;
        on POSIX an unlinked file stays readable for whoever has it open)."""
        files = sorted(self.folder.glob("store-*.duckdb"), key=lambda p: p.stat().st_mtime)
        older = [p for p in files if p.name not in keep]
        for p in older[:-1]:
            p.unlink(missing_ok=True)
            Path(str(p) + ".wal").unlink(missing_ok=True)

    def lock_path(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / "refresh.lock"

    def note_identity(self, identity):
        generation = self.generation()
        if generation is None:
            return
        tmp = self.folder / f"IDENTITY.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"generation": generation, "identity": identity}))
        os.replace(tmp, self.folder / "IDENTITY")

    def noted_identity(self):
        try:
            note = json.loads((self.folder / "IDENTITY").read_text())
        except (OSError, ValueError):
            return None
        # a note about an older generation says nothing about the live one
        return note.get("identity") if note.get("generation") == self.generation() else None


@dataclass
class SchemaLocation(Location):
    """A schema in a database the user names; tables swapped in one transaction."""

    url: str = ""
    schema: str = DEFAULT_SCHEMA

    def _db(self, read_only: bool = False) -> StoreDB:
        if self.url.startswith("duckdb"):
            path = self.url.split("///", 1)[1] if "///" in self.url else ""
            if not path or path == ":memory:":
                raise WarehouseError("--store: a DuckDB store needs a file path (duckdb:///path/store.duckdb)")
            if read_only and not Path(path).exists():
                return None
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            return DuckStoreDB(path, read_only=read_only)
        try:
            engine = sa.create_engine(self.url)
            return SqlaStoreDB(engine, reader=read_only)
        except Exception as exc:  # noqa: BLE001 - any driver error: the store cannot be opened
            raise WarehouseError(f"--store: cannot open {redact_url(self.url)}: {_first_line(exc)}") from None

    def _exists(self, db: StoreDB) -> bool:
        found = db.query("select count(*) as n from information_schema.tables where table_schema = :s "
                         "and table_name = 'store_meta'", {"s": self.schema})
        return int(found["n"][0]) > 0

    def meta(self):
        db = self.open_reader()
        if db is None:
            return None
        try:
            return _read_meta(db, self.names("current")["store_meta"])
        finally:
            db.close()

    def open_reader(self):
        db = self._db(read_only=True)
        if db is None:
            return None
        if not self._exists(db):
            db.close()
            return None
        return db

    def begin(self, keep=()):
        db = self._db()
        db.execute(f"create schema if not exists {_qi(self.schema)}")
        for t in TABLE_NAMES:  # leftovers of a refresh that was killed
            db.execute(f"drop table if exists {self.names('next')[t]}")
        self._has_prev = self._exists(db)
        if isinstance(db, SqlaStoreDB):
            db.conn.commit()
        return db

    def names(self, which):
        suffix = "__next" if which == "next" else ""
        return {t: f"{_qi(self.schema)}.{_qi(t + suffix)}" for t in TABLE_NAMES}

    def commit(self, db):
        cur, nxt = self.names("current"), self.names("next")
        statements = []
        for t in TABLE_NAMES:
            statements.append(f"drop table if exists {cur[t]}")
            statements.append(f"alter table {nxt[t]} rename to {_qi(t)}")
        if isinstance(db, SqlaStoreDB):
            db.conn.commit()  # the builds so far
            with db.conn.begin():
                for s in statements:
                    db.conn.execute(sa.text(s))
        else:
            db.execute("begin transaction")
            try:
                for s in statements:
                    db.execute(s)
                db.execute("commit")
            except Exception:
                db.execute("rollback")
                raise
        db.close()

    def abort(self, db):
        try:
            if isinstance(db, SqlaStoreDB):
                db.conn.rollback()
            for t in TABLE_NAMES:
                db.execute(f"drop table if exists {self.names('next')[t]}")
            if isinstance(db, SqlaStoreDB):
                db.conn.commit()
        finally:
            db.close()

    def lock_path(self):
        folder = store_dir() / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(f"{self.url}|{self.schema}".encode()).hexdigest()[:16]
        return folder / f"{key}.lock"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _read_meta(db: StoreDB, table: str) -> dict | None:
    try:
        rows = db.query(f"select meta from {table}")
    except Exception:  # noqa: BLE001 - a store from another layout: treated as absent
        return None
    return json.loads(rows["meta"][0]) if rows.height else None


def location(wh: Warehouse, store_url: str | None = None) -> Location:
    """The store of this warehouse: `store_url` (with ?schema=NAME) or the default folder."""
    if store_url:
        from metrics import spark

        if spark.is_spark_url(store_url):  # docs/decisions.md 64
            raise WarehouseError("--store: a store lives in DuckDB or PostgreSQL (a schema you name), not in Spark; "
                                 "a Spark warehouse is read by the refresh, which writes the store there")
        base, _, query_text = store_url.partition("?")
        query = dict(parse_qsl(query_text))
        schema = query.pop("schema", DEFAULT_SCHEMA)
        clean = base + (f"?{urlencode(query)}" if query else "")
        if not schema.replace("_", "").isalnum():
            raise WarehouseError(f"--store: schema must be letters, digits and underscores: {schema!r}")
        if clean.rstrip("/") == wh.url.rstrip("/") and schema == (wh.schema or "main"):
            raise WarehouseError("--store: the store cannot be the warehouse's own schema (the warehouse is read-only)")
        return SchemaLocation(label=f"{redact_url(clean)} schema {schema}", url=clean, schema=schema)
    folder = store_dir() / warehouse_key(wh)
    return GenerationsLocation(label=str(folder), folder=folder)


# -- reading: a Warehouse whose final models are the stored tables -----------------------------

@dataclass
class StoreWarehouse(Warehouse):
    """The stored state read as a warehouse: reports, facts, spans, drill-downs and the WBR
    compile unchanged, with the final models read from the store's tables.

    The staging relations are stand-ins: the one thing reports read from staging is the
    earliest `created_at` (where the list of backlog periods starts) and the as-of time,
    both recorded at refresh. Data checks need the raw rows: they run on the warehouse, except
    the per-appeal ones, whose hits the store keeps (`check_hits`).
    """

    db: StoreDB | None = None
    meta: dict = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    # refresh: every staged answer computed, by its key, to keep in the state being written
    recorded: dict | None = None
    _kept: dict | None = None  # the kept answers of this state (metrics.report_cache), read once
    _span_facts: tuple[str, ...] | None = None
    _qa_facts: tuple[str, ...] | None = None

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def query_staged(self, extra_ctes, select, params, stage):
        """A kept answer when the store holds this very query's (a default view's report,
        computed at refresh), else the query."""
        from metrics import report_cache

        key = report_cache.key(extra_ctes, select, params, stage)
        kept = self._kept_answers().get(key)
        if kept is not None:
            return report_cache.decode(kept)
        out = super().query_staged(extra_ctes, select, params, stage)
        if self.recorded is not None:
            self.recorded[key] = out
        return out

    def span_facts(self) -> tuple[str, ...]:
        """The SPAN_FACTS the stored spans carry (a server store's spans carry none)."""
        if self._span_facts is None:
            columns = self.db.query(f"select * from {self.tables['spans']} where 1 = 0").columns
            self._span_facts = tuple(c for c in SPAN_FACTS if c in columns)
        return self._span_facts

    def qa_facts(self) -> tuple[str, ...]:
        """The QA_FACTS the stored QA reviews carry (none: a server store's, or one written before)."""
        if self._qa_facts is None:
            columns = self.db.query(f"select * from {self.tables['qa_reviews']} where 1 = 0").columns
            self._qa_facts = tuple(c for c in QA_FACTS if c in columns) if "in_facts" in columns else ()
        return self._qa_facts

    def kept_key_values(self, as_of_param):
        self._check_as_of(as_of_param)
        return dict(self.meta.get("key_values") or {})

    def kept_specialist_names(self, as_of_param):
        self._check_as_of(as_of_param)
        names = self.meta.get("specialist_names")  # None: a state written before they were kept
        return None if names is None else dict(names)

    def _kept_answers(self) -> dict[str, str]:
        if self._kept is None:
            table = self.tables.get("report_cache")
            kept = self.db.query(f"select report_key, answer from {table}") if self.meta.get("reports_kept") else None
            self._kept = {} if kept is None else dict(zip(kept["report_key"], kept["answer"], strict=True))
        return self._kept

    @property
    def as_of(self) -> datetime:
        return datetime.fromisoformat(self.meta["as_of"])

    def columns(self):
        return {t: [c.name for c in TABLES[t].columns] for t in self.meta["tables_present"]}

    def has_table(self, name):
        return name in self.meta["tables_present"]

    def validate(self):
        return None

    def unknown_timezones(self):
        return list(self.meta.get("unknown_timezones", []))

    def row_counts(self):
        return dict(self.meta.get("row_counts", {}))

    def staging_ctes(self):
        ctes = {}
        for table in TABLES.values():
            cols = []
            for col in table.columns:
                cast = SQL_CAST[col.type]
                if table.name == "appeals" and col.name == "created_at":
                    cols.append(f"cast(:store_first_created_at as {cast}) as created_at")
                elif table.name == "appeal_events" and col.name == "occurred_at":
                    cols.append(f"cast(:store_as_of as {cast}) as occurred_at")
                else:
                    cols.append(f"cast(null as {cast}) as {col.name}")
            one_row = (table.name == "appeals" and self.meta.get("first_created_at")) or table.name == "appeal_events"
            ctes[f"stg_{table.name}"] = f"select {', '.join(cols)}" + ("" if one_row else " where 1 = 0")
        return ctes

    def materialize(self, as_of_param):
        self._check_as_of(as_of_param)
        return True

    def _check_as_of(self, as_of_param: str | None) -> None:
        if as_of_param is not None and as_of_param != self.meta["as_of"]:
            raise WarehouseError(f"--as-of: the store holds as_of {self.meta['as_of']}, not {as_of_param}; "
                                 "use --no-store for another instant")

    def model_overrides(self, as_of_param):
        return {model: f"select * from {self.tables[t]}" for model, t in MODEL_TABLES.items()}

    def compose(self, extra_ctes, select, params=None):
        from metrics import models

        self._check_as_of((params or {}).get("as_of"))
        return models.with_models(self.staging_ctes(), extra_ctes, select, overrides=self.model_overrides(None))

    def query(self, sql, params=None):
        params = {**self.adapter_params, **(params or {})}
        return self.db.query(sql, params)

    @contextlib.contextmanager
    def _duckdb_cursor(self):
        with self.db.cursor() as cur:  # one cursor for a staged query: its temp tables are its own
            yield cur


def open_store(wh: Warehouse, loc: Location) -> StoreWarehouse | None:
    """The store's current state as a StoreWarehouse, or None when there is none yet."""
    db = loc.open_reader()
    if db is None:
        return None
    meta = _read_meta(db, loc.names("current")["store_meta"])
    if meta is None:
        db.close()
        return None
    return reader_of(wh, db, meta, {t: loc.names("current")[t] for t in TABLE_NAMES})


def reader_of(wh: Warehouse, db: StoreDB, meta: dict, tables: dict[str, str]) -> StoreWarehouse:
    """A stored state (`tables` of `db`, described by `meta`) read as a warehouse."""
    reader = StoreWarehouse(url=wh.url, schema=wh.schema, adapter_name=wh.adapter_name, engine=None, db=db,
                            meta=meta, tables=tables)
    reader.adapter_params = {"store_as_of": meta["as_of"], "store_first_created_at": meta.get("first_created_at")}
    return reader
