"""Why a number moved: mix and rate effects, group contributions, and robust trend tests.

A rate r = Σ_g w_g·r_g over groups g (w_g: the group's share of the denominator). Its change
between two periods splits exactly into a **mix** effect (the groups' shares moved) and a
**rate** effect (the groups' own rates moved), with the symmetric (Shapley) weights

    mix_g  = (w1_g − w0_g) · (r0_g + r1_g) / 2
    rate_g = (r1_g − r0_g) · (w0_g + w1_g) / 2,      Σ_g (mix_g + rate_g) = r1 − r0,

where a group absent from one period takes its rate from the other (it then moves the mix only).
Counts split into the groups' own changes. Drift is tested with Mann–Kendall (no distribution
assumed, robust to one odd week) and sized with the Theil–Sen slope.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Contribution:
    group: str
    mix: float
    rate: float
    before: float | None  # the group's rate (or count) in the earlier period
    now: float | None

    @property
    def total(self) -> float:
        return self.mix + self.rate


def decompose_rate(before: dict[str, tuple[int, int]], now: dict[str, tuple[int, int]]) -> list[Contribution]:
    """Mix and rate effect per group from {group: (numerator, denominator)} of two periods,
    largest |total| first. The effects sum to the change of the overall rate."""
    n0 = sum(d for _, d in before.values())
    n1 = sum(d for _, d in now.values())
    if not n0 or not n1:
        return []
    out = []
    for g in sorted(set(before) | set(now)):
        k0, d0 = before.get(g, (0, 0))
        k1, d1 = now.get(g, (0, 0))
        r0 = k0 / d0 if d0 else None
        r1 = k1 / d1 if d1 else None
        if r0 is None and r1 is None:
            continue
        r0e = r0 if r0 is not None else r1
        r1e = r1 if r1 is not None else r0
        w0, w1 = d0 / n0, d1 / n1
        out.append(Contribution(g, (w1 - w0) * (r0e + r1e) / 2, (r1e - r0e) * (w0 + w1) / 2, r0, r1))
    return sorted(out, key=lambda c: (-abs(c.total), c.group))


def decompose_count(before: dict[str, int], now: dict[str, int]) -> list[Contribution]:
    """Each group's own change of a count (all "rate", no mix), largest |change| first."""
    out = [Contribution(g, 0.0, float(now.get(g, 0) - before.get(g, 0)), before.get(g, 0), now.get(g, 0))
           for g in sorted(set(before) | set(now))]
    return sorted(out, key=lambda c: (-abs(c.total), c.group))


def noise(series: list[float | None], window: int = 12) -> float | None:
    """The usual size of a week-to-week change: 1.4826 × the median absolute deviation of the
    last `window` changes before the latest (robust to one-off spikes); None with < 4 changes."""
    values = [v for v in series[:-1] if v is not None]
    changes = [b - a for a, b in zip(values, values[1:], strict=False)][-window:]
    if len(changes) < 4:
        return None
    mid = statistics.median(changes)
    mad = statistics.median(abs(c - mid) for c in changes) * 1.4826
    if mad == 0:
        mad = statistics.pstdev(changes)
    return mad or None


def mann_kendall(values: list[float]) -> tuple[int, float]:
    """Mann–Kendall S and its two-sided p-value (normal approximation with continuity correction)."""
    n = len(values)
    s = sum((values[j] > values[i]) - (values[j] < values[i]) for i in range(n) for j in range(i + 1, n))
    ties = {}
    for v in values:
        ties[v] = ties.get(v, 0) + 1
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties.values())) / 18
    if var <= 0:
        return s, 1.0
    z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var) if s < 0 else 0.0
    return s, math.erfc(abs(z) / math.sqrt(2))


def theil_sen(values: list[float]) -> float:
    """Median of the pairwise slopes (per week)."""
    slopes = [(values[j] - values[i]) / (j - i) for i in range(len(values)) for j in range(i + 1, len(values))]
    return statistics.median(slopes) if slopes else 0.0


@dataclass(frozen=True)
class Drift:
    since: date
    weeks: int
    direction: int  # +1 up, −1 down
    first: float
    last: float
    baseline: float  # median of the weeks before the drift
    slope: float  # Theil–Sen, per week
    p_value: float


def _level_spread(values: list[float]) -> float:
    mid = statistics.median(values)
    return statistics.median(abs(v - mid) for v in values) * 1.4826 or statistics.pstdev(values)


def find_drift(weeks: list[date], values: list[float | None], min_weeks: int = 4, max_weeks: int = 10,
               baseline_weeks: int = 8, band: float = 3.0, p_max: float = 0.05) -> Drift | None:
    """A drift that runs up to the latest week, or None.

    Over the latest `max_weeks + baseline_weeks` weeks, each start of a run of k ≥ min_weeks
    recent weeks is tried: the run must trend (Mann–Kendall p ≤ p_max) and end beyond `band` ×
    the level spread (scaled MAD) of the weeks before it, in the trend's direction. Among those,
    the start that best splits the window into a flat stretch (its median) and a Theil–Sen line
    (least absolute residuals) is where the drift began. The run without its latest week must
    trend the same way (p ≤ 0.2) and already end beyond the band, so one bad week is a move,
    not a drift."""
    stretch: list[tuple[date, float]] = []
    for w, v in zip(weeks, values, strict=True):
        stretch = [] if v is None else stretch + [(w, v)]
    window = stretch[-(max_weeks + baseline_weeks):]
    vals = [v for _, v in window]
    best, best_cost = None, math.inf
    for k in range(min_weeks, min(max_weeks, len(vals) - 4) + 1):
        run, pre = vals[-k:], vals[:-k]
        base = pre[-baseline_weeks:]
        mid, spread = statistics.median(base), _level_spread(base)
        s, p = mann_kendall(run)
        direction = 1 if s > 0 else -1
        if p > p_max or s == 0 or (run[-1] - mid) * direction <= band * spread:
            continue
        s_early, p_early = mann_kendall(run[:-1])  # not one odd latest week: the weeks before it trend too,
        if p_early > 0.2 or s_early * direction <= 0 or (run[-2] - mid) * direction <= band * spread:
            continue  # and the week before the latest is already beyond the band
        slope = theil_sen(run)
        intercept = statistics.median(v - slope * i for i, v in enumerate(run))
        flat = statistics.median(pre)
        cost = sum(abs(v - flat) for v in pre) + sum(abs(v - (intercept + slope * i)) for i, v in enumerate(run))
        if cost < best_cost:
            best_cost = cost
            best = Drift(window[-k][0], k, direction, run[0], run[-1], mid, slope, p)
    return best
