"""Need and coverage by school: where help is missing and where it is doubled (issue 14).

Pure Polars over three frames (docs/indicators.md, "Need and coverage"):
- `indicators`: one row per student (student_indicator): student_id, school_id, tier and
  the four flags of `domain.vocabulary.FLAGS` (true = flagged; false or null = not).
- `services`: student_id, org_id, service_type, start_date, end_date (blank = ongoing).
- `consents`: student_id, org_id, signed_date, expires_date, revoked_date.

Which service types address which need is the deployment setting
`coverage.need_service_types` (`Settings.service_types_addressing`).
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import FLAGS
from indicators.settings import Settings

#: The columns of `need_coverage`, in order (the CLI contract of issue 14 less open_slots,
#: which belongs to partner capacity).
COVERAGE_COLUMNS: Final = (
    "school_id",
    "need",
    "flagged",
    "served_addressing",
    "served_addressing_with_release",
    "served_other",
    "unserved",
    "duplicated",
)


def active_services(services: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Services active on `as_of`: started on or before it, no end date or ending on or
    after it (the rule of `service_active` in data_access/policy.py, restated here because
    that one is SQL)."""
    return services.filter(
        (pl.col("start_date") <= as_of)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= as_of))
    )


def active_consents(consents: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Releases active on `as_of`: signed on or before it, no expiry or expiring on or
    after it, and not revoked on or before it (the rule of `consent_active` in
    data_access/policy.py, restated here because that one is SQL)."""
    return consents.filter(
        (pl.col("signed_date") <= as_of)
        & (pl.col("expires_date").is_null() | (pl.col("expires_date") >= as_of))
        & (pl.col("revoked_date").is_null() | (pl.col("revoked_date") > as_of))
    )


def _addressing(settings: Settings) -> pl.DataFrame:
    """One row per (need, service_type) that addresses it."""
    return pl.DataFrame(
        [
            {"need": need, "service_type": service_type}
            for need, types in settings.coverage_need_service_types
            for service_type in types
        ],
        schema={"need": pl.String, "service_type": pl.String},
    )


def need_coverage(
    indicators: pl.DataFrame,
    services: pl.DataFrame,
    consents: pl.DataFrame,
    as_of: date,
    settings: Settings,
) -> pl.DataFrame:
    """For each school x need, the flagged students and how they are served on `as_of`.

    Rules (issue 14 part 1; docs/indicators.md, "Need and coverage"):
    - flagged: students of the school with that flag true;
    - served_addressing: of those, with an active service of a type addressing the need;
    - served_addressing_with_release: of those, served so by an organisation that has an
      active release for the student naming it (the rest are a consent gap);
    - served_other: with an active service, but none addressing the need;
    - unserved: with no active service at all;
    so served_addressing + served_other + unserved = flagged;
    - duplicated: flagged students with two or more organisations providing the same
      addressing service type, both active on `as_of`.
    Every school of `indicators` gets a row for every need (zeros included), sorted by
    school_id then need (in the order of FLAGS).
    """
    flagged = (
        indicators.select("student_id", "school_id", *FLAGS)
        .unpivot(index=["student_id", "school_id"], variable_name="need", value_name="flag")
        .filter(pl.col("flag").fill_null(False))
        .select("student_id", "school_id", "need")
    )
    active = active_services(services, as_of).select("student_id", "org_id", "service_type")
    released = active_consents(consents, as_of).select("student_id", "org_id").unique()
    served_students = active.select("student_id").unique().with_columns(served=pl.lit(True))
    addressing = (
        flagged.select("student_id", "need")
        .join(active, on="student_id")
        .join(_addressing(settings), on=["need", "service_type"])
        .join(released.with_columns(released=pl.lit(True)), on=["student_id", "org_id"], how="left")
    )
    doubled = (
        addressing.group_by("student_id", "need", "service_type")
        .agg(orgs=pl.col("org_id").n_unique())
        .filter(pl.col("orgs") >= 2)
        .select("student_id", "need")
        .unique()
        .with_columns(duplicated=pl.lit(True))
    )
    per_student = (
        addressing.group_by("student_id", "need")
        .agg(with_release=pl.col("released").fill_null(False).any())
        .with_columns(addressed=pl.lit(True))
        .join(doubled, on=["student_id", "need"], how="left")
    )
    groups = (
        flagged.join(per_student, on=["student_id", "need"], how="left")
        .join(served_students, on="student_id", how="left")
        .with_columns(pl.col("addressed", "with_release", "duplicated", "served").fill_null(False))
        .group_by("school_id", "need")
        .agg(
            flagged=pl.len(),
            served_addressing=pl.col("addressed").sum(),
            served_addressing_with_release=pl.col("with_release").sum(),
            served_other=(pl.col("served") & ~pl.col("addressed")).sum(),
            unserved=(~pl.col("served")).sum(),
            duplicated=pl.col("duplicated").sum(),
        )
    )
    grid = (
        indicators.select("school_id")
        .unique()
        .join(pl.DataFrame({"need": list(FLAGS)}), how="cross")
        .with_columns(order=pl.col("need").replace_strict(FLAGS, range(len(FLAGS))))
    )
    counts = [c for c in COVERAGE_COLUMNS if c not in ("school_id", "need")]
    return (
        grid.join(groups, on=["school_id", "need"], how="left")
        .with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))
        .sort("school_id", "order")
        .select(COVERAGE_COLUMNS)
    )


def duplication(services: pl.DataFrame, indicators: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Students served by two organisations with the same service type in overlapping periods.

    Rules (issue 14 part 1, "Duplication"; docs/indicators.md): a service's period runs
    from start_date to end_date, or to `as_of` when the end is blank or later; services
    starting after `as_of` are not known yet and are ignored. Two periods overlap when each
    starts on or before the other ends. Counted by the student's school (from
    `indicators`), service type and organisation pair (org_a < org_b): columns school_id,
    service_type, org_a, org_b, students; sorted by school_id, service_type, org_a, org_b.
    """
    known = (
        services.filter(pl.col("start_date") <= as_of)
        .with_columns(
            until=pl.when(pl.col("end_date").is_null() | (pl.col("end_date") > as_of))
            .then(pl.lit(as_of))
            .otherwise(pl.col("end_date"))
        )
        .select("student_id", "org_id", "service_type", "start_date", "until")
    )
    pairs = (
        known.join(known, on=["student_id", "service_type"], suffix="_b")
        .filter(
            (pl.col("org_id") < pl.col("org_id_b"))
            & (pl.col("start_date") <= pl.col("until_b"))
            & (pl.col("start_date_b") <= pl.col("until"))
        )
        .select("student_id", "service_type", org_a=pl.col("org_id"), org_b=pl.col("org_id_b"))
        .unique()
    )
    return (
        pairs.join(indicators.select("student_id", "school_id"), on="student_id")
        .group_by("school_id", "service_type", "org_a", "org_b")
        .agg(students=pl.col("student_id").n_unique().cast(pl.Int64))
        .sort("school_id", "service_type", "org_a", "org_b")
        .select("school_id", "service_type", "org_a", "org_b", "students")
    )


def tier_support(
    indicators: pl.DataFrame, services: pl.DataFrame, as_of: date, *, by_school: bool = False
) -> pl.DataFrame:
    """By tier, the students with no active service, one, or two or more (an MTSS check).

    Rules (issue 14 part 1, "Tier against support"; docs/indicators.md): a student's
    services are the distinct (org_id, service_type) pairs active on `as_of` (see
    `active_services`). Columns tier, students, no_service, one_service, two_or_more;
    one row per tier present in `indicators`, sorted by tier. With `by_school` (what the
    refresh stores), one row per school and tier present, school_id first, sorted by
    school_id then tier.
    """
    per_student = (
        active_services(services, as_of)
        .select("student_id", "org_id", "service_type")
        .unique()
        .group_by("student_id")
        .agg(n=pl.len())
    )
    keys = ["school_id", "tier"] if by_school else ["tier"]
    return (
        indicators.select("student_id", *keys)
        .join(per_student, on="student_id", how="left")
        .with_columns(pl.col("n").fill_null(0))
        .group_by(keys)
        .agg(
            students=pl.len(),
            no_service=(pl.col("n") == 0).sum(),
            one_service=(pl.col("n") == 1).sum(),
            two_or_more=(pl.col("n") >= 2).sum(),
        )
        .with_columns(pl.col("students", "no_service", "one_service", "two_or_more").cast(pl.Int64))
        .sort(keys)
    )


#: The columns of `served_now` (the `coverage_served_now` table).
SERVED_NOW_COLUMNS: Final = (
    "org_id",
    "school_id",
    "service_type",
    "students",
    "students_with_release",
)


def served_now(
    indicators: pl.DataFrame, services: pl.DataFrame, consents: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """The students each organisation serves on `as_of`, by service type and the student's
    school of record: what open slots subtract (indicators/capacity.py).

    Rules (issue 14 part 2, "Open slots = slots minus students served now"): a student is
    served by an organisation with a service type when such a service is active on
    `as_of` (`active_services`); the school is the student's school in `indicators` (the
    current school year's enrolment; a student not enrolled then is not counted, so no
    slot is held by a student who has left). `students_with_release` counts those of them
    with an active release naming that organisation (`active_consents`): the only ones its
    own staff may count (docs/access-rules.md: a partner never learns of a student it may not see).
    Columns SERVED_NOW_COLUMNS, sorted by org_id, school_id, service_type.
    """
    released = (
        active_consents(consents, as_of)
        .select("student_id", "org_id")
        .unique()
        .with_columns(released=pl.lit(True))
    )
    return (
        active_services(services, as_of)
        .select("student_id", "org_id", "service_type")
        .unique()
        .join(indicators.select("student_id", "school_id"), on="student_id")
        .join(released, on=["student_id", "org_id"], how="left")
        .group_by("org_id", "school_id", "service_type")
        .agg(
            students=pl.len(),
            students_with_release=pl.col("released").fill_null(False).sum(),
        )
        .with_columns(pl.col("students", "students_with_release").cast(pl.Int64))
        .sort("org_id", "school_id", "service_type")
        .select(SERVED_NOW_COLUMNS)
    )
