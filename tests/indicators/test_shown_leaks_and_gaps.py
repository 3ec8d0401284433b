"""Leaks and gaps are stated only from counts that are shown exactly."""

from __future__ import annotations

import polars as pl

from indicators.shown import biggest_leak_shown, gaps_shown, leaks_shown

STAGES = ["entered_grade_9", "reached_grade_12", "graduated", "fafsa_completed"]


def funnel(shown: list[int | None]) -> pl.DataFrame:
    return pl.DataFrame({"stage": STAGES, "shown": shown}, schema_overrides={"shown": pl.Int64})


def test_the_biggest_leak_is_the_largest_share_lost_between_shown_stages() -> None:
    leak = biggest_leak_shown(funnel([1000, 900, 600, 300]))
    assert leak is not None
    assert (leak["from_stage"], leak["to_stage"], leak["lost"], leak["share_lost"]) == (
        "graduated",
        "fafsa_completed",
        300,
        50.0,
    )


def test_no_leak_is_stated_across_a_hidden_stage() -> None:
    leaks = leaks_shown(funnel([1000, None, 600, 590]))
    assert leaks["from_stage"].to_list() == ["graduated"]
    assert biggest_leak_shown(funnel([None, None, None, None])) is None


def test_a_gap_compares_a_group_with_the_rest_of_the_cohort_in_points() -> None:
    groups = pl.DataFrame(
        {
            "group": ["A"] * 4 + ["B"] * 4,
            "stage": STAGES * 2,
            "shown": [100, 80, 60, 30, 900, 820, None, 370],
        },
        schema_overrides={"shown": pl.Int64},
    )
    gaps = gaps_shown(groups, funnel([1000, 900, 700, 400]))
    a = gaps.filter(pl.col("group") == "A").sort("from_stage")
    row = a.filter(pl.col("from_stage") == "reached_grade_12").row(0, named=True)
    # A: 60/80 = 75%; rest: (700-60)/(900-80) = 78.0%  -> -3.0 points
    assert (row["group_rate"], row["rest_rate"], row["gap_points"]) == (75.0, 78.0, -3.0)
    assert gaps.filter((pl.col("group") == "B") & (pl.col("to_stage") == "graduated")).height == 0
