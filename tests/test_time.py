"""Issue 10 item 4, the numbers: date presets, the last complete period as the default
headline, and the comparison with the trailing 4-period average. Expected values by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from metrics import dashboard
from metrics.periods import PRESETS, preset_range, trailing_starts


def test_presets_by_hand():
    today = date(2026, 11, 18)  # a Wednesday; its ISO week starts Mon 16 Nov
    assert preset_range("last_7_days", today) == (date(2026, 11, 12), date(2026, 11, 18))   # 18 - 6
    assert preset_range("last_28_days", today) == (date(2026, 10, 22), date(2026, 11, 18))  # 18 Nov - 27 d
    assert preset_range("this_week", today) == (date(2026, 11, 16), today)
    assert preset_range("this_month", today) == (date(2026, 11, 1), today)
    assert preset_range("last_full_week", today) == (date(2026, 11, 9), date(2026, 11, 15))  # Mon-Sun before
    # on a Monday "this week" is one day and "last full week" the week just ended
    assert preset_range("this_week", date(2026, 11, 16)) == (date(2026, 11, 16),) * 2
    assert preset_range("last_full_week", date(2026, 11, 16)) == (date(2026, 11, 9), date(2026, 11, 15))
    assert set(PRESETS) == {"last_7_days", "last_28_days", "this_week", "this_month", "last_full_week"}
    with pytest.raises(ValueError, match="preset"):
        preset_range("yesterday", today)


def test_trailing_starts():
    assert trailing_starts(date(2026, 11, 16), "week") == [date(2026, 10, 19), date(2026, 10, 26),
                                                            date(2026, 11, 2), date(2026, 11, 9)]
    assert trailing_starts(date(2026, 3, 1), "month") == [date(2025, 11, 1), date(2025, 12, 1),
                                                          date(2026, 1, 1), date(2026, 2, 1)]


def test_default_headline_is_the_last_complete_week():
    # as_of Wed 18 Nov 2026 09:00 UTC: the week of 16 Nov is running -> the range ends Sun 15 Nov
    as_of = datetime(2026, 11, 18, 9, tzinfo=UTC)
    assert dashboard.default_date_range(as_of) == (date(2026, 9, 21), date(2026, 11, 15))
    # Sun 22 Nov 23:30 UTC: under an hour left, the week counts as complete (unchanged default)
    assert dashboard.default_date_range(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))[1] == date(2026, 11, 22)
    # ... but in Sydney (UTC+11) that instant is already Mon 23 Nov 10:30, a new week running
    sydney = dashboard.default_date_range(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), tz="Australia/Sydney")
    assert sydney[1] == date(2026, 11, 22)  # the Sydney week of 16 Nov ended at 22 Nov 13:00 UTC: complete
    starts = [date(2026, 11, 9), date(2026, 11, 16)]
    assert dashboard.latest_complete(starts, "week", as_of) == date(2026, 11, 9)
    assert dashboard.latest_complete(starts, "week", datetime(2026, 11, 23, tzinfo=UTC)) == date(2026, 11, 16)
    # New York (UTC-5): the week of 16 Nov ends Mon 23 Nov 05:00 UTC, so at 23 Nov 02:00 UTC it still runs
    assert dashboard.is_partial(date(2026, 11, 16), "week", datetime(2026, 11, 23, 2, tzinfo=UTC), "America/New_York")
    assert not dashboard.is_partial(date(2026, 11, 16), "week", datetime(2026, 11, 23, 2, tzinfo=UTC))


def _report() -> pl.DataFrame:
    # weeks before the focus (16 Nov): 19 Oct, 26 Oct (absent: nothing happened), 2 Nov, 9 Nov;
    # 12 Oct lies outside the 4-week window and must not count.
    rows = [
        # period_start,      created, resolved, ovt num/den, ttr p50
        (date(2026, 10, 12), 100, 100, 50, 50, 9.0),
        (date(2026, 10, 19), 10, 10, 1, 10, 5.0),
        (date(2026, 11, 2), 6, 5, 3, 5, 7.0),
        (date(2026, 11, 9), 8, 5, 2, 5, 6.0),
        (date(2026, 11, 16), 12, 8, 2, 8, 4.0),
    ]
    return pl.DataFrame(
        [{"period_start": p, "appeals_created": c, "appeals_resolved": r, "overturn_rate": n / d,
          "overturn_rate_numerator": n, "overturn_rate_denominator": d, "ttr_p50_hours": t} for p, c, r, n, d, t in rows],
        schema={"period_start": pl.Date, "appeals_created": pl.Int64, "appeals_resolved": pl.Int64,
                "overturn_rate": pl.Float64, "overturn_rate_numerator": pl.Int64,
                "overturn_rate_denominator": pl.Int64, "ttr_p50_hours": pl.Float64})


def test_trailing_four_week_average_by_hand():
    metrics = ["appeals_created", "overturn_rate", "ttr_p50_hours"]
    base = dashboard.trailing_average(_report(), date(2026, 11, 16), "week", metrics)
    # counts: (10 + 0 + 6 + 8) / 4 = 6.0 (the absent week counts 0)
    assert base["appeals_created"] == (6.0, None, None)
    # rates pooled: (1 + 0 + 3 + 2) / (10 + 0 + 5 + 5) = 6 / 20 = 0.30
    # (a mean of the three weekly rates would be (0.1 + 0.6 + 0.4) / 3 = 0.367: not what we show)
    assert base["overturn_rate"] == (pytest.approx(0.30), 6, 20)
    # percentiles are not averaged
    assert base["ttr_p50_hours"] == (None, None, None)
    kpis = {k.name: k for k in dashboard.kpis_vs_trailing(_report(), date(2026, 11, 16), "week", metrics)}
    assert kpis["appeals_created"].value == 12 and kpis["appeals_created"].change == 6.0  # 12 - 6.0
    assert kpis["appeals_created"].relative_change == 1.0                                 # +100 %
    assert kpis["overturn_rate"].change == pytest.approx(0.25 - 0.30)                     # 2/8 - 6/20
    assert (kpis["overturn_rate"].prev_numerator, kpis["overturn_rate"].prev_denominator) == (6, 20)
    assert kpis["ttr_p50_hours"].value == 4.0 and kpis["ttr_p50_hours"].change is None
