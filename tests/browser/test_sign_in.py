"""Sign-in through a real OIDC round trip, and no data for anyone who is not signed in.

The attacks of issue 10 are made for real: a cookie signed with the example secret against
an app configured with it, and ID tokens from the provider saying the email is not verified.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    COOKIE_SECRET,
    DIRECTORY_LEADER,
    OIDC_USERS,
    UNVERIFIED_STEWARD,
    example_cookie_secret,
    forged_identity_cookie,
    sign_in,
    wait_for_app,
)

PAGE_PATHS = ["", "pipeline", "at-risk", "student", "my-record", "admin", "sign-out", "no-access"]
KNOWN_PAGES = ["pipeline", "at-risk", "student", "my-record", "admin"]
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


@pytest.mark.parametrize("path", KNOWN_PAGES)
def test_a_known_page_opened_before_signing_in_asks_to_sign_in_not_page_not_found(
    page: Page, app_url: str, path: str
) -> None:
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    expect(page.get_by_text("Sign in to see this page")).to_be_visible()
    assert "Page not found" not in page.content()


def test_whoever_holds_the_cookie_secret_can_sign_in_as_anyone(
    browser: Browser, app_url: str
) -> None:
    """Why the secret matters: this forging is what the next test refuses."""
    claims = {"email": OIDC_USERS["steward"], "email_verified": True, "exp": time.time() + 3600}
    context = browser.new_context()
    cookie = forged_identity_cookie(COOKIE_SECRET, app_url, claims)
    context.add_cookies([{"name": "_streamlit_user", "value": cookie, "url": app_url}])
    page = context.new_page()
    page.goto(f"{app_url}/admin")
    wait_for_app(page)
    expect(page.get_by_text("Signed in as")).to_be_visible()
    context.close()


def test_a_cookie_forged_with_the_example_secret_opens_nothing(
    browser: Browser, example_secret_app_url: str
) -> None:
    cookie = forged_identity_cookie(
        example_cookie_secret(),
        example_secret_app_url,
        {"email": OIDC_USERS["steward"], "email_verified": True, "exp": time.time() + 3600},
    )
    context = browser.new_context()
    context.add_cookies(
        [{"name": "_streamlit_user", "value": cookie, "url": example_secret_app_url}]
    )
    page = context.new_page()
    for path in ("", "admin"):
        page.goto(f"{example_secret_app_url}/{path}")
        wait_for_app(page)
        expect(page.get_by_text("Sign-in is switched off", exact=False)).to_be_visible()
        expect(page.get_by_text("example value", exact=False)).to_be_visible()
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        expect(page.get_by_role("button", name=re.compile("Sign in with"))).to_have_count(0)
        assert "Administration" not in page.content()
    context.close()


def test_a_cookie_without_exp_signed_with_the_real_secret_is_signed_out(
    browser: Browser, app_url: str
) -> None:
    cookie = forged_identity_cookie(
        COOKIE_SECRET, app_url, {"email": OIDC_USERS["steward"], "email_verified": True}
    )
    context = browser.new_context()
    context.add_cookies([{"name": "_streamlit_user", "value": cookie, "url": app_url}])
    page = context.new_page()
    page.goto(f"{app_url}/admin")
    wait_for_app(page)
    expect(page.get_by_text("Sign in to Pathwise")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    context.close()


def test_an_email_the_provider_marks_unverified_signs_nobody_in(page: Page, app_url: str) -> None:
    sign_in(page, app_url, UNVERIFIED_STEWARD)
    expect(page.get_by_text("You have no access yet")).to_be_visible()
    expect(page.get_by_text("has not confirmed", exact=False)).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def test_an_email_without_email_verified_from_a_trusted_issuer_signs_in(
    page: Page, app_url: str
) -> None:
    sign_in(page, app_url, DIRECTORY_LEADER)
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.get_by_text("Where do our students leave the path?")).to_be_visible()


def demo_sign_in(page: Page, demo_app_url: str, email: str, path: str = "") -> None:
    page.goto(f"{demo_app_url}/{path}")
    wait_for_app(page)
    page.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=re.compile(re.escape(f"({email})"))).click()
    page.get_by_role("button", name="Sign in", exact=True).click()
    wait_for_app(page)


def test_a_demo_user_stays_signed_in_across_a_reload(page: Page, demo_app_url: str) -> None:
    demo_sign_in(page, demo_app_url, OIDC_USERS["leader"])
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Who needs help").click()
    wait_for_app(page)
    expect(page.get_by_text("Who needs help this week?", exact=True)).to_be_visible()
    page.reload()
    wait_for_app(page)
    expect(page.get_by_text("Who needs help this week?", exact=True)).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    assert "Page not found" not in page.content()


def test_a_demo_deep_link_signs_in_onto_that_page(page: Page, demo_app_url: str) -> None:
    page.goto(f"{demo_app_url}/at-risk")
    wait_for_app(page)
    expect(page.get_by_text("Sign in to see this page")).to_be_visible()
    demo_sign_in(page, demo_app_url, OIDC_USERS["counselor"], "at-risk")
    expect(page.get_by_text("Who needs help this week?", exact=True)).to_be_visible()
    assert "Page not found" not in page.content()
