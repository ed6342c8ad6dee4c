"""Sample warehouse generator: a realistic, deterministic appeals operation.

`generate()` returns every table of the warehouse contract (../shared/spec/warehouse.md) as
Polars frames; `write_sample()` writes them as a DuckDB file plus one Parquet file per table;
`metrics.bundled_sample.ensure_sample_duckdb()` rebuilds the DuckDB file from the committed
Parquet files.

What the data looks like (data/sample/README.md documents it for users):
- 26 ISO weeks of appeals ending on `end_date`, five queues, priorities P0-P3, six markets,
  two sites (Phoenix and Dublin) whose specialists work their site's business hours;
- a lifecycle log per appeal (assignment, automatic acknowledgement, claim, notes, evidence
  requests and user replies, escalations, decisions, reopenings, withdrawals), cut at the
  end of `end_date` (UTC) so recent appeals are still open;
- the enforcements behind the appeals plus the many that were never appealed, QA reviews,
  SLA policies, business hours and public holidays;
- six planted stories (a model false-positive wave, a policy-launch volume spike, a
  calibration outlier, a queue drifting out of SLA, a holiday backlog, an unnamed recurring
  problem in overturn notes) and a handful of deliberate data-quality cases.

Everything is vectorised with NumPy/Polars: one million appeals without text take well
under a minute. Each part draws from its own random stream, so `with_text=False` yields the
same numbers as `with_text=True`, only without the free-text columns.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from metrics.bundled_sample import ensure_sample_duckdb  # noqa: F401 (its old home)
from metrics.contract import EVENT_TYPES, TABLES
from metrics.load import write_duckdb

SAMPLE_END_DATE = dt.date(2026, 11, 22)
DEFAULT_SEED = 7
DEFAULT_APPEALS = 50_000
WEEKS = 26

TS = pl.Datetime("us", "UTC")
HOUR = 3600.0
DAY = 86400.0

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

QUEUES = ("account_suspension", "listing_removal", "livestream_ban", "payments_hold", "ip_counterfeit")
Q_ACC, Q_LIST, Q_LIVE, Q_PAY, Q_IP = range(5)
QUEUE_SHARE = np.array([0.22, 0.33, 0.14, 0.12, 0.19])
# share of enforcements that get appealed, per queue
APPEAL_RATE = np.array([0.22, 0.12, 0.18, 0.30, 0.14])
# P0..P3 mix per queue
PRIORITY_MIX = np.array(
    [
        [0.04, 0.22, 0.49, 0.25],
        [0.01, 0.12, 0.55, 0.32],
        [0.05, 0.25, 0.45, 0.25],
        [0.03, 0.30, 0.45, 0.22],
        [0.02, 0.15, 0.50, 0.33],
    ]
)
PRIORITIES = ("P0", "P1", "P2", "P3")
SELLER_SHARE = np.array([0.35, 0.97, 0.85, 0.70, 0.98])
EVIDENCE_RATE = np.array([0.25, 0.30, 0.20, 0.45, 0.50])
ESCALATION_RATE = np.array([0.07, 0.04, 0.08, 0.05, 0.10])
# escalation target mix (policy, legal, product) per queue
ESCALATION_MIX = np.array(
    [
        [0.60, 0.20, 0.20],
        [0.55, 0.20, 0.25],
        [0.70, 0.15, 0.15],
        [0.40, 0.35, 0.25],
        [0.25, 0.65, 0.10],
    ]
)
ESCALATION_TARGETS = ("policy", "legal", "product")
OVERTURN_BASE = np.array([0.14, 0.12, 0.16, 0.15, 0.11])

MARKETS = ("US", "GB", "DE", "IE", "PL", "AU")
MARKET_SHARE = np.array([0.36, 0.14, 0.13, 0.05, 0.11, 0.21])
MARKET_TZ = (
    "America/Chicago",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Dublin",
    "Europe/Warsaw",
    "Australia/Sydney",
)
LANGUAGES = ("en", "es", "de", "pl", "ga")
# language mix per market, columns as LANGUAGES
LANGUAGE_MIX = np.array(
    [
        [0.90, 0.10, 0.00, 0.00, 0.00],
        [1.00, 0.00, 0.00, 0.00, 0.00],
        [0.10, 0.00, 0.90, 0.00, 0.00],
        [0.97, 0.00, 0.00, 0.00, 0.03],
        [0.12, 0.00, 0.00, 0.88, 0.00],
        [1.00, 0.00, 0.00, 0.00, 0.00],
    ]
)
CHANNELS = ("in_app", "web_form", "email")
CHANNEL_SHARE = np.array([0.58, 0.29, 0.13])
# local hour-of-day profile of appeal submissions (evening peak)
# fmt: off
HOUR_PROFILE = np.array([
    0.55, 0.35, 0.22, 0.15, 0.12, 0.15, 0.3, 0.55, 0.8, 0.95, 1.0, 1.05,  # 00-11
    1.1, 1.05, 1.0, 1.0, 1.05, 1.15, 1.3, 1.5, 1.6, 1.55, 1.3, 0.9,  # 12-23
])
# fmt: on
WEEKDAY_PROFILE = np.array([1.18, 1.06, 1.0, 0.98, 0.95, 0.86, 0.9])  # Monday..Sunday

S_PHX, S_DUB = 0, 1
QUEUE_HOME_SITE = np.array([S_PHX, S_DUB, S_PHX, S_PHX, S_DUB])
OVERFLOW_SHARE = 0.07  # appeals routed to the other site's specialists

SCHEDULES: dict[str, tuple[str, list[tuple[tuple[int, ...], str, str]]]] = {
    # 17 h on weekdays in two shifts, the late one ends at midnight (stored as 00:00)
    "phoenix": (
        "America/Phoenix",
        [((1, 2, 3, 4, 5), "06:00", "14:00"), ((1, 2, 3, 4, 5), "15:00", "00:00"), ((6,), "08:00", "16:00")],
    ),
    # split shift with a lunch break, and a Saturday morning
    "dublin": (
        "Europe/Dublin",
        [((1, 2, 3, 4, 5), "08:00", "12:00"), ((1, 2, 3, 4, 5), "13:00", "17:00"), ((6,), "09:00", "13:00")],
    ),
}

# (queue, priority, first touch h, resolution h, clock, schedule)
SLA_POLICY_ROWS = [
    ("*", "P0", 1.0, 24.0, "calendar", None),
    ("*", "P1", 4.0, 48.0, "calendar", None),
    ("*", "P2", 8.0, 40.0, "business", "phoenix"),
    ("*", "P3", 16.0, 80.0, "business", "phoenix"),
    ("payments_hold", "P1", 2.0, 24.0, "calendar", None),
    ("listing_removal", "P2", 8.0, 32.0, "business", "dublin"),
    ("listing_removal", "P3", 16.0, 64.0, "business", "dublin"),
    ("ip_counterfeit", "P1", 4.0, 72.0, "calendar", None),
    ("ip_counterfeit", "P2", 8.0, 40.0, "business", "dublin"),
    ("ip_counterfeit", "P3", 16.0, 80.0, "business", "dublin"),
]

# (id, display name, pod, team lead, site, active_from, active_to)
SPECIALISTS = [
    ("sp_001", "Jordan Reyes", "phx-alpha", "Dana Whitfield", "phoenix", "2023-03-06", None),
    ("sp_002", "Priya Natarajan", "phx-alpha", "Dana Whitfield", "phoenix", "2023-05-15", None),
    ("sp_003", "Luis Carmona", "phx-alpha", "Dana Whitfield", "phoenix", "2024-01-08", None),
    ("sp_004", "Hannah Cole", "phx-alpha", "Dana Whitfield", "phoenix", "2024-02-19", None),
    ("sp_005", "DeShawn Parker", "phx-alpha", "Dana Whitfield", "phoenix", "2024-06-03", None),
    ("sp_006", "Mei Lin", "phx-alpha", "Dana Whitfield", "phoenix", "2024-09-09", None),
    ("sp_007", "Tyler Brooks", "phx-alpha", "Dana Whitfield", "phoenix", "2023-11-13", "2026-09-30"),
    ("sp_008", "Alejandra Ruiz", "phx-alpha", "Dana Whitfield", "phoenix", "2025-01-06", None),
    ("sp_009", "Kevin O'Hara", "phx-bravo", "Marcus Bell", "phoenix", "2023-04-17", None),
    ("sp_010", "Samantha Price", "phx-bravo", "Marcus Bell", "phoenix", "2024-03-11", None),
    ("sp_011", "Omar Haddad", "phx-bravo", "Marcus Bell", "phoenix", "2024-07-22", None),
    ("sp_012", "Brianna Scott", "phx-bravo", "Marcus Bell", "phoenix", "2025-02-03", None),
    ("sp_013", "Ethan Nguyen", "phx-bravo", "Marcus Bell", "phoenix", "2025-04-14", None),
    ("sp_014", "Grace Kim", "phx-bravo", "Marcus Bell", "phoenix", "2025-08-25", None),
    ("sp_015", "Noah Jensen", "phx-bravo", "Marcus Bell", "phoenix", "2026-08-03", None),
    ("sp_016", "Aisling Murphy", "dub-liffey", "Aoife Brennan", "dublin", "2023-02-20", None),
    ("sp_017", "Conor Walsh", "dub-liffey", "Aoife Brennan", "dublin", "2023-06-05", None),
    ("sp_018", "Katarzyna Zielinska", "dub-liffey", "Aoife Brennan", "dublin", "2023-09-18", None),
    ("sp_019", "Lukas Becker", "dub-liffey", "Aoife Brennan", "dublin", "2024-01-15", None),
    ("sp_020", "Niamh Doyle", "dub-liffey", "Aoife Brennan", "dublin", "2024-04-08", None),
    ("sp_021", "Pawel Kowalski", "dub-liffey", "Aoife Brennan", "dublin", "2024-05-27", None),
    ("sp_022", "Sophie Laurent", "dub-liffey", "Aoife Brennan", "dublin", "2024-10-14", None),
    ("sp_023", "Ciaran Byrne", "dub-spire", "Tomasz Nowak", "dublin", "2023-08-14", None),
    ("sp_024", "Anna Schmidt", "dub-spire", "Tomasz Nowak", "dublin", "2024-02-05", "2026-08-14"),
    ("sp_025", "Declan Farrell", "dub-spire", "Tomasz Nowak", "dublin", "2024-06-17", None),
    ("sp_026", "Magdalena Wojcik", "dub-spire", "Tomasz Nowak", "dublin", "2024-11-04", None),
    ("sp_027", "Roisin Kelly", "dub-spire", "Tomasz Nowak", "dublin", "2025-03-10", None),
    ("sp_028", "Jonas Weber", "dub-spire", "Tomasz Nowak", "dublin", "2025-06-23", None),
    ("sp_029", "Eimear Nolan", "dub-spire", "Tomasz Nowak", "dublin", "2025-09-01", None),
    ("sp_030", "Marta Lewandowska", "dub-spire", "Tomasz Nowak", "dublin", "2026-07-06", None),
]
SP_IDS = np.array([s[0] for s in SPECIALISTS])
SP_SITE = np.array([0 if s[4] == "phoenix" else 1 for s in SPECIALISTS])
OUTLIER_SPECIALIST = "sp_012"  # story 3: overturns far more often than peers
OUTLIER_FACTOR = 2.6
HOLIDAY_CAPACITY = 0.25  # story 5: share of the Dublin site at work in the rest of the holiday week
DRIFT_PER_WEEK = 0.6  # story 4: payments_hold work takes 1.6x, 2.2x, ... 4.6x as long
QA_REVIEWERS = ("qa_01", "qa_02", "qa_03", "qa_04")

OUTCOMES = ("upheld", "overturned", "partially_overturned")
ROOT_CAUSES = (
    "agent_error",
    "policy_misapplied",
    "automation_false_positive",
    "new_evidence",
    "policy_changed",
    "tooling_defect",
    "insufficient_evidence",
)
RC_AGENT, RC_MISAPPLIED, RC_AFP, RC_NEW_EV, RC_CHANGED, RC_TOOLING, RC_INSUFF = range(7)
# root-cause mix of overturns, by enforcement source
RC_MIX_AUTOMATED = np.array([0.03, 0.15, 0.45, 0.15, 0.06, 0.06, 0.10])
RC_MIX_HUMAN = np.array([0.42, 0.24, 0.00, 0.14, 0.05, 0.05, 0.10])
RC_MIX_LAUNCH = np.array([0.10, 0.30, 0.10, 0.10, 0.35, 0.02, 0.03])

# enforcement recipes per queue: (policy, source, enforced_by or "agent", weight)
FP_MODEL = "cv-counterfeit-v3.3"
BASE_COUNTERFEIT_MODEL = "cv-counterfeit-v3.2"
LAUNCH_POLICY = "giveaway_rules"
ENFORCEMENT_RECIPES: dict[int, list[tuple[str, str, str, float]]] = {
    Q_ACC: [
        ("shill_bidding", "automated", "bid-anomaly-v1.4", 0.22),
        ("harassment", "human", "agent", 0.18),
        ("payment_fraud", "automated", "risk-payments-v5.0", 0.15),
        ("ban_evasion", "automated", "linkage-graph-v2.2", 0.12),
        ("impersonation", "human", "agent", 0.13),
        ("harassment", "automated", "nlp-harassment-v2.1", 0.10),
        ("prohibited_item", "human", "agent", 0.10),
    ],
    Q_LIST: [
        ("counterfeit", "automated", BASE_COUNTERFEIT_MODEL, 0.40),
        ("prohibited_item", "automated", "cv-prohibited-v2.7", 0.25),
        ("prohibited_item", "human", "agent", 0.15),
        ("counterfeit", "human", "agent", 0.10),
        ("misleading_listing", "human", "agent", 0.10),
    ],
    Q_LIVE: [
        ("harassment", "automated", "nlp-harassment-v2.1", 0.30),
        ("live_conduct", "human", "agent", 0.30),
        ("prohibited_item", "human", "agent", 0.20),
        ("live_conduct", "automated", "live-guard-v1.0", 0.20),
    ],
    Q_PAY: [
        ("payment_fraud", "automated", "risk-payments-v5.0", 0.55),
        ("payment_fraud", "human", "agent", 0.20),
        ("off_platform_payment", "human", "agent", 0.15),
        ("shill_bidding", "automated", "bid-anomaly-v1.4", 0.10),
    ],
    Q_IP: [
        ("counterfeit", "human", "agent", 0.45),
        ("counterfeit", "automated", "ip-match-v1.9", 0.35),
        ("trademark", "human", "agent", 0.20),
    ],
}
# enforcements of the new policy after the launch (story 2): (policy, source, enforced_by, weight)
LAUNCH_RECIPE = [(LAUNCH_POLICY, "automated", "live-guard-v1.1", 0.6), (LAUNCH_POLICY, "human", "agent", 0.4)]
N_AGENTS = 60


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


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _lognormal(rng: np.random.Generator, median, sigma: float, n: int, lo=None, hi=None) -> np.ndarray:
    x = np.exp(np.log(median) + sigma * rng.standard_normal(n))
    if lo is not None or hi is not None:
        x = np.clip(x, lo, hi)
    return x


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of `probs` (n × k, rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(probs))
    return (u[:, None] > cum).sum(axis=1)


def _id_series(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    s = pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)
    return pl.select(pl.lit(prefix) + s).to_series()


def _ts(seconds: np.ndarray) -> pl.Series:
    us = np.floor(seconds).astype(np.int64) * 1_000_000
    return pl.Series(us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _pick_grouped(
    rng: np.random.Generator, groups: np.ndarray, pools: list[list[str]]
) -> tuple[pl.Series, np.ndarray]:
    """For each row, a random entry of pools[group]: (flat pool, flat index per row)."""
    counts = np.array([len(p) for p in pools])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    idx = offsets[groups] + (rng.random(len(groups)) * counts[groups]).astype(np.int64)
    flat = pl.Series([s for p in pools for s in p], dtype=pl.String)
    return flat, idx


def _gather(rng: np.random.Generator, groups: np.ndarray, pools: list[list[str]]) -> pl.Series:
    flat, idx = _pick_grouped(rng, groups, pools)
    return flat.gather(idx)


def _pick(rng: np.random.Generator, n: int, pool: list[str]) -> pl.Series:
    return pl.Series(pool, dtype=pl.String).gather(rng.integers(0, len(pool), n))


# --------------------------------------------------------------------------------------------
# Appeals
# --------------------------------------------------------------------------------------------


def _market_offsets(cal: _Calendar) -> np.ndarray:
    """UTC offset in seconds per (market, day of the window), at noon UTC."""
    out = np.zeros((len(MARKETS), cal.n_days))
    for m, tz_name in enumerate(MARKET_TZ):
        tz = ZoneInfo(tz_name)
        for d in range(cal.n_days):
            day = cal.start + dt.timedelta(days=d)
            noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).astimezone(tz)
            out[m, d] = noon.utcoffset().total_seconds()
    return out


def _volume_weights(rng: np.random.Generator, cal: _Calendar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected share of appeals per (queue, day), and the story multipliers in them."""
    days = np.arange(cal.n_days)
    weekday = np.array([(cal.start + dt.timedelta(days=int(d))).weekday() for d in days])
    week = days // 7
    trend = 1.0 + 0.08 * days / cal.n_days
    noise = np.exp(0.04 * rng.standard_normal((len(QUEUES), WEEKS)))
    base = QUEUE_SHARE[:, None] * WEEKDAY_PROFILE[weekday][None, :] * trend[None, :] * noise[:, week]
    wave_mult = np.ones((len(QUEUES), cal.n_days))
    t_day = cal.t_start + days * DAY
    in_wave = (t_day >= cal.fp_wave[0]) & (t_day < cal.fp_wave[1])
    wave_mult[Q_LIST, in_wave] = 1.5
    spike_mult = np.ones((len(QUEUES), cal.n_days))
    for k, m in cal.spike_weeks.items():
        spike_mult[Q_LIVE, week == k] = m
    weights = base * wave_mult * spike_mult
    return weights, wave_mult, spike_mult


