"""The global filters (sidebar, kept in the URL) and the context every page reads.

`app.py` calls `sidebar()` once per run, before the page; the page calls `current()`.
Each filter widget is bound to a query parameter (`bind="query-params"`), so a view can be
shared by link: dates, grain, tz, compare, queue, priority, market, site, pod, pseudo; the
headline period is written as `period=YYYY-MM-DD`. Example: /queues?grain=Week&queue=payments_hold&tz=Europe/Dublin

Time as the team lives it: periods, "today" of the presets and the instants in captions are in
the reporting time zone (default: APPEALS_TZ, else secrets [reporting] tz, else UTC), which the
engine applies to every period boundary (api.report's `tz`). The default headline period is the
last complete one. Pages where a control does not apply show it (PAGE_SCOPES)
folded into a "Not used on this page" expander (their values kept for the others).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import polars as pl
import streamlit as st

from metrics import annotations as notes_mod
from metrics import dashboard
from metrics.periods import COMPARISONS, PERIODS, PRESETS, preset_range, trailing_starts
from ui import data, fmt

FILTER_KEYS = ("queue", "priority", "market", "site", "pod")
FILTER_LABELS = {"queue": "Queue", "priority": "Priority", "market": "Market", "site": "Site", "pod": "Pod"}
GRAIN_LABELS = {p: p.capitalize() for p in PERIODS}
DEFAULT_SALT = "appeals-review"
ALL_CONTROLS = frozenset({"dates", "grain", "period", "compare", "tz", "filters"})
# What each page reads from the sidebar (absent: everything); the others are folded away.
PAGE_SCOPES: dict[str, frozenset[str]] = {
    "data-quality": frozenset(),
    "weekly-review": frozenset({"dates", "tz"}),  # weeks of the reporting zone
}
# The hubs' zones first (domain.md: US, UK, Germany, Ireland, Poland, Australia), then all IANA zones.
TEAM_ZONES = ("UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
              "America/Los_Angeles", "Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Warsaw",
              "Australia/Sydney")


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
    compare: str = "previous"
    notes: tuple = ()  # metrics.annotations.Annotation: holidays and the team's annotations file
    links: notes_mod.ScheduleLinks = notes_mod.ScheduleLinks()  # which holidays apply to which charts
    run: object = field(default_factory=object, compare=False, repr=False)  # this script run (a fresh token)

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
        return dashboard.is_partial(self.focus, self.grain, self.as_of, self.tz)

    @property
    def baseline_from(self) -> date:
        """The first period a comparison reads: the one before the focus, or the trailing window's first."""
        return trailing_starts(self.focus, self.grain)[0] if self.compare == "trailing4" else self.previous

    @property
    def comparison_label(self) -> str:
        """What the KPI changes compare with, in words (captions, KPI cards)."""
        if self.compare == "trailing4":
            starts = trailing_starts(self.focus, self.grain)
            return f"the average of the {len(starts)} {self.grain}s before ({self.label(starts[0], short=True)} – " \
                   f"{self.label(starts[-1], short=True)})"
        return self.label(self.previous)

    def kpis(self, report: pl.DataFrame, metrics=dashboard.KPI_METRICS) -> list[dashboard.Kpi]:
        """The focus period's KPIs against the chosen comparison (previous period or trailing average)."""
        if self.compare == "trailing4":
            return dashboard.kpis_vs_trailing(report, self.focus, self.grain, metrics)
        return dashboard.kpis(report, self.focus, self.previous, metrics)

    def annotations(self, queue: str | None = None, scope: dict | None = None) -> pl.DataFrame:
        """Annotations of the date range for time charts (one queue's, or every queue's): the
        holidays of the schedules the filters, the chart's queue and its `scope` (e.g. the pod
        of the specialist it shows) reach; every holiday, with its site and queues, when nothing
        narrows the chart."""
        schedules = self.links.applicable(dict(self.filters) | (scope or {}), queue)
        return notes_mod.frame(list(self.notes), self.date_from, self.date_to, self.grain, queue, schedules)

    def instant(self, dt: datetime) -> str:
        """An instant in the reporting zone, e.g. "22 Nov 2026 23:58 UTC" or "23 Nov 2026 10:58 AEDT"."""
        return fmt.instant_in(dt, self.tz)

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
        start = date_from or min(self.date_from, self.baseline_from)
        return data.report_in_zone(self.url, self.as_of, tuple(by), period or self.grain, start,
                                   date_to or self.date_to, tuple(metrics) if metrics else None,
                                   self.filter_key if filters is None else filters, self.tz)

    def focus_report(self, by=(), metrics=None, period: str | None = None, filters: data.Filters | None = None):
        """api.report restricted to the focus period only (e.g. a daily report inside it)."""
        return data.report_in_zone(self.url, self.as_of, tuple(by), period or self.grain, self.focus,
                                   self.focus_last_day, tuple(metrics) if metrics else None,
                                   self.filter_key if filters is None else filters, self.tz)

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

    @property
    def total_label(self) -> str:
        """The label of a table's total row: "All queues" only when no queue filter narrows it."""
        queues = self.filters.get("queue")
        if not queues:
            return "All queues"
        return f"Total of {len(queues)} selected queues" if len(queues) > 1 else f"Total ({queues[0]})"


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


