"""metrics.stats against numbers worked out by hand (the arithmetic is beside each case).

z95 = 1.959964, z95² = 3.841459; z99.8 = 3.090232.
"""

from __future__ import annotations

import math

import pytest

from metrics import stats


def approx(x, tol=1e-4):
    return pytest.approx(x, abs=tol)


def test_wilson_5_of_20():
    # p = 0.25, n = 20, z²/n = 0.192073, 1 + z²/n = 1.192073
    # centre = (0.25 + 3.841459/40) / 1.192073 = 0.346036 / 1.192073 = 0.290281
    # half   = 1.959964/1.192073 · sqrt(0.25·0.75/20 + 3.841459/1600)
    #        = 1.644168 · sqrt(0.009375 + 0.002401) = 1.644168 · 0.108517 = 0.178420
    lo, hi = stats.wilson_interval(5, 20)
    assert lo == approx(0.1119) and hi == approx(0.4687)
    assert lo == approx(0.290281 - 0.178420, 1e-5) and hi == approx(0.290281 + 0.178420, 1e-5)


def test_wilson_at_the_edges_stays_in_unit_interval():
    # 0/10: centre = (3.841459/20) / 1.384146 = 0.138767; half = 1.416010 · sqrt(3.841459/400) = 0.138767
    lo, hi = stats.wilson_interval(0, 10)
    assert lo == approx(0.0) and hi == approx(0.2775)
    # 10/10 mirrors 0/10
    lo, hi = stats.wilson_interval(10, 10)
    assert lo == approx(0.7225) and hi == approx(1.0)


def test_wilson_without_denominator_is_none_and_bad_counts_raise():
    assert stats.wilson_interval(0, 0) is None
    assert stats.wilson_interval(None, 10) is None
    with pytest.raises(ValueError):
        stats.wilson_interval(11, 10)


def test_control_limits():
    # p = 0.2, n = 100: sqrt(0.2·0.8/100) = 0.04
    # 95%:   0.2 ± 1.959964·0.04 = 0.2 ± 0.078399 → [0.121601, 0.278399]
    # 99.8%: 0.2 ± 3.090232·0.04 = 0.2 ± 0.123609 → [0.076391, 0.323609]
    assert stats.control_limits(0.2, 100, stats.Z95) == (approx(0.121601, 1e-6), approx(0.278399, 1e-6))
    assert stats.control_limits(0.2, 100, stats.Z998) == (approx(0.076391, 1e-6), approx(0.323609, 1e-6))
    # clipped at 0: p = 0.02, n = 4 → 0.02 ± 1.959964·sqrt(0.0196/4) = 0.02 ± 0.137197
    lo, hi = stats.control_limits(0.02, 4, stats.Z95)
    assert lo == 0.0 and hi == approx(0.157197, 1e-6)
    assert stats.control_limits(None, 10, stats.Z95) is None
    assert stats.control_limits(0.2, 0, stats.Z95) is None


def test_expected_rate_from_queue_mix():
    # 30 appeals in A (peer 10%) and 10 in B (peer 30%): (30·0.1 + 10·0.3) / 40 = 6/40 = 0.15
    assert stats.expected_rate({"A": 30, "B": 10}, {"A": 0.1, "B": 0.3}) == approx(0.15, 1e-12)
    # a queue without a peer rate is left out of both sums: 30·0.1 / 30
    assert stats.expected_rate({"A": 30, "C": 10}, {"A": 0.1, "C": None}) == approx(0.1, 1e-12)
    assert stats.expected_rate({}, {"A": 0.1}) is None


@pytest.mark.parametrize(
    ("observed", "n", "status"),
    [
        (0.35, 100, "above 99.8% limit"),  # > 0.323609
        (0.30, 100, "above 95% limit"),  # 0.278399 < 0.30 <= 0.323609
        (0.22, 100, "within limits"),
        (0.10, 100, "below 95% limit"),  # 0.076391 <= 0.10 < 0.121601
        (0.05, 100, "below 99.8% limit"),  # < 0.076391
        (0.90, 19, "too few to compare"),  # n under the minimum of 20
    ],
)
def test_funnel_position(observed, n, status):
    pos = stats.funnel_position(observed, 0.2, n, min_size=20)
    assert pos.status == status
    assert pos.status in stats.FUNNEL_STATUSES


def test_funnel_curve_narrows_with_volume():
    rows = stats.funnel_curve(0.2, 400, n_min=10, points=20)
    assert rows[0]["n"] == 10 and rows[-1]["n"] == 400
    widths = [r["hi95"] - r["lo95"] for r in rows]
    assert all(a > b for a, b in zip(widths, widths[1:], strict=False))
    last = rows[-1]
    assert last["hi95"] == approx(0.2 + stats.Z95 * math.sqrt(0.16 / 400), 1e-9)
    assert all(r["lo998"] <= r["lo95"] <= r["peer_rate"] <= r["hi95"] <= r["hi998"] for r in rows)
    assert stats.funnel_curve(None, 100) == []
