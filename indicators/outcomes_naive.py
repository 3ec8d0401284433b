"""Program outcomes: the unserved side of the naive comparison (docs/outcomes.md, "The
naive comparison").

Issue 13: the naive effect is "the after-period mean (or share) of the served students
minus that of every unserved student of the same school year and grades: no matching, no
baseline, the figure a spreadsheet would give". The unserved students' figure is their
own, over the school year, computed once per school year and student (never with windows
borrowed from a served student):

- absence_rate: days absent / days enrolled from the first day of the year to the latest
  attendance snapshot on or before the as-of date (summed over schools); left out under
  `outcomes_min_window_days` days enrolled.
- core_fails: failing final marks in core subjects in the terms of the year that ended on
  or before the as-of date (`outcomes_term_ends`); left out without a final mark in those
  terms.
- yes/no measures: the student's own outcome, with the grade and observability rules of
  the served side (on_track grade 9 once term Y has ended; grade-12 stages once observable
  for the class of the year and for the student's own class).

*Unserved* for a program of service type T in year Y: enrolled in Y (latest enrollment
begun by the as-of date), with no services row of type T overlapping Y (the pool rule of
`indicators.outcomes_exposure`, before any sampling). The counts and sums are taken once
per (school year, grade, group fields) over every enrolled student, less those of the
students with a row of each service type: the same figures as filtering each program's
pool, at the cost of one pass.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import GROUP_FIELDS, OUTCOME_MEASURES
from indicators import marks
from indicators.observable import OBSERVABLE_FROM
from indicators.outcomes_measures import term_end
from indicators.settings import Settings

NINTH_GRADE: Final = 9
TWELFTH_GRADE: Final = 12
#: Grade-12 measures read from a stage of the cohort pipeline (observable from its date).
STAGES: Final = ("fafsa_completed", "graduated", "enrolled_postsecondary", "persisted")
FINE: Final = ("school_year", "grade_level", *GROUP_FIELDS)


def year_absence(series: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """(school_year, student_id, absence_rate): the year's rate at the latest snapshot
    (`series` holds the running totals up to the as-of date)."""
    return (
        series.group_by("student_id", "school_year")
        .agg(pl.col("enrolled", "absent").sort_by("as_of_date").last())
        .select(
            "school_year",
            "student_id",
            pl.when(pl.col("enrolled") >= settings.outcomes_min_window_days)
            .then(pl.col("absent") / pl.col("enrolled"))
            .alias("absence_rate"),
        )
    )


def year_core_fails(
    course_marks: pl.DataFrame, years: list[int], as_of: date, settings: Settings
) -> pl.DataFrame:
    """(school_year, student_id, core_fails): failing core marks of the year's terms ended
    by the as-of date (students with a final mark in such a term only)."""
    finals = course_marks.lazy().filter(pl.col("final") & pl.col("school_year").is_in(years))
    failing = marks.failing_marks(finals, settings)
    core_fail = pl.col("subject").is_in(list(settings.core_subjects)) & pl.col("mark").is_in(
        failing
    )
    return (
        finals.filter(term_end(settings) <= as_of)
        .group_by("school_year", "student_id")
        .agg(core_fail.sum().cast(pl.Float64).alias("core_fails"))
        .collect()
    )


def _stage_date(stage: str, cohort: pl.Expr) -> pl.Expr:
    years, month, day = OBSERVABLE_FROM[stage]
    return pl.date(cohort + years, month, day)


def _in_scope(measure: str, as_of: date, year_end: tuple[int, int]) -> pl.Expr:
    """Whether an unserved student's figure counts for `measure` (grade, observability)."""
    if measure == "on_track":
        month, day = year_end
        return (pl.col("grade_level") == NINTH_GRADE) & (
            pl.lit(as_of) > pl.date(pl.col("school_year"), month, day)
        )
    if measure in STAGES:
        return (
            (pl.col("grade_level") == TWELFTH_GRADE)
            & (_stage_date(measure, pl.col("school_year")) <= as_of)
            & (_stage_date(measure, pl.col("cohort_year")) <= as_of).fill_null(False)
        )
    return pl.lit(True)


def _sums(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return frame.group_by(*keys, "measure", maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("_n_c"), pl.col("_value").sum().alias("_sum_c")
    )


def unserved_sums(
    figures: pl.DataFrame,
    blocked: pl.DataFrame,
    program_grades: pl.DataFrame,
    as_of: date,
    settings: Settings,
) -> pl.DataFrame:
    """Per (pyid, measure, group fields): `_n_c` unserved students with the measure and
    `_sum_c` the sum of their figures, over the program-year's grades.

    `figures`: one row per (school_year, student_id) enrolled, with grade_level, the group
    labels, cohort_year and a column per measure (null: not known); `blocked`:
    (school_year, service_type, student_id) with a row of the type overlapping the year;
    `program_grades`: (pyid, school_year, service_type, grade_level)."""
    year_end = next((m, d) for t, m, d in settings.outcomes_term_ends if t == "Y")
    long = pl.concat(
        [
            figures.lazy()
            .filter(_in_scope(m, as_of, year_end) & pl.col(m).is_not_null())
            .select(*FINE, "student_id", pl.lit(m).alias("measure"), pl.col(m).cast(pl.Float64))
            .rename({m: "_value"})
            for m in OUTCOME_MEASURES
        ]
    ).collect()
    keys = list(FINE)
    everyone = _sums(long, keys)
    served_type = _sums(
        long.join(blocked, on=["school_year", "student_id"], how="inner").sort(
            "service_type", "school_year", "student_id", "measure"
        ),
        ["service_type", *keys],
    )
    types = program_grades.select("school_year", "service_type").unique()
    per_type = (
        # Joins keep the left order: the sums over these rows add in one order every run.
        everyone.join(types, on="school_year", how="inner", maintain_order="left")
        .join(
            served_type,
            on=["service_type", *keys, "measure"],
            how="left",
            suffix="_b",
            maintain_order="left",
        )
        .with_columns(
            (pl.col("_n_c") - pl.col("_n_c_b").fill_null(0)).alias("_n_c"),
            (pl.col("_sum_c") - pl.col("_sum_c_b").fill_null(0.0)).alias("_sum_c"),
        )
        .filter(pl.col("_n_c") > 0)
        .drop("_n_c_b", "_sum_c_b")
    )
    return per_type.join(
        program_grades,
        on=["school_year", "service_type", "grade_level"],
        how="inner",
        maintain_order="left",
    ).select("pyid", "measure", *GROUP_FIELDS, "_n_c", "_sum_c")
