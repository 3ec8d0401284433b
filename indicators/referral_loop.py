"""Closing the loop on referrals (issue 14, part 3): what became of them.

Pure Polars over:
- `referrals`: referral_id, student_id, org_id, status (open, accepted, declined, closed),
  created_at, updated_at (datetimes);
- `schools`: student_id, school_id (the student's school of record);
- `released`: student_id, org_id of the releases active today;
- `services`: student_id, org_id, service_type, start_date.

Rules (docs/indicators.md, "Closing the loop on referrals"):
- *answered*: accepted or declined; days to a response = whole days from created_at to
  updated_at of an answered referral; the median over a group's answered referrals.
- *waiting for a release*: open, with no active release naming the organisation for the
  student (the partner learns nothing until the family signs).
- *became a service*: accepted, and a service of that organisation for that student
  started on or after the referral's date and within `SERVICE_WITHIN_DAYS` (30) days of it.
- The figures per organisation and school form one nested funnel (every referral sits in
  exactly one step between two stages): made ⊇ not waiting ⊇ answered ⊇ accepted ⊇ became
  a service, so waiting = made - not waiting, declined = answered - accepted; a protected
  viewer gets the funnel through the small-cell rules (`indicators.suppression`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import polars as pl

from indicators.suppression import ALL, show_exact, suppress_groups

#: A referral "became a service" when the service started within this many days.
SERVICE_WITHIN_DAYS: Final = 30

#: The nested stages of the loop, in order (see the module's rules).
LOOP_STAGES: Final = ("made", "not_waiting", "answered", "accepted", "became_service")

#: The columns of `referral_paths`, in order.
PATH_COLUMNS: Final = (
    "referral_id",
    "student_id",
    "org_id",
    "referred_on",
    "status",
    "waiting_for_release",
    "answered_on",
    "days_to_response",
    "service_type",
    "service_started",
)


def referral_paths(
    referrals: pl.DataFrame, released: pl.DataFrame, services: pl.DataFrame
) -> pl.DataFrame:
    """Each referral's path: referred -> answered (date, days) -> service started (the
    first service of that organisation starting within SERVICE_WITHIN_DAYS of the referral,
    for an accepted one). Columns PATH_COLUMNS, in the order of `referrals`."""
    answered = pl.col("status").is_in(["accepted", "declined"])
    base = referrals.select(
        "referral_id",
        "student_id",
        "org_id",
        "status",
        referred_on=pl.col("created_at").dt.date(),
        answered_on=pl.when(answered).then(pl.col("updated_at").dt.date()),
        days_to_response=pl.when(answered).then(
            (pl.col("updated_at") - pl.col("created_at")).dt.total_days()
        ),
    )
    released_pairs = (
        released.select("student_id", "org_id").unique().with_columns(released=pl.lit(True))
    )
    started = (
        base.filter(pl.col("status") == "accepted")
        .select("referral_id", "student_id", "org_id", "referred_on")
        .join(
            services.select("student_id", "org_id", "service_type", "start_date"),
            on=["student_id", "org_id"],
        )
        .filter(
            (pl.col("start_date") >= pl.col("referred_on"))
            & (pl.col("start_date") <= pl.col("referred_on") + timedelta(days=SERVICE_WITHIN_DAYS))
        )
        .sort("referral_id", "start_date", "service_type")
        .unique("referral_id", keep="first")
        .select("referral_id", "service_type", service_started=pl.col("start_date"))
    )
    return (
        base.join(released_pairs, on=["student_id", "org_id"], how="left", maintain_order="left")
        .join(started, on="referral_id", how="left", maintain_order="left")
        .with_columns(
            waiting_for_release=(pl.col("status") == "open") & pl.col("released").is_null(),
            days_to_response=pl.col("days_to_response").cast(pl.Int64),
        )
        .select(PATH_COLUMNS)
    )


def loop_figures(paths: pl.DataFrame, schools: pl.DataFrame) -> pl.DataFrame:
    """Per organisation and school (the student's school of record): the stages of
    LOOP_STAGES as counts, declined, waiting, the median days to a response at the school
    (`median_days`) and over all the organisation's schools (`org_median_days`). Sorted
    by org_id then school_id."""
    answered = pl.col("status").is_in(["accepted", "declined"])
    return (
        paths.join(schools.select("student_id", "school_id"), on="student_id", how="left")
        .with_columns(
            pl.col("school_id").fill_null(""),
            org_median_days=pl.col("days_to_response").median().over("org_id"),
        )
        .group_by("org_id", "school_id")
        .agg(
            made=pl.len(),
            not_waiting=(~pl.col("waiting_for_release")).sum(),
            answered=answered.sum(),
            accepted=(pl.col("status") == "accepted").sum(),
            became_service=pl.col("service_started").is_not_null().sum(),
            declined=(pl.col("status") == "declined").sum(),
            waiting=pl.col("waiting_for_release").sum(),
            median_days=pl.col("days_to_response").median(),
            org_median_days=pl.col("org_median_days").first(),
        )
        .with_columns(pl.col(*LOOP_STAGES, "declined", "waiting").cast(pl.Int64))
        .sort("org_id", "school_id")
    )


def shown_figures(figures: pl.DataFrame, *, exact: bool, min_cell: int) -> pl.DataFrame:
    """The loop figures as a viewer may see them, one row per organisation and school and
    one per organisation over all its schools (school_id `ALL`): for each stage of
    LOOP_STAGES `<stage>` (the text shown: a number, `<m` or `*`) and, derived from two
    exactly shown stages only, `waiting` and `declined`; `median_days` only beside an
    exactly shown `answered` of at least `min_cell` referrals (null otherwise). Exact
    viewers see every number (`exact=True`); the others get each organisation's funnel
    through `indicators.suppression.suppress_groups` (docs/access-rules.md, rules 1-5)."""
    rows: list[pl.DataFrame] = []
    for org_id in figures["org_id"].unique(maintain_order=True).to_list():
        own = figures.filter(pl.col("org_id") == org_id)
        long = own.select("school_id", *LOOP_STAGES).unpivot(
            index="school_id", variable_name="stage", value_name="count"
        )
        long = (
            long.with_columns(
                _order=pl.col("stage").replace_strict(LOOP_STAGES, range(len(LOOP_STAGES)))
            )
            .sort("school_id", "_order")
            .drop("_order")
        )
        groups = long.rename({"school_id": "group"})
        if exact:
            totals = groups.group_by("stage", maintain_order=True).agg(pl.col("count").sum())
            shown = pl.concat(
                [
                    show_exact(groups).select("group", "stage", "display", "shown"),
                    show_exact(totals.with_columns(group=pl.lit(ALL))).select(
                        "group", "stage", "display", "shown"
                    ),
                ]
            )
        else:
            result = suppress_groups(groups, min_cell=min_cell)
            shown = pl.concat(
                [
                    result.groups.select("group", "stage", "display", "shown"),
                    result.totals.with_columns(group=pl.lit(ALL)).select(
                        "group", "stage", "display", "shown"
                    ),
                ]
            )
        medians = pl.concat(
            [
                own.select(pl.col("school_id").alias("group"), "median_days"),
                pl.DataFrame(
                    {"group": [ALL], "median_days": [own["org_median_days"][0]]},
                    schema={"group": pl.String, "median_days": pl.Float64},
                ),
            ]
        )
        wide = shown.pivot(on="stage", index="group", values=["display", "shown"])
        rows.append(wide.join(medians, on="group", how="left").with_columns(org_id=pl.lit(org_id)))
    if not rows:
        return pl.DataFrame(schema=_SHOWN_SCHEMA)
    both = pl.concat(rows, how="diagonal_relaxed")
    minus = {
        "waiting": ("shown_made", "shown_not_waiting"),
        "declined": ("shown_answered", "shown_accepted"),
    }
    return both.select(
        "org_id",
        pl.col("group").alias("school_id"),
        *[pl.col(f"display_{s}").alias(s) for s in LOOP_STAGES],
        *[
            pl.when(pl.col(a).is_not_null() & pl.col(b).is_not_null())
            .then((pl.col(a) - pl.col(b)).cast(pl.String))
            .otherwise(pl.lit("*"))
            .alias(name)
            for name, (a, b) in minus.items()
        ],
        median_days=pl.when(
            pl.lit(exact) | (pl.col("shown_answered").fill_null(0) >= min_cell)
        ).then(pl.col("median_days")),
    ).sort("org_id", pl.col("school_id") == ALL, "school_id")


_SHOWN_SCHEMA: Final = {
    "org_id": pl.String,
    "school_id": pl.String,
    **dict.fromkeys(LOOP_STAGES, pl.String),
    "waiting": pl.String,
    "declined": pl.String,
    "median_days": pl.Float64,
}
