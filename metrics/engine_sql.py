"""The catalog compiled to SQL: a report as one query pushed down to the warehouse.

Each cohort of the requested metrics becomes one grouped aggregate over appeal_facts (or
status spans, QA reviews, enforcements); the cells (period, group) are the union of the
cohorts' cells, and every metric is joined onto them. Ratios keep numerator and
denominator; percentiles are computed from rows in their own group, never averaged.
"""

from __future__ import annotations

import polars as pl

from metrics import dialect as sql_dialect
from metrics.catalog import COHORTS, ENFORCEMENT_KEYS, METRICS, OWNER_KEYS, CohortName
from metrics.conditions import Always, IsTrue
from metrics.kinds import Count
from metrics.report_plan import ReportPlan
from metrics.warehouse import Warehouse


def period_of(expr: str, period: str, tz: str | None = None, dialect: str | None = None) -> str:
    """The start of the period (of the zone bound as :tz) that holds the instant `expr`.
    period is one of metrics.periods.PERIODS (validated)."""
    return f"cast(date_trunc('{period}', {sql_dialect.wall_clock(expr, tz, dialect)}) as date)"


def _metric_aggregates(cohort: str, plan: ReportPlan, dialect: str) -> list[str]:
    out: list[str] = []
    for name in plan.metrics:
        m = METRICS[name]
        out += m.kind.sql_aggregates(m, cohort)
    return sql_dialect.expand_percentiles(out, dialect)


def compile_report(wh: Warehouse, plan: ReportPlan) -> tuple[str, dict]:
    """The report as the one statement it is (shown to Data partners, run on most warehouses)."""
    ctes, final, params, _parts = report_query(wh, plan)
    return wh.compose(ctes, final, params), params


def run_report(wh: Warehouse, plan: ReportPlan) -> pl.DataFrame:
    """The report's rows: compile_report's statement, with each cohort's grouped part computed
    first on DuckDB (Warehouse.query_staged), the same answer within a bounded memory."""
    ctes, final, params, parts = report_query(wh, plan)
    if wh.dialect == "duckdb":
        # the models once, within the memory budget, for the parts to read (a no-op when they
        # are already, or when wh is a store); one statement over the raw chain peaked at
        # 3.9 GB for a report at 1M appeals, and ran out of memory at 10M (bench/README.md)
        wh.materialize(params["as_of"])
    return wh.query_staged(ctes, final, params, stage=parts)


