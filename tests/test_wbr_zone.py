"""Issue 10: the weekly review in the reporting time zone (the Weekly review page: the sidebar's
zone; `python -m metrics wbr --tz Z`, interfaces.md's `--tz`: an IANA zone for period
boundaries, default UTC).

Hand-made warehouse, one queue, no decisions (created counts are enough to tell the weeks apart):
  a1, a2  Tue  3 Mar 2026 09:00 UTC  W10 in both zones (Kiritimati, UTC+14: Tue 23:00)
  a3      Sun  8 Mar 2026 14:00 UTC  UTC: Sunday of W10; Kiritimati: Mon 9 Mar 04:00, W11
  a4, a5  Tue 10 Mar 2026 09:00 UTC  W11 in both zones
  a6      Tue 17 Mar 2026 09:00 UTC  W12: W11 is complete at as_of in both zones
So appeals created in W11: UTC 2 (a4, a5) against 3 in W10 → −33.3%;
Kiritimati 3 (a3, a4, a5) against 2 (a1, a2) → +50.0%.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import wbr
from metrics.warehouse import WarehouseError
from tests.helpers import make_warehouse
from tests.test_cli import run_cli

ZONE = "Pacific/Kiritimati"
APP = str(Path(__file__).resolve().parent.parent / "app.py")
CREATED = {"a1": "2026-03-03 09:00", "a2": "2026-03-03 09:00", "a3": "2026-03-08 14:00", "a4": "2026-03-10 09:00",
           "a5": "2026-03-10 09:00", "a6": "2026-03-17 09:00"}
UTC_SENTENCE = "Appeals created was 2 in 2026-W11, -33.3% week over week."
ZONE_SENTENCE = "Appeals created was 3 in 2026-W11, +50.0% week over week."


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> str:
    appeals = [{"appeal_id": a, "queue": "q1", "priority": "P1", "created_at": at} for a, at in CREATED.items()]
    return make_warehouse(tmp_path_factory.mktemp("wbr_zone"), {"appeals": appeals, "appeal_events": []})


def test_the_week_ends_at_midnight_in_the_reporting_zone():
    # W44 of 2026 starts Mon 26 Oct; it ends at local Mon 2 Nov 00:00: 24:00 UTC on Sun 1 Nov,
    # but in Kiritimati (UTC+14) at Sun 1 Nov 10:00 UTC (its last microsecond before that).
    later = datetime(2026, 11, 22, 23, 59, tzinfo=UTC)
    assert wbr.effective_as_of(later, date(2026, 10, 26), ZONE) == datetime(2026, 11, 1, 9, 59, 59, 999999, tzinfo=UTC)
    assert wbr._instant(datetime(2026, 11, 1, 9, 59, 59, 999999, tzinfo=UTC), ZONE) == \
        "Sun 1 Nov 2026, 24:00 Pacific/Kiritimati"
    with pytest.raises(WarehouseError, match="^--tz: unknown IANA time zone 'Mars/Olympus'"):
        wbr.build(None, "2026-W44", tz="Mars/Olympus")


def test_a_weeks_number_follows_the_zone(url):
    utc, far = wbr.render(url, "2026-W11"), wbr.render(url, "2026-W11", tz=ZONE)
    assert UTC_SENTENCE in utc and ZONE_SENTENCE not in utc
    assert ZONE_SENTENCE in far
    assert "weeks run Monday to Sunday in Pacific/Kiritimati" in far and "in UTC" in utc
    # the as-of line: the end of W11 on Kiritimati's clock
    assert "(Sun 15 Mar 2026, 24:00 Pacific/Kiritimati)" in far


def test_the_cli_takes_tz(url):
    proc = run_cli("wbr", "--warehouse", url, "--week", "2026-W11", "--tz", ZONE, "--out", "-")
    assert proc.returncode == 0, proc.stderr
    assert ZONE_SENTENCE in proc.stdout  # (a bad --tz: the WarehouseError above, exit 2 as every argument's)


def test_the_weekly_review_page_follows_the_sidebar_zone(url, monkeypatch):
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", url)
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["tz"] = ZONE
    at.run()
    at.switch_page("pages/wbr.py").run()
    assert not at.exception, [e.value for e in at.exception]
    body = "\n".join(m.value for m in at.markdown)
    assert ZONE_SENTENCE in body and UTC_SENTENCE not in body
    assert any("in **Pacific/Kiritimati**" in c.value and "--tz Pacific/Kiritimati" in c.value for c in at.caption)
    assert at.selectbox(key="tz").value == ZONE  # the zone is read here, not folded away
    st.cache_data.clear()
