"""Who is signed in to this browser session, and in which mode.

Production sign-in is Streamlit's native `st.login` (OpenID Connect through Authlib);
the identity provider only proves the email, and Pathwise's own users table decides what
that person may see (`data_access.identity.sign_in`, re-checked on every run so that a
deactivation or a revoked release takes effect at once). Streamlit keeps the ID token's
claims in a cookie signed with `[auth] cookie_secret`, so three checks guard that door
(README, "Sign-in"; issue 10):

- **The cookie secret must be secret.** Anyone who knows it can sign a cookie naming any
  email. Pathwise offers no real sign-in, and honours no signed-in identity, while the
  secret is missing, shorter than 32 characters, or the value copied from
  `.streamlit/secrets.toml.example` (`cookie_secret_problem`).
- **The ID token must not have expired.** Streamlit does not check `exp`, so we do: an
  expired token, or an identity without `exp` (no provider issues one), signs the user out
  (`identity_expired`).
- **The email must be verified by the provider** (`verified_email`): the claim
  `email_verified` must be true. Microsoft Entra ID does not send that claim; an identity
  without it is accepted only from an issuer the district lists in
  `[pathwise] trusted_email_issuers` (its own single-tenant directory, whose emails it
  manages). An explicit `email_verified: false` is refused from every issuer.

Demo sign-in lets a trainer act as any demo user. `PATHWISE_DEMO_SIGNIN=1` switches it on
and refuses to start unless the database is the demo one; `auto` (what `make run` uses)
offers it only on the demo district. Either way it can never be used against real data.
The chosen demo user is kept in the address (`?demo_user=`) so that a reload or a shared
link keeps them; that parameter is read only when demo sign-in is on (`_demo_email`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from data_access.api import (
    AccessDenied,
    Principal,
    is_demo_database,
    refuse_sign_in,
    sign_in,
)

DEMO_SWITCH = "PATHWISE_DEMO_SIGNIN"
DEMO_EMAIL_KEY = "demo_email"
#: Demo only: the chosen demo user is also kept in the address, so a reload keeps them.
DEMO_USER_PARAM = "demo_user"
MEETING_KEY = "meeting_mode"
MEETING_LINK_SEEN = "meeting_link_seen"


#: The placeholder of `.streamlit/secrets.toml.example`: public, so never a secret.
EXAMPLE_COOKIE_SECRET = "replace-with-a-long-random-string"
MIN_COOKIE_SECRET_LENGTH = 32
GENERATE_SECRET = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'


class DemoRefused(RuntimeError):
    """Demo sign-in was switched on against a database that is not the demo district."""


class SignInMisconfigured(RuntimeError):
    """Real sign-in is configured unsafely; Pathwise offers none until the administrator
    fixes the configuration (the message says how)."""


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


def cookie_secret_problem(secret: object) -> str | None:
    """Why `secret` cannot sign Streamlit's identity cookie, or None when it can.

    A secret that is missing, shorter than `MIN_COOKIE_SECRET_LENGTH` characters, or the
    published example value lets anyone forge a cookie naming any email (issue 10).
    """
    how = f"Generate one with `{GENERATE_SECRET}` and restart Pathwise."
    if not isinstance(secret, str) or not secret.strip():
        return f"`[auth] cookie_secret` is missing in `.streamlit/secrets.toml`. {how}"
    if secret.strip() == EXAMPLE_COOKIE_SECRET:
        return (
            "`[auth] cookie_secret` is still the example value from "
            f"`.streamlit/secrets.toml.example`, which anyone can read. {how}"
        )
    if len(secret) < MIN_COOKIE_SECRET_LENGTH:
        return (
            f"`[auth] cookie_secret` is {len(secret)} characters long; it must be a random "
            f"string of at least {MIN_COOKIE_SECRET_LENGTH}. {how}"
        )
    return None


def identity_expired(claims: Mapping[str, Any], now: float) -> bool:
    """An identity is expired when its ID token's `exp` has passed, and also when it has no
    numeric `exp` at all: every OpenID provider sets it, so its absence means the identity
    was not made from an ID token."""
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        return True
    return expires < now


def _is_true(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def verified_email(claims: Mapping[str, Any], trusted_issuers: Collection[str]) -> str:
    """The email Pathwise may look up in its users table, or `AccessDenied`.

    The provider must vouch for the address: `email_verified` true (Google, most
    providers). Without the claim (Microsoft Entra ID never sends it) the address is
    accepted only when the token's issuer `iss` is one the district lists in
    `[pathwise] trusted_email_issuers`, i.e. its own single-tenant directory. An explicit
    `email_verified: false` is refused whatever the issuer.
    """
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise AccessDenied(
            "Your identity provider did not send an email address, so Pathwise cannot tell "
            "who you are. Ask your data steward.",
            code="no_email",
        )
    verified = claims.get("email_verified")
    if _is_true(verified):
        return email
    if verified is None and claims.get("iss") in set(trusted_issuers):
        return email
    raise AccessDenied(
        f"Your identity provider has not confirmed that {email} is your address, so Pathwise "
        "cannot sign you in with it. Ask your data steward.",
        code="unverified_email",
    )


def _auth_section() -> Mapping[str, Any] | None:
    try:
        auth = st.secrets.get("auth")
    except FileNotFoundError:
        return None
    return auth if isinstance(auth, Mapping) else None


def sign_in_providers() -> list[str]:
    """The identity providers configured in `[auth]`; raises `SignInMisconfigured` when
    `[auth]` exists but its cookie secret could be guessed (`cookie_secret_problem`)."""
    auth = _auth_section()
    if auth is None:
        return []
    problem = cookie_secret_problem(auth.get("cookie_secret"))
    if problem is not None:
        raise SignInMisconfigured(
            "Sign-in is switched off because its configuration is unsafe: " + problem
        )
    return [name for name, value in auth.items() if isinstance(value, Mapping)]


def trusted_email_issuers() -> frozenset[str]:
    """`[pathwise] trusted_email_issuers`: issuers whose emails count as verified without
    `email_verified` (the district's own single-tenant Microsoft Entra directory)."""
    try:
        section = st.secrets.get("pathwise")
    except FileNotFoundError:
        return frozenset()
    if not isinstance(section, Mapping):
        return frozenset()
    issuers = section.get("trusted_email_issuers", [])
    return frozenset(str(i) for i in issuers) if isinstance(issuers, list | tuple) else frozenset()


def _oidc_email() -> str | None:
    """The verified email of the signed-in identity, None when nobody (valid) is signed in;
    `AccessDenied` when the provider did not verify the address."""
    if not sign_in_providers():
        return None  # no sign-in configured: no cookie can be one Pathwise issued
    user = st.user
    if not user.get("is_logged_in", False):
        return None
    claims = user.to_dict()
    if identity_expired(claims, time.time()):
        st.logout()
        return None
    return verified_email(claims, trusted_email_issuers())


def _demo_email() -> str | None:
    """Demo sign-in only: the demo user chosen in this session, or named by the address
    (`?demo_user=`, which the app keeps up to date so that a reload keeps the user). Anyone
    may act as any demo user, so the address grants nothing the sign-in page does not; on
    real data `demo_mode()` is false and this is never called."""
    email = st.session_state.get(DEMO_EMAIL_KEY) or st.query_params.get(DEMO_USER_PARAM)
    if not email:
        return None
    st.session_state[DEMO_EMAIL_KEY] = email
    if st.query_params.get(DEMO_USER_PARAM) != email:
        st.query_params[DEMO_USER_PARAM] = email
    return str(email)


def today() -> date:
    return date.today()


def current_session() -> SessionState:
    """Sign-in state for this run (re-resolved every time; nothing cached across users)."""
    demo = demo_mode()
    try:
        email = _demo_email() if demo else _oidc_email()
    except AccessDenied as unverified:
        claimed = str(st.user.get("email") or "")
        refuse_sign_in(claimed, unverified)
        return SessionState(None, unverified, demo, claimed)
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
    st.query_params.pop(DEMO_USER_PARAM, None)
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
