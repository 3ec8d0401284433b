"""Daily attendance (`attendance_daily`) turned into cumulative `attendance` snapshots.

The rule (docs/import-format.md, `attendance_daily`: "aggregated on import into the attendance
snapshots"): rows are grouped by student, school and school year, the year derived from
the date with the August 1 boundary (`domain.school_year.school_year_of`). Each group gets
one snapshot at the end of every month in which it has rows, and the month of its latest
date gets its snapshot at that latest date instead (a month end that has not happened
yet, or a student who left mid-month, is never reported past the last day recorded).
Each snapshot is cumulative from the group's first day up to its `as_of_date`:

- days_enrolled = days with any status;
- days_absent = days `absent_excused` + `absent_unexcused` + `suspended`
  (`domain.import_format.ABSENT_STATUSES`).
"""

from __future__ import annotations

import polars as pl

from domain.import_format import ABSENT_STATUSES

GROUP = ["student_id", "school_id", "school_year"]
SNAPSHOT_COLUMNS = [
    "student_id",
    "school_id",
    "school_year",
    "as_of_date",
    "days_enrolled",
    "days_absent",
]


def school_year_expr(day: pl.Expr) -> pl.Expr:
    """`school_year_of` as a Polars expression: August or later belongs to the next year."""
    return (day.dt.year() + (day.dt.month() >= 8).cast(pl.Int32)).cast(pl.Int64)


def snapshots(daily: pl.DataFrame) -> pl.DataFrame:
    """Cumulative snapshots from checked daily rows (student_id, school_id, date, status)."""
    monthly = (
        daily.select(
            "student_id",
            "school_id",
            school_year_expr(pl.col("date")).alias("school_year"),
            pl.col("date").dt.month_end().alias("month_end"),
            "date",
            pl.col("status").is_in(list(ABSENT_STATUSES)).alias("absent"),
        )
        .group_by([*GROUP, "month_end"])
        .agg(
            pl.len().cast(pl.Int64).alias("enrolled"),
            pl.col("absent").sum().cast(pl.Int64).alias("absent"),
            pl.col("date").max().alias("last"),
        )
        .sort([*GROUP, "month_end"])
    )
    return monthly.select(
        "student_id",
        "school_id",
        "school_year",
        pl.min_horizontal("month_end", pl.col("last").max().over(GROUP)).alias("as_of_date"),
        pl.col("enrolled").cum_sum().over(GROUP).alias("days_enrolled"),
        pl.col("absent").cum_sum().over(GROUP).alias("days_absent"),
    ).select(SNAPSHOT_COLUMNS)
