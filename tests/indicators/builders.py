"""Small readable builders for hand-made import-format rows and tables."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from indicators.tables import SCHEMAS, RawTables

YEAR = 2026  # the 2025-26 school year
AS_OF = date(2026, 3, 2)
START = date(2025, 8, 27)


def frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {column: dtype for column, (dtype, _) in SCHEMAS[name].items()}
    return pl.DataFrame(
        [{column: row.get(column) for column in schema} for row in rows], schema=schema
    )


def tables(**rows: list[dict[str, Any]]) -> RawTables:
    return RawTables(**{name: frame(name, value) for name, value in rows.items()})


def student(
    sid: str,
    cohort: int = YEAR,
    grade: int = 12,
    school: str = "HS1",
    **demographics: Any,
) -> dict[str, Any]:
    return {
        "student_id": sid,
        "school_id": school,
        "grade_level": grade,
        "cohort_year": cohort,
        **demographics,
    }


def enrollment(
    sid: str,
    grade: int = 9,
    year: int = YEAR,
    school: str = "HS1",
    entry: date | None = None,
    exit: date | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {
        "student_id": sid,
        "school_id": school,
        "school_year": year,
        "grade_level": grade,
        "entry_date": entry or date(year - 1, 8, 27),
        "exit_date": exit,
        "exit_code": code,
    }


def snapshot(
    sid: str,
    enrolled: int,
    absent: int,
    on: date = date(2026, 2, 27),
    school: str = "HS1",
    year: int = YEAR,
) -> dict[str, Any]:
    return {
        "student_id": sid,
        "school_id": school,
        "school_year": year,
        "as_of_date": on,
        "days_enrolled": enrolled,
        "days_absent": absent,
    }


def mark(
    sid: str,
    mark_text: str,
    term: str = "S1",
    subject: str = "math",
    credits: float | None = None,
    year: int = YEAR,
    course: str | None = None,
    final: bool = True,
) -> dict[str, Any]:
    attempted = {"S1": 0.5, "S2": 0.5, "Y": 1.0}.get(term)
    failing = mark_text in ("F", "NP") or (mark_text.isdigit() and int(mark_text) < 60)
    earned = credits if credits is not None else (0.0 if failing else attempted)
    return {
        "student_id": sid,
        "school_year": year,
        "term": term,
        "course_id": course or f"{subject}-{term}-{mark_text}",
        "subject": subject,
        "mark": mark_text,
        "credits_attempted": attempted,
        "credits_earned": earned,
        "final": final,
    }


def score(
    sid: str,
    subject: str,
    year: int,
    proficient: bool,
    on: date | None = None,
    name: str = "State Assessment",
) -> dict[str, Any]:
    return {
        "student_id": sid,
        "school_year": year,
        "test_name": name,
        "subject": subject,
        "proficient": proficient,
        "test_date": on,
    }


def fafsa(sid: str, status: str, award_year: int = YEAR, on: date | None = None) -> dict[str, Any]:
    return {"student_id": sid, "award_year": award_year, "status": status, "status_date": on}


def outcome(
    sid: str,
    graduated: bool | None = None,
    on: date | None = None,
    enrolled: bool | None = None,
    persisted: bool | None = None,
) -> dict[str, Any]:
    return {
        "student_id": sid,
        "graduated": graduated,
        "graduation_date": on,
        "postsecondary_enrolled": enrolled,
        "persisted_second_year": persisted,
    }
