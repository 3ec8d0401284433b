"""The main flows in a real browser, with screenshots of every page for the README."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from data_access.engine import make_engine
from data_access.identity import sign_in as data_sign_in
from data_access.notes import notes_for
from data_access.policy import AccessDenied
from data_access.roster import at_risk_list
from tests.browser.conftest import open_page, screenshot, sign_in, wait_for_app


def shared_student(database_url: str) -> tuple[str, str]:
    """A student (and their school) whom the mentoring partner ORG01 may write notes about."""
    engine = make_engine(database_url)
    partner = data_sign_in(engine, "staff.org01@demo.pathwise.example", date.today())
    rows = at_risk_list(engine, partner).rows.sort("student_id")
    for student_id, school_id in rows.select("student_id", "school_id").iter_rows():
        try:
            notes_for(engine, partner, student_id)
            return str(student_id), str(school_id)
        except AccessDenied:
            continue
    pytest.fail("no student with notes shared with ORG01 in the demo district")


def open_profile(page: Page, student_id: str) -> None:
    open_page(page, "Student profile")
    box = page.get_by_label("Student id")
    box.fill(student_id)
    box.press("Enter")
    wait_for_app(page)


def test_a_counselor_works_the_list_and_writes_a_note_the_partner_reads(
    browser: Browser, app_url: str, demo_database: str
) -> None:
    student_id, school_id = shared_student(demo_database)
    note = f"Browser test note {date.today().isoformat()}: met with the family about attendance."

    counselor = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(counselor, app_url, f"counselor-{school_id.lower()}")
    expect(counselor.get_by_text("Who needs help this week?")).to_be_visible()
    screenshot(counselor, "at-risk-list")
    open_page(counselor, "Pipeline")
    expect(counselor.get_by_text("Where do our students leave the path?")).to_be_visible()
    screenshot(counselor, "pipeline")
    open_profile(counselor, student_id)
    expect(counselor.get_by_text(re.compile(r"How is .* doing"))).to_be_visible()
    screenshot(counselor, "student-profile")
    counselor.get_by_label("Write a note").fill(note)
    counselor.get_by_role("button", name="Add note").click()
    wait_for_app(counselor)
    expect(counselor.get_by_text(note)).to_be_visible()
    counselor.close()

    partner = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(partner, app_url, "partner")
    open_profile(partner, student_id)
    expect(partner.get_by_text(note)).to_be_visible()
    partner.close()


def test_meeting_mode_never_sends_a_student_name_or_id_to_the_browser(
    browser: Browser, app_url: str, demo_database: str
) -> None:
    engine = make_engine(demo_database)
    with engine.connect() as connection:
        people = connection.execute(
            text("SELECT student_id, first_name || ' ' || last_name FROM student")
        ).all()
    leader = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(leader, app_url, "leader")
    leader.goto(f"{app_url}/pipeline?mode=meeting")
    wait_for_app(leader)
    expect(leader.get_by_text("Meeting mode is on")).to_be_visible()
    html = leader.content()
    assert not [sid for sid, _ in people if sid in html]
    assert not [name for _, name in people if name in html]
    screenshot(leader, "meeting-mode")
    leader.close()


def test_screenshots_of_the_remaining_pages(browser: Browser, app_url: str) -> None:
    anonymous = browser.new_page(viewport={"width": 1400, "height": 900})
    anonymous.goto(app_url)
    wait_for_app(anonymous)
    screenshot(anonymous, "sign-in")
    anonymous.close()

    steward = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(steward, app_url, "steward")
    open_page(steward, "Administration")
    expect(steward.get_by_text("Is our data current")).to_be_visible()
    screenshot(steward, "administration")
    steward.close()

    parent = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(parent, app_url, "parent")
    expect(parent.get_by_text("Who has seen this record")).to_be_visible()
    screenshot(parent, "my-record")
    parent.close()

    stranger = browser.new_page(viewport={"width": 1400, "height": 900})
    sign_in(stranger, app_url, "stranger")
    screenshot(stranger, "no-access")
    stranger.close()
