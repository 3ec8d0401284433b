"""The indicators on the demo district: an independent pandas reading of the same rules
(bench/pandas_reference.py) must agree with them exactly."""

from __future__ import annotations

from functools import cache

import polars as pl

from bench.indicators_suite import TODAY, assert_identical, demo_tables, pandas_run, to_pandas
from demo_district.generate import DemoSpec
from domain.vocabulary import GROUP_FIELDS
from indicators.pipeline import pipeline_cube
from indicators.settings import Settings
from indicators.student import compute_student_indicators
from indicators.tables import RawTables

STUDENTS = 600


@cache
def demo() -> dict[str, pl.DataFrame]:
    return demo_tables(STUDENTS)[0]


def test_the_polars_indicators_and_a_plain_pandas_version_agree(settings: Settings) -> None:
    frames = demo()
    year = DemoSpec(students=STUDENTS, today=TODAY).current_year
    tables = RawTables.from_mapping(frames)
    result = (
        compute_student_indicators(tables, year, TODAY, settings),
        pipeline_cube(tables, None, settings),
    )
    reference = pandas_run({name: to_pandas(f) for name, f in frames.items()}, year, settings)
    assert_identical(result, reference)


def test_every_grouping_of_the_demo_cube_adds_up_to_all_students(settings: Settings) -> None:
    cube = pipeline_cube(RawTables.from_mapping(demo()), None, settings)
    totals = cube.filter(pl.col("group_by") == "all").drop("group_by", "group")
    for field in GROUP_FIELDS:
        summed = (
            cube.filter(pl.col("group_by") == field)
            .group_by("cohort", "stage")
            .agg(pl.col("count").sum())
        )
        joined = totals.join(summed, on=["cohort", "stage"], suffix="_sum")
        assert joined.height == totals.height
        assert (joined["count"] == joined["count_sum"]).all()
