"""The release page in a real browser (issue 16 part 1): a Spanish-speaking guardian opens
the link of the email the steward's request wrote, reads the release in Spanish, switches to
English and back, and signs; the release is recorded as electronic. Screenshots of the page
in both languages at 1280x720 for the README."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Browser, expect
from sqlalchemy import select, text, update

from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.models import Consent, Guardian, table_of
from data_access.releases import NewRequest, create_request
from domain.releases import ELECTRONIC, ReleaseEmail
from tests.browser.conftest import OIDC_USERS, TODAY, parent_email, screenshot, wait_for_app
from ui.release_text import compose_email


def spanish_link(database_url: str, app_url: str) -> tuple[int, str, str]:
    """A request by the steward for a ninth grader whose guardians read Spanish (not the demo
    parent's child, whose English other tests rely on), to a partner with an active
    agreement, for the categories it covers: the request id, the Spanish link (on this
    app's address) and the student's first name."""
    engine = make_engine(database_url)
    steward = sign_in(engine, OIDC_USERS["steward"], TODAY)
    with engine.begin() as connection:
        org_id, categories = connection.execute(
            text(
                "SELECT o.org_id, a.categories FROM organization o JOIN agreement a "
                "ON a.org_id = o.org_id WHERE o.org_type <> 'district' AND o.service_types <> '' "
                "AND a.effective_date <= :today AND (a.expires_date IS NULL OR "
                "a.expires_date >= :today) ORDER BY o.org_id LIMIT 1"
            ),
            {"today": TODAY},
        ).one()
        student_id, first_name = connection.execute(
            text(
                "SELECT s.student_id, s.first_name FROM student s JOIN guardian g "
                "ON g.student_id = s.student_id WHERE g.guardian_email <> :parent "
                "AND s.grade_level = 9 ORDER BY s.student_id LIMIT 1"
            ),
            {"parent": parent_email(database_url)},
        ).one()
        connection.execute(
            update(table_of(Guardian))
            .where(table_of(Guardian).c.student_id == student_id)
            .values(language="es")
        )
    emails: list[ReleaseEmail] = []

    def compose(mail: ReleaseEmail) -> tuple[str, str]:
        emails.append(mail)
        return compose_email(mail)

    created = create_request(
        engine,
        steward,
        NewRequest(
            student_id=student_id,
            org_id=org_id,
            categories=tuple(c for c in str(categories).split(";") if c),
            purpose="Acompañar a la familia en la solicitud de ayuda para la universidad.",
        ),
        link_base=f"{app_url}/",
        compose=compose,
        mail=None,
    )
    engine.dispose()
    link = next(mail.link for mail in emails if mail.language == "es")
    assert urlsplit(link).netloc == urlsplit(app_url).netloc
    return created.request_id, link, str(first_name)


def test_a_guardian_reads_the_release_in_spanish_and_signs_it(
    browser: Browser, demo_app_url: str, demo_database: str
) -> None:
    request_id, link, first_name = spanish_link(demo_database, demo_app_url)
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(link)
    wait_for_app(page)
    # The link's language wins over the browser's.
    expect(
        page.get_by_role("heading", name="Permiso para compartir el expediente escolar")
    ).to_be_visible()
    expect(page.get_by_text("Qué información", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(first_name))).not_to_have_count(0)
    screenshot(page, "release-page-es-1280x720")

    page.get_by_text("English", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Permission to share school records")).to_be_visible()
    screenshot(page, "release-page-en-1280x720")
    page.get_by_text("Español", exact=True).click()
    wait_for_app(page)
    page.set_viewport_size({"width": 1280, "height": 2300})  # the whole page, form included
    screenshot(page, "release-page-es-full")

    page.get_by_label("Nombre completo de quien firma").fill("Rosa Martínez")
    page.get_by_text("Tutor legal", exact=True).click()
    page.get_by_text(re.compile("^Leí este permiso")).click()
    page.get_by_role("button", name="Firmar").click()
    wait_for_app(page)
    expect(page.get_by_text(re.compile("^Gracias. Desde hoy"))).to_be_visible()
    expect(page.get_by_role("button", name="Firmar")).to_have_count(0)
    page.set_viewport_size({"width": 1280, "height": 720})
    screenshot(page, "release-signed-es-1280x720")
    context.close()

    engine = make_engine(demo_database)
    with engine.connect() as connection:
        consent = connection.execute(
            select(table_of(Consent)).where(table_of(Consent).c.request_id == request_id)
        ).one()
    engine.dispose()
    assert consent.method == ELECTRONIC
    assert consent.signed_by == "Rosa Martínez"
    assert consent.signer_relationship == "guardian"
    assert consent.language == "es"
