"""Absence rate, attendance bands and the chronic-absence flag.

Rule (docs/indicators.md, "Attendance"): a student's absence rate for a school year is
`days_absent / days_enrolled` from the latest snapshot on or before the as-of date AT EACH
SCHOOL, summed over the schools the student attended that year, so a mid-year transfer is
judged on the whole year (Attendance Works, "The Attendance Imperative", 2013: absences
from "children switching schools" count). It is evaluated only from `min_days_enrolled`
(10) days enrolled (EDFacts FS195). Bands: satisfactory < 5% <= at_risk < 10% <=
moderate_chronic < 20% <= severe_chronic (Attendance Works tiers, NM Stat. 22-12A-2).
Flag chronic_absence: 10% or more for any reason (U.S. Department of Education).

Thresholds are compared in exact integer arithmetic (`absent * 10^6 >= t * 10^6 * enrolled`)
so that 18 of 180 days is exactly 10.00%, never 9.9999%.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import ATTENDANCE_BANDS
from indicators.settings import Settings

#: Fractions are compared as integers in millionths (thresholds are rounded to 1e-6).
SCALE: Final = 1_000_000

STATE_OK: Final = "ok"
STATE_NOT_ENOUGH_DAYS: Final = "not_enough_days"
STATE_NO_DATA: Final = "no_data"
ATTENDANCE_STATES: Final = (STATE_OK, STATE_NOT_ENOUGH_DAYS, STATE_NO_DATA)


def scaled(fraction: float) -> int:
    """A threshold fraction as an integer number of millionths."""
    return round(fraction * SCALE)


def at_least(absent: pl.Expr, enrolled: pl.Expr, fraction: float) -> pl.Expr:
    """`absent / enrolled >= fraction`, exactly (integer arithmetic)."""
    return absent * SCALE >= enrolled * scaled(fraction)


def latest_snapshots(attendance: pl.LazyFrame, school_year: int, as_of: date) -> pl.LazyFrame:
    """Per (student, school): the latest snapshot of `school_year` on or before `as_of`."""
    return (
        attendance.filter((pl.col("school_year") == school_year) & (pl.col("as_of_date") <= as_of))
        .select("student_id", "school_id", "as_of_date", "days_enrolled", "days_absent")
        .group_by("student_id", "school_id")
        .agg(pl.col("days_enrolled", "days_absent", "as_of_date").sort_by("as_of_date").last())
    )


def attendance_totals(attendance: pl.LazyFrame, school_year: int, as_of: date) -> pl.LazyFrame:
    """Per student: days enrolled and absent, summed over each school's latest snapshot.

    Columns: student_id, days_enrolled, days_absent, attendance_as_of (the latest snapshot
    date used).
    """
    return (
        latest_snapshots(attendance, school_year, as_of)
        .group_by("student_id")
        .agg(
            pl.col("days_enrolled").sum(),
            pl.col("days_absent").sum(),
            pl.col("as_of_date").max().alias("attendance_as_of"),
        )
    )


def attendance_state(settings: Settings) -> pl.Expr:
    """The attendance state from days_enrolled (null when there is no snapshot): "ok",
    "not_enough_days" or "no_data"."""
    return (
        pl.when(pl.col("days_enrolled").is_null())
        .then(pl.lit(STATE_NO_DATA))
        .when(pl.col("days_enrolled") < settings.min_days_enrolled)
        .then(pl.lit(STATE_NOT_ENOUGH_DAYS))
        .otherwise(pl.lit(STATE_OK))
        .alias("attendance_state")
    )


def absence_rate() -> pl.Expr:
    """days_absent / days_enrolled, only where attendance_state is "ok" (else null)."""
    return (
        pl.when(pl.col("attendance_state") == STATE_OK)
        .then(pl.col("days_absent") / pl.col("days_enrolled"))
        .otherwise(None)
        .cast(pl.Float64)
        .alias("absence_rate")
    )


def band_of(absent: pl.Expr, enrolled: pl.Expr, settings: Settings) -> pl.Expr:
    """The attendance band for `absent` of `enrolled` days (no null handling)."""
    low, moderate, severe = settings.band_thresholds
    names = ATTENDANCE_BANDS
    return (
        pl.when(at_least(absent, enrolled, severe))
        .then(pl.lit(names[3]))
        .when(at_least(absent, enrolled, moderate))
        .then(pl.lit(names[2]))
        .when(at_least(absent, enrolled, low))
        .then(pl.lit(names[1]))
        .otherwise(pl.lit(names[0]))
    )


def attendance_band(settings: Settings) -> pl.Expr:
    """The band where attendance_state is "ok", else null."""
    return (
        pl.when(pl.col("attendance_state") == STATE_OK)
        .then(band_of(pl.col("days_absent"), pl.col("days_enrolled"), settings))
        .otherwise(None)
        .alias("attendance_band")
    )


def chronic_absence(settings: Settings) -> pl.Expr:
    """Flag: absent `chronic_threshold` (10%) of days enrolled or more; null when not evaluable."""
    return (
        pl.when(pl.col("attendance_state") == STATE_OK)
        .then(at_least(pl.col("days_absent"), pl.col("days_enrolled"), settings.chronic_threshold))
        .otherwise(None)
        .alias("chronic_absence")
    )
