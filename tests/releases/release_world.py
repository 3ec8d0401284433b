"""The small world of tests/worlds.py, with what release requests need, and a real SMTP server.

On top of the small world (TODAY 2026-11-22; the counselor works at HS1, ORGA's active
agreement covers attendance, notes and tests):
- Ana (S1, HS1) has two guardians: Mom (English, already in the world) and Papá
  (`dad@family.org`, Spanish).
- Eli (S5, HS2) was born on 2008-11-01: 18 on TODAY, an eligible student; his student
  account is eli@student.org.

`compose` is a small real email writer (the release page's engineer writes the real one):
it puts every field of the ReleaseEmail into the body, the link on a line of its own.
`smtp_server` runs aiosmtpd on a free local port and collects what it receives.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, insert, update

from data_access.identity import sign_in
from data_access.mail import MailSettings
from data_access.models import Guardian, Student, table_of
from data_access.policy import Principal
from data_access.releases import NewRequest
from domain.releases import ReleaseEmail
from tests.worlds import TODAY, build_small_world

LINK_BASE = "https://pathwise.example/release"
#: A moment on TODAY, when the tests' requests are made.
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
ANA_FOR_ORGA = NewRequest(
    student_id="S1", org_id="ORGA", categories=("attendance", "tests"), purpose="Mentoring"
)
ELI_FOR_ORGC = NewRequest(
    student_id="S5", org_id="ORGC", categories=("fafsa",), purpose="College applications"
)


def compose(email: ReleaseEmail) -> tuple[str, str]:
    """A plain email with every field, the link on its own line."""
    subject = f"[{email.language}] Release for {email.student_first_name} to {email.org_name}"
    body = "\n".join(
        [
            f"Dear {email.recipient_name},",
            f"{email.org_name} ({email.org_type}: {', '.join(email.org_service_types)})",
            f"asks for {', '.join(email.categories)} of {email.student_first_name}",
            f"at {email.school_name}, for: {email.purpose}.",
            f"Release until {email.release_expires}; link until {email.link_expires}.",
            "Sign here:",
            email.link,
            f"Paper code: {email.paper_code}",
        ]
    )
    return subject, body


def build_release_world(engine: Engine) -> None:
    build_small_world(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(Guardian)).values(
                student_id="S1",
                guardian_email="dad@family.org",
                guardian_name="Papá Testcase",
                relationship="father",
                language="es",
            )
        )
        connection.execute(
            update(table_of(Student))
            .where(table_of(Student).c.student_id == "S5")
            .values(birth_date=date(2008, 11, 1))
        )


def principal(engine: Engine, email: str) -> Principal:
    return sign_in(engine, email, TODAY)


def link_in(body: str) -> str:
    """The link line of a `compose`d body."""
    return next(line for line in body.splitlines() if line.startswith(LINK_BASE))


def token_of(link: str) -> str:
    return link.split("token=", 1)[1]


@dataclass
class Inbox:
    """What the local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[MailSettings, Inbox]]:
    """A real SMTP server (aiosmtpd) on a free local port, and the settings to reach it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield MailSettings(host="127.0.0.1", port=port, sender="pathwise@district.example"), inbox
    finally:
        controller.stop()
