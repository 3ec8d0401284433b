"""Trajectories: projected year-end rate, approaching the next band, days to recover."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from indicators.settings import Settings
from indicators.trajectory import attendance_trajectory

YEAR = 2027
AS_OF = date(2026, 11, 22)


def snapshots(*rows: tuple[str, str, date, int, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"student_id": s, "school_id": sc, "school_year": YEAR, "as_of_date": d, "days_enrolled": e, "days_absent": a}
         for s, sc, d, e, a in rows]
    )  # fmt: skip


def one(frame: pl.DataFrame) -> dict:
    return frame.row(0, named=True)


def test_days_to_recover_is_the_least_run_of_present_days_that_gets_under_ten_percent() -> None:
    row = one(
        attendance_trajectory(
            snapshots(("S", "A", date(2026, 10, 31), 100, 11)), YEAR, AS_OF, Settings()
        )
    )
    # 11/110 is exactly 10% (still chronic); 11/111 is under it.
    assert row["days_to_recover"] == 11
    row = one(
        attendance_trajectory(
            snapshots(("S", "A", date(2026, 10, 31), 100, 10)), YEAR, AS_OF, Settings()
        )
    )
    assert row["days_to_recover"] == 1  # 10/100 is chronic, 10/101 is not
    row = one(
        attendance_trajectory(
            snapshots(("S", "A", date(2026, 10, 31), 100, 9)), YEAR, AS_OF, Settings()
        )
    )
    assert row["days_to_recover"] == 0


def test_one_more_absence_into_the_next_band_is_approaching() -> None:
    # 14/150 = 9.33%: 15/151 = 9.93% stays under 10%, but 9.33% is within one point of it.
    row = one(
        attendance_trajectory(
            snapshots(("S", "A", date(2026, 10, 31), 150, 14)), YEAR, AS_OF, Settings()
        )
    )
    assert row["next_band"] == "moderate_chronic" and row["approaching"] is True
    # 3/50 = 6%: four points from 10%, and 4/51 = 7.8%: not approaching.
    row = one(
        attendance_trajectory(
            snapshots(("S", "A", date(2026, 10, 31), 50, 3)), YEAR, AS_OF, Settings()
        )
    )
    assert row["approaching"] is False
    # 2/50 = 4%: one more (3/51 = 5.9%) crosses into at_risk.
    row = one(
        attendance_trajectory(
            snapshots(("S", "A", date(2026, 10, 31), 50, 2)), YEAR, AS_OF, Settings()
        )
    )
    assert row["next_band"] == "at_risk" and row["approaching"] is True


def test_the_projection_continues_the_pace_between_the_two_latest_snapshots() -> None:
    frame = attendance_trajectory(
        snapshots(("S", "A", date(2026, 9, 30), 20, 0), ("S", "A", date(2026, 10, 31), 40, 4)),
        YEAR,
        AS_OF,
        Settings(),
    )
    row = one(frame)
    assert row["pace_rate"] == pytest.approx(0.2)  # 4 absences in the last 20 days
    assert row["remaining_days"] == 140
    assert row["projected_days_absent"] == pytest.approx(4 + 0.2 * 140)
    assert row["projected_absence_rate"] == pytest.approx(32 / 180)
    assert row["projected_band"] == "moderate_chronic"


def test_a_mid_year_move_sums_both_schools_at_each_date() -> None:
    frame = attendance_trajectory(
        snapshots(
            ("S", "A", date(2026, 9, 30), 20, 2),
            ("S", "A", date(2026, 10, 15), 30, 3),
            ("S", "B", date(2026, 10, 31), 10, 3),
        ),
        YEAR, AS_OF, Settings(),
    )  # fmt: skip
    row = one(frame)
    # Totals: Oct 15 = 30 enrolled, 3 absent; Oct 31 = 40 enrolled, 6 absent -> pace 3/10.
    assert (row["pace_days_enrolled"], row["pace_days_absent"]) == (10, 3)
    assert row["days_until_chronic"] == 0 and row["days_to_recover"] == 21  # 6/61 < 10%


def test_days_until_chronic_counts_further_absences_from_below_the_threshold() -> None:
    row = one(
        attendance_trajectory(
            snapshots(("S", "A", date(2026, 10, 31), 50, 2)), YEAR, AS_OF, Settings()
        )
    )
    # (2+k)/(50+k) >= 0.1  <=>  k >= 3.33  -> 4
    assert row["days_until_chronic"] == 4


def test_nothing_is_projected_under_ten_days_enrolled() -> None:
    row = one(
        attendance_trajectory(
            snapshots(("S", "A", date(2026, 9, 5), 9, 5)), YEAR, AS_OF, Settings()
        )
    )
    assert (
        row["approaching"] is None
        and row["days_to_recover"] is None
        and row["projected_absence_rate"] is None
    )
