"""Bring the store (metrics.store) up to date with the warehouse, recomputing only what can
have changed since the last refresh.

What is recomputed, and why (metrics.md):
- appeals whose rows changed: new appeals, new or late events, corrected rows, deleted rows.
  A fingerprint is a sum of row hashes over the staged `appeals` and `appeal_events` rows,
  and their count. The store keeps one per day (a row's day: its created_at or occurred_at)
  and one per day and appeal key; a refresh computes the days', and for the days whose
  fingerprint moved, the days-and-appeals' to compare with the stored ones;
- appeals sharing an event id with a changed appeal (now or at the last refresh): the
  engine keeps the earliest row of an event id across appeals, so one appeal's new row can
  hide another appeal's event;
- appeals whose answer moves with as_of alone, once as_of passes the stored instant
  `store_valid_until`: an SLA still `pending` turns `breached` once as_of passes its deadline
  (the earlier pending deadline); a user wait still running (it ends at as_of) and a
  business-clock deadline beyond the clock horizon (35 days after as_of: null until the
  horizon reaches it) move with any as_of (their instant is the last refresh's as_of).
  Everything else is fixed once its events are (an open appeal whose SLAs are decided or
  n/a included: no other facts column reads as_of): a breached SLA stays breached as
  as_of grows, a withdrawn appeal's SLA depends on its withdrawal, closed stretches stay;
- appeals whose owner's `specialists` row changed (name, pod, site, team lead), also an owner
  of one of their open stretches (spans carry the stretch owner's pod, site, lead), and appeals
  whose `enforcements` row changed (policy, source, enforced_by): targeted by per-id
  fingerprints;
- QA reviews are a whole table filtered by as_of: recomputed whenever anything changed;
- enforcements (the appeal-rate denominator): in the default store, the ids whose per-id
  fingerprint moved or with a row enforced after the last as_of, up to this one (an id enters
  once as_of passes its first row); a schema store (`--store`) recomputes the whole table.
The default views' reports kept in the store (metrics.report_cache) are computed again only in
the weeks where a recomputed appeal counts differently, the weeks since the last as_of and the
weeks of changed enforcement rows; their other rows are the last state's (_previous_answers).
A full rebuild happens with --full, on a new store, and when `sla_policies`,
`business_hours` or `holidays` change (every clock and deadline may move), when the engine
version changes (the model SQL, the catalog's fills, DuckDB's hash), when the set of
optional tables changes, or when as_of moved backwards (rows deleted at the end).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from metrics import api, checks, dashboard, models, report_cache
from metrics import dialect as sql_dialect
from metrics.catalog import resolve_keys
from metrics.contract import TABLES
from metrics.periods import next_period, truncate
from metrics.store import (
    APPEAL_TABLES,
    MODEL_TABLES,
    QA_FACTS,
    SPAN_FACTS,
    STORED_ORDER,
    DuckStoreDB,
    Location,
    StoreDB,
    StoreWarehouse,
    location,
    open_store,
    reader_of,
)
from metrics.warehouse import (
    Warehouse,
    WarehouseError,
    _duckdb_params,
    bound_duckdb,
    file_identity,
    in_slice,
    sql_literal,
    sqla_batches,
)

LAYOUT_VERSION = "6"  # 4: the spans carry SPAN_FACTS; 5: fingerprints per day, and per day and appeal;
# 6: the day fingerprints hash the rows as read (_fingerprint_sql)
WHOLE_TABLES = ("sla_policies", "business_hours", "holidays")  # a change rebuilds everything
PRIME = 4611686018427387847  # fingerprint sums are kept modulo this (no overflow on big tables)
Progress = Callable[[float, str], None]


class RefreshError(Exception):
    """A refresh that could not finish; the previous store is untouched."""


class RefreshBusy(RefreshError):
    """Another process is refreshing this store right now."""


@dataclass
class RefreshResult:
    mode: str  # "full" | "incremental" | "unchanged"
    recomputed: int
    total: int
    as_of: datetime
    reason: str = ""
    seconds: float = 0.0
    note: str = ""
    phases: dict | None = None

    def line(self) -> str:
        mode = "incremental" if self.mode == "unchanged" else self.mode
        return f"refresh: {mode}, {self.recomputed} appeals recomputed of {self.total}, as_of {self.as_of.isoformat()}"


def engine_version() -> str:
    """Changes whenever stored rows could differ for the same warehouse rows."""
    import duckdb

    text = json.dumps([LAYOUT_VERSION, duckdb.__version__, sorted(models.model_sql().items())])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- running SQL in the warehouse with id sets bound in ---------------------------------------

class Compute:
    """The warehouse side of a refresh: read-only queries, id sets as a registered Arrow table
    (DuckDB), an array bind (PostgreSQL) or a temp view of this Spark session (Spark)."""

    def __init__(self, wh: Warehouse):
        self.wh = wh
        self.duck = None
        self.spark = None
        self._n = 0
        self._own_session = False
        self._views: list[str] = []  # Spark temp views this refresh made (dropped at close)
        # an incremental refresh's enforcement ids whose enforcements_clean row may differ (_scope)
        self.enforcement_ids: pl.Series | None = None
        self.recomputed: dict[str, str] = {}  # the tables _build kept recomputed rows in, by stored table
        self.pooled: set[str] = set()  # the appeals whose event rows _events_pool holds (DuckDB)
        if wh.dialect == "spark":
            self.spark = wh.engine
        if wh.dialect == "duckdb":
            # the warehouse's own session: a full build materializes the models there, step by
            # step (Warehouse.materialize), instead of one statement over the whole CTE chain
            with wh._session_lock:
                if wh._session is None:
                    wh._session = wh.engine.raw_connection()
                    self._own_session = True
            self.duck = wh._session.driver_connection
            bound_duckdb(self.duck, WAREHOUSE_SHARE)

    def release_models(self) -> bool:
        """End the session this refresh opened (its models' tables, memory and file go with
        it); False when the session is the warehouse's own (it stays)."""
        if not self._own_session:
            return False
        with self.wh._session_lock:
            self.wh.end_session()
        self._own_session = False
        self.duck = None
        return True

    def close(self) -> None:
        self.release_models()
        for view in self._views:  # their checkpointed rows are freed with the view
            self.spark.spark.catalog.dropTempView(view)
        self._views.clear()

    def _view_name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}_{id(self):x}_{self._n}"  # one Spark session can serve several refreshes

    def id_set(self, ids, params: dict) -> str:
        """A relation `(id)` holding these ids, for `x in (select id from ...)`."""
        series = ids.cast(pl.Utf8).rename("id") if isinstance(ids, pl.Series) else pl.Series("id", ids, dtype=pl.Utf8)
        if self.spark is not None:
            name = self._view_name("refresh_ids")
            self.spark.spark.createDataFrame(series.to_frame().to_arrow(), schema="id string") \
                .createOrReplaceTempView(name)
            self._views.append(name)
            return f"select id from {name}"
        self._n += 1
        name = f"refresh_ids_{self._n}"
        if self.duck is not None:
            self.duck.register(name, series.to_frame().to_arrow())
            return f"select id from {name}"
        params[name] = series.to_list()
        return f"select unnest(cast(:{name} as text[])) as id"

    def checkpoint_scoped(self, staging: dict[str, str], scope: str, params: dict) -> dict[str, str]:
        """Spark, an incremental build: the scoped staging rows and then every model up to
        status_spans, each once as a checkpointed temp view (Spark would otherwise rerun a
        CTE at every reference, as Warehouse.materialize says); model -> its view."""
        params = {**self.wh.adapter_params, **params}
        staged = dict(staging)
        for name in ("stg_appeals", "stg_appeal_events"):
            view = self._view_name(f"refresh_{name}")
            # the scope and the shared event ids its appeals carry (_staging_with reads both)
            self.spark.checkpoint(view, f"with refresh_scope as ({scope}), refresh_shared as "
                                        f"({staging['refresh_shared']}) {staging[name]}", params)
            self._views.append(view)
            staged[name] = f"select * from {view}"
        built = self.wh.checkpoint_models(staged, params, self._view_name("refresh"), upto="status_spans")
        self._views.extend(body.split()[-1] for body in built.values())
        return built

    def frame(self, sql: str, params: dict) -> pl.DataFrame:
        params = {**self.wh.adapter_params, **params}
        if self.duck is not None:
            native, p = _duckdb_params(sql, params)
            return pl.from_arrow(self.duck.sql(native, params=p or None).to_arrow_table())
        return _typed(self.wh.query(sql, params))

    def stream(self, sql: str, params: dict):
        """Rows to copy into the store, as Arrow batches (memory bounded): DuckDB's own reader,
        or frames of a server-side cursor (SQLAlchemy warehouses); a frame from Spark."""
        params = {**self.wh.adapter_params, **params}
        if self.duck is not None:
            native, p = _duckdb_params(sql, params)
            return self.duck.sql(native, params=p or None).to_arrow_reader(200_000)
        if self.wh.dialect == "spark":
            return _typed(self.wh.query(sql, params))
        import pyarrow as pa

        frames = (_typed(frame).to_arrow() for frame in sqla_batches(self.wh, sql, params))
        first = next(frames)  # sqla_batches yields at least one frame: its schema is every frame's

        def batches():
            yield from first.to_batches()
            for table in frames:
                yield from table.cast(first.schema).to_batches()

        return pa.RecordBatchReader.from_batches(first.schema, batches())


