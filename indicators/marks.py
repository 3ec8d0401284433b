"""Course marks: failing marks, core fails, credits and freshman on-track.

Rules:
- Failing mark (docs/import-format.md): `F`, `NP`, or a number below 60. A letter's trailing
  `+`/`-` is ignored, so `F+` is an F; `P`, `D-`, `72` and `B+` pass.
- `core_fails` (Everyone Graduates Center "ABC" course-performance indicator; Balfanz,
  Herzog & Mac Iver 2007): the number of final failing marks in core subjects (ela, math,
  science, social_studies) in the school year; every mark row counts once, so a failed
  full-year `Y` mark counts once. Only marks with `final = Y` count.
- Freshman on-track (UChicago Consortium on School Research, Allensworth & Easton 2005):
  at the end of grade 9, at least 5.0 credits earned in the year and no more than one
  semester F in a core subject. A semester F is a failing final core mark in term `S1` or
  `S2`; a failed `Y` mark counts as two.
- "End of the year" (our choice, documented): on-track is evaluated only once the year has
  an end-of-year final mark, that is a final mark in term `S2`, `Y`, `Q4` or `T3`. Before
  that it is null (not known yet), never "off track".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from indicators.settings import Settings

YEAR_END_TERMS: Final = ("S2", "Y", "Q4", "T3")
SEMESTER_TERMS: Final = ("S1", "S2")
FULL_YEAR_TERM: Final = "Y"


def is_failing(mark: pl.Expr, settings: Settings) -> pl.Expr:
    """True when `mark` is failing: a failing letter (ignoring +/-) or a number below 60."""
    text = mark.str.strip_chars().str.to_uppercase()
    letter = text.str.strip_chars_end("+-")
    number = text.cast(pl.Float64, strict=False)
    return letter.is_in(list(settings.failing_letters)) | (
        number.is_not_null() & (number < settings.failing_mark_below)
    )


def failing_marks(course_marks: pl.LazyFrame, settings: Settings) -> list[str]:
    """The distinct failing values of the `mark` column. The mark vocabulary is small, so
    the failing test runs once per distinct value and rows are then matched with `is_in`."""
    distinct = course_marks.select(pl.col("mark").unique().drop_nulls()).collect()
    return distinct.filter(is_failing(pl.col("mark"), settings))["mark"].to_list()


def _any_of(column: str, values: tuple[str, ...]) -> pl.Expr:
    """`column` equals one of a few `values` (cheaper than is_in for two to four values)."""
    expr = pl.col(column) == values[0]
    for value in values[1:]:
        expr = expr | (pl.col(column) == value)
    return expr


def course_summary(
    course_marks: pl.LazyFrame,
    school_years: Sequence[int],
    failing: list[str],
    settings: Settings,
) -> pl.LazyFrame:
    """Per (student_id, school_year) with marks in one of `school_years`: the grade
    indicators.

    `failing` is `failing_marks` of the marks (a superset is fine). Only final marks count.
    Columns: student_id, school_year, core_fails, credits_earned, core_semester_fs (S1/S2
    Fs + 2 x Y Fs), has_year_end_mark. Each year is grouped by student on its own: one
    string key hashes faster than a (student, year) pair, and the years never mix.
    """
    core_fail = pl.col("subject").is_in(list(settings.core_subjects)) & pl.col("mark").is_in(
        failing
    )
    fail = pl.col("_core_fail")
    finals = course_marks.filter(pl.col("final")).with_columns(core_fail.alias("_core_fail"))
    per_year = [
        finals.filter(pl.col("school_year") == year)
        .group_by("student_id")
        .agg(
            fail.sum().cast(pl.Int64).alias("core_fails"),
            pl.col("credits_earned").sum().cast(pl.Float64).alias("credits_earned"),
            (
                (fail & _any_of("term", SEMESTER_TERMS)).sum()
                + 2 * (fail & (pl.col("term") == FULL_YEAR_TERM)).sum()
            )
            .cast(pl.Int64)
            .alias("core_semester_fs"),
            _any_of("term", YEAR_END_TERMS).any().alias("has_year_end_mark"),
        )
        .select(
            "student_id",
            pl.lit(year, dtype=pl.Int64).alias("school_year"),
            pl.all().exclude("student_id"),
        )
        for year in sorted(set(school_years))
    ]
    if not per_year:
        return finals.select(
            "student_id",
            "school_year",
            pl.lit(0, dtype=pl.Int64).alias("core_fails"),
            pl.lit(0.0).alias("credits_earned"),
            pl.lit(0, dtype=pl.Int64).alias("core_semester_fs"),
            pl.lit(False).alias("has_year_end_mark"),
        ).clear()
    return pl.concat(per_year)


def on_track(settings: Settings) -> pl.Expr:
    """Freshman on-track from credits_earned, core_semester_fs and has_year_end_mark.

    Null when there is no end-of-year final mark (or no marks at all). The caller limits
    it to grade 9.
    """
    meets = (pl.col("credits_earned") >= settings.on_track_min_credits) & (
        pl.col("core_semester_fs") <= settings.on_track_max_core_semester_fs
    )
    return pl.when(pl.col("has_year_end_mark")).then(meets).otherwise(None)
