"""The whole path of a release (issue 16, "Done when"), in a real browser, on SQLite and on
PostgreSQL: a counselor asks for a release on the student profile -> a real local SMTP
server (aiosmtpd) receives the Spanish email (the guardian reads Spanish) -> its link opens
the Spanish release page -> the family signs -> the partner sees the student on its next
request -> the parent, signed in, withdraws the release in My record (one confirmation)
-> the partner no longer sees the student.

Each database holds the browser tests' small demo district (`SPEC`, so the OIDC
provider's demo parent is the same person) with the parent's family reading Spanish; the
app runs with `[smtp]` settings naming the local server. Screenshots at 1280x720 (from the
SQLite run) for the README.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import Engine, select, update

from data_access.demo_build import build_demo
from data_access.engine import make_engine
from data_access.identity import sign_in as data_sign_in
from data_access.models import (
    Agreement,
    Consent,
    Enrollment,
    Guardian,
    Organization,
    Student,
    table_of,
)
from data_access.policy import AccessDenied, Principal, agreement_active
from data_access.records import student_record
from domain.releases import ELECTRONIC
from tests.browser.conftest import (
    COOKIE_SECRET,
    SPEC,
    TODAY,
    oidc_secrets,
    open_page,
    parent_email,
    running_app,
    screenshot,
    sign_in,
    wait_for_app,
)
from tests.conftest import _fresh_pg_database
from tests.releases.release_world import Inbox, free_port
from ui.release_requests import SECTION

SENDER = "pathwise@district.example"
FAMILY_VIEW: ViewportSize = {"width": 1280, "height": 720}


@dataclass(frozen=True)
class Walk:
    """A database ready for the walk and the app serving it."""

    name: str
    database_url: str
    app_url: str
    student_id: str
    school_id: str
    org_id: str
    org_name: str
    parent: str
    parent_name: str


@pytest.fixture(scope="module")
def smtp_inbox() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server on a free local port, and what it receives."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def _partner(engine: Engine, org_id: str) -> Principal:
    """The partner's staff member signed in now. Their day is read from the clock at each
    request, as the app reads it, not the suite's start day: a release the app signs
    just after midnight starts on the new day."""
    return data_sign_in(engine, f"staff.{org_id.lower()}@demo.pathwise.example", date.today())


def _sees(engine: Engine, principal: Principal, student_id: str) -> bool:
    """Whether `principal` may read the student's record (a partner's next request)."""
    try:
        student_record(engine, principal, student_id)
    except AccessDenied:
        return False
    return True


def _prepare(url: str) -> tuple[str, str, str, str, str, str]:
    """The demo parent's child (its family now reads Spanish, and the child, a senior, is
    made 16 so that the guardians sign rather than the student: 34 CFR 99.5) and a
    partner with an active agreement that may not see the child yet: (student, school,
    org id, org name, parent's email and name)."""
    parent = parent_email(url)
    engine = make_engine(url)
    guardian, enrollment, student = table_of(Guardian), table_of(Enrollment), table_of(Student)
    organization, agreement = table_of(Organization), table_of(Agreement)
    with engine.begin() as connection:
        student_id, parent_name = connection.execute(
            select(guardian.c.student_id, guardian.c.guardian_name).where(
                guardian.c.guardian_email == parent
            )
        ).one()
        connection.execute(
            update(guardian).where(guardian.c.student_id == student_id).values(language="es")
        )
        connection.execute(
            update(student)
            .where(student.c.student_id == student_id)
            .values(birth_date=TODAY.replace(year=TODAY.year - 16, day=1))
        )
        school_id = connection.execute(
            select(enrollment.c.school_id)
            .where(enrollment.c.student_id == student_id)
            .order_by(enrollment.c.school_year.desc())
            .limit(1)
        ).scalar_one()
        partners = connection.execute(
            select(organization.c.org_id, organization.c.org_name)
            .join(agreement, agreement.c.org_id == organization.c.org_id)
            .where(agreement_active(TODAY), organization.c.org_type != "district")
            .distinct()
            .order_by(organization.c.org_id)
        ).all()
    try:
        for org_id, org_name in partners:
            if not _sees(engine, _partner(engine, org_id), student_id):
                return (
                    str(student_id), str(school_id), str(org_id), str(org_name), parent,
                    parent_name,
                )  # fmt: skip
    finally:
        engine.dispose()
    pytest.fail("every partner already sees the demo parent's child")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def walk(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    oidc_issuer: str,
    demo_database: str,
    smtp_inbox: tuple[int, Inbox],
) -> Iterator[Walk]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('walk-db') / 'walk.db'}"
    else:
        url = _fresh_pg_database(request.getfixturevalue("pg_cluster"))
    engine = make_engine(url)
    build_demo(engine, SPEC)
    engine.dispose()
    student_id, school_id, org_id, org_name, parent, parent_name = _prepare(url)
    # The OIDC provider's "parent" is the shared demo's parent: the same district.
    assert parent == parent_email(demo_database)
    smtp_port, _ = smtp_inbox
    secrets = oidc_secrets(oidc_issuer, COOKIE_SECRET) + f"""
        [smtp]
        host = "127.0.0.1"
        port = {smtp_port}
        sender = "{SENDER}"
        """  # fmt: skip
    directory = tmp_path_factory.mktemp(f"walk-{request.param}")
    with running_app(url, secrets, directory, PATHWISE_DEMO_SIGNIN="0") as app_url:
        yield Walk(
            request.param, url, app_url, student_id, school_id, org_id, org_name, parent,
            parent_name,
        )  # fmt: skip


