"""The global filters (sidebar, kept in the URL) and the context every page reads.

`app.py` calls `sidebar()` once per run, before the page; the page calls `current()`.
Each filter widget is bound to a query parameter (`bind="query-params"`), so a view can be
shared by link: dates, grain, queue, priority, market, site, pod, pseudo; the headline
period is written as `period=YYYY-MM-DD`. Example: /queues?grain=Week&queue=payments_hold
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl
import streamlit as st

from metrics import dashboard
from metrics.periods import PERIODS
from ui import data, fmt

FILTER_KEYS = ("queue", "priority", "market", "site", "pod")
FILTER_LABELS = {"queue": "Queue", "priority": "Priority", "market": "Market", "site": "Site", "pod": "Pod"}
GRAIN_LABELS = {p: p.capitalize() for p in PERIODS}
DEFAULT_SALT = "appeals-review"


@dataclass(frozen=True)
class Context:
    url: str
    as_of: datetime
    date_from: date
    date_to: date
    grain: str
    focus: date
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pseudonymise: bool = False
    salt: str | None = None
    tz: str = "UTC"

    # -- periods -------------------------------------------------------------------------------
    @property
    def starts(self) -> list[date]:
        return dashboard.period_starts(self.date_from, self.date_to, self.grain)

    @property
    def previous(self) -> date:
        return dashboard.previous_period(self.focus, self.grain)

    @property
    def focus_last_day(self) -> date:
        return dashboard.period_last_day(self.focus, self.grain)

    def label(self, start: date, short: bool = False) -> str:
        return dashboard.period_label(start, self.grain, short)

    @property
    def focus_is_partial(self) -> bool:
        return dashboard.is_partial(self.focus, self.grain, self.as_of)

    # -- engine calls (cached) ------------------------------------------------------------------
    @property
    def filter_key(self) -> data.Filters:
        return tuple((k, tuple(v)) for k, v in sorted(self.filters.items()) if v)

    def with_filters(self, **extra: list[str] | tuple[str, ...]) -> data.Filters:
        merged = dict(self.filters) | {k: tuple(v) for k, v in extra.items()}
        return tuple((k, tuple(v)) for k, v in sorted(merged.items()) if v)

    def report(self, by=(), metrics=None, period: str | None = None, date_from: date | None = None,
               date_to: date | None = None, filters: data.Filters | None = None) -> pl.DataFrame:
        """api.report over the selected range (plus the period before the focus period, for
        changes), grouped by `by`, with the global filters."""
        start = date_from or min(self.date_from, self.previous)
        return data.report(self.url, self.as_of, tuple(by), period or self.grain, start, date_to or self.date_to,
                           tuple(metrics) if metrics else None, self.filter_key if filters is None else filters)

    def focus_report(self, by=(), metrics=None, period: str | None = None, filters: data.Filters | None = None):
        """api.report restricted to the focus period only (e.g. a daily report inside it)."""
        return data.report(self.url, self.as_of, tuple(by), period or self.grain, self.focus, self.focus_last_day,
                           tuple(metrics) if metrics else None, self.filter_key if filters is None else filters)

    # -- privacy ----------------------------------------------------------------------------------
    def specialist_names(self, ids, known: dict[str, str] | None = None) -> dict[str, str]:
        """Display names for specialist ids: "Name (id)" when the name is known, or a stable
        pseudonym when pseudonymisation is on."""
        ids = [i for i in ids if i is not None]
        if self.pseudonymise:
            return dashboard.pseudonyms(ids, self.salt)
        known = known or {}
        return {i: f"{known[i]} ({i})" if known.get(i) else i for i in ids}

    def private(self, frame: pl.DataFrame) -> pl.DataFrame:
        return dashboard.pseudonymise(frame, self.salt) if self.pseudonymise else frame

    @property
    def scope(self) -> str:
        parts = [f"{FILTER_LABELS[k]}: {', '.join(fmt.md(x) for x in v)}" for k, v in self.filters.items() if v]
        return " · ".join(parts) if parts else "all queues, priorities, markets and sites"


ROUTER_FLAG = "_router_running"


def current() -> Context:
    """The context app.py built in this very run (filters, as-of, warehouse)."""
    if not st.session_state.get(ROUTER_FLAG):
        # With a pages/ folder next to app.py, Streamlit's legacy pages-directory mode runs a
        # page whose URL matches its file name (…/queues) without app.py: on the first deep
        # link after a server start, and on every AppTest run. Switch to app.py's router and
        # rerun; the same page then opens through app.py with its sidebar and context.
        from streamlit.runtime.pages_manager import PagesManager

        if PagesManager.uses_pages_directory is not False:
            PagesManager.uses_pages_directory = False
            st.rerun()
    ctx = st.session_state.get("_ctx")
    if ctx is None:
        st.error("This page is part of the dashboard: start it with `streamlit run app.py`.")
        st.stop()
    return ctx


def _salt() -> str | None:
    """APPEALS_PSEUDONYM_SALT, else secrets [pseudonyms] salt; never a value from the code."""
    env = os.environ.get("APPEALS_PSEUDONYM_SALT")
    if env:
        return env
    try:
        return str(st.secrets["pseudonyms"]["salt"])
    except Exception:  # noqa: BLE001 - no secrets file or no such key
        return None


def _reset(default_range: tuple[date, date]) -> None:
    """Back to the defaults (bound widgets are reset through their state, which clears the URL)."""
    st.session_state["dates"] = default_range
    st.session_state["grain"] = "week"
    st.session_state["period"] = dashboard.period_start(default_range[1], "week").isoformat()
    st.session_state["pseudo"] = False
    for key in FILTER_KEYS:
        st.session_state[key] = []


def sidebar(url: str, as_of: datetime, options: dict[str, list[str]], names_allowed: bool = True) -> Context:
    """Render the global filters in the sidebar and return the page context. Without
    `names_allowed` (a signed-in viewer who is not a lead) specialists are always pseudonymised."""
    default_from, default_to = dashboard.default_date_range(as_of)
    sb = st.sidebar
    sb.subheader("Filters")
    picked = sb.date_input(
        "Date range", value=(default_from, default_to), max_value=as_of.date(), key="dates", bind="query-params",
        help="Trends cover the periods in this range. Default: the last 8 ISO weeks up to the data's as-of time.",
        format="YYYY-MM-DD",
    )
    if isinstance(picked, tuple | list) and len(picked) == 2:
        date_from, date_to = picked
    elif isinstance(picked, tuple | list) and len(picked) == 1:  # mid-selection: one end picked
        date_from = date_to = picked[0]
    else:
        date_from, date_to = default_from, default_to
    grain = sb.segmented_control(
        "Period grain", list(GRAIN_LABELS), format_func=GRAIN_LABELS.get, default="week", key="grain",
        bind="query-params", required=True, width="stretch",
    ) or "week"
    starts = dashboard.period_starts(date_from, date_to, grain)
    choices = [s.isoformat() for s in reversed(starts)]
    # The headline period goes to the URL as an ISO date (period=2026-11-16), so it is kept
    # by hand rather than bound: a bound widget would write its formatted label.
    if "period" not in st.session_state:
        st.session_state["period"] = st.query_params.get("period")
    if choices and st.session_state.get("period") not in choices:
        st.session_state["period"] = choices[0]
    focus_iso = sb.selectbox(
        "Headline period", choices, key="period",
        format_func=lambda s: dashboard.period_choice_label(date.fromisoformat(s), grain),
        help="KPIs and tables show this period and compare it with the one before. Default: the latest.",
    )
    if focus_iso and st.query_params.get("period") != focus_iso:
        st.query_params["period"] = focus_iso
    focus = date.fromisoformat(focus_iso) if focus_iso else dashboard.period_start(date_to, grain)
    filters: dict[str, tuple[str, ...]] = {}
    for key in FILTER_KEYS:
        chosen = sb.multiselect(
            FILTER_LABELS[key], options.get(key, []), key=key, bind="query-params",
            placeholder=f"All {FILTER_LABELS[key].lower()}s" if key != "priority" else "All priorities",
        )
        if chosen:
            filters[key] = tuple(chosen)
    salt = _salt()
    refused = dashboard.salt_problem(salt)
    if not names_allowed:
        st.session_state["pseudo"] = True
    pseudo = sb.toggle(
        "Pseudonymise specialists", key="pseudo", bind="query-params", disabled=not names_allowed,
        help="Replace specialist ids and names (and team leads' names) by stable pseudonyms (Specialist K4QX7M) "
        "on every page and download, for screens shown in reviews."
        + (f" Not available: {refused}." if refused else ""),
    )
    if pseudo and refused:  # asked for pseudonyms: show no page rather than real names
        st.error(f"Specialists cannot be pseudonymised: {refused}.", icon=":material/lock:")
        st.stop()
    sb.button("Reset filters", on_click=_reset, args=((default_from, default_to),), width="stretch")
    ctx = Context(url, as_of, date_from, date_to, grain, focus, filters, bool(pseudo), salt)
    st.session_state["_ctx"] = ctx
    return ctx


def freshness(url: str, as_of: datetime) -> None:
    """The connected warehouse (no password) and the data's as-of time, at the sidebar's foot."""
    from metrics.redact import redact_url

    wh = data.warehouse(url)
    adapter = fmt.md(wh.adapter_name or "contract tables")
    if wh.adapter_config:  # which mapping of the source schema the numbers come from
        adapter += f" with {fmt.code(wh.adapter_config)}"
    st.sidebar.divider()
    st.sidebar.caption(
        f"**Data as of** {fmt.instant(as_of)} ({fmt.age(as_of)})  \n**Warehouse** {fmt.code(redact_url(url))}  \n"
        f"**Read through** {adapter}"
    )
    unmatched = data.config_checks(url) if wh.adapter_checks else []
    if unmatched:
        st.sidebar.warning(
            f"**Adapter config**: {sum(c['count'] for c in unmatched)} name(s) match nothing in the data, e.g. "
            f"{unmatched[0]['examples'][0]}. See Data quality.", icon=":material/warning:")
    store = data.store_status(url)
    if store is not None:
        line = f"**Store** as of {fmt.instant(store['as_of'])}, refreshed {fmt.instant(store['refreshed_at'])}"
        if store.get("mode"):
            line += f" ({store['mode']}, {store['recomputed']:,} of {store['appeals']:,} appeals recomputed)"
        if store["running"]:
            line += "  \nA refresh is running; the page picks it up when it is done."
        st.sidebar.caption(line)
        st.sidebar.button("Refresh the store now", key="_refresh_button", width="stretch",
                          on_click=lambda: st.session_state.__setitem__("_refresh_now", True),
                          help="Recompute what changed in the warehouse since the last refresh.")
    elif data.store_enabled():
        st.sidebar.caption("**Store** not in use: reading the warehouse directly.")
