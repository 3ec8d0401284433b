"""Not observed for want of data (issue 15, part 1): which classes have no college data,
and the protected cube that holds no number, `<10` or `*` for their college stages."""

from __future__ import annotations

from datetime import date
from random import Random

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.vocabulary import COLLEGE_STAGES, PIPELINE_STAGES
from indicators.diagnostics import NOT_OBSERVED as TIMING_NOT_OBSERVED
from indicators.diagnostics import college_timing
from indicators.observable import (
    NOT_OBSERVED,
    NOT_YET,
    college_not_observed,
    mark_not_yet,
    observed_stages,
    suppress_observed_cube,
)
from indicators.shown import biggest_leak_shown, gaps_shown, leaks_shown
from indicators.suppression import show_exact, suppress_cube
from tests.indicators.test_observable import AS_OF, cohort_tables, cube_of, funnel_rows

STAGES = list(PIPELINE_STAGES)
NOV_30 = date(2026, 11, 30)


def members(*rows: tuple[int, str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"cohort": pl.Int64, "student_id": pl.String}, orient="row")


def outcomes(*rows: tuple[str, bool | None, date | None]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "student_id": pl.String,
            "postsecondary_enrolled": pl.Boolean,
            "postsecondary_start_date": pl.Date,
        },
        orient="row",
    )


def test_a_class_none_of_whose_students_has_college_data_is_not_observed() -> None:
    classes = members((2023, "A1"), (2023, "A2"), (2024, "B1"), (2024, "B2"), (2025, "C1"))
    stored = outcomes(("A1", None, None), ("B1", False, None), ("C1", None, date(2025, 9, 2)))
    # 2023: a row in outcomes, but no college value; 2024: an N is college data (not
    # enrolled); 2025: a start date alone is college data too.
    assert college_not_observed(classes, stored) == [2023]


def test_a_clearinghouse_search_alone_makes_a_class_observed_found_or_not() -> None:
    classes = members((2023, "A1"), (2023, "A2"), (2024, "B1"))
    assert college_not_observed(classes, outcomes(), pl.Series(["A2"])) == [2024]
    assert college_not_observed(classes, outcomes(), pl.Series([], dtype=pl.String)) == [
        2023,
        2024,
    ]


def test_one_student_with_college_data_makes_the_whole_class_observed() -> None:
    classes = members(*((2024, f"B{n}") for n in range(30)))
    assert college_not_observed(classes, outcomes(("B7", True, date(2024, 8, 26)))) == []


def test_a_college_stage_of_a_class_without_data_says_not_observed_with_no_number() -> None:
    rows = mark_not_yet(show_exact(funnel_rows(2023, [120, 110, 100, 80, 0, 0])), NOV_30, {2023})
    assert rows["display"].to_list() == ["120", "110", "100", "80", NOT_OBSERVED, NOT_OBSERVED]
    assert rows["shown"].to_list() == [120, 110, 100, 80, None, None]
    assert rows["share"].to_list()[4:] == [None, None]


def test_a_stage_not_observable_yet_says_not_yet_even_in_a_class_without_data() -> None:
    # Class of 2026 on 2026-11-30: college is observable, a second year is not yet.
    rows = mark_not_yet(show_exact(funnel_rows(2026, [90, 80, 70, 60, 0, 0])), NOV_30, {2026})
    assert rows["display"].to_list()[4:] == [NOT_OBSERVED, NOT_YET]


def test_leaks_and_gaps_leave_out_the_college_stages_of_a_class_without_data() -> None:
    totals = mark_not_yet(show_exact(funnel_rows(2023, [120, 100, 90, 60, 0, 0])), NOV_30, {2023})
    group = mark_not_yet(show_exact(funnel_rows(2023, [50, 40, 35, 20, 0, 0])), NOV_30, {2023})
    assert leaks_shown(totals)["to_stage"].to_list() == STAGES[1:4]
    leak = biggest_leak_shown(totals)
    assert leak is not None and leak["to_stage"] == "fafsa_completed"
    gaps = gaps_shown(
        group.with_columns(group=pl.lit("G")).select("group", "stage", "shown"),
        totals.select("stage", "shown"),
    )
    assert not set(gaps["to_stage"]) & set(COLLEGE_STAGES)


