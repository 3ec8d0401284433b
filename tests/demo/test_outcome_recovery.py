"""The matched estimates of "Is it working?" recover the demo's true effects (issue 13).

One default demo (8,000 students, seed 2026, as of 2026-12-01) is built per test session
and `indicators.outcomes.program_outcomes` is run on it, as the refresh does; the true
effects are read from the generator's own organisations (`demo_district.world.ORGS`).
The school year is the last complete one, 2025-26 (docs/demo-district.md, "Programs and
their true effects").
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from data_access.derived import RAW_FILES, raw_columns
from demo_district.generate import DEFAULT_SEED, DEFAULT_STUDENTS, DemoSpec, district_frames
from demo_district.world import ORGS
from indicators.outcomes import program_outcomes
from indicators.settings import load_settings
from indicators.tables import RawTables

AS_OF = date(2026, 12, 1)
SPEC = DemoSpec(students=DEFAULT_STUDENTS, seed=DEFAULT_SEED, today=AS_OF)
YEAR = SPEC.current_year - 1
ORG = {org.org_id: org for org in ORGS}


@pytest.fixture(scope="module")
def estimates() -> pl.DataFrame:
    """The `all` rows of the last complete school year."""
    frames = district_frames(SPEC)
    tables = RawTables(**{name: raw_columns(name, frames[name]) for name in RAW_FILES})
    result = program_outcomes(tables, frames["services"], AS_OF, load_settings())
    return result.estimates.filter((pl.col("group_by") == "all") & (pl.col("school_year") == YEAR))


def row(estimates: pl.DataFrame, org_id: str, service_type: str, measure: str) -> dict:
    found = estimates.filter(
        (pl.col("org_id") == org_id)
        & (pl.col("service_type") == service_type)
        & (pl.col("measure") == measure)
    )
    assert found.height == 1, (org_id, service_type, measure)
    return found.row(0, named=True)


def contains(found: dict, value: float) -> bool:
    return found["ci_low"] is not None and found["ci_low"] <= value <= found["ci_high"]


def test_youth_tutoring_network_estimate_contains_its_true_effect(estimates) -> None:
    """The true effect in failing core marks per student: the pass chance times the
    failing core marks its served students would have had after the start without it
    (the comparison's after-start mean stands for them)."""
    found = row(estimates, "ORG03", "academic", "core_fails")
    truth = -ORG["ORG03"].failing_mark_pass_chance * found["comparison_after"]
    assert found["verdict"] == "better"
    assert contains(found, truth), (found["effect"], truth)


def test_college_access_collaborative_estimate_contains_its_true_effect(estimates) -> None:
    found = row(estimates, "ORG02", "college_access", "fafsa_completed")
    assert found["verdict"] == "better"
    assert contains(found, ORG["ORG02"].fafsa_points), found["effect"]


def test_every_day_counts_estimate_contains_its_true_effect(estimates) -> None:
    """Absence points off the served students' rate after the start (docs/demo-district.md);
    the estimate is in percentage points, lower is better."""
    found = row(estimates, "ORG05", "attendance", "absence_rate")
    assert found["verdict"] == "better" and found["balance"] in ("ok", "adjusted")
    assert contains(found, -ORG["ORG05"].absence_points), found["effect"]


def test_the_naive_comparison_gives_every_day_counts_the_wrong_sign(estimates) -> None:
    found = row(estimates, "ORG05", "attendance", "absence_rate")
    assert found["naive_effect"] > 0


def test_teen_health_and_wellness_shows_no_difference(estimates) -> None:
    assert not ORG["ORG06"].has_effect
    for measure in ("absence_rate", "core_fails"):
        found = row(estimates, "ORG06", "behavioral_health", measure)
        assert found["verdict"] == "no_difference", measure
        assert contains(found, 0.0), measure


def test_summer_bridge_chosen_before_the_year_shows_no_difference_in_failing_marks(
    estimates,
) -> None:
    """Summer Bridge's agreement expired in September 2025, so its 2025-26 services start
    in August, before the year: it must choose on last year's record alone (choosing on
    this year's marks made a null program look harmful on every seed)."""
    assert not ORG["ORG09"].has_effect
    found = row(estimates, "ORG09", "college_access", "core_fails")
    assert contains(found, 0.0), found["effect"]
