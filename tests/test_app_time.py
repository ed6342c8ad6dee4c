"""Issue 10 items 4, 6 and 8 in the app (AppTest on the committed sample): the reporting time
zone from the URL and from the setting, the comparison with the trailing 4-week average, the
total row's label under a queue filter, controls a page does not read folded away, the export
buttons, and the helpers behind them (hand-derived values beside each)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import polars as pl
import pytest

from metrics import annotations, api
from metrics import dashboard as views
from tests.test_app_pages import engine, open_app, rerun_ok, sample_url, shown_metrics  # noqa: F401
from ui import fmt

NY = "America/New_York"


def test_time_zone_from_the_url_moves_the_periods(open_app, engine):  # noqa: F811
    at = open_app(params={"tz": NY})
    assert at.selectbox(key="tz").value == NY
    caption = " ".join(c.value for c in at.caption)
    assert f"periods in {NY}" in caption
    # as_of Sun 22 Nov 23:58 UTC is 18:58 in New York: that week runs to Mon 23 Nov 05:00 UTC,
    # more than an hour away, so the default headline is the New York week of 9 Nov
    assert views.default_date_range(engine.as_of, tz=NY)[1] == date(2026, 11, 15)
    assert "22 Nov 2026 18:58 EST" in caption  # the as-of instant in the zone
    rep = api.report(engine.wh, by=[], period="week", date_from=date(2026, 11, 2), date_to=date(2026, 11, 15),
                     metrics=views.KPI_METRICS, as_of=engine.as_of, tz=NY)
    want = rep.filter(pl.col("period_start") == date(2026, 11, 9)).row(0, named=True)
    utc = engine.report(metrics=views.KPI_METRICS).filter(pl.col("period_start") == date(2026, 11, 9)).row(0, named=True)
    shown = shown_metrics(at)
    assert shown["Appeals created"] == f"{want['appeals_created']:,}"
    assert shown["Backlog open"] == f"{want['backlog_open']:,}"
    # the zone really moved the boundaries: the backlog at the week's end (Mon 05:00 UTC, not 00:00)
    assert want["backlog_open"] != utc["backlog_open"]


def test_time_zone_default_from_the_setting(open_app, monkeypatch):  # noqa: F811
    monkeypatch.setenv("APPEALS_TZ", "Europe/Dublin")
    at = open_app()
    assert at.selectbox(key="tz").value == "Europe/Dublin"
    assert any("periods in Europe/Dublin" in c.value for c in at.caption)


def test_compare_with_the_trailing_four_week_average(open_app, engine):  # noqa: F811
    at = open_app(params={"compare": "4-period average"})  # bound widgets use their labels
    focus = engine.focus  # week of 16 Nov
    rep = api.report(engine.wh, by=[], period="week", date_from=date(2026, 10, 19), date_to=engine.date_to,
                     metrics=["appeals_created"], as_of=engine.as_of)
    counts = dict(rep.select("period_start", "appeals_created").iter_rows())
    window = [date(2026, 10, 19), date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9)]
    mean = sum(counts.get(w, 0) for w in window) / 4  # the 4 weeks before the focus, absent = 0
    delta = counts[focus] - mean
    card = next(m for m in at.metric if m.label == "Appeals created")
    assert card.delta.startswith(f"{int(round(delta)):+,}")
    assert any("the average of the 4 weeks before" in c.value for c in at.caption)


def test_total_row_names_the_filtered_queue(open_app):  # noqa: F811
    at = open_app("queues", params={"queue": "payments_hold"})
    labels = [q for df in at.dataframe for q in (df.value["queue"].to_list() if "queue" in df.value.columns else [])]
    assert "Total (payments_hold)" in labels and "All queues" not in labels


def test_controls_a_page_does_not_read_are_folded_away(open_app):  # noqa: F811
    at = open_app("data_quality")
    folded = [e for e in at.sidebar.expander if e.label == "Not used on this page"]
    assert folded and any(w.key == "queue" for w in folded[0].multiselect)
    at2 = open_app()
    assert not [e for e in at2.sidebar.expander if e.label == "Not used on this page"]


def test_targets_caption_without_a_policy():
    schema = {"priority": pl.Utf8, "ftr_target_hours": pl.Float64, "ttr_target_hours": pl.Float64}
    none = pl.DataFrame({"priority": ["P1"], "ftr_target_hours": [None], "ttr_target_hours": [None]}, schema=schema)
    assert fmt.targets_caption(none) == ("No SLA policy covers this queue's open appeals, so there is no target "
                                         "line (priorities P1).")
    some = pl.DataFrame({"priority": ["P1", "P3"], "ftr_target_hours": [4.0, None], "ttr_target_hours": [72.0, None]},
                        schema=schema)
    text = fmt.targets_caption(some)
    assert "Targets by priority: P1 first touch 4 h, resolution 72 h. No policy for P3." in text
    assert ": ." not in text


# -- exports ----------------------------------------------------------------------------------

def _sheet(xlsx: bytes, n: int) -> str:
    return zipfile.ZipFile(io.BytesIO(xlsx)).read(f"xl/worksheets/sheet{n}.xml").decode()


def test_xlsx_has_typed_columns_and_definitions():
    from datetime import UTC

    from ui import exports

    frame = pl.DataFrame({"period_start": [date(2026, 11, 16)], "queue": ["q1"], "overturn_rate": [0.25],
                          "overturn_rate_numerator": [1], "overturn_rate_denominator": [4],
                          "created_at": [datetime(2026, 11, 16, 9, 30, tzinfo=UTC)]})
    data = exports.xlsx_bytes(frame, "queues")
    sheet = _sheet(data, 1)
    # Excel day numbers: 16 Nov 2026 is 46342 days after 30 Dec 1899; 09:30 adds 9.5/24 = 0.3958333
    assert '<c r="A2" s="1"><v>46342</v></c>' in sheet
    assert "<v>46342.3958333333" in sheet
    assert '<c r="C2" s="3"><v>0.25</v></c>' in sheet  # the rate is a number (percent format), not text
    assert '<v>1</v></c><c r="E2"' in sheet and '<c r="E2" s="4"><v>4</v></c>' in sheet
    strings = zipfile.ZipFile(io.BytesIO(data)).read("xl/sharedStrings.xml").decode()
    assert "created_at (UTC)" in strings and "Overturn rate" in strings  # header and the Definitions sheet
    assert "Definitions" in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()
    defs = exports.definitions_frame(frame.columns)
    assert defs["metric"].to_list() == ["overturn_rate"]
    assert defs["columns"][0] == "overturn_rate, overturn_rate_numerator, overturn_rate_denominator"


def test_chart_exports_render_png_and_svg():
    from ui import charts, exports

    f = pl.DataFrame({"period_start": [date(2026, 11, 9), date(2026, 11, 16)], "appeals_created": [3, 5]})
    chart = charts.metric_lines(f, ["appeals_created"], "week")
    png = exports.chart_bytes({**chart, "width": 300}, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    svg = exports.chart_bytes(chart, "svg")
    assert svg.lstrip().startswith("<svg") and "Appeals created" in svg
    with pytest.raises(ValueError, match="chart format"):
        exports.chart_bytes(chart, "gif")


def test_every_page_offers_its_exports(open_app):  # noqa: F811
    at = open_app("queues")
    labels = [b.proto.label for b in at.get("download_button")]
    assert any(lbl.endswith("(XLSX)") for lbl in labels) and any(lbl.endswith("(CSV)") for lbl in labels)
    assert "PNG" in labels and "SVG" in labels


# -- annotations -------------------------------------------------------------------------------

def test_annotations_file_and_holidays(tmp_path):
    good = tmp_path / "a.csv"
    good.write_text("# comment\ndate,label,kind,queue\n2026-11-12,Model v3,model_rollout,q1\n2026-11-04,Policy X,,\n")
    notes = annotations.read_file(good) + annotations.from_holidays({"dublin": [date(2026, 11, 10)],
                                                                     "phoenix": [date(2026, 11, 10)]})
    # week grain: 4 Nov -> week of 2 Nov; 10 and 12 Nov -> week of 9 Nov (joined in day order)
    fr = annotations.frame(notes, date(2026, 11, 1), date(2026, 11, 30), "week", queue="q1")
    assert fr.select("period_start", "text").rows() == [
        (date(2026, 11, 2), "4 Nov: Policy X"),
        (date(2026, 11, 9), "10 Nov: Holiday: dublin, phoenix closed · 12 Nov: Model v3")]
    # another queue's charts do not show q1's rollout
    assert "Model v3" not in " ".join(annotations.frame(notes, date(2026, 11, 1), date(2026, 11, 30), "week",
                                                        queue="q2")["text"].to_list())
    bad = tmp_path / "b.csv"
    bad.write_text("date,label,kind\n2026-11-12,ok,other\n12/11/2026,x,other\n")
    with pytest.raises(annotations.AnnotationError, match=r"line 3, column date"):
        annotations.read_file(bad)
    bad.write_text("date,label,kind\n2026-11-12,ok,launch\n")
    with pytest.raises(annotations.AnnotationError, match=r"line 2, column kind"):
        annotations.read_file(bad)
