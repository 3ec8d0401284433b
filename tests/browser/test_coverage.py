""" "Where is help missing, and where is it doubled?" in a real browser (issue 14): in
meeting mode on a 1280x720 projector, the heat map is measured as drawn (each text inside
its figure, none under 14 px, the colour bar off the cells, as tests/browser/test_projector.py
does for the pipeline), no student name or id reaches the browser, and the page is
screenshot to docs/screenshots/coverage-meeting-1280x720.png for the README.

The app serves a demo district of the default size (`pathwise demo`), as
tests/browser/test_outcomes.py does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from data_access.demo_build import build_demo
from data_access.engine import make_engine
from demo_district.generate import DemoSpec
from pages.coverage import HEATMAP_TITLE, QUESTION
from tests.browser.conftest import (
    COOKIE_SECRET,
    TODAY,
    oidc_secrets,
    running_app,
    screenshot,
    sign_in,
    wait_for_app,
)
from tests.browser.test_outcomes import assert_charts_read, assert_no_student, scroll_to, students


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo district at its default size, as `make run` builds it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('coverage-db') / 'demo.db'}"
    engine = make_engine(url)
    build_demo(engine, DemoSpec(today=TODAY))
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def app_url(
    default_demo: str, oidc_issuer: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app with real sign-in, serving the default-size demo."""
    secrets = oidc_secrets(oidc_issuer, COOKIE_SECRET)
    with running_app(
        default_demo, secrets, tmp_path_factory.mktemp("secrets"), PATHWISE_DEMO_SIGNIN="0"
    ) as url:
        yield url


def test_where_help_is_missing_reads_on_a_projector_in_meeting_mode(
    browser: Browser, app_url: str, default_demo: str
) -> None:
    people = students(default_demo)
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    sign_in(page, app_url, "leader")
    page.goto(f"{app_url}/coverage?mode=meeting")
    wait_for_app(page)
    expect(page.get_by_text("Meeting mode is on")).to_be_visible()
    expect(page.get_by_text(QUESTION)).to_be_visible()
    expect(page.get_by_text(HEATMAP_TITLE)).to_be_visible()
    assert_charts_read(page, 1)
    assert_no_student(page, people)
    scroll_to(page, "Where is the biggest gap?")
    screenshot(page, "coverage-meeting-1280x720")
    page.close()
