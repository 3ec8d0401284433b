"""Observed stages only (issue 12): when each stage of a class can be counted, and the
protected cube that never holds a number, `<10` or `*` for a stage not observable yet."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.vocabulary import PIPELINE_STAGES
from indicators.observable import (
    NOT_YET,
    funnel_observable_from,
    mark_not_yet,
    observable,
    observable_from,
    observed_stages,
    suppress_observed_cube,
)
from indicators.shown import biggest_leak_shown, gaps_shown, leaks_shown
from indicators.suppression import show_exact, suppress_cube

STAGES = list(PIPELINE_STAGES)


def test_each_stage_of_the_class_of_2027_is_observable_from_the_date_of_the_table() -> None:
    assert {stage: observable_from(stage, 2027) for stage in STAGES} == {
        "entered_grade_9": date(2023, 8, 1),  # first day of school year 2024 (grade 9)
        "reached_grade_12": date(2026, 8, 1),  # first day of school year 2027 (grade 12)
        "graduated": date(2027, 9, 1),  # ACGR: summer graduates through Aug 31
        "fafsa_completed": date(2027, 7, 1),  # NCAN: completions by June 30
        "enrolled_postsecondary": date(2027, 11, 1),  # NSC first fall ends Oct 31
        "persisted": date(2028, 11, 1),  # the second fall
    }


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_is_observable_on_its_date_and_not_the_day_before(stage: str) -> None:
    first = observable_from(stage, 2030)
    assert observable(stage, 2030, first)
    assert not observable(stage, 2030, first - timedelta(days=1))


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown pipeline stage"):
        observable_from("graduated_early", 2027)


def test_in_a_nested_funnel_a_stage_waits_for_every_earlier_stage() -> None:
    # FAFSA completed counts graduates who completed it: it waits for graduation.
    assert funnel_observable_from("fafsa_completed", 2027, STAGES) == date(2027, 9, 1)
    # A deployment without the graduation stage shows it from NCAN's date.
    without = [s for s in STAGES if s != "graduated"]
    assert funnel_observable_from("fafsa_completed", 2027, without) == date(2027, 7, 1)


def test_as_of_2026_11_30_the_class_of_2027_has_two_observed_stages() -> None:
    as_of = date(2026, 11, 30)
    assert observed_stages(2027, STAGES, as_of) == ["entered_grade_9", "reached_grade_12"]
    assert observed_stages(2026, STAGES, as_of) == STAGES[:-1]
    assert observed_stages(2025, STAGES, as_of) == STAGES
    assert observed_stages(2031, STAGES, as_of) == []


def funnel_rows(cohort: int, counts: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"cohort": cohort, "stage": STAGES[: len(counts)], "count": counts},
        schema={"cohort": pl.Int64, "stage": pl.String, "count": pl.Int64},
    )


def test_an_exact_funnel_says_not_yet_with_no_number_and_no_share() -> None:
    rows = mark_not_yet(show_exact(funnel_rows(2027, [120, 110, 0, 0, 0, 0])), date(2026, 11, 30))
    assert rows["display"].to_list() == ["120", "110", *[NOT_YET] * 4]
    assert rows["shown"].to_list() == [120, 110, None, None, None, None]
    assert rows["share"].to_list() == [100.0, 91.7, None, None, None, None]


def cube_of(cohorts: dict[int, dict[str, list[int]]]) -> pl.DataFrame:
    """A cube with an "all" funnel (the sums) and one grouping per cohort."""
    rows = []
    for cohort, table in cohorts.items():
        stages = len(next(iter(table.values())))
        totals = [sum(counts[s] for counts in table.values()) for s in range(stages)]
        rows += [(cohort, "all", "all", STAGES[s], totals[s]) for s in range(stages)]
        rows += [
            (cohort, "gender", group, STAGES[s], counts[s])
            for group, counts in table.items()
            for s in range(stages)
        ]
    return pl.DataFrame(
        rows,
        schema={
            "cohort": pl.Int64,
            "group_by": pl.String,
            "group": pl.String,
            "stage": pl.String,
            "count": pl.Int64,
        },
        orient="row",
    )


def test_the_protected_cube_stores_not_yet_for_later_stages_and_suppresses_the_rest() -> None:
    # The class of 2027 as of 2026-11-30: 0 graduates so far would be `<10`; it is not_yet.
    cube = cube_of({2027: {"F": [60, 45, 0, 0, 0, 0], "M": [50, 35, 0, 0, 0, 0]}})
    shown = suppress_observed_cube(cube, 10, date(2026, 11, 30))
    assert shown.columns == ["cohort", "group_by", "group", "stage", "display", "shown", "share"]
    assert shown.select("cohort", "group_by", "group", "stage").equals(cube.drop("count"))
    assert shown["display"].to_list() == [
        *("110", "80", *[NOT_YET] * 4),
        *("60", "45", *[NOT_YET] * 4),
        *("50", "35", *[NOT_YET] * 4),
    ]
    later = shown.filter(pl.col("display") == NOT_YET)
    assert later["shown"].null_count() == later["share"].null_count() == later.height == 12


@st.composite
def cohort_tables(draw: st.DrawFn) -> dict[int, dict[str, list[int]]]:
    cohorts = {}
    for cohort in draw(st.sets(st.integers(2024, 2029), min_size=1, max_size=3)):
        table = {}
        for group in draw(st.sets(st.sampled_from(["F", "M", "X"]), min_size=1, max_size=3)):
            count = draw(st.integers(0, 80))
            counts = [count]
            for _ in STAGES[1:]:
                count -= draw(st.integers(0, count))
                counts.append(count)
            table[group] = counts
        cohorts[cohort] = table
    return cohorts


AS_OF = st.dates(date(2023, 1, 1), date(2031, 12, 31))


@settings(max_examples=150, deadline=None)
@given(cohort_tables(), AS_OF, st.integers(1, 12))
def test_rules_two_and_three_run_over_the_observable_stages_only(
    cohorts: dict[int, dict[str, list[int]]], as_of: date, min_cell: int
) -> None:
    cube = cube_of(cohorts)
    shown = suppress_observed_cube(cube, min_cell, as_of)
    later = shown.filter(pl.col("display") == NOT_YET)
    assert later["shown"].null_count() == later["share"].null_count() == later.height
    for (cohort,), part in shown.group_by("cohort", maintain_order=True):
        observed = observed_stages(int(cohort), STAGES, as_of)
        assert set(part.filter(pl.col("display") == NOT_YET)["stage"]) == set(STAGES) - set(
            observed
        )
        if observed:
            alone = suppress_cube(
                cube.filter((pl.col("cohort") == cohort) & pl.col("stage").is_in(observed)),
                min_cell,
            )
            assert part.filter(pl.col("stage").is_in(observed)).equals(alone)


@settings(max_examples=150, deadline=None)
@given(cohort_tables(), AS_OF, st.integers(1, 12), st.randoms(use_true_random=False))
def test_what_is_stored_does_not_depend_on_the_counts_of_stages_not_observable_yet(
    cohorts: dict[int, dict[str, list[int]]], as_of: date, min_cell: int, rng: Random
) -> None:
    """Counts of a stage not observable yet (partial, often zero) never reach the display:
    rewriting them (keeping the funnels nested) changes nothing that is stored."""
    changed: dict[int, dict[str, list[int]]] = {}
    for cohort, table in cohorts.items():
        keep = len(observed_stages(cohort, STAGES, as_of))
        changed[cohort] = {}
        for group, counts in table.items():
            new = counts[:keep]
            last = new[-1] if new else rng.randint(0, 80)
            for _ in STAGES[keep:]:
                last = rng.randint(0, last)
                new.append(last)
            changed[cohort][group] = new
    assert suppress_observed_cube(cube_of(cohorts), min_cell, as_of).equals(
        suppress_observed_cube(cube_of(changed), min_cell, as_of)
    )


def test_leaks_and_gaps_leave_out_the_stages_not_observed_yet() -> None:
    as_of = date(2026, 11, 30)
    totals = mark_not_yet(show_exact(funnel_rows(2027, [120, 100, 0, 0, 0, 0])), as_of)
    group = mark_not_yet(show_exact(funnel_rows(2027, [50, 40, 0, 0, 0, 0])), as_of)
    assert biggest_leak_shown(totals) == {
        "from_stage": "entered_grade_9",
        "to_stage": "reached_grade_12",
        "lost": 20,
        "share_lost": 16.7,
        "from_count": 120,
    }
    assert leaks_shown(totals)["to_stage"].to_list() == ["reached_grade_12"]
    gaps = gaps_shown(
        group.with_columns(group=pl.lit("G")).select("group", "stage", "shown"),
        totals.select("stage", "shown"),
    )
    assert gaps.select("from_stage", "to_stage").rows() == [("entered_grade_9", "reached_grade_12")]
