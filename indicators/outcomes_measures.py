"""Program outcomes, step 2: baseline covariates and the value of each measure per study row.

Rules (docs/outcomes.md, "Windows" and "Measures"):
- Attendance is read from the cumulative snapshots of the school year: at a date, a
  student's days enrolled and absent are the sum over schools of each school's latest
  snapshot on or before it (as in indicators.attendance). The *baseline* window runs from
  the first day of the year to S0, the latest snapshot on or before the start date; the
  *follow-up* from S0 to S1, the latest snapshot on or before the follow-up end. A
  window's rate is (absent at its end - absent at its start) / (enrolled at its end -
  enrolled at its start). With fewer than `outcomes_min_window_days` (10) days enrolled in
  either window, absence_rate is left out for that student.
- core_fails: failing final marks in core subjects (indicators.marks). *Before*: the
  marks of the latest term that ended on or before the start date (its end taken from
  `outcomes_term_ends`; terms of this school year or the one before). *After*: the marks
  of the terms of this school year that end after the start date and on or before the
  as-of date. Without marks on either side the student is left out.
- Prior proficiency: the share of the latest ela and math results (indicators.assessments)
  of school years before this one that are proficient (0, 0.5 or 1; null without a result).
- Yes/no measures: on_track (grade 9; indicators.marks, null until the year has an
  end-of-year mark), fafsa_completed (grade 12; the latest status for award year Y known on
  Jun 30 of Y is `completed`, indicators.fafsa), graduated (by Aug 31 of the cohort year,
  as in the pipeline), enrolled_postsecondary and persisted (a blank is no).
"""

from __future__ import annotations

from datetime import date
from typing import Final

import numpy as np
import polars as pl

from indicators import assessments, fafsa, marks
from indicators.settings import Settings
from indicators.tables import RawTables

COVARIATES: Final = ("baseline_absence", "baseline_core_fails", "prior_proficiency")
#: Bits of a day in `_key` (days since 1970, offset to be positive: years ~ -900 to 4800).
DAY_BITS: Final = 21
DAY_OFFSET: Final = 1 << (DAY_BITS - 1)
#: Bits of a school year in `_key` (a year of 0 to 4095).
YEAR_BITS: Final = 12


def _same_as_previous(columns: tuple[str, ...]) -> pl.Expr:
    """Whether a row has the same `columns` as the row before it (False on the first)."""
    return pl.all_horizontal(pl.col(c) == pl.col(c).shift(1) for c in columns).fill_null(False)


def _running_total(column: str, first: pl.Expr) -> pl.Expr:
    """The running total of `column` restarting where `first` is true (rows in order)."""
    total = pl.col(column).cum_sum()
    return total - pl.when(first).then(total - pl.col(column)).forward_fill()


def attendance_series(attendance: pl.DataFrame, years: list[int], as_of: date) -> pl.DataFrame:
    """Per (student_id, school_year, as_of_date): the days enrolled and absent since the
    previous snapshot of any school (`new_enrolled`, `new_absent`) and the year's running
    totals (`enrolled`, `absent`), summed over schools. Sorted by student_id,
    school_year and as_of_date (each school's snapshots are differenced in date order,
    and the totals run over the sorted rows, restarting at each student-year: no window
    over hashed keys)."""
    by_school = ("student_id", "school_year", "school_id")
    same_school = _same_as_previous(by_school)
    new_year = ~_same_as_previous(("student_id", "school_year"))
    return (
        attendance.lazy()
        .filter(pl.col("school_year").is_in(years) & (pl.col("as_of_date") <= as_of))
        .select(*by_school, "as_of_date", "days_enrolled", "days_absent")
        .sort(*by_school, "as_of_date")
        .with_columns(
            (pl.col(c) - pl.when(same_school).then(pl.col(c).shift(1)).otherwise(0)).alias(
                f"_d_{c}"
            )
            for c in ("days_enrolled", "days_absent")
        )
        .group_by("student_id", "school_year", "as_of_date")
        .agg(
            pl.col("_d_days_enrolled").sum().alias("new_enrolled"),
            pl.col("_d_days_absent").sum().alias("new_absent"),
        )
        .sort("student_id", "school_year", "as_of_date")
        .with_columns(
            _running_total("new_enrolled", new_year).alias("enrolled"),
            _running_total("new_absent", new_year).alias("absent"),
        )
        .collect()
    )


def _key(student: pl.Expr, day: pl.Expr, year: pl.Expr | None = None) -> pl.Expr:
    """One Int64 per (student code, [school year,] day) that sorts as the tuple does
    (codes below 2**30); null when the day is null."""
    group = student.cast(pl.Int64)
    if year is not None:
        group = group * (1 << YEAR_BITS) + year.cast(pl.Int64)
    return group * (1 << DAY_BITS) + day.cast(pl.Int32).cast(pl.Int64) + DAY_OFFSET


