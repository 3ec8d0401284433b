"""The consent gap (issue 16 part 1, "The steward's view"): students a partner serves, or
was referred, without an active release naming it.

A partner may see a student only under an active release naming its organisation
(docs/access-rules.md, "Roles"). A student it serves today, or one referred to it and
waiting, without such a release is work the district cannot share: the steward asks the
family for a release ("request releases for these"). The rule:

- `served`: a service of the organisation active today; `referred`: an open referral to
  it. A student both served and referred is `both`.
- The pair (student, organisation) is in the gap when no release naming the organisation
  is active today for the student. Any active release closes the gap, whatever its
  categories: a release for fewer categories than the agreement is the family's choice.
- Each row carries the categories of the organisation's active agreements (what a request
  would ask for; a request may ask for no more, data_access.releases). An organisation
  without an active agreement has none: a release would give it nothing until the
  district signs an agreement, which the steward sees from the empty list.

Pure Polars: the caller passes the rows active today (`data_access.release_overview`
applies `policy.service_active`, `consent_active` and `agreement_active`, the one place
those dates are read), and gets one row per student x organisation, sorted by
organisation, school and student.
"""

from __future__ import annotations

from typing import Final

import polars as pl

SERVED: Final = "served"
REFERRED: Final = "referred"
BOTH: Final = "both"
#: Why a student is in the gap for an organisation.
REASONS: Final = (SERVED, REFERRED, BOTH)

GAP_COLUMNS: Final = (
    "org_id",
    "org_name",
    "school_id",
    "school_name",
    "student_id",
    "first_name",
    "last_name",
    "why",
    "categories",
)


def _pairs(frame: pl.DataFrame, flag: str) -> pl.DataFrame:
    return frame.select("student_id", "org_id").unique().with_columns(pl.lit(True).alias(flag))


def _agreement_categories(agreements: pl.DataFrame) -> pl.DataFrame:
    """org_id -> the sorted union of its agreements' categories (`;` lists)."""
    return (
        agreements.select(
            "org_id", pl.col("categories").fill_null("").str.split(";").alias("category")
        )
        .explode("category")
        .with_columns(pl.col("category").str.strip_chars())
        .filter(pl.col("category").str.len_chars() > 0)
        .group_by("org_id")
        .agg(pl.col("category").unique().sort().alias("categories"))
    )


def consent_gap(
    services: pl.DataFrame,
    referrals: pl.DataFrame,
    consents: pl.DataFrame,
    agreements: pl.DataFrame,
    students: pl.DataFrame,
    organisations: pl.DataFrame,
) -> pl.DataFrame:
    """The consent gap (columns `GAP_COLUMNS`).

    `services`: (student_id, org_id) of services active today; `referrals`: (student_id,
    org_id) of open referrals; `consents`: (student_id, org_id) of releases active today;
    `agreements`: (org_id, categories) of agreements active today; `students`: (student_id,
    first_name, last_name, school_id, school_name); `organisations`: (org_id, org_name).
    """
    served = _pairs(services, "_served")
    referred = _pairs(referrals, "_referred")
    pairs = served.join(referred, on=["student_id", "org_id"], how="full", coalesce=True)
    released = consents.select("student_id", "org_id").unique()
    gap = pairs.join(released, on=["student_id", "org_id"], how="anti").with_columns(
        pl.when(pl.col("_served").fill_null(False) & pl.col("_referred").fill_null(False))
        .then(pl.lit(BOTH))
        .when(pl.col("_served").fill_null(False))
        .then(pl.lit(SERVED))
        .otherwise(pl.lit(REFERRED))
        .alias("why")
    )
    return (
        gap.join(
            students.select("student_id", "first_name", "last_name", "school_id", "school_name"),
            on="student_id",
        )
        .join(organisations.select("org_id", "org_name"), on="org_id")
        .join(_agreement_categories(agreements), on="org_id", how="left")
        .with_columns(pl.col("categories").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .select(GAP_COLUMNS)
        .sort(
            "org_name",
            "org_id",
            "school_name",
            "school_id",
            "last_name",
            "first_name",
            "student_id",
        )
    )
