"""The pipeline's on-track split as one more grouping of the cube (indicators.md).

"The on-track split shows, for the cohort, graduation rates of students who were on
track at the end of grade 9 against those who were not." Storing it as a grouping
(`group_by = "on_track_9"`, groups on_track / off_track / unknown) lets it share the
cube's small-cell protection, so the split is never shown with a recoverable cell.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from domain.vocabulary import PIPELINE_STAGES, UNKNOWN_GROUP

ON_TRACK_GROUPING: Final = "on_track_9"
ON_TRACK_GROUPS: Final = ("on_track", "off_track", UNKNOWN_GROUP)


def on_track_funnels(stages: pl.DataFrame) -> pl.DataFrame:
    """`cohort, group_by, group, stage, count` by grade-9 on-track status, from a
    `cohort_stages` frame (one row per cohort member, nested Boolean stage columns) or a
    frame of partial counts with the same columns (integer stage columns, summed alike).
    Every cohort has the three groups, a zero count included."""
    stage_names = [s for s in PIPELINE_STAGES if s in stages.columns]
    status = (
        pl.when(pl.col("on_track"))
        .then(pl.lit("on_track"))
        .when(pl.col("on_track").not_())
        .then(pl.lit("off_track"))
        .otherwise(pl.lit(UNKNOWN_GROUP))
    )
    groups = pl.DataFrame({"group": list(ON_TRACK_GROUPS)})
    cohorts = stages.select("cohort").unique()
    counts = stages.group_by("cohort", status.alias("group")).agg(
        pl.col(stage_names).sum().cast(pl.Int64)
    )
    full = (
        cohorts.join(groups, how="cross")
        .join(counts, on=["cohort", "group"], how="left")
        .fill_null(0)
    )
    order = {g: i for i, g in enumerate(ON_TRACK_GROUPS)}
    stage_order = {s: i for i, s in enumerate(stage_names)}
    return (
        full.unpivot(
            stage_names, index=["cohort", "group"], variable_name="stage", value_name="count"
        )
        .with_columns(
            pl.lit(ON_TRACK_GROUPING).alias("group_by"),
            pl.col("group").replace_strict(order, return_dtype=pl.Int64).alias("_g"),
            pl.col("stage").replace_strict(stage_order, return_dtype=pl.Int64).alias("_s"),
        )
        .sort("cohort", "_g", "_s")
        .select("cohort", "group_by", "group", "stage", "count")
    )
