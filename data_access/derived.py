"""Recompute the derived tables whenever the data changes (demo build, import).

`refresh_derived` reads the raw tables whole (a system job: no viewer, no audit), lets
`indicators/` compute the current school year's student indicators and the pipeline cube
for every cohort, applies the small-cell rules once over the whole cube (so every viewer
who may not see the students gets the same, consistent figures), and replaces the
derived tables in one transaction. Pages then read a few hundred indexed rows.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Engine, delete

from data_access.bulk import insert_frame, read_table
from data_access.meta import set_meta
from data_access.models import (
    IMPORT_TABLES,
    PipelineCell,
    PipelineCellPublic,
    StudentIndicator,
    table_of,
)
from data_access.policy import current_school_year
from domain.progress import Progress, no_progress
from indicators.pipeline import pipeline_cube
from indicators.settings import Settings, load_settings
from indicators.student import compute_student_indicators
from indicators.suppression import suppress_cube
from indicators.tables import SCHEMAS as RAW_SCHEMAS
from indicators.tables import RawTables
from indicators.trajectory import attendance_trajectory

RAW_FILES = (
    "students",
    "enrollments",
    "attendance",
    "course_marks",
    "test_scores",
    "fafsa",
    "outcomes",
)
INDICATORS = table_of(StudentIndicator)
CELLS = table_of(PipelineCell)
PUBLIC_CELLS = table_of(PipelineCellPublic)


@dataclass(frozen=True)
class RefreshSummary:
    school_year: int
    as_of: date
    students: int
    cells: int
    seconds: float


def raw_columns(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The columns of an import file that the indicators read."""
    return frame.select([c for c in RAW_SCHEMAS[name] if c in frame.columns])


def read_raw_tables(engine: Engine) -> RawTables:
    return RawTables(
        **{name: read_table(engine, table_of(IMPORT_TABLES[name])) for name in RAW_FILES}
    )


def derive(
    tables: RawTables, school_year: int, as_of: date, settings: Settings
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The three derived frames: student indicators, exact cube, protected cube."""
    indicators = compute_student_indicators(tables, school_year, as_of, settings)
    trajectory = attendance_trajectory(tables.attendance, school_year, as_of, settings)
    trajectory = trajectory.select(
        "student_id", *(c for c in trajectory.columns if c not in indicators.columns)
    )
    indicators = indicators.join(trajectory, on="student_id", how="left").with_columns(
        school_year=pl.lit(school_year), computed_as_of=pl.lit(as_of)
    )
    cube = pipeline_cube(tables, None, settings)
    order = {stage: i for i, stage in enumerate(settings.funnel_stages)}
    cube = cube.with_columns(
        stage_order=pl.col("stage").replace_strict(order, return_dtype=pl.Int64)
    )
    public = suppress_cube(cube.drop("stage_order"), settings.min_cell).with_columns(
        stage_order=pl.col("stage").replace_strict(order, return_dtype=pl.Int64)
    )
    return (
        indicators,
        cube.rename({"group": "group_value"}),
        public.rename({"group": "group_value"}),
    )


FRESHNESS = (
    ("enrollments", "school_year", "latest school year"),
    ("attendance", "as_of_date", "latest snapshot"),
    ("course_marks", "school_year", "latest school year"),
    ("test_scores", "test_date", "latest test date"),
    ("fafsa", "status_date", "latest status date"),
    ("outcomes", "graduation_date", "latest graduation date"),
)


def freshness(tables: RawTables) -> dict[str, tuple[str, int]]:
    """Per source: the latest date (or year) it has data for, and its rows (for stewards)."""
    found: dict[str, tuple[str, int]] = {}
    for name, column, _ in FRESHNESS:
        frame: pl.DataFrame = getattr(tables, name)
        latest = frame[column].max() if frame.height and column in frame.columns else None
        found[name] = ("" if latest is None else str(latest), frame.height)
    return found


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after a bulk change (PostgreSQL and SQLite both
    plan the scoped queries from them; without them a caseload list scans the school)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def refresh_derived(
    engine: Engine,
    *,
    as_of: date | None = None,
    settings: Settings | None = None,
    progress: Progress = no_progress,
    tables: RawTables | None = None,
) -> RefreshSummary:
    """Recompute and replace every derived table (one transaction). `tables` may hand in
    the raw tables already in memory (the demo build), instead of reading them back."""
    started = time.perf_counter()
    settings = settings or load_settings()
    as_of = as_of or date.today()
    progress(0, 3, "reading the data")
    tables = tables if tables is not None else read_raw_tables(engine)
    with engine.connect() as connection:
        school_year = current_school_year(connection, as_of)
    progress(1, 3, "computing indicators and the pipeline")
    indicators, cube, public = derive(tables, school_year, as_of, settings)
    progress(2, 3, "saving")
    with engine.begin() as connection:
        for table in (INDICATORS, CELLS, PUBLIC_CELLS):
            connection.execute(delete(table))
        insert_frame(connection, INDICATORS, indicators)
        insert_frame(connection, CELLS, cube)
        insert_frame(connection, PUBLIC_CELLS, public)
        set_meta(
            connection,
            {
                "indicators_as_of": as_of.isoformat(),
                "indicators_school_year": str(school_year),
                "derived_refreshed_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "freshness": json.dumps(freshness(tables)),
            },
        )
    analyze(engine)
    progress(3, 3, "done")
    return RefreshSummary(
        school_year, as_of, indicators.height, cube.height, time.perf_counter() - started
    )
