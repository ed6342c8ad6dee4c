"""Reports computed at refresh and kept in the store: the dashboard's first view and the CLI's
default report read them instead of grouping every stored fact again (at 10M appeals a report
over the store groups 10M facts eight times; bench/README.md, "10M end to end, evening session").

A kept answer is keyed by the report's own SQL (its CTEs and final select, before the stored
tables are named) and its bind parameters: the same question over the same stored state. A
change to the engine's SQL, the metrics, the range, the filters, the zone or the as-of makes
another key, so a kept answer is only ever the answer that query gives; everything else is
computed as before.

An incremental refresh does not group the whole history again for them: a report's rows are
its (period, group) cells, and a cell holds only what counts in its period. The weeks where
some recomputed appeal counts differently than before (`touched_periods`), the weeks between
the two as-ofs (the last one's end is as_of) and the weeks of changed enforcement rows are
computed again; every other row is the last state's answer (`splice`). The random-sequence
tests (tests/test_store.py) compare every kept answer with its computation after each step.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, replace
from datetime import date, datetime

import polars as pl

from metrics import dashboard
from metrics.periods import next_period

# The Overview's reports (pages/overview.py), in the dashboard's default view: no filter, the
# default range of weeks, the reporting zone. tests/test_report_cache.py proves that the
# Overview's first load on a ready store asks exactly these (it computes no report).
SLA_METRICS: tuple[str, ...] = ("ttr_sla_attainment", "ftr_sla_attainment")
OVERVIEW_REPORTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    ((), dashboard.GROUP_TABLE_METRICS),  # headline KPIs (the same call as the Queues total row)
    (("queue",), SLA_METRICS),  # exceptions table, per queue
    ((), SLA_METRICS),  # exceptions table, all queues
)
# `python -m metrics report` with its defaults (interfaces.md: --by queue --period week, UTC)
CLI_DEFAULT_REPORT = {"by": ["queue"], "period": "week", "tz": "UTC"}

SCHEMA = {"report_key": pl.Utf8, "answer": pl.Utf8}


def key(extra_ctes: dict[str, str], select: str, params: dict, stage: list[str]) -> str:
    text = json.dumps([sorted(extra_ctes.items()), select, sorted(params.items()), list(stage)], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def encode(frame: pl.DataFrame) -> str:
    """A frame as text (Parquet, base64): every store dialect keeps text, and Parquet keeps
    the column types."""
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def decode(text: str) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(base64.b64decode(text)))


def default_zones(team_zone: str | None = None) -> list[str]:
    """The reporting zones the dashboard opens in: the team's (given, else APPEALS_TZ) and UTC."""
    zone = team_zone or os.environ.get("APPEALS_TZ", "").strip()
    return list(dict.fromkeys([z for z in (zone, "UTC") if z]))


def named_asks(as_of: datetime, zones: list[str]) -> list[tuple[str, dict]]:
    """The api.report arguments of the default views, each with a name that stays the same
    from one as-of to the next (a refresh finds the last state's answer by it): the CLI's
    default report, and the Overview's reports over its default range in each zone."""
    asks: list[tuple[str, dict]] = [("cli", dict(CLI_DEFAULT_REPORT))]
    for tz in zones:
        start, end = dashboard.default_date_range(as_of, tz=tz)
        for i, (by, metrics) in enumerate(OVERVIEW_REPORTS):
            asks.append((f"overview {i} {tz}", {"by": list(by), "period": "week", "date_from": start, "date_to": end,
                                                "metrics": list(metrics), "tz": tz, "filters": {}}))
    return asks


# sql_version's zones: a report's SQL depends on the zone only through UTC or not; fixed, the
# version is one for every refresh of one code (the dashboard's and the CLI's may keep others)
_VERSION_ZONES = ["UTC", "America/New_York"]
_PERIOD_BIND = re.compile(r":period(_end)?_\d+\b")


def sql_version(reader) -> str:
    """The default views' report SQL as this code writes it. A kept answer is found by its
    query's key, so a code change to a report's SQL that leaves every model as it was (no
    full rebuild) left the kept answers unreachable until the warehouse changed, and an
    incremental refresh spliced answers of the old SQL with cells of the new. The store notes
    this version; another one keeps every answer again, computed whole (metrics.refresh).
    Only the text counts: the bind values, and the periods' list, whose length follows the
    as-of and the data, are left out. The filter keys whose values the store keeps beside
    (api.key_values) count too: a store written without them keeps them at its next refresh."""
    from metrics import api, engine_sql
    from metrics.warehouse import WarehouseError

    texts = []
    for name, ask in named_asks(reader.as_of, _VERSION_ZONES):
        try:
            plan = api.plan_report(reader, as_of=reader.as_of, **ask)
        except WarehouseError:
            continue
        ctes, final, _params, parts = engine_sql.report_query(reader, plan)
        body = [[k, v] for k, v in ctes.items() if k != "periods"] + [["final", final], ["parts", parts]]
        texts.append([name, _PERIOD_BIND.sub(":period_n", json.dumps(body))])
    texts.append(["key_values", list(dashboard.FILTER_KEYS), "specialist_names"])
    return hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:16]


