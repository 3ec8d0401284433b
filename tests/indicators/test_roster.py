"""Who is on the early-warning list (docs/command-line.md: enrolled in the year as of the date)."""

from __future__ import annotations

from datetime import date

from tests.indicators.builders import AS_OF, YEAR, enrollment, tables


def test_students_who_left_on_or_before_the_as_of_date_are_not_listed(rows) -> None:
    world = tables(
        enrollments=[
            enrollment("STAYS"),
            enrollment("LEAVES_LATER", exit=date(2026, 3, 3), code="transferred"),
            enrollment("LEFT_THAT_DAY", exit=AS_OF, code="dropped_out"),
            enrollment("LEFT_BEFORE", exit=date(2025, 11, 1), code="transferred"),
            enrollment("OTHER_YEAR", year=YEAR - 1),
        ]
    )
    assert list(rows(world)) == ["LEAVES_LATER", "STAYS"]


def test_school_and_grade_come_from_the_latest_current_enrollment(rows) -> None:
    world = tables(
        enrollments=[
            enrollment("S1", grade=9, school="HS1", exit=date(2026, 1, 9), code="transferred"),
            enrollment("S1", grade=9, school="HS3", entry=date(2026, 1, 12)),
            enrollment("S2", grade=10, school="HS2", entry=date(2025, 8, 27)),
            enrollment("S2", grade=10, school="HS1", entry=date(2025, 10, 1)),
        ]
    )
    found = rows(world)
    assert (found["S1"]["school_id"], found["S1"]["grade_level"]) == ("HS3", 9)
    assert found["S2"]["school_id"] == "HS1"


def test_the_list_is_sorted_by_student_id_and_has_one_row_per_student(rows) -> None:
    world = tables(
        enrollments=[enrollment(sid) for sid in ("S3", "S1", "S2")]
        + [enrollment("S1", school="HS2", entry=date(2025, 9, 15))]
    )
    assert list(rows(world)) == ["S1", "S2", "S3"]
