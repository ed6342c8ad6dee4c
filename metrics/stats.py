"""Small statistics for comparing groups: Wilson score intervals and funnel-plot limits.

Pure functions over counts (numerators and denominators that the report engine returns);
no SQL, no streamlit. Used by metrics.dashboard and the dashboard's Specialists and Root
causes pages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Two-sided normal quantiles: 95 % (warning) and 99.8 % (alarm) limits of a funnel plot.
Z95 = 1.959963984540054
Z998 = 3.090232306167813


def wilson_interval(numerator: int | None, denominator: int | None, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion numerator/denominator; None when denominator is 0.

    centre = (p + z²/2n) / (1 + z²/n)
    half   = z / (1 + z²/n) · sqrt(p(1−p)/n + z²/4n²)
    Unlike p ± z·sqrt(p(1−p)/n) it stays inside [0, 1] and is not degenerate at 0 or n.
    """
    if not denominator or numerator is None:
        return None
    n = float(denominator)
    k = float(numerator)
    if k < 0 or k > n:
        raise ValueError(f"numerator {numerator} is outside [0, {denominator}]")
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def control_limits(p: float | None, n: int | None, z: float) -> tuple[float, float] | None:
    """Funnel-plot limits p ± z·sqrt(p(1−p)/n), clipped to [0, 1]; None without volume or rate."""
    if p is None or not n or n <= 0 or (isinstance(p, float) and math.isnan(p)):
        return None
    half = z * math.sqrt(max(p * (1.0 - p), 0.0) / float(n))
    return max(0.0, p - half), min(1.0, p + half)


def expected_rate(denominators: dict[str, int], peer_rates: dict[str, float | None]) -> float | None:
    """Queue-mix expected rate of one group: Σ_q n_q · p_q / Σ_q n_q.

    `denominators` is the group's denominator in each queue, `peer_rates` the peer rate of
    each queue (all groups pooled). Queues without a peer rate are left out of both sums.
    """
    num = 0.0
    den = 0
    for queue, n in denominators.items():
        rate = peer_rates.get(queue)
        if not n or rate is None:
            continue
        num += n * rate
        den += n
    return num / den if den else None


@dataclass(frozen=True)
class FunnelPosition:
    """Where an observed rate falls against the limits around its expected rate."""

    status: str  # "above 99.8%", "above 95%", "within", "below 95%", "below 99.8%", "too few to compare"
    lo95: float | None
    hi95: float | None
    lo998: float | None
    hi998: float | None


FUNNEL_STATUSES = ("above 99.8% limit", "above 95% limit", "within limits", "below 95% limit",
                   "below 99.8% limit", "too few to compare")


def funnel_position(observed: float | None, expected: float | None, n: int | None, min_size: int) -> FunnelPosition:
    """Classify an observed rate against p ± z·sqrt(p(1−p)/n) at 95 % and 99.8 % around `expected`."""
    l95 = control_limits(expected, n, Z95)
    l998 = control_limits(expected, n, Z998)
    lo95, hi95 = l95 if l95 else (None, None)
    lo998, hi998 = l998 if l998 else (None, None)
    if not n or n < min_size or observed is None or expected is None:
        return FunnelPosition("too few to compare", lo95, hi95, lo998, hi998)
    if observed > hi998:
        status = "above 99.8% limit"
    elif observed > hi95:
        status = "above 95% limit"
    elif observed < lo998:
        status = "below 99.8% limit"
    elif observed < lo95:
        status = "below 95% limit"
    else:
        status = "within limits"
    return FunnelPosition(status, lo95, hi95, lo998, hi998)


def funnel_curve(p: float | None, n_max: int, n_min: int = 1, points: int = 60) -> list[dict]:
    """Limit lines of a funnel around rate p, for n from n_min to n_max (log-spaced): rows of
    n, lo95, hi95, lo998, hi998 for drawing."""
    if p is None or n_max < 1:
        return []
    n_min = max(1, n_min)
    n_max = max(n_max, n_min + 1)
    ns = sorted({int(round(n_min * (n_max / n_min) ** (i / (points - 1)))) for i in range(points)})
    rows = []
    for n in ns:
        lo95, hi95 = control_limits(p, n, Z95)
        lo998, hi998 = control_limits(p, n, Z998)
        rows.append({"n": n, "peer_rate": p, "lo95": lo95, "hi95": hi95, "lo998": lo998, "hi998": hi998})
    return rows
