"""Email: release requests sent through a real SMTP server (aiosmtpd on a local port), the
outbox when there is no server or it fails, and the `[smtp]` settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine, MetaData, select

from data_access.mail import (
    LINK_REMOVED,
    MailSettings,
    MailSettingsError,
    mail_settings,
    outbox,
)
from data_access.models import OutboxMessage, ReleaseRequest, table_of
from data_access.policy import AccessDenied
from data_access.releases import CreatedRequest, LinkView, create_request, open_link
from tests.releases.release_world import (
    ANA_FOR_ORGA,
    LINK_BASE,
    NOW,
    Inbox,
    build_release_world,
    compose,
    free_port,
    link_in,
    principal,
    smtp_server,
    token_of,
)

__all__ = ["smtp_server"]  # the fixture, used by name

OUTBOX = table_of(OutboxMessage)
REQUEST = table_of(ReleaseRequest)


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_release_world(engine)
    return engine


def _request(engine: Engine, mail: MailSettings | None) -> CreatedRequest:
    return create_request(
        engine,
        principal(engine, "counselor@d.org"),
        ANA_FOR_ORGA,
        link_base=LINK_BASE,
        compose=compose,
        mail=mail,
        now=NOW,
    )


def _every_stored_text(engine: Engine) -> str:
    """Every value of every table, as text."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return "\n".join(
            " ".join(str(value) for value in row)
            for table in metadata.sorted_tables
            for row in connection.execute(select(table)).all()
        )


def test_each_guardian_receives_the_email_and_its_link_opens_the_release(
    world: Engine, smtp_server: tuple[MailSettings, Inbox]
) -> None:
    settings, inbox = smtp_server
    created = _request(world, settings)
    assert sorted(created.recipients) == [
        ("dad@family.org", "es", True),
        ("mom@family.org", "en", True),
    ]
    received = {message["To"]: message for message in inbox.messages}
    assert set(received) == {"dad@family.org", "mom@family.org"}
    spanish = received["dad@family.org"]
    assert spanish["Subject"] == "[es] Release for Ana to Mentors A"
    assert "pathwise@district.example" in spanish["From"]
    body = spanish.get_content()
    view = open_link(world, token_of(link_in(body)), client="dad", now=NOW)
    assert isinstance(view, LinkView)
    assert (view.recipient_email, view.language, view.request_id) == (
        "dad@family.org",
        "es",
        created.request_id,
    )


def test_a_sent_messages_link_is_blanked_and_the_token_is_nowhere_in_the_database(
    world: Engine, smtp_server: tuple[MailSettings, Inbox]
) -> None:
    settings, inbox = smtp_server
    _request(world, settings)
    tokens = [token_of(link_in(m.get_content())) for m in inbox.messages]
    assert len(tokens) == 2
    with world.connect() as connection:
        rows = connection.execute(select(OUTBOX)).all()
    assert all(row.sent_at is not None and row.error is None for row in rows)
    assert all(LINK_REMOVED in row.body for row in rows)
    stored = _every_stored_text(world)
    for token in tokens:
        assert token not in stored


def test_without_smtp_settings_the_message_waits_in_the_outbox_with_its_link(
    world: Engine,
) -> None:
    created = _request(world, None)
    assert all(sent is False for _, _, sent in created.recipients)
    steward = principal(world, "admin@d.org")
    messages = outbox(world, steward)
    assert sorted(messages["to_address"].to_list()) == ["dad@family.org", "mom@family.org"]
    assert messages["sent"].to_list() == [False, False]
    for body in messages["body"].to_list():
        assert isinstance(open_link(world, token_of(link_in(body)), client="s", now=NOW), LinkView)


def test_a_server_that_cannot_be_reached_leaves_the_message_unsent_with_the_error(
    world: Engine,
) -> None:
    nobody_listens = MailSettings(host="127.0.0.1", port=free_port(), sender="p@d.example")
    created = _request(world, nobody_listens)
    assert all(sent is False for _, _, sent in created.recipients)
    with world.connect() as connection:
        rows = connection.execute(select(OUTBOX)).all()
        request = connection.execute(select(REQUEST)).one()
    assert request.status == "sent"  # the request exists all the same
    assert all(row.sent_at is None and "Connection" in (row.error or "") for row in rows)
    assert all(LINK_BASE in row.body for row in rows)  # kept, for the steward to deliver


class _Accounts:
    """An authenticator accepting one user name and password."""

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"pathwise",
            b"s3cret",
        )
        return AuthResult(success=good, handled=False)


@pytest.fixture
def smtp_with_login() -> Iterator[tuple[MailSettings, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_Accounts(),
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield (
            MailSettings("127.0.0.1", port, "p@d.example", username="pathwise", password="s3cret"),
            inbox,
        )
    finally:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_sender_logs_in_when_a_username_is_configured(
    world: Engine, smtp_with_login: tuple[MailSettings, Inbox]
) -> None:
    settings, inbox = smtp_with_login
    assert all(sent for _, _, sent in _request(world, settings).recipients)
    assert len(inbox.messages) == 2
    wrong = MailSettings(settings.host, settings.port, settings.sender, "pathwise", "wrong")
    assert not any(sent for _, _, sent in _request(world, wrong).recipients)


def test_only_the_steward_reads_the_outbox(world: Engine) -> None:
    _request(world, None)
    with pytest.raises(AccessDenied):
        outbox(world, principal(world, "counselor@d.org"))


def test_smtp_settings_are_read_from_the_secrets() -> None:
    assert mail_settings({}) is None
    assert mail_settings({"smtp": {"host": "mail.d.org", "sender": "p@d.org"}}) == MailSettings(
        "mail.d.org", 25, "p@d.org"
    )
    assert mail_settings(
        {
            "smtp": {
                "host": "mail.d.org",
                "sender": "p@d.org",
                "starttls": True,
                "username": "u",
                "password": "pw",
            }
        }
    ) == MailSettings("mail.d.org", 587, "p@d.org", "u", "pw", True)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"sender": "p@d.org"}, "host"),
        ({"host": "h", "sender": "nobody"}, "sender"),
        ({"host": "h", "sender": "p@d.org", "port": "25"}, "port"),
        ({"host": "h", "sender": "p@d.org", "username": "u"}, "username and password"),
        ({"host": "h", "sender": "p@d.org", "tls": True}, "unknown key"),
    ],
)
def test_unusable_smtp_settings_name_the_key(table: dict[str, object], words: str) -> None:
    with pytest.raises(MailSettingsError, match=words):
        mail_settings({"smtp": table})


def test_an_empty_outbox_still_has_its_columns(world: Engine) -> None:
    messages = outbox(world, principal(world, "admin@d.org"))
    assert messages.height == 0
    assert messages.columns[:3] == ["message_id", "created_at", "to_address"]
    assert str(messages.schema["sent_at"]) == "Datetime(time_unit='us', time_zone='UTC')"
