"""Notifications inside Pathwise (issue 16): a release was signed, declined or ended.

A notification goes to one user (`recipient_email`, e.g. the requester) or to every staff
member of one organisation (`recipient_org_id`). `notify` writes in the caller's
transaction, so a release and the news of it are written together or not at all. The text
must name nothing the recipient may not know: a partner is told that a release ended,
never why.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection, Engine, insert, or_, select, update

from data_access.audit import recording_refusals
from data_access.models import Notification, table_of
from data_access.policy import Action, Principal, require

NOTIFICATION = table_of(Notification)


def notify(
    connection: Connection,
    *,
    kind: str,
    text: str,
    recipient_email: str | None = None,
    recipient_org_id: str | None = None,
    student_id: str | None = None,
    request_id: int | None = None,
) -> None:
    """Write one notification to a user or to an organisation's staff (exactly one of them)."""
    if (recipient_email is None) == (recipient_org_id is None):
        raise ValueError("a notification goes to one user or to one organisation")
    connection.execute(
        insert(NOTIFICATION).values(
            created_at=datetime.now(UTC),
            recipient_email=recipient_email,
            recipient_org_id=recipient_org_id,
            kind=kind,
            text=text,
            student_id=student_id,
            request_id=request_id,
        )
    )


def _mine(principal: Principal) -> object:
    conditions = [NOTIFICATION.c.recipient_email == principal.email]
    if principal.org_id is not None:
        conditions.append(NOTIFICATION.c.recipient_org_id == principal.org_id)
    return or_(*conditions)


def notifications_for(
    engine: Engine, principal: Principal, *, unread_only: bool = False
) -> pl.DataFrame:
    """The principal's notifications, newest first: their own and their organisation's."""
    with recording_refusals(engine, principal, "notification.read"):
        require(principal, Action.READ_NOTIFICATIONS)
    query = (
        select(
            NOTIFICATION.c.notification_id,
            NOTIFICATION.c.created_at,
            NOTIFICATION.c.kind,
            NOTIFICATION.c.text,
            NOTIFICATION.c.read_at,
        )
        .where(_mine(principal))  # type: ignore[arg-type]
        .order_by(NOTIFICATION.c.created_at.desc(), NOTIFICATION.c.notification_id.desc())
    )
    if unread_only:
        query = query.where(NOTIFICATION.c.read_at.is_(None))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pl.DataFrame(
        [row._asdict() for row in rows],
        schema={
            "notification_id": pl.Int64,
            "created_at": pl.Datetime("us", "UTC"),
            "kind": pl.Utf8,
            "text": pl.Utf8,
            "read_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


def mark_read(engine: Engine, principal: Principal, notification_ids: list[int]) -> None:
    """Mark the principal's own (or their organisation's) notifications as read."""
    with recording_refusals(engine, principal, "notification.read"):
        require(principal, Action.READ_NOTIFICATIONS)
    with engine.begin() as connection:
        connection.execute(
            update(NOTIFICATION)
            .where(NOTIFICATION.c.notification_id.in_(notification_ids))
            .where(_mine(principal))  # type: ignore[arg-type]
            .where(NOTIFICATION.c.read_at.is_(None))
            .values(read_at=datetime.now(UTC))
        )
