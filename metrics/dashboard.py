"""Page-level assembly of engine results for the dashboard (no SQL, no streamlit).

Every function here takes frames that `metrics.api.report` / `api.appeals` / `api.members`
returned and reshapes them: picks the focus period and the one before, joins tables,
adds Wilson intervals and funnel limits (metrics.stats), pseudonymises names. No metric is
computed here from appeal rows; the numbers are the engine's. The only exceptions are
display helpers over drill-down rows (ages, hours left) and the reconciliation check, which
recomputes a cell from its listed appeals (by the metric kind's rule, metrics.kinds)
precisely to show that it matches the report. Period arithmetic is metrics.periods'.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from metrics import stats
from metrics.catalog import METRICS, MIN_GROUP_SIZE
from metrics.conditions import Eq
from metrics.kinds import Listed, Tile
from metrics.periods import (  # noqa: F401 (the pages' API)
    TRAILING_PERIODS,
    next_period,
    period_last_day,
    previous_period,
    trailing_starts,
    truncate,
)

# The headline KPIs of the Overview, in display order.
KPI_METRICS: tuple[str, ...] = (
    "appeals_created",
    "appeals_resolved",
    "backlog_open",
    "backlog_breached",
    "ttr_p50_hours",
    "ttr_p90_hours",
    "ftr_p50_hours",
    "ftr_p90_hours",
    "ftr_sla_attainment",
    "ttr_sla_attainment",
    "overturn_rate",
    "qa_accuracy",
)

# The sidebar's filters, each a grouping key whose values a store keeps at refresh (api.key_values).
FILTER_KEYS: tuple[str, ...] = ("queue", "priority", "market", "site", "pod")

# Columns of the per-queue table (every KPI plus the other rates).
GROUP_TABLE_METRICS: tuple[str, ...] = KPI_METRICS + ("reopen_rate", "escalation_rate")

# Metrics whose cells the engine can list appeal by appeal (api.members: facts cohorts).
RECONCILABLE = tuple(name for name, m in METRICS.items() if m.reconcilable)

# The engine's condition for open appeals (drill-down of the open backlog).
OPEN_APPEALS = Eq("status", "open")


# -- periods ------------------------------------------------------------------------------------


def period_start(day: date, grain: str) -> date:
    return truncate(day, grain)


def period_starts(date_from: date, date_to: date, grain: str) -> list[date]:
    """Starts of the periods that overlap [date_from, date_to], oldest first."""
    if date_to < date_from:
        return []
    out = []
    cur = period_start(date_from, grain)
    while cur <= date_to:
        out.append(cur)
        cur = next_period(cur, grain)
    return out


def _week_span(start: date) -> str:
    end = period_last_day(start, "week")
    if start.year != end.year:
        return f"{start:%-d %b %Y}–{end:%-d %b %Y}"
    return f"{start:%-d %b}–{end:%-d %b %Y}" if start.month != end.month else f"{start:%-d}–{end:%-d %b %Y}"


def period_choice_label(start: date, grain: str) -> str:
    """A compact label for pickers: "W47 · 16–22 Nov 2026", "Mon 16 Nov 2026", "November 2026"."""
    if grain == "week":
        return f"W{start.isocalendar().week:02d} · {_week_span(start)}"
    if grain == "day":
        return start.strftime("%a %-d %b %Y")
    return start.strftime("%B %Y")


def period_label(start: date, grain: str, short: bool = False) -> str:
    if grain == "day":
        return start.strftime("%a %-d %b" if short else "%a %-d %b %Y")
    if grain == "week":
        iso = start.isocalendar()
        return f"W{iso.week:02d} ({start:%-d %b})" if short else f"week {iso.week} of {iso.year} ({_week_span(start)})"
    return start.strftime("%b %Y")


def default_date_range(as_of: datetime, weeks: int = 8, tz: str = "UTC") -> tuple[date, date]:
    """The last `weeks` ISO weeks ending with the last complete week at as_of (in `tz`): the
    week of as_of when it is complete (is_partial), else the week before. The default headline
    period is the range's last week, so it is never a partial week."""
    end = as_of.astimezone(ZoneInfo(tz)).date()
    week = period_start(end, "week")
    if is_partial(week, "week", as_of, tz):
        end = week - timedelta(days=1)
    start = period_start(end, "week") - timedelta(weeks=weeks - 1)
    return start, end


