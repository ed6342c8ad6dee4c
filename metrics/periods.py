"""Reporting periods: the one list of grains and their calendar arithmetic.

Periods are calendar days, ISO weeks (Monday start) and months in the reporting timezone
(metrics.md, "Cohorting"). The CLI's `--period` choices, the report plan, both engines and
the dashboard's grain picker all read `PERIODS`; month arithmetic lives only here.
"""

from __future__ import annotations

from datetime import date, timedelta

PERIODS: tuple[str, ...] = ("day", "week", "month")

# The same grains as Polars duration strings (truncate / date_range / offset_by).
POLARS_INTERVALS: dict[str, str] = {"day": "1d", "week": "1w", "month": "1mo"}


def truncate(day: date, period: str) -> date:
    """The first day of the period that holds `day`."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: date, period: str) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_period(start: date, period: str) -> date:
    if period == "day":
        return start - timedelta(days=1)
    if period == "week":
        return start - timedelta(days=7)
    return (start.replace(day=1) - timedelta(days=1)).replace(day=1)


def period_last_day(start: date, period: str) -> date:
    return next_period(start, period) - timedelta(days=1)


# -- date presets and comparison baselines (the sidebar's quick ranges, the KPI comparison) --------
#
# A preset names a date range relative to `today`, the reporting time zone's calendar day of
# as_of, and the grain its trend is drawn at; its headline period is the latest complete period
# of that grain inside it. "Last 7 days" ends today (partial); "Last full week" is the ISO week
# before today's, Monday to Sunday.

PRESETS: dict[str, tuple[str, str]] = {  # name -> (label, grain)
    "last_7_days": ("Last 7 days", "day"),
    "last_28_days": ("Last 28 days", "day"),
    "this_week": ("This week", "day"),
    "this_month": ("This month", "day"),
    "last_full_week": ("Last full week", "week"),
}


def preset_range(name: str, today: date) -> tuple[date, date]:
    """The first and last day (inclusive) of preset `name` for the day `today`."""
    if name == "last_7_days":
        return today - timedelta(days=6), today
    if name == "last_28_days":
        return today - timedelta(days=27), today
    if name == "this_week":
        return truncate(today, "week"), today
    if name == "this_month":
        return truncate(today, "month"), today
    if name == "last_full_week":
        start = truncate(today, "week") - timedelta(days=7)
        return start, start + timedelta(days=6)
    raise ValueError(f"preset: unknown preset {name!r}; use one of {', '.join(PRESETS)}")


COMPARISONS: dict[str, str] = {  # name -> label
    "previous": "the previous period",
    "trailing4": "the trailing 4-period average",
}
TRAILING_PERIODS = 4


def trailing_starts(focus: date, period: str, n: int = TRAILING_PERIODS) -> list[date]:
    """The starts of the `n` periods before `focus`, oldest first (the trailing-average window)."""
    out, start = [], focus
    for _ in range(n):
        start = previous_period(start, period)
        out.append(start)
    return out[::-1]
