"""College outcomes from the Clearinghouse's terms (docs/indicators.md, "College outcomes").

Inputs are the rows of a StudentTracker for High Schools detail report as stored
(`postsecondary_enrollment`: one row per enrollment term or degree) and the students the
Clearinghouse searched for (`nsc_search`). For each searched student:

- **reference date**: the earlier of the high-school graduation date and Aug 15 of the
  graduation year. The graduation date is the report's `High School Grad Date`, else the
  one stored in `outcomes`; the graduation year is that date's year, else the student's
  `cohort_year` (the reference is then Aug 15 of it). Aug 15 is where the Clearinghouse's
  first fall begins, so a student who finishes high school in December but starts college
  that fall is still counted as enrolling after high school, as the Clearinghouse's class
  reports count the class.
- `postsecondary_enrolled`: a term beginning on or after the reference date (Y), else N
  (also for `Record Found = N`).
- `postsecondary_start_date`: the first such begin date; `institution_level`: the level
  of that first enrollment (the highest when two colleges begin the same day: `4yr`, then
  `2yr`, then `less_than_2yr`).
- `persisted_second_year` (enrolled students only, null otherwise): the StudentTracker for
  High Schools persistence measure, "enrolled in college the first year after high school
  and returned for a second year", with year 1 the twelve months from Aug 15 of the
  graduation year and year 2 the twelve months after it. Y when a term overlaps year 1
  and another term overlaps year 2; N when none overlaps year 2 and the second fall's
  window has closed (after Oct 31 of the year after graduation, `as_of`); null before.
- `seamless_enrolled`: a term beginning from Aug 15 to Oct 31 of the graduation year (the
  Clearinghouse's "fall immediately following graduation", nscPublication's quotation of
  its report definitions).
- `degree_completed`: a degree row (`Graduated? = Y`) dated on or after the reference.

Students never searched get no row at all: they are "not observed", never "not enrolled".
Pure Polars, no I/O.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

#: The Clearinghouse's first-fall window: from Aug 15 to Oct 31 of the graduation year.
FIRST_FALL_START: Final = (8, 15)
FIRST_FALL_END: Final = (10, 31)
#: Highest level first, for two enrollments beginning the same day.
LEVEL_RANK: Final = {"4yr": 0, "2yr": 1, "less_than_2yr": 2}

#: The `outcomes` columns derived from the report, in the table's order.
DERIVED_COLUMNS: Final = (
    "postsecondary_enrolled",
    "postsecondary_start_date",
    "institution_level",
    "persisted_second_year",
    "seamless_enrolled",
    "degree_completed",
)


def derive_outcomes(
    terms: pl.DataFrame,
    searches: pl.DataFrame,
    students: pl.DataFrame,
    stored_graduation: pl.DataFrame,
    as_of: date,
) -> pl.DataFrame:
    """One row per searched student: `student_id` and `DERIVED_COLUMNS` (module rules).

    `terms`: student_id, level, enrollment_begin, enrollment_end, graduated,
    graduation_date. `searches`: student_id, record_found, high_school_grad_date.
    `students`: student_id, cohort_year. `stored_graduation`: student_id,
    graduation_date (the `outcomes` table; may be empty)."""
    reference = (
        searches.lazy()
        .select("student_id", "high_school_grad_date")
        .join(
            stored_graduation.lazy().select(
                "student_id", pl.col("graduation_date").alias("_stored_grad")
            ),
            on="student_id",
            how="left",
        )
        .join(students.lazy().select("student_id", "cohort_year"), on="student_id", how="left")
        .with_columns(
            pl.coalesce("high_school_grad_date", "_stored_grad").alias("_grad"),
        )
        .with_columns(
            pl.coalesce(pl.col("_grad").dt.year(), pl.col("cohort_year")).alias("_year"),
        )
        .with_columns(
            pl.date(pl.col("_year"), *FIRST_FALL_START).alias("_fall"),
        )
        .select(
            "student_id",
            "_year",
            pl.min_horizontal(pl.coalesce("_grad", "_fall"), "_fall").alias("_reference"),
        )
    )
    rows = terms.lazy().join(reference, on="student_id", how="inner")
    begin, end = pl.col("enrollment_begin"), pl.coalesce("enrollment_end", "enrollment_begin")
    after = begin.is_not_null() & (begin >= pl.col("_reference"))
    year1_start = pl.date(pl.col("_year"), *FIRST_FALL_START)
    year2_start = pl.date(pl.col("_year") + 1, *FIRST_FALL_START)
    year3_start = pl.date(pl.col("_year") + 2, *FIRST_FALL_START)
    overlaps_1 = begin.is_not_null() & (begin < year2_start) & (end >= year1_start)
    overlaps_2 = begin.is_not_null() & (begin < year3_start) & (end >= year2_start)
    seamless = (
        begin.is_not_null()
        & (begin >= pl.date(pl.col("_year"), *FIRST_FALL_START))
        & (begin <= pl.date(pl.col("_year"), *FIRST_FALL_END))
    )
    degree = pl.col("graduated").fill_null(False) & (
        pl.col("graduation_date").is_null() | (pl.col("graduation_date") >= pl.col("_reference"))
    )
    first = (
        rows.filter(after)
        .with_columns(
            pl.col("level").replace_strict(LEVEL_RANK, default=len(LEVEL_RANK)).alias("_rank")
        )
        .sort("student_id", "enrollment_begin", "_rank")
        .group_by("student_id", maintain_order=True)
        .agg(
            pl.col("enrollment_begin").first().alias("postsecondary_start_date"),
            pl.col("level").first().alias("institution_level"),
        )
    )
    flags = rows.group_by("student_id").agg(
        after.any().alias("_after"),
        overlaps_1.any().alias("_year1"),
        overlaps_2.any().alias("_year2"),
        seamless.any().alias("_seamless"),
        degree.any().alias("_degree"),
    )
    second_fall_closed = pl.lit(as_of) > pl.date(pl.col("_year") + 1, *FIRST_FALL_END)
    enrolled = pl.col("_after").fill_null(False)
    persisted = (
        pl.when(~enrolled)
        .then(None)
        .when(pl.col("_year1").fill_null(False) & pl.col("_year2").fill_null(False))
        .then(True)
        .when(second_fall_closed)
        .then(False)
        .otherwise(None)
    )
    return (
        reference.join(flags, on="student_id", how="left")
        .join(first, on="student_id", how="left")
        .select(
            "student_id",
            enrolled.alias("postsecondary_enrolled"),
            pl.col("postsecondary_start_date"),
            pl.col("institution_level"),
            persisted.cast(pl.Boolean).alias("persisted_second_year"),
            pl.col("_seamless").fill_null(False).alias("seamless_enrolled"),
            pl.col("_degree").fill_null(False).alias("degree_completed"),
        )
        .sort("student_id")
        .collect()
    )


def unsearched_cohorts(students: pl.DataFrame, searched: pl.Series) -> list[int]:
    """The cohorts (`cohort_year`) none of whose students the Clearinghouse searched for:
    their college stages are not observed, never "not enrolled" (docs/indicators.md)."""
    marked = students.select(
        "cohort_year", pl.col("student_id").is_in(searched.implode()).alias("_searched")
    )
    return sorted(
        marked.group_by("cohort_year")
        .agg(pl.col("_searched").any())
        .filter(~pl.col("_searched") & pl.col("cohort_year").is_not_null())
        .get_column("cohort_year")
        .to_list()
    )
