"""Altair charts of engine frames. Axis and tooltip formats, titles and units come from the
metric catalog; every mark has a tooltip. Colours are mid-tone so they read on the light
and the dark theme (Streamlit's chart theme sets the axes and the background).

Honest by construction: periods are joined by straight segments through their points (no
smoothing that invents values between periods), every point carries its n in the tooltip,
and a point whose n is under the catalog's MIN_GROUP_SIZE is drawn hollow and grey ("too few
to compare", metrics.md "Rates")."""

from __future__ import annotations

import functools
import json
from datetime import date

import altair as alt
import polars as pl

from metrics.catalog import METRICS, MIN_GROUP_SIZE
from metrics.kinds import Count, Ratio
from metrics.stats import FUNNEL_STATUSES

UNIT_TITLES = {"hours": "hours", "appeals": "appeals", "ratio": "rate"}
RED, ORANGE, BLUE, GREEN, GREY, TEAL = "#e45756", "#f58518", "#4c78a8", "#54a24b", "#9d9d9d", "#72b7b2"

STATUS_COLORS = dict(zip(FUNNEL_STATUSES, ["#d62728", ORANGE, BLUE, GREEN, "#2e7d32", GREY], strict=True))


SMALL_N_NOTE = f"Hollow grey points: fewer than {MIN_GROUP_SIZE} appeals behind the value (too few to compare)."


def n_column(metric: str, columns) -> str | None:
    """The column holding the n behind a metric's value, when the frame has one: a ratio's
    denominator; for a percentile, the count metric of the same cohort that counts every row
    (TTR percentiles: appeals_resolved). Counts are their own n (None here)."""
    m = METRICS[metric]
    if isinstance(m.kind, Ratio):
        name = f"{metric}_denominator"
        return name if name in columns else None
    if isinstance(m.kind, Count):
        return None
    for other in METRICS.values():
        if (other.cohort == m.cohort and isinstance(other.kind, Count) and type(other.kind.where).__name__ == "Always"
                and other.name in columns):
            return other.name
    return None


def with_period_labels(frame: pl.DataFrame, grain: str) -> pl.DataFrame:
    """Add `period` (short axis label) and `period_name` (tooltip) from period_start.

    Periods are drawn on an ordinal axis of labels, so no browser time zone can shift a
    UTC period start to the day before."""
    if "period_start" not in frame.columns or not frame.height:
        return frame.with_columns(pl.lit("").alias("period"), pl.lit("").alias("period_name"),
                                  pl.lit("").alias("period_iso"))
    years = frame["period_start"].dt.year().n_unique()
    short = {"day": "%a %-d %b", "week": "%-d %b", "month": "%b %Y"}[grain]
    if years > 1 and grain != "month":
        short += " %y"
    full = {"day": "%A %-d %B %Y", "week": "week of %-d %B %Y", "month": "%B %Y"}[grain]
    return frame.with_columns(
        pl.col("period_start").dt.strftime(short).alias("period"),
        pl.col("period_start").dt.strftime(full).alias("period_name"),
        pl.col("period_start").dt.strftime("%Y-%m-%d").alias("period_iso"),  # what a click hands back
    )


def _with_n(frame: pl.DataFrame, metrics: list[str]) -> pl.DataFrame:
    """`n` and `small_n` for a one-metric frame (the first metric's n column, when known)."""
    col = n_column(metrics[0], frame.columns)
    n = pl.col(col) if col else pl.lit(None, pl.Int64)
    return frame.with_columns(n.alias("n")).with_columns(
        (pl.col("n").is_not_null() & (pl.col("n") < MIN_GROUP_SIZE)).alias("small_n"))


ANNOTATION_COLOR = "#8e6c8a"


def _annotation_rows(annotations: pl.DataFrame | None, labelled: pl.DataFrame) -> pl.DataFrame | None:
    """The annotations (metrics.annotations.frame) at periods on the chart's axis, each with
    its period's label; None when there are none."""
    if annotations is None or not annotations.height or not labelled.height:
        return None
    axis = dict(zip(labelled["period_start"].to_list(), labelled["period"].to_list(), strict=False))
    notes = annotations.filter(pl.col("period_start").is_in(list(axis))).with_columns(
        pl.col("period_start").replace_strict(axis, return_dtype=pl.Utf8).alias("period"))
    return notes if notes.height else None


