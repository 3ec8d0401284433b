""" "Is it working?" in a real browser (issue 13): in meeting mode at the two common projector
modes, every chart is measured as drawn (each text inside its figure, none under 14 px, the
legend off the data, as tests/browser/test_projector.py does for the pipeline), no student
name or id reaches the browser, and a newcomer answers "is Every Day Counts helping?" in two
clicks from signing in. Screenshots go to docs/screenshots/outcomes-*.png for the README.

The app serves a demo district of the default size (`pathwise demo`), where the demo's
programs have enough students for estimates (docs/demo-district.md): the list must draw its
effect chart and Every Day Counts' page its month-by-month chart, protected in meeting
mode; which programs are drawn is read from `data_access.api` with the same user.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from data_access import api
from data_access.demo_build import build_demo
from data_access.engine import make_engine
from demo_district.generate import DemoSpec
from domain.presentation import ESTIMATED_VERDICTS, MIN_TEXT_PX, OUTCOME_LABELS
from pages.outcomes import QUESTION, default_year
from tests.browser.conftest import (
    COOKIE_SECRET,
    OIDC_USERS,
    TODAY,
    oidc_secrets,
    open_page,
    running_app,
    screenshot,
    sign_in,
    wait_for_app,
)
from tests.browser.test_projector import MEASURE, inside, overlap

EVERY_DAY_COUNTS = "ORG05"
PROGRAM_LINK = re.compile(r"^Every Day Counts")


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo district at its default size, as `make run` builds it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('outcomes-db') / 'demo.db'}"
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


@pytest.fixture
def database(default_demo: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`data_access.api` reading the database the app serves."""
    monkeypatch.setenv("PATHWISE_DATABASE_URL", default_demo)
    yield default_demo


def leader(*, meeting: bool) -> api.Principal:
    signed_in = api.sign_in(OIDC_USERS["leader"], TODAY)
    return signed_in.in_meeting_mode() if meeting else signed_in


def effect_charts_expected(principal: api.Principal) -> int:
    """1 when the list's first outcome (the one shown first) has an effect to draw in the
    school year the page opens on."""
    year = default_year(api.program_outcomes(principal))
    rows = api.program_outcomes(principal, school_year=year).rows
    first = next(m for m in OUTCOME_LABELS if m in set(rows["measure"]))
    drawable = rows.filter(
        (pl.col("measure") == first)
        & pl.col("verdict").is_in(ESTIMATED_VERDICTS)
        & pl.all_horizontal(pl.col("effect", "ci_low", "ci_high").is_not_null())
    )
    return 1 if drawable.height else 0


def trajectory_charts_expected(principal: api.Principal) -> int:
    """1 when Every Day Counts' attendance program, in the year the page opens on, has a
    month to draw."""
    year = default_year(api.program_outcomes(principal))
    detail = api.program_detail(
        principal, school_year=year, org_id=EVERY_DAY_COUNTS, service_type="attendance"
    )
    trajectory = detail.trajectory
    return 1 if trajectory.height and trajectory["absence_rate"].is_not_null().any() else 0


def students(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        people = connection.execute(
            text("SELECT student_id, first_name || ' ' || last_name FROM student")
        ).all()
    engine.dispose()
    return [(str(sid), str(name)) for sid, name in people]


def assert_charts_read(page: Page, expected: int) -> list[dict[str, Any]]:
    # Plotly lays out after the script has finished, later still on a busy machine.
    charts: list[dict[str, Any]] = []
    for _ in range(30):
        page.wait_for_timeout(500)
        charts = page.evaluate(MEASURE)
        if len(charts) >= expected:
            break
    assert len(charts) == expected
    for chart in charts:
        for label in chart["texts"]:
            assert inside(label["box"], chart["figure"]), (label["text"], "is cut off")
            assert label["size"] >= MIN_TEXT_PX, (label["text"], label["size"])
        if chart["legend"] and chart["area"] and chart["legend"]["width"] > 0:
            assert not overlap(chart["legend"], chart["area"]), "legend over the data"
    return charts


def assert_no_student(page: Page, people: list[tuple[str, str]]) -> None:
    html = page.content()
    assert not [sid for sid, _ in people if sid in html]
    assert not [name for _, name in people if name in html]


def scroll_to(page: Page, words: str) -> None:
    target = page.get_by_text(words).first
    if target.count():
        target.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.mouse.move(1, 1)  # no hover: Plotly's toolbar shows only under the pointer
    page.wait_for_timeout(500)


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)])
def test_is_it_working_reads_on_a_projector_in_meeting_mode(
    browser: Browser, app_url: str, database: str, width: int, height: int
) -> None:
    people = students(database)
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, app_url, "leader")
    page.goto(f"{app_url}/outcomes?mode=meeting")
    wait_for_app(page)
    expect(page.get_by_text("Meeting mode is on")).to_be_visible()
    expect(page.get_by_text(QUESTION)).to_be_visible()
    expected = effect_charts_expected(leader(meeting=True))
    assert expected == 1, "the default demo's first outcome has a protected effect to draw"
    assert_charts_read(page, expected)
    assert_no_student(page, people)
    scroll_to(page, "each program against similar students")
    screenshot(page, f"outcomes-meeting-{width}x{height}")

    page.get_by_role("link", name=PROGRAM_LINK).first.click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=re.compile("Every Day Counts"))).to_be_visible()
    expect(page.get_by_text("Meeting mode is on")).to_be_visible()  # the link keeps it on
    expect(page.get_by_text("Served students you may see")).to_have_count(0)
    assert trajectory_charts_expected(leader(meeting=True)) == 1
    assert_charts_read(page, 1)
    assert_no_student(page, people)
    scroll_to(page, "Attendance month by month")
    screenshot(page, f"outcomes-program-meeting-{width}x{height}")
    page.close()


def test_a_newcomer_learns_whether_every_day_counts_helps_in_two_clicks(
    browser: Browser, app_url: str, database: str
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, app_url, "leader")
    open_page(page, "Is it working?")  # first click
    expect(page.get_by_text(QUESTION)).to_be_visible()
    screenshot(page, "outcomes-leader")
    page.get_by_role("link", name=PROGRAM_LINK).first.click()  # second click
    wait_for_app(page)
    expect(page.get_by_role("heading", name=re.compile("Every Day Counts"))).to_be_visible()
    answer = re.compile(
        r"^(Students served by|No clear difference|Too few students|No effect|The estimate)"
    )
    expect(page.get_by_text(answer).first).to_be_visible()
    assert trajectory_charts_expected(leader(meeting=False)) == 1
    assert_charts_read(page, 1)
    screenshot(page, "outcomes-program-leader")
    page.close()


def test_a_counselor_has_no_is_it_working_page(browser: Browser, app_url: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, app_url, "counselor")
    navigation = page.get_by_test_id("stSidebarNav")
    expect(navigation.get_by_role("link", name="Pipeline")).to_be_visible()
    expect(navigation.get_by_role("link", name="Is it working?")).to_have_count(0)
    page.close()
