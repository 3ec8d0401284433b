"""One row per enrolled student with every early-warning indicator (docs/indicators.md).

Who is listed (docs/command-line.md, `export flags`): students with an enrollment in the school year
viewed whose exit_date is blank or after the as-of date. school_id and grade_level come
from the latest such enrollment (by entry_date, then school_id).

The rules and their published sources are in the modules this one assembles:
`indicators.attendance`, `indicators.marks`, `indicators.assessments`, `indicators.fafsa`
and `indicators.tiers`. Missing data is never a flag: a category without data leaves its
indicator null ("not enough data"), which is distinct from false ("not flagged").
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

from indicators import assessments, attendance, fafsa, marks, tiers
from indicators.settings import Settings
from indicators.tables import RawTables

NINTH_GRADE: Final = 9

#: Output columns, in order.
INDICATOR_COLUMNS: Final = (
    "student_id",
    "school_id",
    "grade_level",
    "days_enrolled",
    "days_absent",
    "attendance_as_of",
    "attendance_state",
    "absence_rate",
    "attendance_band",
    "chronic_absence",
    "core_fails",
    "course_failure",
    "credits_earned",
    "core_semester_fs",
    "has_year_end_mark",
    "on_track",
    "ela_test_name",
    "ela_test_year",
    "ela_test_date",
    "ela_proficient",
    "math_test_name",
    "math_test_year",
    "math_test_date",
    "math_proficient",
    "below_proficient",
    "fafsa_status",
    "fafsa_status_date",
    "fafsa_not_completed",
    "flag_count",
    "tier",
)


def enrolled_students(enrollments: pl.LazyFrame, school_year: int, as_of: date) -> pl.LazyFrame:
    """student_id, school_id, grade_level of the students enrolled in `school_year` as of
    `as_of` (exit_date blank or after it), from their latest such enrollment."""
    return (
        enrollments.filter(
            (pl.col("school_year") == school_year)
            & (pl.col("exit_date").is_null() | (pl.col("exit_date") > as_of))
        )
        .group_by("student_id")
        .agg(pl.col("school_id", "grade_level").sort_by("entry_date", "school_id").last())
    )


def compute_student_indicators(
    tables: RawTables, school_year: int, as_of: date, settings: Settings
) -> pl.DataFrame:
    """Every indicator of docs/indicators.md for the students enrolled in `school_year` as of
    `as_of`, one row each, sorted by student_id. Columns: `INDICATOR_COLUMNS`.

    - Attendance: days_enrolled, days_absent (null without a snapshot), attendance_state
      ("ok" | "not_enough_days" | "no_data"), absence_rate, attendance_band and
      chronic_absence (null unless the state is "ok").
    - Grades (final marks of `school_year`): core_fails, course_failure, credits_earned,
      core_semester_fs, has_year_end_mark (all null without marks); on_track for grade 9
      only, null until the year has an end-of-year mark.
    - Tests: the latest ela and math result (name, year, date, proficient) and
      below_proficient (null without a result).
    - FAFSA (grade 12 only): fafsa_status (`not_started` without a record),
      fafsa_status_date, fafsa_not_completed.
    - flag_count and tier over all four flags.
    """
    course_marks = tables.course_marks.lazy().filter(pl.col("school_year") == school_year)
    failing = marks.failing_marks(course_marks, settings)
    roster = enrolled_students(tables.enrollments.lazy(), school_year, as_of).collect()
    enrolled = pl.col("student_id").is_in(roster["student_id"].implode())
    absences = attendance.attendance_totals(tables.attendance.lazy(), school_year, as_of)
    grades = marks.course_summary(course_marks, [school_year], failing, settings).drop(
        "school_year"
    )
    tests = assessments.latest_results(tables.test_scores.filter(enrolled), school_year, as_of)
    filing = fafsa.latest_status(tables.fafsa.lazy(), school_year, as_of)

    joined = roster.lazy()
    for part in (absences, grades, tests, filing):
        joined = joined.join(part, on="student_id", how="left")
    frame = (
        joined.with_columns(attendance.attendance_state(settings))
        .with_columns(
            attendance.absence_rate(),
            attendance.attendance_band(settings),
            attendance.chronic_absence(settings),
            (pl.col("core_fails") >= 1).alias("course_failure"),
            pl.when(pl.col("grade_level") == NINTH_GRADE)
            .then(marks.on_track(settings))
            .otherwise(None)
            .alias("on_track"),
            assessments.below_proficient(),
            fafsa.fafsa_status(),
            pl.when(pl.col("grade_level") == fafsa.SENIOR_GRADE)
            .then(pl.col("fafsa_status_date"))
            .otherwise(None)
            .alias("fafsa_status_date"),
        )
        .with_columns(fafsa.fafsa_not_completed())
        .with_columns(tiers.flag_count())
        .with_columns(tiers.tier(settings))
        .select(INDICATOR_COLUMNS)
        .sort("student_id")
    )
    return frame.collect()
