"""The staff side of release requests in a real browser (issue 16 part 1).

A counselor signs in through the real OIDC provider, opens the profile of a student of
their caseload with a guardian on file, sends "Ask the family for a release" with what
the form proposes, and reads that the email waits in the outbox (the app has no SMTP
settings, as in the demo). The data steward then finds the message marked NOT SENT under
Administration, "Outbox and paper releases". Screenshots of both go to /tmp (to look at),
not to the README.

The app serves its own copy of the browser tests' demo district (the test writes a
request).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from data_access.engine import make_engine
from tests.browser.conftest import (
    COOKIE_SECRET,
    OIDC_USERS,
    oidc_secrets,
    running_app,
    sign_in,
    wait_for_app,
)
from tests.browser.test_flows import open_profile
from ui.release_requests import SECTION, SEND_LABEL

SHOTS = Path("/tmp/pathwise-release-staff")


@pytest.fixture(scope="module")
def district(demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    copy = tmp_path_factory.mktemp("release-staff-db") / "demo.db"
    shutil.copy2(Path(demo_database.removeprefix("sqlite:///")), copy)
    return f"sqlite:///{copy}"


@pytest.fixture(scope="module")
def app_url(
    district: str, oidc_issuer: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    secrets = oidc_secrets(oidc_issuer, COOKIE_SECRET)
    with running_app(
        district, secrets, tmp_path_factory.mktemp("secrets"), PATHWISE_DEMO_SIGNIN="0"
    ) as url:
        yield url


def caseload_student(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as connection:
        student_id = connection.execute(
            text(
                "SELECT c.student_id FROM caseload c JOIN student s ON s.student_id = c.student_id "
                "JOIN guardian g ON g.student_id = s.student_id "
                "WHERE c.user_email = :who AND s.grade_level < 12 ORDER BY c.student_id LIMIT 1"
            ),
            {"who": OIDC_USERS["counselor"]},
        ).scalar_one()
    engine.dispose()
    return str(student_id)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait_for_app(page)
    page.mouse.move(1, 1)
    page.wait_for_timeout(400)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def section(page: Page, name: str) -> None:
    """Choose an Administration section (st.segmented_control)."""
    page.get_by_text(name, exact=True).first.click()
    wait_for_app(page)


def test_a_counselor_asks_a_family_and_the_steward_finds_the_message_in_the_outbox(
    browser: Browser, app_url: str, district: str
) -> None:
    student_id = caseload_student(district)
    counselor = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(counselor, app_url, "counselor")
    open_profile(counselor, student_id)
    heading = counselor.get_by_role("heading", name=SECTION)
    heading.scroll_into_view_if_needed()
    expect(counselor.get_by_label("Purpose")).not_to_be_empty()
    heading.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    shot(counselor, "profile-request-form")
    counselor.get_by_role("button", name=SEND_LABEL).click()
    wait_for_app(counselor)
    said = counselor.get_by_text(re.compile("waiting in the outbox for the data steward"))
    expect(said).to_be_visible()
    expect(counselor.get_by_role("button", name="Print this release")).to_be_visible()
    counselor.get_by_role("heading", name=SECTION).evaluate(
        "(el) => el.scrollIntoView({block: 'start'})"
    )
    shot(counselor, "profile-request-sent")
    counselor.close()

    steward = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(steward, app_url, "steward")
    steward.get_by_test_id("stSidebarNav").get_by_role("link", name="Administration").click()
    wait_for_app(steward)
    shot(steward, "admin-start")
    section(steward, "Outbox and paper releases")
    wait_for_app(steward)
    expect(steward.get_by_text("NOT SENT").first).to_be_visible()
    steward.get_by_role("heading", name="The outbox").evaluate(
        "(el) => el.scrollIntoView({block: 'start'})"
    )
    shot(steward, "admin-outbox")
    section(steward, "Release requests")
    wait_for_app(steward)
    expect(steward.get_by_text("Served or referred without a release")).to_be_visible()
    steward.get_by_text("Served or referred without a release").evaluate(
        "(el) => el.scrollIntoView({block: 'start'})"
    )
    shot(steward, "admin-release-requests")
    steward.close()
