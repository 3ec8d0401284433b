"""Flag count and tiers, and hiding the categories a viewer may not see.

Rule (docs/indicators.md, "Tiers", the three tiers of a multi-tiered system of supports as in
the National Center on Intensive Intervention / Center on MTSS at AIR):
- Tier 3 (intensive): two or more flags, or `severe_chronic` attendance, or
  `core_fails >= 2`.
- Tier 2 (targeted): exactly one flag (at least `tier2_min_flags`, and not tier 3).
- Tier 1 (universal): no flag.
A flag that is null (no data, or a hidden category) is not a flag.

`flags_and_tier` is what the access policy calls: it nulls every column of a category the
viewer may not see and recomputes flag_count and tier from the visible flags only, so the
tier never reveals a hidden category (severe absence counts only with attendance visible,
`core_fails >= 2` only with grades visible). See docs/command-line.md, `export flags`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

import polars as pl

from domain.vocabulary import FLAG_CATEGORY, FLAGS, Category
from indicators.settings import Settings
from indicators.trajectory import TRAJECTORY_COLUMNS

#: The category of every indicator column (identity columns have none and are always shown).
COLUMN_CATEGORY: Final[dict[str, str]] = {
    **dict.fromkeys(
        (
            "absence_rate",
            "attendance_band",
            "attendance_as_of",
            "chronic_absence",
            *(c for c in TRAJECTORY_COLUMNS if c != "student_id"),
        ),
        Category.ATTENDANCE.value,
    ),
    **dict.fromkeys(
        (
            "core_fails",
            "course_failure",
            "credits_earned",
            "core_semester_fs",
            "has_year_end_mark",
            "on_track",
        ),
        Category.GRADES.value,
    ),
    **{
        f"{subject}_{part}": Category.TESTS.value
        for subject in ("ela", "math")
        for part in ("test_name", "test_year", "test_date", "proficient")
    },
    "below_proficient": Category.TESTS.value,
    "fafsa_status": Category.FAFSA.value,
    "fafsa_status_date": Category.FAFSA.value,
    "fafsa_not_completed": Category.FAFSA.value,
}
assert all(COLUMN_CATEGORY[flag] == category for flag, category in FLAG_CATEGORY.items())

SEVERE_BAND: Final = "severe_chronic"


def flag_count(flags: Iterable[str] = FLAGS) -> pl.Expr:
    """How many of `flags` are true (a null flag is not a flag)."""
    return (
        pl.sum_horizontal(pl.col(f).fill_null(False).cast(pl.Int64) for f in flags)
        .cast(pl.Int64)
        .alias("flag_count")
    )


def tier(settings: Settings) -> pl.Expr:
    """The tier from flag_count, attendance_band and core_fails (nulls never raise it)."""
    intensive = (pl.col("flag_count") >= settings.tier3_min_flags) | (
        pl.col("core_fails") >= settings.tier3_min_core_fails
    ).fill_null(False)
    if settings.tier3_on_severe_chronic:
        intensive |= (pl.col("attendance_band") == SEVERE_BAND).fill_null(False)
    return (
        pl.when(intensive)
        .then(3)
        .when(pl.col("flag_count") >= settings.tier2_min_flags)
        .then(2)
        .otherwise(1)
        .cast(pl.Int64)
        .alias("tier")
    )


def flags_and_tier(
    frame: pl.DataFrame, visible_categories: frozenset[str], settings: Settings
) -> pl.DataFrame:
    """`frame` with the columns of hidden categories nulled and flag_count and tier
    recomputed from the visible flags only.

    `frame` is the output of `compute_student_indicators` (possibly joined with the
    trajectory); any column listed in `COLUMN_CATEGORY` whose category is not in
    `visible_categories` becomes null, keeping its dtype.
    """
    visible = {str(c) for c in visible_categories}
    return _masked(frame, lambda category: pl.lit(category in visible), settings)


def flags_and_tier_per_row(frame: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """As `flags_and_tier`, with each row's own visible categories: the Boolean column
    `see_<category>` of the row says whether that category is visible (null = hidden).
    One pass over the rows, whatever mix of viewers' rights they carry."""
    return _masked(frame, lambda category: pl.col(f"see_{category}").fill_null(False), settings)


def _masked(
    frame: pl.DataFrame, is_visible: Callable[[str], pl.Expr], settings: Settings
) -> pl.DataFrame:
    schema = frame.schema
    masked = [
        pl.when(is_visible(category))
        .then(pl.col(column))
        .otherwise(pl.lit(None, dtype=schema[column]))
        .alias(column)
        for column, category in COLUMN_CATEGORY.items()
        if column in schema
    ]
    return frame.with_columns(masked).with_columns(flag_count()).with_columns(tier(settings))