# every grouping key of the default views (touched_periods compares each appeal's cells by them)
ASK_KEYS: tuple[str, ...] = tuple(dict.fromkeys([*CLI_DEFAULT_REPORT["by"], *(k for by, _ in OVERVIEW_REPORTS for k in by)]))


def ask_zones(zones: list[str]) -> list[str]:
    """The reporting zones of the default views: the CLI's report's and the Overview's."""
    return list(dict.fromkeys([CLI_DEFAULT_REPORT["tz"], *zones]))


@dataclass(frozen=True)
class Previous:
    """What an incremental refresh carries over: the last state's kept answers by ask name,
    and, by reporting zone (ask_zones), the week starts whose cells may differ now."""

    answers: dict[str, pl.DataFrame]
    weeks: dict[str, set[date]]


def warm(reader, zones: list[str], previous: Previous | None = None) -> tuple[pl.DataFrame, dict[str, str]]:
    """Compute the default views' reports over `reader` (a StoreWarehouse of the state being
    written): the rows to keep, (report_key, answer), and each ask's key by name. With
    `previous`, an ask the last state kept is spliced from its answer (module docstring)."""
    from metrics import api, engine_sql
    from metrics.warehouse import WarehouseError

    rows: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    for name, ask in named_asks(reader.as_of, zones):
        try:
            plan = api.plan_report(reader, as_of=reader.as_of, **ask)
        except WarehouseError:  # e.g. an APPEALS_TZ that is not a zone: nothing to keep for it
            continue
        old = previous.answers.get(name) if previous else None
        if old is not None and plan.period == "week":
            ctes, final, params, parts = engine_sql.report_query(reader, plan)
            k, frame = key(ctes, final, params, parts), splice(reader, plan, old, previous.weeks[plan.tz])
        else:
            reader.recorded = {}
            try:
                api.report(reader, as_of=reader.as_of, **ask)
                ((k, frame),) = reader.recorded.items()  # one staged query per report
            finally:
                reader.recorded = None
        rows.append((k, encode(frame)))
        names[name] = k
    return pl.DataFrame(rows, schema=SCHEMA, orient="row"), names


def splice(reader, plan, old: pl.DataFrame, touched: set[date]) -> pl.DataFrame:
    """The report of `plan` over `reader`: the rows of the periods in `touched` computed, the
    others taken from `old` (the same report over the last state), in the report's order
    (by period, each period's rows as its query ordered them)."""
    from metrics import engine_sql

    lo, hi = plan.period_from, plan.period_to
    wanted = sorted(p for p in touched if p <= hi and (lo is None or p >= lo))
    kept = old.filter(~pl.col("period_start").is_in(wanted) & (pl.col("period_start") <= hi))
    if lo is not None:
        kept = kept.filter(pl.col("period_start") >= lo)
    parts = [kept] + [engine_sql.run_report(reader, replace(plan, period_from=a, period_to=b))
                      for a, b in _runs(wanted, plan.period)]
    return pl.concat(parts, how="vertical_relaxed").sort("period_start", maintain_order=True)


# more separate stretches than this are computed as one, from the first to the last: each
# stretch is a query of its own, the weeks between are cheap beside it
MAX_RUNS = 4


def _runs(periods: list[date], period: str) -> list[tuple[date, date]]:
    """Sorted period starts as stretches of consecutive periods, (first, last)."""
    runs: list[list[date]] = []
    for p in periods:
        if runs and next_period(runs[-1][1], period) == p:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    if len(runs) > MAX_RUNS:
        runs = [[runs[0][0], runs[-1][1]]]
    return [(a, b) for a, b in runs]


def _counted_plan(reader, tz: str):
    """The default views' metrics but the backlog's, by ASK_KEYS, weekly in `tz`."""
    from metrics import api
    from metrics.catalog import METRICS, CohortName

    counted = [n for n, m in METRICS.items() if not m.kind.sql_aggregates(m, CohortName.BACKLOG)]
    return api.plan_report(reader, by=list(ASK_KEYS), period="week", tz=tz, metrics=counted, as_of=reader.as_of)


def _cohort_reads(plan) -> dict[str, list[str]]:
    """For each cohort of `plan` but the backlog: the facts columns (for QA reviews: the review's)
    its cells read, from the Polars engine's expressions (their root columns)."""
    from metrics import engine_polars
    from metrics.catalog import COHORTS

    reads: dict[str, list[str]] = {}
    for name in plan.cohorts():
        cohort = COHORTS[name]
        if cohort.source not in ("facts", "qa_reviews"):
            continue
        exprs = [*engine_polars.aggregates(name, plan), *([cohort.where.polars()] if cohort.source == "facts" else [])]
        roots = [c for e in exprs for c in e.meta.root_names()]
        if cohort.source == "facts":
            roots.append(cohort.timestamp)
        reads[name] = list(dict.fromkeys(roots))
    return reads


