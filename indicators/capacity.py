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
- Open slots reveal how many students a partner serves (served = slots - open, and the
  slots are shown), and a partner's served count at a school bounds the coverage page's
  protected `served_addressing` there whenever it is the only partner serving that need
  (docs/access-rules.md, "Need and coverage", rule 6). So a viewer without exact rights
  (`exact=False`: every protected viewer, and everyone in meeting mode) never gets a
  figure derived from a served count: `served` is null, the open slots are the range
  0 to slots (`open_display` "up to 25"), the same whatever the served count is.
  Protected viewers see the slots a partner offers. A partner's own rows, counted from
  the students it may see, are the data layer's to pass as `exact=True`
  (data_access/capacity.py).
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
    (equal when known; 0 and slots otherwise) and `open_display` ("25", or "up to 25").
    Sorted by org_id, school_id, service_type. For `exact=False` the result depends on
    `capacity` alone (the module's rules). `min_cell` is unused since open slots stopped
    showing served counts of min_cell or more to protected viewers; it is kept so
    callers need not change (the lead may drop it once no caller passes it).
    """
    del min_cell  # no served count reaches a protected viewer, however large
    rows = served_against_capacity(capacity, served_now)
    if not exact:
        return (
            rows.with_columns(
                served=pl.lit(None, dtype=pl.Int64),
                open_low=pl.lit(0, dtype=pl.Int64),
                open_high=pl.col("slots").cast(pl.Int64),
            )
            .with_columns(open_display=pl.format("up to {}", pl.col("open_high")))
            .select(OPEN_SLOTS_COLUMNS)
        )
    open_known = (pl.col("slots") - pl.col("served")).clip(lower_bound=0).cast(pl.Int64)
    return (
        rows.with_columns(
            served=pl.col("served").cast(pl.Int64), open_low=open_known, open_high=open_known
        )
        .with_columns(open_display=pl.col("open_low").cast(pl.String))
        .select(OPEN_SLOTS_COLUMNS)
    )