def _appeals(rng: np.random.Generator, n: int, cal: _Calendar) -> dict[str, np.ndarray]:
    weights, wave_mult, spike_mult = _volume_weights(rng, cal)
    probs = (weights / weights.sum()).ravel()
    counts = rng.multinomial(n, probs)
    cell = np.repeat(np.arange(probs.size), counts)
    queue, day = np.divmod(cell, cal.n_days)
    market = rng.choice(len(MARKETS), size=n, p=MARKET_SHARE)
    local_sod = (rng.choice(24, size=n, p=HOUR_PROFILE / HOUR_PROFILE.sum()) + rng.random(n)) * HOUR
    utc_sod = np.mod(local_sod - _market_offsets(cal)[market, day], DAY)
    created = cal.t_start + day * DAY + np.floor(utc_sod)
    order = np.lexsort((cell, created))
    queue, day, market, created = queue[order], day[order], market[order], created[order]
    wave_extra = rng.random(n) < (1.0 - 1.0 / wave_mult[queue, day])
    spike_extra = rng.random(n) < (1.0 - 1.0 / spike_mult[queue, day])
    priority = _choice_rows(rng, PRIORITY_MIX[queue])
    seller = rng.random(n) < SELLER_SHARE[queue]
    # sellers in a suspension lose their income: appeals more often urgent
    bump = seller & (queue == Q_ACC) & (priority == 3) & (rng.random(n) < 0.3)
    priority = np.where(bump, 2, priority)
    language = _choice_rows(rng, LANGUAGE_MIX[market])
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARE)
    site = np.where(rng.random(n) < OVERFLOW_SHARE, 1 - QUEUE_HOME_SITE[queue], QUEUE_HOME_SITE[queue])
    return {
        "queue": queue,
        "day": day,
        "week": day // 7,
        "market": market,
        "created": created,
        "wave_extra": wave_extra,
        "spike_extra": spike_extra,
        "priority": priority,
        "seller": seller,
        "language": language,
        "channel": channel,
        "site": site,
        "weights": weights,
        "wave_mult": wave_mult,
        "spike_mult": spike_mult,
    }


