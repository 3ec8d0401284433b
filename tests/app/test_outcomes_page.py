"""The "Is it working?" page and its program page, as each role sees them (AppTest, the small
demo district of tests/app/conftest.py): leaders read exact figures, viewers and meeting mode
protected ones without a name or a small cell, a partner only its own programs, and roles
without the right get no figures (issue 13, docs/access-rules.md).

What the page should show is read from `data_access.api` with the same user, so these tests
hold whatever the demo's programs achieve at this size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data_access import api
from data_access.bulk import read_table
from data_access.engine import make_engine
from data_access.models import Student, table_of
from domain.presentation import ESTIMATED_VERDICTS, MIN_TEXT_PX, OUTCOME_LABELS, chart_text
from indicators.settings import load_settings
from pages.outcomes import QUESTION
from tests.app.conftest import email
from tests.app.test_charts_readable import assert_readable, figures
from tests.app.test_pages_by_role import texts

EVERY_DAY_COUNTS = "ORG05"
COUNT_COLUMNS = ("served", "matched", "comparison")


def principal(who: str, *, meeting: bool = False) -> api.Principal:
    signed_in = api.sign_in(email(who), date.today())
    return signed_in.in_meeting_mode() if meeting else signed_in


@pytest.fixture
def program_as(demo_env: str) -> Callable[..., AppTest]:
    """Run the program page for one program-year, as the link of the list opens it."""

    def run(who: str, program: tuple[int, str, str], **state: object) -> AppTest:
        at = AppTest.from_string(
            "from pages.outcomes import program_page\nfrom ui.guard import guarded\n"
            "guarded(program_page)()\n",
            default_timeout=60,
        )
        at.user = {"is_logged_in": False}
        at.session_state["demo_email"] = email(who)
        for key, value in state.items():
            at.session_state[key] = value
        year, org_id, service_type = program
        at.query_params.update({"year": str(year), "org": org_id, "service": service_type})
        at.run()
        return at

    return run


def every_day_counts() -> tuple[int, str, str]:
    """Every Day Counts' attendance program in the newest school year with figures."""
    view = api.program_outcomes(principal("leader"), org_id=EVERY_DAY_COUNTS)
    assert view.school_years, "the demo district has no program figures"
    rows = view.rows.filter(pl.col("service_type") == "attendance")
    assert rows.height, "Every Day Counts has no attendance figures in the demo district"
    return int(rows.sort("school_year")["school_year"][-1]), EVERY_DAY_COUNTS, "attendance"


def program_list(at: AppTest) -> pl.DataFrame:
    """The page's table of every program and outcome (the dataframe with a Verdict column)."""
    frames = [pl.from_pandas(f.value) for f in at.dataframe]
    return next(f for f in frames if "verdict" in f.columns)


def student_identifiers(demo_url: str) -> Iterator[str]:
    students = read_table(
        make_engine(demo_url), table_of(Student), ["student_id", "first_name", "last_name"]
    )
    for student_id, first, last in students.iter_rows():
        yield student_id
        yield f"{first} {last}"


def assert_protected_counts(table: pl.DataFrame) -> None:
    """Every count shown is "<min_cell", "*" or at least min_cell: never a small cell."""
    settings = load_settings()
    for column in COUNT_COLUMNS:
        for cell in table[column].to_list():
            assert cell in (settings.suppressed_label, "*") or (
                cell.isdigit() and int(cell) >= settings.min_cell
            ), (column, cell)


def assert_no_student(at: AppTest, demo_url: str) -> None:
    page = texts(at)
    shown = [who for who in student_identifiers(demo_url) if who in page]
    assert not shown, shown[:5]


# --- the list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["leader", "steward", "viewer", "staff.org05"])
def test_the_page_opens_with_its_question_for_every_role_that_may_use_it(
    page_as: Callable[..., AppTest], who: str
) -> None:
    at = page_as("outcomes.outcomes_page", who)
    assert not at.exception, at.exception
    assert at.title[0].value == QUESTION
    assert not at.error


def test_a_leader_reads_the_exact_figures_of_every_program(
    page_as: Callable[..., AppTest], demo_env: str
) -> None:
    at = page_as("outcomes.outcomes_page", "leader")
    leader = principal("leader")
    newest = api.program_outcomes(leader).school_years[0]
    view = api.program_outcomes(leader, school_year=newest)
    assert view.exact
    table = program_list(at)
    assert table.height == view.rows.height
    assert table["served"].to_list() == [str(n) for n in view.rows["served"].to_list()]
    assert not any("protected for privacy" in c.value for c in at.caption)


