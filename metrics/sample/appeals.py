"""Appeals of the sample: volumes by day, hour and market, attributes, and the routing to
specialists.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from metrics.sample.calendars import _Calendar
from metrics.sample.draws import _choice_rows
from metrics.sample.reference import (
    CHANNEL_SHARE,
    CHANNELS,
    DAY,
    HOUR,
    HOUR_PROFILE,
    LANGUAGE_MIX,
    MARKET_SHARE,
    MARKET_TZ,
    MARKETS,
    OVERFLOW_SHARE,
    PRIORITY_MIX,
    Q_ACC,
    Q_LIST,
    Q_LIVE,
    QUEUE_HOME_SITE,
    QUEUE_SHARE,
    QUEUES,
    S_DUB,
    S_PHX,
    SELLER_SHARE,
    SP_SITE,
    SPECIALISTS,
    WEEKDAY_PROFILE,
    WEEKS,
)

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