def is_partial(start: date, grain: str, as_of: datetime, tz: str = "UTC") -> bool:
    """True when the period (in `tz`) is still running at as_of (more than an hour of it left:
    as_of is the latest event, so a log whose last event came minutes before the period's end
    is a complete period)."""
    end = datetime.combine(next_period(start, grain), datetime.min.time(), tzinfo=ZoneInfo(tz))
    return as_of.astimezone(UTC) < end - timedelta(hours=1)


def latest_complete(starts: list[date], grain: str, as_of: datetime, tz: str = "UTC") -> date | None:
    """The latest of `starts` that is complete at as_of (the default headline period); the
    latest start when none is."""
    done = [s for s in starts if not is_partial(s, grain, as_of, tz)]
    return max(done) if done else (max(starts) if starts else None)


# -- headline KPIs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    description: str
    unit: str
    fmt: str
    higher_is_better: bool | None
    value: float | None
    previous: float | None
    numerator: int | None = None
    denominator: int | None = None
    prev_numerator: int | None = None
    prev_denominator: int | None = None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def relative_change(self) -> float | None:
        if self.change is None or not self.previous:
            return None
        return self.change / self.previous


def row_at(frame: pl.DataFrame, start: date, keys: dict | None = None) -> dict | None:
    sub = frame.filter(pl.col("period_start") == start)
    for k, v in (keys or {}).items():
        sub = sub.filter(pl.col(k).is_null() if v is None else pl.col(k) == v)
    return sub.row(0, named=True) if sub.height else None


def cell_value(row: dict | None, metric: str) -> float | None:
    """A metric's value in a report row; an absent row (or value) is the kind's empty value
    (0 for counts, unknown otherwise)."""
    value = None if row is None else row.get(metric)
    return METRICS[metric].kind.empty if value is None else value


def kpis(report: pl.DataFrame, focus: date, previous: date, metrics=KPI_METRICS, keys: dict | None = None) -> list[Kpi]:
    """The KPIs of one group in the focus period and in the period before, from a report frame."""
    now = row_at(report, focus, keys)
    before = row_at(report, previous, keys)
    out = []
    for name in metrics:
        m = METRICS[name]
        num = den = pnum = pden = None
        if m.kind.has_parts:
            num = (now or {}).get(f"{name}_numerator")
            den = (now or {}).get(f"{name}_denominator")
            pnum = (before or {}).get(f"{name}_numerator")
            pden = (before or {}).get(f"{name}_denominator")
        out.append(Kpi(name, m.label, m.description, m.unit, m.fmt, m.higher_is_better, cell_value(now, name),
                       cell_value(before, name), num, den, pnum, pden))
    return out


def trailing_average(report: pl.DataFrame, focus: date, grain: str, metrics=KPI_METRICS,
                     n: int = TRAILING_PERIODS) -> dict[str, tuple[float | None, int | None, int | None]]:
    """Each metric over the `n` periods before `focus` (periods.trailing_starts), as
    (value, numerator, denominator):
    - counts: the mean per period, a period absent from the report counting 0 (nothing happened);
    - ratios: sum of numerators ÷ sum of denominators (never a mean of rates), null when 0;
    - percentiles: null: a percentile of the window cannot be rebuilt from per-period percentiles.
    """
    starts = trailing_starts(focus, grain, n)
    window = complete_periods(report.filter(pl.col("period_start").is_in(starts)), starts, metrics)
    out: dict[str, tuple[float | None, int | None, int | None]] = {}
    for name in metrics:
        m = METRICS[name]
        if m.kind.has_parts:
            num, den = int(window[f"{name}_numerator"].sum()), int(window[f"{name}_denominator"].sum())
            out[name] = (num / den if den else None, num, den)
        elif m.kind.empty == 0:
            out[name] = (float(window[name].sum()) / n, None, None)
        else:
            out[name] = (None, None, None)
    return out