def _annotation_marks(notes: pl.DataFrame | None, order: list[str]) -> list:
    """Dashed vertical rules at the annotated periods, on the chart's period axis (`order`), the
    texts in the tooltip and a ◆ marker at the top."""
    if notes is None:
        return []
    tips = [alt.Tooltip("kind:N", title="Annotation"), alt.Tooltip("text:N", title="What happened")]
    x = alt.X("period:O", sort=order)
    rule = alt.Chart(notes).mark_rule(strokeDash=[2, 3], color=ANNOTATION_COLOR, strokeWidth=1.5, opacity=0.8).encode(
        x=x, tooltip=tips)
    mark = alt.Chart(notes).mark_text(text="◆", color=ANNOTATION_COLOR, fontSize=12, baseline="top").encode(
        x=x, y=alt.value(0), tooltip=tips)
    return [rule, mark]


def _titled(title: str | None, small: bool) -> dict:
    if small:  # a blank title, not an empty one: Vega draws no subtitle under an empty title
        return {"title": alt.TitleParams(text=title or " ", subtitle=SMALL_N_NOTE, subtitleColor=GREY,
                                         anchor="start", fontSize=12, subtitleFontSize=11)}
    return {"title": title} if title else {}


def _points(base: alt.Chart, size: int = 40) -> alt.LayerChart:
    """The period's points: filled in the series colour, hollow grey below MIN_GROUP_SIZE."""
    full = base.transform_filter("!datum.small_n").mark_point(size=size, filled=True, opacity=1)
    few = base.transform_filter("datum.small_n").mark_point(size=size, filled=False, strokeWidth=1.5, opacity=1).encode(
        color=alt.value(GREY))
    return alt.layer(full, few)


def click_selection(fields: list[str], name: str = "pick"):
    """A click on a chart picks the nearest period's point (its `fields`, e.g. period_iso and
    metric), for st.altair_chart(on_select="rerun") and ui.drilldown.picked_point."""
    return alt.selection_point(name=name, fields=fields, on="click", nearest=True)


def mark_selection(fields: list[str], name: str = "pick"):
    """A click on a mark (a bar, a stacked segment) picks its `fields`, for
    st.vega_lite_chart(on_select="rerun") and ui.drilldown.picked_point."""
    return alt.selection_point(name=name, fields=fields, on="click")


def _selected(chart, selection):
    """`chart` whose marks carry `selection` (a layered chart: its first layer's)."""
    if selection is None:
        return chart
    if isinstance(chart, alt.LayerChart):
        chart.layer[0] = chart.layer[0].add_params(selection)
        return chart
    return chart.add_params(selection)


def _hit_layer(base: alt.Chart, value: str, selection) -> list:
    """An all but invisible point on every period that carries the click selection: with
    `nearest`, a click anywhere in the plot picks the closest period's point, so a lead need not
    hit a 6-pixel dot (nor the line, whose datum is not one period's)."""
    if selection is None:
        return []
    return [base.transform_filter(f"isValid(datum['{value}'])").mark_point(size=200, filled=True, opacity=0.001)
            .add_params(selection)]


def _period_order(frame: pl.DataFrame) -> list[str]:
    return frame.sort("period_start")["period"].unique(maintain_order=True).to_list() if frame.height else []


def _period_x(frame: pl.DataFrame, title: str | None = None, order: list[str] | None = None) -> alt.X:
    return alt.X("period:O", title=title, sort=_period_order(frame) if order is None else order,
                 axis=alt.Axis(labelAngle=0, labelOverlap="greedy", labelPadding=6))


def _period_tip() -> alt.Tooltip:
    return alt.Tooltip("period_name:N", title="Period")


def _tip(metric: str, field: str | None = None, title: str | None = None) -> alt.Tooltip:
    m = METRICS[metric]
    return alt.Tooltip(f"{field or metric}:Q", title=title or m.label, format=m.fmt)


