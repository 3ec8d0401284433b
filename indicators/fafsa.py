"""FAFSA completion for seniors.

Rule (docs/indicators.md, "FAFSA completion", following the NCAN FAFSA Tracker and Federal
Student Aid's "submitted" vs "completed" distinction): it applies to students in grade 12
in the school year viewed; seniors of school year Y file for award year Y (seniors of
2025-26 file the 2026-27 FAFSA). The status is the latest one for that award year by
status_date (a status without a date comes first; statuses dated after the as-of date are
not yet known and are ignored, our choice for a consistent "as of" view). No record means
`not_started`. Flag fafsa_not_completed: a senior whose status is not `completed`;
`submitted` and `incomplete` are not completed and are shown as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import FAFSA_STATUSES

COMPLETED: Final = "completed"
NOT_STARTED: Final = "not_started"
SENIOR_GRADE: Final = 12


def latest_status_by_year(
    fafsa: pl.LazyFrame, award_years: Iterable[int], as_of: date | None = None
) -> pl.LazyFrame:
    """Per (student_id, award_year) in `award_years`: the latest status by status_date
    (columns status, status_date). A status without a date comes first; equal dates fall
    back to the vocabulary order (completed last). With `as_of`, statuses dated after it
    are ignored."""
    known = pl.col("award_year").is_in(list(award_years))
    if as_of is not None:
        known &= pl.col("status_date").is_null() | (pl.col("status_date") <= as_of)
    order = pl.col("status").replace_strict(
        list(FAFSA_STATUSES), list(range(len(FAFSA_STATUSES))), default=-1, return_dtype=pl.Int8
    )
    return (
        fafsa.filter(known)
        .group_by("student_id", "award_year")
        .agg(pl.col("status", "status_date").sort_by("status_date", order, nulls_last=False).last())
    )


def latest_status(fafsa: pl.LazyFrame, award_year: int, as_of: date | None) -> pl.LazyFrame:
    """Per student: the latest status for `award_year` known on `as_of` (columns
    fafsa_status, fafsa_status_date)."""
    return latest_status_by_year(fafsa, [award_year], as_of).select(
        "student_id",
        pl.col("status").alias("fafsa_status"),
        pl.col("status_date").alias("fafsa_status_date"),
    )


def fafsa_status() -> pl.Expr:
    """The status shown for a senior (`not_started` without a record), null otherwise."""
    return (
        pl.when(pl.col("grade_level") == SENIOR_GRADE)
        .then(pl.col("fafsa_status").fill_null(NOT_STARTED))
        .otherwise(None)
        .alias("fafsa_status")
    )


def fafsa_not_completed() -> pl.Expr:
    """Flag: a senior whose status is not `completed`; null outside grade 12."""
    return (
        pl.when(pl.col("grade_level") == SENIOR_GRADE)
        .then(pl.col("fafsa_status") != COMPLETED)
        .otherwise(None)
        .alias("fafsa_not_completed")
    )
