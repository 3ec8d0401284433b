"""Attendance trajectory: where the year is heading and what it takes to recover.

The flags say where a student stands; these figures say where the current pace leads
(the Rethink MTSS "approaching" indicator and the trajectory alerts of
../shared/research/anchors-mission.md, section (d) 7), with transparent arithmetic that a
counselor can check by hand. With a = days absent and e = days enrolled so far (summed
over each school's latest snapshot, as for the absence rate), t the chronic threshold
(0.10) and N the instructional days of a year (180):

- Pace: the absence rate between the student's last two snapshot dates,
  `(a2 - a1) / (e2 - e1)`, where (a1, e1) are the totals as of the earlier date; with a
  single snapshot date (or no enrolled day between them) it is the year so far, `a / e`.
- Remaining days: `r = max(0, N - e)`.
- Projected year-end rate: `(a + pace * r) / (e + r)`. Example: 9 absences in 60 days
  with a recent pace of 4 in 20 (0.2): r = 120, (9 + 24) / 180 = 18.3%.
- Approaching: not yet in the next band, but within one percentage point of its lower
  bound (`rate >= bound - 0.01`), or one more absence would reach it
  (`(a + 1) / (e + 1) >= bound`). Examples: 9 of 91 days (9.9%) is approaching 10%;
  8 of 90 days (8.9%) is not (1.1 points away, and 9 of 91 stays under 10%); 4 of 45 days
  (8.9%) is, since 5 of 46 is 10.9%.
- Days to recover: consecutive days present needed to get back under the chronic
  threshold, the least k with `a / (e + k) < t`, that is `k = floor(a / t) - e + 1`
  (0 when already under). Example: 14 of 62 days (22.6%): floor(140) - 62 + 1 = 79 days.
- Days until chronic: for a student still under t whose pace p is above it, the least k
  with `(a + p k) / (e + k) >= t`, that is `k = ceil((t e - a) / (p - t))`. Example:
  5 of 60 days at a pace of 0.25: ceil((6 - 5) / 0.15) = 7 school days.

All comparisons use exact integer arithmetic in millionths (`indicators.attendance`).
Only students whose attendance is evaluable (`attendance_state == "ok"`) get figures.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import ATTENDANCE_BANDS
from indicators.attendance import SCALE, STATE_OK, attendance_state, band_of, scaled
from indicators.settings import Settings

ONE_POINT: Final = SCALE // 100  # one percentage point in millionths

TRAJECTORY_COLUMNS: Final = (
    "student_id",
    "days_enrolled",
    "days_absent",
    "attendance_state",
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


def _totals_as_of(snapshots: pl.LazyFrame, cutoffs: pl.LazyFrame) -> pl.LazyFrame:
    """Per student: days enrolled and absent summed over each school's latest snapshot on
    or before the student's own cutoff date (column `cutoff` of `cutoffs`)."""
    return (
        snapshots.join(cutoffs, on="student_id")
        .filter(pl.col("as_of_date") <= pl.col("cutoff"))
        .group_by("student_id", "school_id")
        .agg(pl.col("days_enrolled", "days_absent").sort_by("as_of_date").last())
        .group_by("student_id")
        .agg(pl.col("days_enrolled").sum(), pl.col("days_absent").sum())
    )


