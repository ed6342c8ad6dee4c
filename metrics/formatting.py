"""Metric values as text, from the catalog's unit and d3 format: one rule for the dashboard,
the WBR and the Definitions page."""

from __future__ import annotations

import math

DASH = "—"


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(metric, value, missing: str = DASH) -> str:
    """`metric` is a catalog Metric; ratios as percentages, hours with " h", counts grouped."""
    if is_missing(value):
        return missing
    fmt = metric.fmt
    if fmt.endswith("%"):
        decimals = int(fmt.strip(",.%") or 0)
        return f"{value * 100:.{decimals}f}%"
    if fmt.endswith("d"):
        return f"{int(round(value)):,}"
    decimals = int(fmt.rsplit(".", 1)[-1].rstrip("f") or 0) if "." in fmt else 0
    text = f"{value:,.{decimals}f}"
    return f"{text} h" if metric.unit == "hours" else text


def format_parts(numerator, denominator) -> str:
    """"k / n" for a rate's parts; empty when there is no denominator."""
    if denominator is None:
        return ""
    return f"{int(numerator or 0):,} / {int(denominator):,}"
