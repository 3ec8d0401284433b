"""Flag counts and tiers, including the tier a viewer sees with hidden categories."""

from __future__ import annotations

from datetime import date

import polars as pl

from domain.vocabulary import Category
from indicators.student import compute_student_indicators
from indicators.tiers import flags_and_tier, flags_and_tier_per_row
from tests.indicators.builders import AS_OF, YEAR, enrollment, fafsa, mark, score, snapshot, tables

ALL = frozenset(c.value for c in Category)


def test_severe_chronic_absence_alone_is_tier_three(rows) -> None:
    row = rows(tables(enrollments=[enrollment("S1")], attendance=[snapshot("S1", 100, 20)]))["S1"]
    assert row["attendance_band"] == "severe_chronic"
    assert (row["flag_count"], row["tier"]) == (1, 3)


def test_one_moderate_flag_is_tier_two_and_no_flag_is_tier_one(rows) -> None:
    world = tables(
        enrollments=[enrollment("S1"), enrollment("S2")],
        attendance=[snapshot("S1", 100, 12), snapshot("S2", 100, 3)],
    )
    found = rows(world)
    assert (found["S1"]["flag_count"], found["S1"]["tier"]) == (1, 2)
    assert (found["S2"]["flag_count"], found["S2"]["tier"]) == (0, 1)


def test_two_core_fails_alone_are_tier_three(rows) -> None:
    world = tables(
        enrollments=[enrollment("S1")],
        course_marks=[mark("S1", "F", subject="math"), mark("S1", "F", subject="ela")],
    )
    row = rows(world)["S1"]
    assert (row["core_fails"], row["flag_count"], row["tier"]) == (2, 1, 3)


def test_two_flags_are_tier_three(rows) -> None:
    world = tables(
        enrollments=[enrollment("S1", grade=12)],
        attendance=[snapshot("S1", 100, 11)],
        fafsa=[fafsa("S1", "submitted")],
    )
    row = rows(world)["S1"]
    assert (row["chronic_absence"], row["fafsa_not_completed"]) == (True, True)
    assert (row["flag_count"], row["tier"]) == (2, 3)


def world_with_every_flag():
    return tables(
        enrollments=[enrollment("S1", grade=12)],
        attendance=[snapshot("S1", 100, 25)],
        course_marks=[mark("S1", "F", subject="math"), mark("S1", "F", subject="ela")],
        test_scores=[score("S1", "ela", YEAR, False, on=date(2025, 10, 1))],
        fafsa=[fafsa("S1", "completed")],
    )


def visible_row(settings, categories: set[str]) -> dict:
    frame = compute_student_indicators(world_with_every_flag(), YEAR, AS_OF, settings)
    return flags_and_tier(frame, frozenset(categories), settings).row(0, named=True)


def test_the_tier_uses_only_the_categories_the_viewer_may_see(settings) -> None:
    everything = visible_row(settings, set(ALL))
    assert (everything["flag_count"], everything["tier"]) == (3, 3)

    tests_only = visible_row(settings, {"tests"})
    assert (tests_only["flag_count"], tests_only["tier"]) == (1, 2)
    assert tests_only["absence_rate"] is None
    assert tests_only["attendance_band"] is None
    assert tests_only["core_fails"] is None
    assert tests_only["fafsa_status"] is None
    assert tests_only["below_proficient"] is True

    # Severe absence makes tier 3 only when attendance is visible; two core fails only
    # when grades are.
    assert visible_row(settings, {"attendance"})["tier"] == 3
    assert visible_row(settings, {"grades"})["tier"] == 3
    assert visible_row(settings, {"fafsa"})["tier"] == 1
    nothing = visible_row(settings, set())
    assert (nothing["flag_count"], nothing["tier"]) == (0, 1)


def test_hiding_a_category_keeps_identity_and_column_types(settings) -> None:
    frame = compute_student_indicators(world_with_every_flag(), YEAR, AS_OF, settings)
    hidden = flags_and_tier(frame, frozenset({"fafsa"}), settings)
    assert hidden.schema == frame.schema
    assert hidden.select("student_id", "school_id", "grade_level").equals(
        frame.select("student_id", "school_id", "grade_level")
    )
    assert hidden.filter(pl.col("days_enrolled").is_not_null()).height == 0


def test_a_student_with_no_data_at_all_is_tier_one_with_every_gap_shown(rows) -> None:
    row = rows(tables(enrollments=[enrollment("S1", grade=12)]))["S1"]
    assert row["attendance_state"] == "no_data"
    assert row["core_fails"] is None
    assert row["below_proficient"] is None
    assert row["fafsa_status"] == "not_started"  # for a senior, no record means not started
    assert (row["flag_count"], row["tier"]) == (1, 2)


def test_each_row_is_masked_by_its_own_rights_exactly_as_for_one_viewer(settings) -> None:
    """Every subset of the four categories, one row each: the per-row masking gives what
    `flags_and_tier` gives a viewer with that subset."""
    frame = compute_student_indicators(world_with_every_flag(), YEAR, AS_OF, settings)
    categories = sorted(ALL)
    subsets = [
        frozenset(c for bit, c in enumerate(categories) if mask >> bit & 1)
        for mask in range(1 << len(categories))
    ]
    rows = pl.concat(
        frame.with_columns(
            pl.lit(f"S{i:02d}").alias("student_id"),
            *(pl.lit(c in subset).alias(f"see_{c}") for c in categories),
        )
        for i, subset in enumerate(subsets)
    )
    per_row = flags_and_tier_per_row(rows, settings)
    for i, subset in enumerate(subsets):
        expected = flags_and_tier(frame, subset, settings).row(0, named=True)
        got = per_row.row(i, named=True)
        assert {k: v for k, v in got.items() if k in expected and k != "student_id"} == {
            k: v for k, v in expected.items() if k != "student_id"
        }, subset
