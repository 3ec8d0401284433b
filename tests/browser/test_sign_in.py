"""Sign-in through a real OIDC round trip, and no data for anyone who is not signed in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in, wait_for_app

PAGE_PATHS = ["", "pipeline", "at-risk", "student", "my-record", "admin", "sign-out", "no-access"]
SENSITIVE = ["DEMO DATA", "Grade", "absence", "S100"]  # any of these means a page rendered


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_an_anonymous_deep_link_shows_the_sign_in_page_and_no_data(
    page: Page, app_url: str, path: str
) -> None:
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    expect(page.get_by_text("Sign in to Pathwise")).to_be_visible()
    html = page.content()
    assert "S100" not in html  # no student id of the demo district
    assert "Testcase" not in html


def test_a_counselor_signs_in_through_the_identity_provider(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "counselor")
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.get_by_text("Sign in to Pathwise")).to_have_count(0)


def test_an_unknown_email_gets_the_no_access_page(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "stranger")
    expect(page.get_by_text("You have no access yet")).to_be_visible()
    expect(page.get_by_text("ask your data steward", exact=False).first).to_be_visible()


def test_a_signed_in_deep_link_opens_that_page(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "leader")
    for path, title in (
        ("pipeline", "Where do our students leave the path?"),
        ("at-risk", "Who needs help this week?"),
    ):
        page.goto(f"{app_url}/{path}")
        wait_for_app(page)
        expect(page.get_by_text(title)).to_be_visible()
        assert "Page not found" not in page.content()
