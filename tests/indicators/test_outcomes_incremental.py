"""What of program outcomes a refresh computes again (indicators/outcomes_incremental.py)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import polars as pl
import pytest

from indicators.outcomes_incremental import (
    EVERY_MEASURE,
    EVERYTHING,
    NOTHING,
    OutcomesPlan,
    frame_fingerprint,
    observable_classes,
    outcome_inputs,
    outcomes_plan,
    settling_date,
)
from indicators.settings import Settings
from indicators.tables import RawTables
from tests.indicators.builders import enrollment, score, student
from tests.indicators.test_outcomes import district, service, services

BEFORE = {
    "fafsa": "d",
    "outcomes": "e",
    "settings": "f",
    "method": "g",
    "observable": "o",
    "year:2026": "y26",
    "year:2027": "y27",
}
SENIOR = frozenset({"fafsa_completed", "graduated", "enrolled_postsecondary", "persisted"})


def test_without_a_stored_fingerprint_every_figure_is_computed() -> None:
    assert outcomes_plan(None, BEFORE) == EVERYTHING


def test_the_same_inputs_compute_nothing_again() -> None:
    plan = outcomes_plan(BEFORE, dict(BEFORE))
    assert plan == NOTHING and plan.nothing and not plan.everything


def test_new_college_outcomes_compute_the_three_college_measures_of_every_year() -> None:
    assert outcomes_plan(BEFORE, {**BEFORE, "outcomes": "E"}) == OutcomesPlan(
        frozenset({"graduated", "enrolled_postsecondary", "persisted"})
    )


def test_new_fafsa_statuses_and_college_outcomes_compute_the_four_senior_measures() -> None:
    assert outcomes_plan(BEFORE, {**BEFORE, "outcomes": "E", "fafsa": "D"}) == OutcomesPlan(SENIOR)


def test_a_changed_year_computes_that_year_alone() -> None:
    assert outcomes_plan(BEFORE, {**BEFORE, "year:2027": "new"}) == OutcomesPlan(
        EVERY_MEASURE, frozenset({2027})
    )


def test_a_year_studied_for_the_first_time_or_no_longer_is_computed_alone() -> None:
    appeared = {**BEFORE, "year:2028": "y28"}
    assert outcomes_plan(BEFORE, appeared).years == {2028}
    gone = {k: v for k, v in BEFORE.items() if k != "year:2026"}
    assert outcomes_plan(BEFORE, gone) == OutcomesPlan(EVERY_MEASURE, frozenset({2026}))


def test_a_changed_year_and_new_fafsa_statuses_compute_that_year_and_fafsa_elsewhere() -> None:
    plan = outcomes_plan(BEFORE, {**BEFORE, "year:2027": "new", "fafsa": "D"})
    assert plan == OutcomesPlan(
        EVERY_MEASURE, frozenset({2027}), elsewhere=frozenset({"fafsa_completed"})
    )
    assert not plan.everything and not plan.nothing


@pytest.mark.parametrize("key", ["settings", "method", "observable"])
def test_any_other_shared_change_computes_everything(key: str) -> None:
    assert outcomes_plan(BEFORE, {**BEFORE, key: "changed", "fafsa": "D"}) == EVERYTHING
    assert outcomes_plan(BEFORE, {**BEFORE, key: "changed"}) == EVERYTHING


def test_a_fingerprint_of_other_shared_inputs_computes_everything() -> None:
    """A fingerprint stored before the years had entries of their own (a table and the
    as-of date as shared inputs) is not compared key by key."""
    old = {**{k: v for k, v in BEFORE.items() if not k.startswith("year:")}, "as_of": "x"}
    assert outcomes_plan(old, BEFORE) == EVERYTHING


def test_a_table_fingerprint_ignores_row_order_and_sees_any_changed_value() -> None:
    frame = pl.DataFrame(
        {"student_id": ["S1", "S2", "S3"], "day": [date(2026, 1, 1)] * 3, "absent": [1, 2, 3]}
    )
    assert frame_fingerprint(frame) == frame_fingerprint(frame.reverse())
    changed = frame.with_columns(pl.Series("absent", [1, 2, 4]))
    assert frame_fingerprint(changed) != frame_fingerprint(frame)
    assert frame_fingerprint(pl.concat([frame, frame.head(1)])) != frame_fingerprint(frame)
    assert frame_fingerprint(frame.clear()) == frame_fingerprint(changed.clear())


# --------------------------------------------------------------------------------------
# A studied year's entry (`outcome_inputs`), on a one-year world whose services all ended
# in March, so that only the as-of date itself can move the entry.
# --------------------------------------------------------------------------------------

IDS = [f"S{i}" for i in range(8)]
ENDED = services(
    service("S0", date(2025, 11, 3), date(2026, 3, 20)),
    service("S1", date(2026, 1, 12), date(2026, 3, 20)),
)


def entry(as_of: date, world: RawTables | None = None, rows: pl.DataFrame = ENDED) -> str:
    found = outcome_inputs(world or district(IDS), rows, as_of, Settings(), "method")
    assert [k for k in found if k.startswith("year:")] == ["year:2026"]
    return found["year:2026"]


def test_a_years_entry_moves_with_the_day_until_the_year_settles() -> None:
    assert entry(date(2026, 6, 15)) != entry(date(2026, 6, 16))
    assert entry(date(2026, 7, 31)) != entry(date(2026, 8, 1))


def test_a_settled_years_entry_stays_the_same_on_later_days() -> None:
    assert entry(date(2026, 8, 1)) == entry(date(2026, 12, 1)) == entry(date(2027, 5, 2))


def test_a_year_settles_after_its_latest_snapshot_and_a_late_service_still_counts() -> None:
    late = district(IDS)
    late = RawTables.from_mapping(
        {
            **{f.name: getattr(late, f.name) for f in fields(RawTables)},
            "attendance": pl.concat(
                [
                    late.attendance,
                    late.attendance.head(1).with_columns(as_of_date=date(2026, 8, 20)),
                ]
            ),
        }
    )
    assert settling_date(
        2026,
        attendance=late.attendance,
        enrollments=late.enrollments,
        services=ENDED,
        settings=Settings(),
    ) == date(2026, 8, 20)
    assert entry(date(2026, 8, 10), late) != entry(date(2026, 8, 11), late)
    assert entry(date(2026, 8, 21), late) == entry(date(2026, 9, 30), late)
    # A summer service reaches its 30 days (July 25 to August 23) after the year's end:
    # the served students change that day, and so does the entry.
    summer = services(*ENDED.to_dicts(), service("S2", date(2026, 7, 25), date(2026, 9, 30)))
    assert entry(date(2026, 8, 22), rows=summer) != entry(date(2026, 8, 23), rows=summer)
    assert entry(date(2026, 8, 23), rows=summer) == entry(date(2026, 10, 1), rows=summer)


def test_a_years_entry_sees_its_own_rows_and_not_another_years() -> None:
    world = district(IDS)
    other_year = world.attendance.with_columns(school_year=pl.lit(2030, dtype=pl.Int64))
    busier = RawTables.from_mapping(
        {
            **{f.name: getattr(world, f.name) for f in fields(RawTables)},
            "attendance": pl.concat([world.attendance, other_year]),
        }
    )
    assert entry(date(2026, 9, 1), busier) == entry(date(2026, 9, 1))
    absent = RawTables.from_mapping(
        {
            **{f.name: getattr(world, f.name) for f in fields(RawTables)},
            "attendance": world.attendance.with_columns(days_absent=pl.col("days_absent") + 1),
        }
    )
    assert entry(date(2026, 9, 1), absent) != entry(date(2026, 9, 1))


def with_rows(world: RawTables, **extra: list[dict[str, object]]) -> RawTables:
    """`world` with rows added to some of its tables."""
    frames = {f.name: getattr(world, f.name) for f in fields(RawTables)}
    for name, rows in extra.items():
        frames[name] = pl.concat([frames[name], pl.DataFrame(rows, schema=frames[name].schema)])
    return RawTables.from_mapping(frames)


def test_a_student_enrolled_in_another_year_leaves_a_years_entry_as_it_was() -> None:
    """The nightly student file brings new enrollees: a student of another school year
    moves no entry of this one; a changed student of this year does."""
    world, day = district(IDS), date(2026, 9, 1)
    newcomer = with_rows(
        world,
        students=[student("S9", cohort=2030, grade=9)],
        enrollments=[enrollment("S9", grade=9, year=2027)],
    )
    assert entry(day, newcomer) == entry(day, world)
    changed = world.students.with_columns(english_learner=pl.col("student_id") == "S3")
    moved = RawTables.from_mapping(
        {**{f.name: getattr(world, f.name) for f in fields(RawTables)}, "students": changed}
    )
    assert entry(day, moved) != entry(day, world)


def test_a_years_entry_reads_the_test_results_of_earlier_years_only() -> None:
    """Prior proficiency of 2025-26 reads results up to 2024-25: this spring's tests of
    2025-26 leave its figures as they were; a late 2024-25 result does not."""
    world, day = district(IDS), date(2026, 9, 1)
    this_year = with_rows(world, test_scores=[score("S1", "math", 2026, True)])
    assert entry(day, this_year) == entry(day, world)
    last_year = with_rows(world, test_scores=[score("S1", "math", 2025, True)])
    assert entry(day, last_year) != entry(day, world)


def test_the_observable_classes_move_on_the_day_a_stage_window_closes() -> None:
    """Graduation of the class of C is observable from September 1 of C (ACGR summer
    graduates): only that stage moves on that day."""
    before, after = observable_classes(date(2026, 8, 31)), observable_classes(date(2026, 9, 1))
    assert before["graduated"] == 2025 and after["graduated"] == 2026
    assert {k: v for k, v in before.items() if k != "graduated"} == {
        k: v for k, v in after.items() if k != "graduated"
    }
