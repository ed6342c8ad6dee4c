"""Appeals operations dashboard: the router.

Resolves the warehouse URL (APPEALS_WAREHOUSE_URL > .streamlit/secrets.toml
[connections.warehouse] url > the bundled sample DuckDB), opens it read-only through
st.connection, renders the global sidebar filters (kept in the URL) and runs the page.
Run: bash scripts/dashboard.sh (python -m ui.server: `streamlit run app.py`, the app's modules imported first)
"""

from __future__ import annotations

import os

import streamlit as st

from metrics import faults
from metrics.redact import redact_url
from ui import access, context, data, fmt

st.set_page_config(page_title="Appeals operations", page_icon=":material/gavel:", layout="wide")

PAGES = {
    "Operations": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview"),
        st.Page("pages/queues.py", title="Queues", icon=":material/view_list:", url_path="queues"),
        st.Page("pages/specialists.py", title="Specialists", icon=":material/groups:", url_path="specialists"),
        st.Page("pages/root_causes.py", title="Root causes", icon=":material/troubleshoot:", url_path="root-causes"),
        st.Page("pages/wbr.py", title="Weekly review", icon=":material/summarize:", url_path="weekly-review"),
    ],
    "Data": [
        st.Page("pages/definitions.py", title="Definitions", icon=":material/menu_book:", url_path="definitions"),
        st.Page("pages/data_quality.py", title="Data quality", icon=":material/fact_check:", url_path="data-quality"),
    ],
}
# The app root shows the Overview too. Streamlit serves the default page at "/" only, so the
# Overview is registered a second time (hidden) as the default: …/overview keeps working as a link.
PAGES[""] = [st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="home",
                     default=True, visibility="hidden")]


def warehouse_url() -> str:
    """APPEALS_WAREHOUSE_URL, else secrets [connections.warehouse] url, else the sample."""
    env = os.environ.get("APPEALS_WAREHOUSE_URL", "").strip()
    if env:
        return env
    try:
        url = st.secrets["connections"]["warehouse"]["url"]
    except Exception:  # noqa: BLE001 - no secrets file, or no such section
        url = None
    if url:
        return str(url)
    with st.spinner("Building the sample warehouse from its Parquet files (first run only)…"):
        return data.sample_url()


access.gate()  # with [auth] in secrets: sign in first
IS_LEAD = access.role() == access.LEAD
if not IS_LEAD:  # per-specialist pages are for leads only
    PAGES["Operations"] = [p for p in PAGES["Operations"] if p.url_path != "specialists"]
pg = st.navigation(PAGES)
url = None
try:
    url = warehouse_url()
    if data.reload_if_changed(url):
        st.toast("The warehouse changed since it was loaded: every number was read again.", icon=":material/sync:")
    wh = data.warehouse(url)
    data.ensure_store(url)  # the store serves reports when ready (built on first use, with progress)
    as_of = data.as_of(url)
    data.prepare(url, as_of)
    options = data.filter_options(url, as_of)
except Exception as exc:  # noqa: BLE001 - driver, connection, corruption: one line, never a traceback
    st.error(f"The warehouse cannot be used: {fmt.code(faults.one_line(exc, url))}", icon=":material/error:")
    st.caption(f"Set APPEALS_WAREHOUSE_URL or [connections.warehouse] url in .streamlit/secrets.toml "
               f"(see .streamlit/secrets.toml.example). Tried: {fmt.code(redact_url(url)) if url else 'the bundled sample'}")
    st.stop()

st.session_state[context.ROUTER_FLAG] = True  # pages check that they run through this router
try:
    context.sidebar(url, as_of, options, names_allowed=IS_LEAD, page=pg.url_path)
    access.sidebar()
    context.freshness(url, as_of)
    pg.run()
except Exception as exc:  # noqa: BLE001 - the sidebar and navigation stay; the next run retries
    st.error(fmt.code(faults.one_line(exc, url)), icon=":material/error:")
    st.caption("The other pages, Data quality among them, stay available in the sidebar.")
finally:
    st.session_state[context.ROUTER_FLAG] = False