def _known_types() -> dict[str, pl.DataType]:
    ts = pl.Datetime("us", "UTC")
    return {**api.FACTS_COLUMNS, **api.WIDE_COLUMNS, "open_from": ts, "open_to": ts, "reviewed_at": ts,
            "enforced_at": ts, "decision_correct": pl.Boolean, "score": pl.Float64, "store_valid_until": ts,
            "fp": pl.Int64, "n": pl.Int64, "day": pl.Int64}


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows read through SQLAlchemy carry no types where a column is all null: give every
    column its engine type (text for the unknown), so the store's tables are typed alike."""
    known = _known_types()
    exprs = []
    for name, dtype in frame.schema.items():
        want = known.get(name, pl.Utf8 if dtype == pl.Null else None)
        col = pl.col(name)
        if want is None or dtype == want:
            exprs.append(col)
        elif isinstance(want, pl.Datetime) and isinstance(dtype, pl.Datetime):
            exprs.append((col.dt.replace_time_zone("UTC") if dtype.time_zone is None
                          else col.dt.convert_time_zone("UTC")).dt.cast_time_unit("us"))
        else:
            exprs.append(col.cast(want))
    return frame.select(exprs)


# A refresh runs two DuckDB connections in one process (the warehouse side computes, the store
# side writes what it streams): their limits share the process budget, APPEALS_DUCKDB_MEMORY_LIMIT,
# with the rest left for Python (fingerprints, id sets, Arrow batches) (bench/README.md).
WAREHOUSE_SHARE = 0.5
STORE_SHARE = 0.15


def bound_memory(con) -> None:
    """The store side's DuckDB: its share of the process budget, spilling to the temp folder."""
    bound_duckdb(con, STORE_SHARE)


def _row_hash(dialect: str, tag: str, cols: list[str]) -> str:
    """A 52-bit hash of one staged row (tagged by table), summed per key: order-free."""
    return sql_dialect.expand(f"{{row_hash('{tag}'; {', '.join(cols)})}}", dialect)


def _hash_sum(dialect: str, h: str) -> str:
    """sum(h) modulo PRIME, exact at any row count."""
    return sql_dialect.expand(f"{{hash_sum({h}; {PRIME})}}", dialect)


def _staging_with(wh: Warehouse, scope: str | None, shared: str | None) -> dict[str, str]:
    """The warehouse's staging CTEs, restricted to the appeals in `scope` when given: their
    appeal rows, every event row whose event id one of their rows carries (the engine keeps
    the earliest row of an id across appeals, so those rows must compete), and every
    enforcement row of the ids they name.

    `shared`: the event ids carried by more than one appeal (null appeal: its own key) that a
    scope appeal carries. An id a scope appeal carries is either carried by that appeal only
    (its rows are the scope's own) or shared, so one pass over the events finds the same rows
    as asking, per row, whether a scope appeal carries its id (a second pass)."""
    if scope is None:
        return wh.staging_ctes()
    # on the source rows, with staging's own text expression: the other columns are staged
    # for the kept rows only (staging every event row first cost most of the pass)
    appeal, event = wh.staged_text("src.appeal_id"), wh.staged_text("src.event_id")
    st = wh.staging_ctes(src_filter={
        "appeals": f"{appeal} in (select id from refresh_scope)",
        "appeal_events": f"{event} is not null and ({appeal} in (select id from refresh_scope) "
                         f"or {event} in (select id from refresh_shared))",
        # the rows of the enforcement ids the scope's appeals name, every row of each (appeal_facts
        # ranks an id's rows): ranking the whole table took 5 of the 6.6 s of appeal_facts for
        # 188,543 appeals at 10M (stg_appeals is the scope's, staged before it)
        "enforcements": f"{wh.staged_text('src.enforcement_id')} in (select enforcement_id from stg_appeals)"})
    return {"refresh_scope": scope, "refresh_shared": shared, **st}


FACTS_SELECT_TEMPLATE = """
select f.*, a.enforcement_id as store_enforcement_id,
    case
        when coalesce(w.is_wait_running, false)
             or (f.sla_clock = 'business' and ((f.ftr_target_hours > 0 and f.ftr_deadline_at is null)
                                               or (f.ttr_target_hours > 0 and f.ttr_deadline_at is null)))
            then cast(:as_of as timestamp with time zone)
        when f.ftr_sla = 'pending' or f.ttr_sla = 'pending'
            then coalesce(least(case when f.ftr_sla = 'pending' then f.ftr_deadline_at end,
                                case when f.ttr_sla = 'pending' then f.ttr_deadline_at end),
                          cast(:as_of as timestamp with time zone))
    end as store_valid_until
from appeal_facts as f
inner join appeals_base as a on a.appeal_id = f.appeal_id
left join (
    -- a wait may still run at as_of: the latest request is not before the latest end event
    -- (ties included: a superset is safe, it only means recomputing)
    select appeal_id,
        max(case when event_type = 'evidence_requested' then occurred_at end)
            >= coalesce(max(case when event_type <> 'evidence_requested' then occurred_at end),
                        cast('0001-01-01 00:00:00+00' as timestamp with time zone)) as is_wait_running
    from events_effective
    where event_type in ('evidence_requested', 'evidence_received', 'decided', 'withdrawn'){events_slice}
    group by appeal_id
) as w on w.appeal_id = f.appeal_id{facts_slice}
"""
FACTS_SELECT = FACTS_SELECT_TEMPLATE.format(events_slice="", facts_slice="")


def facts_slices(n: int):
    """FACTS_SELECT in n slices of appeals (DuckDB's hash), together the same rows: the select
    joins 10M facts, appeals and grouped events at once, and ran out of a 1 GiB limit in a
    10M full build (bench/README.md); a slice holds a 1/n share of each."""
    if n <= 1:
        yield FACTS_SELECT
        return
    for i in range(n):
        yield FACTS_SELECT_TEMPLATE.format(events_slice=f" and {in_slice('appeal_id', n, i)}",
                                           facts_slice=f"\nwhere {in_slice('f.appeal_id', n, i)}")


def _cols(table: str) -> list[str]:
    return [c.name for c in TABLES[table].columns]


def _with_staging(wh: Warehouse, src_filter: dict[str, str] | None = None) -> str:
    return "with " + ", ".join(f"{k} as ({v})" for k, v in wh.staging_ctes(src_filter).items()) + "\n"


def _whole(cx: Compute, wh: Warehouse, tables=TABLES) -> dict[str, list]:
    """One fingerprint per table (a sum of row hashes, and the row count): a single pass
    without grouping, enough to tell that nothing changed."""
    parts = " union all ".join(
        f"select '{t}' as t, {_hash_sum(wh.dialect, _row_hash(wh.dialect, 't', _cols(t)))} as fp, "
        f"count(*) as n from stg_{t}" for t in tables)
    whole = cx.frame(_with_staging(wh) + parts, {})
    return {r["t"]: [r["fp"], r["n"]] for r in whole.iter_rows(named=True)}


