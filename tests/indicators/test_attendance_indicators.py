"""Absence rate, bands and chronic absence (docs/indicators.md, Attendance), checked by hand."""

from __future__ import annotations

from datetime import date

import pytest

from tests.indicators.builders import AS_OF, enrollment, snapshot, tables


def one(rows, enrolled: int, absent: int) -> dict:
    return rows(
        tables(enrollments=[enrollment("S1")], attendance=[snapshot("S1", enrolled, absent)])
    )["S1"]


def test_exactly_ten_percent_is_chronic_and_nine_point_nine_nine_is_not(rows) -> None:
    at = one(rows, 10_000, 1_000)
    below = one(rows, 10_000, 999)
    assert at["absence_rate"] == pytest.approx(0.10)
    assert at["chronic_absence"] is True
    assert at["attendance_band"] == "moderate_chronic"
    assert below["chronic_absence"] is False
    assert below["attendance_band"] == "at_risk"


def test_eighteen_of_one_hundred_eighty_days_is_exactly_the_threshold(rows) -> None:
    assert one(rows, 180, 18)["chronic_absence"] is True
    assert one(rows, 180, 17)["chronic_absence"] is False


@pytest.mark.parametrize(
    ("absent", "band"),
    [
        (0, "satisfactory"),
        (8, "satisfactory"),
        (9, "at_risk"),
        (17, "at_risk"),
        (18, "moderate_chronic"),
        (35, "moderate_chronic"),
        (36, "severe_chronic"),
        (180, "severe_chronic"),
    ],
)
def test_bands_start_at_five_ten_and_twenty_percent(rows, absent, band) -> None:
    assert one(rows, 180, absent)["attendance_band"] == band


def test_nine_days_enrolled_is_not_enough_and_ten_is(rows) -> None:
    nine = one(rows, 9, 5)
    ten = one(rows, 10, 1)
    assert nine["attendance_state"] == "not_enough_days"
    assert nine["days_enrolled"] == 9 and nine["days_absent"] == 5
    assert nine["absence_rate"] is None
    assert nine["attendance_band"] is None
    assert nine["chronic_absence"] is None
    assert nine["flag_count"] == 0 and nine["tier"] == 1
    assert ten["attendance_state"] == "ok"
    assert ten["absence_rate"] == pytest.approx(0.1)
    assert ten["chronic_absence"] is True


def test_a_mid_year_transfer_is_judged_on_both_schools_latest_snapshots(rows) -> None:
    # HS1 until December: 40 days/2 absent at October's end, then 70/10 at its last one.
    # HS2 from January: 30 days/6 absent. Year: 100 days, 16 absent = 16%.
    # Either school alone would say 14.3% or 20% (severe): neither is the student's year.
    world = tables(
        enrollments=[
            enrollment("S1", school="HS1", exit=date(2025, 12, 19), code="transferred"),
            enrollment("S1", school="HS2", entry=date(2026, 1, 5)),
        ],
        attendance=[
            snapshot("S1", 40, 2, on=date(2025, 10, 31), school="HS1"),
            snapshot("S1", 70, 10, on=date(2025, 12, 19), school="HS1"),
            snapshot("S1", 20, 5, on=date(2026, 1, 31), school="HS2"),
            snapshot("S1", 30, 6, on=date(2026, 2, 27), school="HS2"),
        ],
    )
    row = rows(world)["S1"]
    assert (row["days_enrolled"], row["days_absent"]) == (100, 16)
    assert row["absence_rate"] == pytest.approx(0.16)
    assert row["attendance_band"] == "moderate_chronic"
    assert row["school_id"] == "HS2"


def test_snapshots_after_the_as_of_date_and_of_other_years_are_ignored(rows) -> None:
    world = tables(
        enrollments=[enrollment("S1")],
        attendance=[
            snapshot("S1", 100, 4, on=date(2026, 2, 27)),
            snapshot("S1", 110, 30, on=AS_OF.replace(day=AS_OF.day + 1)),
            snapshot("S1", 170, 90, on=date(2025, 6, 13), year=2025),
        ],
    )
    row = rows(world)["S1"]
    assert (row["days_enrolled"], row["days_absent"]) == (100, 4)
    assert row["attendance_as_of"] == date(2026, 2, 27)
    assert row["chronic_absence"] is False


def test_a_student_without_attendance_data_is_not_flagged(rows) -> None:
    row = rows(tables(enrollments=[enrollment("S1")]))["S1"]
    assert row["attendance_state"] == "no_data"
    assert row["days_enrolled"] is None
    assert row["chronic_absence"] is None
    assert row["attendance_band"] is None
    assert row["flag_count"] == 0
    assert row["tier"] == 1
