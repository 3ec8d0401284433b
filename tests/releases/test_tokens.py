"""The security of release links (docs/access-rules.md, "Release links").

Each test makes a request for Ana (two guardians: mom@family.org, dad@family.org) at NOW
and reads the tokens from the outbox (no SMTP settings: the messages wait there with
their links), then presents tokens as an attacker or a family would.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update

from data_access.models import (
    AuditEvent,
    Consent,
    OutboxMessage,
    ReleaseRequest,
    ReleaseToken,
    Student,
    TokenFailure,
    table_of,
)
from data_access.releases import (
    LinkRefused,
    LinkView,
    NewRequest,
    cancel_request,
    create_request,
    decline,
    open_link,
    sign,
)
from domain.release_tokens import (
    BACKOFF_BASE,
    FAILURE_WINDOW,
    MAX_FAILURES,
    slow_down_seconds,
    token_hash,
)
from tests.releases.release_world import (
    ANA_FOR_ORGA,
    LINK_BASE,
    NOW,
    build_release_world,
    compose,
    link_in,
    principal,
    token_of,
)

OUTBOX = table_of(OutboxMessage)
REQUEST = table_of(ReleaseRequest)
CONSENT = table_of(Consent)
TOKEN = table_of(ReleaseToken)
FAILURE = table_of(TokenFailure)
AUDIT = table_of(AuditEvent)
LINK_DAYS = 14


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_release_world(engine)
    return engine


def _request(engine: Engine, new: NewRequest = ANA_FOR_ORGA) -> dict[str, str]:
    """Make a request; recipient email -> token (from the unsent outbox messages)."""
    created = create_request(
        engine,
        principal(engine, "counselor@d.org"),
        new,
        link_base=LINK_BASE,
        compose=compose,
        mail=None,
        now=NOW,
    )
    with engine.connect() as connection:
        rows = connection.execute(
            select(OUTBOX.c.to_address, OUTBOX.c.body).where(
                OUTBOX.c.request_id == created.request_id
            )
        ).all()
    return {row.to_address: token_of(link_in(row.body)) for row in rows}


def _sign(engine: Engine, token: str, client: str = "family", **when: object) -> object:
    return sign(
        engine,
        token,
        client=client,
        signed_by="Mom Testcase",
        relationship="parent",
        language="en",
        now=when.get("now", NOW),  # type: ignore[arg-type]
    )


def _alter(token: str, position: int) -> str:
    """The token with one character replaced by another character of the same alphabet."""
    swapped = "B" if token[position] == "A" else "A"
    return token[:position] + swapped + token[position + 1 :]


def test_a_token_is_256_bits_and_only_its_hash_is_stored(world: Engine) -> None:
    token = _request(world)["mom@family.org"]
    assert len(token) >= 43  # secrets.token_urlsafe(32): 32 bytes, base64url
    with world.connect() as connection:
        stored = connection.execute(select(TOKEN.c.token_hash)).scalars().all()
    assert token_hash(token) in stored
    assert token not in stored


def test_a_token_past_its_link_days_is_expired(world: Engine) -> None:
    token = _request(world)["mom@family.org"]
    last_moment = NOW + timedelta(days=LINK_DAYS)
    assert isinstance(open_link(world, token, client="family", now=last_moment), LinkView)
    after = last_moment + timedelta(seconds=1)
    assert open_link(world, token, client="family", now=after) == LinkRefused("expired")
    assert _sign(world, token, now=after) == LinkRefused("expired")


def test_a_used_token_is_refused_as_used(world: Engine) -> None:
    token = _request(world)["mom@family.org"]
    assert _sign(world, token) == "E-1"
    assert open_link(world, token, client="family", now=NOW) == LinkRefused("used")
    assert _sign(world, token) == LinkRefused("used")
    assert decline(world, token, client="family", now=NOW) == LinkRefused("used")
    with world.connect() as connection:
        assert connection.execute(select(CONSENT).where(CONSENT.c.request_id == 1)).all()


def test_a_token_with_one_character_changed_is_unknown(world: Engine) -> None:
    token = _request(world)["mom@family.org"]
    for position in (0, len(token) // 2, len(token) - 1):
        assert open_link(world, _alter(token, position), client=f"c{position}", now=NOW) == (
            LinkRefused("unknown")
        )
    assert isinstance(open_link(world, token, client="family", now=NOW), LinkView)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_altered_token_is_refused(world: Engine, data: st.DataObject) -> None:
    """Hypothesis: any change to a real token (a character replaced, one dropped or one
    added anywhere) is an unknown token, and opens nothing."""
    with world.connect() as connection:
        existing = connection.execute(select(OUTBOX.c.body)).scalars().first()
    token = token_of(link_in(existing)) if existing else _request(world)["mom@family.org"]
    position = data.draw(st.integers(0, len(token) - 1))
    character = data.draw(st.characters(codec="ascii", categories=["L", "N", "P"]))
    altered = data.draw(
        st.sampled_from(
            [
                token[:position] + character + token[position + 1 :],
                token[:position] + token[position + 1 :],
                token[:position] + character + token[position:],
            ]
        )
    )
    if altered == token:
        return
    assert open_link(world, altered, client=str(uuid.uuid4()), now=NOW) == LinkRefused("unknown")


def test_a_token_acts_only_on_its_own_request(world: Engine) -> None:
    """The request acted on comes from the token's row only: Ana's token for ORGA
    signs the ORGA request, never the other one made for ORGC at the same time."""
    for_orga = _request(world)["mom@family.org"]
    for_orgc = _request(world, NewRequest("S1", "ORGC", ("fafsa",), "College"))["mom@family.org"]
    view_a = open_link(world, for_orga, client="family", now=NOW)
    view_c = open_link(world, for_orgc, client="family", now=NOW)
    assert isinstance(view_a, LinkView) and isinstance(view_c, LinkView)
    assert (view_a.request_id, view_a.org_name) == (1, "Mentors A")
    assert (view_c.request_id, view_c.org_name) == (2, "College C")
    assert _sign(world, for_orgc) == "E-2"
    with world.connect() as connection:
        statuses = dict(connection.execute(select(REQUEST.c.request_id, REQUEST.c.status)).all())
    assert statuses == {1: "opened", 2: "signed"}


def test_the_other_guardians_token_is_closed_once_one_signed(world: Engine) -> None:
    tokens = _request(world)
    assert _sign(world, tokens["mom@family.org"]) == "E-1"
    assert open_link(world, tokens["dad@family.org"], client="dad", now=NOW) == LinkRefused(
        "closed"
    )
    assert _sign(world, tokens["dad@family.org"], client="dad") == LinkRefused("closed")
    assert decline(world, tokens["dad@family.org"], client="dad", now=NOW) == LinkRefused("closed")


def test_a_declined_or_cancelled_requests_tokens_are_closed(world: Engine) -> None:
    declined = _request(world)
    assert decline(world, declined["dad@family.org"], client="dad", now=NOW) is None
    assert open_link(world, declined["mom@family.org"], client="mom", now=NOW) == (
        LinkRefused("closed")
    )
    cancelled = _request(world, NewRequest("S1", "ORGC", ("fafsa",), "College"))
    cancel_request(world, principal(world, "counselor@d.org"), 2)
    assert open_link(world, cancelled["mom@family.org"], client="mom", now=NOW) == (
        LinkRefused("closed")
    )


def test_repeated_bad_tokens_slow_the_client_down_even_for_a_valid_token(world: Engine) -> None:
    token = _request(world)["mom@family.org"]
    for attempt in range(MAX_FAILURES):
        moment = NOW + timedelta(seconds=attempt)
        assert open_link(world, f"guess-{attempt}", client="attacker", now=moment) == (
            LinkRefused("unknown")
        )
    last_failure = NOW + timedelta(seconds=MAX_FAILURES - 1)
    wait = int(BACKOFF_BASE.total_seconds())
    slowed = open_link(world, token, client="attacker", now=last_failure + timedelta(seconds=1))
    assert slowed == LinkRefused("slow_down", wait - 1)
    assert _sign(world, token, client="attacker", now=last_failure + timedelta(seconds=1)) == (
        LinkRefused("slow_down", wait - 1)
    )
    # Another client is not slowed by the attacker's failures.
    assert isinstance(open_link(world, token, client="family", now=last_failure), LinkView)
    # After the wait, one more bad token doubles the next wait.
    after_wait = last_failure + timedelta(seconds=wait)
    assert open_link(world, "guess-again", client="attacker", now=after_wait) == (
        LinkRefused("unknown")
    )
    assert open_link(world, token, client="attacker", now=after_wait) == (
        LinkRefused("slow_down", 2 * wait)
    )
    # Once the failures are older than the window, the client is trusted again.
    later = after_wait + FAILURE_WINDOW
    assert isinstance(open_link(world, token, client="attacker", now=later), LinkView)


def test_the_slow_down_doubles_and_is_capped_at_the_window() -> None:
    failures = [NOW + timedelta(seconds=s) for s in range(MAX_FAILURES + 10)]
    last = failures[-1]
    assert slow_down_seconds(failures[: MAX_FAILURES - 1], last) == 0
    base = int(BACKOFF_BASE.total_seconds())
    assert slow_down_seconds(failures[:MAX_FAILURES], failures[MAX_FAILURES - 1]) == base
    assert slow_down_seconds(failures[: MAX_FAILURES + 1], failures[MAX_FAILURES]) == 2 * base
    assert slow_down_seconds(failures, last) == int(FAILURE_WINDOW.total_seconds())


def test_every_use_and_failure_is_audited_without_the_token(world: Engine) -> None:
    tokens = _request(world)
    open_link(world, tokens["mom@family.org"], client="family", now=NOW)
    open_link(world, "a-guess", client="attacker", now=NOW)
    _sign(world, tokens["mom@family.org"])
    open_link(world, tokens["dad@family.org"], client="dad", now=NOW)
    with world.connect() as connection:
        events = connection.execute(
            select(AUDIT).where(AUDIT.c.action.like("release.%")).order_by(AUDIT.c.event_id)
        ).all()
    summary = [
        (e.action, e.user_email, e.outcome, json.loads(e.detail).get("reason")) for e in events
    ]
    assert summary == [
        ("release.open", "mom@family.org", "allowed", None),
        ("release.open", "anonymous", "denied", "unknown"),
        ("release.sign", "mom@family.org", "allowed", None),
        ("release.open", "dad@family.org", "denied", "closed"),
    ]
    for event in events:
        text = " ".join(str(value) for value in event)
        for token in tokens.values():
            assert token not in text
            assert token_hash(token) not in text
        assert "attacker" not in text  # only the hash of the client is kept


@given(
    offsets=st.lists(st.integers(0, 3600), max_size=30),
    later=st.integers(0, 3600),
)
def test_the_slow_down_only_shrinks_as_time_passes_and_never_exceeds_the_window(
    offsets: list[int], later: int
) -> None:
    """Hypothesis, against the rule written out here: no wait below MAX_FAILURES failures
    in the 15 minutes before `now`; never more than the window; and without new
    failures, a later moment never asks for a longer wait."""
    failures = [NOW + timedelta(seconds=s) for s in offsets]
    now = NOW + timedelta(seconds=3600)
    recent = [at for at in failures if now - timedelta(minutes=15) < at <= now]
    wait = slow_down_seconds(failures, now)
    if len(recent) < 5:
        assert wait == 0
    assert 0 <= wait <= 15 * 60
    assert slow_down_seconds(failures, now + timedelta(seconds=later)) <= wait


def test_a_guardians_link_closes_when_the_student_turns_18_before_it_is_used(
    world: Engine,
) -> None:
    """34 CFR 99.5: at 18 the rights, and the release, are the student's own."""
    with world.begin() as connection:
        connection.execute(
            update(table_of(Student))
            .where(table_of(Student).c.student_id == "S1")
            .values(birth_date=date(2008, 11, 30))  # 18 on 2026-11-30, eight days after NOW
        )
    token = _request(world)["mom@family.org"]
    assert isinstance(open_link(world, token, client="mom", now=NOW), LinkView)
    birthday = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert open_link(world, token, client="mom", now=birthday) == LinkRefused("closed")
    assert _sign(world, token, client="mom", now=birthday) == LinkRefused("closed")


def test_failures_older_than_the_window_are_not_kept(world: Engine) -> None:
    open_link(world, "an-old-guess", client="attacker", now=NOW)
    open_link(world, "a-new-guess", client="someone", now=NOW + FAILURE_WINDOW)
    with world.connect() as connection:
        kept = connection.execute(select(FAILURE.c.at)).scalars().all()
    assert kept == [NOW + FAILURE_WINDOW]
