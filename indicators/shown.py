"""Leaks and gaps computed from what may be shown, never from hidden counts.

The pages call these on a funnel as displayed (`display`, `shown`, `share`): a leak is
stated only between two stages whose counts are both shown exactly, and a subgroup gap
only where the group's two counts and the all-students counts are all shown exactly (the
rest of the cohort is then exact too, by subtraction). For a viewer with exact rights
every count is shown, so this is the same as computing from the exact counts.
"""

from __future__ import annotations

import polars as pl


def leaks_shown(funnel: pl.DataFrame) -> pl.DataFrame:
    """`from_stage, to_stage, lost, share_lost` (percent of the earlier stage), one row per
    consecutive pair of stages of one funnel (rows in stage order) with both counts shown."""
    pairs = funnel.select(
        pl.col("stage").alias("from_stage"),
        pl.col("stage").shift(-1).alias("to_stage"),
        pl.col("shown").alias("from_count"),
        pl.col("shown").shift(-1).alias("to_count"),
    ).drop_nulls()
    return pairs.filter(pl.col("from_count") > 0).select(
        "from_stage",
        "to_stage",
        (pl.col("from_count") - pl.col("to_count")).alias("lost"),
        ((pl.col("from_count") - pl.col("to_count")) * 100 / pl.col("from_count"))
        .round(1)
        .alias("share_lost"),
        "from_count",
    )


def biggest_leak_shown(funnel: pl.DataFrame) -> dict[str, object] | None:
    """The shown pair with the largest share lost (ties: the earlier pair), or None."""
    leaks = leaks_shown(funnel)
    if leaks.height == 0:
        return None
    best = (
        leaks.with_row_index("_i")
        .sort(["share_lost", "_i"], descending=[True, False])
        .row(0, named=True)
    )
    best.pop("_i")
    return best


def gaps_shown(groups: pl.DataFrame, totals: pl.DataFrame) -> pl.DataFrame:
    """Each group's stage-to-stage conversion against the rest of the cohort, in points.

    `groups`: rows `group, stage, shown` of one grouping, stages in order within each
    group; `totals`: the all-students funnel `stage, shown`. Returns `group, from_stage,
    to_stage, group_rate, rest_rate, gap_points` for every pair where all the counts
    needed are shown exactly and both denominators are positive.
    """
    t = totals.select(
        pl.col("stage").alias("from_stage"),
        pl.col("stage").shift(-1).alias("to_stage"),
        pl.col("shown").alias("t_from"),
        pl.col("shown").shift(-1).alias("t_to"),
    )
    g = groups.select(
        "group",
        pl.col("stage").alias("from_stage"),
        pl.col("stage").shift(-1).over("group").alias("to_stage"),
        pl.col("shown").alias("g_from"),
        pl.col("shown").shift(-1).over("group").alias("g_to"),
    )
    joined = g.join(t, on=["from_stage", "to_stage"], how="inner").drop_nulls()
    rest_from = pl.col("t_from") - pl.col("g_from")
    rest_to = pl.col("t_to") - pl.col("g_to")
    return (
        joined.filter((pl.col("g_from") > 0) & (rest_from > 0))
        .with_columns(
            group_rate=(pl.col("g_to") * 100 / pl.col("g_from")).round(1),
            rest_rate=(rest_to * 100 / rest_from).round(1),
        )
        .with_columns(gap_points=(pl.col("group_rate") - pl.col("rest_rate")).round(1))
        .select("group", "from_stage", "to_stage", "group_rate", "rest_rate", "gap_points")
    )
