"""One student's attendance over time, for the profile chart.

At every snapshot date of a school year, the cumulative days enrolled and absent are the
latest snapshot on or before that date at each school the student attended that year,
summed over the schools (the same rule as the absence rate, docs/indicators.md), so a mid-year
move between schools does not make the line jump.
"""

from __future__ import annotations

import polars as pl


def attendance_trend(snapshots: pl.DataFrame) -> pl.DataFrame:
    """`(school_year, as_of_date, days_enrolled, days_absent, absence_rate)`, by date."""
    if snapshots.height == 0:
        return pl.DataFrame(
            schema={"school_year": pl.Int64, "as_of_date": pl.Date, "days_enrolled": pl.Int64,
                    "days_absent": pl.Int64, "absence_rate": pl.Float64}
        )  # fmt: skip
    dates = snapshots.select("school_year", "as_of_date").unique()
    schools = snapshots.select("school_year", "school_id").unique()
    grid = dates.join(schools, on="school_year").sort("school_year", "school_id", "as_of_date")
    ordered = snapshots.select(
        "school_year", "school_id", "as_of_date", "days_enrolled", "days_absent"
    ).sort("school_year", "school_id", "as_of_date")
    latest = grid.join_asof(
        ordered,
        on="as_of_date",
        by=["school_year", "school_id"],
        strategy="backward",
        check_sortedness=False,
    )
    return (
        latest.group_by("school_year", "as_of_date")
        .agg(pl.col("days_enrolled").sum(), pl.col("days_absent").sum())
        .with_columns(
            absence_rate=pl.when(pl.col("days_enrolled") > 0)
            .then(pl.col("days_absent") / pl.col("days_enrolled"))
            .otherwise(None)
        )
        .sort("as_of_date")
    )