# The rows behind each family of day-bucketed fingerprints: (table, the row's key column, the
# instant that gives the row its day, the hash's tag). A family's fingerprints are kept per day
# (fp_{family}_by_day) and per day and key (fp_{family}); a refresh computes the days' and, for
# the days whose fingerprint moved, the days-and-keys' (_keys_changed).
FINGERPRINTED = {
    "appeals": (("appeals", "appeal_id", "created_at", "a"),
                ("appeal_events", "appeal_id", "occurred_at", "e")),
    "enforcements": (("enforcements", "enforcement_id", "enforced_at", "t"),),
}
# keys that can be null (their rows count in the table's whole fingerprint only, _whole); a
# filter on the never-null appeal key cost a pass over every event row its trimmed text. A null
# appeal key is the key '' (the rows of appeals without an id change together)
NULLABLE_KEYS = ("enforcement_id",)


def _fingerprint_sql(wh: Warehouse, family: str, by_key: bool, days: list[int] | None = None) -> str:
    """A family's fingerprints per day (sql_dialect.day_number of the row's instant), and with
    `by_key` per day and key (a null enforcement id has none: its rows count in the whole
    fingerprint only, as before); `days`: only the rows of these days.

    The day and the key are the staged values (the ones staging, the models and _on_days
    read); the hash is of the row as read, before staging: a staged row is a function of it, so
    a row whose staged values change has a new hash (a change staging would undo, spaces
    around a text, only recomputes). Staging ten text columns of every event row first cost a
    third of the pass (at 10M, 6.6-7.3 s → 4.8 s for the events)."""
    d = wh.dialect
    where = _on_days(wh, family, days) if days is not None else {}
    parts = []
    for table, key_col, instant, tag in FINGERPRINTED[family]:
        if not wh.has_table(table):
            parts.append("select cast(null as bigint) as day, cast(null as varchar) as id, cast(null as bigint) as h "
                         "where 1 = 0")
            continue
        have = set(wh.columns().get(table, [])) if table not in wh.adapter_sql else set(_cols(table))
        raw = [f'src."{c}"' for c in _cols(table) if c in have]
        key = wh.staged_text(f"src.{key_col}")
        conds = [f"{key} is not null"] if key_col in NULLABLE_KEYS else []
        key = key if key_col in NULLABLE_KEYS else f"coalesce({key}, '')"
        conds += [f"({where[table]})"] if table in where else []
        parts.append(f"select {sql_dialect.day_number(wh.staged_value(table, instant), d)} as day, {key} as id, "
                     f"{_row_hash(d, tag, raw)} as h from ({wh.source(table)}) as src"
                     + (f" where {' and '.join(conds)}" if conds else ""))
    key, grouped = (", id", "day, id") if by_key else ("", "day")
    return f"select day{key}, {_hash_sum(d, 'h')} as fp, count(*) as n from ({' union all '.join(parts)}) as r group by {grouped}"


def _on_days(wh: Warehouse, family: str, days: list[int]) -> dict[str, str]:
    """Staging filters keeping a family's source rows of these days, decided before the other
    columns are staged: at 10M the two changed days' rows took 7 s as a filter on the staged
    rows, every row's text staged and hashed first. The instant's range of the days comes
    first, on the column as read (before staging's sanity range): on a timestamp column it is a
    filter the scan applies, skipping the row groups of other days (DuckDB keeps each one's min
    and max). Without it when a day is NO_DAY (null or out-of-range instants: any range)."""
    out = {}
    for table, _key, instant, _tag in FINGERPRINTED[family]:
        cond = f"{sql_dialect.day_number(wh.staged_value(table, instant), wh.dialect)} in ({_day_list(days)})"
        if days and sql_dialect.NO_DAY not in days:
            value = wh.typed(table, TABLES[table].column(instant), f'src."{instant}"')
            lo, hi = (datetime.fromtimestamp(d * 86400, UTC).isoformat() for d in (min(days), max(days) + 1))
            cond = (f"{value} >= cast('{lo}' as timestamp with time zone) "
                    f"and {value} < cast('{hi}' as timestamp with time zone) and {cond}")
        out[table] = cond
    return out


def _day_list(days: list[int]) -> str:
    """Day numbers (computed here, never user input) as an SQL list; `null` matches no row."""
    return ", ".join(str(int(x)) for x in days) or "null"


def _whole_of_appeals(db: StoreDB, by_day: str) -> dict[str, list]:
    """The whole fingerprint of appeals and appeal_events together: the sum of the stored
    per-day ones (a DuckDB warehouse: one pass over the events where a whole pass and a
    grouped pass took two, bench/README.md)."""
    row = db.query(f"select cast(coalesce(sum(fp), 0) % {PRIME} as bigint) as fp, "
                   f"cast(coalesce(sum(n), 0) as bigint) as n from {by_day}").row(0)
    return {"appeals+appeal_events": [int(row[0]), int(row[1])]}


def _fingerprints(cx: Compute, wh: Warehouse, db: StoreDB, nxt: dict[str, str], full: bool) -> None:
    """Fingerprints streamed into the new generation's tables (compared there, in SQL, not held
    in Python). A full build keeps each family's per day and key, and sums those per day; a
    refresh computes them per day only, a pass that groups the 70M rows of 10M appeals into a
    few hundred groups instead of 20M, and per day and key only on the days whose fingerprint
    moved (_keys_changed). Specialists (a few rows): per id."""
    d = wh.dialect
    for family in FINGERPRINTED:
        by_key, by_day = nxt[f"fp_{family}"], nxt[f"fp_{family}_by_day"]
        if full:
            db.write(by_key, cx.stream(_fingerprint_sql(wh, family, by_key=True), {}), create=True)
            db.execute(f"create table {by_day} as select day, cast(sum(fp) % {PRIME} as bigint) as fp, "
                       f"cast(sum(n) as bigint) as n from {by_key} group by day")
        else:
            db.write(by_day, cx.stream(_fingerprint_sql(wh, family, by_key=False), {}), create=True)
    db.write(nxt["fp_specialists"], cx.stream(_with_staging(wh) + (
        f"select specialist_id as id, {_hash_sum(d, _row_hash(d, 't', _cols('specialists')))} as fp, "
        "count(*) as n from stg_specialists where specialist_id is not null group by specialist_id"), {}), create=True)


def _keys_changed(cx: Compute, db: StoreDB, prev: dict[str, str], nxt: dict[str, str], family: str,
                  kept_tables: tuple[str, ...]) -> tuple[list[int], pl.Series]:
    """The days whose fingerprint moved, and the keys with a row new, changed or gone on one of
    them: their per-day-and-key fingerprints now against the stored ones. Brings next's
    per-day-and-key table up to date (the other days' rows are unchanged)."""
    name = f"fp_{family}"
    days = [int(x) for x in _changed(db, nxt[f"{name}_by_day"], prev[f"{name}_by_day"], "day").to_list()]
    table, listed = nxt[name], _day_list(days)
    if name in kept_tables:  # next already holds the previous rows
        db.execute(f"delete from {table} where day in ({listed})")
    else:
        db.execute(f"create table {table} as select * from {prev[name]} where day not in ({listed})"
                   if days else f"create table {table} as select * from {prev[name]}")
    if not days:
        return days, pl.Series("id", [], dtype=pl.Utf8)
    fresh = _sibling(table, "_changed")
    db.execute(f"drop table if exists {fresh}")  # left by a refresh that was killed (a schema store)
    db.write(fresh, cx.stream(_fingerprint_sql(cx.wh, family, by_key=True, days=days), {}), create=True)
    rows = db.query(
        f"select distinct coalesce(n.id, o.id) as k from {fresh} as n full join "
        f"(select * from {prev[name]} where day in ({listed})) as o on o.day = n.day and o.id = n.id "
        "where n.fp is null or o.fp is null or n.fp <> o.fp or n.n <> o.n")
    db.execute(f"insert into {table} select * from {fresh}")
    db.execute(f"drop table {fresh}")
    return days, rows["k"].cast(pl.Utf8).rename("id")


