"""RawTables: the import-format frames, conformed to one set of dtypes."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from indicators.tables import RawTables


def test_missing_tables_are_empty_and_optional_columns_are_added() -> None:
    marks = pl.DataFrame(
        {
            "student_id": ["S1"],
            "school_year": [2026],
            "term": ["S1"],
            "course_id": ["ALG1"],
            "subject": ["math"],
            "mark": ["B"],
        }
    )
    tables = RawTables(course_marks=marks)
    assert tables.students.height == 0
    assert tables.course_marks["final"].to_list() == [True]  # the import format's default
    assert tables.course_marks.schema["credits_earned"] == pl.Float64


def test_columns_of_another_dtype_are_cast_and_blank_finals_mean_final() -> None:
    marks = pl.DataFrame(
        {
            "student_id": ["S1", "S2"],
            "school_year": pl.Series([2026, 2026], dtype=pl.Int32),
            "term": ["S1", "S1"],
            "course_id": ["ALG1", "ALG1"],
            "subject": ["math", "math"],
            "mark": ["B", "F"],
            "final": [None, False],
        }
    )
    tables = RawTables(course_marks=marks)
    assert tables.course_marks.schema["school_year"] == pl.Int64
    assert tables.course_marks["final"].to_list() == [True, False]


def test_a_missing_required_column_is_refused() -> None:
    with pytest.raises(ValueError, match="attendance: missing required column"):
        RawTables(attendance=pl.DataFrame({"student_id": ["S1"], "as_of_date": [date(2026, 1, 1)]}))


def test_from_mapping_picks_the_tables_it_holds() -> None:
    students = pl.DataFrame(
        {"student_id": ["S1"], "school_id": ["HS1"], "grade_level": [9], "cohort_year": [2029]}
    )
    tables = RawTables.from_mapping({"students": students, "users": pl.DataFrame({"x": [1]})})
    assert tables.students["student_id"].to_list() == ["S1"]
    assert tables.students["gender"].to_list() == [None]
