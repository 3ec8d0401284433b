"""College outcomes from Clearinghouse terms (indicators.postsecondary), on small worlds.

Each student below graduates from high school on June 12, 2025 (class of 2025) unless
said otherwise; dates are chosen by hand around the Clearinghouse's windows: the first
fall is Aug 15 - Oct 31, 2025; year 1 runs from Aug 15, 2025, year 2 from Aug 15, 2026.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from indicators.postsecondary import derive_outcomes, unsearched_cohorts

GRAD = date(2025, 6, 12)
LATE = date(2027, 1, 5)  # after the second fall's window has closed


def term(
    sid: str, begin: date | None, end: date | None, level: str = "4yr", **extra: object
) -> dict:
    return {
        "student_id": sid,
        "level": level,
        "enrollment_begin": begin,
        "enrollment_end": end,
        "graduated": extra.get("graduated"),
        "graduation_date": extra.get("graduation_date"),
    }


def derive(
    terms: list[dict],
    searches: list[tuple[str, bool, date | None]],
    as_of: date = LATE,
    cohort: int = 2025,
    stored: list[tuple[str, date]] | None = None,
) -> dict[str, dict]:
    schema = {
        "student_id": pl.String,
        "level": pl.String,
        "enrollment_begin": pl.Date,
        "enrollment_end": pl.Date,
        "graduated": pl.Boolean,
        "graduation_date": pl.Date,
    }
    frame = derive_outcomes(
        pl.DataFrame(terms, schema=schema),
        pl.DataFrame(
            searches,
            schema={
                "student_id": pl.String,
                "record_found": pl.Boolean,
                "high_school_grad_date": pl.Date,
            },
            orient="row",
        ),
        pl.DataFrame(
            {"student_id": [s[0] for s in searches], "cohort_year": [cohort] * len(searches)}
        ),
        pl.DataFrame(
            stored or [], schema={"student_id": pl.String, "graduation_date": pl.Date}, orient="row"
        ),
        as_of,
    )
    return {row["student_id"]: row for row in frame.iter_rows(named=True)}


def test_a_fall_start_that_continues_the_next_fall_is_enrolled_seamless_and_persisted() -> None:
    out = derive(
        [
            term("S1", date(2025, 8, 26), date(2025, 12, 15)),
            term("S1", date(2026, 1, 20), date(2026, 5, 10)),
            term("S1", date(2026, 8, 25), date(2026, 12, 14)),
        ],
        [("S1", True, GRAD)],
    )["S1"]
    assert out["postsecondary_enrolled"] is True
    assert out["postsecondary_start_date"] == date(2025, 8, 26)
    assert out["institution_level"] == "4yr"
    assert out["seamless_enrolled"] is True
    assert out["persisted_second_year"] is True
    assert out["degree_completed"] is False


def test_a_student_who_did_not_return_for_a_second_year_has_not_persisted_once_its_fall_is_over() -> (
    None
):
    terms = [term("S1", date(2025, 8, 26), date(2025, 12, 15), "2yr")]
    assert derive(terms, [("S1", True, GRAD)])["S1"]["persisted_second_year"] is False
    # Before Oct 31 of the second fall it is not known yet.
    assert (
        derive(terms, [("S1", True, GRAD)], as_of=date(2026, 9, 30))["S1"]["persisted_second_year"]
        is None
    )


def test_a_spring_start_is_enrolled_but_not_seamless() -> None:
    out = derive([term("S1", date(2026, 1, 20), date(2026, 5, 10), "2yr")], [("S1", True, GRAD)])[
        "S1"
    ]
    assert (out["postsecondary_enrolled"], out["seamless_enrolled"]) == (True, False)
    assert out["postsecondary_start_date"] == date(2026, 1, 20)
    assert out["institution_level"] == "2yr"


def test_a_dual_enrollment_course_taken_in_high_school_is_not_college_after_high_school() -> None:
    out = derive([term("S1", date(2024, 9, 3), date(2024, 12, 20), "2yr")], [("S1", True, GRAD)])[
        "S1"
    ]
    assert out["postsecondary_enrolled"] is False
    assert out["postsecondary_start_date"] is None
    assert out["persisted_second_year"] is None


def test_searched_and_not_found_is_not_enrolled_and_never_searched_has_no_row() -> None:
    out = derive([], [("S1", False, GRAD)])
    assert set(out) == {"S1"}
    assert out["S1"]["postsecondary_enrolled"] is False
    assert out["S1"]["persisted_second_year"] is None


def test_two_colleges_beginning_the_same_day_give_the_higher_level() -> None:
    out = derive(
        [
            term("S1", date(2025, 8, 26), date(2025, 12, 15), "less_than_2yr"),
            term("S1", date(2025, 8, 26), date(2025, 12, 15), "4yr"),
        ],
        [("S1", True, GRAD)],
    )["S1"]
    assert out["institution_level"] == "4yr"


def test_a_december_graduate_starting_that_fall_counts_from_august_15() -> None:
    out = derive(
        [term("S1", date(2025, 8, 26), date(2025, 12, 15))], [("S1", True, date(2025, 12, 18))]
    )["S1"]
    assert out["postsecondary_start_date"] == date(2025, 8, 26)
    assert out["seamless_enrolled"] is True


def test_without_a_grad_date_in_the_report_the_stored_one_or_the_cohort_year_is_used() -> None:
    summer = [term("S1", date(2025, 6, 30), date(2025, 8, 10))]
    stored = derive(summer, [("S1", True, None)], stored=[("S1", GRAD)])["S1"]
    assert stored["postsecondary_start_date"] == date(2025, 6, 30)
    cohort_only = derive(summer, [("S1", True, None)])["S1"]
    assert cohort_only["postsecondary_enrolled"] is False  # before Aug 15 of the cohort year


def test_a_degree_row_completes_a_degree() -> None:
    out = derive(
        [
            term("S1", date(2025, 8, 26), date(2026, 5, 10), "2yr"),
            term("S1", None, None, "2yr", graduated=True, graduation_date=date(2027, 5, 20)),
        ],
        [("S1", True, GRAD)],
    )["S1"]
    assert out["degree_completed"] is True


def test_cohorts_without_any_searched_student_are_unsearched() -> None:
    students = pl.DataFrame({"student_id": ["A", "B", "C"], "cohort_year": [2024, 2024, 2025]})
    assert unsearched_cohorts(students, pl.Series(["A"])) == [2025]
    assert unsearched_cohorts(students, pl.Series([], dtype=pl.String)) == [2024, 2025]
