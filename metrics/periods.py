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