def kpis_vs_trailing(report: pl.DataFrame, focus: date, grain: str, metrics=KPI_METRICS,
                     n: int = TRAILING_PERIODS) -> list[Kpi]:
    """The focus period's KPIs against the trailing n-period average (trailing_average) in
    place of the previous period."""
    now = row_at(report, focus)
    base = trailing_average(report, focus, grain, metrics, n)
    out = []
    for name in metrics:
        m = METRICS[name]
        num = den = None
        if m.kind.has_parts:
            num, den = (now or {}).get(f"{name}_numerator"), (now or {}).get(f"{name}_denominator")
        value, pnum, pden = base[name]
        out.append(Kpi(name, m.label, m.description, m.unit, m.fmt, m.higher_is_better, cell_value(now, name),
                       value, num, den, pnum, pden))
    return out


def complete_periods(report: pl.DataFrame, starts: list[date], metrics, key: str | None = None) -> pl.DataFrame:
    """One row per period (and key value) over `starts`: absent cells become 0 for counts and
    null for percentiles and rates (a period in which nothing happened)."""
    cols = ["period_start"] + ([key] if key else [])
    grid = pl.DataFrame({"period_start": starts}, schema={"period_start": pl.Date})
    if key:
        values = report.select(pl.col(key)).unique()
        grid = grid.join(values, how="cross")
    wanted = [c for name in metrics for c in METRICS[name].columns]
    present = [c for c in wanted if c in report.columns]
    out = grid.join(report.select(cols + present), on=cols, how="left", nulls_equal=True)
    fills = [pl.col(n).fill_null(METRICS[n].kind.empty) for n in metrics
             if METRICS[n].kind.empty is not None and n in present]
    fills += [pl.col(c).fill_null(0) for c in present if c.endswith(("_numerator", "_denominator"))]
    if fills:
        out = out.with_columns(fills)
    return out.sort(cols)


# -- group tables (queues, specialists) ------------------------------------------------------------


def with_wilson(frame: pl.DataFrame, metric: str, min_size: int = MIN_GROUP_SIZE) -> pl.DataFrame:
    """Add `<metric>_ci_lo`, `<metric>_ci_hi` (95 % Wilson) and `<metric>_too_few` to a report frame."""
    num, den = f"{metric}_numerator", f"{metric}_denominator"
    lo, hi, few = [], [], []
    for k, n in zip(frame[num].to_list(), frame[den].to_list(), strict=True):
        ci = stats.wilson_interval(k, n)
        lo.append(ci[0] if ci else None)
        hi.append(ci[1] if ci else None)
        few.append((n or 0) < min_size)
    return frame.with_columns(
        pl.Series(f"{metric}_ci_lo", lo, dtype=pl.Float64),
        pl.Series(f"{metric}_ci_hi", hi, dtype=pl.Float64),
        pl.Series(f"{metric}_too_few", few, dtype=pl.Boolean),
    )


def group_table(report: pl.DataFrame, key: str, focus: date, metrics=GROUP_TABLE_METRICS,
                ci_metrics=("overturn_rate",), min_size: int = MIN_GROUP_SIZE) -> pl.DataFrame:
    """One row per value of `key` in the focus period, every metric with its parts, Wilson
    intervals for `ci_metrics`. Groups with no row in the focus period are left out."""
    sub = report.filter(pl.col("period_start") == focus)
    cols = [key]
    for name in metrics:
        if name not in sub.columns:
            continue
        cols += METRICS[name].columns
    out = sub.select(cols)
    for name in ci_metrics:
        if name in out.columns:
            out = with_wilson(out, name, min_size)
    return out.sort(key, nulls_last=True)


