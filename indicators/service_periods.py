"""Service periods from session-level exports (docs/import-format.md, "Partners' service
exports").

Partners' case-management systems record one row per delivered session (Salesforce's
Program Management Module: a `ServiceDelivery__c` with its Contact, Service, DeliveryDate,
Quantity, UnitOfMeasurement and AttendanceStatus). Pathwise's `services` file holds one row
per period of service. The roll-up:

- Only sessions attended count (`present`); absences are dropped.
- The sessions of one person, organisation and service type form one period until a gap
  of more than `gap_days` days (the setting `imports.service_period_gap_days`, 30 by
  default) between two consecutive sessions; then a new period starts.
- A period starts on its first session. `sessions` counts its sessions; `hours` adds up
  their duration in hours (a quantity in minutes is divided by 60; blank when no session of
  the period has a duration in hours or minutes).
- Its end: when the export carries the engagement's end date (`ends_given`), the latest end
  date written on its sessions, blank when none (still open). Otherwise the last session,
  except for a person's latest period of that program whose last session is within
  `gap_days` of the export's latest session: that one is still open (blank).

Pure: frames in, frames out.
"""

from __future__ import annotations

import polars as pl

KEYS = ["_person", "org_id", "service_type"]


def roll_up(deliveries: pl.DataFrame, gap_days: int, *, ends_given: bool) -> pl.DataFrame:
    """`deliveries` (`_person`, org_id, service_type, delivery_date, present, hours,
    end_date, `_line`) -> periods (`_person`, org_id, service_type, start_date, end_date,
    sessions, hours, `_line` of the period's first session)."""
    attended = deliveries.filter(pl.col("present")).sort([*KEYS, "delivery_date", "_line"])
    if attended.height == 0:
        return pl.DataFrame(
            schema={
                "_person": pl.String,
                "org_id": pl.String,
                "service_type": pl.String,
                "start_date": pl.Date,
                "end_date": pl.Date,
                "sessions": pl.Int64,
                "hours": pl.Float64,
                "_line": pl.Int64,
            }
        )
    latest = attended.get_column("delivery_date").max()
    gap = (pl.col("delivery_date") - pl.col("delivery_date").shift(1).over(KEYS)).dt.total_days()
    numbered = attended.with_columns(
        (gap > gap_days).fill_null(False).cast(pl.Int64).cum_sum().over(KEYS).alias("_period")
    )
    periods = numbered.group_by([*KEYS, "_period"], maintain_order=True).agg(
        pl.col("delivery_date").min().alias("start_date"),
        pl.col("delivery_date").max().alias("_last"),
        pl.col("end_date").max().alias("_end"),
        pl.len().cast(pl.Int64).alias("sessions"),
        pl.when(pl.col("hours").is_not_null().any()).then(pl.col("hours").sum()).alias("hours"),
        pl.col("_line").min().alias("_line"),
    )
    if ends_given:
        end = pl.col("_end")
    else:
        newest = pl.col("_period") == pl.col("_period").max().over(KEYS)
        still_open = newest & ((pl.lit(latest) - pl.col("_last")).dt.total_days() <= gap_days)
        end = pl.when(still_open).then(pl.lit(None, dtype=pl.Date)).otherwise(pl.col("_last"))
    return periods.select(
        *KEYS,
        "start_date",
        end.alias("end_date"),
        "sessions",
        pl.col("hours").cast(pl.Float64),
        "_line",
    )