def _assign_specialists(rng: np.random.Generator, ap: dict, cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """First assignee and a distinct second specialist of the same site, among those active."""
    n = len(ap["created"])
    day_date = np.array([cal.start + dt.timedelta(days=d) for d in range(cal.n_days)])
    act_from = np.array([dt.date.fromisoformat(s[5]) for s in SPECIALISTS])
    act_to = np.array([dt.date.fromisoformat(s[6]) if s[6] else dt.date.max for s in SPECIALISTS])
    sp1 = np.zeros(n, dtype=np.int64)
    sp2 = np.zeros(n, dtype=np.int64)
    # roster per (site, day): active on the day and still there two weeks later
    for site in (S_PHX, S_DUB):
        rosters: dict[tuple, list[int]] = {}
        for d in range(cal.n_days):
            day = day_date[d]
            active = tuple(
                int(i)
                for i in np.flatnonzero(site == SP_SITE)
                if act_from[i] <= day and act_to[i] >= day + dt.timedelta(days=14)
            )
            rosters.setdefault(active, []).append(d)
        for active, days in rosters.items():
            mask = (ap["site"] == site) & np.isin(ap["day"], days)
            m = int(mask.sum())
            if not m:
                continue
            roster = np.array(active)
            first = rng.integers(0, len(roster), m)
            second = (first + 1 + rng.integers(0, len(roster) - 1, m)) % len(roster)
            sp1[mask] = roster[first]
            sp2[mask] = roster[second]
    return sp1, sp2


# --------------------------------------------------------------------------------------------
# Enforcements
# --------------------------------------------------------------------------------------------


# Labels are integer codes until the frame is built: cheap for millions of rows.
POLICIES = tuple(sorted({r[0] for rs in ENFORCEMENT_RECIPES.values() for r in rs} | {LAUNCH_POLICY}))
SOURCES = ("automated", "human")
MODELS = tuple(
    sorted(
        {r[2] for rs in ENFORCEMENT_RECIPES.values() for r in rs if r[2] != "agent"}
        | {r[2] for r in LAUNCH_RECIPE if r[2] != "agent"}
        | {FP_MODEL}
    )
)
# enforced_by codes: the models first, then agent_001 .. agent_060
ENFORCERS = MODELS + tuple(f"agent_{i:03d}" for i in range(1, N_AGENTS + 1))
AGENT = -1
P_COUNTERFEIT, P_LAUNCH = POLICIES.index("counterfeit"), POLICIES.index(LAUNCH_POLICY)
SRC_AUTOMATED = SOURCES.index("automated")
BY_FP, BY_BASE_COUNTERFEIT = ENFORCERS.index(FP_MODEL), ENFORCERS.index(BASE_COUNTERFEIT_MODEL)


def _recipe_codes(recipes: list[tuple[str, str, str, float]]):
    pol = np.array([POLICIES.index(r[0]) for r in recipes])
    src = np.array([SOURCES.index(r[1]) for r in recipes])
    by = np.array([AGENT if r[2] == "agent" else ENFORCERS.index(r[2]) for r in recipes])
    w = np.array([r[3] for r in recipes])
    return pol, src, by, w / w.sum()


def _draw_enforcement(
    rng: np.random.Generator, queue: np.ndarray, t: np.ndarray, cal: _Calendar, launch_extra: np.ndarray
):
    """Codes of policy, source and enforced_by for enforcements of the given queues at times t."""
    n = len(queue)
    policy = np.zeros(n, dtype=np.int64)
    source = np.zeros(n, dtype=np.int64)
    by = np.zeros(n, dtype=np.int64)
    for q, recipes in ENFORCEMENT_RECIPES.items():
        mask = queue == q
        m = int(mask.sum())
        if not m:
            continue
        pol, src, eb, p = _recipe_codes(recipes)
        pick = rng.choice(len(p), size=m, p=p)
        pol, src, eb = pol[pick], src[pick], eb[pick]
        if q == Q_LIVE:
            # after the launch the new policy takes a steady share of livestream enforcements
            lpol, lsrc, leb, lp = _recipe_codes(LAUNCH_RECIPE)
            launched = t[mask] >= cal.week_start(min(cal.spike_weeks))
            use = launch_extra[mask] | (launched & (rng.random(m) < 0.12))
            lpick = rng.choice(len(lp), size=m, p=lp)
            pol = np.where(use, lpol[lpick], pol)
            src = np.where(use, lsrc[lpick], src)
            eb = np.where(use, leb[lpick], eb)
        policy[mask], source[mask], by[mask] = pol, src, eb
    # story 1: the counterfeit classifier v3.3 was live for two weeks, then rolled back
    in_wave = (t >= cal.fp_wave[0]) & (t < cal.fp_wave[1])
    by = np.where((by == BY_BASE_COUNTERFEIT) & in_wave, BY_FP, by)
    agents = len(MODELS) + rng.integers(0, N_AGENTS, n)
    by = np.where(by == AGENT, agents, by)
    return policy, source, by


def _labels(names, codes: np.ndarray) -> pl.Series:
    return pl.Series(list(names), dtype=pl.String).gather(codes)


def _enforcements(rng: np.random.Generator, ap: dict, cal: _Calendar, n_users: int):
    n = len(ap["created"])
    queue = ap["queue"]
    lag = _lognormal(rng, 20 * HOUR, 1.2, n, 600.0, 45 * DAY)
    # the wave's extra appeals come from the faulty model's enforcements during the wave
    wave_lag = np.minimum(lag, np.maximum(ap["created"] - cal.fp_wave[0], 60.0))
    lag = np.where(ap["wave_extra"], wave_lag, lag)
    enforced = np.floor(ap["created"] - lag)
    policy, source, by = _draw_enforcement(rng, queue, enforced, cal, ap["spike_extra"])
    wave_q = ap["wave_extra"]
    policy = np.where(wave_q, P_COUNTERFEIT, policy)
    source = np.where(wave_q, SRC_AUTOMATED, source)
    by = np.where(wave_q, BY_FP, by)
    user = rng.integers(1, n_users + 1, n)

    # enforcements that nobody appealed, per (queue, day), from two weeks before the window:
    # the usual ones at the queue's appeal rate, the faulty model's extra ones (appealed at 35%)
    # and the new policy's extra ones (appealed at the queue's rate)
    weights, wave_mult, spike_mult = ap["weights"], ap["wave_mult"], ap["spike_mult"]
    base_w = weights / (wave_mult * spike_mult)
    per_appeal = n / weights.sum()
    unappealed = ((1 - APPEAL_RATE) / APPEAL_RATE)[:, None]
    lead = np.zeros_like(base_w[:, :14])
    lam_base = np.concatenate([base_w[:, :14], base_w], axis=1) * per_appeal * unappealed
    lam_wave = np.concatenate([lead, base_w * (wave_mult - 1)], axis=1) * per_appeal * (0.65 / 0.35)
    lam_spike = np.concatenate([lead, base_w * (spike_mult - 1)], axis=1) * per_appeal * unappealed
    cells, draws = [], []
    for draw, lam in enumerate((lam_base, lam_wave, lam_spike)):
        counts = rng.poisson(lam).ravel()
        cells.append(np.repeat(np.arange(counts.size), counts))
        draws.append(np.full(counts.sum(), draw, dtype=np.int8))
    cell = np.concatenate(cells)
    draw = np.concatenate(draws)
    del cells, draws
    uq, ud = np.divmod(cell, cal.n_days + 14)
    del cell
    ut = cal.t_start + (ud - 14) * DAY + np.floor(rng.random(len(uq)) * DAY)
    del ud
    upol, usrc, uby = _draw_enforcement(rng, uq, ut, cal, draw == 2)
    wave = draw == 1
    upol[wave], usrc[wave], uby[wave] = P_COUNTERFEIT, SRC_AUTOMATED, BY_FP
    uuser = rng.integers(1, n_users + 1, len(uq))

    all_t = np.concatenate([enforced, ut])
    order = np.argsort(all_t, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    frame = pl.DataFrame(
        {
            "enforcement_id": _id_series("enf_", np.arange(1, len(order) + 1), 8),
            "user_id": _id_series("u_", np.concatenate([user, uuser])[order], 7),
            "action": _labels(QUEUES, np.concatenate([queue, uq])[order]),
            "policy": _labels(POLICIES, np.concatenate([policy, upol])[order]),
            "source": _labels(SOURCES, np.concatenate([source, usrc])[order]),
            "enforced_by": _labels(ENFORCERS, np.concatenate([by, uby])[order]),
            "enforced_at": _ts(all_t[order]),
        }
    )
    return frame, {
        "enforcement_number": rank[:n] + 1,
        "source_automated": source == SRC_AUTOMATED,
        "fp_model": by == BY_FP,
        "launch_policy": policy == P_LAUNCH,
        "user": user,
    }


# --------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------

E_ASSIGNED, E_CLAIMED, E_MSG, E_NOTE, E_EV_REQ, E_EV_REC, E_ESC, E_DECIDED, E_REOPENED, E_WITHDRAWN = range(
    10
)
EVENT_NAMES = EVENT_TYPES  # the codes above index the contract's own list, in its order
A_USER, A_BOT, A_CLOSEBOT = -1, -2, -3  # actor codes besides specialist indexes

# note kinds
N_NONE, N_INTERNAL, N_GUIDANCE, N_ESCALATION, N_DECISION = range(5)


@dataclass
class _Steps:
    """Columns of the event log before it becomes a frame (one entry per event)."""

    appeal: list
    time: list
    etype: list
    actor: list
    outcome: list
    root: list
    esc: list
    note_kind: list
    note_group: list
    order: list

    def add(
        self,
        mask,
        appeal,
        time,
        etype,
        actor,
        order,
        outcome=None,
        root=None,
        esc=None,
        note_kind=N_NONE,
        note_group=None,
    ):
        idx = np.flatnonzero(mask)
        m = len(idx)

        def col(v, fill, dtype):
            if v is None:
                return np.full(m, fill, dtype=dtype)
            v = np.asarray(v)
            return np.full(m, v, dtype=dtype) if v.ndim == 0 else v[idx].astype(dtype)

        self.appeal.append(appeal[idx].astype(np.int32))
        self.time.append(time[idx])
        self.etype.append(np.full(m, etype, dtype=np.int8))
        self.actor.append(col(actor, 0, np.int16))
        self.outcome.append(col(outcome, -1, np.int8))
        self.root.append(col(root, -1, np.int8))
        self.esc.append(col(esc, -1, np.int8))
        self.note_kind.append(np.full(m, note_kind, dtype=np.int8))
        self.note_group.append(col(note_group, -1, np.int8))
        self.order.append(np.full(m, order, dtype=np.int8))

    def concat(self) -> dict[str, np.ndarray]:
        out = {}
        for k in self.__dataclass_fields__:
            out[k] = np.concatenate(getattr(self, k))
            setattr(self, k, [])
        return out


def _outcome(rng, p_over, partial_share, rc_probs, n):
    over = rng.random(n) < p_over
    partial = rng.random(n) < partial_share
    outcome = np.where(over, np.where(partial, 2, 1), 0)
    root = np.where(over, _choice_rows(rng, rc_probs), -1)
    return outcome, root


def _lifecycle(
    rng: np.random.Generator, ap: dict, enf: dict, sp1: np.ndarray, sp2: np.ndarray, cal: _Calendar
):
    n = len(ap["created"])
    q, prio, site = ap["queue"], ap["priority"], ap["site"]
    calendar = prio <= 1  # P0/P1 are worked around the clock (on call), the rest in site hours
    clocks = cal.clocks

    def work(t, hours, site_=site):
        out = t + hours * HOUR
        for s in (S_PHX, S_DUB):
            m = (site_ == s) & ~calendar
            if m.any():
                out[m] = clocks[s].advance(t[m], hours[m])
        return out

    # story 4: the payments_hold queue slows down week after week at the end of the window
    drift = np.where(
        (q == Q_PAY) & (ap["week"] >= cal.drift_from_week),
        1.0 + DRIFT_PER_WEEK * (ap["week"] - cal.drift_from_week + 1),
        1.0,
    )

    t0 = ap["created"]
    app = np.arange(n)
    t_asg = t0 + _lognormal(rng, 45.0, 0.8, n, 2.0, 1800.0)
    has_ack = rng.random(n) < 0.97
    t_ack = t_asg + rng.uniform(2.0, 60.0, n)
    ft_median = np.array([0.2, 0.7, 2.5, 5.0])[prio]
    d_ft = _lognormal(rng, ft_median, 0.9, n, 1 / 30, None) * drift
    t_claim = work(t_asg, d_ft)

    # reassignment: before the claim (rebalancing) or mid-work (handover)
    r = rng.random(n)
    rea_early = r < 0.05
    rea_mid = (r >= 0.05) & (r < 0.08)
    t_rea_early = t_asg + rng.uniform(0.2, 0.8, n) * (t_claim - t_asg)
    worker = np.where(rea_early, sp2, sp1)

    # the user withdraws before anyone looks at it
    t_wd_early = t0 + _lognormal(rng, 8 * HOUR, 1.0, n, 1800.0, 20 * DAY)
    wd_early = (rng.random(n) < 0.015) & (t_wd_early < t_claim)

    cur = t_claim.copy()
    has_note = rng.random(n) < 0.25
    t_note = work(cur, _lognormal(rng, 0.3, 0.8, n, 1 / 30, 4.0))
    cur = np.where(has_note, t_note, cur)

    has_ev = rng.random(n) < EVIDENCE_RATE[q] * np.where(prio == 0, 0.5, 1.0)
    t_req = work(cur, _lognormal(rng, 0.25, 0.7, n, 1 / 30, 3.0))
    responds = rng.random(n) < 0.85
    # users answer faster when the matter is urgent (money held, account locked)
    t_recv = t_req + _lognormal(rng, np.where(prio <= 1, 8.0, 20.0) * HOUR, 1.1, n, 600.0, 14 * DAY)
    wd_nr = has_ev & ~responds & (rng.random(n) < 0.4)
    t_wd_nr = t_req + _lognormal(rng, 50 * HOUR, 0.6, n, 3600.0, 10 * DAY)
    timeout = has_ev & ~responds & ~wd_nr
    t_timeout = t_req + 5 * DAY + rng.uniform(0, DAY, n)
    cur = np.where(has_ev & responds, t_recv, np.where(timeout, t_timeout, cur))

    has_esc = (rng.random(n) < ESCALATION_RATE[q]) & ~timeout
    esc_target = _choice_rows(rng, ESCALATION_MIX[q])
    t_esc = work(cur, _lognormal(rng, 0.5, 0.8, n, 1 / 30, 6.0))
    t_ret = t_esc + _lognormal(rng, 30 * HOUR, 0.7, n, 2 * HOUR, 12 * DAY)
    has_guidance = has_esc & (rng.random(n) < 0.7)
    t_guid = work(t_ret, _lognormal(rng, 0.3, 0.7, n, 1 / 30, 3.0))
    cur = np.where(has_esc, np.where(has_guidance, t_guid, t_ret), cur)

    t_rea_mid = work(cur, _lognormal(rng, 1.0, 0.8, n, 1 / 30, 8.0))
    sp_mid = np.where(rea_early, sp1, sp2)  # the handover goes to someone else than the worker
    sp_mid_site = SP_SITE[sp_mid]
    t_claim2 = work(t_rea_mid, _lognormal(rng, 1.5, 0.9, n, 1 / 30, None) * drift, sp_mid_site)
    cur = np.where(rea_mid, t_claim2, cur)
    decider = np.where(rea_mid, sp_mid, worker)

    quick = rng.random(n) < 0.55
    d_rev = (
        np.where(quick, _lognormal(rng, 0.4, 0.7, n, 1 / 20, 6.0), _lognormal(rng, 6.0, 0.9, n, 0.5, 80.0))
        * drift
    )
    t_dec = work(cur, d_rev, SP_SITE[decider])
    has_msg = rng.random(n) < 0.8
    t_msg = t_dec + rng.uniform(60.0, 1800.0, n)

    withdrawn = wd_early | wd_nr
    t_wd = np.where(wd_early, t_wd_early, t_wd_nr)
    decided = ~withdrawn

    # ---- outcomes -------------------------------------------------------------------------
    auto = enf["source_automated"]
    fp_model = enf["fp_model"]
    launch = enf["launch_policy"]
    badge = (q == Q_ACC) & ap["seller"] & (t0 >= cal.badge[0]) & (t0 < cal.badge[1]) & (rng.random(n) < 0.55)
    outlier = SP_IDS[decider] == OUTLIER_SPECIALIST
    p_over = OVERTURN_BASE[q] * np.where(auto, 1.25, 0.8) + np.where(has_ev & responds, 0.12, 0.0)
    p_over = p_over * np.where(launch, 1.3, 1.0) * np.where(outlier, OUTLIER_FACTOR, 1.0)
    p_over = np.where(timeout, 0.04, p_over)
    p_over = np.where(fp_model, 0.72, p_over)
    p_over = np.where(badge, 1.0, p_over)
    p_over = np.clip(p_over, 0, 0.95)
    rc_probs = np.where(auto[:, None], RC_MIX_AUTOMATED[None, :], RC_MIX_HUMAN[None, :])
    rc_probs = np.where(launch[:, None], RC_MIX_LAUNCH[None, :], rc_probs)
    ev_rc = np.zeros(len(ROOT_CAUSES))
    ev_rc[RC_NEW_EV] = 1.0
    rc_probs = np.where((has_ev & responds & (rng.random(n) < 0.45))[:, None], ev_rc[None, :], rc_probs)
    afp = np.full(len(ROOT_CAUSES), 0.02 / 6)
    afp[RC_AFP] = 0.98
    rc_probs = np.where(fp_model[:, None], afp[None, :], rc_probs)
    partial_share = np.where(fp_model, 0.1, np.where(badge, 0.15, 0.3))
    outcome1, root1 = _outcome(rng, p_over, partial_share, rc_probs, n)
    # some overturns carry no code at all; the badge cluster has none or a generic one
    root1 = np.where((outcome1 > 0) & (rng.random(n) < 0.02), -1, root1)
    root1 = np.where(badge & (outcome1 > 0), np.where(rng.random(n) < 0.6, -1, RC_AGENT), root1)

    # ---- reopen and second decision ---------------------------------------------------------
    reopen = decided & (rng.random(n) < 0.04)
    reopen_by_user = rng.random(n) < 0.7
    t_reo = t_dec + np.where(
        reopen_by_user,
        _lognormal(rng, 40 * HOUR, 0.9, n, HOUR, 20 * DAY),
        _lognormal(rng, 4 * DAY, 0.5, n, DAY, 20 * DAY),
    )
    t_dec2 = work(t_reo, _lognormal(rng, 3.0, 1.0, n, 1 / 20, 60.0) * drift, SP_SITE[decider])
    has_msg2 = rng.random(n) < 0.8
    t_msg2 = t_dec2 + rng.uniform(60.0, 1800.0, n)
    flip = np.where(reopen_by_user, np.where(outcome1 == 0, 0.35, 0.05), 0.6)
    flip = np.where(outlier & (outcome1 == 0), np.minimum(flip * OUTLIER_FACTOR, 0.95), flip)
    flips = rng.random(n) < flip
    outcome2 = np.where(flips, np.where(outcome1 == 0, np.where(rng.random(n) < 0.3, 2, 1), 0), outcome1)
    root2 = np.where(
        outcome2 == 0, -1, np.where(outcome1 > 0, root1, np.where(reopen_by_user, RC_NEW_EV, RC_AGENT))
    )

    # ---- events ---------------------------------------------------------------------------
    st = _Steps(*([] for _ in range(10)))
    alive = ~wd_early  # events after an early withdrawal do not happen
    st.add(np.ones(n, bool), app, t_asg, E_ASSIGNED, sp1, 0)
    st.add(has_ack, app, t_ack, E_MSG, A_BOT, 1)
    st.add(rea_early & alive, app, t_rea_early, E_ASSIGNED, sp2, 2)
    st.add(wd_early, app, t_wd, E_WITHDRAWN, A_USER, 3)
    st.add(alive, app, t_claim, E_CLAIMED, worker, 4)
    st.add(has_note & alive, app, t_note, E_NOTE, worker, 5, note_kind=N_INTERNAL)
    st.add(has_ev & alive, app, t_req, E_EV_REQ, worker, 6)
    st.add(has_ev & responds & alive, app, t_recv, E_EV_REC, A_USER, 7)
    st.add(wd_nr & alive, app, t_wd, E_WITHDRAWN, A_USER, 8)
    ok = decided
    st.add(
        has_esc & ok,
        app,
        t_esc,
        E_ESC,
        worker,
        9,
        esc=esc_target,
        note_kind=N_ESCALATION,
        note_group=esc_target,
    )
    st.add(has_guidance & ok, app, t_guid, E_NOTE, worker, 10, note_kind=N_GUIDANCE, note_group=esc_target)
    st.add(rea_mid & ok, app, t_rea_mid, E_ASSIGNED, sp_mid, 11)
    st.add(rea_mid & ok, app, t_claim2, E_CLAIMED, sp_mid, 12)
    note_group1 = np.where(badge & (outcome1 > 0), -2, np.where(timeout & (outcome1 == 0), -3, 0))
    st.add(
        ok,
        app,
        t_dec,
        E_DECIDED,
        decider,
        13,
        outcome=outcome1,
        root=root1,
        note_kind=N_DECISION,
        note_group=note_group1,
    )
    st.add(ok & has_msg, app, t_msg, E_MSG, decider, 14)
    st.add(reopen, app, t_reo, E_REOPENED, np.where(reopen_by_user, A_USER, decider), 15)
    st.add(
        reopen,
        app,
        t_dec2,
        E_DECIDED,
        decider,
        16,
        outcome=outcome2,
        root=root2,
        note_kind=N_DECISION,
        note_group=np.zeros(n, np.int64),
    )
    st.add(reopen & has_msg2, app, t_msg2, E_MSG, decider, 17)
    ev = st.concat()
    keep = ev["time"] < cal.cutoff
    ev = {k: v[keep] for k, v in ev.items()}
    ev["time"] = np.floor(ev["time"])

    final_dec_time = np.where(reopen, t_dec2, t_dec)
    final_outcome = np.where(reopen, outcome2, outcome1)
    return ev, {
        "decided": decided & (final_dec_time < cal.cutoff),
        "reopened": reopen,
        "final_dec_time": final_dec_time,
        "final_outcome": final_outcome,
        "decider": decider,
        "outlier": outlier,
        "badge": badge,
    }


# --------------------------------------------------------------------------------------------
# Free text
# --------------------------------------------------------------------------------------------

FIRST_NAMES = [
    "jane",
    "mike",
    "sarah",
    "tom",
    "li",
    "anna",
    "kai",
    "olga",
    "ben",
    "fiona",
    "raj",
    "marta",
    "sean",
    "chloe",
    "diego",
    "emma",
    "jakub",
    "lena",
    "noah",
    "zoe",
]
LAST_NAMES = [
    "doe",
    "smith",
    "murphy",
    "nowak",
    "muller",
    "garcia",
    "chen",
    "okafor",
    "byrne",
    "kowalski",
    "wright",
    "schneider",
    "patel",
    "kelly",
    "brown",
]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.test"]
HANDLES = [
    "cardking",
    "sneakervault",
    "retro.finds",
    "poke_breaks",
    "luxe_resale",
    "vintagevera",
    "slabcity",
    "kicksbykai",
    "coinsandmore",
    "thriftqueen",
    "breakroom_live",
    "grailhunter",
]
# fictional numbering ranges (555-01xx, Ofcom drama, ACMA drama) where a market has one
PHONE_PREFIX = [
    "+1 602 555 01",
    "+44 7700 900",
    "+49 30 23125 ",
    "+353 20 910 ",
    "+48 22 000 0",
    "+61 491 570 ",
]
PHONE_DIGITS = np.array([2, 3, 3, 4, 3, 3])

ITEMS = [
    "a PSA 10 Charizard",
    "a sealed Evolving Skies booster box",
    "Jordan 1 Retro High OG",
    "a Rolex Submariner",
    "vintage Levi's 501s",
    "a Nintendo Switch OLED",
    "a signed Topps Chrome rookie card",
    "a Supreme box logo hoodie",
    "an iPhone 15 Pro",
    "a Funko Pop grail",
    "a 1st edition Blue-Eyes White Dragon",
    "a Louis Vuitton Neverfull",
    "a Yeezy 350",
    "a graded Michael Jordan rookie",
    "an Air Max 1",
    "a Casio G-Shock",
    "a Lego Millennium Falcon",
]
SUSPENSION_REASONS = [
    "shill bidding",
    "harassment in chat",
    "ban evasion",
    "payment fraud",
    "impersonation",
    "multiple accounts",
    "chargeback abuse",
    "bid manipulation",
]
SHOWS = [
    "Pokemon pack break",
    "sneaker auction",
    "vintage clothing show",
    "card break",
    "giveaway stream",
    "coin and bullion auction",
    "mystery box opening",
    "electronics flash sale",
]
AMOUNTS = [
    "$312.40",
    "$1,250.00",
    "£480.00",
    "€2,075.50",
    "$89.99",
    "$5,430.00",
    "€640.00",
    "A$1,180.00",
    "3,200 zł",
    "$760.25",
    "$14,900.00",
    "£95.00",
]
SLOTS = {Q_ACC: SUSPENSION_REASONS, Q_LIST: ITEMS, Q_LIVE: SHOWS, Q_PAY: AMOUNTS, Q_IP: ITEMS}
CORE_EN = {
    Q_ACC: [
        ("my account was suspended for ", " but I have never done that."),
        ("I was banned for ", " and I don't understand why."),
        ("you suspended me saying ", ". That is simply not true."),
        ("my account got locked for ", " right before my scheduled show."),
        ("I got an email that my account is suspended for ", ". I think this is a mistake."),
    ],
    Q_LIST: [
        ("my listing for ", " was removed as counterfeit but it is authentic."),
        ("you took down ", " from my shop. It was bought from an authorised retailer."),
        ("the listing for ", " was removed as a prohibited item, it is not prohibited."),
        ("", " got flagged and removed within minutes of posting."),
        ("why was my listing for ", " removed? I have the original receipt and box."),
    ],
    Q_LIVE: [
        ("my stream got banned in the middle of a ", "."),
        ("I was running a ", " and the stream was shut down with no warning."),
        ("live ban during my ", ", I followed every rule."),
        ("my ", " was cut off and now I can't go live for 7 days."),
        ("the moderator ended my ", " for something a viewer said, not me."),
    ],
    Q_PAY: [
        ("my payout of ", " has been on hold for days."),
        ("funds of ", " from my last show are frozen and I need them to pay suppliers."),
        ("you are holding ", " of my money with no explanation."),
        ("payment hold on ", ". The buyer already received the item."),
        ("the ", " payout was held as suspected fraud, it was a normal sale."),
    ],
    Q_IP: [
        ("I got an IP complaint about ", ". I only buy from authorised distributors."),
        ("", " was removed after a rights-owner notice, but it is genuine."),
        ("the brand reported my listing for ", ". I can prove authenticity."),
        ("the counterfeit takedown on ", " is wrong, I have the invoice."),
    ],
}
OPENERS_EN = [
    "",
    "",
    "Hi, ",
    "Hello, ",
    "Hi team, ",
    "Dear Trust & Safety, ",
    "To whom it may concern: ",
    "Hey. ",
    "Good morning, ",
    "Please read this: ",
]
DETAILS_EN = [
    "",
    "",
    "",
    "I have receipts.",
    "I attached photos.",
    "This is my main income.",
    "I have been selling here for 3 years with no strikes.",
    "Other sellers list the exact same thing.",
    "I already sent the invoice by email.",
    "This has happened twice now.",
    "My customers are waiting.",
    "I am happy to send more proof.",
    "I run a small business and this is killing my sales.",
]
PLEAS_EN = [
    "Please review.",
    "Please reinstate.",
    "Please fix this asap.",
    "Thank you.",
    "Kindly reverse this decision.",
    "Thanks in advance.",
    "I want a real person to look at this.",
    "Please help.",
    "",
]
# statements in other languages, per queue
OTHER_LANG = {
    "de": {
        Q_ACC: [
            "Mein Konto wurde ohne Grund gesperrt. Bitte prüfen Sie das noch einmal.",
            "Hallo, ich verstehe die Sperre meines Kontos nicht. Ich habe nie mit mir selbst geboten.",
        ],
        Q_LIST: [
            "Mein Angebot wurde als Fälschung entfernt, die Ware ist original. Rechnung liegt vor.",
            "Warum wurde mein Artikel gelöscht? Das ist kein verbotener Artikel.",
        ],
        Q_LIVE: [
            "Mein Livestream wurde mitten in der Auktion beendet. Ich habe keine Regel verletzt.",
            "Die Live-Sperre ist ungerecht, der Kommentar kam von einem Zuschauer.",
        ],
        Q_PAY: [
            "Meine Auszahlung wird seit Tagen zurückgehalten. Bitte geben Sie das Geld frei.",
            "Das Geld aus meiner letzten Show ist eingefroren, der Käufer hat die Ware erhalten.",
        ],
        Q_IP: [
            "Die Markenbeschwerde ist falsch, ich kaufe nur bei autorisierten Händlern.",
            "Der Artikel ist echt, ich habe die Rechnung vom Großhändler.",
        ],
    },
    "pl": {
        Q_ACC: [
            "Moje konto zostało zablokowane bez powodu. Proszę o ponowne sprawdzenie.",
            "Dzień dobry, nie rozumiem blokady konta. Nigdy nie licytowałem własnych aukcji.",
        ],
        Q_LIST: [
            "Moja oferta została usunięta jako podróbka, a produkt jest oryginalny. Mam fakturę.",
            "Dlaczego usunięto moją ofertę? To nie jest zakazany przedmiot.",
        ],
        Q_LIVE: [
            "Transmisja na żywo została przerwana w trakcie aukcji. Nie złamałem żadnych zasad.",
            "Blokada transmisji jest niesprawiedliwa, komentarz napisał widz.",
        ],
        Q_PAY: [
            "Moja wypłata jest wstrzymana od kilku dni. Proszę o odblokowanie środków.",
            "Pieniądze z ostatniego pokazu są zamrożone, kupujący otrzymał towar.",
        ],
        Q_IP: [
            "Skarga dotycząca znaku towarowego jest błędna, kupuję tylko u autoryzowanych dystrybutorów.",
            "Produkt jest oryginalny, mam fakturę od hurtownika.",
        ],
    },
    "es": {
        Q_ACC: [
            "Mi cuenta fue suspendida sin motivo. Por favor revisen de nuevo.",
            "No entiendo la suspensión, nunca hice pujas falsas.",
        ],
        Q_LIST: [
            "Eliminaron mi anuncio como falsificación pero el producto es original. Tengo la factura.",
            "¿Por qué eliminaron mi anuncio? No es un artículo prohibido.",
        ],
        Q_LIVE: [
            "Cortaron mi transmisión en vivo en medio de la subasta. No rompí ninguna regla.",
            "El bloqueo del directo es injusto, el comentario fue de un espectador.",
        ],
        Q_PAY: [
            "Mi pago está retenido desde hace días. Necesito ese dinero.",
            "Los fondos de mi último show están congelados y el comprador ya recibió el artículo.",
        ],
        Q_IP: [
            "La queja de marca es falsa, solo compro a distribuidores autorizados.",
            "El producto es auténtico, tengo la factura del distribuidor.",
        ],
    },
}

DECISION_UPHELD = {
    Q_ACC: [
        "Upheld. Linked accounts confirm ban evasion; template D-2 sent.",
        "Upheld: bidding pattern matches shill bidding playbook (same device as seller).",
        "Upheld, chat logs confirm targeted harassment of a buyer.",
    ],
    Q_LIST: [
        "Upheld: listing photos match known counterfeit markers; no proof of purchase.",
        "Upheld. Item is on the prohibited list (section 4.2), appeal adds nothing new.",
        "Upheld - receipts provided do not match the item serials.",
    ],
    Q_LIVE: [
        "Upheld: stream recording shows the violation at 00:41.",
        "Upheld. Repeat live conduct violation, third strike in 90 days.",
        "Upheld, giveaway required a purchase which the rules forbid.",
    ],
    Q_PAY: [
        "Upheld: payment pattern matches fraud playbook, hold remains.",
        "Upheld. Buyer chargebacks open on 4 orders, hold stays until resolved.",
        "Upheld - off-platform payment request visible in chat.",
    ],
    Q_IP: [
        "Upheld: rights-owner notice valid and seller could not show authorisation.",
        "Upheld. Trademark used in title without licence.",
        "Upheld, invoice is from a known grey-market supplier.",
    ],
}
DECISION_UPHELD_GENERIC = [
    "Upheld after full review, enforcement stands.",
    "Upheld. Evidence checked against the playbook, violation confirmed.",
    "Upheld; explained the policy to the user with template D-1.",
    "Upheld, no new information in the appeal.",
]
DECISION_TIMEOUT = [
    "No response to the evidence request within 5 days; upheld.",
    "Upheld: requested documents never received.",
    "Closing as upheld, user did not reply to the evidence request.",
]
DECISION_BY_ROOT = {
    RC_AGENT: [
        "Overturned: original reviewer misread the chat log.",
        "Agent applied the wrong policy section; reinstating.",
        "Reinstated - enforcing agent missed the proof of authorisation already on file.",
        "Original decision was an agent error, evidence clearly supports the user.",
    ],
    RC_MISAPPLIED: [
        "Policy misapplied: the item is allowed under the collectibles exception.",
        "Overturned. The rule cited does not cover resale of sealed product.",
        "Enforcement used the wrong policy; behaviour is within guidelines.",
        "Misapplication of the giveaway rules, the stream followed the allowed format.",
    ],
    RC_AFP: [
        "Overturned: automated match was a false positive, item is authentic (serial verified).",
        "Model flagged a genuine item; invoice from authorised distributor checked. Reinstated.",
        "False positive from the classifier - photos show the hologram and authentic stitching.",
        "Automation false positive; nothing in the listing matches counterfeit markers.",
        "Reinstated. Classifier hit on the brand logo only, product is genuine.",
    ],
    RC_NEW_EV: [
        "User supplied receipts and serials; overturned on new evidence.",
        "New evidence: authenticity certificate provided and verified.",
        "Bank statement shows a legitimate sale; hold released.",
        "User sent ID and proof of ownership, reinstated.",
    ],
    RC_CHANGED: [
        "Overturned: policy updated since enforcement, behaviour now permitted.",
        "The new giveaway rules allow this format; reinstated.",
        "Under the revised guidance this is no longer a violation.",
    ],
    RC_TOOLING: [
        "Tooling defect: enforcement applied to the wrong listing id.",
        "Bulk action tool removed the whole shop instead of one listing; reversed.",
        "Duplicate enforcement from the moderation console bug; reversed.",
    ],
    RC_INSUFF: [
        "Original enforcement lacked evidence; overturned.",
        "Not enough evidence to support the action, reinstated per evidence standard ES-3.",
        "Could not verify the violation from the records available; overturned.",
    ],
}
DECISION_OVERTURN_UNCODED = [
    "Overturned after review.",
    "Reinstated, see case history.",
    "Overturned - user explanation accepted.",
    "Reversed; details in the previous note.",
]
PARTIAL_PREFIX = [
    "Partially overturned: ",
    "Partial - strike removed, restriction stays. ",
    "Reduced to a warning. ",
]
BADGE_NOTES = [
    "Seller verification badge not shown on the storefront at enforcement time; seller is verified. Reinstated.",
    "Verification badge missing from the seller profile although KYC passed, the badge did not render. Overturned.",
    "Account flagged as unverified because the verification badge was not displayed in the live header. Seller verified since 2024.",
    "Same issue as other cases this week: verification badge not shown, impersonation flag was wrong. Reinstated.",
    "Seller is verified in admin but the verification badge was not visible to buyers; suspension reversed.",
    "Verification badge not displaying after the profile redesign, impersonation reports unfounded. Reinstated.",
    "seller verification badge not shown in app (web shows it). buyers reported as fake shop. reversed",
]
INTERNAL_NOTES = [
    "Checked linked accounts, none found.",
    "Prior strikes: 2 in the last 90 days.",
    "Waiting for payments team to confirm chargeback status.",
    "Pulled the stream recording, reviewing 00:42-01:05.",
    "Compared photos with the brand authentication guide.",
    "User has an open support ticket as well, linked.",
    "Top-rated seller, handle with care.",
    "Brought to case council, see thread.",
    "Used the translation tool for the appeal text.",
    "Checked order history: 312 sales, 0 disputes.",
]
GUIDANCE_NOTES = {
    0: [
        "Policy guidance received: treat as allowed.",
        "Policy says enforce per section 3.2.",
        "Policy: edge case, decide on the evidence.",
    ],
    1: [
        "Legal confirmed the notice is valid.",
        "Legal: no action needed from us, proceed.",
        "Legal advised to reinstate pending the dispute.",
    ],
    2: [
        "Product confirmed a display bug on their side.",
        "Product: known issue, fix scheduled.",
        "Product found no tooling problem.",
    ],
}
ESCALATION_NOTES = {
    0: [
        "Unclear if this format is allowed, asking Policy.",
        "Escalating to Policy: edge case for graded card resale.",
    ],
    1: ["Rights-owner dispute, escalating to Legal.", "Legal review needed: user threatens legal action."],
    2: [
        "Possible tooling issue, escalating to Product.",
        "UI shows a different state than admin, asking Product.",
    ],
}


def _pii(rng: np.random.Generator, market: np.ndarray) -> tuple[pl.Series, pl.Series, pl.Series]:
    n = len(market)
    email = (
        _pick(rng, n, FIRST_NAMES)
        + "."
        + _pick(rng, n, LAST_NAMES)
        + pl.Series(rng.integers(1, 99, n)).cast(pl.String)
        + "@"
        + _pick(rng, n, EMAIL_DOMAINS)
    )
    digits = PHONE_DIGITS[market]
    number = pl.Series(rng.integers(0, 10_000, n) % (10**digits)).cast(pl.String)
    phone = pl.select(
        pl.lit(pl.Series(np.array(PHONE_PREFIX)[market], dtype=pl.String))
        + number.str.zfill(pl.Series(digits, dtype=pl.Int64).cast(pl.UInt64))
    ).to_series()
    handle = "@" + _pick(rng, n, HANDLES) + pl.Series(rng.integers(1, 999, n)).cast(pl.String)
    return email, phone, handle


def _appeal_text(rng: np.random.Generator, ap: dict) -> pl.Series:
    n = len(ap["queue"])
    q = ap["queue"]
    opener = _pick(rng, n, OPENERS_EN)
    core_flat, core_idx = _pick_grouped(rng, q, [[c[0] for c in CORE_EN[i]] for i in range(5)])
    post_flat = pl.Series([c[1] for i in range(5) for c in CORE_EN[i]], dtype=pl.String)
    pre = core_flat.gather(core_idx)
    post = post_flat.gather(core_idx)
    slot = _gather(rng, q, [SLOTS[i] for i in range(5)])
    detail = _pick(rng, n, DETAILS_EN)
    plea = _pick(rng, n, PLEAS_EN)
    email, phone, handle = _pii(rng, ap["market"])
    c = rng.random(n)
    contact = pl.select(
        pl.when(pl.lit(pl.Series(c < 0.05)))
        .then(" Contact me at " + email + ".")
        .when(pl.lit(pl.Series(c < 0.09)))
        .then(" My number is " + phone + ".")
        .when(pl.lit(pl.Series(c < 0.13)))
        .then(" My shop is " + handle + ".")
        .when(pl.lit(pl.Series(c < 0.15)))
        .then(" Reach me on " + phone + " or " + email + ".")
        .otherwise(pl.lit(""))
    ).to_series()
    df = pl.DataFrame(
        {
            "opener": opener,
            "pre": pre,
            "slot": slot,
            "post": post,
            "detail": detail,
            "plea": plea,
            "contact": contact,
        }
    )
    en = df.select(
        pl.concat_str(
            [
                pl.col("opener"),
                pl.col("pre"),
                pl.col("slot"),
                pl.col("post"),
                pl.lit(" "),
                pl.col("detail"),
                pl.lit(" "),
                pl.col("plea"),
                pl.col("contact"),
            ]
        )
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    ).to_series()
    # capitalise the first letter most of the time; some users type in lower case
    lower = pl.Series(rng.random(n) < 0.12)
    en = pl.select(
        pl.when(lower)
        .then(en.str.to_lowercase())
        .otherwise(en.str.slice(0, 1).str.to_uppercase() + en.str.slice(1))
    ).to_series()
    lang = np.array(LANGUAGES)[ap["language"]]
    out = en
    # statements in other languages carry the bare contact detail
    bare = pl.select(
        pl.when(pl.lit(pl.Series(c < 0.05)))
        .then(" " + email)
        .when(pl.lit(pl.Series(c < 0.09)))
        .then(" " + phone)
        .when(pl.lit(pl.Series(c < 0.13)))
        .then(" " + handle)
        .when(pl.lit(pl.Series(c < 0.15)))
        .then(" " + phone + ", " + email)
        .otherwise(pl.lit(""))
    ).to_series()
    for code, pools in OTHER_LANG.items():
        mask = lang == code
        if mask.any():
            other = _gather(rng, q, [pools[i] for i in range(5)]) + bare
            out = pl.select(pl.when(pl.Series(mask)).then(other).otherwise(out)).to_series()
    # a few appeals come without a statement (in-app form left empty)
    empty = (rng.random(n) < 0.04) & (ap["channel"] != CHANNELS.index("email"))
    return pl.select(pl.when(pl.Series(empty)).then(None).otherwise(out)).to_series().rename("appeal_text")


def _notes(rng: np.random.Generator, ev: dict, queue: np.ndarray, market: np.ndarray) -> pl.Series:
    m = len(ev["time"])
    note_class, group = ev["note_kind"], ev["note_group"]
    outcome, root = ev["outcome"], ev["root"]
    # one pool index per event: pools in a fixed order, every event picks in its own pool
    pools: list[list[str]] = [[""]]  # 0: no note
    pool_of = np.zeros(m, dtype=np.int64)

    def add_pool(texts, mask):
        pools.append(texts)
        pool_of[mask] = len(pools) - 1

    add_pool(INTERNAL_NOTES, note_class == N_INTERNAL)
    for t in range(3):
        add_pool(GUIDANCE_NOTES[t], (note_class == N_GUIDANCE) & (group == t))
        add_pool(ESCALATION_NOTES[t], (note_class == N_ESCALATION) & (group == t))
    dec = note_class == N_DECISION
    for qi in range(5):
        add_pool(DECISION_UPHELD[qi] + DECISION_UPHELD_GENERIC, dec & (outcome == 0) & (queue == qi))
    add_pool(DECISION_TIMEOUT, dec & (outcome == 0) & (group == -3))
    for rc, texts in DECISION_BY_ROOT.items():
        add_pool(texts, dec & (outcome > 0) & (root == rc))
    add_pool(DECISION_OVERTURN_UNCODED, dec & (outcome > 0) & (root == -1))
    add_pool(BADGE_NOTES, dec & (outcome > 0) & (group == -2))
    text = _gather(rng, pool_of, pools)
    prefix = _pick(rng, m, PARTIAL_PREFIX)
    email, phone, _ = _pii(rng, market)
    c = rng.random(m)
    suffix = pl.select(
        pl.when(pl.Series(c < 0.025))
        .then(" User contact: " + email + ".")
        .when(pl.Series(c < 0.04))
        .then(" Called the user on " + phone + ".")
        .otherwise(pl.lit(""))
    ).to_series()
    partial = pl.Series((outcome == 2) & dec & (group != -2))
    note = pl.select(pl.when(partial).then(prefix + text).otherwise(text) + suffix).to_series()
    has_note = pl.Series((note_class != N_NONE) & ~(dec & (rng.random(m) < 0.04)))
    return pl.select(pl.when(has_note).then(note).otherwise(None)).to_series().rename("note")


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------


def _config_tables(cal: _Calendar) -> dict[str, pl.DataFrame]:
    sla = pl.DataFrame(
        SLA_POLICY_ROWS,
        schema={
            "queue": pl.String,
            "priority": pl.String,
            "first_touch_target_hours": pl.Float64,
            "resolution_target_hours": pl.Float64,
            "clock": pl.String,
            "schedule_id": pl.String,
        },
        orient="row",
    )
    bh_rows = []
    for sched, (tz, rows) in SCHEDULES.items():
        for weekdays, s, e in rows:
            for wd in weekdays:
                bh_rows.append((sched, tz, wd, dt.time.fromisoformat(s), dt.time.fromisoformat(e)))
    bh = pl.DataFrame(
        bh_rows,
        schema={
            "schedule_id": pl.String,
            "timezone": pl.String,
            "weekday": pl.Int32,
            "start_time": pl.Time,
            "end_time": pl.Time,
        },
        orient="row",
    ).sort("schedule_id", "weekday", "start_time")
    hol = pl.DataFrame(
        [(site, d) for site, days in cal.holidays.items() for d in days],
        schema={"schedule_id": pl.String, "holiday_date": pl.Date},
        orient="row",
    )
    specialists = pl.DataFrame(
        [
            (
                s[0],
                s[1],
                s[2],
                s[3],
                s[4],
                SCHEDULES[s[4]][0],
                dt.date.fromisoformat(s[5]),
                dt.date.fromisoformat(s[6]) if s[6] else None,
            )
            for s in SPECIALISTS
        ],
        schema={
            "specialist_id": pl.String,
            "display_name": pl.String,
            "pod": pl.String,
            "team_lead": pl.String,
            "site": pl.String,
            "timezone": pl.String,
            "active_from": pl.Date,
            "active_to": pl.Date,
        },
        orient="row",
    )
    return {"specialists": specialists, "sla_policies": sla, "business_hours": bh, "holidays": hol}


def _qa_reviews(rng: np.random.Generator, life: dict, appeal_ids: pl.Series, cal: _Calendar) -> pl.DataFrame:
    n = len(life["decided"])
    pick = life["decided"] & (rng.random(n) < 0.05)
    idx = np.flatnonzero(pick)
    m = len(idx)
    delay_days = rng.integers(1, 7, m) + rng.random(m) * 0.4
    reviewed = cal.clocks[S_PHX].advance(
        life["final_dec_time"][idx] + delay_days * DAY, _lognormal(rng, 1.0, 0.8, m, 0.05, 8.0)
    )
    p_correct = np.where(life["outlier"][idx], 0.70, 0.91)
    correct = rng.random(m) < p_correct
    score = np.where(
        correct, np.clip(rng.normal(92, 4.5, m), 70, 100), np.clip(rng.normal(61, 10, m), 20, 85)
    )
    categories = [
        "wrong_outcome",
        "policy_misapplied",
        "evidence_standard_not_met",
        "template_not_followed",
        "missing_rationale",
    ]
    cat = rng.choice(5, size=m, p=[0.35, 0.25, 0.2, 0.12, 0.08])
    minor = correct & (rng.random(m) < 0.05)
    error_category = np.where(~correct, cat, np.where(minor, 3, -1))
    keep = reviewed < cal.cutoff
    idx, reviewed, correct, score, error_category = (
        idx[keep],
        reviewed[keep],
        correct[keep],
        score[keep],
        error_category[keep],
    )
    order = np.argsort(reviewed, kind="stable")
    k = len(order)
    return pl.DataFrame(
        {
            "review_id": _id_series("qa_", np.arange(1, k + 1), 6),
            "appeal_id": appeal_ids.gather(idx[order]),
            "reviewer_id": pl.Series(np.array(QA_REVIEWERS)[rng.integers(0, 4, k)], dtype=pl.String),
            "reviewed_at": _ts(reviewed[order]),
            "decision_correct": pl.Series(correct[order], dtype=pl.Boolean),
            "score": pl.Series(np.round(score[order], 1), dtype=pl.Float64),
            "error_category": pl.Series([None, *categories], dtype=pl.String).gather(
                error_category[order] + 1
            ),
        }
    )


def _plant_data_quality(
    rng: np.random.Generator, ev: dict, ap: dict, enf: dict, life: dict, cal: _Calendar
) -> np.ndarray:
    """Plant the deliberate data-quality cases (data/sample/README.md lists them) in `ev`.

    Returns the appeals whose enforcement is to be attributed to their own decider
    (self-review). The cases are picked among appeals decided once, by a specialist, on a
    human enforcement, at least two weeks before the end, so each shows exactly one problem.
    """
    n = len(ap["created"])
    eligible = np.flatnonzero(
        life["decided"]
        & ~life["reopened"]
        & ~enf["source_automated"]
        & (ap["created"] < cal.cutoff - 14 * DAY)
    )
    picks = rng.choice(eligible, size=5, replace=False)
    decided_rows = np.flatnonzero(ev["etype"] == E_DECIDED)
    row_of = np.full(n, -1)
    row_of[ev["appeal"][decided_rows]] = decided_rows
    # 1. decided without outcome (2 appeals)
    no_outcome = row_of[picks[:2]]
    ev["outcome"][no_outcome] = -1
    ev["root"][no_outcome] = -1
    # 2. decided by a system actor (1 appeal): a bulk-close script, not a person
    ev["actor"][row_of[picks[2]]] = A_CLOSEBOT
    # 3. events before created_at (3 appeals): the acknowledgement bot's clock ran 4 minutes late
    acks = np.flatnonzero((ev["etype"] == E_MSG) & (ev["actor"] == A_BOT) & (ev["time"] < cal.cutoff - DAY))
    skew = rng.choice(acks, size=3, replace=False)
    ev["time"][skew] = ap["created"][ev["appeal"][skew]] - 240.0
    # 4. self-review (2 appeals): the enforcing person decided the appeal of their own action
    return picks[3:5]


def generate(
    n_appeals: int = DEFAULT_APPEALS,
    seed: int = DEFAULT_SEED,
    end_date: dt.date = SAMPLE_END_DATE,
    with_text: bool = True,
) -> dict[str, pl.DataFrame]:
    """Every table of the warehouse contract, for `n_appeals` appeals over 26 weeks to `end_date`.

    Deterministic per (n_appeals, seed, end_date). Timestamps are `Datetime("us", "UTC")`;
    events at or after the end of `end_date` (UTC) are cut, so recent appeals are open.
    With `with_text=False` the free-text columns (`appeal_text`, `note`) are null.
    """
    if n_appeals < 100:
        raise ValueError("n_appeals must be at least 100")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    cal = _calendar(end_date)
    ap = _appeals(streams[0], n_appeals, cal)
    n_users = max(20_000, n_appeals * 4)
    enf_frame, enf = _enforcements(streams[1], ap, cal, n_users)
    sp1, sp2 = _assign_specialists(streams[2], ap, cal)
    ev, life = _lifecycle(streams[3], ap, enf, sp1, sp2, cal)
    self_review = _plant_data_quality(streams[7], ev, ap, enf, life, cal)
    if len(self_review):
        by = enf_frame["enforced_by"].scatter(
            enf["enforcement_number"][self_review] - 1, SP_IDS[life["decider"][self_review]].tolist()
        )
        enf_frame = enf_frame.with_columns(by)

    appeal_ids = _id_series("ap_", np.arange(1, n_appeals + 1), 7)
    enf_ids = enf_frame["enforcement_id"].gather(enf["enforcement_number"] - 1)
    appeals = pl.DataFrame(
        {
            "appeal_id": appeal_ids,
            "enforcement_id": enf_ids,
            "queue": pl.Series(np.array(QUEUES)[ap["queue"]], dtype=pl.String),
            "priority": pl.Series(np.array(PRIORITIES)[ap["priority"]], dtype=pl.String),
            "market": pl.Series(np.array(MARKETS)[ap["market"]], dtype=pl.String),
            "channel": pl.Series(np.array(CHANNELS)[ap["channel"]], dtype=pl.String),
            "language": pl.Series(np.array(LANGUAGES)[ap["language"]], dtype=pl.String),
            "created_at": _ts(ap["created"]),
            "appeal_text": _appeal_text(streams[4], ap)
            if with_text
            else pl.Series([None] * n_appeals, dtype=pl.String),
            "appellant_type": pl.Series(np.where(ap["seller"], "seller", "buyer"), dtype=pl.String),
        }
    )

    # events ordered by appeal, then time, then lifecycle step; ids follow that order
    order = np.lexsort((ev["order"], ev["time"], ev["appeal"]))
    ev = {k: v[order] for k, v in ev.items()}
    m = len(order)
    actor = ev["actor"]
    user_ids = _id_series("u_", enf["user"], 7)
    sp_part = pl.Series(SP_IDS[np.clip(actor, 0, None)], dtype=pl.String)
    actor_id = pl.select(
        pl.when(pl.Series(actor == A_USER))
        .then(user_ids.gather(ev["appeal"]))
        .when(pl.Series(actor == A_BOT))
        .then(pl.lit("autoack-bot"))
        .when(pl.Series(actor == A_CLOSEBOT))
        .then(pl.lit("auto-close-bot"))
        .otherwise(sp_part)
    ).to_series()
    actor_type = _labels(
        ("specialist", "system", "user"), np.where(actor == A_USER, 2, np.where(actor < 0, 1, 0))
    )

    def coded(values, names):
        return pl.Series([None, *names], dtype=pl.String).gather(values + 1)

    notes = (
        _notes(streams[5], ev, ap["queue"][ev["appeal"]], ap["market"][ev["appeal"]])
        if with_text
        else pl.Series([None] * m, dtype=pl.String)
    )
    events = pl.DataFrame(
        {
            "event_id": _id_series("ev_", np.arange(1, m + 1), 9),
            "appeal_id": appeal_ids.gather(ev["appeal"]),
            "occurred_at": _ts(ev["time"]),
            "event_type": coded(ev["etype"], EVENT_NAMES),
            "actor_id": actor_id,
            "actor_type": actor_type,
            "outcome": coded(ev["outcome"], OUTCOMES),
            "root_cause": coded(ev["root"], ROOT_CAUSES),
            "escalation_target": coded(ev["esc"], ESCALATION_TARGETS),
            "note": notes.rename("note"),
        }
    )
    qa = _qa_reviews(streams[6], life, appeal_ids, cal)
    tables = {
        "appeals": appeals,
        "appeal_events": events,
        "enforcements": enf_frame,
        **_config_tables(cal),
        "qa_reviews": qa,
    }
    return {name: _conform(name, tables[name]) for name in TABLES}


_POLARS_TYPES = {
    "text": pl.String,
    "timestamptz": TS,
    "date": pl.Date,
    "time": pl.Time,
    "int": pl.Int32,
    "double": pl.Float64,
    "boolean": pl.Boolean,
}


def _conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The contract's columns, in the contract's order and types."""
    spec = TABLES[name]
    return frame.select([pl.col(c.name).cast(_POLARS_TYPES[c.type]) for c in spec.columns])


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def write_sample(
    out_dir: str | Path,
    n_appeals: int = DEFAULT_APPEALS,
    seed: int = DEFAULT_SEED,
    end_date: dt.date = SAMPLE_END_DATE,
    with_text: bool = True,
) -> dict[str, int]:
    """Write `out_dir/warehouse.duckdb` and `out_dir/<table>.parquet`; return row counts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = generate(n_appeals=n_appeals, seed=seed, end_date=end_date, with_text=with_text)
    for name, frame in tables.items():
        frame.write_parquet(
            out / f"{name}.parquet", compression="zstd", compression_level=19, statistics=True
        )
    write_duckdb(tables, out / "warehouse.duckdb")
    return {name: frame.height for name, frame in tables.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.sample", description="Write a sample warehouse.")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--appeals", type=int, default=DEFAULT_APPEALS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=SAMPLE_END_DATE)
    parser.add_argument("--no-text", action="store_true", help="leave appeal_text and note empty")
    args = parser.parse_args(argv)
    counts = write_sample(args.out, args.appeals, args.seed, args.end_date, with_text=not args.no_text)
    for name, rows in counts.items():
        print(f"{name}\t{rows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
