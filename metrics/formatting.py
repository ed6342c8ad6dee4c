"""Metric values as text, from the catalog's unit and d3 format: one rule for the dashboard,
the WBR and the Definitions page."""

from __future__ import annotations

import math
import re

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


# Markdown syntax a value could carry into a Markdown element: links and images ([ ] !),
# HTML and autolinks (< >), emphasis and code (* ` ~), math ($), entities (&), headings (#),
# Streamlit's directives (:red[...] needs its [), escapes themselves.
_ALWAYS = re.compile(r"([\\`*~$\[\]<>&#!|])")
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")  # intraword a_b emphasises nothing
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=www)(\.)|(@)")  # GFM links bare URLs, www. and e-mails
_BLOCK_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")  # a list item or setext line at the start


def markdown_text(value) -> str:
    """Text from the warehouse (a queue, a name, an id) for a Markdown element (st.markdown,
    caption, header, warning, metric label...): shown as the text it is, never as a link, an
    image, HTML or formatting. Plain ids and names (payments_hold, Brianna Scott (sp_012)) are
    unchanged. One line: a value cannot open a block."""
    if value is None:
        return DASH
    text = " ".join(str(value).split())
    text = _ALWAYS.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _AUTOLINK.sub(lambda m: "\\" + m.group(0), text)
    return _BLOCK_START.sub(lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit() else "\\" + m.group(2)),
                            text)


def markdown_code(value) -> str:
    """Text (a URL, an error message quoting a value) as an inline code span: shown literally,
    monospace. The fence is one backtick longer than any run inside, as CommonMark allows."""
    text = " ".join(str(value).split())
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
