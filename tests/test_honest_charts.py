"""Issue 10 item 5: honest charts. Straight segments between periods (no smoothing), n on
every point with the ones under MIN_GROUP_SIZE (20) marked, and age buckets that follow the
data's range, on hand-made rows and on the real help-desk log."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from metrics import api, dashboard
from tests.helpers import chart_spec
from ui import charts

ROOT = Path(__file__).resolve().parent.parent
# beside the checkout (../shared), or two levels up from a worktree (/work/wt/<name> -> /work/shared)
REALDATA = next((p for p in (ROOT.parent / "shared" / "realdata", ROOT.parent.parent / "shared" / "realdata")
                 if p.exists()), ROOT.parent / "shared" / "realdata")
AS_OF = datetime(2026, 3, 5, 12, tzinfo=UTC)


def test_age_buckets_follow_the_oldest_appeal():
    # up to 7 days: the fixed buckets, exactly as before
    assert dashboard.age_buckets(None) == dashboard.AGE_BUCKETS
    assert dashboard.age_buckets(100) == dashboard.AGE_BUCKETS
    # 20 days (480 h): edges below 480 h are 4 8 24 48 72 168 336 -> 8 buckets ending "> 14 d"
    assert [b for b, _ in dashboard.age_buckets(480)] == [
        "< 4 h", "4–8 h", "8–24 h", "1–2 d", "2–3 d", "3–7 d", "7–14 d", "> 14 d"]
    # 100 days (2400 h): edges below it 4 8 24 48 72 168 336 720 1440 2160 (10); the two finest
    # merge away to keep 8 edges -> "< 24 h" first, "> 3 mo" (2160 h = 90 d) last
    assert [b for b, _ in dashboard.age_buckets(2400)] == [
        "< 24 h", "1–2 d", "2–3 d", "3–7 d", "7–14 d", "14 d–1 mo", "1–2 mo", "2–3 mo", "> 3 mo"]


def test_age_distribution_spreads_months_long_appeals():
    # open appeals aged 1 h, 1200 h (50 d), 2400 h (100 d): buckets of age_buckets(2400) above;
    # 1 h -> "< 24 h", 1200 h -> "1–2 mo" (720–1440 h), 2400 h -> "> 3 mo"
    rows = pl.DataFrame({
        "created_at": [AS_OF - timedelta(hours=h) for h in (1, 1200, 2400)],
        "ttr_sla": ["pending", "breached", None],
    }).with_columns(pl.col("created_at").dt.cast_time_unit("us"))
    dist = dashboard.age_distribution(rows, AS_OF)
    assert dist.select("age_bucket", "sla_state", "appeals").rows() == [
        ("< 24 h", "within SLA", 1), ("1–2 mo", "breached", 1), ("> 3 mo", "no SLA", 1)]


@pytest.fixture(scope="module")
def helpdesk_url(tmp_path_factory) -> str:
    events = REALDATA / "helpdesk_tickets" / "events.parquet"
    if not events.exists():
        pytest.skip(f"real logs not found at {REALDATA}")
    from metrics.importlog import import_log

    out = tmp_path_factory.mktemp("realdata") / "helpdesk.duckdb"
    import_log(events, ROOT / "mappings" / "helpdesk_tickets.yml", out)
    return f"duckdb:///{out}"


def test_age_buckets_on_the_real_helpdesk_log(helpdesk_url):
    as_of = api.resolve_as_of(helpdesk_url, None)
    rows, total = api.appeals(helpdesk_url, as_of, None, where=dashboard.OPEN_APPEALS, order_by="created_at",
                              limit=api.DRILL_LIMIT_MAX)
    dist = dashboard.age_distribution(rows, as_of)
    got = dict(dist.group_by("age_bucket").agg(pl.col("appeals").sum()).iter_rows())
    # independently: each open ticket's age in hours, counted into the same edges by hand
    ages = [(as_of - c).total_seconds() / 3600 for c in rows["created_at"].to_list()]
    buckets = dashboard.age_buckets(max(ages))
    expected: dict[str, int] = {}
    for a in ages:
        label = next(lbl for lbl, upper in buckets if a < upper)
        expected[label] = expected.get(label, 0) + 1
    assert got == expected and sum(got.values()) == total == 12
    # the log's open tickets are months old: they no longer fall into one "> 7 d" bar
    assert "> 7 d" not in got and len(got) >= 4 and max(ages) > 24 * 365


def _frame() -> pl.DataFrame:
    # three weeks; the middle one has n = 2 resolved (< 20): its TTR and rate points are hollow
    return pl.DataFrame({
        "period_start": [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)],
        "appeals_resolved": [30, 2, 40],
        "ttr_p50_hours": [3.0, 4.0, 3.5], "ttr_p90_hours": [5.0, 8.0, 6.0], "ftr_p50_hours": [1.0, 1.0, 1.0],
        "overturn_rate": [0.1, 0.5, 0.2], "overturn_rate_numerator": [3, 1, 8],
        "overturn_rate_denominator": [30, 2, 40], "overturn_rate_ci_lo": [0.0, 0.1, 0.1],
        "overturn_rate_ci_hi": [0.2, 0.9, 0.3],
    })


def _data(chart) -> list[dict]:
    spec = chart_spec(chart)
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_no_smoothed_curves_and_n_on_every_point():
    f = _frame()
    built = [charts.sparkline(f, "overturn_rate", "week", date(2026, 11, 16)),
             charts.metric_lines(f, ["ttr_p50_hours", "ttr_p90_hours"], "week"),
             charts.rate_band(f, "overturn_rate", "week")]
    for chart in built:
        text = json.dumps(chart_spec(chart))
        assert "monotone" not in text and "basis" not in text and "cardinal" not in text
        assert '"field": "n"' in text or '"title": "Denominator"' in text  # n in the tooltip
    # n of a TTR percentile = appeals_resolved (same cohort, counts every row); FTR has none here
    assert charts.n_column("ttr_p50_hours", f.columns) == "appeals_resolved"
    assert charts.n_column("ftr_p50_hours", f.columns) is None
    assert charts.n_column("overturn_rate", f.columns) == "overturn_rate_denominator"
    small = {(r.get("series"), r["period_start"][:10], r["small_n"]) for r in _data(built[1]) if "small_n" in r}
    assert ("TTR p50", "2026-11-09", True) in small and ("TTR p50", "2026-11-02", False) in small
    # the note explains the hollow points
    assert charts.SMALL_N_NOTE in json.dumps(chart_spec(built[1]))
    # and drawn: the page's charts have no title of their own, and under an empty title Vega
    # drew no subtitle (the hollow points went unexplained on every page)
    import vl_convert as vlc

    for chart in built[1:]:
        assert "Hollow grey points: fewer than" in vlc.vegalite_to_svg(json.dumps(chart_spec(chart)))
    assert charts.SMALL_N_NOTE in json.dumps(chart_spec(built[2]))


def test_a_sparkline_sends_its_rows_with_the_focus_flag_and_n():
    # _frame(): weeks of 2, 9 and 16 Nov, overturn_rate 0.1 / 0.5 / 0.2 over 30 / 2 / 40 decided.
    # The focus is 16 Nov: only that row is flagged (the orange point). n is the rate's
    # denominator (30, 2, 40); 2 < MIN_GROUP_SIZE (20) makes the middle point hollow.
    spec = charts.sparkline(_frame(), "overturn_rate", "week", date(2026, 11, 16), selectable=True)
    rows = spec["datasets"][charts.SPARK_ROWS]
    assert rows["period_iso"].to_list() == ["2026-11-02", "2026-11-09", "2026-11-16"]
    assert rows["is_focus"].to_list() == [False, False, True]
    assert rows["n"].to_list() == [30, 2, 40] and rows["small_n"].to_list() == [False, True, False]
    assert rows["value"].to_list() == [0.1, 0.5, 0.2]  # what the shared shape draws: the rate
    # the template is shared between calls, never the rows: a second card gets its own
    other = charts.sparkline(_frame().head(2), "overturn_rate", "week", None, selectable=True)
    assert other["datasets"][charts.SPARK_ROWS]["is_focus"].to_list() == [False, False]
    assert spec["datasets"][charts.SPARK_ROWS].height == 3
    text = json.dumps({k: v for k, v in spec.items() if k != "datasets"})
    assert '"name": "pick"' in text and '"datum.is_focus"' in text


def _named_alike(spec: dict) -> tuple[str, dict]:
    """A spec's JSON with its dataset names and Altair's view names numbered in order of use,
    and its datasets as frames (st.altair_chart hands them over as Arrow bytes)."""
    import io
    import re

    import pyarrow as pa

    datasets = spec.pop("datasets")
    text = json.dumps(spec, sort_keys=True)
    names = [n for n in dict.fromkeys(re.findall(r'"(view_[0-9a-f_]+|[^"]+)"', text)) if n in datasets or n.startswith("view_")]
    for i, name in enumerate(names):
        text = text.replace(f'"{name}"', f'"n{i}"')
    frames = {names.index(n): pl.from_arrow(pa.ipc.open_stream(io.BytesIO(v)).read_all()) if isinstance(v, bytes) else v
              for n, v in datasets.items() if n in names}
    return text, frames


def test_a_chart_spec_is_the_one_streamlit_would_build():
    # ui.charts.vega_spec skips the schema validation st.altair_chart runs on every render;
    # the spec and the rows sent must stay the same (Streamlit renames the views itself)
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    f = _frame()
    notes = pl.DataFrame({"period_start": [date(2026, 11, 9)], "day": [date(2026, 11, 10)], "text": ["10 Nov: x"],
                          "kind": ["Holiday"]})
    metrics, pick = ["ttr_p50_hours", "ttr_p90_hours"], charts.click_selection(["period_iso", "metric"])
    lines = charts.metric_lines(f, metrics, "week", targets={"SLA": 4.0}, annotations=notes, selection=pick)
    # the trend chart is a template filled per call (its order, its rows): what Streamlit builds
    # from the Altair chart of the same rows
    long = charts._line_rows(f, metrics, "week")
    altair_lines = charts._lines_chart(long, pl.DataFrame([{"target": 4.0, "label": "SLA"}]),
                                       charts._annotation_rows(notes, long), metrics, None, None,
                                       bool(long["small_n"].any()), charts._period_order(long), pick)
    # so is the rate band (a series, a click selection) and the funnel plot (four frames)
    band = charts.rate_band(f, "overturn_rate", "week", title="Overturns", annotations=notes)
    rows = charts._with_n(charts.with_period_labels(f, "week"), ["overturn_rate"])
    altair_band = charts._rate_band_chart(rows, charts._annotation_rows(notes, rows), "overturn_rate", None,
                                          "Overturns", True, charts._period_order(rows), None)
    two = pl.concat([f.with_columns(pl.lit(s).alias("source")) for s in ("automated", "manual")])
    source_pick = charts.click_selection(["period_iso", "source"])
    series = charts.rate_band(two, "overturn_rate", "month", series="source", selection=source_pick)
    rows2 = charts._with_n(charts.with_period_labels(two, "month"), ["overturn_rate"])
    altair_series = charts._rate_band_chart(rows2, None, "overturn_rate", "source", None, True,
                                            charts._period_order(rows2), source_pick)
    points = pl.DataFrame({"name": ["Ann (s1)", "Bo (s2)"], "status": ["above 99.8% limit", "within 95% limits"],
                           "overturn_rate": [0.5, 0.2], "overturn_rate_numerator": [10, 4],
                           "overturn_rate_denominator": [20, 20], "expected": [0.2, 0.2], "lo95": [0.05, 0.05],
                           "hi95": [0.4, 0.4], "hi998": [0.5, 0.5]})
    curve = pl.DataFrame({"n": [10, 20], "peer_rate": [0.2, 0.2], "lo95": [0.0, 0.05], "hi95": [0.5, 0.4],
                          "lo998": [0.0, 0.0], "hi998": [0.7, 0.55]})
    funnel = charts.funnel_plot(points, curve)
    parts = {"lines": funnel["datasets"][next(iter(funnel["datasets"]))]}  # the template's own first frame
    assert parts["lines"].height == 8  # 2 volumes x 4 limits
    altair_funnel = charts._funnel_chart(
        {"lines": parts["lines"], "peer": curve.head(1), "points": points, "flagged": points.head(1)}, "name")
    # the bar charts, each with its click selection (stacked by a key, rates by a key ordered by
    # their numerators, open appeals by age bucket)
    mix = f.with_columns(pl.lit("P1").alias("priority"))
    bar_pick = charts.mark_selection(["period_iso", "priority"])
    stacked = charts.stacked_counts(mix, "priority", "appeals_created", "week", "Priority", "created", share=None,
                                    annotations=notes, selection=bar_pick)
    mixed = charts.with_period_labels(mix, "week")
    altair_stacked = charts._stacked_chart(mixed, charts._annotation_rows(notes, mixed), "priority", "appeals_created",
                                           "Priority", "created", None, None, None, "tableau10",
                                           charts._period_order(mixed), bar_pick)
    per_source = pl.DataFrame({"source": ["automated", "manual"], "overturn_rate": [0.1, 0.3],
                               "overturn_rate_numerator": [2, 6], "overturn_rate_denominator": [20, 20],
                               "overturn_rate_ci_lo": [0.03, 0.15], "overturn_rate_ci_hi": [0.3, 0.5]})
    bars = charts.rate_bars(per_source, "source", "Source", selection=charts.mark_selection(["source"]))
    altair_bars = charts._rate_bars_chart(per_source, "source", "Source", "overturn_rate", None, ["manual", "automated"],
                                          charts.mark_selection(["source"]))
    dist = pl.DataFrame({"age_bucket": ["1-3d", "<1d"], "bucket_order": [1, 0], "sla_state": ["breached", "no SLA"],
                         "appeals": [3, 4]})
    ages = charts.age_histogram(dist)
    altair_ages = charts._age_chart(dist, ["<1d", "1-3d"], None)
    # (Altair chart, filled template, its datasets: rows, rules, notes / rows, notes / rows /
    # limits, peer rate, points, flagged points / rows, notes / rows / rows)
    built = [(altair_lines, lines, 3), (altair_band, band, 2), (altair_series, series, 1), (altair_funnel, funnel, 4),
             (altair_stacked, stacked, 2), (altair_bars, bars, 1), (altair_ages, ages, 1)]
    for chart, spec, frames in built:
        theirs, their_rows = _named_alike(_convert_altair_to_vega_lite_spec(chart))
        ours, our_rows = _named_alike(dict(spec))
        assert ours == theirs
        assert sorted(our_rows) == sorted(their_rows) and len(our_rows) == frames
        for key, rows in our_rows.items():
            assert rows.equals(their_rows[key])
        # the chart keeps its own frames (its PNG and SVG downloads render it later)
        if any(spec is s for s in (lines, band, series, stacked)):
            assert {r["period_start"][:10] for r in _data(spec) if "period_start" in r} == {"2026-11-02", "2026-11-09",
                                                                                             "2026-11-16"}


def test_a_trend_chart_template_is_filled_per_call():
    # two trend charts of one shape share the template, never the periods or the rows: the
    # second has two weeks (2 and 9 Nov), the first three; each x axis lists its own, in order
    metrics = ["ttr_p50_hours", "ttr_p90_hours"]
    three = charts.metric_lines(_frame(), metrics, "week")
    two = charts.metric_lines(_frame().head(2), metrics, "week")
    assert json.dumps({k: v for k, v in three.items() if k != "datasets"}).count("__period_order__") == 0

    def orders(spec):
        found = []

        def walk(node):
            if isinstance(node, dict):
                if node.get("field") == "period" and "sort" in node:
                    found.append(node["sort"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(spec)
        return found

    assert orders(three) and all(o == ["2 Nov", "9 Nov", "16 Nov"] for o in orders(three))
    assert orders(two) and all(o == ["2 Nov", "9 Nov"] for o in orders(two))
    # 2 metrics x 3 weeks and 2 x 2 rows, each chart its own
    assert [rows.height for rows in three["datasets"].values()] == [6]
    assert [rows.height for rows in two["datasets"].values()] == [4]
    # the small-n note is the title's, filled per call: a chart with hollow points (week of 9
    # Nov: 2 decided) and one without (the first week alone) share one template, each with its
    # own title; so do the rate band's, whatever the grain
    charts._TEMPLATES.clear()
    hollow = charts.metric_lines(_frame(), ["overturn_rate"], "week")
    solid = charts.metric_lines(_frame().head(1), ["overturn_rate"], "week")
    assert len(charts._TEMPLATES) == 1
    assert hollow["title"]["subtitle"] == charts.SMALL_N_NOTE and "title" not in solid
    charts.rate_band(_frame(), "overturn_rate", "week", title="Overturns")
    monthly = charts.rate_band(_frame().head(1), "overturn_rate", "month", title="Overturns")
    assert len(charts._TEMPLATES) == 2 and monthly["title"] == "Overturns"


@pytest.mark.parametrize("selectable", [False, True])
def test_every_kpi_sparkline_template_is_valid_vega_lite(selectable):
    # the templates skip validation when built (once per metric, in the app): here every KPI's is
    # checked against the Vega-Lite schema, and its one dataset is the rows the card sends
    import altair as alt

    from metrics.catalog import METRICS
    from metrics.dashboard import KPI_METRICS

    for metric in KPI_METRICS:
        text = charts._sparkline_template(metric, selectable)
        alt.LayerChart.from_json(text, validate=True)  # raises on a spec the schema rejects
        assert json.loads(text)["data"] == {"name": charts.SPARK_ROWS}
        assert ('"name": "pick"' in text) == selectable
        # the value's tooltip carries this metric's label and format (one shape, filled per metric)
        tip = {"field": "value", "format": METRICS[metric].fmt, "title": METRICS[metric].label, "type": "quantitative"}
        assert tip in json.loads(text)["layer"][0]["encoding"]["tooltip"] and "__metric" not in text
