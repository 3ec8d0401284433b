"""Which program outcome measures a refresh computes again (indicators/outcomes_incremental.py)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from indicators.outcomes_incremental import (
    EVERY_MEASURE,
    frame_fingerprint,
    outcomes_plan,
)

BEFORE = {
    "students": "a",
    "attendance": "b",
    "services": "c",
    "fafsa": "d",
    "outcomes": "e",
    "as_of": "2026-12-01",
    "settings": "f",
    "method": "g",
}


def test_without_a_stored_fingerprint_every_measure_is_computed() -> None:
    assert outcomes_plan(None, BEFORE) == EVERY_MEASURE


def test_the_same_inputs_compute_nothing_again() -> None:
    assert outcomes_plan(BEFORE, dict(BEFORE)) == frozenset()


def test_new_college_outcomes_compute_the_three_college_measures_again() -> None:
    assert outcomes_plan(BEFORE, {**BEFORE, "outcomes": "E"}) == {
        "graduated",
        "enrolled_postsecondary",
        "persisted",
    }


def test_new_fafsa_statuses_and_college_outcomes_compute_the_four_senior_measures() -> None:
    assert outcomes_plan(BEFORE, {**BEFORE, "outcomes": "E", "fafsa": "D"}) == {
        "fafsa_completed",
        "graduated",
        "enrolled_postsecondary",
        "persisted",
    }


@pytest.mark.parametrize(
    "key", ["students", "attendance", "services", "as_of", "settings", "method"]
)
def test_any_other_change_computes_every_measure(key: str) -> None:
    assert outcomes_plan(BEFORE, {**BEFORE, key: "changed", "fafsa": "D"}) == EVERY_MEASURE


def test_a_fingerprint_of_other_inputs_computes_every_measure() -> None:
    assert outcomes_plan(BEFORE, {**BEFORE, "test_scores": "h"}) == EVERY_MEASURE


def test_a_table_fingerprint_ignores_row_order_and_sees_any_changed_value() -> None:
    frame = pl.DataFrame(
        {"student_id": ["S1", "S2", "S3"], "day": [date(2026, 1, 1)] * 3, "absent": [1, 2, 3]}
    )
    assert frame_fingerprint(frame) == frame_fingerprint(frame.reverse())
    changed = frame.with_columns(pl.Series("absent", [1, 2, 4]))
    assert frame_fingerprint(changed) != frame_fingerprint(frame)
    assert frame_fingerprint(pl.concat([frame, frame.head(1)])) != frame_fingerprint(frame)
    assert frame_fingerprint(frame.clear()) == frame_fingerprint(changed.clear())
