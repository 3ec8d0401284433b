"""Signing in: from the email an identity provider vouches for to a `Principal`.

The identity provider only proves who someone is; what they may see comes from Pathwise's
own users table (never from IdP claims). A refusal is audited with its reason.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from data_access.audit import record_event
from data_access.policy import AccessDenied, Principal, resolve_principal


def sign_in(engine: Engine, email: str, today: date | None = None) -> Principal:
    """The principal for `email` as of `today`, or `AccessDenied` (recorded) with the reason."""
    today = today or date.today()
    refusal: AccessDenied | None = None
    with engine.begin() as connection:
        try:
            return resolve_principal(connection, email, today)
        except AccessDenied as denied:
            refusal = denied
            record_event(
                connection,
                None,
                "sign_in",
                outcome="denied",
                email=(email or "").strip().lower() or "unknown",
                detail={"reason": denied.code},
            )
    raise refusal
