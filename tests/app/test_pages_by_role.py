"""Every page as every role, through AppTest: each sees what docs/access-rules.md allows, nothing else."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data_access.bulk import read_table
from data_access.engine import make_engine
from data_access.models import Caseload, Consent, Student, table_of
from pages.mapped_files import PARTNER_UPLOAD_URL
from tests.app.conftest import APP, email
from ui.navigation import PAGES_KEY

DEFAULT_PAGE = {
    "steward": "Who needs help this week?",
    "leader": "Where do our students leave the path?",
    "counselor.hs01": "Who needs help this week?",
    "teacher.hs01": "Who needs help this week?",
    "staff.org02": "Who needs help this week?",
    "viewer": "Where do our students leave the path?",
    "student": "What does the school know about us, and who has seen it?",
}


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for e in (
            *at.title,
            *at.markdown,
            *at.caption,
            *at.text,
            *at.subheader,
            *at.info,
            *at.warning,
            *at.error,
        )
    ]
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(str(p) for p in parts)


def table(at: AppTest) -> pl.DataFrame:
    return pl.from_pandas(at.dataframe[0].value)


@pytest.mark.parametrize(("who", "title"), DEFAULT_PAGE.items())
def test_each_role_lands_on_its_page_without_errors(
    app_as: Callable[..., AppTest], who: str, title: str
) -> None:
    at = app_as(who)
    assert not at.exception, at.exception
    assert at.title[0].value == title
    assert "DEMO DATA" in at.warning[0].value


def test_nobody_signed_in_sees_only_the_demo_sign_in(app_as: Callable[..., AppTest]) -> None:
    at = app_as(None)
    assert at.title[0].value == "Sign in to Pathwise"
    assert not at.dataframe


@pytest.mark.parametrize("who", ["stranger@nowhere.example", "new.staff", "former.counselor"])
def test_unknown_unsigned_and_inactive_users_get_the_no_access_page(
    app_as: Callable[..., AppTest], who: str
) -> None:
    at = app_as(who)
    assert at.title[0].value == "You have no access yet"
    assert not at.dataframe


def test_a_counselors_list_is_their_caseload_at_their_school(
    app_as: Callable[..., AppTest], demo_url: str
) -> None:
    at = app_as("counselor.hs01")
    rows = table(at)
    caseload = read_table(make_engine(demo_url), table_of(Caseload))
    mine = set(caseload.filter(pl.col("user_email") == email("counselor.hs01"))["student_id"])
    assert rows.height > 0 and set(rows["student_id"]) <= mine
    assert set(rows["school_id"]) == {"HS01"}


def test_a_partner_lists_only_students_with_an_active_release(
    app_as: Callable[..., AppTest], demo_url: str
) -> None:
    rows = table(app_as("staff.org02"))
    consents = read_table(make_engine(demo_url), table_of(Consent)).filter(
        pl.col("org_id") == "ORG02"
    )
    assert set(rows["student_id"]) <= set(consents["student_id"])
    assert rows["absence_pct"].null_count() == rows.height  # attendance is not in ORG02's agreement


def test_a_viewer_sees_figures_but_never_a_student_name(
    app_as: Callable[..., AppTest], demo_url: str
) -> None:
    at = app_as("viewer")
    assert not at.exception
    page = texts(at)
    students = read_table(make_engine(demo_url), table_of(Student), ["student_id", "last_name"])
    assert not any(sid in page for sid in students["student_id"].to_list())
    assert "Biggest leak" in page or "protected" in page


def test_meeting_mode_shows_only_protected_figures_even_to_a_steward(
    app_as: Callable[..., AppTest], demo_url: str
) -> None:
    at = app_as("steward", meeting_mode=True)
    assert not at.exception
    assert at.title[0].value == "Where do our students leave the path?"
    assert any("Meeting mode is on" in i.value for i in at.info)
    students = read_table(make_engine(demo_url), table_of(Student), ["student_id"])
    page = texts(at)
    assert not any(sid in page for sid in students["student_id"].to_list())
    assert "protected for privacy" in page


@pytest.mark.parametrize("who", ["teacher.hs01", "student"])
def test_meeting_mode_gives_a_role_without_figures_no_pipeline_and_no_names(
    app_as: Callable[..., AppTest], demo_url: str, who: str
) -> None:
    at = app_as(who, meeting_mode=True)
    assert not at.exception
    assert at.title[0].value == "Meeting mode has nothing for your role"
    assert not at.dataframe
    page = texts(at)
    assert "Where do our students leave the path?" not in page
    students = read_table(make_engine(demo_url), table_of(Student), ["student_id"])
    assert not any(sid in page for sid in students["student_id"].to_list())


def test_two_users_in_one_process_never_see_each_others_students(
    app_as: Callable[..., AppTest],
) -> None:
    first = set(table(app_as("counselor.hs01"))["student_id"])
    second = set(table(app_as("counselor.hs02"))["student_id"])
    again = set(table(app_as("counselor.hs01"))["student_id"])
    assert first and second and not first & second
    assert again == first


def test_the_profile_explains_flags_and_says_why_the_viewer_may_see_the_student(
    page_as: Callable[..., AppTest], app_as: Callable[..., AppTest]
) -> None:
    student_id = table(app_as("counselor.hs01"))["student_id"][0]
    at = page_as("student.student_page", "counselor.hs01", profile_student=student_id)
    assert not at.exception, at.exception
    assert at.title[0].value.startswith("How is ")
    labels = [e.label for e in at.expander]
    assert any("Chronic absence" in label for label in labels)
    assert any("Why can I see this student?" in label for label in labels)


def test_a_partner_cannot_open_a_student_without_a_release(
    page_as: Callable[..., AppTest], demo_url: str
) -> None:
    consents = read_table(make_engine(demo_url), table_of(Consent))
    students = read_table(make_engine(demo_url), table_of(Student), ["student_id"])
    outsider = students.join(
        consents.filter(pl.col("org_id") == "ORG02"), on="student_id", how="anti"
    )["student_id"][0]
    at = page_as("student.student_page", "staff.org02", profile_student=outsider)
    assert not at.exception
    assert any("not in your scope" in w.value for w in at.warning)
    assert not at.dataframe


def test_the_family_view_shows_only_the_familys_child_and_the_disclosure_log(
    page_as: Callable[..., AppTest], demo_url: str
) -> None:
    from data_access.models import User

    users = read_table(make_engine(demo_url), table_of(User))
    parent = users.filter(pl.col("role") == "parent")["email"][0]
    at = page_as("my_record.my_record_page", parent)
    assert not at.exception, at.exception
    assert "Who has seen this record" in [s.value for s in at.subheader]


def test_the_administration_page_is_for_stewards_only(page_as: Callable[..., AppTest]) -> None:
    at = page_as("administration.administration_page", "steward")
    assert not at.exception, at.exception
    assert at.get("button_group"), "the section switch is missing"
    assert "Releases expiring in the next 30 days" in [s.value for s in at.subheader]
    for section in ("Users", "Agreements", "Import", "Data freshness", "Audit log"):
        at = page_as("administration.administration_page", "steward", admin_section=section)
        assert not at.exception, (section, at.exception)
    at = page_as("administration.administration_page", "steward", admin_section="Data freshness")
    said = [m.value for m in (*at.success, *at.warning)]
    assert any("early-warning list and the pipeline" in text for text in said), said
    at = page_as("administration.administration_page", "counselor.hs01")
    assert any("Only data stewards" in e.value for e in at.error)


def test_demo_sign_in_refuses_to_start_against_real_data(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    from data_access import schema

    url = f"sqlite:///{tmp_path / 'real.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO school VALUES ('X1', 'Real School', 9, 12)"))
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.run()
    assert any("never offers demo sign-in on real data" in e.value for e in at.error)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "auto")
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.run()
    assert at.title[0].value == "Sign in to Pathwise"
    assert any("Sign-in is not configured" in e.value for e in at.error)


def test_an_expired_id_token_signs_the_user_out(
    demo_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "0")
    auth = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "k3Vq9xZ2pL7mN4rT8wY1bC6dF0gH5jS2aE9uI3oP7",
        "district": {"client_id": "pathwise", "client_secret": "s", "server_metadata_url": "-"},
    }
    counselor = {"is_logged_in": True, "email": email("counselor.hs01"), "email_verified": True}
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {"auth": auth}
    at.user = {**counselor, "exp": 1_000_000_000}
    at.run()
    assert at.user == {"is_logged_in": False}
    at.run()
    assert at.title[0].value == "Sign in to Pathwise"
    valid = AppTest.from_file(APP, default_timeout=60)
    valid.secrets = {"auth": auth}
    valid.user = {**counselor, "exp": 4_000_000_000}
    valid.run()
    assert valid.title[0].value == "Who needs help this week?"


ALL_USERS = [
    "steward",
    "leader",
    "counselor.hs01",
    "teacher.hs01",
    "staff.org02",
    "viewer",
    "student",
]
ALL_PAGES = [
    "pipeline.pipeline_page",
    "at_risk.at_risk_page",
    "student.student_page",
    "my_record.my_record_page",
    "administration.administration_page",
    "release_ask.ask_page",
]


@pytest.mark.parametrize("page", ALL_PAGES)
@pytest.mark.parametrize("who", ALL_USERS)
def test_any_page_opened_by_any_role_renders_or_refuses_but_never_fails(
    page_as: Callable[..., AppTest], who: str, page: str
) -> None:
    at = page_as(page, who)
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "Something went wrong" in e.value]
    if who == "viewer" and page != "pipeline.pipeline_page":
        assert not at.dataframe  # a viewer never gets a student-level table


def test_a_teachers_list_says_nothing_about_which_partners_serve_a_student(
    app_as: Callable[..., AppTest],
) -> None:
    teacher = app_as("teacher.hs01")
    assert not teacher.exception, teacher.exception
    assert table(teacher).height > 0
    assert "served" not in table(teacher).columns
    assert "Served by a partner" not in [s.label for s in teacher.selectbox]
    counselor = app_as("counselor.hs01")
    assert "served" in table(counselor).columns
    assert "Served by a partner" in [s.label for s in counselor.selectbox]


@pytest.mark.parametrize(
    ("who", "offered"),
    [("staff.org02", True), ("steward", False), ("counselor.hs01", False), ("viewer", False)],
)
def test_partner_staff_find_the_page_that_loads_their_services_in_the_navigation(
    app_as: Callable[..., AppTest], who: str, offered: bool
) -> None:
    at = app_as(who)
    assert not at.exception, at.exception
    assert (PARTNER_UPLOAD_URL in at.session_state[PAGES_KEY]) == offered


def test_the_partners_upload_page_takes_only_services_and_refuses_other_roles(
    page_as: Callable[..., AppTest],
) -> None:
    at = page_as("mapped_files.partner_upload_page", "staff.org02")
    assert not at.exception, at.exception
    assert "Load your organisation's services" in [h.value for h in at.header]
    assert not at.error
    refused = page_as("mapped_files.partner_upload_page", "counselor.hs01")
    assert any("Only data stewards and partner staff" in e.value for e in refused.error)
