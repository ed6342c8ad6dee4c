"""Issue 10: every chart mark that counts appeals opens them. A point of a time chart (Queues'
volume, backlog, TTR and FTR lines; an Overview sparkline; the enforcement-source rate chart)
lists the appeals of that metric in that period of the reporting zone.

AppTest cannot click a Vega mark, so each test hands the page the selection event a click
produces (the chart's widget state, {"selection": {"pick": [point]}}, the shape Streamlit
returns), and the page goes its own way from there: picked_point → point_drill → panel. The
number on the mark is read from the chart's own data as the page sent it; the browser test
(test_browser.py) makes one real click."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
ZONE = "Pacific/Kiritimati"  # UTC+14: every week starts 14 h before the UTC one


@pytest.fixture(scope="module")
def sample_dir() -> Path:
    from metrics.sample import ensure_sample_duckdb

    return Path(ensure_sample_duckdb(ROOT / "data" / "sample")).parent


@pytest.fixture(scope="module")
def at(sample_dir):
    """One session for the module, in Kiritimati (reports of one zone are computed once and
    shared by the three pages)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("APPEALS_WAREHOUSE_URL", f"duckdb:///{sample_dir / 'warehouse.duckdb'}")
    st.cache_data.clear()
    st.cache_resource.clear()
    test = AppTest.from_file(APP, default_timeout=180)
    test.query_params["tz"] = ZONE
    test.run()
    ok(test)
    yield test
    mp.undo()
    st.cache_data.clear()
    st.cache_resource.clear()


def visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py").run()
    ok(at)
    return at


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def chart_data(at: AppTest, key: str, column: str) -> pl.DataFrame:
    """The data the page sent to the chart with this key (the dataset that has `column`)."""
    for element in at.get("vega_lite_chart"):
        if element.proto.id.endswith(f"-{key}"):
            for ds in element.proto.datasets:
                frame = pl.from_arrow(pa.ipc.open_stream(io.BytesIO(ds.data.data)).read_all())
                if column in frame.columns:
                    return frame
    raise AssertionError(f"no chart {key} with a column {column}")


def click(at: AppTest, key: str, **point) -> AppTest:
    """What a click on a point hands the page: the chart's selection event."""
    at.session_state[key] = {"selection": {"pick": [point]}}
    at.run()
    ok(at)
    return at


def panel(at: AppTest) -> tuple[str, int]:
    """(title, count) of the open drill-down panel."""
    texts = [m.value for m in at.markdown if " appeals · as of " in m.value]
    assert texts, "no drill-down panel"
    titles = [s.value for s in at.subheader if " · " in s.value and "week" in s.value]
    return titles[-1], int(texts[-1].split("**")[1].replace(",", ""))


def created_in(sample_dir: Path, queue: str, start: str, end: str, tz: str) -> int:
    """An independent count from the raw parquet: appeals of `queue` created in [start, end)
    local days of `tz` (no engine, no facts)."""
    return duckdb.connect().execute(
        f"select count(*) from '{sample_dir / 'appeals.parquet'}' where queue = ? "
        "and created_at >= timezone(?, cast(? as timestamp)) and created_at < timezone(?, cast(? as timestamp))",
        [queue, tz, start, tz, end]).fetchone()[0]


