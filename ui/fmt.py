"""Display formats, all derived from the metric catalog (unit, d3 `fmt`, direction)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import streamlit as st

from metrics.catalog import METRICS
from metrics.dashboard import Kpi
from metrics.formatting import DASH, format_parts, format_value, is_missing
from metrics.formatting import markdown_code as code  # noqa: F401  (the pages' name for it)
from metrics.formatting import markdown_text as md  # noqa: F401


def _missing(value) -> bool:
    return is_missing(value)


def value(metric: str, v) -> str:
    """A metric value as text, following the catalog's d3 format and unit (metrics.formatting)."""
    return format_value(METRICS[metric], v)


def change(kpi: Kpi) -> str | None:
    """Change against the previous period: percentage points for rates, hours for durations,
    counts with the relative change for counts."""
    if kpi.change is None:
        return None
    d = kpi.change
    if kpi.unit == "ratio":
        return f"{d * 100:+.1f} pp"
    if kpi.unit == "hours":
        return f"{d:+,.1f} h"
    rel = kpi.relative_change
    text = f"{int(round(d)):+,}"
    return f"{text} ({rel:+.0%})" if rel is not None else text


def delta_color(higher_is_better: bool | None) -> str:
    if higher_is_better is None:
        return "off"
    return "normal" if higher_is_better else "inverse"


def parts(numerator, denominator) -> str:
    return format_parts(numerator, denominator)


def interval(lo, hi) -> str:
    if _missing(lo) or _missing(hi):
        return DASH
    return f"{lo * 100:.1f}–{hi * 100:.1f}%"


def instant(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%-d %b %Y %H:%M UTC")


def age(as_of: datetime, now: datetime | None = None) -> str:
    """How old data as of `as_of` is: "35 min old", "5 h old", "14 days old" (or "in the future")."""
    seconds = ((now or datetime.now(UTC)) - as_of).total_seconds()
    if seconds < 0:
        return "dated in the future"
    if seconds < 3600:
        return f"{int(seconds // 60)} min old"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h old"
    return f"{int(seconds // 86400):,} days old"


def day(d: date) -> str:
    return d.strftime("%-d %b %Y")


def column(metric: str, label: str | None = None):
    """A st.column_config for a metric column (rates are shown ×100, see `for_display`)."""
    m = METRICS[metric]
    label = label or m.label
    if m.unit == "ratio":
        return st.column_config.NumberColumn(label, help=m.description, format="%.1f%%")
    if m.unit == "hours":
        return st.column_config.NumberColumn(label + " (h)", help=m.description, format="%.1f")
    return st.column_config.NumberColumn(label, help=m.description, format="%,d")


def for_display(frame, metrics):
    """Rates ×100 so that the "%.1f%%" column format reads as a percentage."""
    import polars as pl

    cols = [pl.col(n) * 100 for n in metrics if n in frame.columns and METRICS[n].unit == "ratio"]
    return frame.with_columns(cols) if cols else frame