def report_query(wh: Warehouse, plan: ReportPlan) -> tuple[dict[str, str], str, dict, list[str]]:
    """The report's parts as run_report stages them: (CTEs, final select, bind parameters,
    the CTEs computed first). metrics.report_cache keys a kept answer by them."""
    params: dict = {"as_of": plan.as_of.isoformat(), "tz": plan.tz, "period_to": plan.period_to}
    params["period_from"] = plan.period_from
    filter_sql = []
    for col, values in plan.filters.items():
        names = []
        for i, value in enumerate(values):
            pname = f"f_{col}_{i}"
            params[pname] = value
            names.append(f":{pname}")
        filter_sql.append(f"{col} in ({', '.join(names)})")
    where = " and ".join(filter_sql) or "1 = 1"
    keys = plan.keys
    key_cols = "".join(f", {k}" for k in keys)
    group_by = ", ".join(str(i) for i in range(1, len(keys) + 2))

    def in_range(ts: str) -> str:
        """The rows of a part whose period lies in the asked range, decided before grouping:
        the same test the final select applies to the cells, so the answer is unchanged, and
        a dashboard's few weeks no longer group a whole history (bench/README.md, Dashboard).
        The instant test first (a period starting on or after `from` holds no instant earlier
        than `from` minus the widest UTC offset, 14 h) is cheap and lets DuckDB skip row groups."""
        upper = f"{period_of(ts, plan.period, plan.tz, wh.dialect)} <= cast(:period_to as date)"
        if plan.period_from is None:
            return upper
        return (f"{ts} >= cast(:period_from as date) - interval '1 day'"
                f" and {period_of(ts, plan.period, plan.tz, wh.dialect)} >= cast(:period_from as date) and {upper}")

    ctes: dict[str, str] = {"report_facts": f"select * from appeal_facts where {where}"}
    partials: list[str] = []
    for cohort_name in plan.cohorts():
        cohort = COHORTS[cohort_name]
        aggs = _metric_aggregates(cohort_name, plan, wh.dialect)
        if cohort_name == "enforcements":
            continue
        if cohort.source == "facts":
            sql = (
                f"select {period_of(cohort.timestamp, plan.period, plan.tz, wh.dialect)} as period_start{key_cols},\n"
                f"        {', '.join(aggs)}\n"
                f"    from report_facts\n    where {cohort.where.sql()} and {in_range(cohort.timestamp)}\n"
                f"    group by {group_by}"
            )
        elif cohort.source == "qa_reviews":
            # the reviews carry every facts column the plan reads (a store's: QA_FACTS): no join
            qa_facts = set(wh.qa_facts())
            if qa_facts and {*plan.filters, *keys} <= qa_facts:
                fk = "".join(f", q.{k}" for k in keys)
                source = "qa_reviews_clean as q"
                where = ["q.in_facts", *(f"q.{c}" for c in filter_sql)]
            else:
                fk = "".join(f", f.{k}" for k in keys)
                source = "qa_reviews_clean as q inner join report_facts as f on f.appeal_id = q.appeal_id"
                where = []
            sql = (
                f"select {period_of('q.reviewed_at', plan.period, plan.tz, wh.dialect)} as period_start{fk},\n"
                f"        {', '.join(aggs)}\n"
                f"    from {source}\n    where {' and '.join([*where, in_range('q.reviewed_at')])}\n"
                f"    group by {group_by}"
            )
        else:  # backlog at each period end
            ctes["periods"] = _periods_values(wh, plan, params)
            counted = _backlog_intervals(plan)
            stepped = counted is not None and "period_0" in params
            carried = wh.span_facts() if stepped else ()
            facts_sql, ctes["backlog_spans"] = _backlog_sources(plan, filter_sql, params, carried)
            if facts_sql is not None:
                ctes["backlog_facts"] = facts_sql
            # owner-following keys come from the stretch open at E, the rest from facts (or
            # from the facts columns the stretch carries, when it carries every one read)
            fk = "".join(f", {'s' if k in OWNER_KEYS or facts_sql is None else 'f'}.{k}" for k in keys)
            if not stepped:
                # a backlog metric that is not a count of open stretches, or no period: row by row
                ctes["backlog_rows"] = f"select p.period_start{fk},\n        {BACKLOG_IS_BREACHED} as is_breached\n{BACKLOG_FROM}"
                sql = f"select period_start{key_cols}, {', '.join(aggs)}\n    from backlog_rows\n    group by {group_by}"
            else:
                sql = _backlog_steps(wh, plan, ctes, fk, counted, joined=facts_sql is not None)
        ctes[f"part_{cohort_name}"] = sql
        partials.append(cohort_name)

    if plan.appeal_rate_supported:
        ek = "".join(f", {ENFORCEMENT_KEYS[k]} as {k}" for k in keys)
        ewhere = []
        for col, values in plan.filters.items():
            names = ", ".join(f":f_{col}_{i}" for i in range(len(values)))
            ewhere.append(f"{ENFORCEMENT_KEYS[col]} in ({names})")
        ctes["part_enforcements"] = (
            f"select {period_of('enforced_at', plan.period, plan.tz, wh.dialect)} as period_start{ek},\n"
            f"        {', '.join(_metric_aggregates('enforcements', plan, wh.dialect))}\n"
            f"    from enforcements_clean\n    where {' and '.join([*ewhere, in_range('enforced_at')])}\n"
            f"    group by {group_by}"
        )

    cells = "\n    union\n    ".join(f"select period_start{key_cols} from part_{p}" for p in partials)
    ctes["cells"] = cells or "select cast(null as date) as period_start where 1 = 0"

    joins = []
    for p in partials + (["enforcements"] if plan.appeal_rate_supported else []):
        on = " and ".join([f"part_{p}.period_start = c.period_start"] + [f"part_{p}.{k} is not distinct from c.{k}" for k in keys])
        joins.append(f"left join part_{p} on {on}")

    computed = set(partials) | ({"enforcements"} if plan.appeal_rate_supported else set())

    def ref(cohort: str, column: str) -> str | None:
        return f"part_{cohort}.{column}" if cohort in computed else None

    selects = ["c.period_start"] + [f"c.{k}" for k in keys]
    for name in plan.metrics:
        m = METRICS[name]
        selects += m.kind.sql_outputs(m, ref)

    order = ", ".join(["c.period_start"] + [f'c.{k} collate "C"' for k in keys])  # code-point order everywhere
    final = (
        f"select {', '.join(selects)}\nfrom cells as c\n" + "\n".join(joins) +
        f"\nwhere c.period_start <= cast(:period_to as date)"
        f" and (cast(:period_from as date) is null or c.period_start >= cast(:period_from as date))"
        f"\norder by {order}"
    )
    parts = [f"part_{p}" for p in partials + (["enforcements"] if plan.appeal_rate_supported else [])]
    return ctes, final, params, parts