def rate_with_previous(report: pl.DataFrame, key: str, focus: date, previous: date,
                       metric: str = "overturn_rate") -> pl.DataFrame:
    """A rate per (non-null) group in the focus period with its Wilson interval and the
    previous period's rate as `previous_rate`, most numerator first."""
    now = group_table(report, key, focus, (metric,), (metric,)).filter(pl.col(key).is_not_null())
    before = group_table(report, key, previous, (metric,), ()).select(key, pl.col(metric).alias("previous_rate"))
    return now.join(before, on=key, how="left").sort([f"{metric}_numerator", key], descending=[True, False])


def queue_mix_expected(mix: pl.DataFrame, group: str = "specialist_id", metric: str = "overturn_rate") -> pl.DataFrame:
    """Expected rate of each group from its queue mix: Σ_q n_gq · p_q / Σ_q n_gq, with p_q the
    rate of queue q over all groups (a report by [group, queue] for one period)."""
    num, den = f"{metric}_numerator", f"{metric}_denominator"
    peer = mix.group_by("queue").agg(pl.col(num).sum(), pl.col(den).sum())
    peer_rates = {q: (k / n if n else None) for q, k, n in peer.select("queue", num, den).iter_rows()}
    rows = []
    for (gid,), part in mix.group_by(group, maintain_order=True):
        dens = {q: n for q, n in part.select("queue", den).iter_rows()}
        rows.append({group: gid, "expected": stats.expected_rate(dens, peer_rates)})
    schema = {group: pl.Utf8, "expected": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def peer_rate(mix: pl.DataFrame, metric: str = "overturn_rate") -> float | None:
    num = mix[f"{metric}_numerator"].sum() if mix.height else 0
    den = mix[f"{metric}_denominator"].sum() if mix.height else 0
    return num / den if den else None


def funnel(table: pl.DataFrame, mix: pl.DataFrame, group: str = "specialist_id", metric: str = "overturn_rate",
           min_size: int = MIN_GROUP_SIZE) -> pl.DataFrame:
    """Funnel-plot rows: each group's observed rate, volume, queue-mix expected rate, its 95 % and
    99.8 % limits and where the observed rate falls. `table` has the group's totals (numerator,
    denominator, rate) for the period; `mix` is the report by [group, queue] of that period."""
    num, den = f"{metric}_numerator", f"{metric}_denominator"
    exp = queue_mix_expected(mix, group, metric)
    base = table.select(group, metric, num, den).join(exp, on=group, how="left")
    out = []
    for row in base.iter_rows(named=True):
        pos = stats.funnel_position(row[metric], row["expected"], row[den], min_size)
        out.append({**row, "status": pos.status, "lo95": pos.lo95, "hi95": pos.hi95,
                    "lo998": pos.lo998, "hi998": pos.hi998})
    schema = {group: pl.Utf8, metric: pl.Float64, num: pl.Int64, den: pl.Int64, "expected": pl.Float64,
              "status": pl.Utf8, "lo95": pl.Float64, "hi95": pl.Float64, "lo998": pl.Float64, "hi998": pl.Float64}
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def active_days(daily: pl.DataFrame, group: str = "specialist_id") -> pl.DataFrame:
    """Days on which each group resolved at least one appeal, from a daily report of appeals_resolved."""
    schema = {group: pl.Utf8, "active_days": pl.Int64}
    if not daily.height:
        return pl.DataFrame(schema=schema)
    return (
        daily.filter(pl.col("appeals_resolved") > 0)
        .group_by(group)
        .agg(pl.col("period_start").n_unique().cast(pl.Int64).alias("active_days"))
    )


SPECIALIST_METRICS = ("appeals_resolved", "backlog_open", "backlog_breached", "ttr_p50_hours", "ttr_p90_hours",
                      "ftr_p50_hours", "ftr_p90_hours", "overturn_rate", "qa_accuracy", "reopen_rate")

# Which owner each figure of the specialist table is counted under (metrics.md, report rows).
SPECIALIST_OWNER_RULE = (
    "Backlog (open, breached) is counted at the end of the period under the specialist the appeal was "
    "assigned to at that moment, so a reassigned appeal counts for whoever held it then and an unassigned "
    "one for nobody. Resolved, active days, times, overturns, QA and reopens are counted under the "
    "appeal's owner as of the data's as-of time: its final decider, or the current assignee of an open appeal."
)


def specialist_table(report: pl.DataFrame, daily: pl.DataFrame, mix: pl.DataFrame, focus: date,
                     min_size: int = MIN_GROUP_SIZE) -> pl.DataFrame:
    """One row per specialist (owner) in the focus period: resolved per active day, backlog
    at the period end (under the owner then, see SPECIALIST_OWNER_RULE), TTR/FTR, overturn
    rate with parts, Wilson interval, queue-mix expected rate and funnel status, QA accuracy,
    reopen rate. Appeals without an owner are left out."""
    extra = [c for c in ("pod", "site", "team_lead") if c in report.columns]
    table = group_table(report.drop(extra), "specialist_id", focus, SPECIALIST_METRICS, ("overturn_rate",), min_size)
    table = table.filter(pl.col("specialist_id").is_not_null())
    if extra:
        attrs = report.select(["specialist_id", *extra]).drop_nulls("specialist_id").unique("specialist_id", keep="last")
        table = table.join(attrs, on="specialist_id", how="left")
    table = table.join(active_days(daily), on="specialist_id", how="left").with_columns(
        pl.col("active_days").fill_null(0)
    )
    table = table.with_columns(
        pl.when(pl.col("active_days") > 0)
        .then(pl.col("appeals_resolved") / pl.col("active_days"))
        .otherwise(None)
        .alias("resolved_per_active_day")
    )
    fun = funnel(table, mix, "specialist_id", "overturn_rate", min_size).select(
        "specialist_id", pl.col("expected").alias("overturn_expected"), pl.col("status").alias("funnel_status")
    )
    return table.join(fun, on="specialist_id", how="left").sort("specialist_id")


def most_unusual(table: pl.DataFrame) -> str | None:
    """The specialist whose overturn rate is furthest above the queue-mix expectation, in
    standard errors, among groups large enough to compare; else the one who resolved most."""
    if not table.height:
        return None
    comparable = table.filter(~pl.col("overturn_rate_too_few") & pl.col("overturn_expected").is_not_null())
    if comparable.height:
        p = pl.col("overturn_expected")
        n = pl.col("overturn_rate_denominator")
        z = (pl.col("overturn_rate") - p) / (p * (1 - p) / n).sqrt()
        return comparable.with_columns(z.alias("_z")).sort("_z", descending=True, nulls_last=True)["specialist_id"][0]
    return table.sort("appeals_resolved", descending=True)["specialist_id"][0]


def needs_attention(table: pl.DataFrame, key: str = "queue") -> str | None:
    """The group to look into first: the lowest resolution-SLA attainment, then the most
    breached backlog (groups without a value last)."""
    if not table.height:
        return None
    cols = [c for c in ("ttr_sla_attainment", "backlog_breached") if c in table.columns]
    if not cols:
        return table[key][0]
    ranked = table.sort(cols, descending=[c == "backlog_breached" for c in cols], nulls_last=True)
    return ranked[key][0]


# -- pseudonyms -------------------------------------------------------------------------------------


# Pseudonyms are only as secret as their salt: a salt in the code or the example file lets anyone
# hash sp_000..sp_999 and read the names back. Six base-32 characters (30 bits) keep one
# specialist's pseudonym the same whoever else is on screen (a collision, one in a thousand for a
# thousand specialists, lengthens only the colliding ones).
PSEUDONYM_LENGTH = 6
EXAMPLE_SALTS = frozenset({"", "CHANGE_ME", "appeals-review", "changeme", "salt", "secret"})
MIN_SALT_CHARS = 16
NAME_COLUMNS = ("specialist_name", "team_lead", "display_name")  # people's names: dropped when pseudonymised


def salt_problem(salt: str | None) -> str | None:
    """Why `salt` cannot protect pseudonyms (missing, the example value, too short), or None."""
    if not salt or salt.strip() in EXAMPLE_SALTS:
        return ("pseudonymising needs a secret salt: set APPEALS_PSEUDONYM_SALT or [pseudonyms] salt in "
                ".streamlit/secrets.toml to a random value of your own (not the example)")
    if len(salt) < MIN_SALT_CHARS:
        return f"the pseudonym salt is too short to keep names secret: use at least {MIN_SALT_CHARS} random characters"
    return None


def pseudonym(identifier: str, salt: str, length: int = PSEUDONYM_LENGTH) -> str:
    digest = hashlib.sha256(f"{salt}\x00{identifier}".encode()).digest()
    code = base64.b32encode(digest).decode().replace("O", "8").replace("I", "9")  # no O/0, I/1 confusion
    return f"Specialist {code[:length]}"


def pseudonyms(identifiers, salt: str) -> dict[str, str]:
    """Stable pseudonyms ("Specialist K4Q") from a salted hash; same id → same name on every
    screen and filter; colliding codes get longer until they are unique."""
    ids = sorted({i for i in identifiers if i is not None})
    out: dict[str, str] = {}
    length = PSEUDONYM_LENGTH
    pending = ids
    while pending:
        names = {i: pseudonym(i, salt, length) for i in pending}
        counts: dict[str, int] = {}
        for name in list(names.values()) + list(out.values()):
            counts[name] = counts.get(name, 0) + 1
        pending = [i for i, n in names.items() if counts[n] > 1]
        out.update({i: n for i, n in names.items() if counts[n] == 1})
        length += 1
    return out


def pseudonymise(frame: pl.DataFrame, salt: str, columns=("specialist_id",),
                 drop=NAME_COLUMNS) -> pl.DataFrame:
    """Replace specialist ids by pseudonyms and drop people's names (for screens shown in
    reviews); a human enforcer's id (`enforced_by` of a human enforcement) gets its pseudonym too."""
    out = frame.drop([c for c in drop if c in frame.columns])
    if "enforced_by" in out.columns and "enforcement_source" in out.columns:
        people = out.filter(pl.col("enforcement_source") == "human")["enforced_by"].to_list()
        mapping = pseudonyms(people, salt)
        out = out.with_columns(pl.when(pl.col("enforcement_source") == "human")
                               .then(pl.col("enforced_by").replace_strict(mapping, default=None, return_dtype=pl.Utf8))
                               .otherwise(pl.col("enforced_by")).alias("enforced_by"))
    for col in columns:
        if col in out.columns:
            mapping = pseudonyms(out[col].to_list(), salt)
            out = out.with_columns(pl.col(col).replace_strict(mapping, default=None, return_dtype=pl.Utf8))
    return out


# -- movers ---------------------------------------------------------------------------------------------


def top_movers(frames: dict[str, tuple[pl.DataFrame, str]], focus: date, previous: date,
               metric: str = "overturn_rate", n: int = 10) -> pl.DataFrame:
    """Groups whose count of `metric` numerator (e.g. overturns) moved most between the previous
    and the focus period, across several groupings: {"Policy": (report by policy, "policy")}."""
    num, den = f"{metric}_numerator", f"{metric}_denominator"
    rows = []
    for dimension, (frame, key) in frames.items():
        sub = frame.filter(pl.col("period_start").is_in([focus, previous]) & pl.col(key).is_not_null())
        for (value,), part in sub.group_by(key):
            now = row_at(part, focus) or {}
            before = row_at(part, previous) or {}
            k1, n1 = now.get(num) or 0, now.get(den) or 0
            k0, n0 = before.get(num) or 0, before.get(den) or 0
            r1 = k1 / n1 if n1 else None
            r0 = k0 / n0 if n0 else None
            rows.append({
                "dimension": dimension, "value": value, "previous": k0, "current": k1, "change": k1 - k0,
                "previous_rate": r0, "current_rate": r1,
                "rate_change": (r1 - r0) if r1 is not None and r0 is not None else None,
                "previous_denominator": n0, "current_denominator": n1,
            })
    schema = {"dimension": pl.Utf8, "value": pl.Utf8, "previous": pl.Int64, "current": pl.Int64, "change": pl.Int64,
              "previous_rate": pl.Float64, "current_rate": pl.Float64, "rate_change": pl.Float64,
              "previous_denominator": pl.Int64, "current_denominator": pl.Int64}
    if not rows:
        return pl.DataFrame(schema=schema)
    out = pl.DataFrame(rows, schema=schema, orient="row")
    out = out.filter(pl.col("change") != 0).with_columns(pl.col("change").abs().alias("_abs"))
    return out.sort(["_abs", "dimension", "value"], descending=[True, False, False]).drop("_abs").head(n)


def share_of_total(frame: pl.DataFrame, key: str, column: str) -> pl.DataFrame:
    """Add `share`: each group's part of the period's total of `column` (e.g. overturns by theme)."""
    return frame.with_columns(
        (pl.col(column) / pl.col(column).sum().over("period_start")).fill_nan(None).alias("share")
    )


# -- drill-down display helpers ----------------------------------------------------------------------


def _hours_between(later, earlier) -> pl.Expr:
    return (later - earlier).dt.total_seconds() / 3600.0


def at_risk_table(frame: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """SLA-at-risk rows for display: age and hours left to the resolution deadline."""
    now = pl.lit(as_of.astimezone(UTC)).cast(pl.Datetime("us", "UTC"))
    return frame.with_columns(
        _hours_between(now, pl.col("created_at")).alias("age_hours"),
        _hours_between(pl.col("ttr_deadline_at"), now).alias("hours_left"),
    ).select("appeal_id", "queue", "priority", "market", "specialist_id", "specialist_name", "created_at",
             "age_hours", "ttr_deadline_at", "hours_left", "ttr_target_hours", "sla_clock")


AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 4 h", 4), ("4–8 h", 8), ("8–24 h", 24), ("1–2 d", 48), ("2–3 d", 72), ("3–7 d", 168), ("> 7 d", math.inf),
)
# Bucket edges (hours) an age histogram chooses from: the fine ones for a queue worked in hours,
# the long ones for logs with appeals open for months (a month is 30 days here, a year 365).
AGE_EDGES: tuple[float, ...] = (4, 8, 24, 48, 72, 168, 336, 720, 1440, 2160, 4320, 8760)
MAX_AGE_EDGES = 8  # at most 9 bars
_LAST_FIXED_EDGE = 168  # the buckets up to "> 7 d" are always there (comparable across queues)


def _age_span(hours: float, upper: bool = False) -> str:
    if hours < 24 or (upper and hours == 24):
        return f"{hours:g} h"
    if hours < 720:
        return f"{hours / 24:g} d"
    if hours < 8760:
        return f"{hours / 720:g} mo"
    return f"{hours / 8760:g} y"


def _age_range(lo: float, hi: float) -> str:
    a, b = _age_span(lo), _age_span(hi, upper=True)
    (na, ua), (_nb, ub) = a.split(" "), b.split(" ")
    return f"{na}–{b}" if ua == ub else f"{a}–{b}"


def age_buckets(max_age_hours: float | None) -> tuple[tuple[str, float], ...]:
    """Age buckets that fit the data's range: the edges of AGE_EDGES below the oldest age (at
    least up to 7 days), the finest merged first while there are more than MAX_AGE_EDGES; the
    last bucket is open ("> 3 mo") and holds the oldest appeal. Up to 7 days old this is
    AGE_BUCKETS exactly."""
    top = max(max_age_hours or 0.0, _LAST_FIXED_EDGE)
    edges = [e for e in AGE_EDGES if e < top or e <= _LAST_FIXED_EDGE]
    while len(edges) > MAX_AGE_EDGES:
        edges.pop(0)
    out = [(f"< {_age_span(edges[0], upper=True)}", edges[0])]
    out += [(_age_range(lo, hi), hi) for lo, hi in zip(edges, edges[1:], strict=False)]
    out.append((f"> {_age_span(edges[-1])}", math.inf))
    return tuple(out)


def with_age_bucket(open_rows: pl.DataFrame, as_of: datetime) -> tuple[pl.DataFrame, dict[str, int]]:
    """Open appeals with their age bucket (time since created_at at as_of; the buckets follow the
    oldest appeal's age, age_buckets) and resolution-SLA state: the bars of the age chart, and
    the rows a click on a bar lists."""
    now = pl.lit(as_of.astimezone(UTC)).cast(pl.Datetime("us", "UTC"))
    age = _hours_between(now, pl.col("created_at"))
    oldest = open_rows.select(age.max()).item() if open_rows.height else None
    buckets = age_buckets(oldest)
    expr = pl.when(age < buckets[0][1]).then(pl.lit(buckets[0][0]))
    for label, upper in buckets[1:]:
        expr = expr.when(age < upper).then(pl.lit(label))
    order = {label: i for i, (label, _) in enumerate(buckets)}
    return open_rows.with_columns(
        expr.alias("age_bucket"),
        pl.col("ttr_sla").replace_strict(
            {"breached": "breached", "pending": "within SLA", "achieved": "within SLA"}, default="no SLA"
        ).alias("sla_state"),
    ), order


def age_distribution(open_rows: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Open appeals per age bucket and resolution-SLA state (with_age_bucket)."""
    rows, order = with_age_bucket(open_rows, as_of)
    out = rows.group_by("age_bucket", "sla_state").agg(pl.len().cast(pl.Int64).alias("appeals"))
    return out.with_columns(pl.col("age_bucket").replace_strict(order, return_dtype=pl.Int64).alias("bucket_order")).sort(
        "bucket_order", "sla_state"
    )


def sla_targets(rows: pl.DataFrame) -> dict[str, float | None]:
    """Typical SLA targets of a set of appeals: the median policy target of the rows given."""
    out: dict[str, float | None] = {}
    for col in ("ftr_target_hours", "ttr_target_hours"):
        values = rows[col].drop_nulls() if col in rows.columns else pl.Series([], dtype=pl.Float64)
        out[col] = float(values.median()) if values.len() else None
    return out


def targets_by_priority(rows: pl.DataFrame) -> pl.DataFrame:
    """The distinct SLA targets per priority among the rows given (for a caption)."""
    if not rows.height:
        return pl.DataFrame(schema={"priority": pl.Utf8, "ftr_target_hours": pl.Float64, "ttr_target_hours": pl.Float64})
    return (rows.group_by("priority").agg(pl.col("ftr_target_hours").median(), pl.col("ttr_target_hours").median())
            .sort("priority"))


# -- reconciliation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reconciliation:
    metric: str
    report_value: float | None
    report_numerator: int | None
    report_denominator: int | None
    listed_numerator: int | None
    listed_denominator: int | None
    listed_rows: int
    total_rows: int
    recomputed: float | None

    @property
    def complete(self) -> bool:
        return self.listed_rows >= self.total_rows

    @property
    def listed(self) -> Listed:
        return Listed(self.listed_numerator, self.listed_denominator, self.recomputed)

    @property
    def matches(self) -> bool | None:
        if not self.complete:
            return None
        return METRICS[self.metric].kind.matches(self.report_value, self.report_numerator, self.report_denominator,
                                                 self.listed)

    def tiles(self) -> list[Tile]:
        """The two figures beside the report's value that show how the listed appeals add up."""
        m = METRICS[self.metric]
        return m.kind.reconciliation_tiles(m, self.listed, self.report_numerator, self.report_denominator,
                                           self.total_rows)


def reconcile(metric: str, report_row: dict | None, members: pl.DataFrame, total: int) -> Reconciliation:
    """Compare a report cell with the appeals api.members listed for it (the kind's rule)."""
    m = METRICS[metric]
    listed = m.kind.listed(m, members)
    row = report_row or {}
    parts = m.kind.has_parts
    return Reconciliation(metric, cell_value(report_row, metric),
                          row.get(f"{metric}_numerator") if parts else None,
                          row.get(f"{metric}_denominator") if parts else None,
                          listed.numerator, listed.denominator, members.height, total, listed.recomputed)