def _changed(db: StoreDB, new: str, old: str, key: str) -> pl.Series:
    """Keys whose fingerprint or row count differs between two stored fingerprint tables
    (present in one only included)."""
    rows = db.query(
        f"select coalesce(n.{key}, o.{key}) as k from {new} as n full join {old} as o on o.{key} = n.{key} "
        f"where n.fp is null or o.fp is null or n.fp <> o.fp or n.n <> o.n")
    return rows["k"].cast(pl.Utf8).rename(key)


# -- the refresh --------------------------------------------------------------------------------

def refresh(warehouse=None, store_url: str | None = None, full: bool = False,
            progress: Progress | None = None, report_zones: list[str] | None = None) -> RefreshResult:
    """Build or update the store of `warehouse`. Raises RefreshError (previous store intact).
    `report_zones`: the reporting zones whose default views are computed and kept in the store
    (metrics.report_cache; default: APPEALS_TZ and UTC)."""
    t0 = time.perf_counter()
    phases: dict[str, float] = {}
    last = [t0, "start"]

    def say(fraction: float, message: str) -> None:  # progress, and seconds per phase
        now = time.perf_counter()
        phases[last[1]] = round(phases.get(last[1], 0.0) + now - last[0], 3)
        last[:] = [now, message]
        if progress is not None:
            progress(fraction, message)

    wh = api.open_warehouse(warehouse)
    loc = location(wh, store_url)
    with _Lock(loc) as lock:
        try:
            result = _refresh(wh, loc, full, say, report_zones)
        except (WarehouseError, RefreshError):
            raise
        except Exception as exc:  # noqa: BLE001 - one line; the previous store is still the live one
            lines = str(exc).strip().splitlines()
            raise RefreshError(f"{type(exc).__name__}: {lines[0] if lines else ''}; {_kept(loc)}") from exc
        result.note = lock.note
    result.seconds = time.perf_counter() - t0
    result.phases = phases
    return result


def _refresh(wh: Warehouse, loc: Location, full: bool, say: Progress, report_zones: list[str] | None) -> RefreshResult:
    prev = loc.meta()
    # taken before anything is read: a file written during this refresh no longer matches it
    identity = _unchanged_file_identity(wh)
    zones = report_zones or report_cache.default_zones()
    reports_version = _reports_version(wh, loc, prev)
    if (not full and identity is not None and prev is not None and prev.get("engine_version") == engine_version()
            and prev.get("reports_version") == reports_version
            and identity in (prev.get("file_identity"), loc.noted_identity())):
        return RefreshResult("unchanged", 0, int(prev.get("appeals", 0)), datetime.fromisoformat(prev["as_of"]),
                             "the warehouse file is unchanged since the last refresh")
    say(0.02, "Reading the warehouse's as-of time")
    as_of = api.default_as_of(wh)
    as_of_p = api.as_of_param(as_of)
    params = {"as_of": as_of_p}
    cx = Compute(wh)
    cx.as_of_p = as_of_p
    try:
        say(0.05, "Fingerprinting the warehouse tables")
        # A DuckDB warehouse's appeals and events are read once, for the per-day fingerprints in
        # the store, whose sum is their whole one. Other warehouses take a whole pass first, so
        # that finding nothing changed (the CLI's every call) writes nothing. (A DuckDB file that
        # did not change is not read at all: _unchanged_file_identity.)
        per_appeal_first = cx.duck is not None
        whole = _whole(cx, wh, [t for t in TABLES if not (per_appeal_first and t in ("appeals", "appeal_events"))])
        present = sorted(t for t in TABLES if wh.has_table(t))
        version = engine_version()
        reason = _full_reason(full, prev, version, present, whole, as_of)

        def unchanged() -> RefreshResult | None:
            if reason or prev["as_of"] != as_of_p or prev["whole"] != whole:
                return None
            if prev.get("reports_version") != reports_version:  # kept again, computed whole
                return None
            if identity is not None:
                loc.note_identity(identity)  # the next look needs no reading while the file stays as it is
            return RefreshResult("unchanged", 0, int(prev.get("appeals", 0)), as_of, "nothing changed")

        if not per_appeal_first and (result := unchanged()) is not None:
            return result
        fps = {"whole": whole}
        first = cx.frame(
            models.with_models(wh.staging_ctes(), None, "select min(created_at) as first_at from stg_appeals "
                               "where created_at <= cast(:as_of as timestamp with time zone)", dialect=wh.dialect), params)["first_at"][0]
        meta = {
            "as_of": as_of_p, "first_created_at": first.astimezone(UTC).isoformat() if first else None,
            "engine_version": version, "tables_present": present, "whole": whole,
            "unknown_timezones": wh.unknown_timezones(), "warehouse": _redacted(wh), "file_identity": identity,
            "refreshed_at": datetime.now(UTC).isoformat(),
        }
        db = loc.begin(keep=() if reason else (*APPEAL_TABLES, "enforcements", *(f"fp_{f}" for f in FINGERPRINTED)))
        try:
            prev_names, next_names = loc.names("prev"), loc.names("next")
            say(0.12, "Fingerprinting appeals and events")
            _fingerprints(cx, wh, db, next_names, full=bool(reason))
            if per_appeal_first:
                whole.update(_whole_of_appeals(db, next_names["fp_appeals_by_day"]))
                if (result := unchanged()) is not None:
                    loc.abort(db)
                    return result
            if reason:
                mode, scope_ids = "full", None
            else:
                mode = "incremental"
                say(0.25, "Finding the appeals that changed")
                scope_ids = _scope(cx, db, prev_names, next_names, prev, loc.kept)
            # the default views' reports are spliced from the last state's (report_cache), from
            # the recomputed appeals' rows before and after
            splicing = scope_ids is not None and bool(prev.get("kept_asks"))
            n_scope = _build(cx, db, wh, prev_names, next_names, scope_ids, fps, params, meta, say, loc.kept,
                             keep_recomputed=splicing)
            total = int(db.query(f"select count(*) as n from {next_names['facts']}")["n"][0])
            meta.update(appeals=total, mode=mode, recomputed=n_scope if scope_ids is not None else total,
                        reason=reason or "incremental")
            say(0.86, "Releasing the computed models")
            # the warehouse's models are stored: their memory goes to the reports (a 10M build
            # ran out of the store's own 15% computing them; bench/README.md)
            if cx.release_models() and isinstance(db, DuckStoreDB):
                bound_duckdb(db.con, WAREHOUSE_SHARE)
            if scope_ids is None and isinstance(db, DuckStoreDB):
                say(0.88, "Ordering the facts and open stretches for the reports' filters")
                order_tables(db, next_names)
            say(0.9, "Computing the default views' reports")
            # the sidebar's filter lists, read on every first load (0.13 s over the 10M facts)
            values = api.key_values(reader_of(wh, db, meta, next_names), dashboard.FILTER_KEYS, as_of)
            meta["key_values"] = {resolve_keys([k])[0]: v for k, v in values.items()}
            # the Specialists page's labels (0.05-0.08 s of its every rerun at 10M, read from facts rows)
            meta["specialist_names"] = api.specialist_names(reader_of(wh, db, meta, next_names), as_of)
            meta["reports_version"] = report_cache.sql_version(reader_of(wh, db, meta, next_names))
            with _previous_answers(cx, db, wh, prev_names, next_names, prev, meta, scope_ids, loc.kept,
                                   zones) as previous:
                # the state being written
                kept, meta["kept_asks"] = report_cache.warm(reader_of(wh, db, meta, next_names), zones, previous)
            db.write(next_names["report_cache"], kept, create=True)
            meta["reports_kept"] = kept.height
            db.write(next_names["store_meta"], pl.DataFrame({"meta": [json.dumps(meta)]}), create=True)
            say(0.95, "Switching to the new state")
            loc.commit(db)
        except BaseException:
            loc.abort(db)
            raise
    finally:
        cx.close()
    say(1.0, "Done")
    recomputed = meta["recomputed"]
    return RefreshResult(mode, recomputed, total, as_of, reason or "incremental")


def _reports_version(wh: Warehouse, loc: Location, prev: dict | None) -> str | None:
    """report_cache.sql_version over the live state (its dialect and optional tables), or None
    without one."""
    if prev is None:
        return None
    reader = open_store(wh, loc)
    if reader is None:
        return None
    try:
        return report_cache.sql_version(reader)
    finally:
        reader.db.close()


