"""The public release page (pages/release_sign.py) through the whole app (app.py routes any
address carrying a release token to it, before sign-in), on the small world: a request made
by the steward with `ui.release_text.compose_email`, its link opened by nobody signed in,
signed or declined in English and Spanish; a bad link refused without a word about a student.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, select, update
from streamlit.testing.v1 import AppTest

from data_access import schema
from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.models import (
    Consent,
    Guardian,
    ReleaseRequest,
    ReleaseToken,
    Student,
    table_of,
)
from data_access.releases import NewRequest, create_request
from domain.release_tokens import MAX_FAILURES, TOKEN_PARAMETER
from domain.releases import DECLINED, ELECTRONIC, SIGNED, ReleaseEmail
from tests.app.conftest import APP
from tests.worlds import TODAY, build_small_world
from ui.i18n import CHOICE_KEY, translations
from ui.release_text import CATEGORY_WORDS, category_name, compose_email

PURPOSE = "To plan Ana's FAFSA help with her family."


@dataclass
class World:
    engine: Engine
    url: str


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'pathwise.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    build_small_world(engine)
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.delenv("PATHWISE_DEMO_SIGNIN", raising=False)
    yield World(engine, url)
    engine.dispose()


def request_link(world: World, *, language: str = "en") -> tuple[int, str]:
    """The steward asks Ana's mother (language on file: `language`) to release Ana's FAFSA
    status to College C; the request's id and the token of the link in the email."""
    with world.engine.begin() as connection:
        connection.execute(
            update(table_of(Guardian))
            .where(table_of(Guardian).c.student_id == "S1")
            .values(language=language)
        )
    emails: list[ReleaseEmail] = []

    def compose(mail: ReleaseEmail) -> tuple[str, str]:
        emails.append(mail)
        return compose_email(mail)

    created = create_request(
        world.engine,
        sign_in(world.engine, "admin@d.org", TODAY),
        NewRequest(student_id="S1", org_id="ORGC", categories=("fafsa",), purpose=PURPOSE),
        link_base="http://localhost:8501/",
        compose=compose,
        mail=None,
    )
    assert [mail.language for mail in emails] == [language]
    token = parse_qs(urlsplit(emails[0].link).query)[TOKEN_PARAMETER][0]
    return created.request_id, token