def test_the_timing_split_of_a_class_without_data_is_one_not_observed_group() -> None:
    graduates = pl.DataFrame(
        {
            "cohort": [2023, 2023, 2024],
            "postsecondary_enrolled": [None, None, False],
            "postsecondary_start_date": [None, None, None],
            "institution_level": [None, None, None],
        },
        schema_overrides={
            "postsecondary_enrolled": pl.Boolean,
            "postsecondary_start_date": pl.Date,
        },
    )
    split = college_timing(graduates, NOV_30, {2023})
    assert split.filter(pl.col("cohort") == 2023).select("group", "count").rows() == [
        (TIMING_NOT_OBSERVED, 2)
    ]
    searched = dict(split.filter(pl.col("cohort") == 2024).select("group", "count").rows())
    assert searched["not_enrolled"] == 1 and TIMING_NOT_OBSERVED not in searched


def _unobserved(cohorts: dict[int, dict[str, list[int]]], draw: Random) -> set[int]:
    return {c for c in cohorts if draw.random() < 0.5}


@settings(max_examples=150, deadline=None)
@given(cohort_tables(), AS_OF, st.integers(1, 12), st.randoms(use_true_random=False))
def test_rules_two_and_three_run_over_the_observed_stages_only(
    cohorts: dict[int, dict[str, list[int]]], as_of: date, min_cell: int, rng: Random
) -> None:
    """Against the oracle: each cohort's observed stages (by date, and not the college
    stages of a class without data) protected alone by `suppress_cube`; every other stage
    `not_yet` (date) or `not_observed` (data), with no number and no share."""
    unobserved = _unobserved(cohorts, rng)
    cube = cube_of(cohorts)
    shown = suppress_observed_cube(cube, min_cell, as_of, unobserved)
    assert shown.select("cohort", "group_by", "group", "stage").equals(cube.drop("count"))
    hidden = shown.filter(pl.col("display").is_in([NOT_YET, NOT_OBSERVED]))
    assert hidden["shown"].null_count() == hidden["share"].null_count() == hidden.height
    for (cohort,), part in shown.group_by("cohort", maintain_order=True):
        by_date = observed_stages(int(cohort), STAGES, as_of)
        observed = [s for s in by_date if not (cohort in unobserved and s in COLLEGE_STAGES)]
        assert set(part.filter(pl.col("display") == NOT_YET)["stage"]) == set(STAGES) - set(by_date)
        assert set(part.filter(pl.col("display") == NOT_OBSERVED)["stage"]) == set(by_date) - set(
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
def test_what_is_stored_does_not_depend_on_the_college_counts_of_a_class_without_data(
    cohorts: dict[int, dict[str, list[int]]], as_of: date, min_cell: int, rng: Random
) -> None:
    """Rewriting the college counts of a class without data (keeping its funnels nested)
    changes nothing that is stored: no hidden value of them can be read off."""
    unobserved = _unobserved(cohorts, rng)
    first_college = STAGES.index(COLLEGE_STAGES[0])
    changed: dict[int, dict[str, list[int]]] = {}
    for cohort, table in cohorts.items():
        changed[cohort] = {}
        for group, counts in table.items():
            if cohort not in unobserved:
                changed[cohort][group] = counts
                continue
            new = counts[:first_college]
            last = new[-1]
            for _ in STAGES[first_college:]:
                last = rng.randint(0, last)
                new.append(last)
            changed[cohort][group] = new
    assert suppress_observed_cube(cube_of(cohorts), min_cell, as_of, unobserved).equals(
        suppress_observed_cube(cube_of(changed), min_cell, as_of, unobserved)
    )
