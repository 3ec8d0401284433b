"""Who is signed in to this browser session, and in which mode.

Production sign-in is Streamlit's native `st.login` (OpenID Connect through Authlib);
the identity provider only proves the email, and Pathwise's own users table decides what
that person may see (`data_access.identity.sign_in`, re-checked on every run so that a
deactivation or a revoked release takes effect at once). Streamlit does not check the ID
token's expiry, so we do: an expired token signs the user out.

Demo sign-in lets a trainer act as any demo user. `PATHWISE_DEMO_SIGNIN=1` switches it on
and refuses to start unless the database is the demo one; `auto` (what `make run` uses)
offers it only on the demo district. Either way it can never be used against real data.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date

import streamlit as st

from data_access.api import AccessDenied, Principal, is_demo_database, sign_in

DEMO_SWITCH = "PATHWISE_DEMO_SIGNIN"
DEMO_EMAIL_KEY = "demo_email"
MEETING_KEY = "meeting_mode"
MEETING_LINK_SEEN = "meeting_link_seen"


class DemoRefused(RuntimeError):
    """Demo sign-in was switched on against a database that is not the demo district."""


@dataclass(frozen=True)
class SessionState:
    """The outcome of sign-in for this run: a principal, a refusal, or nobody yet."""

    principal: Principal | None
    denied: AccessDenied | None
    demo: bool
    email: str | None

    @property
    def signed_in(self) -> bool:
        return self.email is not None


def demo_switch() -> str:
    """ "on", "off" or "auto" (on exactly when the database is the demo district)."""
    value = os.environ.get(DEMO_SWITCH, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return "on"
    if value == "auto":
        return "auto"
    return "off"


def demo_mode() -> bool:
    """True when demo sign-in is on; raises `DemoRefused` if it was switched on explicitly
    against a database that holds real data. `auto` (what `make run` uses) never refuses:
    it offers demo sign-in on the demo district and the real sign-in everywhere else."""
    switch = demo_switch()
    if switch == "off":
        return False
    if switch == "auto":
        return is_demo_database()
    if not is_demo_database():
        raise DemoRefused(
            "Demo sign-in is switched on (PATHWISE_DEMO_SIGNIN), but this database is not the "
            "demo district. Pathwise never offers demo sign-in on real data: unset "
            "PATHWISE_DEMO_SIGNIN, or point PATHWISE_DATABASE_URL at a demo database."
        )
    return True


def _oidc_email() -> str | None:
    user = st.user
    if not user.get("is_logged_in", False):
        return None
    expires = user.get("exp")
    if isinstance(expires, int | float) and expires < time.time():
        st.logout()
        return None
    email = user.get("email")
    return str(email) if email else None


def today() -> date:
    return date.today()


def current_session() -> SessionState:
    """Sign-in state for this run (re-resolved every time; nothing cached across users)."""
    demo = demo_mode()
    email = st.session_state.get(DEMO_EMAIL_KEY) if demo else _oidc_email()
    if not email:
        return SessionState(None, None, demo, None)
    try:
        principal = sign_in(str(email), today())
    except AccessDenied as denied:
        return SessionState(None, denied, demo, str(email))
    if meeting_mode_on():
        principal = principal.in_meeting_mode()
    return SessionState(principal, None, demo, str(email))


def meeting_mode_on() -> bool:
    """Meeting mode: switched on in the sidebar, or by a `?mode=meeting` link."""
    if st.query_params.get("mode") == "meeting" and not st.session_state.get(MEETING_LINK_SEEN):
        st.session_state[MEETING_KEY] = True
        st.session_state[MEETING_LINK_SEEN] = True
    return bool(st.session_state.get(MEETING_KEY, False))


def sign_out() -> None:
    st.session_state.pop(DEMO_EMAIL_KEY, None)
    st.session_state.pop(MEETING_KEY, None)
    if st.user.get("is_logged_in", False):
        st.logout()
    st.rerun()


def require_principal() -> Principal:
    """Every page function calls this first: it re-checks who is asking, or stops the page."""
    state = current_session()
    if state.principal is None:
        st.error("Please sign in to see this page.")
        st.stop()
    return state.principal
