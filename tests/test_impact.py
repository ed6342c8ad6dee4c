"""Theme impact and movers, by hand on report-shaped frames, and the sample's automation wave."""

from __future__ import annotations

import math
from datetime import date

import polars as pl

from metrics import api, impact

W1, W2 = date(2026, 3, 2), date(2026, 3, 9)


def _report(rows, key=None):
    cols = ["period_start"] + ([key] if key else []) + ["overturn_rate_numerator", "overturn_rate_denominator"]
    return pl.DataFrame(rows, schema=cols, orient="row")


def test_shares_and_fix_this_by_hand():
    # W2: 200 decisions, 50 overturns: tooling 30, agent_error 20 (themes exist only on overturns,
    # so a theme row's denominator equals its numerator)
    by_theme = _report([(W2, "tooling", 30, 30), (W2, "agent_error", 20, 20), (W2, None, 0, 150)], "theme")
    total = _report([(W2, 50, 200)])
    got = impact.theme_shares(by_theme, total)
    top = got.row(0, named=True)
    # tooling: 30 of 50 overturns = 60%; rate 50/200 = 25% → without it 20/200 = 10%: a 15 pp drop
    assert top["theme"] == "tooling" and top["share"] == 0.6
    assert top["overturn_rate"] == 0.25 and top["overturn_rate_without"] == 0.1
    assert math.isclose(top["rate_drop"], 0.15)


def test_movers_guard_small_counts():
    by_theme = _report([(W1, "a", 40, 40), (W2, "a", 70, 70), (W1, "b", 1, 1), (W2, "b", 6, 6),
                        (W1, "c", 100, 100), (W2, "c", 104, 104)], "theme")
    got = impact.theme_movers(by_theme, W2, W1)
    # a: +30 / sqrt(110) = 2.86 → mover; b: +5 / sqrt(7) = 1.89 and only 7 appeals → not;
    # c: +4 / sqrt(204) = 0.28 → not
    assert got["theme"].to_list() == ["a", "b", "c"]
    assert got["is_mover"].to_list() == [True, False, False]
    assert math.isclose(got["z"][0], 30 / math.sqrt(110))


def test_sample_automation_wave_is_the_top_theme_mover_in_its_weeks():
    # README story 1: cv-counterfeit-v3.3 live 2026-08-10..08-23 (W33–W34)
    rep = api.report(None, by=["theme"], period="week", date_from="2026-08-03", date_to="2026-08-23",
                     metrics=["overturn_rate"])
    for week in (date(2026, 8, 10), date(2026, 8, 17)):
        movers = impact.theme_movers(rep, week, date.fromordinal(week.toordinal() - 7))
        first = movers.row(0, named=True)
        assert first["theme"] == "automation_false_positives" and first["is_mover"] and first["change"] > 100
