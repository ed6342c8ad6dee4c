"""The sample's calendar: its window, the stories' dates, public holidays and the specialists'
working clocks per site.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from metrics.sample.reference import DAY, HOLIDAY_CAPACITY, HOUR, SCHEDULES, WEEKS

# --------------------------------------------------------------------------------------------
# Calendar: window, stories, holidays and the specialists' working clocks
# --------------------------------------------------------------------------------------------


def _epoch(d: dt.date) -> float:
    return float((d - dt.date(1970, 1, 1)).days) * DAY


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """n-th (1-based; -1 = last) weekday (0 = Monday) of a month."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> dt.date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def _us_holidays(year: int) -> list[dt.date]:
    def observed(d: dt.date) -> dt.date:
        return (
            d - dt.timedelta(days=1)
            if d.weekday() == 5
            else d + dt.timedelta(days=1)
            if d.weekday() == 6
            else d
        )

    thanksgiving = _nth_weekday(year, 11, 3, 4)
    return sorted(
        {
            observed(dt.date(year, 1, 1)),
            _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
            _nth_weekday(year, 2, 0, 3),  # Presidents' Day
            _nth_weekday(year, 5, 0, -1),  # Memorial Day
            observed(dt.date(year, 6, 19)),  # Juneteenth
            observed(dt.date(year, 7, 4)),  # Independence Day
            _nth_weekday(year, 9, 0, 1),  # Labor Day
            thanksgiving,
            thanksgiving + dt.timedelta(days=1),
            observed(dt.date(year, 12, 25)),
        }
    )


def _ie_holidays(year: int) -> list[dt.date]:
    feb1 = dt.date(year, 2, 1)
    brigid = feb1 if feb1.weekday() == 4 else _nth_weekday(year, 2, 0, 1)
    days = {
        brigid,
        _easter(year) + dt.timedelta(days=1),  # Easter Monday
        _nth_weekday(year, 5, 0, 1),
        _nth_weekday(year, 6, 0, 1),
        _nth_weekday(year, 8, 0, 1),
        _nth_weekday(year, 10, 0, -1),  # October bank holiday
    }
    for fixed in (dt.date(year, 1, 1), dt.date(year, 3, 17), dt.date(year, 12, 25), dt.date(year, 12, 26)):
        days.add(fixed)
        if fixed.weekday() >= 5:  # weekend: the next free weekday is the substitute day off
            sub = fixed + dt.timedelta(days=1)
            while sub.weekday() >= 5 or sub in days or sub == dt.date(year, 12, 26):
                sub += dt.timedelta(days=1)
            days.add(sub)
    return sorted(days)


HOLIDAY_RULES = {"phoenix": _us_holidays, "dublin": _ie_holidays}


@dataclass
class _Calendar:
    end_date: dt.date
    start: dt.date
    n_days: int
    t_start: float
    cutoff: float  # events at or after this instant have not happened yet
    holidays: dict[str, list[dt.date]]
    fp_wave: tuple[float, float]
    spike_weeks: dict[int, float]
    badge: tuple[float, float]
    drift_from_week: int
    holiday_story: dt.date | None
    clocks: list[_Clock]

    def week_start(self, k: int) -> float:
        return self.t_start + 7 * k * DAY


class _Clock:
    """Capacity-weighted working time of a site: W(t) = working seconds up to t, and its inverse.

    Work that takes `d` working hours from `t` ends at W⁻¹(W(t) + d·3600): it only advances
    during the site's open hours (local time, DST aware, holidays closed), more slowly where
    the capacity is below 1 (the holiday-backlog story).
    """

    def __init__(self, starts: np.ndarray, ends: np.ndarray, caps: np.ndarray):
        self.starts, self.ends, self.caps = starts, ends, caps
        lengths = (ends - starts) * caps
        self.cum_end = np.cumsum(lengths)
        self.cum_start = self.cum_end - lengths

    def w(self, t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.starts, t, side="right") - 1
        i = np.clip(i, 0, len(self.starts) - 1)
        inside = np.clip(t, self.starts[i], self.ends[i]) - self.starts[i]
        return np.where(t < self.starts[0], 0.0, self.cum_start[i] + inside * self.caps[i])

    def advance(self, t: np.ndarray, hours: np.ndarray) -> np.ndarray:
        v = self.w(t) + hours * HOUR
        i = np.searchsorted(self.cum_end, v, side="right")
        i = np.clip(i, 0, len(self.starts) - 1)
        out = self.starts[i] + (v - self.cum_start[i]) / self.caps[i]
        return np.maximum(out, t + 1.0)


def _open_intervals(site: str, first: dt.date, last: dt.date, holidays: set[dt.date], capacity) -> _Clock:
    tz_name, rows = SCHEDULES[site]
    tz = ZoneInfo(tz_name)
    starts, ends, caps = [], [], []
    day = first
    while day <= last:
        if day not in holidays:
            for weekdays, s, e in sorted(rows, key=lambda r: r[1]):
                if day.isoweekday() not in weekdays:
                    continue
                sh, sm = map(int, s.split(":"))
                eh, em = map(int, e.split(":"))
                a = dt.datetime(day.year, day.month, day.day, sh, sm, tzinfo=tz)
                end_day = day + dt.timedelta(days=1) if (eh, em) == (0, 0) else day
                b = dt.datetime(end_day.year, end_day.month, end_day.day, eh, em, tzinfo=tz)
                starts.append(a.timestamp())
                ends.append(b.timestamp())
                caps.append(capacity(day))
        day += dt.timedelta(days=1)
    order = np.argsort(starts)
    return _Clock(np.array(starts)[order], np.array(ends)[order], np.array(caps)[order])


def _calendar(end_date: dt.date) -> _Calendar:
    n_days = 7 * WEEKS
    start = end_date - dt.timedelta(days=n_days - 1)
    years = range(start.year - 1, end_date.year + 2)
    holidays = {site: sorted(d for y in years for d in rule(y)) for site, rule in HOLIDAY_RULES.items()}
    t_start = _epoch(start)

    def week(k: int) -> float:
        return t_start + 7 * k * DAY

    # story 5: the last Irish Monday bank holiday between week 4 and week 22 of the window
    # (with the default window: the October bank holiday, Monday 2026-10-26)
    lo, hi = start + dt.timedelta(days=28), start + dt.timedelta(days=7 * 23)
    candidates = [d for d in holidays["dublin"] if lo <= d < hi and d.weekday() == 0]
    holiday_story = candidates[-1] if candidates else None

    def dublin_capacity(day: dt.date) -> float:
        # the rest of the holiday week: most of the site on leave (school mid-term break)
        if holiday_story is not None and 1 <= (day - holiday_story).days <= 5:
            return HOLIDAY_CAPACITY
        return 1.0

    first, last = start - dt.timedelta(days=70), end_date + dt.timedelta(days=400)
    clocks = [
        _open_intervals("phoenix", first, last, set(holidays["phoenix"]), lambda d: 1.0),
        _open_intervals("dublin", first, last, set(holidays["dublin"]), dublin_capacity),
    ]
    return _Calendar(
        end_date=end_date,
        start=start,
        n_days=n_days,
        t_start=t_start,
        cutoff=_epoch(end_date + dt.timedelta(days=1)),
        holidays={k: [d for d in v if d.year in (start.year, end_date.year)] for k, v in holidays.items()},
        fp_wave=(week(11), week(13)),
        spike_weeks={16: 1.75, 17: 1.35},
        badge=(week(18), week(20)),
        drift_from_week=20,
        holiday_story=holiday_story,
        clocks=clocks,
    )
