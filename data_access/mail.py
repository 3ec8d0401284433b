"""Email (issue 16 part 1): the outbox every message is written to, and sending by SMTP.

Every email Pathwise writes is a row of `outbox_message` first (`queue`), in the
transaction of what it is about. With SMTP settings (`[smtp]` in `.streamlit/secrets.toml`,
`mail_settings`) it is then sent (`deliver`, after that transaction committed): `sent_at`
is set and the single-use link in the stored body is blanked, so that only the hash of a
token stays at rest. Without settings (as in the demo), or when the server refuses it, the
message waits in the outbox, not sent (`error` says why a sending failed), with its link:
the steward reads it in Administration (`outbox`) and delivers it by hand. What it is
about (a release request) exists either way.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, insert, select, update

from data_access.audit import record_event, recording_refusals
from data_access.models import OutboxMessage, ReleaseRequest, table_of
from data_access.policy import Action, Principal, require
from data_access.reading import frame

OUTBOX = table_of(OutboxMessage)
REQUEST = table_of(ReleaseRequest)

#: What replaces a sent message's single-use link in the stored body.
LINK_REMOVED = "[single-use link sent by email; not kept]"
#: Seconds to wait for the SMTP server.
SMTP_TIMEOUT = 20


#: The outbox's columns and their types (also when it is empty).
OUTBOX_COLUMNS: dict[str, Any] = {
    "message_id": pl.Int64,
    "created_at": pl.Datetime("us", "UTC"),
    "to_address": pl.String,
    "subject": pl.String,
    "body": pl.String,
    "language": pl.String,
    "kind": pl.String,
    "request_id": pl.Int64,
    "student_id": pl.String,
    "sent": pl.Boolean,
    "sent_at": pl.Datetime("us", "UTC"),
    "error": pl.String,
}


class MailSettingsError(ValueError):
    """The `[smtp]` settings cannot be used; the message names the key."""


@dataclass(frozen=True)
class MailSettings:
    """How to reach the district's SMTP server (`[smtp]` of `.streamlit/secrets.toml`)."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False


def mail_settings(secrets: Mapping[str, Any]) -> MailSettings | None:
    """The `[smtp]` table of the secrets (`st.secrets` or a parsed TOML file), or None when
    there is none (messages then wait in the outbox). `host` and `sender` are required,
    `port` defaults to 587 with `starttls` and to 25 without, `username` and `password`
    go together. Raises `MailSettingsError` naming the key otherwise."""
    table = secrets.get("smtp") if hasattr(secrets, "get") else None
    if not table:
        return None
    known = {"host", "port", "sender", "username", "password", "starttls"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise MailSettingsError(
            f"[smtp] has unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    host = str(table.get("host") or "").strip()
    sender = str(table.get("sender") or "").strip()
    if not host:
        raise MailSettingsError("[smtp] host is required (the SMTP server's name)")
    if not sender or "@" not in sender:
        raise MailSettingsError(f"[smtp] sender must be an email address, got {sender!r}")
    starttls = table.get("starttls", False)
    if not isinstance(starttls, bool):
        raise MailSettingsError(f"[smtp] starttls must be true or false, got {starttls!r}")
    port = table.get("port", 587 if starttls else 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise MailSettingsError(f"[smtp] port must be a port number, got {port!r}")
    username = str(table.get("username") or "").strip() or None
    password = str(table.get("password") or "") or None
    if (username is None) != (password is None):
        raise MailSettingsError("[smtp] username and password go together")
    return MailSettings(host, port, sender, username, password, starttls)


def queue(
    connection: Connection,
    *,
    to_address: str,
    subject: str,
    body: str,
    language: str,
    kind: str,
    request_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Write one message to the outbox (not sent), in the caller's transaction; its id."""
    return int(
        connection.execute(
            insert(OUTBOX)
            .values(
                created_at=now or datetime.now(UTC),
                to_address=to_address,
                subject=subject[:300],
                body=body,
                language=language,
                kind=kind,
                request_id=request_id,
            )
            .returning(OUTBOX.c.message_id)
        ).scalar_one()
    )


def send(settings: MailSettings, *, to_address: str, subject: str, body: str) -> None:
    """Send one plain-text message through the SMTP server (STARTTLS and login when
    configured); raises `smtplib.SMTPException` or `OSError` when it cannot."""
    message = EmailMessage()
    message["From"] = formataddr(("Pathwise", settings.sender))
    message["To"] = to_address
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT) as server:
        if settings.starttls:
            server.starttls(context=ssl.create_default_context())
        if settings.username and settings.password:
            server.login(settings.username, settings.password)
        server.send_message(message)


def deliver(
    engine: Engine, message_id: int, settings: MailSettings, *, secrets: Sequence[str] = ()
) -> bool:
    """Send one outbox message; on success set `sent_at` and blank the `secrets` (the link,
    then the token wherever else it appears) in the stored body; on failure keep the
    message, not sent, with the server's `error`. Whether it was sent."""
    with engine.connect() as connection:
        row = connection.execute(select(OUTBOX).where(OUTBOX.c.message_id == message_id)).one()
    try:
        send(settings, to_address=row.to_address, subject=row.subject, body=row.body)
    except (smtplib.SMTPException, OSError) as error:
        with engine.begin() as connection:
            connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.message_id == message_id)
                .values(error=f"{type(error).__name__}: {error}"[:2000])
            )
        return False
    body = row.body
    for secret in secrets:
        body = body.replace(secret, LINK_REMOVED)
    with engine.begin() as connection:
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.message_id == message_id)
            .values(sent_at=datetime.now(UTC), body=body, error=None)
        )
    return True


def outbox(engine: Engine, principal: Principal) -> pl.DataFrame:
    """Every message Pathwise wrote, newest first, for the steward (ADMINISTER_RELEASES):
    `sent` false for those waiting to be delivered by hand (with their link), `error`
    when the server refused one. A message about a release request names a student (first
    name and school), so the read is audited with those students."""
    with recording_refusals(engine, principal, "outbox.read"):
        require(principal, Action.ADMINISTER_RELEASES)
    with engine.begin() as connection:
        result = frame(
            connection,
            select(
                OUTBOX.c.message_id,
                OUTBOX.c.created_at,
                OUTBOX.c.to_address,
                OUTBOX.c.subject,
                OUTBOX.c.body,
                OUTBOX.c.language,
                OUTBOX.c.kind,
                OUTBOX.c.request_id,
                REQUEST.c.student_id,
                OUTBOX.c.sent_at.is_not(None).label("sent"),
                OUTBOX.c.sent_at,
                OUTBOX.c.error,
            )
            .select_from(OUTBOX.outerjoin(REQUEST, REQUEST.c.request_id == OUTBOX.c.request_id))
            .order_by(OUTBOX.c.created_at.desc(), OUTBOX.c.message_id.desc()),
            schema=OUTBOX_COLUMNS,
        )
        students = sorted({s for s in result["student_id"].to_list() if s})
        record_event(
            connection,
            principal,
            "outbox.read",
            students=dict.fromkeys(students, f"role:{principal.role.value}"),
            detail={"messages": result.height},
        )
    return result
