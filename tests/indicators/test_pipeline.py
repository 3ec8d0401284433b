"""The cohort pipeline: membership, nested stages, leaks, gaps and the on-track split.

One hand-made cohort (class of 2026, ninth graders in 2022-23) whose every count below
was worked out on paper:

| student | grade-9 in 2023 | grade 12 in 2026 | graduated      | FAFSA 2026 | college | persisted |
|---------|-----------------|------------------|----------------|------------|---------|-----------|
| A       | yes             | yes              | 2026-06-10     | completed  | Y       | Y         |
| B       | yes             | yes              | 2026-08-31     | submitted  |         |           |
| C       | yes             | yes              | 2026-09-01 (late) | completed |       |           |
| D       | yes (dropped out in 2024)                                                          |
| E       | no (moved in, grade 10) | yes      | 2026-06-10     | completed  | Y       |           |
| F       | yes, transferred out in 2024: removed from the cohort                               |
| G       | yes, internal transfer in 2024 | yes | 2026-06-10   |            |         |           |
| I       | yes (repeated grade 9) | yes       | Y, no date     |            |         |           |
| H       | class of 2025: another cohort                                                      |
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from domain.vocabulary import GROUP_FIELDS, PIPELINE_STAGES
from indicators.on_track import ON_TRACK_GROUPING
from indicators.pipeline import (
    EXTRA_GROUPINGS,
    biggest_leak,
    cohort_stages,
    funnel,
    leaks,
    on_track_split,
    pipeline_cube,
    subgroup_gaps,
)
from indicators.settings import Settings
from tests.indicators.builders import enrollment, fafsa, mark, outcome, student, tables

C = 2026


def four_years(sid: str, school: str = "HS1", first_grade: int = 9) -> list[dict]:
    return [
        enrollment(sid, grade=grade, year=C - 12 + grade, school=school)
        for grade in range(first_grade, 13)
    ]


def ninth_grade_year(sid: str, on_track: bool) -> list[dict]:
    """Marks of 2022-23: 6 credits and no F (on track) or 3 credits (off track)."""
    credits = 1.0 if on_track else 0.5
    return [
        mark(sid, "B", term="Y", subject=s, credits=credits, year=C - 3, course=s)
        for s in ("ela", "math", "science", "social_studies", "other", "other2")
    ]


@pytest.fixture
def world():
    students = [
        student("A", race_ethnicity="hispanic", gender="F", econ_disadvantaged=True),
        student("B", race_ethnicity="white", gender="M", econ_disadvantaged=False),
        student("C", race_ethnicity="hispanic", gender=None, econ_disadvantaged=True),
        student("D", race_ethnicity="black", gender="F", econ_disadvantaged=False),
        student("E", race_ethnicity="hispanic", gender="M", econ_disadvantaged=True),
        student("F", race_ethnicity="white", gender="F", econ_disadvantaged=False),
        student("G", race_ethnicity="white", gender="X", econ_disadvantaged=False),
        student("I", race_ethnicity=None, gender="M", econ_disadvantaged=None),
        student("H", cohort=C - 1, race_ethnicity="white", gender="F"),
    ]
    enrollments = [
        *four_years("A"),
        *four_years("B"),
        *four_years("C"),
        enrollment("D", grade=9, year=C - 3),
        enrollment("D", grade=10, year=C - 2, exit=date(2024, 1, 12), code="dropped_out"),
        *four_years("E", first_grade=10),
        enrollment("F", grade=9, year=C - 3),
        enrollment("F", grade=10, year=C - 2, exit=date(2023, 11, 3), code="transferred"),
        enrollment("G", grade=9, year=C - 3),
        enrollment("G", grade=10, year=C - 2, exit=date(2023, 12, 15), code="transferred"),
        enrollment("G", grade=10, year=C - 2, school="HS2", entry=date(2024, 1, 8)),
        enrollment("G", grade=11, year=C - 1, school="HS2"),
        enrollment("G", grade=12, year=C, school="HS2", exit=date(2026, 6, 12), code="graduated"),
        enrollment("I", grade=9, year=C - 4),
        *four_years("I"),
        *four_years("H")[:3],
        enrollment("H", grade=12, year=C - 1, school="HS1"),
    ]
    course_marks = [
        *ninth_grade_year("A", True),
        *ninth_grade_year("B", False),
        *ninth_grade_year("D", True),
        *ninth_grade_year("G", False),
        *ninth_grade_year("I", True),
    ]
    outcomes = [
        outcome("A", True, date(2026, 6, 10), enrolled=True, persisted=True),
        outcome("B", True, date(2026, 8, 31), enrolled=False),
        outcome("C", True, date(2026, 9, 1)),
        outcome("D", False),
        outcome("E", True, date(2026, 6, 10), enrolled=True),
        outcome("G", True, date(2026, 6, 10)),
        outcome("I", True, None),
        outcome("H", True, date(2025, 6, 10), enrolled=True, persisted=True),
    ]
    records = [
        fafsa("A", "completed", award_year=C),
        fafsa("B", "submitted", award_year=C),
        fafsa("C", "completed", award_year=C),
        fafsa("E", "completed", award_year=C),
        fafsa("G", "completed", award_year=C - 1),
    ]
    return tables(
        students=students,
        enrollments=enrollments,
        course_marks=course_marks,
        outcomes=outcomes,
        fafsa=records,
    )


def counts(frame: pl.DataFrame, group: str = "all") -> list[int]:
    return frame.filter(pl.col("group") == group)["count"].to_list()


def test_transfers_out_leave_the_cohort_but_internal_transfers_stay(world, settings) -> None:
    stages = cohort_stages(world, [C], settings)
    assert stages["student_id"].to_list() == ["A", "B", "C", "D", "E", "G", "I"]


def test_a_student_whose_last_record_is_a_transfer_out_is_removed_even_after_others(
    settings,
) -> None:
    world = tables(
        students=[student("X"), student("Y")],
        enrollments=[
            enrollment("X", grade=9, year=C - 3, exit=date(2023, 1, 5), code="transferred"),
            enrollment("X", grade=9, year=C - 3, school="HS2", entry=date(2023, 1, 9)),
            enrollment(
                "X", grade=10, year=C - 2, school="HS2", exit=date(2023, 10, 1), code="transferred"
            ),
            enrollment("Y", grade=9, year=C - 3, exit=date(2023, 1, 5), code="transferred"),
            enrollment("Y", grade=10, year=C - 2, school="HS2"),
        ],
    )
    assert cohort_stages(world, [C], settings)["student_id"].to_list() == ["Y"]


def test_the_funnel_is_nested_in_spec_order(world, settings) -> None:
    frame = funnel(cohort_stages(world, [C], settings), None)
    assert frame.columns == ["cohort", "group_by", "group", "stage", "count"]
    assert frame["stage"].to_list() == list(PIPELINE_STAGES)
    # E never entered grade 9 here, C graduated late, I without a date, B submitted only.
    assert counts(frame) == [6, 5, 3, 1, 1, 1]


def test_graduating_on_august_31_counts_and_september_1_does_not(world, settings) -> None:
    stages = cohort_stages(world, [C], settings).filter(pl.col("student_id").is_in(["B", "C"]))
    assert stages.sort("student_id")["graduated"].to_list() == [True, False]


def test_groups_cover_unknown_values_and_keep_zero_counts(world, settings) -> None:
    frame = funnel(cohort_stages(world, [C], settings), "gender")
    assert frame["group"].unique(maintain_order=True).to_list() == ["F", "M", "X", "unknown"]
    assert counts(frame, "F") == [2, 1, 1, 1, 1, 1]  # A, D
    assert counts(frame, "M") == [2, 2, 1, 0, 0, 0]  # B, I (E never entered grade 9)
    assert counts(frame, "X") == [1, 1, 1, 0, 0, 0]  # G
    assert counts(frame, "unknown") == [1, 1, 0, 0, 0, 0]  # C
    econ = funnel(cohort_stages(world, [C], settings), "econ_disadvantaged")
    assert econ["group"].unique(maintain_order=True).to_list() == ["Y", "N", "unknown"]


def test_the_worked_cohort_never_increases_along_the_funnel(world, settings) -> None:
    cube = pipeline_cube(world, None, settings)
    steps = cube.group_by("cohort", "group_by", "group").agg(
        (pl.col("count").diff() > 0).any().alias("increases")
    )
    assert not steps["increases"].any()


def test_leaks_count_the_students_lost_between_consecutive_stages(world, settings) -> None:
    frame = leaks(funnel(cohort_stages(world, [C], settings), None))
    assert frame["lost"].to_list() == [1, 2, 2, 0, 0]
    assert frame["lost_pct"].to_list() == pytest.approx([100 / 6, 40.0, 200 / 3, 0.0, 0.0])
    worst = biggest_leak(funnel(cohort_stages(world, [C], settings), None)).row(0, named=True)
    assert (worst["from_stage"], worst["to_stage"]) == ("graduated", "fafsa_completed")
    assert (worst["from_count"], worst["lost"]) == (3, 2)


def test_the_biggest_leak_takes_the_earliest_pair_on_a_tie() -> None:
    frame = pl.DataFrame(
        {
            "cohort": [C] * 6,
            "group_by": ["all"] * 6,
            "group": ["all"] * 6,
            "stage": list(PIPELINE_STAGES),
            "count": [100, 50, 25, 25, 25, 25],
        }
    )
    worst = biggest_leak(frame).row(0, named=True)
    assert worst["from_stage"] == "entered_grade_9"


def test_subgroup_gaps_compare_each_group_with_the_rest_of_its_cohort(world, settings) -> None:
    gaps = subgroup_gaps(cohort_stages(world, [C], settings), "econ_disadvantaged")
    first = gaps.filter(
        (pl.col("group") == "Y") & (pl.col("from_stage") == "reached_grade_12")
    ).row(0, named=True)
    # Econ Y among the funnel: A, C reached grade 12, A graduated: 50%.
    # The rest: B, G, I reached grade 12, B and G graduated: 66.7%. Gap: -16.7 points.
    assert (first["group_from"], first["group_to"]) == (2, 1)
    assert (first["rest_from"], first["rest_to"]) == (3, 2)
    assert first["gap_pp"] == pytest.approx(50.0 - 200 / 3)
    empty = gaps.filter((pl.col("group") == "unknown") & (pl.col("from_stage") == "graduated"))
    assert empty["gap_pp"].to_list() == [None]  # nobody of the group graduated


def test_the_on_track_split_compares_graduation_rates(world, settings) -> None:
    split = on_track_split(cohort_stages(world, [C], settings))
    assert split["on_track"].to_list() == ["Y", "N", "unknown"]
    # On track: A, D, I, of whom A graduated. Off track: B and G, both graduated.
    # Unknown: C (no grade-9 marks) and E (no grade-9 year here).
    assert split["students"].to_list() == [3, 2, 2]
    assert split["graduated"].to_list() == [1, 2, 0]
    assert split["graduation_pct"].to_list() == pytest.approx([100 / 3, 100.0, 0.0])


def test_the_cube_holds_all_students_every_group_field_and_the_on_track_split(
    world, settings
) -> None:
    cube = pipeline_cube(world, None, settings)
    assert cube.columns == ["cohort", "group_by", "group", "stage", "count"]
    assert cube["cohort"].unique().sort().to_list() == [C - 1, C]
    groupings = cube["group_by"].unique(maintain_order=True).to_list()
    assert groupings == ["all", *GROUP_FIELDS, *EXTRA_GROUPINGS]
    totals = cube.filter(pl.col("group_by") == "all").select("cohort", "stage", "count")
    for field in (*GROUP_FIELDS, *EXTRA_GROUPINGS):
        summed = (
            cube.filter(pl.col("group_by") == field)
            .group_by("cohort", "stage")
            .agg(pl.col("count").sum())
        )
        joined = totals.join(summed, on=["cohort", "stage"], suffix="_groups")
        assert joined.height == totals.height
        assert (joined["count"] == joined["count_groups"]).all(), field
    class_of_2026 = cube.filter((pl.col("cohort") == C) & (pl.col("group_by") == "all"))
    assert class_of_2026["count"].to_list() == [6, 5, 3, 1, 1, 1]
    # On track: A, D, I (A graduated); off track: B, G (both graduated); unknown: C, E.
    split = cube.filter(
        (pl.col("cohort") == C)
        & (pl.col("group_by") == ON_TRACK_GROUPING)
        & (pl.col("stage") == "graduated")
    )
    assert split["group"].to_list() == ["on_track", "off_track", "unknown"]
    assert split["count"].to_list() == [1, 2, 0]


def test_funnel_refuses_an_unknown_field(world, settings) -> None:
    with pytest.raises(ValueError, match="cannot group"):
        funnel(cohort_stages(world, [C], settings), "birth_date")


@st.composite
def random_cohort(draw: st.DrawFn):
    """Students of the class of 2026 with every stage condition drawn at random."""
    size = draw(st.integers(0, 25))
    students, enrollments, outcomes, records = [], [], [], []
    for i in range(size):
        sid = f"R{i:03d}"
        students.append(
            student(
                sid, gender=draw(st.sampled_from(["F", "M", None])), disability=draw(st.booleans())
            )
        )
        if draw(st.booleans()):
            enrollments.append(enrollment(sid, grade=9, year=C - 3))
        if draw(st.booleans()):
            enrollments.append(enrollment(sid, grade=12, year=C))
        last_code = draw(st.sampled_from([None, "transferred", "graduated"]))
        enrollments.append(enrollment(sid, grade=11, year=C - 1, school="HS9", code=last_code))
        graduated = draw(st.sampled_from([True, False, None]))
        on = draw(st.sampled_from([date(2026, 6, 10), date(2026, 8, 31), date(2026, 9, 1), None]))
        outcomes.append(
            outcome(
                sid,
                graduated,
                on,
                enrolled=draw(st.sampled_from([True, False, None])),
                persisted=draw(st.sampled_from([True, False, None])),
            )
        )
        status = draw(st.sampled_from(["completed", "submitted", None]))
        if status:
            records.append(fafsa(sid, status, award_year=C))
    return tables(students=students, enrollments=enrollments, outcomes=outcomes, fafsa=records)


@hypothesis_settings(max_examples=60, deadline=None)
@given(random_cohort())
def test_nested_funnel_counts_never_increase(world) -> None:
    cube = pipeline_cube(world, None, Settings())
    steps = cube.group_by("cohort", "group_by", "group").agg(
        (pl.col("count").diff() > 0).any().alias("increases"), pl.len().alias("stages")
    )
    assert not steps["increases"].any()
    assert (steps["stages"] == len(PIPELINE_STAGES)).all()