def test_a_viewer_reads_protected_figures_without_a_student(
    page_as: Callable[..., AppTest], demo_url: str
) -> None:
    at = page_as("outcomes.outcomes_page", "viewer")
    assert any("protected for privacy" in c.value for c in at.caption)
    assert_protected_counts(program_list(at))
    assert_no_student(at, demo_url)


def test_meeting_mode_shows_no_name_and_no_small_cell_even_to_a_leader(
    page_as: Callable[..., AppTest], demo_url: str
) -> None:
    at = page_as("outcomes.outcomes_page", "leader", meeting_mode=True)
    assert not at.exception
    assert any("protected for privacy" in c.value for c in at.caption)
    assert_protected_counts(program_list(at))
    assert_no_student(at, demo_url)
    for figure in figures(at):
        assert_readable(figure, minimum=max(MIN_TEXT_PX, chart_text(True).smallest()))


def test_the_effect_chart_is_drawn_exactly_when_an_effect_can_be_shown(
    page_as: Callable[..., AppTest], demo_env: str
) -> None:
    viewer = principal("viewer")
    newest = api.program_outcomes(viewer).school_years[0]
    rows = api.program_outcomes(viewer, school_year=newest).rows
    first = next(m for m in OUTCOME_LABELS if m in set(rows["measure"]))
    shown = rows.filter(
        (pl.col("measure") == first)
        & pl.col("verdict").is_in(ESTIMATED_VERDICTS)
        & pl.all_horizontal(pl.col("effect", "ci_low", "ci_high").is_not_null())
    ).height
    at = page_as("outcomes.outcomes_page", "viewer")
    assert len(figures(at)) == (1 if shown else 0)
    sentences = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert len(sentences) == rows.filter(pl.col("measure") == first).height


def test_a_partner_sees_only_its_own_programs(
    page_as: Callable[..., AppTest], demo_env: str
) -> None:
    at = page_as("outcomes.outcomes_page", "staff.org05")
    assert not at.exception
    table = program_list(at)
    assert table.height and set(table["org_id"]) == {EVERY_DAY_COUNTS}
    assert_protected_counts(table)
    organisations = next(s for s in at.selectbox if s.label == "Organisation").options
    assert len(organisations) == 2  # all (its own), and its own


@pytest.mark.parametrize("who", ["counselor.hs01", "teacher.hs01", "student"])
def test_roles_without_the_right_get_a_refusal_and_no_figures(
    page_as: Callable[..., AppTest], who: str
) -> None:
    at = page_as("outcomes.outcomes_page", who)
    assert not at.exception
    assert at.warning and not at.dataframe and not figures(at)
    with pytest.raises(api.AccessDenied):
        api.program_outcomes(principal(who))


# --- the program page ------------------------------------------------------------------------


def test_a_leader_answers_is_every_day_counts_helping_and_sees_its_served_students(
    program_as: Callable[..., AppTest], demo_env: str
) -> None:
    program = every_day_counts()
    at = program_as("leader", program)
    assert not at.exception, at.exception
    assert "Every Day Counts" in at.title[0].value
    sentences = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert sentences and all("Every Day Counts" in s for s in sentences)
    detail = api.program_detail(
        principal("leader"), school_year=program[0], org_id=program[1], service_type=program[2]
    )
    assert detail.served_students is not None
    served = [f for f in at.dataframe if "student_id" in f.value.columns]
    assert len(served) == 1
    assert set(served[0].value["student_id"]) == set(detail.served_students["student_id"])
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("figures (CSV, as `pathwise export outcomes`" in label for label in labels)


@pytest.mark.parametrize(("who", "state"), [("viewer", {}), ("leader", {"meeting_mode": True})])
def test_the_program_page_protected_lists_no_student(
    program_as: Callable[..., AppTest], demo_url: str, who: str, state: dict[str, object]
) -> None:
    at = program_as(who, every_day_counts(), **state)
    assert not at.exception, at.exception
    assert not [f for f in at.dataframe if "student_id" in f.value.columns]
    assert_no_student(at, demo_url)
    protected = [f for f in at.dataframe if "verdict" in f.value.columns]
    assert protected
    assert_protected_counts(pl.from_pandas(protected[0].value))
    minimum = max(MIN_TEXT_PX, chart_text(bool(state)).smallest())
    for figure in figures(at):
        assert_readable(figure, minimum=minimum)


def test_a_partner_cannot_open_another_organisations_program(
    program_as: Callable[..., AppTest], demo_env: str
) -> None:
    year, _, _ = every_day_counts()
    at = program_as("staff.org01", (year, EVERY_DAY_COUNTS, "attendance"))
    assert not at.exception
    assert not at.dataframe and not figures(at)
    assert not [m.value for m in at.markdown if "Every Day Counts" in m.value]
