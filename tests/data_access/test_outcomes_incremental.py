"""The refresh computes program outcomes again only where what they read changed
(indicators/outcomes_incremental.py), and what it stores then is what a full computation
stores: on a small demo district, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from sqlalchemy import Engine, text

from data_access.bulk import read_table
from data_access.demo_build import build_demo
from data_access.derived import OUTCOME_INPUTS_KEY, OUTCOME_TABLES, refresh_derived, write_outcomes
from data_access.meta import read_meta
from demo_district.generate import DemoSpec
from indicators.outcomes_incremental import EVERY_MEASURE, MEASURE_SOURCES

AS_OF = date(2026, 12, 1)
#: Large enough for grade-12 programs with estimates of their own (not only "too few").
SPEC = DemoSpec(students=1500, seed=11, today=AS_OF)
#: What identifies a row of each outcome table (they are compared sorted by it).
KEYS = {
    "estimates": ["school_year", "org_id", "service_type", "measure", "group_by", "group_value"],
    "estimates_public": [
        "school_year",
        "org_id",
        "service_type",
        "measure",
        "group_by",
        "group_value",
    ],
    "balance": ["school_year", "org_id", "service_type", "measure", "covariate"],
    "trajectory": ["school_year", "org_id", "service_type", "group", "month_offset"],
    "trajectory_public": ["school_year", "org_id", "service_type", "group", "month_offset"],
    "served_students": ["school_year", "org_id", "service_type", "student_id"],
}


def stored(engine: Engine) -> dict[str, pl.DataFrame]:
    """The six outcome tables, each sorted by its keys (PostgreSQL returns no fixed order)."""
    found = {}
    for name, table in OUTCOME_TABLES.items():
        frame = read_table(engine, table)
        found[name] = frame.drop([c for c in frame.columns if c == "id"]).sort(KEYS[name])
    return found


def assert_same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    for name in OUTCOME_TABLES:
        assert left[name].equals(right[name]), name


def senior_rows(frames: dict[str, pl.DataFrame], measures: frozenset[str]) -> pl.DataFrame:
    return frames["estimates"].filter(pl.col("measure").is_in(list(measures)))


@pytest.fixture
def demo(engine: Engine) -> Engine:
    """The demo district, refreshed once from the database (the build's own refresh reads
    the frames it wrote from memory)."""
    build_demo(engine, SPEC)
    refresh_derived(engine, as_of=AS_OF)
    return engine


def test_a_refresh_with_nothing_changed_keeps_the_stored_program_outcomes(demo: Engine) -> None:
    before = stored(demo)
    steps: list[str] = []
    summary = refresh_derived(
        demo, as_of=AS_OF, progress=lambda _d, _t, message: steps.append(message)
    )
    assert summary.outcome_measures == frozenset()
    assert "program outcomes: nothing they read changed, kept" in steps
    assert before["estimates"].height > 0
    assert_same(stored(demo), before)


def test_new_college_outcomes_recompute_their_measures_to_the_figures_of_a_full_refresh(
    demo: Engine,
) -> None:
    measures = MEASURE_SOURCES["outcomes"]
    before = stored(demo)
    with demo.begin() as connection:
        connection.execute(
            text(
                "UPDATE outcome SET postsecondary_enrolled = NOT postsecondary_enrolled, "
                "persisted_second_year = NOT persisted_second_year "
                "WHERE postsecondary_enrolled IS NOT NULL AND student_id LIKE :ending"
            ),
            {"ending": "%1"},
        )
    summary = refresh_derived(demo, as_of=AS_OF)
    assert summary.outcome_measures == measures
    partly = stored(demo)
    # The change reached the figures (the test is not comparing two unchanged tables).
    assert not senior_rows(partly, measures).equals(senior_rows(before, measures))
    assert (
        partly["estimates"]
        .filter(pl.col("measure") == "absence_rate")
        .equals(before["estimates"].filter(pl.col("measure") == "absence_rate"))
    )
    whole = refresh_derived(demo, as_of=AS_OF, recompute_outcomes=True)
    assert whole.outcome_measures == EVERY_MEASURE
    assert_same(stored(demo), partly)


def test_new_fafsa_statuses_recompute_fafsa_completion_only_as_a_full_refresh_would(
    demo: Engine,
) -> None:
    measures = MEASURE_SOURCES["fafsa"]
    before = stored(demo)
    with demo.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE fafsa SET status = 'completed' WHERE status <> 'completed'"
        )
    summary = refresh_derived(demo, as_of=AS_OF)
    assert summary.outcome_measures == measures
    partly = stored(demo)
    assert not senior_rows(partly, measures).equals(senior_rows(before, measures))
    refresh_derived(demo, as_of=AS_OF, recompute_outcomes=True)
    assert_same(stored(demo), partly)


def test_a_change_in_attendance_or_the_date_recomputes_every_measure(demo: Engine) -> None:
    with demo.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE attendance SET days_absent = days_absent + 1 "
            "WHERE student_id = (SELECT MIN(student_id) FROM attendance)"
        )
    assert refresh_derived(demo, as_of=AS_OF).outcome_measures == EVERY_MEASURE
    later = date(2026, 12, 2)
    assert refresh_derived(demo, as_of=later).outcome_measures == EVERY_MEASURE
    assert refresh_derived(demo, as_of=later).outcome_measures == frozenset()


def test_outcome_tables_written_outside_a_refresh_are_computed_again_at_the_next(
    demo: Engine,
) -> None:
    """Whoever else writes the outcome tables (a repair, a test) drops the fingerprint, so
    the next refresh cannot keep figures it did not compute."""
    from data_access.derived import StoredOutcomes

    emptied = StoredOutcomes(**{name: frame.clear() for name, frame in stored(demo).items()})
    with demo.begin() as connection:
        write_outcomes(connection, emptied)
    assert OUTCOME_INPUTS_KEY not in read_meta(demo)
    assert refresh_derived(demo, as_of=AS_OF).outcome_measures == EVERY_MEASURE
    assert stored(demo)["estimates"].height > 0