def _ceil_div(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return -((-numerator) // denominator)


def attendance_trajectory(
    attendance: pl.DataFrame, school_year: int, as_of: date, settings: Settings
) -> pl.DataFrame:
    """One row per student with a snapshot in `school_year` on or before `as_of`, sorted
    by student_id. Columns: `TRAJECTORY_COLUMNS` (see the module docstring for each
    formula); projections are null unless attendance_state is "ok"."""
    snapshots = (
        attendance.lazy()
        .filter((pl.col("school_year") == school_year) & (pl.col("as_of_date") <= as_of))
        .select("student_id", "school_id", "as_of_date", "days_enrolled", "days_absent")
    )
    dates = snapshots.group_by("student_id").agg(
        pl.col("as_of_date").max().alias("latest"),
        pl.col("as_of_date").unique().sort().reverse().get(1, null_on_oob=True).alias("earlier"),
    )
    now = _totals_as_of(snapshots, dates.select("student_id", pl.col("latest").alias("cutoff")))
    before = _totals_as_of(
        snapshots,
        dates.filter(pl.col("earlier").is_not_null()).select(
            "student_id", pl.col("earlier").alias("cutoff")
        ),
    ).rename({"days_enrolled": "e1", "days_absent": "a1"})

    a, e = pl.col("days_absent"), pl.col("days_enrolled")
    window = (pl.col("e1").is_not_null()) & (e > pl.col("e1"))
    pace_e = pl.when(window).then(e - pl.col("e1")).otherwise(e)
    pace_a = pl.when(window).then(a - pl.col("a1")).otherwise(a)
    ok = pl.col("attendance_state") == STATE_OK
    bands = ATTENDANCE_BANDS
    lows = [scaled(t) for t in settings.band_thresholds]  # lower bounds of bands 1..3
    current = band_of(a, e, settings)
    next_band = (
        pl.when(current == bands[0])
        .then(pl.lit(bands[1]))
        .when(current == bands[1])
        .then(pl.lit(bands[2]))
        .when(current == bands[2])
        .then(pl.lit(bands[3]))
    )
    next_low = (
        pl.when(current == bands[0])
        .then(lows[0])
        .when(current == bands[1])
        .then(lows[1])
        .when(current == bands[2])
        .then(lows[2])
    )
    chronic = scaled(settings.chronic_threshold)
    remaining = (settings.instructional_days - e).clip(lower_bound=0)
    projected_absent = a + pl.col("pace_rate") * pl.col("remaining_days")
    projected_enrolled = e + pl.col("remaining_days")
    under = a * SCALE < e * chronic
    above_pace = pl.col("pace_days_absent") * SCALE > pl.col("pace_days_enrolled") * chronic

    frame = (
        now.join(before, on="student_id", how="left")
        .with_columns(attendance_state(settings))
        .with_columns(
            pl.when(ok).then(pace_e).alias("pace_days_enrolled"),
            pl.when(ok).then(pace_a).alias("pace_days_absent"),
            pl.when(ok).then(remaining).alias("remaining_days"),
        )
        .with_columns(
            (pl.col("pace_days_absent") / pl.col("pace_days_enrolled")).alias("pace_rate")
        )
        .with_columns(
            pl.when(ok).then(projected_absent).alias("projected_days_absent"),
            pl.when(ok).then(projected_absent / projected_enrolled).alias("projected_absence_rate"),
            pl.when(ok)
            .then(band_of(projected_absent, projected_enrolled.cast(pl.Float64), settings))
            .alias("projected_band"),
            pl.when(ok).then(next_band).alias("next_band"),
            pl.when(ok)
            .then(
                next_low.is_not_null()
                & (
                    (a * SCALE >= (next_low - ONE_POINT) * e)
                    | ((a + 1) * SCALE >= next_low * (e + 1))
                )
            )
            .alias("approaching"),
            pl.when(ok)
            .then(((a * SCALE) // chronic - e + 1).clip(lower_bound=0))
            .alias("days_to_recover"),
            pl.when(ok & under & above_pace)
            .then(
                _ceil_div(
                    pl.col("pace_days_enrolled") * (e * chronic - a * SCALE),
                    pl.col("pace_days_absent") * SCALE - pl.col("pace_days_enrolled") * chronic,
                )
            )
            .alias("days_until_chronic"),
        )
        .with_columns(
            (pl.col("days_to_recover") <= pl.col("remaining_days")).alias("recoverable_this_year")
        )
        .select(TRAJECTORY_COLUMNS)
        .sort("student_id")
    )
    return frame.collect().with_columns(
        pl.col("remaining_days", "days_to_recover", "days_until_chronic").cast(pl.Int64),
        pl.col("projected_days_absent", "projected_absence_rate", "pace_rate").cast(pl.Float64),
    )