# The one rule for backlog rows (metrics.md): an appeal is in the backlog of period end E when one
# of its open stretches holds E; breached when its resolution deadline is before the earlier of E
# and as_of. The report counts these rows; api.backlog_members lists them.
BACKLOG_IS_BREACHED = "coalesce(f.ttr_deadline_at < least(p.period_end, cast(:as_of as timestamp with time zone)), false)"
BACKLOG_SPANS = (
    "    from backlog_spans as s\n"
    "    inner join backlog_facts as f on f.appeal_id = s.appeal_id"
)
BACKLOG_FROM = (
    f"{BACKLOG_SPANS}\n"
    "    inner join periods as p\n"
    "        on s.open_from < p.period_end and (s.open_to is null or p.period_end <= s.open_to)"
)


def _backlog_intervals(plan: ReportPlan) -> dict[str, str] | None:
    """Each backlog metric asked for, and the stretch it counts at a period end: "open" (every
    open stretch) or "breached" (open past its deadline). None when a metric reads the backlog's
    rows otherwise: the report then counts them row by row."""
    counted: dict[str, str] = {}
    for name in plan.metrics:
        m = METRICS[name]
        if not m.kind.sql_aggregates(m, CohortName.BACKLOG):
            continue
        if not isinstance(m.kind, Count) or m.cohort != CohortName.BACKLOG:
            return None
        if isinstance(m.kind.where, Always):
            counted[name] = "open"
        elif m.kind.where == IsTrue("is_breached"):
            counted[name] = "breached"
        else:
            return None
    return counted


