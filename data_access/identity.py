"""Signing in: from the email an identity provider vouches for to a `Principal`.

The identity provider only proves who someone is; what they may see comes from Pathwise's
own users table (never from IdP claims). A refusal is audited with its reason.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import Connection, Engine, select

from data_access.audit import record_event
from data_access.models import Guardian, table_of
from data_access.policy import AccessDenied, Principal, resolve_principal
from domain.vocabulary import Role

_GUARDIAN = table_of(Guardian)


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


def guardian_language(engine: Engine, principal: Principal) -> str | None:
    """The language a parent's guardian rows give (ISO 639-1), None for anyone else or when
    none is on file. A parent listed for several children with different languages gets
    the one of the child whose id sorts first. Only the principal's own preference is
    read (their email's rows, no student data), so nothing is audited."""
    if principal.role != Role.PARENT:
        return None
    with engine.connect() as connection:
        return connection.execute(
            select(_GUARDIAN.c.language)
            .where(
                _GUARDIAN.c.guardian_email == principal.email.strip().lower(),
                _GUARDIAN.c.language.is_not(None),
            )
            .order_by(_GUARDIAN.c.student_id)
            .limit(1)
        ).scalar_one_or_none()


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
