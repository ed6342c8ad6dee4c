"""Mix and rate effects, noise and drift, by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

from metrics import drivers


def test_mix_and_rate_by_hand_sum_to_the_change():
    # before: A 10 of 100 (10%), B 40 of 100 (40%) → 50 / 200 = 25%
    # now:    A 30 of 150 (20%), B 20 of  50 (40%) → 50 / 200 = 25%  (total change 0)
    # A: w 0.5 → 0.75, r 0.1 → 0.2: mix = 0.25 · 0.15 = +0.0375, rate = 0.1 · 0.625 = +0.0625
    # B: w 0.5 → 0.25, r 0.4 → 0.4: mix = −0.25 · 0.40 = −0.1000, rate = 0
    parts = {p.group: p for p in drivers.decompose_rate({"A": (10, 100), "B": (40, 100)},
                                                        {"A": (30, 150), "B": (20, 50)})}
    assert math.isclose(parts["A"].mix, 0.0375) and math.isclose(parts["A"].rate, 0.0625)
    assert math.isclose(parts["B"].mix, -0.1) and parts["B"].rate == 0
    assert math.isclose(sum(p.total for p in parts.values()), 0.0, abs_tol=1e-15)


def test_a_new_group_moves_the_mix_only():
    # before: A 10 of 100 (10%); now: A 10 of 100, C 30 of 100 (new, 30%) → 10% → 20% (+10 pp)
    # C takes its own rate in both periods: mix = 0.5 · 0.3 = +0.15, rate 0; A: w 1 → 0.5: mix = −0.5 · 0.1
    parts = {p.group: p for p in drivers.decompose_rate({"A": (10, 100)}, {"A": (10, 100), "C": (30, 100)})}
    assert math.isclose(parts["C"].mix, 0.15) and parts["C"].rate == 0
    assert math.isclose(parts["A"].mix, -0.05)
    assert math.isclose(sum(p.total for p in parts.values()), 0.1)


def test_noise_is_the_scaled_mad_of_past_changes():
    # changes before the latest: +1, −1, +1, −1, +3 → median +1, |dev| 0, 2, 0, 2, 2 → MAD 2 → 2.9652
    assert math.isclose(drivers.noise([10, 11, 10, 11, 10, 13, 99]), 2 * 1.4826)
    assert drivers.noise([1, 2, 3]) is None  # fewer than four changes


def test_mann_kendall_by_hand():
    # 1, 2, 3, 4: S = 6, var = 4·3·13/18 = 8.667, z = (6 − 1)/2.944 = 1.698, p = 0.0894
    s, p = drivers.mann_kendall([1, 2, 3, 4])
    assert s == 6 and math.isclose(p, 0.0894, abs_tol=1e-3)


def test_drift_found_where_it_starts():
    weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(16)]
    flat = [20, 22, 19, 21, 20, 23, 18, 21, 22, 19]
    values = flat + [27, 31, 36, 40, 45, 50]  # a six-week climb after ten flat weeks (the last one low)
    d = drivers.find_drift(weeks, values)
    assert d is not None and d.since == weeks[10] and d.weeks == 6 and d.direction == 1
    # baseline: median of the 8 weeks before (19 22 … 19 → 20.5); slope: median pairwise slope 4.6
    assert d.first == 27 and d.last == 50 and d.baseline == 20.5 and math.isclose(d.slope, 4.6)
    # one bad latest week is a move, not a drift
    assert drivers.find_drift(weeks, flat + [20, 21, 19, 22, 21, 45]) is None
