"""One-click referral from "Who could help" in a real browser (issue 14, part 3).

A counselor signs in through the real OIDC provider, opens the profile of a student of
their school with a suggested partner that has no active release naming it for the
student, sees "Who could help", clicks "Refer to <partner>", reads the confirmation
("waiting for a release": the partner learns nothing until the family signs), sees the
suggestion say so instead of offering a second referral, and finds the referral under
Referrals with its path. The profile is screenshot to
docs/screenshots/profile-suggestions.png for the README.

The app serves its own copy of the browser tests' demo district (the test writes a
referral), with capacity for every partner at every school (`tests/capacity_rows.py`)
so that each flagged student has a partner to suggest. Which student and partner are
used is read from `data_access` with the same counselor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import polars as pl
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from data_access.demo_build import build_demo
from data_access.engine import make_engine
from data_access.identity import sign_in as data_sign_in
from data_access.models import Consent, Referral, table_of
from data_access.policy import consent_active
from data_access.roster import at_risk_list
from data_access.suggestions import suggested_partners
from indicators.suggestions import SUGGESTED
from tests.browser.conftest import (
    COOKIE_SECRET,
    OIDC_USERS,
    SCREENSHOTS,
    SPEC,
    TODAY,
    oidc_secrets,
    running_app,
    sign_in,
    wait_for_app,
)
from tests.browser.test_flows import open_profile
from tests.browser.test_outcomes import scroll_to
from tests.capacity_rows import add_capacity


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The browser tests' demo district with capacity everywhere, in a file of its own."""
    url = f"sqlite:///{tmp_path_factory.mktemp('suggestions-db') / 'demo.db'}"
    engine = make_engine(url)
    build_demo(engine, SPEC)
    add_capacity(engine, TODAY)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def app_url(
    district: str, oidc_issuer: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app with real sign-in, serving that district."""
    secrets = oidc_secrets(oidc_issuer, COOKIE_SECRET)
    with running_app(
        district, secrets, tmp_path_factory.mktemp("secrets"), PATHWISE_DEMO_SIGNIN="0"
    ) as url:
        yield url


def unreleased_suggestion(database_url: str) -> dict[str, str]:
    """A student on the counselor's list whose first suggestion (as the profile shows it)
    is a partner without an active release naming it for the student, and not referred
    to it yet: student_id, org_id, org_name."""
    engine = make_engine(database_url)
    try:
        counselor = data_sign_in(engine, OIDC_USERS["counselor"], TODAY)
        listed = at_risk_list(engine, counselor).rows["student_id"].to_list()
        result = suggested_partners(engine, principal=counselor, student_ids=listed)
        consent, referral = table_of(Consent), table_of(Referral)
        with engine.connect() as connection:
            released = {
                tuple(r)
                for r in connection.execute(
                    select(consent.c.student_id, consent.c.org_id).where(consent_active(TODAY))
                )
            }
            referred = {
                tuple(r)
                for r in connection.execute(select(referral.c.student_id, referral.c.org_id))
            }
    finally:
        engine.dispose()
    firsts = (
        result.partners.filter(pl.col("status") == SUGGESTED)
        .unique("student_id", keep="first", maintain_order=True)
        .sort("student_id")
    )
    for row in firsts.iter_rows(named=True):
        pair = (row["student_id"], row["org_id"])
        if pair not in released and pair not in referred:
            return {k: str(row[k]) for k in ("student_id", "org_id", "org_name")}
    pytest.fail("no student of HS01 with a suggested partner lacking a release in the demo")


def test_a_counselor_refers_a_student_to_a_suggested_partner_in_one_click(
    browser: Browser, app_url: str, district: str
) -> None:
    chosen = unreleased_suggestion(district)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, app_url, "counselor")
    open_profile(page, chosen["student_id"])
    expect(page.get_by_role("heading", name=re.compile(r"^How is .* doing"))).to_be_visible(
        timeout=30000
    )
    expect(page.get_by_role("heading", name="Who could help")).to_be_visible(timeout=30000)

    refer = page.get_by_role("button", name=f"Refer to {chosen['org_name']}").first
    # As long as the headings above: under load the suggestions' buttons arrived after
    # expect's 5 s default once (the rest of the profile was on screen).
    expect(refer).to_be_visible(timeout=30000)
    refer.click()
    wait_for_app(page)

    confirmation = page.get_by_text(f"Referral sent to {chosen['org_name']}.")
    expect(confirmation).to_be_visible(timeout=30000)
    expect(confirmation).to_contain_text("waiting for a release")
    # No second referral is offered to the same partner; the suggestion says where it stands.
    expect(page.get_by_role("button", name=f"Refer to {chosen['org_name']}")).to_have_count(0)
    expect(
        page.get_by_text(re.compile(r"^Referred \w{3} \d{2}: waiting for a release$")).first
    ).to_be_visible()
    # The grid mounts its accessible table once it has drawn, on screen.
    page.get_by_role("heading", name="Referrals").evaluate(
        "(el) => el.scrollIntoView({block: 'start'})"
    )
    referrals = page.get_by_test_id("stDataFrame").filter(
        has=page.locator("[role='columnheader']", has_text="What happened since")
    )
    expect(referrals).to_be_visible(timeout=15000)
    row = referrals.locator("[role='row']").filter(
        has=page.locator("[role='gridcell']", has_text=chosen["org_name"])
    )
    expect(row.first).to_contain_text("waiting for a release", timeout=15000)
    expect(row.first).to_contain_text(re.compile(r"referred \w{3} \d{2} → waiting for a release"))

    scroll_to(page, "Who could help")
    # The viewport as the counselor sees it (conftest's `screenshot` waits on every grid
    # in view, and the profile's empty ones never mount a header).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "profile-suggestions.png"))
    page.close()
