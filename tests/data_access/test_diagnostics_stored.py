"""The college-going diagnostic is stored at refresh and read, exact or protected, on
both databases (the `engine` fixture runs each test on SQLite and PostgreSQL)."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine

from data_access import aggregates
from data_access.derived import refresh_derived
from data_access.identity import sign_in
from data_access.policy import Principal
from domain.presentation import NOT_YET_DISPLAY
from indicators.diagnostics import (
    COLLEGE_TIMING_GROUPING,
    NOT_YET,
    PRIOR_ACHIEVEMENT_GROUPING,
    PRIOR_ACHIEVEMENT_RACE_GROUPING,
)
from tests.worlds import TODAY, build_small_world


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    refresh_derived(engine, as_of=TODAY)
    return engine


def who(engine: Engine, email: str) -> Principal:
    return sign_in(engine, email, today=TODAY)


def test_the_timing_split_of_the_class_of_2026_waits_for_delayed_enrollment(
    world: Engine,
) -> None:
    """As of 2026-11-22 the first fall of the class of 2026 is over (seamless known) but
    its delayed-enrollment window runs to 2028-10-31: "not yet" for the rest."""
    exact = aggregates.pipeline(world, who(world, "leader@d.org"), 2026, COLLEGE_TIMING_GROUPING)
    groups = exact.rows["group"].to_list()
    assert groups[:4] == ["seamless_4yr", "seamless_2yr", "seamless_less_than_2yr",
                          "seamless_unknown"]  # fmt: skip
    assert groups[-1] == NOT_YET and not any(g.startswith("delayed") for g in groups)
    assert set(exact.rows["stage"]) == {"graduated"}
    protected = aggregates.pipeline(
        world, who(world, "counselor@d.org"), 2026, COLLEGE_TIMING_GROUPING
    )
    assert protected.rows["group"].to_list() == groups
    assert protected.rows["shown"].null_count() == protected.rows.height


@pytest.mark.parametrize("grouping", [PRIOR_ACHIEVEMENT_GROUPING, PRIOR_ACHIEVEMENT_RACE_GROUPING])
def test_prior_achievement_groupings_are_stored_exact_and_protected(
    world: Engine, grouping: str
) -> None:
    exact = aggregates.pipeline(world, who(world, "leader@d.org"), 2026, grouping)
    assert exact.exact and exact.rows.height
    observed = exact.rows.filter(pl.col("display") != NOT_YET_DISPLAY)
    assert observed.height and observed["shown"].null_count() == 0
    protected = aggregates.pipeline(world, who(world, "counselor@d.org"), 2026, grouping)
    assert not protected.exact
    if grouping == PRIOR_ACHIEVEMENT_RACE_GROUPING:
        # Leaders only: the two-way table is not published to protected viewers.
        assert protected.rows.height == 0
        return
    assert protected.rows.select("group", "stage").equals(exact.rows.select("group", "stage"))
    # a handful of students; stages not observed yet say so
    assert set(protected.rows["display"]) <= {"<10", "*", NOT_YET_DISPLAY}
