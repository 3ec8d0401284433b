"""Which program outcome measures a refresh computes again (indicators/outcomes_incremental.py)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from indicators.outcomes_incremental import (
    EVERY_MEASURE,
    frame_fingerprint,
    outcomes_plan,
    with_measures_replaced,
)
from indicators.outcomes_schema import BALANCE_SCHEMA, ESTIMATES_SCHEMA

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


def _estimate(measure: str, group_value: str, effect: float) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(ESTIMATES_SCHEMA)
    row.update(
        school_year=2026,
        org_id="ORG1",
        service_type="mentoring",
        measure=measure,
        group_by="all" if group_value == "all" else "school_id",
        group_value=group_value,
        effect=effect,
    )
    return row


def _balance(measure: str, covariate: str, smd: float) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(BALANCE_SCHEMA)
    row.update(
        school_year=2026,
        org_id="ORG1",
        service_type="mentoring",
        measure=measure,
        covariate=covariate,
        smd_after=smd,
    )
    return row


def test_replacing_measures_keeps_the_others_and_the_methods_order() -> None:
    stored = pl.DataFrame(
        [_estimate("absence_rate", "all", 1.0), _estimate("graduated", "all", 2.0)],
        schema=ESTIMATES_SCHEMA,
    )
    stored_balance = pl.DataFrame(
        [
            _balance("absence_rate", "baseline_absence", 0.1),
            _balance("graduated", "prior_proficiency", 0.2),
        ],
        schema=BALANCE_SCHEMA,
    )
    new = pl.DataFrame(
        [_estimate("graduated", "all", 3.0), _estimate("graduated", "HS1", 4.0)],
        schema=ESTIMATES_SCHEMA,
    )
    new_balance = pl.DataFrame(
        [_balance("graduated", "prior_proficiency", 0.3)], schema=BALANCE_SCHEMA
    )
    estimates, balance = with_measures_replaced(
        stored, stored_balance, new, new_balance, {"graduated"}
    )
    assert estimates.select("measure", "group_value", "effect").rows() == [
        ("absence_rate", "all", 1.0),
        ("graduated", "all", 3.0),  # group_by "all" sorts before "school_id"
        ("graduated", "HS1", 4.0),
    ]
    assert balance.select("measure", "smd_after").rows() == [
        ("absence_rate", 0.1),
        ("graduated", 0.3),
    ]