def open_page(token: str, **state: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.query_params[TOKEN_PARAMETER] = token
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    """Every text the page shows (titles, paragraphs, alerts, widget labels)."""
    parts = [e.value for e in (*at.title, *at.subheader, *at.markdown, *at.text, *at.caption)]
    parts += [e.value for e in (*at.success, *at.warning, *at.error, *at.info)]
    parts += [w.label for w in (*at.button, *at.text_input, *at.checkbox, *at.radio)]
    return unescaped("\n".join(str(p) for p in parts))


def unescaped(markdown: str) -> str:
    """Markdown as the reader sees it: `ui.text.md` escapes every punctuation mark."""
    return re.sub(r"\\(.)", r"\1", markdown)


def successes(at: AppTest) -> str:
    return unescaped("\n".join(s.value for s in at.success))


def said(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def sign(at: AppTest, name: str, relationship: str = "parent") -> AppTest:
    at.text_input[0].input(name)
    at.radio[0].set_value(relationship)
    at.checkbox[0].check()
    sign_button = next(b for b in at.button if b.label == said(at_language(at))("Sign"))
    sign_button.click().run()
    assert not at.exception, at.exception
    return at


def at_language(at: AppTest) -> str:
    return str(at.segmented_control[0].value)


def consent_of(world: World, request_id: int) -> dict[str, object] | None:
    with world.engine.connect() as connection:
        row = connection.execute(
            select(table_of(Consent)).where(table_of(Consent).c.request_id == request_id)
        ).first()
    return dict(row._mapping) if row is not None else None


def status_of(world: World, request_id: int) -> str:
    with world.engine.connect() as connection:
        return str(
            connection.execute(
                select(table_of(ReleaseRequest).c.status).where(
                    table_of(ReleaseRequest).c.request_id == request_id
                )
            ).scalar_one()
        )


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_family_opens_its_link_reads_the_three_elements_and_signs(
    world: World, language: str
) -> None:
    request_id, token = request_link(world, language=language)
    _ = said(language)
    at = open_page(token)
    assert at_language(at) == language
    page = shown(at)
    assert _("Permission to share school records") in [t.value for t in at.title]
    for heading in ("Which records", "Why (in the words of the request)", "With whom"):
        assert _(heading) in page
    assert _(CATEGORY_WORDS["fafsa"]) in page
    assert PURPOSE in [t.value for t in at.text]
    assert "College C" in page and _("help applying to college") in page
    assert "Ana" in page and "Testcase" not in page  # the first name only

    sign(at, "Mom Testcase")
    end = successes(at)
    assert "College C" in end and category_name("fafsa", language) in end
    assert _("Sign") not in [b.label for b in at.button]  # no way back to the form
    consent = consent_of(world, request_id)
    assert consent is not None
    assert consent["method"] == ELECTRONIC
    assert consent["signed_by"] == "Mom Testcase"
    assert consent["signer_relationship"] == "parent"
    assert consent["language"] == language
    assert status_of(world, request_id) == SIGNED

    at.run()  # a rerun of the same session still says thank you
    assert "College C" in successes(at)
    again = open_page(token)  # a new visit: the link is used
    assert "Ana" not in shown(again) and "College C" not in shown(again)


def test_the_switch_turns_the_page_to_the_other_language_and_the_session_keeps_it(
    world: World,
) -> None:
    _request_id, token = request_link(world, language="es")
    at = open_page(token)
    assert said("es")("Which records") in shown(at)
    at.segmented_control[0].set_value("en").run()
    assert "Which records" in shown(at)
    assert at.session_state[CHOICE_KEY] == "en"
    at.run()
    assert "Which records" in shown(at)


def test_signing_needs_a_name_and_the_confirmation(world: World) -> None:
    request_id, token = request_link(world)
    at = open_page(token)
    at.text_input[0].input("Mom Testcase")
    next(b for b in at.button if b.label == "Sign").click().run()
    assert at.error and consent_of(world, request_id) is None
    assert status_of(world, request_id) != SIGNED


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_family_declines_with_one_confirmation(world: World, language: str) -> None:
    request_id, token = request_link(world, language=language)
    _ = said(language)
    at = open_page(token)
    next(b for b in at.button if b.label == _("Say no (decline)")).click().run()
    assert status_of(world, request_id) != DECLINED  # not before the confirmation
    next(b for b in at.button if b.label == _("Yes, say no")).click().run()
    assert not at.exception, at.exception
    assert status_of(world, request_id) == DECLINED
    assert consent_of(world, request_id) is None
    assert "College C" in successes(at)
    assert not at.text_input and _("Say no (decline)") not in [b.label for b in at.button]


@pytest.mark.parametrize("token", ["not-a-token", "", "x" * 43])
def test_a_bad_link_is_refused_without_a_word_about_any_student(world: World, token: str) -> None:
    request_link(world)
    at = open_page(token)
    page = shown(at)
    assert at.warning
    for secret in ("Ana", "Testcase", "College C", "First High", PURPOSE):
        assert secret not in page
    assert not at.text_input and not at.checkbox


def test_a_signed_in_user_opening_a_link_gets_only_the_release_page(world: World) -> None:
    _request_id, token = request_link(world)
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": True, "email": "counselor@d.org", "email_verified": True}
    at.query_params[TOKEN_PARAMETER] = token
    at.run()
    assert not at.exception, at.exception
    assert "Which records" in shown(at)


def test_names_and_purpose_from_the_data_are_shown_as_text_never_as_markup(
    world: World,
) -> None:
    from data_access.models import Organization

    hostile_org = "**Bold** [click](http://evil.example) <b>C</b>"
    with world.engine.begin() as connection:
        connection.execute(
            update(table_of(Organization))
            .where(table_of(Organization).c.org_id == "ORGC")
            .values(org_name=hostile_org)
        )
    _request_id, token = request_link(world)
    at = open_page(token)
    assert hostile_org in shown(at)  # the reader sees the name as it is
    rendered = "\n".join(str(m.value) for m in at.markdown)
    assert "**Bold**" not in rendered and "[click](http" not in rendered
    assert "<b>" not in rendered


def refusal(at: AppTest) -> str:
    return unescaped("\n".join(w.value for w in at.warning))


def test_a_used_link_says_so_in_plain_words_and_nothing_about_the_student(world: World) -> None:
    _request_id, token = request_link(world, language="es")
    sign(open_page(token), "Mom Testcase")
    again = open_page(token)
    # A refused link tells nothing, not even its language: the browser's (none here) is used.
    assert refusal(again).startswith("This link has already been used")
    spanish = open_page(token, **{CHOICE_KEY: "es"})  # a family that chose Spanish
    assert refusal(spanish).startswith("Este enlace ya se usó")
    assert "Ana" not in shown(again) and "College C" not in shown(again)


def test_an_expired_link_says_so_and_nothing_about_the_student(world: World) -> None:
    request_id, token = request_link(world)
    with world.engine.begin() as connection:
        connection.execute(
            update(table_of(ReleaseToken))
            .where(table_of(ReleaseToken).c.request_id == request_id)
            .values(expires_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
    at = open_page(token)
    assert refusal(at).startswith("This link has expired")
    assert "Ana" not in shown(at) and "College C" not in shown(at)


def test_after_repeated_bad_links_even_a_good_one_is_refused_with_a_wait(world: World) -> None:
    _request_id, token = request_link(world)
    at = open_page("bad-0")
    for attempt in range(1, MAX_FAILURES + 1):
        at.query_params[TOKEN_PARAMETER] = f"bad-{attempt}"
        at.run()
    at.query_params[TOKEN_PARAMETER] = token
    at.run()
    assert not at.exception, at.exception
    assert "Please wait" in refusal(at)
    assert "Ana" not in shown(at) and not at.text_input


def test_an_eligible_student_signs_their_own_release_as_the_student(world: World) -> None:
    """Eli is 18 (34 CFR 99.5): the link is his own, the page speaks to him, and the only
    relationship offered is the student's."""
    with world.engine.begin() as connection:
        connection.execute(
            update(table_of(Student))
            .where(table_of(Student).c.student_id == "S5")
            .values(birth_date=date(2008, 11, 1))
        )
    emails: list[ReleaseEmail] = []

    def compose(mail: ReleaseEmail) -> tuple[str, str]:
        emails.append(mail)
        return compose_email(mail)

    created = create_request(
        world.engine,
        sign_in(world.engine, "admin@d.org", TODAY),
        NewRequest(student_id="S5", org_id="ORGC", categories=("fafsa",), purpose="College"),
        link_base="http://localhost:8501/",
        compose=compose,
        mail=None,
    )
    token = parse_qs(urlsplit(emails[0].link).query)[TOKEN_PARAMETER][0]
    at = open_page(token)
    assert "your school records" in shown(at)
    assert at.radio[0].options == ["The student (18 or older)"]
    sign(at, "Eli Testcase", "eligible_student")
    assert "these records of yours" in successes(at)
    consent = consent_of(world, created.request_id)
    assert consent is not None and consent["signer_relationship"] == "eligible_student"
