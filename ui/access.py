"""Optional sign-in (Streamlit's st.login, OIDC settings in secrets [auth]) and roles.

Without an [auth] section the dashboard is open, as before, and everyone is a lead. With it,
every viewer signs in first; leads (secrets [roles] leads, a list of e-mails or subjects, or
APPEALS_LEADS comma-separated) see everything, other viewers do not see the per-specialist
page and see specialists only as pseudonyms.
"""

from __future__ import annotations

import os

import streamlit as st

LEAD = "lead"
VIEWER = "viewer"


def _secret(section: str):
    try:
        return st.secrets.get(section)
    except Exception:  # noqa: BLE001 - no secrets file at all
        return None


def sign_in_required() -> bool:
    return bool(_secret("auth"))


def leads() -> set[str]:
    env = os.environ.get("APPEALS_LEADS", "")
    configured = (_secret("roles") or {}).get("leads", [])
    return {x.strip().lower() for x in [*env.split(","), *configured] if x and x.strip()}


def who() -> str | None:
    """The signed-in viewer's e-mail (or subject), or None without sign-in."""
    if not sign_in_required() or not st.user.is_logged_in:
        return None
    return str(st.user.get("email") or st.user.get("sub") or "")


def role() -> str:
    if not sign_in_required():
        return LEAD
    me = (who() or "").lower()
    return LEAD if me and me in leads() else VIEWER


def gate() -> None:
    """Ask for sign-in when it is configured and the viewer has not signed in; stop the run."""
    if not sign_in_required() or st.user.is_logged_in:
        return
    st.title("Appeals operations")
    st.write("Sign in with your company account to see the dashboard.")
    st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
    st.stop()


def sidebar() -> None:
    """Who is signed in, with which role, and a way out."""
    me = who()
    if me is None:
        return
    from ui import fmt

    st.sidebar.caption(f"Signed in as {fmt.md(me)} · {role()}")
    st.sidebar.button("Sign out", on_click=st.logout, icon=":material/logout:")