def _unchanged_file_identity(wh: Warehouse) -> list | None:
    """The warehouse file's identity when it alone decides whether the data changed: a plain
    DuckDB file read as it is. None (fingerprint every table) for server warehouses, adapters
    (their SQL may read other files) and files holding views (they may too)."""
    identity = file_identity(wh.url)
    if identity is None or identity == ("missing",) or wh.adapter_sql:
        return None
    views = wh.query("select count(*) as n from duckdb_views() where not internal")["n"][0]
    return list(identity) if views == 0 else None


def _kept(loc: Location) -> str:
    try:
        meta = loc.meta()
    except Exception:  # noqa: BLE001 - saying what is left must not fail too
        meta = None
    if meta is None:
        return "no store was written"
    return f"the previous store (as_of {meta['as_of']}) is still in use"


def _redacted(wh: Warehouse) -> str:
    from metrics.warehouse import redact_url

    return redact_url(wh.url)


def _full_reason(full: bool, prev: dict | None, version: str, present: list[str], whole: dict,
                 as_of: datetime) -> str:
    if full:
        return "--full"
    if prev is None:
        return "no store yet"
    if prev.get("engine_version") != version:
        return "engine version changed"
    if prev.get("tables_present") != present:
        return "optional tables appeared or disappeared"
    for t in WHOLE_TABLES:
        if prev["whole"].get(t) != whole.get(t):
            return f"{t} changed"
    if datetime.fromisoformat(prev["as_of"]) > as_of:
        return "as_of moved backwards"
    return ""


def _scope(cx: Compute, db: StoreDB, prev: dict[str, str], nxt: dict[str, str], meta_prev: dict,
           kept_tables: tuple[str, ...] = ()) -> pl.Series:
    """Every appeal id whose stored rows may differ from a recomputation now."""
    days, changed = _keys_changed(cx, db, prev, nxt, "appeals", kept_tables)
    ids: set[str] = set(changed.to_list())
    others: set[str] = set()  # recomputed for their side rows or for as_of: their events did not change
    # targeted side tables, and what moves with as_of
    for table, col in (("enforcements", "store_enforcement_id"), ("specialists", "specialist_id")):
        moved = (_keys_changed(cx, db, prev, nxt, table, kept_tables)[1] if table in FINGERPRINTED
                 else _changed(db, nxt["fp_" + table], prev["fp_" + table], "id"))
        if table == "enforcements" and table in kept_tables:  # else the whole table is recomputed
            cx.enforcement_ids = pl.concat([moved.rename("id"), _enforced_since(cx, meta_prev["as_of"])]).unique()
        if len(moved):
            sp: dict = {}
            sset = _store_id_set(db, moved.to_list(), sp)
            found = db.query(f"select appeal_id from {prev['facts']} where {col} in ({sset})", sp)
            others |= set(found["appeal_id"].to_list())
            if table == "specialists" and "specialist_id" in db.query(f"select * from {prev['spans']} where 1 = 0").columns:
                # open stretches carry the attributes of the owner of that stretch, not only the last one
                found = db.query(f"select distinct appeal_id from {prev['spans']} where specialist_id in ({sset})", sp)
                others |= set(found["appeal_id"].to_list())
    if meta_prev["as_of"] != cx.as_of_p:  # as_of alone moves these
        # a second's margin: the model compares epochs as doubles, the store instants (a
        # superset only recomputes); at 10M a one-day refresh's 455k open appeals were all
        # recomputed before, whatever their deadlines
        volatile = db.query(f"select appeal_id from {prev['facts']} where store_valid_until "
                            "< cast(:as_of as timestamp with time zone) + interval '1 second'", {"as_of": cx.as_of_p})
        others |= set(volatile["appeal_id"].to_list())
    # event ids shared across appeals (the earliest row of an id wins across appeals): an id
    # carried by a changed appeal, now or at the last refresh, makes all its carriers change.
    # An id comes to be carried by one more appeal only through a row that is new or changed,
    # so on a changed day: those days' ids and the ids shared at the last refresh are every
    # id a changed appeal can share
    old_pairs = db.query(f"select event_id, appeal_id from {prev['contested_events']}")
    p: dict = {}
    oc = cx.id_set(old_pairs["event_id"].unique().to_list(), p)
    on_days = cx.wh.staging_ctes(_on_days(cx.wh, "appeals", days))["stg_appeal_events"]
    candidates = (f"with events_on_days as ({on_days}), old_contested as ({oc}) "
                  "select event_id as id from events_on_days where event_id is not null union select id from old_contested")
    if cx.duck is not None:
        # one pass over the events for the carriers of the candidate ids and the rows the
        # recomputed appeals' models read (_build), not one each: 3.1 s and 4.1 s at 10M
        rows = _events_pool(cx, candidates, ids | others, p)
    else:
        carriers = cx.wh.staging_ctes({"appeal_events": f"{cx.wh.staged_text('src.event_id')} in "
                                                        "(select id from candidates)"})["stg_appeal_events"]
        rows = cx.frame(f"with candidates as ({candidates}), stg_appeal_events as ({carriers}) "
                        "select distinct event_id, coalesce(appeal_id, '') as appeal_id from stg_appeal_events "
                        "where event_id is not null", p)
    rows = rows.select(pl.col("event_id", "appeal_id").cast(pl.Utf8))
    pairs = pl.concat([rows, old_pairs.select(pl.col(rows.columns).cast(pl.Utf8))]).unique()
    touched = pairs.filter(pl.col("appeal_id").is_in(list(ids)))["event_id"].unique()
    ids |= set(pairs.filter(pl.col("event_id").is_in(touched.to_list()))["appeal_id"].to_list())
    cx.contested = _contested_of(rows)
    ids |= others
    if cx.duck is not None:
        _add_to_pool(cx, ids - cx.pooled)
    ids.discard("")
    return pl.Series("id", sorted(ids), dtype=pl.Utf8)


# a refresh's recomputed rows, kept beside the stored ones for _previous_answers (_build)
RECOMPUTED = ("facts", "spans")


def _recomputed(nxt: dict[str, str], table: str) -> str:
    return _sibling(nxt[table], "_recomputed_kept")


@contextlib.contextmanager
def _previous_answers(cx: Compute, db: StoreDB, wh: Warehouse, prev: dict[str, str], nxt: dict[str, str],
                      meta_prev: dict | None, meta: dict, scope_ids: pl.Series | None, kept_tables: tuple[str, ...],
                      zones: list[str]):
    """An incremental refresh's report_cache.Previous: the last state's kept answers, and the
    weeks whose cells may differ, from the rows of the recomputed appeals (and of the appeals
    whose QA reviews changed) in the last state and in this one. None: compute them all.
    Drops the tables _build kept its recomputed rows in."""
    names = (meta_prev or {}).get("kept_asks")
    try:
        # answers of another report SQL are not spliced with cells of this one
        if scope_ids is None or not names or meta_prev.get("reports_version") != meta["reports_version"]:
            yield None
            return
        stored = db.query(f"select report_key, answer from {prev['report_cache']}")
        by_key = dict(zip(stored["report_key"], stored["answer"], strict=True))
        answers = {name: report_cache.decode(by_key[k]) for name, k in names.items() if k in by_key}
        present = set(meta["tables_present"])
        reader = reader_of(wh, db, {**meta, "reports_kept": 0}, nxt)
        with _store_share(db, STORE_SHARE):
            # the rows come from scans of whole stored tables (the previous file's too): within
            # the store's own share, its cache filled half the budget (10M: 2.29 GB peak)
            sides = _sides(db, prev, {**nxt, **cx.recomputed}, nxt, scope_ids, reader, "qa_reviews" in present)
        diverged = report_cache.backlog_divergence(*sides.spans)
        moved_enforcements: list[datetime] = []
        if "enforcements" in present:  # appeal_rate's denominator, by enforced_at
            only = cx.enforcement_ids if "enforcements" in kept_tables else None  # else recomputed whole
            moved_enforcements = _moved_rows(db, prev["enforcements"], nxt["enforcements"], only)["enforced_at"].to_list()
        as_ofs = (datetime.fromisoformat(meta_prev["as_of"]), datetime.fromisoformat(meta["as_of"]))
        weeks: dict[str, set] = {}
        for tz in report_cache.ask_zones(zones):
            try:
                zone = ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # not a zone: warm keeps no view in it
                continue
            last = truncate(as_ofs[1].astimezone(zone).date(), "week")
            # the last week ends at as_of: each one from the last as_of's on; the backlog's
            # from the week whose end is the first at or after the earliest divergence
            starts = [as_ofs[0]] + ([diverged - timedelta(microseconds=1)] if diverged is not None else [])
            week = min(truncate(t.astimezone(zone).date(), "week") for t in starts)
            between = set()
            while week <= last:
                between.add(week)
                week = next_period(week, "week")
            enforced = {truncate(t.astimezone(zone).date(), "week") for t in moved_enforcements if t is not None}
            weeks[tz] = report_cache.touched_periods(reader, sides, tz) | between | enforced
        del sides  # the rows before the reports: at 10M they are hundreds of MB
        yield report_cache.Previous(answers, weeks)
    finally:
        for t in RECOMPUTED:
            db.execute(f"drop table if exists {_recomputed(nxt, t)}")


