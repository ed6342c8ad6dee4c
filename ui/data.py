"""Cached access to the engine for the pages.

The warehouse (a SQLAlchemy engine from `st.connection`) is a cached resource keyed by its
URL; every engine call is cached data keyed by hashable arguments (URL string, as-of
instant, tuples of keys and filter values) with a TTL, so a rerun after a filter change
only asks the warehouse for what it has not seen in the last ten minutes.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import polars as pl
import streamlit as st

from metrics import api, dashboard, spark
from metrics.redact import redact_text, redact_url
from metrics.report_plan import pinned_keys
from metrics.warehouse import Warehouse, WarehouseError, duckdb_file, file_identity

TTL_SECONDS = 600
ROOT = Path(__file__).resolve().parent.parent

Filters = tuple[tuple[str, tuple[str, ...]], ...]


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def sample_url() -> str:
    from metrics.bundled_sample import ensure_sample_duckdb

    return f"duckdb:///{ensure_sample_duckdb(ROOT / 'data' / 'sample')}"


# A server warehouse has no file identity (None): its changes show through the latest event
# time, read again every TTL_SECONDS.
duckdb_path = duckdb_file


@st.cache_resource
def _seen() -> dict[str, tuple | None]:
    """The file identity each warehouse URL was loaded with (shared by every session)."""
    return {}


def reload_if_changed(url: str) -> bool:
    """Drop every cached result and connection when the warehouse file changed since it was
    loaded (replaced, rewritten, deleted, back again). True when it did."""
    seen = _seen()
    now = file_identity(url)
    if url not in seen:
        seen[url] = now
        return False
    if seen[url] == now:
        return False
    for wh in list(_OPEN.values()):
        wh.close()
    _OPEN.clear()
    st.cache_data.clear()
    warehouse.clear()
    _prepare.clear()
    _location.clear()  # the store: reopened for the new file (a changed warehouse is refreshed)
    _reader.clear()
    _CHANGED.add(url)  # the store describes the old file: refresh it before anything is read
    seen[url] = now
    return True


_CHANGED: set[str] = set()  # warehouses whose file changed under the app since the store was read


_OPEN: dict[str, Warehouse] = {}  # the warehouses cached below, to close them on a reload


def _bound_memory(engine) -> None:
    """The warehouse's DuckDB instance gets a bound (store.WAREHOUSE_READER_SHARE of the process
    budget beside a store, else half): the data checks read the raw tables, which at 10M
    appeals would otherwise take DuckDB's default of 80% of the machine (bench/README.md).
    Set on the instance (a global setting), not as connect-time configuration: another
    connection to the same file in this process must not see a different configuration."""
    from metrics.store import WAREHOUSE_READER_SHARE, bound_reader_memory

    with engine.connect() as conn:  # beside a store the two instances share the reading half
        bound_reader_memory(conn.connection.driver_connection, WAREHOUSE_READER_SHARE if store_enabled() else 0.5)


@st.cache_resource(show_spinner="Connecting to the warehouse…")
def warehouse(url: str) -> Warehouse:
    """Open `url` read-only through st.connection and check it against the contract."""
    kwargs: dict = {}
    if url.startswith("duckdb"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            if not Path(path).exists():
                raise WarehouseError(f"warehouse: DuckDB file not found: {path}")
            kwargs["connect_args"] = {"read_only": True}
    elif url.startswith("postgres"):
        kwargs["execution_options"] = {"postgresql_readonly": True}
        kwargs["pool_pre_ping"] = True  # a server restarted under the app: stale connections are replaced
    try:
        if spark.is_spark_url(url):  # no SQLAlchemy dialect: the Spark session itself (metrics/spark.py)
            wh = Warehouse.open(url)
        else:
            conn = st.connection("warehouse", type="sql", url=url, **kwargs)  # its engine is disposed on a reload
            wh = Warehouse.from_engine(conn.engine)
        wh.columns()  # connects: a driver error surfaces here as one line
        if wh.dialect == "duckdb":
            _bound_memory(conn.engine)
    except WarehouseError:
        raise
    except Exception as exc:  # noqa: BLE001 - any driver error means "unusable"
        raise WarehouseError(f"warehouse: cannot open {redact_url(url)}: {redact_text(_first_line(exc), url)}") from None
    adapter = os.environ.get("APPEALS_ADAPTER", "").strip()
    if adapter:  # another schema mapped onto the contract (e.g. a Fivetran Zendesk sync)
        from metrics.adapters import apply_adapter

        config = os.environ.get("APPEALS_ADAPTER_CONFIG", "").strip()
        if not config:
            raise WarehouseError("APPEALS_ADAPTER_CONFIG: required with APPEALS_ADAPTER (the adapter's YAML file)")
        try:
            wh = apply_adapter(adapter, wh, config)
        except ValueError as exc:
            raise WarehouseError(_first_line(exc)) from None
    wh.validate()
    _OPEN[url] = wh
    return wh


def prepare(url: str, as_of: datetime) -> bool:
    """Nothing to do when the store serves; else, on DuckDB, compute the appeal models once
    for this as_of (temp tables on the held connection) for every report and drill-down."""
    if store_reader(url) is not None:
        return True
    return _prepare(url, as_of)


@st.cache_resource(show_spinner="Preparing the appeal models for this as-of time…")
def _prepare(url: str, as_of: datetime) -> bool:
    return warehouse(url).materialize(api.as_of_param(as_of))


# -- the store: what reports read when it is ready (metrics.store, metrics.refresh) -----------

def store_setting() -> str | None:
    """APPEALS_STORE=off: read the warehouse only. APPEALS_STORE_URL (or secrets
    [connections.store] url): a store the user names; default: the product's own."""
    url = os.environ.get("APPEALS_STORE_URL", "").strip()
    if url:
        return url
    try:
        return str(st.secrets["connections"]["store"]["url"]) or None
    except Exception:  # noqa: BLE001 - no secrets file, or no such section
        return None


