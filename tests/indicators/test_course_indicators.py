"""Failing marks, core fails, credits and freshman on-track, computed by hand."""

from __future__ import annotations

import pytest

from tests.indicators.builders import YEAR, enrollment, mark, tables


def grades_of(rows, marks: list[dict], grade: int = 9) -> dict:
    return rows(tables(enrollments=[enrollment("S1", grade=grade)], course_marks=marks))["S1"]


@pytest.mark.parametrize(
    ("text", "failing"),
    [
        ("59", True),
        ("60", False),
        ("0", True),
        ("59.5", True),
        ("100", False),
        ("F", True),
        ("NP", True),
        ("F+", True),
        ("f", True),
        ("D-", False),
        ("D", False),
        ("P", False),
        ("B+", False),
        ("72", False),
    ],
)
def test_a_failing_mark_is_f_np_or_a_number_below_sixty(rows, text, failing) -> None:
    row = grades_of(rows, [mark("S1", text, term="S1", subject="ela", credits=0.5)])
    assert row["core_fails"] == int(failing)
    assert row["course_failure"] is failing


def test_a_full_year_f_counts_once_in_core_fails_but_twice_for_on_track(rows) -> None:
    passing = [
        mark("S1", "B", term=t, subject=s, course=f"{s}{t}")
        for s in ("ela", "social_studies")
        for t in ("S1", "S2")
    ]
    electives = [mark("S1", "A", term="Y", subject="other", course=f"E{i}") for i in range(4)]
    row = grades_of(rows, [*passing, *electives, mark("S1", "F", term="Y", subject="science")])
    assert row["core_fails"] == 1
    assert row["core_semester_fs"] == 2
    assert row["credits_earned"] == pytest.approx(6.0)
    assert row["on_track"] is False  # two semester Fs, although 6 credits


def test_one_semester_f_is_still_on_track_and_two_are_not(rows) -> None:
    base = [mark("S1", "A", term="Y", subject="other", course=f"E{i}") for i in range(5)]
    one_f = grades_of(rows, [*base, mark("S1", "F", term="S2", subject="math")])
    two_f = grades_of(
        rows,
        [
            *base,
            mark("S1", "F", term="S1", subject="math"),
            mark("S1", "55", term="S2", subject="math"),
        ],
    )
    assert (one_f["core_semester_fs"], one_f["on_track"]) == (1, True)
    assert (two_f["core_semester_fs"], two_f["core_fails"], two_f["on_track"]) == (2, 2, False)


def test_four_and_a_half_credits_is_off_track_and_five_is_on(rows) -> None:
    def year_with(credits: float) -> list[dict]:
        return [
            mark("S1", "B", term="Y", subject="other", credits=credits, course="E1"),
            mark("S1", "B", term="S2", subject="ela", credits=0.0, course="ENG"),
        ]

    assert grades_of(rows, year_with(4.5))["on_track"] is False
    assert grades_of(rows, year_with(5.0))["on_track"] is True


def test_on_track_waits_for_an_end_of_year_mark(rows) -> None:
    first_semester = [mark("S1", "A", term="S1", subject="ela", credits=5.0)]
    row = grades_of(rows, first_semester)
    assert row["has_year_end_mark"] is False
    assert row["on_track"] is None
    assert row["core_fails"] == 0  # grades are known, just not the year's end


@pytest.mark.parametrize("term", ["S2", "Y", "Q4", "T3"])
def test_any_end_of_year_term_makes_on_track_known(rows, term) -> None:
    row = grades_of(rows, [mark("S1", "A", term=term, subject="ela", credits=5.0)])
    assert row["on_track"] is True


def test_on_track_is_shown_for_ninth_graders_only(rows) -> None:
    year = [mark("S1", "A", term="Y", subject="ela", credits=6.0)]
    assert grades_of(rows, year, grade=10)["on_track"] is None
    assert grades_of(rows, year, grade=9)["on_track"] is True


def test_only_final_marks_of_core_subjects_in_the_year_count(rows) -> None:
    row = grades_of(
        rows,
        [
            mark("S1", "F", term="Q1", subject="math", final=False),
            mark("S1", "F", term="S1", subject="other"),
            mark("S1", "F", term="S1", subject="math", year=YEAR - 1),
            mark("S1", "C", term="S1", subject="math"),
        ],
    )
    assert row["core_fails"] == 0
    assert row["course_failure"] is False


def test_a_student_without_marks_is_not_flagged(rows) -> None:
    row = grades_of(rows, [])
    assert row["core_fails"] is None
    assert row["course_failure"] is None
    assert row["credits_earned"] is None
    assert row["on_track"] is None
    assert row["flag_count"] == 0