def _setting(env: str, section: str, key: str) -> str | None:
    value = os.environ.get(env, "").strip()
    if value:
        return value
    try:
        return str(st.secrets[section][key]) or None
    except Exception:  # noqa: BLE001 - no secrets file or no such key
        return None


def default_tz() -> str:
    """The team's reporting zone: APPEALS_TZ, else secrets [reporting] tz, else UTC (an unknown
    zone falls back to UTC, with a warning in the sidebar)."""
    return _setting("APPEALS_TZ", "reporting", "tz") or "UTC"


@lru_cache(maxsize=1)
def zone_choices() -> tuple[str, ...]:
    return TEAM_ZONES + tuple(sorted(z for z in available_timezones() if z not in TEAM_ZONES and "/" in z))


def valid_zone(name: str | None) -> bool:
    try:
        ZoneInfo(str(name))
    except Exception:  # noqa: BLE001 - unknown key or malformed
        return False
    return bool(name)


def annotations_file(url: str) -> str | None:
    """APPEALS_ANNOTATIONS_FILE (or secrets [annotations] file); for the bundled sample, its example."""
    path = _setting("APPEALS_ANNOTATIONS_FILE", "annotations", "file")
    if path:
        return path
    sample = data.ROOT / "data" / "sample"
    wh_path = data.duckdb_path(url)
    if wh_path is not None and wh_path.resolve().parent == sample.resolve() and (sample / "annotations.csv").exists():
        return str(sample / "annotations.csv")
    return None


@st.cache_data(ttl=600, show_spinner=False)
def _notes(url: str, as_of: datetime, date_from: date, date_to: date, path: str | None, mtime: float | None,
           queues: tuple[str, ...] = ()) -> tuple:
    from metrics import api

    # the warehouse's own tables: the store keeps facts and aggregates, not holidays or policies
    wh = data.warehouse(url)
    links = notes_mod.ScheduleLinks.of(*api.schedule_links(wh, as_of), queues)
    found = notes_mod.from_holidays(api.holidays(wh, date_from, date_to, as_of), links)
    if path:
        found += notes_mod.read_file(path)
    return tuple(found), links


def load_notes(url: str, as_of: datetime, date_from: date, date_to: date,
               queues: tuple[str, ...] = ()) -> tuple[tuple, notes_mod.ScheduleLinks]:
    """Holidays of the range and the team's annotations; a bad file is named in the sidebar, not fatal."""
    path = annotations_file(url)
    mtime = None
    if path:
        try:
            mtime = os.path.getmtime(path)
        except OSError:
            st.sidebar.warning(f"Annotations file not found: {fmt.code(path)}", icon=":material/warning:")
            path = None
    try:
        return _notes(url, as_of, date_from, date_to, path, mtime, queues)
    except notes_mod.AnnotationError as exc:
        st.sidebar.warning(fmt.md(str(exc)), icon=":material/warning:")
        return _notes(url, as_of, date_from, date_to, None, None, queues)


def _reset(default_range: tuple[date, date]) -> None:
    """Back to the defaults (bound widgets are reset through their state, which clears the URL)."""
    st.session_state["dates"] = default_range
    st.session_state["grain"] = "week"
    st.session_state["period"] = dashboard.period_start(default_range[1], "week").isoformat()
    st.session_state["pseudo"] = False
    st.session_state["compare"] = "previous"
    st.session_state["preset"] = None
    for key in FILTER_KEYS:
        st.session_state[key] = []


def _apply_preset(as_of: datetime) -> None:
    """A quick range: its dates and grain, the headline its latest complete period (on_change)."""
    name = st.session_state.get("preset")
    if not name:
        return
    tz = st.session_state.get("tz") or default_tz()
    today = as_of.astimezone(ZoneInfo(tz if valid_zone(tz) else "UTC")).date()
    start, end = preset_range(name, today)
    grain = PRESETS[name][1]
    st.session_state["dates"] = (start, end)
    st.session_state["grain"] = grain
    starts = dashboard.period_starts(start, end, grain)
    focus = dashboard.latest_complete(starts, grain, as_of, tz if valid_zone(tz) else "UTC")
    st.session_state["period"] = focus.isoformat() if focus else None