def _backlog_steps(wh: Warehouse, plan: ReportPlan, ctes: dict[str, str], fk: str, counted: dict[str, str],
                   joined: bool = True) -> str:
    """The backlog counts at each period end, from where each stretch starts and stops counting.

    A stretch open from F to T (T null while open) is counted at the ends E with F < E <= T:
    from the end of the period holding F, up to the end of the period before the one holding T.
    It is breached at E when also its deadline D is before E and before as_of: from the end of
    the period holding the later of F and D. So each stretch adds one at a period and takes it
    back at a later one, and the count at E is the running sum of these steps; exactly the
    rows BACKLOG_FROM joins (the drill-down lists them), without making one row per stretch
    and period end: a day grain over eight weeks made 22M rows from 6.5M stretches at 10M
    appeals (4 s of a 5 s report; bench/README.md). Steps before the first period are counted
    at it, steps after the last are never reached. With `joined` false the stretches carry
    the deadline and every facts column the report reads (see _backlog_sources)."""
    keys = plan.keys
    deadline = "f.ttr_deadline_at" if joined else "s.ttr_deadline_at"
    key_cols = "".join(f", {k}" for k in keys)

    def bucket(ts: str) -> str:
        return f"greatest({period_of(ts, plan.period, plan.tz, wh.dialect)}, cast(:period_0 as date))"

    opened, closed = bucket("s.open_from"), bucket("s.open_to")
    breached_from = bucket(f"greatest(s.open_from, {deadline})")
    ctes["backlog_marks"] = (
        f"select {opened} as opened_in,\n"
        f"        case when s.open_to is not null then {closed} end as closed_in,\n"
        f"        case when {deadline} < cast(:as_of as timestamp with time zone) then {breached_from} end"
        f" as breached_in{fk}\n"
        f"{BACKLOG_SPANS if joined else '    from backlog_spans as s'}"
    )
    last = "cast(:period_to as date)"
    is_breached = "breached_in is not null and (closed_in is null or breached_in < closed_in)"
    # stretches alike in their three periods and keys step together: counted once, the four
    # kinds of step come from a few hundred rows instead of four passes over every stretch
    # (10M store, one queue, week grain: 1.1 s -> 0.37 s; bench/README.md)
    marks = ", ".join(str(i) for i in range(1, len(keys) + 4))
    ctes["backlog_kinds"] = (f"select opened_in, closed_in, breached_in{key_cols}, cast(count(*) as integer) as stretches\n"
                             f"    from backlog_marks group by {marks}")
    ctes["backlog_deltas"] = (
        f"select opened_in as period_start{key_cols}, stretches as open_step, 0 as breached_step from backlog_kinds\n"
        f"    union all select closed_in{key_cols}, -stretches, 0 from backlog_kinds where closed_in <= {last}\n"
        f"    union all select breached_in{key_cols}, 0, stretches from backlog_kinds where {is_breached} and breached_in <= {last}\n"
        f"    union all select closed_in{key_cols}, 0, -stretches from backlog_kinds where {is_breached} and closed_in <= {last}"
    )
    group_by = ", ".join(str(i) for i in range(1, len(keys) + 2))
    ctes["backlog_steps"] = (f"select period_start{key_cols}, sum(open_step) as open_step, "
                             f"sum(breached_step) as breached_step\n    from backlog_deltas group by {group_by}")
    if keys:
        ctes["backlog_groups"] = f"select distinct {', '.join(keys)} from backlog_steps"
        grid = "periods as p cross join backlog_groups as g"
        on = " and ".join(["d.period_start = p.period_start"] + [f"d.{k} is not distinct from g.{k}" for k in keys])
        partition = f"partition by {', '.join(f'g.{k}' for k in keys)} "
    else:
        grid, on, partition = "periods as p", "d.period_start = p.period_start", ""
    window = f"over ({partition}order by p.period_start rows between unbounded preceding and current row)"
    ctes["backlog_counts"] = (
        f"select p.period_start{''.join(f', g.{k}' for k in keys)},\n"
        f"        sum(coalesce(d.open_step, 0)) {window} as open_count,\n"
        f"        sum(coalesce(d.breached_step, 0)) {window} as breached_count\n"
        f"    from {grid}\n    left join backlog_steps as d on {on}"
    )
    outputs = ", ".join(f"{'open_count' if c == 'open' else 'breached_count'} as {name}" for name, c in counted.items())
    # a cell is there when a stretch is open at its end, as when its rows are counted
    return f"select period_start{key_cols}, {outputs}\n    from backlog_counts\n    where open_count > 0"


def compile_backlog_members(wh: Warehouse, plan: ReportPlan, breached_only: bool, columns: list[str],
                            limit: int, offset: int) -> tuple[str, dict]:
    """The appeals behind one backlog cell (the plan's one period, its filters as the group):
    the same rows the report counts, the owner-following keys as at the period end."""
    params: dict = {"as_of": plan.as_of.isoformat(), "tz": plan.tz, "period_to": plan.period_to,
                    "period_from": plan.period_from}
    filter_sql = []
    for col, values in plan.filters.items():
        names = []
        for i, value in enumerate(values):
            params[f"f_{col}_{i}"] = value
            names.append(f":f_{col}_{i}")
        filter_sql.append(f"{col} in ({', '.join(names)})")
    facts_sql, spans_sql = _backlog_sources(plan, filter_sql, params)
    ctes = {"periods": _periods_values(wh, plan, params), "backlog_facts": facts_sql, "backlog_spans": spans_sql}
    cols = []
    for c in columns:
        if c in OWNER_KEYS:
            cols.append(f"s.{c}")
        elif c == "specialist_name":  # the name of the owner at the period end, when it is still the owner
            cols.append("case when s.specialist_id = f.specialist_id then f.specialist_name end as specialist_name")
        else:
            cols.append(f"f.{c}")
    where = "p.period_start = cast(:period_from as date)" + (f" and {BACKLOG_IS_BREACHED}" if breached_only else "")
    select = (
        f"select {', '.join(cols)}, {BACKLOG_IS_BREACHED} as is_breached, count(*) over () as total_rows\n"
        f"{BACKLOG_FROM}\n    where {where}\n"
        f'    order by f.ttr_deadline_at, f.appeal_id collate "C" limit {int(limit)} offset {int(offset)}'
    )
    return wh.compose(ctes, select, params), params