def contribution_columns(reader, columns: list[str]) -> list[str]:
    """Of the facts `columns`, those touched_periods and backlog_divergence read: the others
    need not be fetched."""
    reads = _cohort_reads(_counted_plan(reader, "UTC"))
    wanted = {"appeal_id", *ASK_KEYS, "ttr_deadline_at", *(c for cols in reads.values() for c in cols)}
    return [c for c in columns if c in wanted]


@dataclass(frozen=True)
class Sides:
    """Some appeals' rows in the last state and in this one: facts (contribution_columns), QA
    reviews, and open stretches (with their appeal's ASK_KEYS and deadline)."""

    facts: tuple[pl.DataFrame, pl.DataFrame]
    qa: tuple[pl.DataFrame, pl.DataFrame] | None
    spans: tuple[pl.DataFrame, pl.DataFrame]


def touched_periods(reader, sides: Sides, tz: str) -> set[date]:
    """The weeks (in `tz`) in which some appeal counts differently in this state than in the
    last, in every metric but the backlog (backlog_divergence). A cell aggregates the rows of
    its cohort in its period and group; an appeal's row of a cohort (its period, keys and the
    columns the cohort's aggregates and condition read) that is not in the other state, or a QA
    review's, marks its period."""
    from metrics import engine_polars
    from metrics.catalog import COHORTS

    plan = _counted_plan(reader, tz)
    weeks: set[date] = set()
    for name, cols in _cohort_reads(plan).items():
        cohort = COHORTS[name]
        rows = []
        for i in (0, 1):
            f = sides.facts[i]
            if cohort.source == "facts":
                rows.append(f.filter(cohort.where.polars().fill_null(False)).select(
                    engine_polars.period_of(cohort.timestamp, plan), *dict.fromkeys(["appeal_id", *plan.keys, *cols])))
            else:
                rows.append(sides.qa[i].join(f.select(["appeal_id", *plan.keys]), on="appeal_id", how="inner")
                            .with_columns(engine_polars.period_of("reviewed_at", plan)))
        weeks |= {p for p in _differing(*rows)["period_start"].to_list() if p is not None}  # null: in no cell
    return weeks


def _differing(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """The rows of either frame that the other does not hold (nulls equal to nulls)."""
    both = pl.concat([before, after], how="vertical_relaxed")  # one schema (an all-null column)
    before, after = both.head(before.height), both.tail(after.height)
    return pl.concat([before.join(after, on=both.columns, how="anti", nulls_equal=True),
                      after.join(before, on=both.columns, how="anti", nulls_equal=True)])


def backlog_divergence(was: pl.DataFrame, now: pl.DataFrame) -> datetime | None:
    """The earliest instant at or after which some appeal may be in the backlog differently (a
    period end E counts an appeal's open stretch when open_from < E <= open_to): the open
    stretches of the same appeals before and after, with the facts columns the backlog reads.

    Each appeal's stretches are paired in order, before with after. A stretch that holds E in
    one state and has no identical partner holding E in the other is paired with a different
    row (or none); that pair's instant is at or before E: the missing partner's open_from, the
    earlier open_from, the shared open_from when another column differs, or the earlier
    open_to when only open_to does (a null open_to is open). None: every pair is identical."""
    order = ["appeal_id", "open_from", "open_to"]
    cols = [c for c in was.columns if c not in ("appeal_id", "open_from", "open_to")]

    def ranked(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.sort([*order, *cols], nulls_last=True)
        return frame.with_columns(pl.int_range(pl.len()).over("appeal_id").alias("_i"), pl.lit(True).alias("_in"))

    pairs = ranked(was).join(ranked(now), on=["appeal_id", "_i"], how="full", suffix="_now", coalesce=True,
                             nulls_equal=True)
    same_rest = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}_now")) for c in cols]) if cols else pl.lit(True)
    same_from = pl.col("open_from").eq_missing(pl.col("open_from_now"))
    same_to = pl.col("open_to").eq_missing(pl.col("open_to_now"))
    one_side = pl.col("_in").is_null() | pl.col("_in_now").is_null()
    instant = (
        pl.when(one_side).then(pl.coalesce("open_from", "open_from_now"))
        .when(~same_from).then(pl.min_horizontal("open_from", "open_from_now"))
        .when(~same_rest).then(pl.col("open_from"))
        .otherwise(pl.min_horizontal("open_to", "open_to_now"))  # only open_to differs; null: still open
    )
    moved = pairs.filter(one_side | ~(same_from & same_to & same_rest)).select(instant.alias("at"))
    if not moved.height:
        return None
    if moved["at"].null_count():  # a stretch without an instant to go by: from the first one on
        return pl.concat([was["open_from"], now["open_from"]]).min()
    return moved["at"].min()
