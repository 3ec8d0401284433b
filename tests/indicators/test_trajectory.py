"""Trajectory figures, each worked out by hand from the formulas in the module docstring."""

from __future__ import annotations

from datetime import date

import pytest

from indicators.trajectory import attendance_trajectory
from tests.indicators.builders import AS_OF, YEAR, frame, snapshot


def trajectory(settings, snapshots: list[dict], as_of: date = AS_OF) -> dict:
    result = attendance_trajectory(frame("attendance", snapshots), YEAR, as_of, settings)
    return {row["student_id"]: row for row in result.iter_rows(named=True)}


def test_the_projection_uses_the_pace_between_the_last_two_snapshots(settings) -> None:
    # 5 of 40 days by January, 9 of 60 by February: a recent pace of 4 in 20 (0.2).
    # 120 days remain: (9 + 0.2 * 120) / 180 = 33 / 180 = 18.3%.
    row = trajectory(
        settings,
        [snapshot("S1", 40, 5, on=date(2026, 1, 30)), snapshot("S1", 60, 9, on=date(2026, 2, 27))],
    )["S1"]
    assert (row["pace_days_enrolled"], row["pace_days_absent"]) == (20, 4)
    assert row["pace_rate"] == pytest.approx(0.2)
    assert row["remaining_days"] == 120
    assert row["projected_days_absent"] == pytest.approx(33.0)
    assert row["projected_absence_rate"] == pytest.approx(33 / 180)
    assert row["projected_band"] == "moderate_chronic"


def test_with_one_snapshot_the_pace_is_the_year_so_far(settings) -> None:
    row = trajectory(settings, [snapshot("S1", 60, 3)])["S1"]
    assert (row["pace_days_enrolled"], row["pace_days_absent"]) == (60, 3)
    assert row["projected_absence_rate"] == pytest.approx(0.05)
    assert row["projected_band"] == "at_risk"


def test_the_pace_window_sums_each_schools_latest_snapshot_at_both_dates(settings) -> None:
    # Transfer: HS1 closes at 50 days / 2 absent in December; HS2 has 10/3 in January and
    # 30/9 in February. Earlier date (Jan 31): 60/5; latest (Feb 27): 80/11; pace 6 in 20.
    row = trajectory(
        settings,
        [
            snapshot("S1", 50, 2, on=date(2025, 12, 19), school="HS1"),
            snapshot("S1", 10, 3, on=date(2026, 1, 31), school="HS2"),
            snapshot("S1", 30, 9, on=date(2026, 2, 27), school="HS2"),
        ],
    )["S1"]
    assert (row["days_enrolled"], row["days_absent"]) == (80, 11)
    assert (row["pace_days_enrolled"], row["pace_days_absent"]) == (20, 6)


def test_remaining_days_never_go_below_zero(settings) -> None:
    row = trajectory(settings, [snapshot("S1", 185, 10)])["S1"]
    assert row["remaining_days"] == 0
    assert row["projected_absence_rate"] == pytest.approx(10 / 185)


@pytest.mark.parametrize(
    ("enrolled", "absent", "approaching", "next_band"),
    [
        (91, 9, True, "moderate_chronic"),  # 9.9%: within one point of 10%
        (90, 8, False, "moderate_chronic"),  # 8.9%: 1.1 points away; 9 of 91 is still 9.9%
        (45, 4, True, "moderate_chronic"),  # 8.9%, but 5 of 46 is 10.9%
        (100, 4, True, "at_risk"),  # 4%: exactly one point under 5%
        (100, 19, True, "severe_chronic"),  # 19%
        (100, 30, False, None),  # severe already: no next band
    ],
)
def test_approaching_the_next_band(settings, enrolled, absent, approaching, next_band) -> None:
    row = trajectory(settings, [snapshot("S1", enrolled, absent)])["S1"]
    assert row["approaching"] is approaching
    assert row["next_band"] == next_band


@pytest.mark.parametrize(
    ("enrolled", "absent", "days"),
    [(62, 14, 79), (100, 10, 1), (100, 9, 0), (180, 18, 1), (20, 0, 0), (10, 10, 91)],
)
def test_days_to_recover_bring_the_rate_just_under_ten_percent(
    settings, enrolled, absent, days
) -> None:
    row = trajectory(settings, [snapshot("S1", enrolled, absent)])["S1"]
    assert row["days_to_recover"] == days
    assert absent / (enrolled + days) < 0.10
    if days:
        assert absent / (enrolled + days - 1) >= 0.10


def test_recovery_within_the_year_is_told_apart(settings) -> None:
    found = trajectory(settings, [snapshot("S1", 62, 14), snapshot("S2", 150, 30)])
    assert found["S1"]["recoverable_this_year"] is True  # 79 days, 118 remain
    assert found["S2"]["recoverable_this_year"] is False  # 151 days, 30 remain


def test_days_until_chronic_at_the_current_pace(settings) -> None:
    # 1 of 40 days in January, 5 of 60 in February: pace 4 in 20 (0.2) above 10%.
    # Least k with (5 + 0.2 k) / (60 + k) >= 0.1: k >= 1 / 0.1 = 10.
    found = trajectory(
        settings,
        [
            snapshot("S1", 40, 1, on=date(2026, 1, 30)),
            snapshot("S1", 60, 5, on=date(2026, 2, 27)),
            snapshot("S2", 60, 3),  # pace 5%: never at this pace
            snapshot("S3", 60, 12),  # already chronic
        ],
    )
    assert found["S1"]["days_until_chronic"] == 10
    assert (5 + 0.2 * 10) / 70 >= 0.1 > (5 + 0.2 * 9) / 69
    assert found["S2"]["days_until_chronic"] is None
    assert found["S3"]["days_until_chronic"] is None


def test_no_figures_without_enough_days(settings) -> None:
    row = trajectory(settings, [snapshot("S1", 9, 5)])["S1"]
    assert row["attendance_state"] == "not_enough_days"
    assert row["projected_absence_rate"] is None
    assert row["approaching"] is None
    assert row["days_to_recover"] is None
