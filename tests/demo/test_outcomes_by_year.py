"""Program outcomes of some school years only (`program_outcomes(..., years=...)`) are the
rows the whole computation gives for those years, to the last bit: each program-year is
matched on its own, from draws seeded by its own keys (indicators/outcomes_exposure.py).
A refresh that knows only one year's inputs changed can compute that year alone.

The world: a small demo district built as of 2026-11-22, studied as of 2027-01-15, when
the services of both 2025-26 and 2026-27 have run long enough to count.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data_access.derived import RAW_FILES, raw_columns
from demo_district.generate import DemoSpec, district_frames
from indicators.outcomes import ProgramOutcomes, program_outcomes
from indicators.settings import load_settings
from indicators.tables import RawTables

SPEC = DemoSpec(students=2_000, seed=2026, today=date(2026, 11, 22))
AS_OF = date(2027, 1, 15)
YEARS = (2026, 2027)
FRAMES = ("estimates", "balance", "trajectory", "served_students")


@pytest.fixture(scope="module")
def world() -> tuple[RawTables, pl.DataFrame]:
    frames = district_frames(SPEC)
    tables = RawTables(**{name: raw_columns(name, frames[name]) for name in RAW_FILES})
    return tables, frames["services"]


@pytest.fixture(scope="module")
def whole(world: tuple[RawTables, pl.DataFrame]) -> ProgramOutcomes:
    tables, services = world
    return program_outcomes(tables, services, AS_OF, load_settings())


def test_the_world_studies_both_years(whole: ProgramOutcomes) -> None:
    for name in FRAMES:
        assert set(getattr(whole, name)["school_year"]) == set(YEARS), name


@pytest.mark.parametrize("year", YEARS)
def test_one_years_outcomes_computed_alone_are_the_whole_computations_rows(
    world: tuple[RawTables, pl.DataFrame], whole: ProgramOutcomes, year: int
) -> None:
    tables, services = world
    alone = program_outcomes(tables, services, AS_OF, load_settings(), years=[year])
    for name in FRAMES:
        expected = getattr(whole, name).filter(pl.col("school_year") == year)
        assert_frame_equal(getattr(alone, name), expected, check_exact=True)


def test_a_year_nobody_was_served_in_gives_no_rows(
    world: tuple[RawTables, pl.DataFrame],
) -> None:
    tables, services = world
    none = program_outcomes(tables, services, AS_OF, load_settings(), years=[2020])
    for name in FRAMES:
        assert getattr(none, name).height == 0, name