def test_queue_trend_points_list_their_appeals_in_the_reporting_zone(at, sample_dir):
    # payments_hold, week of 9 Nov 2026 in Kiritimati. Independent count from the raw parquet
    # (created_at in [9 Nov 00:00, 16 Nov 00:00) at UTC+14, i.e. [8 Nov 10:00, 15 Nov 10:00) UTC):
    # 224 appeals; in UTC weeks the same week holds 216, so the zone matters.
    week = "2026-11-09"
    assert created_in(sample_dir, "payments_hold", week, "2026-11-16", ZONE) == 224
    assert created_in(sample_dir, "payments_hold", week, "2026-11-16", "UTC") == 216
    at.session_state["queue_pick"] = "payments_hold"
    visit(at, "queues")

    volume = chart_data(at, "q_volume_chart", "metric").filter(pl.col("period_iso") == week)
    created = volume.filter(pl.col("metric") == "appeals_created")["value"].item()
    resolved = volume.filter(pl.col("metric") == "appeals_resolved")["value"].item()
    assert created == 224  # the mark shows the zone's week
    title, count = panel(click(at, "q_volume_chart", period_iso=week, metric="appeals_created"))
    assert count == created == 224 and title.startswith("Appeals created · payments_hold · week")

    # a TTR percentile point lists the appeals whose times make it: those resolved in the week
    # (its n, which the volume chart shows as "Appeals resolved" of the same week)
    _, count = panel(click(at, "q_ttr_chart", period_iso=week, metric="ttr_p50_hours"))
    assert count == resolved > 0

    # a backlog point: the breached appeals open at the end of the zone's week
    backlog = chart_data(at, "q_backlog_chart", "metric").filter(
        (pl.col("period_iso") == week) & (pl.col("metric") == "backlog_breached"))["value"].item()
    title, count = panel(click(at, "q_backlog_chart", period_iso=week, metric="backlog_breached"))
    assert count == backlog > 0 and title.startswith("Backlog breached")
    shown = next(df.value for df in at.dataframe if "is_breached" in df.value.columns)
    assert shown["is_breached"].all()

    # a bar of the priority mix: the appeals of that priority created in the week
    mix = chart_data(at, "q_priority_chart", "priority").filter(
        (pl.col("period_iso") == week) & (pl.col("priority") == "P2"))["appeals_created"].item()
    title, count = panel(click(at, "q_priority_chart", period_iso=week, priority="P2"))
    assert count == mix > 0 and title.startswith("Appeals created · payments_hold · P2 · week")

    # holidays only where they apply (decision 61): payments_hold runs on the phoenix schedule
    # (its P2/P3 from the `*` policies), so Dublin's 26 Oct holiday, in range, is not on its
    # charts; the team's notes for every queue and for payments_hold are
    notes = " ".join(chart_data(at, "q_volume_chart", "text")["text"].to_list())
    assert "Payments-hold auto-review pilot" in notes and "Counterfeit policy v3" in notes
    assert "Holiday" not in notes

    # a click beside the points (or on an annotation) hands back no period: the panel stays
    click(at, "q_ftr_chart", text="a holiday")
    assert panel(at)[1] == mix  # still the priority bar's list


def test_an_overview_sparkline_point_lists_that_periods_appeals(at, sample_dir):
    # Week of 2 Nov in Kiritimati, all queues: the sparkline's point is the count of appeals
    # created; the panel lists exactly that many, which the raw parquet confirms with the zone's
    # boundaries, and it is not the headline week's number (the click chose the period).
    visit(at, "overview")
    spark = chart_data(at, "kpi_spark_appeals_created", "appeals_created")
    point = spark.filter(pl.col("period_iso") == "2026-11-02")["appeals_created"].item()
    headline = spark.sort("period_start")["appeals_created"][-1]
    title, count = panel(click(at, "kpi_spark_appeals_created", period_iso="2026-11-02"))
    assert count == point != headline and "week 45" in title
    independent = sum(created_in(sample_dir, q, "2026-11-02", "2026-11-09", ZONE) for q in
                      ("ip_counterfeit", "payments_hold", "livestream_ban", "listing_removal", "account_suspension"))
    assert count == independent


def test_an_enforcement_source_point_lists_its_decisions(at):
    # The rate chart's point for automated enforcements in the headline week: the panel lists
    # its denominator (decisions with a known outcome), the overturns flagged = its numerator.
    visit(at, "root_causes")
    # an unfiltered chart shows every holiday, labelled with its schedule, site and queues
    notes = chart_data(at, "rc_source_chart", "text")["text"].to_list()
    assert any("26 Oct: Holiday: dublin schedule closed (site dublin; queues ip_counterfeit, listing_removal)" in t
               for t in notes)
    data = chart_data(at, "rc_source_chart", "overturn_rate_denominator")
    last = data.sort("period_start")["period_iso"][-1]
    row = data.filter((pl.col("period_iso") == last) & (pl.col("enforcement_source") == "automated")).row(0, named=True)
    title, count = panel(click(at, "rc_source_chart", period_iso=last, enforcement_source="automated"))
    assert count == row["overturn_rate_denominator"] > 0 and "automated" in title
    listed = next(df.value for df in at.dataframe if "in_numerator" in df.value.columns)
    if count <= len(listed):  # one page holds them all: the flags add up to the numerator
        assert int(listed["in_numerator"].sum()) == row["overturn_rate_numerator"]
    assert date.fromisoformat(last).weekday() == 0


