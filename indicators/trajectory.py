"""Attendance trajectories: where a student's absence rate is heading, and how far it is
from the next band (indicators.md "Attendance"; Attendance Works' "days to recover" advice).

For a student whose rate is evaluated (days enrolled >= `min_days_enrolled`), with A days
absent of E enrolled so far (summed over schools as for the rate), threshold t = p/q as an
exact fraction (0.10 = 1/10):

- pace: the absence rate between the two latest snapshot dates (totals summed over
  schools at each date), or the year so far when there is only one date;
- remaining_days = max(0, instructional_days - E); projected_days_absent =
  A + pace x remaining_days; projected_absence_rate = projected_days_absent /
  (E + remaining_days), and projected_band its band;
- next_band: the band after the current one (null for severe_chronic); approaching: not yet
  in it, but within one percentage point of its threshold, or one more absence would
  reach it ((A+1)/(E+1) >= threshold);
- days_to_recover: consecutive days present needed to be back under the chronic threshold:
  0 when A/E < t, else the least d with A/(E+d) < t, i.e. floor((A*q - E*p)/p) + 1;
  recoverable_this_year: days_to_recover <= remaining_days;
- days_until_chronic: for a student under t, the least number of further absences k with
  (A+k)/(E+k) >= t, i.e. ceil((E*p - A*q)/(q - p)); 0 when already chronic.
All comparisons are exact integer arithmetic, as in `indicators.attendance`.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Final

import polars as pl

from domain.vocabulary import ATTENDANCE_BANDS
from indicators.attendance import at_least, band_of, latest_snapshots
from indicators.settings import Settings

ONE_POINT: Final = 0.01
TRAJECTORY_COLUMNS: Final = (
    "student_id",
    "pace_days_enrolled",
    "pace_days_absent",
    "pace_rate",
    "remaining_days",
    "projected_days_absent",
    "projected_absence_rate",
    "projected_band",
    "next_band",
    "approaching",
    "days_to_recover",
    "recoverable_this_year",
    "days_until_chronic",
)


def _totals_at(snapshots: pl.LazyFrame, dates: pl.LazyFrame) -> pl.LazyFrame:
    """Per (student, date in `dates`): the school-summed totals of the latest snapshot on or
    before that date at each school."""
    joined = snapshots.join(dates, on="student_id").filter(pl.col("as_of_date") <= pl.col("at"))
    return (
        joined.group_by("student_id", "at", "school_id")
        .agg(pl.col("days_enrolled", "days_absent").sort_by("as_of_date").last())
        .group_by("student_id", "at")
        .agg(pl.col("days_enrolled").sum(), pl.col("days_absent").sum())
    )


def attendance_trajectory(
    attendance: pl.DataFrame, school_year: int, as_of: date, settings: Settings
) -> pl.DataFrame:
    """One row per student with a snapshot in `school_year` on or before `as_of`;
    columns `TRAJECTORY_COLUMNS` (null where the rate is not evaluated)."""
    snaps = (
        attendance.lazy()
        .filter((pl.col("school_year") == school_year) & (pl.col("as_of_date") <= as_of))
        .select("student_id", "school_id", "as_of_date", "days_enrolled", "days_absent")
    )
    current = (
        latest_snapshots(attendance.lazy(), school_year, as_of)
        .group_by("student_id")
        .agg(pl.col("days_enrolled").sum().alias("E"), pl.col("days_absent").sum().alias("A"))
    )
    dates = snaps.select("student_id", "as_of_date").unique()
    previous_date = (
        dates.group_by("student_id")
        .agg(pl.col("as_of_date").sort(descending=True).get(1, null_on_oob=True).alias("at"))
        .drop_nulls("at")
    )
    previous = _totals_at(snaps, previous_date).select(
        "student_id", pl.col("days_enrolled").alias("E0"), pl.col("days_absent").alias("A0")
    )
    chronic = Fraction(str(settings.chronic_threshold)).limit_denominator(1_000_000)
    p, q = chronic.numerator, chronic.denominator
    bands = settings.band_thresholds
    frame = current.join(previous, on="student_id", how="left").with_columns(
        pace_days_enrolled=pl.when(pl.col("E0").is_not_null() & (pl.col("E") > pl.col("E0")))
        .then(pl.col("E") - pl.col("E0"))
        .otherwise(pl.col("E")),
        pace_days_absent=pl.when(pl.col("E0").is_not_null() & (pl.col("E") > pl.col("E0")))
        .then(pl.col("A") - pl.col("A0"))
        .otherwise(pl.col("A")),
    )
    evaluated = pl.col("E") >= settings.min_days_enrolled
    current_band = band_of(pl.col("A"), pl.col("E"), settings)
    next_threshold = (
        pl.when(current_band == ATTENDANCE_BANDS[0])
        .then(pl.lit(bands[0]))
        .when(current_band == ATTENDANCE_BANDS[1])
        .then(pl.lit(bands[1]))
        .when(current_band == ATTENDANCE_BANDS[2])
        .then(pl.lit(bands[2]))
        .otherwise(None)
    )
    next_band = (
        pl.when(current_band == ATTENDANCE_BANDS[0])
        .then(pl.lit(ATTENDANCE_BANDS[1]))
        .when(current_band == ATTENDANCE_BANDS[1])
        .then(pl.lit(ATTENDANCE_BANDS[2]))
        .when(current_band == ATTENDANCE_BANDS[2])
        .then(pl.lit(ATTENDANCE_BANDS[3]))
        .otherwise(None)
    )
    one_more_reaches = pl.any_horizontal(
        [
            (next_threshold == pl.lit(t)) & at_least(pl.col("A") + 1, pl.col("E") + 1, t)
            for t in bands
        ]
    )
    within_point = (next_threshold - pl.col("A") / pl.col("E")) <= ONE_POINT + 1e-12
    remaining = (pl.lit(settings.instructional_days) - pl.col("E")).clip(lower_bound=0)
    pace = pl.when(pl.col("pace_days_enrolled") > 0).then(
        pl.col("pace_days_absent") / pl.col("pace_days_enrolled")
    )
    chronic_now = at_least(pl.col("A"), pl.col("E"), settings.chronic_threshold)
    to_recover = (
        pl.when(chronic_now).then((pl.col("A") * q - pl.col("E") * p) // p + 1).otherwise(0)
    )
    until_chronic = (
        pl.when(chronic_now)
        .then(0)
        .otherwise(-((pl.col("A") * q - pl.col("E") * p) // (q - p)))  # ceil((E*p - A*q)/(q-p))
    )
    frame = frame.with_columns(remaining_days=remaining, pace_rate=pace).with_columns(
        projected_days_absent=pl.col("A")
        + pl.col("pace_rate").fill_null(0) * pl.col("remaining_days"),
    )
    projected_rate = pl.col("projected_days_absent") / (pl.col("E") + pl.col("remaining_days"))
    frame = frame.with_columns(projected_absence_rate=projected_rate).with_columns(
        projected_band=pl.when(pl.col("projected_absence_rate") >= bands[2])
        .then(pl.lit(ATTENDANCE_BANDS[3]))
        .when(pl.col("projected_absence_rate") >= bands[1])
        .then(pl.lit(ATTENDANCE_BANDS[2]))
        .when(pl.col("projected_absence_rate") >= bands[0])
        .then(pl.lit(ATTENDANCE_BANDS[1]))
        .otherwise(pl.lit(ATTENDANCE_BANDS[0])),
        next_band=next_band,
        approaching=next_threshold.is_not_null() & (within_point | one_more_reaches),
        days_to_recover=to_recover.cast(pl.Int64),
        days_until_chronic=until_chronic.cast(pl.Int64),
    )
    frame = frame.with_columns(
        recoverable_this_year=pl.col("days_to_recover") <= pl.col("remaining_days"),
    )
    output = [c for c in TRAJECTORY_COLUMNS if c != "student_id"]
    return (
        frame.with_columns(
            pl.when(evaluated).then(pl.col(c)).otherwise(None).alias(c) for c in output
        )
        .with_columns(
            pl.col("pace_days_enrolled", "pace_days_absent", "remaining_days").cast(pl.Int64),
            pl.col("projected_days_absent", "projected_absence_rate", "pace_rate").cast(pl.Float64),
        )
        .select(TRAJECTORY_COLUMNS)
        .sort("student_id")
        .collect()
    )
