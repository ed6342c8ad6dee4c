"""Settings a team sets once for its dashboard (environment first, then .streamlit/secrets.toml).

- APPEALS_CASE_URL_TEMPLATE / secrets [case_tool] url_template: the link to an appeal in the
  case tool, with `{appeal_id}` where the id goes, e.g.
  `https://yourcompany.zendesk.com/agent/tickets/{appeal_id}`. Unset: no link column.
- APPEALS_SLA_TARGET / secrets [sla] attainment_target: the SLA attainment a queue is held to
  (a fraction, default 0.90): attainment below it is red, at or above green.
"""

from __future__ import annotations

import os

import streamlit as st

from metrics.catalog import DEFAULT_SLA_TARGET, parse_sla_target


def _secret(section: str, key: str):
    try:
        return st.secrets[section][key]
    except Exception:  # noqa: BLE001 - no secrets file, or no such section
        return None


def case_url_template() -> str | None:
    value = os.environ.get("APPEALS_CASE_URL_TEMPLATE", "").strip() or _secret("case_tool", "url_template")
    if not value or "{appeal_id}" not in str(value) or not str(value).startswith(("https://", "http://")):
        return None  # a template without {appeal_id} or an http(s) scheme would link nowhere useful
    return str(value)


def sla_target() -> float:
    raw = os.environ.get("APPEALS_SLA_TARGET", "").strip() or _secret("sla", "attainment_target")
    try:
        return parse_sla_target(raw) or DEFAULT_SLA_TARGET
    except ValueError as e:
        st.warning(f"{e}; using {DEFAULT_SLA_TARGET:.0%}.", icon=":material/warning:")
        return DEFAULT_SLA_TARGET


GOOD = "background-color: #e6f4ea; color: #0d652d"  # at or above target
BAD = "background-color: #fce8e6; color: #a50e0e"  # below target


def sla_styled(frame, columns, target: float, scaled: bool = True):
    """A pandas Styler of `frame` whose SLA attainment `columns` are green at or above the
    target and red below; `scaled`: the values are percentages (ui.fmt.for_display)."""
    import math

    def colour(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        return GOOD if (v / 100 if scaled else v) >= target else BAD

    cols = [c for c in columns if c in frame.columns]
    styler = frame.to_pandas().style.map(colour, subset=cols)
    return styler.format("{:.1f}%" if scaled else "{:.1%}", subset=cols, na_rep="—")
