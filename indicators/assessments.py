"""Test scores: the latest ELA and math results and the below_proficient flag.

Rule (docs/indicators.md, "Test scores"): flag below_proficient when the student's most recent
result in `ela` or in `math` is not proficient, "most recent" meaning the latest
school_year, then the latest test_date (a result without a date comes before a dated one
of the same year; equal dates fall back to test_name order). Only results the viewer could
have known are considered: school_year up to the year viewed and test_date on or before
the as-of date when it is given. No ELA or math result at all leaves the flag null (no
data, not "proficient"). The proficiency cut is the state's own (ESSA academic
achievement standards, 34 CFR 200.1); the flag is the "A" of the Everyone Graduates Center
ABC indicators applied to state tests.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

TESTED_SUBJECTS: Final = ("ela", "math")


_DAY_BITS: Final = 17
_EPOCH_SHIFT: Final = 25_567  # days from 1900-01-01 to 1970-01-01


def latest_results(test_scores: pl.DataFrame, school_year: int, as_of: date) -> pl.LazyFrame:
    """Per student with a result: the latest ela and math result, as columns
    `{subject}_test_name`, `{subject}_test_year`, `{subject}_test_date`,
    `{subject}_proficient` (null for a subject without a result).

    "Latest" is one integer key per row, (school_year, test_date or earliest, rank of
    test_name), unique per student and subject since (student, test_name, subject,
    school_year) is the file's key; the row holding each student's largest key is kept.
    """
    # Ranked among every name in the file, not only those read: a name added by a later
    # year's results keeps the others' order, so the row kept never changes with it
    # (the outcome fingerprint reads only earlier years' results: outcomes_incremental).
    names = test_scores["test_name"].unique().drop_nulls().sort()
    name_bits = max(1, len(names).bit_length())
    order = (
        pl.col("school_year").cast(pl.Int64) * (1 << _DAY_BITS)
        + (pl.col("test_date").cast(pl.Int64) + _EPOCH_SHIFT).fill_null(0)
    ) * (1 << name_bits) + pl.col("test_name").cast(pl.Enum(names)).to_physical().cast(pl.Int64)
    known = (pl.col("school_year") <= school_year) & (
        pl.col("test_date").is_null() | (pl.col("test_date") <= as_of)
    )
    per_subject = [
        test_scores.lazy()
        .filter(known & (pl.col("subject") == subject))
        .with_columns(order.alias("_order"))
        # The key (student, test, subject, year) is unique, so one row per student is left.
        .filter(pl.col("_order") == pl.col("_order").max().over("student_id"))
        .select(
            "student_id",
            pl.col("test_name").alias(f"{subject}_test_name"),
            pl.col("school_year").alias(f"{subject}_test_year"),
            pl.col("test_date").alias(f"{subject}_test_date"),
            pl.col("proficient").alias(f"{subject}_proficient"),
        )
        for subject in TESTED_SUBJECTS
    ]
    return per_subject[0].join(per_subject[1], on="student_id", how="full", coalesce=True)


def below_proficient() -> pl.Expr:
    """True if the latest ela or math result is not proficient; null without any result."""
    proficient = [pl.col(f"{s}_proficient") for s in TESTED_SUBJECTS]
    any_result = pl.any_horizontal(p.is_not_null() for p in proficient)
    any_below = pl.any_horizontal(p.not_().fill_null(False) for p in proficient)
    return pl.when(any_result).then(any_below).otherwise(None).alias("below_proficient")