def vega_spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite spec of an Altair chart for st.vega_lite_chart, its frames named datasets
    (Streamlit sends them as Arrow, as st.altair_chart does). Not validated against the schema
    here: st.altair_chart's validation took about 30 ms of a chart's 50 ms conversion, and each
    report page draws four to six; every chart builder is validated and compiled by Vega in the
    tests (tests/test_honest_charts.py, tests/test_chart_drilldown.py)."""
    frames: dict[int, tuple[str, pl.DataFrame]] = {}
    swapped: list[tuple[alt.SchemaBase, pl.DataFrame]] = []

    def name_frames(node) -> None:
        data = getattr(node, "data", None)
        if isinstance(data, pl.DataFrame):
            name = frames.setdefault(id(data), (f"frame_{len(frames)}", data))[0]
            swapped.append((node, data))
            node.data = alt.NamedData(name)
        for attr in ("layer", "hconcat", "vconcat", "concat"):
            children = getattr(node, attr, None)
            for child in children if isinstance(children, list) else ():
                name_frames(child)
        inner = getattr(node, "spec", None)
        if isinstance(inner, alt.SchemaBase):
            name_frames(inner)

    try:
        name_frames(chart)
        spec = chart.to_dict(validate=False)
    finally:
        for node, data in reversed(swapped):
            node.data = data
    config = spec.get("config", {})
    for size in ("continuousWidth", "continuousHeight"):  # Altair's default theme; Streamlit sizes the chart
        config.get("view", {}).pop(size, None)
    if config.get("view") == {}:
        del config["view"]
    if config == {}:
        spec.pop("config", None)
    spec["datasets"] = {**spec.get("datasets", {}), **dict(frames.values())}
    return spec


SPARK_ROWS = "rows"  # the dataset name a sparkline's template reads
_LABEL_SLOT, _FORMAT_SLOT = "__metric_label__", "__metric_format__"  # filled per metric in the template


@functools.lru_cache(maxsize=2)
def _sparkline_shape(selectable: bool) -> str:
    """The sparkline's Vega-Lite spec for any metric, as JSON: the metric's values are the rows'
    `value`, its label and format slots in the tooltip. Built by Altair twice per process
    (clickable or not): one build per metric cost a first load about 1 s for the 12 cards."""
    base = alt.Chart(alt.NamedData(SPARK_ROWS)).encode(
        x=alt.X("period_iso:O", axis=None, sort="ascending"),
        y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False, nice=False)),
        tooltip=[_period_tip(), alt.Tooltip("value:Q", title=_LABEL_SLOT, format=_FORMAT_SLOT),
                 alt.Tooltip("n:Q", title="n", format=",d")],
    )
    layers = [base.mark_line(strokeWidth=2, interpolate="linear"), _points(base, size=28),
              base.transform_filter("datum.is_focus").mark_point(size=90, filled=True, color=ORANGE)]
    layers += _hit_layer(base, "value", click_selection(["period_iso"]) if selectable else None)
    return alt.layer(*layers).properties(height=56).configure_view(strokeWidth=0).to_json(validate=False)


def prebuild() -> None:
    """What a process builds once, built now (ui.server, before the server listens): both
    sparkline shapes, and with the first of them Altair's own first chart (its schema read):
    about 0.4 s of a first load at 10M, more than the rest of the twelve cards."""
    for selectable in (False, True):
        _sparkline_shape(selectable)


@functools.lru_cache(maxsize=64)
def _sparkline_template(metric: str, selectable: bool) -> str:
    """A sparkline's Vega-Lite spec without its rows, as JSON: the shape with this metric's label
    and format. Building and validating a chart for every card cost about 0.1 s each, 12 cards
    a render (docs/decisions.md 85). Nothing in it depends on the rows: the periods sort by
    their ISO date, the focus point is a flag in the rows. Every KPI's template is validated
    against the schema in the tests (tests/test_honest_charts.py), as every chart's spec
    (vega_spec)."""
    m = METRICS[metric]
    return (_sparkline_shape(selectable).replace(json.dumps(_LABEL_SLOT), json.dumps(m.label))
            .replace(json.dumps(_FORMAT_SLOT), json.dumps(m.fmt)))


def sparkline(frame: pl.DataFrame, metric: str, grain: str, focus: date | None = None,
              selectable: bool = False) -> dict:
    """A small trend line of one metric, the focus period marked, as a Vega-Lite spec for
    st.vega_lite_chart (its rows a frame in `datasets`, sent as Arrow; the metric's values also
    as `value`); with `selectable`, a click picks a period (click_selection(["period_iso"]))."""
    rows = _with_n(with_period_labels(frame, grain), [metric]).with_columns(
        pl.col(metric).alias("value"),
        (pl.col("period_start") == focus).fill_null(False).alias("is_focus") if focus is not None
        else pl.lit(False).alias("is_focus"))
    spec = json.loads(_sparkline_template(metric, selectable))
    spec["datasets"] = {SPARK_ROWS: rows}
    return spec


# A chart's spec is built by Altair once per shape (for a trend chart: its metrics, colours,
# title, which layers it has, its click selection) and kept as JSON; each call fills in the
# periods' order and its rows. Building a layered chart took 40-150 ms and its spec 15 ms, four
# to six charts a rerun of the Queues, Specialists and Root causes pages (bench/README.md,
# reruns at 10M).
_ORDER_SLOT = "__period_order__"
_TEMPLATES: dict[str, tuple[str, dict[str, str]]] = {}
_TEMPLATES_MAX = 256


def _filled(kind: str, shape: list, parts: dict[str, pl.DataFrame | None], build, order: list[str] | None,
            title: dict | None = None) -> dict:
    """The Vega-Lite spec of a chart of `kind` from its template: `build(parts, order)` makes
    the Altair chart, called once per `shape` (everything the spec depends on but the rows,
    the periods' order and the title) on empty copies of the parts, with a slot for the order;
    each call fills in `order` and `title` (_titled's) and hands its `parts` over as the named
    datasets (sent as Arrow). A dashboard rerun after a grain change met new shapes when the
    title's small-n note or the grain were part of them: 40-150 ms of Altair per chart."""
    key = json.dumps([kind, shape, [role for role, rows in parts.items() if rows is not None]])
    entry = _TEMPLATES.get(key)  # one read: another session's script may empty the cache
    if entry is None:
        empty = {role: rows.clear() for role, rows in parts.items() if rows is not None}
        spec = vega_spec(build(empty, [_ORDER_SLOT]))
        roles = {name: next(role for role, rows in empty.items() if rows is frame)
                 for name, frame in spec.pop("datasets").items()}
        entry = (json.dumps(spec), roles)
        if len(_TEMPLATES) >= _TEMPLATES_MAX:
            _TEMPLATES.clear()
        _TEMPLATES[key] = entry
    template, roles = entry
    spec = json.loads(template)
    if order is not None:
        spec = _with_order(spec, order)
    spec.update({k: v.to_dict() if isinstance(v, alt.TitleParams) else v for k, v in (title or {}).items()})
    spec["datasets"] = {name: parts[role] for name, role in roles.items()}
    return spec


def metric_lines(frame: pl.DataFrame, metrics: list[str], grain: str, title: str | None = None,
                 targets: dict[str, float | None] | None = None, colors: list[str] | None = None,
                 annotations: pl.DataFrame | None = None, selection=None) -> dict:
    """One line per metric (same unit) over the periods; dashed rules for SLA targets; dotted
    rules at annotated periods (holidays, launches, rollouts). With `selection`
    (click_selection(["period_iso", "metric"])) a click picks one metric's period. A Vega-Lite
    spec for st.vega_lite_chart, its rows frames in `datasets` (as sparkline's)."""
    long = _line_rows(frame, metrics, grain)
    rules = [{"target": v, "label": k} for k, v in (targets or {}).items() if v is not None]
    parts = {"rows": long, "rules": pl.DataFrame(rules) if rules else None, "notes": _annotation_rows(annotations, long)}
    small = "small_n" in long.columns and bool(long["small_n"].any())
    shape = [list(metrics), list(colors or []), _selection_key(selection)]
    return _filled("lines", shape, parts, lambda p, order: _lines_chart(
        p["rows"], p.get("rules"), p.get("notes"), metrics, colors, None, False, order, selection), _period_order(long),
        _titled(title, small))


def _selection_key(selection) -> dict | None:
    return selection.to_dict() if selection is not None else None


def _line_rows(frame: pl.DataFrame, metrics: list[str], grain: str) -> pl.DataFrame:
    """A trend chart's rows: one per period and metric, with its label (`series`), n and small_n."""
    labels = {n: METRICS[n].label for n in metrics}
    ns = {n: n_column(n, frame.columns) for n in metrics}
    n_frame = frame.select("period_start", *[(pl.col(c) if c else pl.lit(None, pl.Int64)).alias(f"__n_{n}")
                                             for n, c in ns.items()])
    long = with_period_labels(
        frame.select("period_start", *metrics)
        .unpivot(index="period_start", variable_name="metric", value_name="value"), grain
    )
    n_long = n_frame.unpivot(index="period_start", variable_name="metric", value_name="n").with_columns(
        pl.col("metric").str.strip_prefix("__n_"))
    return (
        long.join(n_long, on=["period_start", "metric"], how="left")
        .with_columns(pl.col("metric").replace_strict(labels).alias("series"),
                      (pl.col("n").is_not_null() & (pl.col("n") < MIN_GROUP_SIZE)).alias("small_n"))
    )


def _with_order(node, order: list[str]):
    """`node` with every order slot replaced by the periods' order."""
    if isinstance(node, dict):
        return {k: _with_order(v, order) for k, v in node.items()}
    if isinstance(node, list):
        return list(order) if node == [_ORDER_SLOT] else [_with_order(v, order) for v in node]
    return node


def _lines_chart(long: pl.DataFrame, rules: pl.DataFrame | None, notes: pl.DataFrame | None, metrics: list[str],
                 colors: list[str] | None, title: str | None, small: bool, order: list[str], selection) -> alt.LayerChart:
    m0 = METRICS[metrics[0]]
    labels = [METRICS[n].label for n in metrics]
    color = alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                      scale=alt.Scale(domain=labels, range=colors) if colors else alt.Undefined, sort=labels)
    base = alt.Chart(long).encode(
        x=_period_x(long, order=order),
        y=alt.Y("value:Q", title=UNIT_TITLES.get(m0.unit, m0.unit), axis=alt.Axis(format=m0.fmt)),
        color=color,
        tooltip=[_period_tip(), alt.Tooltip("series:N", title="Metric"), alt.Tooltip("value:Q", title="Value", format=m0.fmt),
                 alt.Tooltip("n:Q", title="n (appeals behind the value)", format=",d")],
    )
    layers = [base.mark_line(interpolate="linear"), _points(base)]
    if rules is not None:
        layers.append(alt.Chart(rules).mark_rule(strokeDash=[6, 4], color=RED, strokeWidth=1.5).encode(
            y="target:Q", tooltip=[alt.Tooltip("label:N", title="Line"), alt.Tooltip("target:Q", title="Hours", format=m0.fmt)]))
        layers.append(alt.Chart(rules).mark_text(align="left", dx=4, dy=-7, color=RED, fontSize=11).encode(
            y="target:Q", x=alt.value(0), text="label:N"))
    layers += _hit_layer(base, "value", selection)  # under the annotations, whose tooltips stay reachable
    layers += _annotation_marks(notes, order)
    return alt.layer(*layers, height=260, **_titled(title, small))


def inline(spec: dict) -> dict:
    """A spec whose datasets hold frames (sparkline, metric_lines) with their rows inlined, dates
    and instants as ISO text: what vl-convert renders (a chart's PNG and SVG downloads)."""
    out = dict(spec)
    out["datasets"] = {name: json.loads(rows.write_json()) if isinstance(rows, pl.DataFrame) else rows
                       for name, rows in spec.get("datasets", {}).items()}
    return out


def rate_band(frame: pl.DataFrame, metric: str, grain: str, series: str | None = None, title: str | None = None,
              annotations: pl.DataFrame | None = None, selection=None) -> dict:
    """A rate over the periods with its 95 % Wilson interval as a band (one line per series);
    with `selection` (click_selection(["period_iso", series])) a click picks a series' period.
    A Vega-Lite spec, its rows frames in `datasets` (as metric_lines)."""
    rows = _with_n(with_period_labels(frame, grain), [metric])
    small = bool(rows["small_n"].any())
    shape = [metric, series, _selection_key(selection)]
    return _filled("rate_band", shape, {"rows": rows, "notes": _annotation_rows(annotations, rows)},
                   lambda p, order: _rate_band_chart(p["rows"], p.get("notes"), metric, series, None, False,
                                                     order, selection), _period_order(rows), _titled(title, small))


def _rate_band_chart(frame: pl.DataFrame, notes: pl.DataFrame | None, metric: str, series: str | None,
                     title: str | None, small: bool, order: list[str], selection) -> alt.LayerChart:
    m = METRICS[metric]
    enc_color = (alt.Color(f"{series}:N", title=None, legend=alt.Legend(orient="top", symbolOpacity=1, symbolType="stroke",
                                                                        symbolStrokeWidth=3))
                 if series else alt.value(BLUE))
    tips = [_period_tip()] + ([alt.Tooltip(f"{series}:N", title=series.replace("_", " ").capitalize())] if series else []) + [
        _tip(metric), alt.Tooltip(f"{metric}_numerator:Q", title="Numerator", format=",d"),
        alt.Tooltip(f"{metric}_denominator:Q", title="Denominator", format=",d"),
        alt.Tooltip(f"{metric}_ci_lo:Q", title="95% CI low", format=m.fmt),
        alt.Tooltip(f"{metric}_ci_hi:Q", title="95% CI high", format=m.fmt),
    ]
    base = alt.Chart(frame).encode(x=_period_x(frame, order=order), tooltip=tips)
    band = base.mark_area(opacity=0.18, interpolate="linear").encode(
        y=alt.Y(f"{metric}_ci_lo:Q", title=m.label, axis=alt.Axis(format=m.fmt)), y2=f"{metric}_ci_hi:Q", color=enc_color)
    line = base.mark_line(interpolate="linear").encode(y=f"{metric}:Q", color=enc_color)
    dots = _points(base.encode(y=f"{metric}:Q", color=enc_color))
    layers = [band, line, dots, *_hit_layer(base.encode(y=f"{metric}:Q", color=enc_color), metric, selection),
              *_annotation_marks(notes, order)]
    return alt.layer(*layers, height=260, **_titled(title, small))


def stacked_counts(frame: pl.DataFrame, key: str, value: str, grain: str, key_title: str, value_title: str,
                   share: str | None = None, title: str | None = None, sort: list[str] | None = None,
                   scheme: str = "tableau10", annotations: pl.DataFrame | None = None, selection=None) -> dict:
    """Stacked bars of a count per period and group (priority mix, overturns by theme); with
    `selection` (mark_selection) a click picks a segment. A Vega-Lite spec (as metric_lines)."""
    rows = with_period_labels(frame, grain)
    shape = [key, value, key_title, value_title, share, title, sort, scheme, _selection_key(selection)]
    return _filled("stacked_counts", shape, {"rows": rows, "notes": _annotation_rows(annotations, rows)},
                   lambda p, order: _stacked_chart(p["rows"], p.get("notes"), key, value, key_title, value_title,
                                                   share, title, sort, scheme, order, selection), _period_order(rows))


def _stacked_chart(frame: pl.DataFrame, notes: pl.DataFrame | None, key: str, value: str, key_title: str,
                   value_title: str, share: str | None, title: str | None, sort: list[str] | None, scheme: str,
                   order: list[str], selection):
    tips = [_period_tip(), alt.Tooltip(f"{key}:N", title=key_title), alt.Tooltip(f"{value}:Q", title=value_title, format=",d")]
    if share:
        tips.append(alt.Tooltip(f"{share}:Q", title="Share of period", format=".1%"))
    chart = alt.Chart(frame).mark_bar().encode(
        x=_period_x(frame, order=order),
        y=alt.Y(f"{value}:Q", title=value_title, axis=alt.Axis(format=",d")),
        color=alt.Color(f"{key}:N", title=key_title, sort=sort, legend=alt.Legend(orient="right"),
                        scale=alt.Scale(scheme=scheme)),
        order=alt.Order(f"{key}:N"),
        tooltip=tips,
    )
    marks = _annotation_marks(notes, order)
    titled = {"title": title} if title else {}
    return _selected(alt.layer(chart, *marks, height=280, **titled) if marks else chart.properties(height=280, **titled),
                     selection)


def age_histogram(dist: pl.DataFrame, selection=None) -> dict:
    """Open appeals by age bucket and SLA state; with `selection` (mark_selection) a click picks a
    bar segment. A Vega-Lite spec (as metric_lines)."""
    order = dist.sort("bucket_order")["age_bucket"].unique(maintain_order=True).to_list()
    return _filled("age_histogram", [_selection_key(selection)], {"rows": dist},
                   lambda p, slot: _age_chart(p["rows"], slot, selection), order)


def _age_chart(dist: pl.DataFrame, order: list[str], selection) -> alt.Chart:
    return _selected(alt.Chart(dist).mark_bar().encode(
        x=alt.X("age_bucket:N", title="Age since created", sort=order, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("appeals:Q", title="open appeals", axis=alt.Axis(format=",d")),
        color=alt.Color("sla_state:N", title="Resolution SLA",
                        scale=alt.Scale(domain=["breached", "within SLA", "no SLA"], range=[RED, BLUE, GREY]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("age_bucket:N", title="Age"), alt.Tooltip("sla_state:N", title="Resolution SLA"),
                 alt.Tooltip("appeals:Q", title="Open appeals", format=",d")],
    ).properties(height=260), selection)


def funnel_plot(points: pl.DataFrame, curve: pl.DataFrame, label_col: str = "name") -> dict:
    """Overturn rate against volume; the funnel (95 % and 99.8 % limits) around the peer rate,
    each point coloured by its own queue-mix-adjusted limits; grey ticks at the expected rate.
    A Vega-Lite spec, its rows frames in `datasets` (as metric_lines)."""
    lines = curve.unpivot(index=["n", "peer_rate"], on=["lo95", "hi95", "lo998", "hi998"], variable_name="limit",
                          value_name="rate").with_columns(
        pl.col("limit").replace_strict({"lo95": "95% limits", "hi95": "95% limits", "lo998": "99.8% limits",
                                        "hi998": "99.8% limits"}).alias("band"),
        pl.col("limit").str.starts_with("hi").alias("upper"),
    )
    flagged = points.filter(pl.col("status").str.starts_with("above") | pl.col("status").str.starts_with("below"))
    parts = {"lines": lines, "peer": curve.head(1), "points": points, "flagged": flagged}
    return _filled("funnel", [label_col], parts, lambda p, _order: _funnel_chart(p, label_col), None)


def _funnel_chart(parts: dict[str, pl.DataFrame], label_col: str) -> alt.LayerChart:
    fmt = METRICS["overturn_rate"].fmt
    lines, points, flagged = parts["lines"], parts["points"], parts["flagged"]
    x = alt.X("n:Q", title="resolved appeals with a known outcome (volume)", scale=alt.Scale(zero=True))
    funnel = alt.Chart(lines).mark_line(strokeWidth=1.2, opacity=0.8).encode(
        x=x, y=alt.Y("rate:Q", title="overturn rate", axis=alt.Axis(format=fmt)),
        detail="limit:N",
        strokeDash=alt.StrokeDash("band:N", title="Around the peer rate",
                                  scale=alt.Scale(domain=["95% limits", "99.8% limits"], range=[[6, 3], [2, 2]]),
                                  legend=alt.Legend(orient="top")),
        color=alt.value(GREY),
        tooltip=[alt.Tooltip("band:N", title="Limit"), alt.Tooltip("n:Q", title="Volume", format=",d"),
                 alt.Tooltip("rate:Q", title="Rate", format=fmt)],
    )
    peer = alt.Chart(parts["peer"]).mark_rule(color=GREY, strokeWidth=1.5).encode(
        y="peer_rate:Q", tooltip=[alt.Tooltip("peer_rate:Q", title="Peer overturn rate", format=fmt)])
    tips = [alt.Tooltip(f"{label_col}:N", title="Specialist"), alt.Tooltip("status:N", title="Against peers"),
            alt.Tooltip("overturn_rate:Q", title="Overturn rate", format=fmt),
            alt.Tooltip("overturn_rate_numerator:Q", title="Overturned", format=",d"),
            alt.Tooltip("overturn_rate_denominator:Q", title="Resolved (known outcome)", format=",d"),
            alt.Tooltip("expected:Q", title="Expected for their queue mix", format=fmt),
            alt.Tooltip("lo95:Q", title="95% limit low", format=fmt), alt.Tooltip("hi95:Q", title="95% limit high", format=fmt),
            alt.Tooltip("hi998:Q", title="99.8% limit high", format=fmt)]
    expected = alt.Chart(points).mark_tick(color=GREY, thickness=2, size=14, opacity=0.7).encode(
        x="overturn_rate_denominator:Q", y="expected:Q", tooltip=tips)
    dots = alt.Chart(points).mark_circle(size=110, opacity=0.9, stroke="white", strokeWidth=0.5).encode(
        x="overturn_rate_denominator:Q", y="overturn_rate:Q",
        color=alt.Color("status:N", title="Against peers (queue mix)",
                        scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
                        legend=alt.Legend(orient="right")),
        tooltip=tips,
    )
    labels = alt.Chart(flagged).mark_text(align="left", dx=8, fontSize=11, fontWeight="bold").encode(
        x="overturn_rate_denominator:Q", y="overturn_rate:Q", text=f"{label_col}:N",
        color=alt.Color("status:N", scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
                        legend=None))
    return alt.layer(funnel, peer, expected, dots, labels, height=380).resolve_scale(color="independent")


def rate_bars(frame: pl.DataFrame, key: str, key_title: str, metric: str = "overturn_rate",
              previous_col: str | None = None, selection=None) -> dict:
    """Horizontal bars of a rate per group with its 95 % Wilson interval; a tick at the previous
    period's rate; with `selection` (mark_selection) a click picks a bar. A Vega-Lite spec (as
    metric_lines)."""
    order = frame.sort(f"{metric}_numerator", descending=True)[key].to_list()
    return _filled("rate_bars", [key, key_title, metric, previous_col, _selection_key(selection)], {"rows": frame},
                   lambda p, slot: _rate_bars_chart(p["rows"], key, key_title, metric, previous_col, slot, selection),
                   order)


def _rate_bars_chart(frame: pl.DataFrame, key: str, key_title: str, metric: str, previous_col: str | None,
                     order: list[str], selection) -> alt.LayerChart:
    m = METRICS[metric]
    tips = [alt.Tooltip(f"{key}:N", title=key_title), _tip(metric),
            alt.Tooltip(f"{metric}_numerator:Q", title="Overturned", format=",d"),
            alt.Tooltip(f"{metric}_denominator:Q", title="Resolved (known outcome)", format=",d"),
            alt.Tooltip(f"{metric}_ci_lo:Q", title="95% CI low", format=m.fmt),
            alt.Tooltip(f"{metric}_ci_hi:Q", title="95% CI high", format=m.fmt)]
    if previous_col:
        tips.append(alt.Tooltip(f"{previous_col}:Q", title="Previous period", format=m.fmt))
    y = alt.Y(f"{key}:N", title=None, sort=order, axis=alt.Axis(labelLimit=180))
    base = alt.Chart(frame).encode(y=y, tooltip=tips)
    bars = base.mark_bar(opacity=0.85, color=BLUE).encode(x=alt.X(f"{metric}:Q", title=m.label, axis=alt.Axis(format=m.fmt)))
    err = base.mark_rule(strokeWidth=1.5, color=GREY).encode(x=f"{metric}_ci_lo:Q", x2=f"{metric}_ci_hi:Q")
    layers = [bars, err]
    if previous_col:
        layers.append(base.mark_tick(color=ORANGE, thickness=3, size=16).encode(x=f"{previous_col}:Q"))
    return _selected(alt.layer(*layers, height=alt.Step(22)), selection)