@contextlib.contextmanager
def _store_share(db: StoreDB, share: float):
    """A DuckDB store's connection bounded to `share` of the process budget for a while, then
    to its limit before."""
    if not isinstance(db, DuckStoreDB):
        yield
        return
    before = db.con.execute("select current_setting('memory_limit')").fetchone()[0]
    bound_duckdb(db.con, share)
    try:
        yield
    finally:
        db.con.execute(f"set memory_limit = {sql_literal(before)}")


def _sides(db: StoreDB, prev: dict[str, str], recomputed: dict[str, str], nxt: dict[str, str], scope_ids: pl.Series,
           reader: StoreWarehouse, has_qa: bool) -> report_cache.Sides:
    """The recomputed appeals' rows in both states (report_cache.Sides), also the facts and QA
    reviews of the appeals whose QA reviews changed (the QA table is computed whole). This
    state's recomputed rows are read from `recomputed` (the tables _build kept them in, when it
    did: a fraction of the stored tables, which a filter on the id reads whole)."""
    qa_only = pl.Series("id", [], dtype=pl.Utf8)
    if has_qa:
        moved = _moved_rows(db, prev["qa_reviews"], nxt["qa_reviews"], None)["appeal_id"].cast(pl.Utf8).drop_nulls()
        qa_only = moved.unique().filter(~moved.unique().is_in(scope_ids.implode())).rename("id")
    all_ids = pl.concat([scope_ids, qa_only.rename(scope_ids.name)])
    facts_columns = db.query(f"select * from {nxt['facts']} where 1 = 0").columns
    read = ", ".join(report_cache.contribution_columns(reader, facts_columns))

    def rows(table: str, cols: str, ids: pl.Series) -> pl.DataFrame:
        p: dict = {}
        # typed as the engine's (instants in UTC, an all-null column typed): the Polars engine reads them
        return _typed(db.query(f"select {cols} from {table} where appeal_id in ({_store_id_set(db, ids.to_list(), p)})", p))

    facts_was = rows(prev["facts"], read, all_ids)
    facts_now = pl.concat([rows(recomputed["facts"], read, scope_ids),
                           facts_was.filter(pl.col("appeal_id").is_in(qa_only.implode()))])  # not recomputed
    qa = tuple(rows(t, "*", all_ids).drop([*QA_FACTS, "in_facts"], strict=False)  # the model's columns
               for t in (prev["qa_reviews"], nxt["qa_reviews"])) if has_qa else None
    # of a stretch, what a default view's backlog reads: when it holds, and the keys it carries
    # (an owner's); the rest from its appeal's facts row
    carried = db.query(f"select * from {nxt['spans']} where 1 = 0").columns
    own = ["appeal_id", "open_from", "open_to", *(k for k in report_cache.ASK_KEYS if k in carried and k not in SPAN_FACTS)]
    attrs = [c for c in ("appeal_id", *report_cache.ASK_KEYS, "ttr_deadline_at") if c == "appeal_id" or c not in own]
    spans = tuple(rows(table, ", ".join(own), scope_ids).join(facts.select(attrs), on="appeal_id", how="inner")
                  for table, facts in ((prev["spans"], facts_was), (recomputed["spans"], facts_now)))
    return report_cache.Sides(facts=(facts_was, facts_now), qa=qa, spans=spans)


def _moved_rows(db: StoreDB, old: str, new: str, only: pl.Series | None) -> pl.DataFrame:
    """The rows of one stored table in either state and not the other (`only`: of these
    enforcement ids)."""
    where = ""
    params: dict = {}
    if only is not None:
        if not len(only):
            return db.query(f"select * from {new} where 1 = 0")
        where = f" where enforcement_id in ({_store_id_set(db, only.to_list(), params)})"
    a, b = f"select * from {old}{where}", f"select * from {new}{where}"
    return db.query(f"select * from (({a}) except ({b})) as gone union all "
                    f"select * from (({b}) except ({a})) as came", params)


# the warehouse's staged event rows a DuckDB refresh reads: of the candidate event ids and of
# the appeals it recomputes (a temp table of Compute's connection)
EVENTS_POOL = "refresh_events_pool"


def _events_pool(cx: Compute, candidates: str, appeal_ids: set[str], params: dict) -> pl.DataFrame:
    """Stage, in one pass, every event row carrying a candidate id (`candidates`: a select of
    `id`) or belonging to one of `appeal_ids` into EVENTS_POOL; return the (event id, appeal
    key) pairs of the candidate ids (null appeal: '')."""
    native, np_ = _duckdb_params(f"create or replace temp table refresh_candidates as {candidates}",
                                 {**cx.wh.adapter_params, **params})
    cx.duck.execute(native, np_ or None)
    event = cx.wh.staged_text("src.event_id")
    _pool_rows(cx, f"create or replace temp table {EVENTS_POOL} as", appeal_ids,
               f"or {event} in (select id from refresh_candidates)")
    cx.pooled = set(appeal_ids)
    return cx.frame(f"select distinct event_id, coalesce(appeal_id, '') as appeal_id from {EVENTS_POOL} "
                    "where event_id in (select id from refresh_candidates)", {})


def _add_to_pool(cx: Compute, appeal_ids: set[str]) -> None:
    """The event rows of appeals the pool does not hold yet (carriers of an event id shared
    with a changed appeal), in one more pass: the rows of their ids it holds already."""
    if not appeal_ids:
        return
    event = cx.wh.staged_text("src.event_id")
    _pool_rows(cx, f"insert into {EVENTS_POOL}", appeal_ids,
               f"and not coalesce({event} in (select id from refresh_candidates), false)")
    cx.pooled |= appeal_ids


def _pool_rows(cx: Compute, verb: str, appeal_ids: set[str], also: str) -> None:
    """`verb` (a create or an insert) the staged event rows with an id, of `appeal_ids`, `also`
    (a further condition on the source row, joined by its own `or` / `and`)."""
    wh = cx.wh
    p: dict = {}
    pooled = cx.id_set(sorted(appeal_ids), p)
    appeal, event = wh.staged_text("src.appeal_id"), wh.staged_text("src.event_id")
    staged = wh.staging_ctes(src_filter={"appeal_events": f"{event} is not null and ({appeal} in (select id from "
                                                          f"refresh_pooled) {also})"})["stg_appeal_events"]
    native, np_ = _duckdb_params(f"{verb} with refresh_pooled as ({pooled}) {staged}", {**wh.adapter_params, **p})
    cx.duck.execute(native, np_ or None)


def _enforced_since(cx: Compute, prev_as_of: str) -> pl.Series:
    """Enforcement ids with a row enforced after the last refresh's as_of, up to this one's: an
    id's row reaches enforcements_clean once as_of passes its first enforced_at (a superset:
    an id whose first row was already in recomputes to the same row)."""
    p = {"prev_as_of": prev_as_of, "as_of": cx.as_of_p}
    rows = cx.frame(
        f"with stg_enforcements as ({cx.wh.staging_ctes()['stg_enforcements']}) "
        "select distinct enforcement_id as id from stg_enforcements where enforcement_id is not null "
        "and enforced_at > cast(:prev_as_of as timestamp with time zone) "
        "and enforced_at <= cast(:as_of as timestamp with time zone)", p)
    return rows["id"].cast(pl.Utf8)


