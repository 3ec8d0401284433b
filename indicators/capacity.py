"""Partner capacity: open slots, and how they may be shown (issue 14, part 2).

Pure Polars over two frames:
- `capacity`: org_id, school_id (`ANY_SCHOOL` = "" for capacity at any school),
  service_type, slots, accepting_referrals; one school year's rows.
- `served_now`: org_id, school_id (the student's school of record), service_type,
  students: the students each organisation serves now (the `coverage_served_now` table).

Rules (docs/indicators.md, "Partner capacity"):
- A school's capacity row subtracts the students that organisation serves with that
  service type at that school. An any-school row subtracts those it serves at every
  school where it has no school-specific row of that service type, so no student is
  subtracted twice. Open slots = slots - served, never below zero (an over-full
  partner has none open).
- Served counts are counts of students: a viewer who may not see those students gets
  them only under the small-cell rules (docs/access-rules.md rule 1). So for such a viewer a
  served count under `min_cell` (zero included) is hidden, and the open slots become
  the range they could be: from slots - (min_cell - 1) to slots, never below zero. A
  range tells a work group as much as it needs ("16 to 25 open") and nothing about
  the few students behind it.
"""

from __future__ import annotations

from typing import Final

import polars as pl

#: `school_id` of capacity offered at any school (blank in the import file); the same
#: value as `data_access.models.ANY_SCHOOL`, restated because indicators do no I/O.
ANY_SCHOOL: Final = ""

#: The columns of `open_slots`, in order.
OPEN_SLOTS_COLUMNS: Final = (
    "org_id",
    "school_id",
    "service_type",
    "slots",
    "accepting_referrals",
    "served",
    "open_low",
    "open_high",
    "open_display",
)


def served_against_capacity(capacity: pl.DataFrame, served_now: pl.DataFrame) -> pl.DataFrame:
    """`capacity` with `served`: the students its slots are taken by (the module's rule)."""
    served = served_now.select("org_id", "school_id", "service_type", "students")
    specific = capacity.filter(pl.col("school_id") != ANY_SCHOOL)
    at_school = specific.join(
        served, on=["org_id", "school_id", "service_type"], how="left"
    ).with_columns(served=pl.col("students").fill_null(0).cast(pl.Int64))
    elsewhere = (
        served.join(
            specific.select("org_id", "school_id", "service_type"),
            on=["org_id", "school_id", "service_type"],
            how="anti",
        )
        .group_by("org_id", "service_type")
        .agg(served=pl.col("students").sum().cast(pl.Int64))
    )
    anywhere = (
        capacity.filter(pl.col("school_id") == ANY_SCHOOL)
        .join(elsewhere, on=["org_id", "service_type"], how="left")
        .with_columns(pl.col("served").fill_null(0))
    )
    columns = [*capacity.columns, "served"]
    return pl.concat([at_school.select(columns), anywhere.select(columns)]).sort(
        "org_id", "school_id", "service_type"
    )


def open_slots(
    capacity: pl.DataFrame, served_now: pl.DataFrame, *, exact: bool, min_cell: int
) -> pl.DataFrame:
    """Open slots per capacity row, as `exact` or protected viewers may see them.

    Columns OPEN_SLOTS_COLUMNS: `served` (null when hidden), `open_low` and `open_high`
    (equal when known; the range otherwise) and `open_display` ("25", or "16 to 25").
    Sorted by org_id, school_id, service_type.
    """
    rows = served_against_capacity(capacity, served_now)
    hidden = pl.lit(not exact) & (pl.col("served") < min_cell)
    open_known = (pl.col("slots") - pl.col("served")).clip(lower_bound=0)
    low = pl.when(hidden).then((pl.col("slots") - (min_cell - 1)).clip(lower_bound=0))
    return (
        rows.with_columns(
            open_low=low.otherwise(open_known).cast(pl.Int64),
            open_high=pl.when(hidden).then(pl.col("slots")).otherwise(open_known).cast(pl.Int64),
            served=pl.when(hidden).then(None).otherwise(pl.col("served")).cast(pl.Int64),
        )
        .with_columns(
            open_display=pl.when(pl.col("open_low") == pl.col("open_high"))
            .then(pl.col("open_low").cast(pl.String))
            .otherwise(
                pl.format("{} to {}", pl.col("open_low"), pl.col("open_high")),
            )
        )
        .select(OPEN_SLOTS_COLUMNS)
    )
