"""The refresh stores the outcome figures (exact and protected) with everything else."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from sqlalchemy import Engine

from data_access.bulk import read_table
from data_access.derived import INDICATORS, OUTCOME_TABLES, refresh_derived
from data_access.meta import read_meta
from indicators.outcomes_schema import ESTIMATES_SCHEMA, PUBLIC_ESTIMATES_SCHEMA
from tests.outcome_rows import small_world_outcomes, store_outcomes
from tests.worlds import TODAY, YEAR, build_small_world


def test_the_six_outcome_tables_hold_the_exact_and_the_protected_figures(engine: Engine) -> None:
    build_small_world(engine)
    outcomes = small_world_outcomes(YEAR)
    store_outcomes(engine, outcomes)
    exact = read_table(engine, OUTCOME_TABLES["estimates"]).select(list(ESTIMATES_SCHEMA))
    sort = ["org_id", "measure", "group_by", "group_value"]
    assert exact.sort(sort).equals(outcomes.estimates.sort(sort))
    public = read_table(engine, OUTCOME_TABLES["estimates_public"]).select(
        list(PUBLIC_ESTIMATES_SCHEMA)
    )
    hs2 = public.filter(pl.col("group_value") == "HS2")
    assert hs2["served_display"].to_list() == ["<10", "<10"]
    assert hs2["served"].null_count() == 2 and hs2["effect"].null_count() == 2
    served = read_table(engine, OUTCOME_TABLES["served_students"])
    assert sorted(served["student_id"]) == ["S1", "S2", "S3", "S4", "S5"]
    trajectory = read_table(engine, OUTCOME_TABLES["trajectory_public"])
    small = trajectory.filter(pl.col("month_offset") == -1)
    assert small["absence_rate"].null_count() == 2 and small["students_display"].to_list() == [
        "<10",
        "<10",
    ]
    assert read_table(engine, OUTCOME_TABLES["balance"]).height == 4


def test_a_refresh_replaces_the_outcome_tables_and_says_so_in_its_progress(engine: Engine) -> None:
    build_small_world(engine)
    store_outcomes(engine, small_world_outcomes(YEAR))
    steps: list[str] = []
    refresh_derived(engine, as_of=TODAY, progress=lambda _d, _t, message: steps.append(message))
    assert "computing program outcomes" in steps and steps[-1] == "done"
    # The small world's four mentees and one college-access student are far too few for
    # the method (min_matched 30): nothing stale is left from before the refresh.
    exact = read_table(engine, OUTCOME_TABLES["estimates"])
    assert exact.filter(pl.col("served") == 40).height == 0


def test_an_error_in_the_program_outcomes_leaves_every_derived_table_as_it_was(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Program outcomes are computed in a second thread beside the indicators: an error
    there reaches the caller, and nothing of that refresh is written."""
    build_small_world(engine)
    refresh_derived(engine, as_of=TODAY)
    store_outcomes(engine, small_world_outcomes(YEAR))
    before = {name: read_table(engine, table) for name, table in OUTCOME_TABLES.items()}
    indicators = read_table(engine, INDICATORS)
    meta = read_meta(engine)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the outcome method failed")

    monkeypatch.setattr("data_access.derived.program_outcomes", broken)
    with pytest.raises(RuntimeError, match="the outcome method failed"):
        refresh_derived(engine, as_of=TODAY + timedelta(days=1))
    for name, table in OUTCOME_TABLES.items():
        assert read_table(engine, table).equals(before[name]), name
    assert read_table(engine, INDICATORS).equals(indicators)
    assert read_meta(engine) == meta


def test_a_sqlite_refresh_writes_through_a_staged_copy_and_leaves_nothing_attached(
    sqlite_engine: Engine,
) -> None:
    """On SQLite the indicators, the pipeline and coverage are written aside while the
    outcomes compute, then copied in: the stored rows are those a direct write stores
    (here: the frames `derive` gives, read back), and the database is left as it was found
    (no attached copy, no staging file in use)."""
    from data_access.derived import CELLS, STAGED, derive, read_raw_tables, read_searched
    from indicators.settings import load_settings

    build_small_world(sqlite_engine)
    refresh_derived(sqlite_engine, as_of=TODAY)
    tables = read_raw_tables(sqlite_engine)
    _, cube, _, _ = derive(tables, YEAR, TODAY, load_settings(), read_searched(sqlite_engine))
    stored = read_table(sqlite_engine, CELLS).select(cube.columns)
    keys = [c for c in cube.columns if cube.schema[c] == pl.String]
    assert stored.sort(keys).equals(cube.sort(keys))
    assert read_table(sqlite_engine, INDICATORS).height > 0
    with sqlite_engine.connect() as connection:
        attached = [row[1] for row in connection.exec_driver_sql("PRAGMA database_list")]
    assert "main" in attached and STAGED not in attached
