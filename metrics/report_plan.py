"""What a report asks for, resolved and validated once for both engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metrics.catalog import ENFORCEMENT_KEYS, METRICS, report_columns, resolve_keys, resolve_metrics
from metrics.periods import PERIODS, truncate
from metrics.warehouse import WarehouseError

# Bounded work: a report covers at most this many periods of each grain (10 years of days, 20 of
# weeks, 50 of months), so no query grows with a range a user types (--from 0001-01-01).
MAX_PERIODS = {"day": 3660, "week": 1045, "month": 600}


@dataclass(frozen=True)
class ReportPlan:
    keys: list[str]
    metrics: list[str]
    period: str
    tz: str
    as_of: datetime
    period_from: date | None
    period_to: date
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    has_qa: bool = True
    has_enforcements: bool = True

    @property
    def columns(self) -> list[str]:
        return ["period_start", *self.keys, *report_columns(self.metrics)]

    def cohorts(self) -> list[str]:
        """Cohorts that create report rows (enforcements only feed appeal_rate)."""
        seen: list[str] = []
        for name in self.metrics:
            m = METRICS[name]
            cohort = m.kind.row_cohort(m)
            if cohort == "qa" and not self.has_qa:
                continue
            if cohort not in seen:
                seen.append(cohort)
        return seen

    @property
    def appeal_rate_supported(self) -> bool:
        """Whether the enforcements cohort is computed: a requested metric reads it (appeal_rate),
        the table exists, and it carries every grouping key and filter."""
        return (
            any("enforcements" in METRICS[n].kind.cohorts(METRICS[n]) for n in self.metrics)
            and self.has_enforcements
            and all(k in ENFORCEMENT_KEYS for k in self.keys)
            and all(k in ENFORCEMENT_KEYS for k in self.filters)
        )


def pinned_keys(keys, filters) -> dict[str, str]:
    """The grouping keys a filter holds to one value, with that value. Grouping by such a key
    makes one group of exactly the rows the filter keeps, for every cohort (an owner-following
    key filters and groups the backlog's stretches alike, and the rest of a report by the same
    facts column), so a report without it, the key added as a constant column, is the same
    answer: on a page filtered to one queue, the table by queue and the total row are one
    report (bench/README.md, "Reruns")."""
    return {k: values[0] for k in keys if k in (filters or {}) and len(values := tuple(filters[k])) == 1}


def make_plan(
    by, metrics, period, tz, as_of: datetime, date_from: date | None, date_to: date | None, filters, has_qa, has_enf
) -> ReportPlan:
    if period not in PERIODS:
        raise WarehouseError(f"--period: must be one of {', '.join(PERIODS)} (got {period!r})")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        shown = tz if len(str(tz)) <= 60 else f"{str(tz)[:60]}… ({len(str(tz)):,} characters)"
        raise WarehouseError(f"--tz: unknown IANA time zone {shown!r}") from None
    try:
        keys = resolve_keys(by)
        names = resolve_metrics(metrics)
    except ValueError as exc:
        raise WarehouseError(str(exc)) from None
    clean_filters: dict[str, tuple[str, ...]] = {}
    for key, values in (filters or {}).items():
        if values is None:
            continue
        values = tuple(str(v) for v in values)
        if not values:
            continue
        try:
            (col,) = resolve_keys([key])
        except ValueError as exc:
            raise WarehouseError(str(exc).replace("--by", "filter")) from None
        clean_filters[col] = values
    last = as_of.astimezone(zone).date()
    if date_to is not None:
        last = min(last, date_to)
    period_from = truncate(date_from, period) if date_from else None
    if period_from is not None:
        check_period_count(period_from, truncate(last, period), period, "--from")
    return ReportPlan(
        keys=keys,
        metrics=names,
        period=period,
        tz=tz,
        as_of=as_of,
        period_from=period_from,
        period_to=truncate(last, period),
        filters=clean_filters,
        has_qa=has_qa,
        has_enforcements=has_enf,
    )


def period_count(first: date, last: date, period: str) -> int:
    """How many periods of `period` from the one starting `first` to the one holding `last`."""
    if last < first:
        return 0
    if period == "day":
        return (last - first).days + 1
    if period == "week":
        return (last - first).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1


def check_period_count(first: date, last: date, period: str, name: str) -> None:
    """Refuse a report of more periods than MAX_PERIODS, naming the argument to change."""
    n = period_count(first, last, period)
    if n > MAX_PERIODS[period]:
        raise WarehouseError(
            f"{name}: {first.isoformat()} to {last.isoformat()} is {n:,} {period}s; a report covers at most "
            f"{MAX_PERIODS[period]:,} — pick a later --from or a longer --period"
        )