def _email_to(inbox: Inbox, address: str, seconds: float = 20) -> EmailMessage:
    deadline = time.time() + seconds
    while time.time() < deadline:
        for message in inbox.messages:
            if message["To"] and address in str(message["To"]):
                return message
        time.sleep(0.2)
    pytest.fail(f"no email to {address} reached the SMTP server")


def _shot(walk: Walk, page: Page, name: str) -> None:
    """A README screenshot, from one of the two runs (the pages are the same)."""
    if walk.name == "sqlite":
        screenshot(page, name)


def open_profile(page: Page, student_id: str) -> None:
    """The student's profile by its id, at its release section; typed again if a rerun
    of the page cleared the box before Enter (seen on a slower database)."""
    open_page(page, "Student profile")
    box = page.get_by_label("Student id")
    section = page.get_by_text(SECTION, exact=True)
    for _attempt in range(3):
        box.fill(student_id)
        box.press("Enter")
        wait_for_app(page)
        if section.count():
            break
    expect(section).to_be_visible()


def test_a_family_signs_a_release_in_spanish_and_withdraws_it(
    browser: Browser, walk: Walk, smtp_inbox: tuple[int, Inbox]
) -> None:
    _, inbox = smtp_inbox
    inbox.messages.clear()  # the server outlives one database's walk
    engine = make_engine(walk.database_url)
    partner = _partner(engine, walk.org_id)
    assert not _sees(engine, partner, walk.student_id)

    # A counselor of the student's school asks for a release naming the partner.
    staff = browser.new_context(viewport={"width": 1400, "height": 1000})
    counselor = staff.new_page()
    sign_in(counselor, walk.app_url, f"counselor-{walk.school_id.lower()}")
    open_profile(counselor, walk.student_id)
    organisation = counselor.get_by_role("combobox", name="Organisation")
    if organisation.input_value() != walk.org_name:  # the first partner is preselected
        organisation.click()
        organisation.fill(walk.org_name)
        organisation.press("Enter")
        wait_for_app(counselor)
    expect(organisation).to_have_value(walk.org_name)
    counselor.get_by_role("button", name="Send the request").click()
    wait_for_app(counselor)
    # What happened, said on the profile: emailed to the guardian, in Spanish.
    said = counselor.get_by_test_id("stAlertContainer").filter(has_text=walk.parent)
    expect(said).to_contain_text(f"Emailed to {walk.parent} (Spanish)")
    staff.close()

    # The SMTP server received the email in Spanish, with a link to this app.
    email = _email_to(inbox, walk.parent)
    assert str(email["From"]).endswith(SENDER) or SENDER in str(email["From"])
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Qué información" in text and "Sus derechos" in text
    link = re.search(re.escape(walk.app_url) + r"/\?token=[A-Za-z0-9_\-]+", text)
    assert link is not None, text

    # The family opens the link (no sign-in), reads the release in Spanish and signs.
    family = browser.new_context(locale="en-US", viewport=FAMILY_VIEW)
    page = family.new_page()
    page.goto(link.group(0))
    wait_for_app(page)
    expect(
        page.get_by_role("heading", name="Permiso para compartir el expediente escolar")
    ).to_be_visible()
    expect(page.get_by_text(walk.org_name).first).to_be_visible()
    _shot(walk, page, "walk-1-email-link-es-1280x720")
    page.get_by_label("Nombre completo de quien firma").fill(walk.parent_name)
    page.get_by_text("Madre o padre", exact=True).click()
    page.get_by_text(re.compile("^Leí este permiso")).click()
    page.get_by_role("button", name="Firmar").click()
    wait_for_app(page)
    expect(page.get_by_text(re.compile("^Gracias. Desde hoy"))).to_be_visible()
    _shot(walk, page, "walk-2-signed-es-1280x720")
    family.close()

    consent = table_of(Consent)
    with engine.connect() as connection:
        signed = connection.execute(
            select(consent).where(
                consent.c.student_id == walk.student_id,
                consent.c.org_id == walk.org_id,
                consent.c.method == ELECTRONIC,
            )
        ).one()
    assert signed.language == "es" and signed.signer_relationship == "parent"
    assert signed.signed_by == walk.parent_name and signed.request_id is not None
    # The partner's next request sees the student.
    assert _sees(engine, _partner(engine, walk.org_id), walk.student_id)

    # The parent signs in; My record (in Spanish, the family's language) lists the release.
    home = browser.new_context(locale="en-US", viewport=FAMILY_VIEW)
    page = home.new_page()
    sign_in(page, walk.app_url, "parent")
    expect(page.get_by_role("heading", name="Sus autorizaciones")).to_be_visible()
    withdraw = page.locator(f".st-key-withdraw_{signed.consent_id} button")
    withdraw.scroll_into_view_if_needed()
    _shot(walk, page, "walk-3-my-record-releases-es-1280x720")
    withdraw.click()
    wait_for_app(page)
    expect(page.get_by_text(re.compile("^¿Está seguro?"))).to_be_visible()
    _shot(walk, page, "walk-4-withdraw-confirm-es-1280x720")
    page.locator(f".st-key-confirm_{signed.consent_id} button").click()
    wait_for_app(page)
    expect(
        page.get_by_text(re.compile(f"^Se retiró la autorización para {re.escape(walk.org_name)}"))
    ).to_be_visible()
    _shot(walk, page, "walk-5-withdrawn-es-1280x720")
    home.close()

    with engine.connect() as connection:
        revoked = connection.execute(
            select(consent.c.revoked_date).where(consent.c.consent_id == signed.consent_id)
        ).scalar_one()
    assert revoked is not None
    # The partner's next request no longer sees the student.
    assert not _sees(engine, _partner(engine, walk.org_id), walk.student_id)
    engine.dispose()