def _backlog_sources(plan: ReportPlan, filter_sql: list[str], params: dict,
                     carried: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """Facts and spans behind backlog: a filter on an owner-following key selects the open
    stretches whose owner matches (metrics.md, report rows), every other filter the appeals.

    Only the stretches the join to the periods can keep are read: opened before the last
    period end and not closed before the first (the join's own test, as the ends increase).
    A dashboard's nine weeks joined every stretch of history: the costliest part of its
    reports at 1M (bench/README.md).

    When the stretches carry (`carried`) the deadline and every other facts column the plan
    filters or groups by, the facts are not read (None): each stretch already holds its
    appeal's values, and the join to the appeal's facts row cost half of a dashboard backlog
    report at 10M (0.55 s → 0.27 s; bench/README.md, "Dashboard CPU")."""
    ends = sorted((k for k in params if k.startswith("period_end_")), key=lambda k: int(k.rsplit("_", 1)[1]))
    window = [f"open_from < cast(:{ends[-1]} as timestamp with time zone)",
              f"(open_to is null or open_to >= cast(:{ends[0]} as timestamp with time zone))"] if ends else []
    read = {c for c in (*plan.filters, *plan.keys) if c not in OWNER_KEYS} | {"ttr_deadline_at"}
    if carried and read <= set(carried):
        return None, f"select * from status_spans where {' and '.join(window + filter_sql) or '1 = 1'}"
    on_spans = window + [c for col, c in zip(plan.filters, filter_sql, strict=True) if col in OWNER_KEYS]
    on_facts = [c for col, c in zip(plan.filters, filter_sql, strict=True) if col not in OWNER_KEYS]
    return (
        f"select * from appeal_facts where {' and '.join(on_facts) or '1 = 1'}",
        f"select * from status_spans where {' and '.join(on_spans) or '1 = 1'}",
    )


def _periods_values(wh: Warehouse, plan: ReportPlan, params: dict) -> str:
    """The report's periods with their end instants, as a VALUES list of bind parameters.

    Computed here rather than in SQL: a generated number series joined to every open span
    made PostgreSQL re-evaluate it per span. The list starts at --from, else at the period
    of the earliest appeal (no appeal is open before it).
    """
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from metrics.periods import next_period
    from metrics.report_plan import check_period_count, truncate

    found = wh.query(
        wh.compose(None, "select min(created_at) as first_at from stg_appeals "
                         "where created_at <= cast(:as_of as timestamp with time zone)", params),
        params,
    )["first_at"][0]
    if found is None:
        return "select cast(null as date) as period_start, cast(null as timestamp with time zone) as period_end where 1 = 0"
    # no appeal is open before the first one: an earlier --from adds no row, only work
    first = truncate(found.astimezone(ZoneInfo(plan.tz)).date(), plan.period)
    if plan.period_from is not None and plan.period_from > first:
        first = plan.period_from
    check_period_count(first, plan.period_to, plan.period, "--from" if plan.period_from else "--period")
    zone = ZoneInfo(plan.tz)
    rows = []
    start = first
    while start <= plan.period_to:
        nxt = next_period(start, plan.period)
        i = len(rows)
        params[f"period_{i}"] = start
        params[f"period_end_{i}"] = datetime.combine(nxt, time(0), tzinfo=zone).isoformat()
        rows.append(f"(cast(:period_{i} as date), cast(:period_end_{i} as timestamp with time zone))")
        start = nxt
    if not rows:
        return "select cast(null as date) as period_start, cast(null as timestamp with time zone) as period_end where 1 = 0"
    return f"select period_start, period_end from (values {', '.join(rows)}) as p(period_start, period_end)"