def test_a_specialists_trend_point_lists_their_appeals(at):
    # The picked specialist's "Appeals resolved" line, its latest week: the panel lists that many,
    # all owned by that specialist (the owner-following key of the report).
    visit(at, "specialists")
    pick = at.selectbox(key="specialist_pick").value
    line = chart_data(at, "sp_resolved_chart", "metric").sort("period_start")
    week, value = line["period_iso"][-1], line["value"][-1]
    title, count = panel(click(at, "sp_resolved_chart", period_iso=week, metric="appeals_resolved"))
    assert count == value > 0 and title.startswith("Appeals resolved ·")
    listed = next(df.value for df in at.dataframe if "appeal_id" in df.value.columns and "outcome" in df.value.columns)
    assert set(listed["specialist_id"]) == {pick}


def test_every_clickable_chart_compiles_in_vega():
    # AppTest never draws a chart: Vega-Lite (vl-convert, the library the browser runs) compiles
    # each selectable spec here, with annotations, targets, the focus point and small-n points.
    import vl_convert as vlc

    from tests.helpers import chart_spec
    from ui import charts

    starts = [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    f = pl.DataFrame({"period_start": starts * 2, "enforcement_source": ["automated"] * 3 + ["manual"] * 3,
                      "appeals_created": [10, 20, 15, 5, 6, 7], "appeals_resolved": [9, 19, 30, 4, 5, 6],
                      "overturn_rate": [0.1, 0.2, None, 0.3, 0.1, 0.2], "overturn_rate_numerator": [1, 4, 0, 3, 1, 2],
                      "overturn_rate_denominator": [10, 20, 0, 10, 10, 10], "overturn_rate_ci_lo": [0.0] * 6,
                      "overturn_rate_ci_hi": [0.5] * 6, "priority": ["P1", "P2", "P1", "P2", "P1", "P2"]})
    one = f.filter(pl.col("enforcement_source") == "automated")
    notes = pl.DataFrame({"period_start": [date(2026, 11, 9)], "day": [date(2026, 11, 10)], "text": ["10 Nov: x"],
                          "kind": ["Holiday"]})
    built = [
        charts.sparkline(one, "appeals_created", "week", date(2026, 11, 16), selectable=True),
        charts.metric_lines(one, ["appeals_created", "appeals_resolved"], "week", targets={"SLA": 12.0},
                            annotations=notes, selection=charts.click_selection(["period_iso", "metric"])),
        charts.rate_band(f, "overturn_rate", "week", series="enforcement_source", annotations=notes,
                         selection=charts.click_selection(["period_iso", "enforcement_source"])),
        charts.stacked_counts(f, "priority", "appeals_created", "week", "Priority", "created", annotations=notes,
                              selection=charts.mark_selection(["period_iso", "priority"])),
        charts.rate_bars(f.filter(pl.col("period_start") == date(2026, 11, 2)), "enforcement_source", "Source",
                         selection=charts.mark_selection(["enforcement_source"])),
        charts.age_histogram(pl.DataFrame({"age_bucket": ["<1d", "1-3d"], "bucket_order": [0, 1],
                                           "sla_state": ["breached", "within SLA"], "appeals": [3, 4]}),
                             selection=charts.mark_selection(["age_bucket", "sla_state"])),
    ]
    for chart in built:
        assert "<svg" in vlc.vegalite_to_svg(json.dumps(chart_spec(chart)))
        assert '"name": "pick"' in json.dumps(chart_spec(chart))  # what drilldown.picked_point reads