def sidebar(url: str, as_of: datetime, options: dict[str, list[str]], names_allowed: bool = True,
            page: str | None = None) -> Context:
    """Render the global filters in the sidebar and return the page context. Without
    `names_allowed` (a signed-in viewer who is not a lead) specialists are always pseudonymised.
    `page` (its url_path) disables the controls it does not read (PAGE_SCOPES)."""
    scope = PAGE_SCOPES.get(page or "", ALL_CONTROLS)
    st.sidebar.subheader("Filters")
    active = st.sidebar.container()
    idle = st.sidebar.expander("Not used on this page", icon=":material/filter_alt_off:") if scope != ALL_CONTROLS \
        else active

    def at(control: str):  # the controls this page reads on top; the others folded away, values kept
        return active if control in scope else idle

    sb = active
    # the zone first: "today" of the presets, the default range and every period boundary follow it
    fallback = default_tz()
    if not valid_zone(fallback):
        sb.warning(f"Reporting time zone setting {fmt.code(fallback)} is not an IANA zone: using UTC.",
                   icon=":material/warning:")
        fallback = "UTC"
    zones = zone_choices() if fallback in zone_choices() else (fallback, *zone_choices())
    if st.session_state.get("tz") not in zones and "tz" in st.session_state:
        st.session_state["tz"] = fallback  # an unknown ?tz= in a link: the team's zone
    tz = at("tz").selectbox(
        "Time zone", zones, index=zones.index(fallback), key="tz", bind="query-params",
        help="Days, weeks and months start at midnight here, and instants are shown in it. Default: the team's "
             "zone (APPEALS_TZ or [reporting] tz in secrets).",
    ) or fallback
    today = as_of.astimezone(ZoneInfo(tz)).date()
    default_from, default_to = dashboard.default_date_range(as_of, tz=tz)
    at("dates").selectbox("Quick range", list(PRESETS), index=None, key="preset", format_func=lambda n: PRESETS[n][0],
                 placeholder="Pick a preset…", on_change=_apply_preset, args=(as_of,),
                 help="Sets the date range and grain; the headline is the latest complete period in it. "
                      "'Today' is the data's as-of day in the time zone.")
    picked = at("dates").date_input(
        "Date range", value=(default_from, default_to), max_value=max(today, default_to), key="dates",
        bind="query-params",
        help="Trends cover the periods in this range. Default: the 8 ISO weeks up to the last complete one.",
        format="YYYY-MM-DD",
    )
    if isinstance(picked, tuple | list) and len(picked) == 2:
        date_from, date_to = picked
    elif isinstance(picked, tuple | list) and len(picked) == 1:  # mid-selection: one end picked
        date_from = date_to = picked[0]
    else:
        date_from, date_to = default_from, default_to
    grain = at("grain").segmented_control(
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
        # the range's latest period: with the default range (ending with the last complete week)
        # a complete week; a grain or range picked by hand may end in a running period, marked
        # "(partial)" here and in the page caption (presets pick their latest complete one)
        st.session_state["period"] = choices[0]
    focus_iso = at("period").selectbox(
        "Headline period", choices, key="period",
        format_func=lambda s: dashboard.period_choice_label(date.fromisoformat(s), grain)
        + (" (partial)" if dashboard.is_partial(date.fromisoformat(s), grain, as_of, tz) else ""),
        help="KPIs and tables show this period and compare it with the chosen baseline. Default: the latest "
             "complete period.",
    )
    if focus_iso and st.query_params.get("period") != focus_iso:
        st.query_params["period"] = focus_iso
    focus = date.fromisoformat(focus_iso) if focus_iso else dashboard.period_start(date_to, grain)
    compare = at("compare").segmented_control(
        "Compare with", list(COMPARISONS), format_func=lambda c: {"previous": "Previous period",
                                                                   "trailing4": "4-period average"}[c],
        default="previous", key="compare", bind="query-params", required=True, width="stretch",
       
        help="KPI changes against the period before, or against the average of the 4 periods before "
             "(counts: mean per period; rates: pooled numerators ÷ denominators; percentiles: not averaged).",
    ) or "previous"
    filters: dict[str, tuple[str, ...]] = {}
    for key in FILTER_KEYS:
        chosen = at("filters").multiselect(
            FILTER_LABELS[key], options.get(key, []), key=key, bind="query-params",
            placeholder=f"All {FILTER_LABELS[key].lower()}s" if key != "priority" else "All priorities",
        )
        if chosen and "filters" in scope:
            filters[key] = tuple(chosen)
    salt = _salt()
    refused = dashboard.salt_problem(salt)
    if not names_allowed:
        st.session_state["pseudo"] = True
    sb = st.sidebar  # applies everywhere
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
    notes, links = (load_notes(url, as_of, date_from, date_to, tuple(options.get("queue", ())))
                    if scope == ALL_CONTROLS else ((), notes_mod.ScheduleLinks()))
    ctx = Context(url, as_of, date_from, date_to, grain, focus, filters, bool(pseudo), salt, tz, compare, notes, links)
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