def _contested_of(rows: pl.DataFrame) -> pl.DataFrame:
    """(event id, appeal key) of ids carried by more than one appeal key (null ids: key '')."""
    shared = (rows.group_by("event_id").agg(pl.col("appeal_id").n_unique().alias("k"))
              .filter(pl.col("k") > 1).select("event_id"))
    return rows.join(shared, on="event_id").select("event_id", "appeal_id")


def order_tables(db: DuckStoreDB, nxt: dict[str, str]) -> None:
    """Rewrite the stored per-appeal tables in STORED_ORDER (a full build writes them slice by
    slice, in hash order). The old tables' blocks are free for what the refresh writes next."""
    for t, order in STORED_ORDER.items():  # facts first: the spans take their SPAN_FACTS from them
        ordered = _sibling(nxt[t], "_ordered")
        db.execute(f"drop table if exists {ordered}")  # left by a refresh that was killed (a schema store)
        rows = _with_span_facts(nxt[t], nxt["facts"]) if t == "spans" else f"select * from {nxt[t]}"
        db.execute(f"create table {ordered} as {rows} order by {', '.join(order)}")
        db.execute(f"drop table {nxt[t]}")
        db.execute(f"alter table {ordered} rename to {nxt[t].rpartition('.')[2]}")


def _with_span_facts(spans: str, facts: str) -> str:
    """The stretches of `spans` with their appeal's SPAN_FACTS (the inner join a backlog
    report makes: every stretch's appeal has its facts row)."""
    carried = ", ".join(f"f.{c}" for c in SPAN_FACTS)
    return f"select s.*, {carried} from {spans} as s inner join {facts} as f on f.appeal_id = s.appeal_id"


def _carry_qa_facts(db: DuckStoreDB, nxt: dict[str, str]) -> None:
    """The stored QA reviews with their appeal's QA_FACTS and `in_facts`, in reviewed_at order
    (written whole at every refresh, after the facts: about 0.9 s at 10M)."""
    qa = nxt["qa_reviews"]
    carried = _sibling(qa, "_carried")
    db.execute(f"drop table if exists {carried}")
    cols = ", ".join(f"f.{c}" for c in QA_FACTS)
    db.execute(f"create table {carried} as select q.*, {cols}, f.appeal_id is not null as in_facts from {qa} as q "
               f"left join {nxt['facts']} as f on f.appeal_id = q.appeal_id order by q.reviewed_at")
    db.execute(f"drop table {qa}")
    db.execute(f"alter table {carried} rename to {qa.rpartition('.')[2]}")


def _sibling(table: str, suffix: str) -> str:
    """A working table beside `table` (schema-qualified, its name quoted or not)."""
    head, dot, name = table.rpartition(".")
    name = f'{name[:-1]}{suffix}"' if name.endswith('"') else name + suffix
    return f"{head}{dot}{name}"


@contextlib.contextmanager
def _insertion_order_kept(db: DuckStoreDB):
    """The store's connection may reorder rows it copies (preserve_insertion_order is off for
    memory); the copies of the ordered tables keep their order, so that their row groups stay
    narrow."""
    db.execute("set preserve_insertion_order = true")
    try:
        yield
    finally:
        db.execute("set preserve_insertion_order = false")


def _store_id_set(db: StoreDB, ids: list[str], params: dict) -> str:
    if isinstance(db, DuckStoreDB):
        name = f"store_ids_{len(params)}_{id(ids)}"
        db.con.register(name, pl.DataFrame({"id": ids}, schema={"id": pl.Utf8}).to_arrow())
        return f"select id from {name}"
    name = f"store_ids_{len(params)}"
    params[name] = ids
    return f"select unnest(cast(:{name} as text[])) as id"