def store_enabled() -> bool:
    return os.environ.get("APPEALS_STORE", "").strip().lower() not in ("off", "0", "false", "no")


@st.cache_resource(show_spinner=False)
def _location(url: str, store_url: str | None):
    from metrics import store

    return store.location(warehouse(url), store_url)


def _token(url: str) -> str | None:
    """Identifies the store's live state: a new one after every refresh that wrote."""
    from metrics import store

    if not store_enabled():
        return None
    loc = _location(url, store_setting())
    if isinstance(loc, store.GenerationsLocation):
        return loc.generation()
    meta = loc.meta()
    return f"{meta['refreshed_at']}|{meta['as_of']}" if meta else None


@st.cache_resource(show_spinner="Opening the store…", max_entries=4)
def _reader(url: str, token: str):
    from metrics import store

    return store.open_store(warehouse(url), _location(url, store_setting()))


def store_reader(url: str):
    """The store's current state (a StoreWarehouse), or None (no store: read the warehouse)."""
    token = _token(url)
    return _reader(url, token) if token else None


def source(url: str):
    """What reports read: the store when ready, else the warehouse (prepared)."""
    return store_reader(url) or warehouse(url)


_SEEN: dict[str, str | None] = {}
_BACKGROUND: dict[str, object] = {}


def ensure_store(url: str) -> None:
    """Once per run, before anything is read: build the store on first use (progress shown),
    refresh it now when asked, or in the background when the warehouse has moved on; and
    drop cached answers when a new state went live (another process may have refreshed)."""
    from metrics import refresh

    if not store_enabled():
        return
    asked = st.session_state.pop("_refresh_now", False)
    changed = url in _CHANGED
    _CHANGED.discard(url)
    reader = store_reader(url)
    outdated = reader is not None and reader.meta.get("engine_version") != refresh.engine_version()
    if reader is None or asked or changed or outdated:
        label = ("Refreshing the store" if asked else
                 "The warehouse file changed: refreshing the store" if changed else
                 "Rebuilding the store for this version of the engine" if outdated else
                 "Building the store for this warehouse (first time only)")
        with st.status(f"{label}…", expanded=True) as status:
            bar = st.progress(0.0, text="Starting")
            try:
                result = refresh.refresh(warehouse(url), store_setting(), report_zones=report_zones(),
                                         progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
            except refresh.RefreshError as exc:
                status.update(label=f"The store could not be refreshed: {exc}", state="error", expanded=False)
            else:
                status.update(label=f"Store ready ({result.line()}; {result.seconds:.1f} s)", state="complete",
                              expanded=False)
    else:
        _refresh_in_background_if_stale(url)
    token = _token(url)
    if _SEEN.get(url, token) != token:
        for fn in (filter_options, report, _members_tz, members, specialist_names, at_risk, open_appeals,
                   checks, row_counts, _warehouse_as_of, workload, needs_action, workload_appeals, backlog_members,
                   theme_candidates, decision_notes):
            fn.clear()
    _SEEN[url] = token


_REFRESHING: set[str] = set()  # warehouses whose store a background thread is refreshing now
_LAST_CHECK: dict[str, float] = {}  # when each warehouse was last asked for its latest instant


def _refresh_in_background_if_stale(url: str) -> None:
    """Refresh the store in a background thread when the warehouse has moved on. A server
    warehouse is asked for its latest instant on the page's run (cached for TTL_SECONDS): its
    changes show only there, and a server that went down must say so. A DuckDB file is asked
    in the background thread itself, at most every TTL_SECONDS: a changed file already shows
    in its identity (reload_if_changed), and at 10M appeals the question reads 59M event rows
    (3.6 s measured) that no page should wait for (bench/README.md, Dashboard)."""
    import contextlib
    import threading
    import time

    from metrics import refresh

    reader = store_reader(url)
    thread = _BACKGROUND.get(url)
    if reader is None or (thread is not None and thread.is_alive()):
        return
    in_file = duckdb_path(url) is not None
    if in_file:
        now = time.monotonic()
        if url not in _LAST_CHECK and _refreshed_from_this_file(url, reader):
            # the store was refreshed from the file as it is now: nothing to ask until the next
            # look (a first page at 10M otherwise shared the two cores with that 59M-row scan)
            _LAST_CHECK[url] = now
        if now - _LAST_CHECK.get(url, float("-inf")) < TTL_SECONDS:
            return
        _LAST_CHECK[url] = now
    elif not _warehouse_as_of(url) > reader.as_of:
        return

    def run(wh, store_url, store_as_of):
        # the current state keeps serving if this fails; the sidebar shows its age
        with contextlib.suppress(Exception):
            if not in_file or api.resolve_as_of(wh, None) > store_as_of:  # new rows arrived
                _REFRESHING.add(url)
                try:
                    refresh.refresh(wh, store_url, report_zones=zones)
                finally:
                    _REFRESHING.discard(url)

    zones = report_zones()  # read here: secrets are read on the script's thread
    thread = threading.Thread(target=run, args=(warehouse(url), store_setting(), reader.as_of),
                              name="appeals-store-refresh", daemon=True)
    _BACKGROUND[url] = thread
    thread.start()


def _refreshed_from_this_file(url: str, reader) -> bool:
    """Whether the warehouse file's identity (path, size, modification time) is the one the
    store's last refresh read, or noted as unchanged since."""
    identity = file_identity(url)
    if identity is None:
        return False
    seen = [reader.meta.get("file_identity"), _location(url, store_setting()).noted_identity()]
    return list(identity) in seen


def report_zones() -> list[str]:
    """The zones whose default views a refresh keeps in the store: the team's zone and UTC."""
    from metrics import report_cache
    from ui.context import default_tz

    return report_cache.default_zones(default_tz())


def store_status(url: str) -> dict | None:
    """For the sidebar: the store's as-of, last refresh, and whether one is running."""
    reader = store_reader(url)
    if reader is None:
        return None
    return {"as_of": reader.as_of, "refreshed_at": datetime.fromisoformat(reader.meta["refreshed_at"]),
            "mode": reader.meta.get("mode"), "recomputed": reader.meta.get("recomputed"),
            "appeals": reader.meta.get("appeals"), "running": url in _REFRESHING}


def filter_dict(filters: Filters) -> dict[str, list[str]]:
    return {k: list(v) for k, v in filters if v}


def as_of(url: str) -> datetime:
    """The store's as-of when it serves, else the warehouse's latest instant."""
    reader = store_reader(url)
    return reader.as_of if reader is not None else _warehouse_as_of(url)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _warehouse_as_of(url: str) -> datetime:
    return api.resolve_as_of(warehouse(url), None)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Reading the filter values…")
def filter_options(url: str, as_of: datetime) -> dict[str, list[str]]:
    """Values of the sidebar filter keys: one narrow scan of the facts."""
    return api.key_values(source(url), dashboard.FILTER_KEYS, as_of=as_of)


def report_in_zone(url: str, as_of: datetime, by: tuple[str, ...], period: str, date_from: date, date_to: date,
                   metrics: tuple[str, ...] | None, filters: Filters, tz: str = "UTC") -> pl.DataFrame:
    """The report with period boundaries in the reporting zone `tz`. A grouping key the filters
    hold to one value is asked of the cache without it (report_plan.pinned_keys: the same
    answer), so a page filtered to one queue computes its table by queue and its total row
    once (10M, a Queues rerun: two reports of 0.3-0.45 s became one; bench/README.md)."""
    pinned = pinned_keys(by, filter_dict(filters))
    asked = tuple(k for k in by if k not in pinned)
    out = report(url, as_of, asked, period, date_from, date_to, metrics, filters, tz)
    if not pinned:
        return out
    return api.with_pinned(out, list(by), pinned)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Computing the report in the warehouse…")
def report(url: str, as_of: datetime, by: tuple[str, ...], period: str, date_from: date, date_to: date,
           metrics: tuple[str, ...] | None, filters: Filters, tz: str = "UTC") -> pl.DataFrame:
    return api.report(source(url), by=list(by), period=period, date_from=date_from, date_to=date_to,
                      metrics=list(metrics) if metrics else None, as_of=as_of, filters=filter_dict(filters), tz=tz)


def members_in_zone(url: str, as_of: datetime, metric: str, period_start: date, period: str,
                    group: tuple[tuple[str, str | None], ...], filters: Filters, tz: str = "UTC",
                    limit: int = api.DRILL_LIMIT_MAX) -> tuple[pl.DataFrame, int]:
    """`members` of a cell whose period is in the reporting zone `tz` (UTC: `members` itself)."""
    if tz == "UTC":
        return members(url, as_of, metric, period_start, period, group, filters, limit)
    return _members_tz(url, as_of, metric, period_start, period, group, filters, tz, limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Listing the appeals behind the number…")
def _members_tz(url: str, as_of: datetime, metric: str, period_start: date, period: str,
                group: tuple[tuple[str, str | None], ...], filters: Filters, tz: str,
                limit: int = api.DRILL_LIMIT_MAX) -> tuple[pl.DataFrame, int]:
    return api.members(source(url), metric=metric, period_start=period_start, period=period, tz=tz,
                       group=dict(group), filters=filter_dict(filters), as_of=as_of, limit=limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Listing the appeals behind the number…")
def members(url: str, as_of: datetime, metric: str, period_start: date, period: str,
            group: tuple[tuple[str, str | None], ...], filters: Filters,
            limit: int = api.DRILL_LIMIT_MAX) -> tuple[pl.DataFrame, int]:
    return api.members(source(url), metric=metric, period_start=period_start, period=period,
                       group=dict(group), filters=filter_dict(filters), as_of=as_of, limit=limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Looking up specialist names…")
def specialist_names(url: str, as_of: datetime) -> dict[str, str]:
    """Names of the specialists the appeals' facts name (kept in the store at refresh)."""
    return api.specialist_names(source(url), as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Finding appeals close to their SLA deadline…")
def at_risk(url: str, as_of: datetime, filters: Filters, within_hours: float, limit: int = 200):
    return api.at_risk(source(url), as_of=as_of, filters=filter_dict(filters), within_hours=within_hours,
                       limit=limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Reading the open appeals…")
def open_appeals(url: str, as_of: datetime, filters: Filters, limit: int = api.DRILL_LIMIT_MAX):
    """Open appeals, oldest first (the engine's own condition for status = open)."""
    return api.appeals(source(url), as_of=as_of, filters=filter_dict(filters), where=dashboard.OPEN_APPEALS,
                       order_by="created_at", limit=limit)


# a spinner with the time it has run, not a progress bar: a cached function must not draw on
# the page (Streamlit replays its elements), and at 10M appeals the checks take 2-3 minutes
@st.cache_data(ttl=TTL_SECONDS, show_time=True,
               show_spinner="Running the data checks over the warehouse's raw rows (minutes on tens of millions)…")
def checks(url: str, as_of: datetime) -> list[dict]:
    # the store keeps the hits of the per-appeal checks (they read every model: over the raw
    # rows of 10M appeals, minutes and more memory than the app has); the others read raw rows
    kept = store_reader(url)
    if kept is not None and kept.as_of != as_of:
        kept = None
    return [
        {"name": c.name, "kind": c.kind, "effect": c.effect, "count": c.count, "examples": list(c.examples)}
        for c in api.check(warehouse(url), as_of=as_of, max_age_hours=max_data_age_hours(), kept=kept)
    ]


def max_data_age_hours() -> float | None:
    """APPEALS_MAX_DATA_AGE_HOURS (the `check --max-age-hours` threshold), else none."""
    raw = os.environ.get("APPEALS_MAX_DATA_AGE_HOURS", "").strip()
    if not raw:
        return None
    try:
        hours = float(raw)
    except ValueError:
        raise WarehouseError(f"APPEALS_MAX_DATA_AGE_HOURS: expected a number of hours, got {raw[:40]!r}") from None
    return hours if hours > 0 else None


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Checking the adapter configuration…")
def config_checks(url: str) -> list[dict]:
    return [{"name": c.name, "count": c.count, "examples": list(c.examples)} for c in api.config_checks(warehouse(url))]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def import_summary(url: str) -> dict | None:
    return api.import_summary(warehouse(url))


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Counting rows…")
def row_counts(url: str) -> dict[str, int]:
    return warehouse(url).row_counts()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def report_sql(url: str, as_of: datetime, metric: str, by: tuple[str, ...], period: str) -> str:
    from metrics import engine_sql

    # A wrapper without the materialized models, so the text is the whole query as it runs on
    # any warehouse (on DuckDB the dashboard itself reads the models from temp tables).
    wh = Warehouse.from_engine(warehouse(url).engine)
    plan = api.plan_report(wh, by=list(by), period=period, metrics=[metric], as_of=as_of)
    sql, _params = engine_sql.compile_report(wh, plan)
    return sql


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Reading the decision notes of unclassified overturns…")
def theme_candidates(url: str, as_of: datetime, date_from: date, date_to: date, unclassified_only: bool,
                     taxonomy_version: str) -> tuple[pl.DataFrame, dict]:
    """Candidate new themes (metrics.discovery) and what they were found in. The taxonomy
    version is part of the key: an edited taxonomy changes what is unclassified."""
    from metrics import discovery

    # the store keeps the decision notes (decision_notes): no model is computed here (decision 80)
    found = discovery.discover(source(url), date_from, date_to, as_of=as_of, unclassified_only=unclassified_only)
    info = {"baseline": found.baseline, "notes_in_period": found.notes_in_period,
            "notes_in_baseline": found.notes_in_baseline}
    return discovery.detail_frame(found), info


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Counting complaints and decisions…")
def transparency(url: str, as_of: datetime, date_from: date, date_to: date) -> dict:
    from metrics import transparency as figures

    # facts only: the store serves them when ready (the raw warehouse at 1M took minutes here)
    return figures.figures(source(url), date_from, date_to, as_of=as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Writing the weekly review (as of the week's end)…")
def weekly_review(url: str, as_of: datetime, week: str, tz: str = "UTC") -> tuple[str, str]:
    """The WBR of one ISO week of the reporting zone `tz` as Markdown and as self-contained HTML
    (the export's content, `python -m metrics wbr --week W --tz Z`)."""
    import dataclasses
    import threading

    from metrics import wbr

    # its own session: the review prepares the models as of the week's end, which must not
    # replace the ones every other page reads (prepared as of the data's end)
    own = dataclasses.replace(warehouse(url), _session=None, _session_lock=threading.Lock(), _materialized_as_of=None)
    try:
        review = wbr.build(own, week, as_of=as_of, tz=tz)
    finally:
        if own._session is not None:
            own._session.invalidate()  # drop its temp tables with the connection
    return wbr.to_markdown(review), wbr.to_html(review)


# -- open work now and drill-downs behind every number (issue 10; metrics.workload) -------------

@st.cache_data(ttl=TTL_SECONDS, show_spinner="Counting the open work…")
def workload(url: str, as_of: datetime, key: str | None, hours: float, filters: Filters) -> pl.DataFrame:
    from metrics import workload as wl

    if key is None:  # the pages ask by queue too: the total from those rows, not another scan
        return wl.total_of(workload(url, as_of, "queue", hours, filters))
    return wl.by_group(source(url), as_of=as_of, key=key, hours=hours, filters=filter_dict(filters))


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Listing the appeals that need action…")
def needs_action(url: str, as_of: datetime, hours: float, filters: Filters, limit: int = api.DRILL_LIMIT_MAX):
    from metrics import workload as wl

    return wl.needs_action_list(source(url), as_of=as_of, hours=hours, filters=filter_dict(filters), limit=limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Listing the appeals behind the number…")
def workload_appeals(url: str, as_of: datetime, what: str, hours: float, filters: Filters,
                     limit: int = api.DRILL_LIMIT_MAX):
    """The open appeals behind a workload cell: `what` is breached, due_soon or open."""
    from metrics import workload as wl

    where = {"breached": wl.breached_now(as_of), "due_soon": wl.due_within(as_of, hours), "open": wl.OPEN}[what]
    return api.appeals(source(url), as_of=as_of, filters=filter_dict(filters), where=where,
                       order_by="ttr_deadline_at", limit=limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Listing the open appeals at the period end…")
def backlog_members(url: str, as_of: datetime, period_start: date, period: str,
                    group: tuple[tuple[str, str], ...], filters: Filters, breached_only: bool, tz: str = "UTC",
                    limit: int = api.DRILL_LIMIT_MAX):
    """The open appeals behind a backlog cell; `tz`: the reporting zone its period is in."""
    return api.backlog_members(source(url), period_start=period_start, period=period, tz=tz, group=dict(group),
                               filters=filter_dict(filters), as_of=as_of, breached_only=breached_only, limit=limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Reading decision notes…")
def decision_notes(url: str, as_of: datetime, appeal_ids: tuple[str, ...]) -> pl.DataFrame:
    """Redacted final decision notes (the store keeps them: at 10M appeals a page of notes read
    from the warehouse computed every appeal's lifecycle, over 10 minutes)."""
    from metrics import workload as wl

    return wl.decision_notes(source(url), as_of=as_of, appeal_ids=appeal_ids)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Reading the policy clocks…")
def clock_ages(url: str, as_of: datetime, appeal_ids: tuple[str, ...]) -> pl.DataFrame:
    from metrics import workload as wl

    return wl.clock_age_hours(warehouse(url), as_of=as_of, appeal_ids=appeal_ids, store=store_reader(url))


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Listing the QA reviews behind the number…")
def qa_members(url: str, as_of: datetime, period_start: date, period: str, group: tuple[tuple[str, str], ...],
               filters: Filters, tz: str = "UTC", limit: int = api.DRILL_LIMIT_MAX):
    """The QA reviews behind a QA cell; `tz`: the reporting zone its period is in."""
    return api.qa_members(source(url), period_start=period_start, period=period, tz=tz, group=dict(group),
                          filters=filter_dict(filters), as_of=as_of, limit=limit)
