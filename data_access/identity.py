"""Signing in: from the email an identity provider vouches for to a `Principal`.

The identity provider only proves who someone is; what they may see comes from Pathwise's
own users table (never from IdP claims). A refusal is audited with its reason.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import Connection, Engine

from data_access.audit import record_event
from data_access.policy import AccessDenied, Principal, resolve_principal


def sign_in(
    engine: Engine, email: str, today: date | None = None, *, os_user: str | None = None
) -> Principal:
    """The principal for `email` as of `today`, or `AccessDenied` (recorded) with the reason.

    `os_user` is the operating-system user running the command line on the user's behalf:
    the principal carries it so that every event it causes records it (None in the app)."""
    today = today or date.today()
    refusal: AccessDenied | None = None
    with engine.begin() as connection:
        try:
            return replace(resolve_principal(connection, email, today), os_user=os_user)
        except AccessDenied as denied:
            refusal = denied
            _record_refusal(connection, email, denied, today=today, os_user=os_user)
    raise refusal


def refuse_sign_in(engine: Engine, email: str, refusal: AccessDenied) -> None:
    """Record a sign-in refused before the users table was asked (the identity provider did
    not vouch for the email, docs/access-rules.md "Signing in"): every refusal is audited."""
    with engine.begin() as connection:
        _record_refusal(connection, email, refusal)


def _record_refusal(
    connection: Connection,
    email: str,
    refusal: AccessDenied,
    *,
    today: date | None = None,
    os_user: str | None = None,
) -> None:
    record_event(
        connection,
        None,
        "sign_in",
        outcome="denied",
        email=(email or "").strip().lower() or "unknown",
        detail={"reason": refusal.code},
        today=today,
        os_user=os_user,
    )