def _build(cx: Compute, db: StoreDB, wh: Warehouse, prev: dict, nxt: dict, scope_ids: pl.Series | None,
           fps: dict, params: dict, meta: dict, say: Progress, kept_tables: tuple[str, ...] = (),
           keep_recomputed: bool = False) -> int:
    """`keep_recomputed`: leave the recomputed facts and spans rows (RECOMPUTED) in tables of
    their own as well, for _previous_answers (which drops them)."""
    p = dict(params)
    scope = None if scope_ids is None else cx.id_set(scope_ids, p)
    shared = None
    if scope is not None:  # every id shared across appeals now is in cx.contested (_scope)
        carried = cx.contested.filter(pl.col("appeal_id").is_in(scope_ids.to_list()))["event_id"].unique()
        shared = cx.id_set(carried, p)
    staging = _staging_with(wh, scope, shared)
    if cx.duck is not None and scope is not None:
        # the scoped rows once, for facts and spans both (one pass over the events, not two)
        # (the events from the pool _scope staged: the same rows, staged row by row)
        staging["stg_appeal_events"] = (f"select * from {EVENTS_POOL} where appeal_id in (select id from refresh_scope) "
                                        "or event_id in (select id from refresh_shared)")
        for name in ("stg_appeals", "stg_appeal_events"):
            native, np_ = _duckdb_params(
                f"create or replace temp table refresh_{name} as with refresh_scope as ({scope}), "
                f"refresh_shared as ({shared}) {staging[name]}",
                {**wh.adapter_params, **p})
            cx.duck.execute(native, np_ or None)
            staging[name] = f"select * from refresh_{name}"
        cx.duck.execute(f"drop table if exists {EVENTS_POOL}")  # its rows are in refresh_stg_appeal_events now
    ordered = isinstance(db, DuckStoreDB)  # a server store's tables have no row-group min and max
    if scope_ids is not None:
        sp: dict = {}
        kept = _store_id_set(db, scope_ids.to_list(), sp)
        for t in APPEAL_TABLES:
            if t in kept_tables:  # next already holds the previous rows, in their order
                db.execute(f"delete from {nxt[t]} where appeal_id in ({kept})", sp)
                continue
            copy = f"create table {nxt[t]} as select * from {prev[t]} where appeal_id not in ({kept})"
            if t in STORED_ORDER and ordered:  # the unchanged rows stay in the order they were kept in
                with _insertion_order_kept(db):
                    db.execute(copy, sp)
            else:
                db.execute(copy, sp)
        if kept_tables:
            # the deletes' row versions are held in memory until a checkpoint writes them: at 10M
            # they took most of the store's share, and ordering the recomputed rows ran out
            db.execute("checkpoint")
    say(0.35, "Computing facts" + ("" if scope_ids is None else f" for {len(scope_ids):,} appeals"))
    built: dict[str, str] = {}
    scoped: dict[str, str] = {}  # incremental: the models over the scoped rows, each once
    if cx.duck is not None and scope_ids is None:
        # every model once, as temp tables, within the memory budget (in slices of appeals
        # where a model joins several appeal-grain relations); the store copies them
        wh.materialize(params["as_of"], memory_share=WAREHOUSE_SHARE)
        built = wh.model_overrides(params["as_of"])
    elif cx.spark is not None and scope_ids is None:
        wh.materialize(params["as_of"])  # every model once, as checkpointed temp views
        built = wh.model_overrides(params["as_of"])
    elif cx.spark is not None:
        scoped = cx.checkpoint_scoped(staging, scope, p)
    elif cx.duck is not None:  # the models over the scoped rows, each once (as Spark's above)
        scoped = wh.checkpoint_models(staging, {**wh.adapter_params, **p}, "refresh_scoped", upto="status_spans")
    slices = wh.slices.get("appeal_facts", 1) if built and cx.duck is not None else 1

    def target(t: str) -> str:
        """Where a table's rows are written: a refresh's recomputed rows first beside it, then
        appended in STORED_ORDER (settle); a full build orders them all once the warehouse's
        models are released (order_tables)."""
        return _sibling(nxt[t], "_recomputed") if scope_ids is not None and ordered and t in STORED_ORDER else nxt[t]

    def settle(t: str) -> None:
        if target(t) != nxt[t]:
            rows = _with_span_facts(target(t), nxt["facts"]) if t == "spans" else f"select * from {target(t)}"
            with _insertion_order_kept(db):
                db.execute(f"insert into {nxt[t]} {rows} order by {', '.join(STORED_ORDER[t])}")
            if keep_recomputed and t in RECOMPUTED:
                db.execute(f"alter table {target(t)} rename to {_recomputed(nxt, t).rpartition('.')[2]}")
                cx.recomputed[t] = _recomputed(nxt, t)
            else:
                db.execute(f"drop table {target(t)}")

    for t in STORED_ORDER:
        if target(t) != nxt[t]:
            db.execute(f"drop table if exists {target(t)}")  # left by a refresh that was killed (a schema store)
        if t in RECOMPUTED:
            db.execute(f"drop table if exists {_recomputed(nxt, t)}")
    for i, select in enumerate(facts_slices(slices)):
        db.write(target("facts"), cx.stream(models.with_models(staging, None, select, overrides=built or scoped,
                                                               dialect=wh.dialect), p),
                 create=(scope_ids is None or target("facts") != nxt["facts"]) and i == 0)
    settle("facts")
    say(0.65, "Computing open stretches")
    db.write(target("spans"), cx.stream(models.with_models(staging, None, "select * from status_spans",
                                                           overrides=built or scoped, dialect=wh.dialect), p),
             create=scope_ids is None or target("spans") != nxt["spans"])
    settle("spans")
    say(0.75, "Keeping the decision notes")
    db.write(nxt["notes"], cx.stream(models.with_models(staging, None, "select * from decision_notes",
                                                        overrides=built or scoped, dialect=wh.dialect), p),
             create=scope_ids is None)
    say(0.77, "Keeping the per-appeal data checks")
    db.write(nxt["check_hits"], cx.stream(models.with_models(staging, checks.per_appeal_hits(),
                                                             f"select * from {checks.PER_APPEAL_HITS}",
                                                             overrides=built or scoped, dialect=wh.dialect), p),
             create=scope_ids is None)
    say(0.8, "QA reviews and enforcements")
    full_staging = wh.staging_ctes()
    overrides: dict[str, str] = dict(built)
    qp = dict(params)
    if (cx.duck is not None or cx.spark is not None) and not built:
        # QA reviews count for appeals in facts: the stored ids are exactly appeals_base's.
        # Only the ids the reviews name can match (5% of the bench's appeals); every stored id
        # (10M) read here and hashed for the semi-join set the 10M one-day refresh's peak.
        named = cx.frame(f"with stg_qa_reviews as ({full_staging['stg_qa_reviews']}) select distinct appeal_id "
                         "from stg_qa_reviews where appeal_id is not null", {})["appeal_id"]
        sp: dict = {}
        ids = db.query(f"select appeal_id from {nxt['facts']} "
                       f"where appeal_id in ({_store_id_set(db, named.cast(pl.Utf8).to_list(), sp)})", sp)["appeal_id"]
        overrides["appeals_base"] = f"select id as appeal_id from ({cx.id_set(ids, qp)}) as ids"
    for model, table in MODEL_TABLES.items():
        if table in APPEAL_TABLES:
            continue
        if table == "enforcements" and table in kept_tables:
            _refresh_enforcements(cx, db, wh, nxt[table], params)
            continue
        if "appeals_base" in overrides and not built:
            # the model over staging and the id-only appeals_base, no other model: Spark
            # resolves every CTE of a query, and the later ones read appeals_base's columns
            sql = models.with_models(full_staging, {model: models.model_sql(wh.dialect)[model]},
                                     f"select * from {model}", upto="appeals_base", overrides=overrides,
                                     dialect=wh.dialect)
        else:
            sql = models.with_models(full_staging, None, f"select * from {model}", overrides=overrides,
                                     dialect=wh.dialect)
        db.write(nxt[table], cx.stream(sql, qp), create=True)
        if table == "qa_reviews" and isinstance(db, DuckStoreDB):
            _carry_qa_facts(db, nxt)
    say(0.82, "Saving the shared event ids")
    if scope_ids is None:
        st = wh.staging_ctes()
        # in the slices of events_effective (by event id: all rows of an id in one): grouping
        # 59M event ids at once ran out of 1 GiB at the end of a 10M full build, counting
        # distinct keys and comparing min and max alike
        n = wh.slices.get("events_effective", 1) if built and cx.duck is not None else 1
        parts = []
        for i in range(n):
            cut = f" and {in_slice('event_id', n, i)}" if n > 1 else ""
            parts.append(cx.frame(
                f"with stg_appeal_events as ({st['stg_appeal_events']}), shared as ("
                # carried by more than one appeal key (null appeal: '')
                f"select event_id from stg_appeal_events where event_id is not null{cut} group by event_id "
                "having min(coalesce(appeal_id, '')) <> max(coalesce(appeal_id, ''))) "
                "select distinct e.event_id, coalesce(e.appeal_id, '') as appeal_id from stg_appeal_events as e "
                "where e.event_id in (select event_id from shared)", {}))
        contested = pl.concat(parts)
    else:
        contested = cx.contested
    db.write(nxt["contested_events"], contested.select(pl.col("event_id", "appeal_id").cast(pl.Utf8)), create=True)
    return 0 if scope_ids is None else len(scope_ids)


def _refresh_enforcements(cx: Compute, db: StoreDB, wh: Warehouse, table: str, params: dict) -> None:
    """enforcements_clean, kept from the previous state: the rows of the ids that may have
    moved are recomputed from their warehouse rows alone (the model ranks each id's own rows)."""
    ids = cx.enforcement_ids
    if ids is None or not len(ids):
        return
    sp: dict = {}
    db.execute(f"delete from {table} where enforcement_id in ({_store_id_set(db, ids.to_list(), sp)})", sp)
    p = dict(params)
    scope = cx.id_set(ids, p)
    staging = wh.staging_ctes(src_filter={
        "enforcements": f"{wh.staged_text('src.enforcement_id')} in (select id from refresh_enforcement_ids)"})
    sql = models.with_models({"refresh_enforcement_ids": scope, **staging}, None, "select * from enforcements_clean",
                             dialect=wh.dialect)
    db.write(table, cx.stream(sql, p), create=False)


# -- one refresh at a time per store -----------------------------------------------------------

class _Lock:
    """An exclusive lock file per store; a marker says whether the last refresh finished."""

    def __init__(self, loc: Location):
        self.path = loc.lock_path()
        self.marker = self.path.with_suffix(".running")
        self.note = ""

    def __enter__(self):
        self.fh = open(self.path, "a+")  # noqa: SIM115 - held for the whole refresh
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise RefreshBusy("another refresh of this store is running; the current store stays in use") from None
        if self.marker.exists():
            try:
                info = json.loads(self.marker.read_text())
                self.note = (f"an earlier refresh (pid {info.get('pid')}, started {info.get('started')}) did not "
                             "finish; the store it started from stayed in use")
            except ValueError:
                self.note = "an earlier refresh did not finish; the store it started from stayed in use"
        self.marker.write_text(json.dumps({"pid": os.getpid(), "started": datetime.now(UTC).isoformat()}))
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None or not issubclass(exc_type, KeyboardInterrupt | SystemExit):
            self.marker.unlink(missing_ok=True)
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()
        return False


# -- reading through the store ------------------------------------------------------------------

def source(warehouse=None, store_url: str | None = None, no_store: bool = False, as_of=None,
           notes: list[str] | None = None) -> Warehouse:
    """What facts/spans/report/wbr read: the store (refreshed first when the warehouse changed),
    or the warehouse itself with --no-store, for an --as-of the store does not hold, or when
    no --store is named and no default store exists yet."""
    wh = api.open_warehouse(warehouse)
    if no_store:
        return wh
    loc = location(wh, store_url)
    if store_url is None and loc.meta() is None:
        return wh
    wanted = api.parse_instant(as_of)
    if wanted is not None and wanted != api.default_as_of(wh):
        return wh  # the store holds the latest as-of only; the answer is the same from the warehouse
    try:
        result = refresh(wh, store_url)
    except RefreshBusy:
        return wh  # someone else is bringing it up to date: answer from the warehouse meanwhile
    if notes is not None and result.note:
        notes.append(result.note)
    reader = open_store(wh, loc)
    if reader is None:
        raise RefreshError("the store could not be read after refreshing it")
    return reader


__all__ = ["RefreshError", "RefreshResult", "StoreWarehouse", "refresh", "source", "engine_version"]
