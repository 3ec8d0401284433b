"""The demo district's release requests (issue 16, "Done when"): requests in every state,
electronic releases, Spanish- and English-speaking families, and emails waiting in the
outbox whose links open; made through the real API on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import polars as pl
import pytest
from sqlalchemy import Engine, select

from data_access.demo_build import DemoSummary, build_demo
from data_access.demo_releases import DEMO_LINK_BASE, PAPER_RELEASES, PER_STATE, STEWARD
from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.mail import outbox
from data_access.models import Consent, Guardian, ReleaseRequest, table_of
from data_access.release_overview import request_counts
from data_access.releases import LinkView, open_link, requests
from demo_district.generate import DemoSpec
from domain.release_tokens import TOKEN_PARAMETER
from domain.releases import ELECTRONIC, PAPER, SIGNED, STATES
from tests.conftest import _fresh_pg_database
from ui.release_text import compose_email

TODAY = date(2026, 11, 22)
SMALL = DemoSpec(students=400, seed=7, today=TODAY)
#: The moment the tests look at the demo: its date, after the build's answers.
NOW = datetime.combine(TODAY, time(15), UTC)
LINK = re.compile(re.escape(DEMO_LINK_BASE) + r"\?" + TOKEN_PARAMETER + r"=[A-Za-z0-9_\-]+")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, DemoSummary]]:
    """A small demo district with its release requests, built once per database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo-releases') / 'demo.db'}"
    else:
        url = _fresh_pg_database(request.getfixturevalue("pg_cluster"))
    engine = make_engine(url)
    summary = build_demo(engine, SMALL, compose=compose_email)
    yield engine, summary
    engine.dispose()


def test_the_demo_holds_release_requests_in_every_state(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    steward = sign_in(engine, STEWARD, TODAY)
    counts = (
        request_counts(engine, steward, now=NOW).group_by("state").agg(pl.col("requests").sum())
    )
    by_state = dict(zip(counts["state"], counts["requests"], strict=True))
    assert summary.releases is not None
    made = summary.releases
    assert set(by_state) == set(STATES)
    for state in STATES:
        assert by_state[state] > 0, state
        assert len(made.by_state[state]) <= PER_STATE
    # The paper releases are signed requests too.
    assert by_state[SIGNED] == len(made.by_state[SIGNED]) + len(made.paper)
    assert len(made.paper) == PAPER_RELEASES
    assert sum(by_state.values()) == made.requests


def test_the_signed_requests_are_electronic_releases_in_the_familys_language(
    demo: tuple[Engine, DemoSummary],
) -> None:
    engine, summary = demo
    assert summary.releases is not None
    electronic = summary.releases.by_state[SIGNED]
    consent, request, guardian = table_of(Consent), table_of(ReleaseRequest), table_of(Guardian)
    with engine.connect() as connection:
        rows = connection.execute(
            select(consent.c.request_id, consent.c.method, consent.c.language, consent.c.org_id)
            .where(consent.c.request_id.is_not(None))
            .order_by(consent.c.request_id)
        ).all()
        languages = {
            r.request_id: {r.language or "en"}
            for r in connection.execute(
                select(request.c.request_id, guardian.c.language).join(
                    guardian, guardian.c.student_id == request.c.student_id
                )
            )
        }
    methods = {r.request_id: r.method for r in rows}
    assert {i for i, m in methods.items() if m == ELECTRONIC} == set(electronic)
    assert {i for i, m in methods.items() if m == PAPER} == set(summary.releases.paper)
    for row in rows:
        assert row.language in languages[row.request_id]


def test_families_are_asked_in_spanish_and_in_english_by_counselors_and_the_steward(
    demo: tuple[Engine, DemoSummary],
) -> None:
    engine, _ = demo
    steward = sign_in(engine, STEWARD, TODAY)
    messages = outbox(engine, steward)
    assert set(messages["language"]) == {"en", "es"}
    requesters = set(requests(engine, steward)["requested_by"])
    assert STEWARD in requesters
    assert any(r.startswith("counselor.") for r in requesters)


def test_an_unsent_outbox_message_holds_a_link_that_opens_the_release(
    demo: tuple[Engine, DemoSummary],
) -> None:
    engine, summary = demo
    assert summary.releases is not None
    steward = sign_in(engine, STEWARD, TODAY)
    messages = outbox(engine, steward)
    assert not messages["sent"].any()  # the demo has no SMTP settings
    waiting = messages.filter(
        pl.col("request_id").is_in(summary.releases.by_state["sent"]) & (pl.col("language") == "es")
    )
    assert waiting.height > 0
    message = waiting.row(0, named=True)
    link = LINK.search(message["body"])
    assert link is not None
    token = link.group(0).split(f"{TOKEN_PARAMETER}=", 1)[1]
    view = open_link(engine, token, client="test", now=NOW)
    assert isinstance(view, LinkView)
    assert view.request_id == message["request_id"]
    assert view.language == "es"
    assert view.recipient_email == message["to_address"]


def test_the_same_spec_makes_the_same_requests(
    demo: tuple[Engine, DemoSummary], tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine, summary = demo
    other = make_engine(f"sqlite:///{tmp_path_factory.mktemp('again') / 'demo.db'}")
    again = build_demo(other, SMALL, compose=compose_email)
    assert again.releases == summary.releases  # the same requests answered the same way
    # (not the states read back: another test opens a link)
    columns = ["student_id", "org_id", "categories", "purpose", "requested_by", "requested_at"]

    def made(database: Engine) -> pl.DataFrame:
        steward = sign_in(database, STEWARD, TODAY)
        return requests(database, steward).select(columns).sort(columns)

    try:
        assert made(engine).equals(made(other))
    finally:
        other.dispose()