def _latest_at(keys: pl.Series, query: pl.Series) -> pl.Series:
    """For each `query` key, the position in `keys` (sorted, unique) of the latest key of
    the same student (and year) on or before its day; null when there is none: an as-of
    join, backward, on sorted integers."""
    known = keys.to_numpy()
    asked = query.fill_null(-1).to_numpy()
    position = np.searchsorted(known, asked, side="right") - 1
    found = (position >= 0) & query.is_not_null().to_numpy()
    group = asked >> DAY_BITS
    found[found] = (known[position[found]] >> DAY_BITS) == group[found]
    return pl.select(
        pl.when(pl.Series(found)).then(pl.Series(position, dtype=pl.Int64))
    ).to_series()


def _values_at(
    rows: pl.DataFrame, table: pl.DataFrame, query: pl.Expr, columns: dict[str, str]
) -> list[pl.Series]:
    """`columns` of `table` (sorted by its `_key`) at the latest key on or before `query`
    of each row, renamed (null without one)."""
    position = _latest_at(table["_key"], rows.select(query).to_series())
    return [table[old].gather(position).alias(new) for old, new in columns.items()]


def with_absence(rows: pl.DataFrame, series: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """`rows` with baseline_absence (fraction; null under the minimum days),
    absence_before and absence_after (null unless both windows have the minimum days)."""
    student, year = pl.col("student_id"), pl.col("school_year")
    totals = series.select(
        _key(student, pl.col("as_of_date"), year).alias("_key"), "enrolled", "absent"
    ).sort("_key")
    least = settings.outcomes_min_window_days
    base_days = pl.col("_e0").fill_null(0)
    follow_days = pl.col("_e1").fill_null(0) - base_days
    base_rate = pl.when(base_days >= least).then(pl.col("_a0") / pl.col("_e0"))
    follow_rate = (pl.col("_a1").fill_null(0) - pl.col("_a0").fill_null(0)) / follow_days
    return (
        rows.with_columns(
            *_values_at(
                rows,
                totals,
                _key(student, pl.col("start_date"), year),
                {"enrolled": "_e0", "absent": "_a0"},
            ),
            *_values_at(
                rows,
                totals,
                _key(student, pl.col("follow_end"), year),
                {"enrolled": "_e1", "absent": "_a1"},
            ),
        )
        .with_columns(
            base_rate.alias("baseline_absence"),
            pl.when((base_days >= least) & (follow_days >= least))
            .then(follow_rate)
            .alias("absence_after"),
        )
        .with_columns(
            pl.when(pl.col("absence_after").is_not_null())
            .then(pl.col("baseline_absence"))
            .alias("absence_before")
        )
        .drop("_e0", "_a0", "_e1", "_a1")
    )


def term_end(settings: Settings) -> pl.Expr:
    """The date a mark's term ends, from school_year and term (`outcomes_term_ends`); an
    error for a term not among them."""
    terms = [t for t, _, _ in settings.outcomes_term_ends]
    # The term as its position in `terms` (a cast to an Enum of the terms: one hash lookup
    # per row, where a replace of strings took two), then month and day by that position.
    position = pl.col("term").cast(pl.Enum(terms)).to_physical()
    month = pl.lit(pl.Series([m for _, m, _ in settings.outcomes_term_ends], dtype=pl.Int32))
    day = pl.lit(pl.Series([d for _, _, d in settings.outcomes_term_ends], dtype=pl.Int32))
    month, day = month.gather(position), day.gather(position)
    year = pl.col("school_year") - (month >= 8).cast(pl.Int64)
    return pl.date(year, month, day)


def with_core_fails(
    rows: pl.DataFrame, course_marks: pl.DataFrame, as_of: date, settings: Settings
) -> pl.DataFrame:
    """`rows` with baseline_core_fails, core_fails_before and core_fails_after (see the
    module docstring; null when a side has no marks)."""
    years = rows["school_year"].unique().to_list()
    wanted = sorted({y for year in years for y in (year - 1, year)})
    finals = course_marks.lazy().filter(pl.col("final") & pl.col("school_year").is_in(wanted))
    failing = marks.failing_marks(finals, settings)
    core_fail = pl.col("subject").is_in(list(settings.core_subjects)) & pl.col("mark").is_in(
        failing
    )
    per_term = (
        finals.select("student_id", term_end(settings).alias("_at"), core_fail.alias("_fail"))
        .group_by("student_id", "_at")
        .agg(pl.col("_fail").sum().cast(pl.Int64).alias("_fails"), pl.len().alias("_marks"))
        .with_columns(_key(pl.col("student_id"), pl.col("_at")).alias("_key"))
        .sort("_key")
        # Running totals over the sorted rows, restarting at each student (no window).
        .with_columns(
            _running_total("_fails", ~_same_as_previous(("student_id",))).alias("_cum_fails"),
            _running_total("_marks", ~_same_as_previous(("student_id",))).alias("_cum_marks"),
        )
        .collect()
    )
    after_end = pl.min_horizontal(pl.lit(as_of), pl.date(pl.col("school_year"), 7, 31))
    recent = pl.col("_term") >= pl.date(pl.col("school_year") - 2, 8, 1)
    marks_after = pl.col("_cm1").fill_null(0) - pl.col("_cm0").fill_null(0)
    fails_after = pl.col("_cf1").fill_null(0) - pl.col("_cf0").fill_null(0)
    base = pl.when(recent).then(pl.col("_f0"))
    student = pl.col("student_id")
    return (
        rows.with_columns(
            *_values_at(
                rows,
                per_term,
                _key(student, pl.col("start_date")),
                {"_at": "_term", "_fails": "_f0", "_cum_fails": "_cf0", "_cum_marks": "_cm0"},
            ),
            *_values_at(
                rows,
                per_term,
                _key(student, after_end),
                {"_cum_fails": "_cf1", "_cum_marks": "_cm1"},
            ),
        )
        .with_columns(base.alias("baseline_core_fails"))
        .with_columns(
            pl.when(base.is_not_null() & (marks_after > 0))
            .then(fails_after.cast(pl.Float64))
            .alias("core_fails_after"),
        )
        .with_columns(
            pl.when(pl.col("core_fails_after").is_not_null())
            .then(pl.col("baseline_core_fails").cast(pl.Float64))
            .alias("core_fails_before")
        )
        .drop("_term", "_f0", "_cf0", "_cm0", "_cf1", "_cm1")
    )


def prior_proficiency(test_scores: pl.DataFrame, years: list[int]) -> pl.DataFrame:
    """(school_year, student_id, prior_proficiency): the share of the latest ela and math
    results of earlier school years that are proficient."""
    parts = []
    for year in years:
        latest = assessments.latest_results(test_scores, year - 1, date(year - 1, 7, 31))
        flags = [pl.col(f"{s}_proficient").cast(pl.Float64) for s in assessments.TESTED_SUBJECTS]
        parts.append(
            latest.select(
                pl.lit(year, dtype=pl.Int64).alias("school_year"),
                "student_id",
                pl.when(pl.any_horizontal(f.is_not_null() for f in flags))
                .then(pl.mean_horizontal(flags))
                .alias("prior_proficiency"),
            )
        )
    return pl.concat(parts).collect()


def yes_no_outcomes(tables: RawTables, years: list[int], settings: Settings) -> pl.DataFrame:
    """(school_year, student_id) -> on_track, fafsa_completed (both nullable) and the
    student's graduated, enrolled_postsecondary and persisted (never null)."""
    course_marks = tables.course_marks.lazy().filter(pl.col("school_year").is_in(years))
    failing = marks.failing_marks(course_marks, settings)
    on_track = marks.course_summary(course_marks, years, failing, settings).select(
        "school_year", "student_id", marks.on_track(settings).alias("on_track")
    )
    filed = pl.concat(
        fafsa.latest_status(tables.fafsa.lazy(), year, date(year, 6, 30)).select(
            pl.lit(year, dtype=pl.Int64).alias("school_year"),
            "student_id",
            (pl.col("fafsa_status") == fafsa.COMPLETED).alias("fafsa_completed"),
        )
        for year in years
    )
    return on_track.join(
        filed, on=["school_year", "student_id"], how="full", coalesce=True
    ).collect()


def later_outcomes(tables: RawTables) -> pl.DataFrame:
    """student_id -> graduated (by Aug 31 of the cohort year, as in indicators.pipeline),
    enrolled_postsecondary, persisted."""
    people = tables.students.lazy().select("student_id", "cohort_year")
    return (
        tables.outcomes.lazy()
        .join(people, on="student_id", how="inner")
        .select(
            "student_id",
            (
                pl.col("graduated").fill_null(False)
                & (pl.col("graduation_date") <= pl.date(pl.col("cohort_year"), 8, 31)).fill_null(
                    False
                )
            ).alias("graduated"),
            pl.col("postsecondary_enrolled").fill_null(False).alias("enrolled_postsecondary"),
            pl.col("persisted_second_year").fill_null(False).alias("persisted"),
        )
        .unique("student_id", keep="first")
        .collect()
    )
