"""Data values are never interpreted as markdown or HTML, on any page, for any role.

A district whose imported text is hostile: every name (students, users, schools,
organisations), release and agreement id, referral reason and response and note body
carries markdown and HTML (`[click](http://x) **bold** <a href="http://x">y</a> <b>z</b>`,
plus a Streamlit emoji shortcode and a math span). Every page is rendered for every role
with AppTest; no string that Streamlit renders as markdown (markdown, captions, titles,
alerts, expander, widget and radio-option labels, metric labels) may hold that markup
unescaped, and no Plotly figure may hold a tag from the data. The data does reach the
pages (escaped), which the positive assertions check, so the test cannot pass vacuously.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.bulk import read_table
from data_access.engine import make_engine
from data_access.models import Caseload, Consent, Student, table_of
from tests.app.conftest import APP, email

EVIL = ' [click](http://x) **bold** <a href="http://x">y</a> <b>z</b> :smile: $x$ www.x.org'
#: Unescaped (no backslash before the special characters), each of these renders as a
#: link, bold, a tag, an emoji, math or an autolink.
MARKUP = [
    re.compile(pattern)
    for pattern in (
        r"\[click\]\(", r"\*\*bold\*\*", r"(?<!\\)<a href", r"(?<!\\)<b>", r":smile:",
        r"\$x\$", r"www\.x\.org",
    )
]  # fmt: skip
ESCAPED = r"\*\*bold\*\*"  # how the text shows up, escaped, in a markdown source

ROLES = ["steward", "leader", "counselor.hs01", "teacher.hs01", "staff.org02", "viewer"]
PAGES = [
    "pipeline.pipeline_page",
    "at_risk.at_risk_page",
    "student.student_page",
    "my_record.my_record_page",
    "administration.administration_page",
    "outcomes.outcomes_page",
]


@pytest.fixture(scope="session")
def hostile_url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the AppTest demo district with markup appended to every imported text."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    shutil.copy(demo_url.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with engine.begin() as connection:
        for statement in (
            "UPDATE student SET first_name = first_name || :evil, last_name = last_name || :evil",
            "UPDATE school SET school_name = school_name || :evil",
            "UPDATE organization SET org_name = org_name || :evil",
            "UPDATE app_user SET display_name = display_name || :evil",
            "UPDATE consent SET consent_id = consent_id || :evil, purpose = purpose || :evil",
            "UPDATE agreement SET agreement_id = agreement_id || :evil",
            "UPDATE referral SET reason = reason || :evil, response = response || :evil",
            "UPDATE note SET body = body || :evil",
            "UPDATE course_mark SET course_title = course_title || :evil",
        ):
            connection.execute(text(statement), {"evil": EVIL})
    engine.dispose()
    return url


@pytest.fixture
def hostile_page(
    hostile_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., AppTest]]:
    monkeypatch.setenv("PATHWISE_DATABASE_URL", hostile_url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")

    def run(page: str | None, who: str, **state: object) -> AppTest:
        if page is None:
            at = AppTest.from_file(APP, default_timeout=60)
        else:
            module, function = page.split(".")
            at = AppTest.from_string(
                f"from pages.{module} import {function}\nfrom ui.guard import guarded\nguarded({function})()\n",
                default_timeout=60,
            )
        at.user = {"is_logged_in": False}
        at.session_state["demo_email"] = email(who)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        assert not at.exception, at.exception
        return at

    yield run


def markdown_sources(at: AppTest) -> list[str]:
    """Every string of the page that Streamlit renders as markdown."""
    sources: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning",
                 "error", "success", "exception", "toast"):  # fmt: skip
        sources += [str(getattr(e, "value", "")) for e in at.get(kind)]
    for kind in ("expander", "metric", "selectbox", "multiselect", "text_input", "text_area",
                 "checkbox", "toggle", "button", "date_input", "button_group", "radio"):  # fmt: skip
        sources += [str(getattr(e, "label", "")) for e in at.get(kind)]
    for radio in at.radio:  # radio options are markdown too
        sources += [str(o) for o in radio.options]
    return sources


def figures(at: AppTest) -> list[str]:
    return [json.dumps(json.loads(e.proto.spec)) for e in at.get("plotly_chart")]


def assert_no_markup(at: AppTest, where: str) -> str:
    sources = markdown_sources(at)
    for source in sources:
        for markup in MARKUP:
            assert not markup.search(source), (where, markup.pattern, source)
    for spec in figures(at):
        assert "<a " not in spec and "<b>" not in spec, (where, spec[:2000])
    return "\n".join(sources)


def a_student_of(who: str, url: str) -> str:
    engine = make_engine(url)
    students = read_table(engine, table_of(Student), ["student_id", "school_id"])
    if who == "staff.org02":
        consents = read_table(engine, table_of(Consent)).filter(pl.col("org_id") == "ORG02")
        return str(consents.sort("signed_date")["student_id"][-1])
    if who == "counselor.hs01":
        return str(students.filter(pl.col("school_id") == "HS01")["student_id"][0])
    if who == "teacher.hs01":
        caseload = read_table(engine, table_of(Caseload))
        return str(caseload.filter(pl.col("user_email") == email(who))["student_id"][0])
    return str(students["student_id"][0])


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ROLES)
def test_no_page_renders_markup_from_the_data(
    hostile_page: Callable[..., AppTest], hostile_url: str, who: str, page: str
) -> None:
    state: dict[str, object] = {}
    if page == "student.student_page":
        state["profile_student"] = a_student_of(who, hostile_url)
    assert_no_markup(hostile_page(page, who, **state), f"{page} as {who}")


def test_the_profile_shows_hostile_names_and_release_ids_as_text(
    hostile_page: Callable[..., AppTest], hostile_url: str
) -> None:
    student_id = a_student_of("staff.org02", hostile_url)
    at = hostile_page("student.student_page", "staff.org02", profile_student=student_id)
    page = assert_no_markup(at, "profile as a partner")
    assert ESCAPED in at.title[0].value  # the first name, escaped
    assert any(ESCAPED in c.value and student_id in c.value for c in at.caption)  # identity
    why = [m.value for m in at.markdown if "Release" in m.value]
    assert why and ESCAPED in why[0]  # the release id in "Why can I see this student?"
    assert ESCAPED in page


def test_the_attendance_legend_names_the_partner_as_text(
    hostile_page: Callable[..., AppTest], hostile_url: str
) -> None:
    with make_engine(hostile_url).connect() as connection:
        student_id = connection.execute(
            text(
                "SELECT min(student_id) FROM service WHERE student_id IN (SELECT student_id FROM attendance)"
            )
        ).scalar_one()
    at = hostile_page("student.student_page", "steward", profile_student=student_id)
    names = [t.get("name", "") for spec in figures(at) for t in json.loads(spec)["data"]]
    assert any("&lt;a href" in name for name in names), names


def test_the_sidebar_shows_a_hostile_display_name_as_text(
    hostile_page: Callable[..., AppTest],
) -> None:
    for who in ROLES + ["student"]:
        at = hostile_page(None, who)
        sidebar = [c.value for c in at.sidebar.caption]
        assert any("Signed in as" in c for c in sidebar), (who, sidebar)
        assert any(ESCAPED in c for c in sidebar), (who, sidebar)
        assert_no_markup(at, f"the app as {who}")


def test_the_family_view_shows_hostile_names_as_text(
    hostile_page: Callable[..., AppTest], hostile_url: str
) -> None:
    engine = make_engine(hostile_url)
    with engine.connect() as connection:
        parent = connection.execute(
            text("SELECT email FROM app_user WHERE role = 'parent' ORDER BY email")
        ).scalar_one()
    at = hostile_page("my_record.my_record_page", parent)
    assert_no_markup(at, "my record as a parent")
    assert any(ESCAPED in s.value for s in at.subheader)
    at = hostile_page("my_record.my_record_page", "student")
    assert_no_markup(at, "my record as a student")


@pytest.mark.parametrize(
    "section",
    ["Releases", "Users", "Agreements", "Capacity", "Import", "Data freshness", "Audit log"],
)
def test_administration_sections_render_no_markup_from_the_data(
    hostile_page: Callable[..., AppTest], section: str
) -> None:
    at = hostile_page("administration.administration_page", "steward", admin_section=section)
    assert_no_markup(at, f"administration {section}")


def test_pipeline_by_school_titles_charts_with_school_names_as_text(
    hostile_page: Callable[..., AppTest],
) -> None:
    at = hostile_page("pipeline.pipeline_page", "leader")
    compare = next(s for s in at.selectbox if s.label == "Compare by")
    compare.set_value("school_id").run()
    assert not at.exception
    assert_no_markup(at, "pipeline by school")
    titles = [json.loads(spec)["layout"].get("title", {}).get("text", "") for spec in figures(at)]
    assert any("&lt;b&gt;" in t for t in titles), titles


def test_the_hostile_fixture_reaches_the_database(hostile_url: str) -> None:
    with make_engine(hostile_url).connect() as connection:
        names = connection.execute(text("SELECT last_name FROM student LIMIT 1")).scalar_one()
        parents = connection.execute(
            text("SELECT count(*) FROM app_user WHERE role = 'parent'")
        ).scalar_one()
    assert names.endswith(EVIL) and parents > 0
    assert Path(hostile_url.removeprefix("sqlite:///")).exists()
