"""Recompute the derived tables whenever the data changes (demo build, import).

`refresh_derived` reads the raw tables whole (a system job: no viewer, no audit), lets
`indicators/` compute the current school year's student indicators and the pipeline cube
for every cohort, applies the small-cell rules once over the whole cube (so every viewer
who may not see the students gets the same, consistent figures) over the stages
observable as of the refresh date (the others are stored as `not_yet`,
indicators.observable) and observed (the college stages of a class without any college
data, in `outcomes` or `nsc_search`, are stored as `not_observed` and the classes are
listed in `pathwise_meta` under `NOT_OBSERVED_KEY`), computes the program outcomes of "Is it working?" from the raw
tables and the services (`indicators.outcomes`) with their protected version
(`indicators.outcomes_protection`), computes need and coverage by school (issue 14:
`indicators.coverage`, exact counts, from the indicators and services in memory and the
releases), and replaces the derived tables in one transaction.
Pages then read a few hundred indexed rows.

An import commits before its refresh runs, so a refresh that is interrupted (the process
killed, the machine restarted) leaves the import in and the indicators computed before
it. Each refresh therefore records the last import it saw (`AFTER_IMPORT_KEY`, read before
the raw tables), and `indicators_lag` tells when a later import exists: the Administration
freshness panel and the pages say so, and `pathwise refresh` repairs it.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import metadata
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine, Table, delete, select

from data_access.bulk import copy_staged, insert_frame, read_table, read_tables, stage_frames
from data_access.meta import NOT_OBSERVED_KEY, delete_meta, read_meta, set_meta
from data_access.models import (
    IMPORT_TABLES,
    Consent,
    CoverageDuplication,
    CoverageNeed,
    CoverageServedNow,
    CoverageTierSupport,
    FafsaSeasonCompletions,
    FafsaSeasonSeniors,
    ImportRun,
    NscSearch,
    PipelineCell,
    PipelineCellPublic,
    ProgramBalance,
    ProgramEstimate,
    ProgramEstimatePublic,
    ProgramServedStudent,
    ProgramTrajectory,
    ProgramTrajectoryPublic,
    Service,
    StudentIndicator,
    table_of,
)
from data_access.policy import current_school_year
from data_access.schema import current_revision
from domain.progress import Progress, no_progress
from domain.school_year import label as school_year_label
from indicators.coverage import duplication, need_coverage, served_now, tier_support
from indicators.diagnostics import (
    PRIOR_ACHIEVEMENT_RACE_GROUPING,
    college_timing_cells,
    protect_diagnostics,
)
from indicators.fafsa_season import season_counts
from indicators.observable import college_not_observed, suppress_observed_cube
from indicators.outcomes import measure_estimates, program_outcomes, studied_years
from indicators.outcomes_incremental import (
    EVERY_MEASURE,
    EVERYTHING,
    OutcomesPlan,
    outcome_inputs,
    outcomes_plan,
)
from indicators.outcomes_protection import protect_estimates, protect_trajectory
from indicators.outcomes_schema import (
    BALANCE_SCHEMA,
    ESTIMATES_SCHEMA,
    SERVED_STUDENTS_SCHEMA,
    TRAJECTORY_SCHEMA,
    conform,
)
from indicators.pipeline import cube_of, stage_plan
from indicators.settings import Settings, load_settings
from indicators.student import compute_student_indicators
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
SEASON_SENIORS = table_of(FafsaSeasonSeniors)
SEASON_COMPLETIONS = table_of(FafsaSeasonCompletions)
RUNS = table_of(ImportRun)
SERVICES = table_of(Service)
#: The columns of `services` the outcome method reads (the issue-13 contract).
SERVICE_COLUMNS = (
    "student_id",
    "org_id",
    "service_type",
    "start_date",
    "end_date",
    "sessions",
    "hours",
)
#: The outcome tables, in the order they are replaced.
OUTCOME_TABLES = {
    "estimates": table_of(ProgramEstimate),
    "estimates_public": table_of(ProgramEstimatePublic),
    "balance": table_of(ProgramBalance),
    "trajectory": table_of(ProgramTrajectory),
    "trajectory_public": table_of(ProgramTrajectoryPublic),
    "served_students": table_of(ProgramServedStudent),
}
#: The need-and-coverage tables (issue 14), in the order they are replaced.
COVERAGE_TABLES = {
    "need": table_of(CoverageNeed),
    "duplication": table_of(CoverageDuplication),
    "tier_support": table_of(CoverageTierSupport),
    "served_now": table_of(CoverageServedNow),
}
#: The columns of `consent` the coverage figures read (is a release active, and naming whom).
CONSENT_COLUMNS = ("student_id", "org_id", "signed_date", "expires_date", "revoked_date")
#: pathwise_meta: the fingerprint of what the stored program outcomes were computed from
#: (`indicators.outcomes_incremental.outcome_inputs`, JSON).
OUTCOME_INPUTS_KEY = "program_outcomes_inputs"
#: pathwise_meta: the id of the last import the stored indicators were computed after.
AFTER_IMPORT_KEY = "indicators_after_import"
#: pathwise_meta: when the stored indicators were computed (UTC, ISO 8601).
REFRESHED_AT_KEY = "derived_refreshed_at"
SEARCHES = table_of(NscSearch)


@dataclass(frozen=True)
class RefreshSummary:
    school_year: int
    as_of: date
    students: int
    cells: int
    seconds: float
    #: The program outcome measures computed again (the others' stored figures were kept:
    #: `indicators.outcomes_incremental`); all of them, empty or some.
    outcome_measures: frozenset[str] = EVERY_MEASURE
    #: The school years whose outcome measures were computed again (None: every year).
    outcome_years: frozenset[int] | None = None
    #: The measures computed again in the other school years too (with `outcome_years`).
    outcome_elsewhere: frozenset[str] = frozenset()


def raw_columns(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The columns of an import file that the indicators read."""
    return frame.select([c for c in RAW_SCHEMAS[name] if c in frame.columns])


def read_raw_tables(engine: Engine) -> RawTables:
    """The tables the indicators read, with only the columns they read: reading is most of
    a refresh at scale (each value becomes a Python object on the way from SQLite), and
    course titles, names and the states' FAFSA flags are not read by any indicator."""
    wanted = {}
    for name in RAW_FILES:
        table = table_of(IMPORT_TABLES[name])
        wanted[name] = (table, [c for c in RAW_SCHEMAS[name] if c in table.c])
    return RawTables(**read_tables(engine, wanted))


def read_searched(engine: Engine) -> pl.Series:
    """The students the Clearinghouse searched for (`nsc_search`, ids only)."""
    return read_table(engine, SEARCHES, ["student_id"]).get_column("student_id")


def derive(
    tables: RawTables,
    school_year: int,
    as_of: date,
    settings: Settings,
    searched: pl.Series | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[int]]:
    """The derived frames: student indicators, exact cube, protected cube (the protected
    one as of `as_of`: stages not observable then are `not_yet`, the college stages of a
    class without college data `not_observed`), and those classes (`searched`: the
    students of `nsc_search`; indicators.observable.college_not_observed)."""
    indicators = compute_student_indicators(tables, school_year, as_of, settings)
    trajectory = attendance_trajectory(tables.attendance, school_year, as_of, settings)
    trajectory = trajectory.select(
        "student_id", *(c for c in trajectory.columns if c not in indicators.columns)
    )
    indicators = indicators.join(trajectory, on="student_id", how="left").with_columns(
        school_year=pl.lit(school_year), computed_as_of=pl.lit(as_of)
    )
    plan = stage_plan(tables, None, settings).collect()
    cube = cube_of(plan.lazy())
    not_observed = college_not_observed(
        plan.select("cohort", "student_id"), tables.outcomes, searched
    )
    # Stages not observable as of the refresh are stored as not_yet, and the small-cell
    # rules run over the others only (indicators.observable). The quartile x race table is
    # not published to protected viewers at all: its margins are published elsewhere and
    # its protection (indicators.diagnostics.protect_two_way) is proven only for small
    # tables, so leaders alone see it. The college-timing split is protected on its own.
    two_way = pl.col("group_by") == PRIOR_ACHIEVEMENT_RACE_GROUPING
    public = suppress_observed_cube(
        cube.filter(two_way.not_()), settings.min_cell, as_of, not_observed
    )
    timing = college_timing_cells(plan, tables.outcomes, as_of, not_observed)
    withheld = cube.filter(two_way).head(0)
    public = pl.concat(
        [public, protect_diagnostics(withheld, timing, public, settings.min_cell)],
        how="vertical_relaxed",
    )
    cube = pl.concat([cube, timing])
    order = {stage: i for i, stage in enumerate(settings.funnel_stages)}
    cube = cube.with_columns(
        stage_order=pl.col("stage").replace_strict(order, return_dtype=pl.Int64)
    )
    public = public.with_columns(
        stage_order=pl.col("stage").replace_strict(order, return_dtype=pl.Int64)
    )
    return (
        indicators,
        cube.rename({"group": "group_value"}),
        public.rename({"group": "group_value"}),
        not_observed,
    )


@dataclass(frozen=True)
class StoredOutcomes:
    """The six outcome frames as they are stored (indicators/outcomes_schema.py)."""

    estimates: pl.DataFrame
    estimates_public: pl.DataFrame
    balance: pl.DataFrame
    trajectory: pl.DataFrame
    trajectory_public: pl.DataFrame
    served_students: pl.DataFrame


def read_services(engine: Engine) -> pl.DataFrame:
    """The services table, with the columns the outcome method reads."""
    return read_table(engine, SERVICES, SERVICE_COLUMNS)


def _program_outcomes(
    tables: RawTables,
    services: pl.DataFrame,
    as_of: date,
    settings: Settings,
    *,
    years: frozenset[int] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """`indicators.outcomes.program_outcomes`'s four frames (estimates, balance,
    trajectory, served students), of the school years `years` only when given."""
    result = program_outcomes(tables, services, as_of, settings, years=years)
    return result.estimates, result.balance, result.trajectory, result.served_students


def outcomes_to_store(
    estimates: pl.DataFrame,
    balance: pl.DataFrame,
    trajectory: pl.DataFrame,
    served_students: pl.DataFrame,
    min_cell: int,
) -> StoredOutcomes:
    """The method's frames and their protected versions, as the outcome tables hold them."""
    estimates = conform(estimates, ESTIMATES_SCHEMA)
    public = protect_estimates(estimates, min_cell)
    trajectory = conform(trajectory, TRAJECTORY_SCHEMA)
    return StoredOutcomes(
        estimates=estimates,
        estimates_public=public,
        balance=conform(balance, BALANCE_SCHEMA),
        trajectory=trajectory,
        trajectory_public=protect_trajectory(trajectory, public, min_cell),
        served_students=conform(served_students, SERVED_STUDENTS_SCHEMA),
    )


def write_outcomes(connection: Connection, outcomes: StoredOutcomes) -> None:
    """Replace the six outcome tables (on the caller's transaction), and forget what the
    previous ones were computed from (the refresh writes the new fingerprint after)."""
    delete_meta(connection, OUTCOME_INPUTS_KEY)
    for name, table in OUTCOME_TABLES.items():
        connection.execute(delete(table))
        insert_frame(connection, table, getattr(outcomes, name))


def read_consents(engine: Engine) -> pl.DataFrame:
    """The releases, with the columns the coverage figures read (no categories, no signer)."""
    return read_table(engine, table_of(Consent), CONSENT_COLUMNS)


@dataclass(frozen=True)
class StoredCoverage:
    """The four need-and-coverage frames as they are stored (exact counts; who may see
    what of them is data_access/coverage.py's business)."""

    need: pl.DataFrame
    duplication: pl.DataFrame
    tier_support: pl.DataFrame
    served_now: pl.DataFrame


def coverage_to_store(
    indicators: pl.DataFrame,
    services: pl.DataFrame,
    consents: pl.DataFrame,
    as_of: date,
    settings: Settings,
) -> StoredCoverage:
    """Need and coverage on `as_of` for the students of `indicators` (the current school
    year's), by school: indicators/coverage.py's four figures."""
    return StoredCoverage(
        need=need_coverage(indicators, services, consents, as_of, settings),
        duplication=duplication(services, indicators, as_of),
        tier_support=tier_support(indicators, services, as_of, by_school=True),
        served_now=served_now(indicators, services, consents, as_of),
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


#: Rows of each index SQLite's ANALYZE reads (`PRAGMA analysis_limit`).
ANALYSIS_LIMIT = 1000


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after a bulk change (PostgreSQL and SQLite both
    plan the scoped queries from them; without them a caseload list scans the school)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as connection:
            # A sample of each index, as sqlite.org's ANALYZE page advises ("values between
            # 100 and 1000 work well"): the planner needs the shape, not exact counts, and
            # a full ANALYZE of the 100k demo took 1.6 s of every refresh (this: 0.01 s).
            connection.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
            connection.exec_driver_sql("ANALYZE")


#: The packages whose code computes (or fingerprints) the program outcomes.
METHOD_PACKAGES = ("indicators", "domain")
METHOD_LIBRARIES = ("polars", "numpy", "scipy", "statsmodels")


@cache
def method_code() -> str:
    """A SHA-256 of the source of `METHOD_PACKAGES` and the versions of
    `METHOD_LIBRARIES`: a new release of either computes every figure again."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for package in METHOD_PACKAGES:
        for source in sorted((root / package).glob("*.py")):
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    for library in METHOD_LIBRARIES:
        digest.update(f"{library}={metadata.version(library)}".encode())
    return digest.hexdigest()


def outcomes_method(engine: Engine) -> str:
    """What else the stored program outcomes depend on: the method's code and libraries
    (`method_code`) and the schema's revision."""
    return f"{method_code()} schema {current_revision(engine)}"


def outcomes_to_compute(
    engine: Engine, inputs: dict[str, str], *, recompute: bool = False
) -> OutcomesPlan:
    """What of program outcomes this refresh computes again (`outcomes_plan` against the
    fingerprint stored with the figures); everything with `recompute`."""
    if recompute:
        return EVERYTHING
    stored = read_meta(engine).get(OUTCOME_INPUTS_KEY)
    return outcomes_plan(json.loads(stored) if stored else None, inputs)


def refresh_derived(
    engine: Engine,
    *,
    as_of: date | None = None,
    settings: Settings | None = None,
    progress: Progress = no_progress,
    tables: RawTables | None = None,
    services: pl.DataFrame | None = None,
    recompute_outcomes: bool = False,
) -> RefreshSummary:
    """Recompute and replace every derived table (one transaction). `tables` (and
    `services`) may hand in the raw tables already in memory (the demo build), instead of
    reading them back. Program outcomes are computed again only where what they read
    changed (`indicators.outcomes_incremental`), or all with `recompute_outcomes`."""
    started = time.perf_counter()
    settings = settings or load_settings()
    as_of = as_of or date.today()
    progress(0, 6, "reading the data")
    seen = _last_import(engine)
    last_import = (seen.import_id if seen else None) or 0
    tables = tables if tables is not None else read_raw_tables(engine)
    services = services if services is not None else read_services(engine)
    with engine.connect() as connection:
        school_year = current_school_year(connection, as_of)
    inputs = outcome_inputs(tables, services, as_of, settings, outcomes_method(engine))
    plan = outcomes_to_compute(engine, inputs, recompute=recompute_outcomes)
    progress(1, 6, "computing indicators and the pipeline")
    with (
        _quick_handoffs(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="outcomes") as background,
        tempfile.TemporaryDirectory(prefix="pathwise-refresh-") as scratch,
    ):
        # Program outcomes take the longest and read only the raw tables: they are computed
        # in a second thread beside the indicators and the pipeline, which Polars and NumPy
        # allow (both leave the interpreter while they work). An error in it is raised
        # here, before anything is written.
        outcomes_job = background.submit(_stored_outcomes, tables, services, as_of, settings, plan)
        indicators, cube, public, not_observed = derive(
            tables, school_year, as_of, settings, read_searched(engine)
        )
        seniors, completions = season_counts(tables.students, tables.enrollments, tables.fafsa)
        coverage = coverage_to_store(indicators, services, read_consents(engine), as_of, settings)
        frames = [
            (INDICATORS, indicators),
            (CELLS, cube),
            (PUBLIC_CELLS, public),
            (SEASON_SENIORS, seniors),
            (SEASON_COMPLETIONS, completions),
            *((table, getattr(coverage, name)) for name, table in COVERAGE_TABLES.items()),
        ]
        staged = None
        if engine.dialect.name == "sqlite":
            # Written aside while the outcomes compute, then copied in one statement per
            # table: the write lock, which the app's own writes (the audit log) wait for,
            # is held for the copy only.
            progress(2, 6, "preparing the indicators for saving")
            staged = Path(scratch) / "staged.db"
            stage_frames(staged, frames)
        progress(3, 6, _outcomes_step(plan))
        outcomes = outcomes_job.result()
        progress(4, 6, "saving")
        meta = {
            "indicators_as_of": as_of.isoformat(),
            "indicators_school_year": str(school_year),
            REFRESHED_AT_KEY: datetime.now(UTC).isoformat(timespec="seconds"),
            AFTER_IMPORT_KEY: str(last_import),
            NOT_OBSERVED_KEY: json.dumps(not_observed),
            "freshness": json.dumps(freshness(tables)),
            OUTCOME_INPUTS_KEY: json.dumps(inputs, sort_keys=True, separators=(",", ":")),
        }
        _replace_derived(engine, frames, staged, outcomes, meta)
    progress(5, 6, "updating the query planner's statistics")
    analyze(engine)
    progress(6, 6, "done")
    return RefreshSummary(
        school_year,
        as_of,
        indicators.height,
        cube.height,
        time.perf_counter() - started,
        plan.measures,
        plan.years,
        plan.elsewhere,
    )


def _outcomes_step(plan: OutcomesPlan) -> str:
    """The progress line of the program outcomes' step."""
    if plan.everything:
        return "computing program outcomes"
    if plan.nothing:
        return "program outcomes: nothing they read changed, kept"
    if plan.years is not None and plan.elsewhere:
        return (
            f"computing program outcomes again for {years_named(plan.years)}, and "
            f"{', '.join(sorted(plan.elsewhere))} for the other school years"
        )
    if plan.years is not None:
        return f"computing program outcomes again for {years_named(plan.years)}"
    return f"computing program outcomes again for {', '.join(sorted(plan.measures))}"


def years_named(years: frozenset[int]) -> str:
    """School years as people write them: "2025-26 and 2026-27"."""
    named = [school_year_label(year) for year in sorted(years)]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


@contextmanager
def _quick_handoffs() -> Iterator[None]:
    """Python's thread switch interval at 0.5 ms (default 5 ms) while two threads compute:
    each of the outcome thread's hundreds of Polars calls takes the interpreter's lock for
    a moment, and waited up to the whole interval for it while the other thread ran Python
    (writing the staged copy). Measured: 0.9 s less at 10,000 students, 0.5 s at 100,000."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@dataclass(frozen=True)
class MeasureRows:
    """The rows of some outcome measures, to replace theirs in the tables that have a
    measure column (`BY_MEASURE`); the other tables do not depend on those measures.
    With `years`, the rows of those school years only."""

    measures: frozenset[str]
    estimates: pl.DataFrame
    estimates_public: pl.DataFrame
    balance: pl.DataFrame
    years: frozenset[int] | None = None


#: The outcome tables with a row per measure.
BY_MEASURE = ("estimates", "estimates_public", "balance")


@dataclass(frozen=True)
class YearRows:
    """Every outcome table's rows of some school years, to replace theirs (a year no
    longer studied has none: its stored rows go)."""

    years: frozenset[int]
    outcomes: StoredOutcomes


#: What a refresh writes of program outcomes: every table, or the rows of some school
#: years or of some measures.
OutcomeRows = StoredOutcomes | MeasureRows | YearRows


def _stored_outcomes(
    tables: RawTables,
    services: pl.DataFrame,
    as_of: date,
    settings: Settings,
    plan: OutcomesPlan = EVERYTHING,
) -> list[OutcomeRows]:
    """What to store of program outcomes with `plan` computed again, in the order to
    write it: every table (`outcomes_to_store` of `_program_outcomes`), nothing (the
    stored tables stand), the rows of some school years (`YearRows`), of some measures
    (`MeasureRows`), or both (some years whole, some measures in the other years). Their
    protected rows are computed from their own rows alone, as the small-cell rules work
    within one program-year and measure (`indicators.outcomes_protection`)."""
    if plan.everything:
        return [
            outcomes_to_store(
                *_program_outcomes(tables, services, as_of, settings), settings.min_cell
            )
        ]
    if plan.nothing:
        return []
    if plan.years is None:
        return [_measure_rows(tables, services, as_of, settings, plan.measures)]
    found: list[OutcomeRows] = [
        YearRows(
            plan.years,
            outcomes_to_store(
                *_program_outcomes(tables, services, as_of, settings, years=plan.years),
                settings.min_cell,
            ),
        )
    ]
    others = frozenset(studied_years(services, as_of, settings)) - plan.years
    if plan.elsewhere and others:
        found.append(_measure_rows(tables, services, as_of, settings, plan.elsewhere, others))
    return found


def _measure_rows(
    tables: RawTables,
    services: pl.DataFrame,
    as_of: date,
    settings: Settings,
    measures: frozenset[str],
    years: frozenset[int] | None = None,
) -> MeasureRows:
    """The rows of `measures` (of the school years `years` only, when given)."""
    estimates, balance = measure_estimates(tables, services, as_of, settings, measures, years=years)
    estimates = conform(estimates, ESTIMATES_SCHEMA)
    return MeasureRows(
        measures,
        estimates=estimates,
        estimates_public=protect_estimates(estimates, settings.min_cell),
        balance=conform(balance, BALANCE_SCHEMA),
        years=years,
    )


def write_measures(connection: Connection, rows: MeasureRows) -> None:
    """Replace the rows of `rows.measures` (of `rows.years`, when given) in the
    `BY_MEASURE` tables (on the caller's transaction), and forget what the previous ones
    were computed from."""
    delete_meta(connection, OUTCOME_INPUTS_KEY)
    for name in BY_MEASURE:
        table = OUTCOME_TABLES[name]
        chosen = [table.c.measure.in_(sorted(rows.measures))]
        if rows.years is not None:
            chosen.append(table.c.school_year.in_(sorted(rows.years)))
        connection.execute(delete(table).where(*chosen))
        insert_frame(connection, table, getattr(rows, name))


def write_years(connection: Connection, rows: YearRows) -> None:
    """Replace the rows of `rows.years` in every outcome table (on the caller's
    transaction), and forget what the previous ones were computed from."""
    delete_meta(connection, OUTCOME_INPUTS_KEY)
    for name, table in OUTCOME_TABLES.items():
        connection.execute(delete(table).where(table.c.school_year.in_(sorted(rows.years))))
        insert_frame(connection, table, getattr(rows.outcomes, name))


#: The schema name of the staged copies while a refresh attaches them.
STAGED = "staged"


def _replace_derived(
    engine: Engine,
    frames: list[tuple[Table, pl.DataFrame]],
    staged: Path | None,
    outcomes: list[OutcomeRows],
    meta: dict[str, str],
) -> None:
    """Replace every derived table and the refresh's meta in one transaction: `frames`
    from their staged copies (`staged`, a SQLite file of `bulk.stage_frames`) or, without
    one, directly."""
    with engine.connect() as connection:
        if staged is not None:
            # ATTACH and DETACH cannot run inside a transaction.
            connection.exec_driver_sql(f"ATTACH DATABASE ? AS {STAGED}", (str(staged),))
            connection.commit()
        try:
            with connection.begin():
                if staged is None:
                    for table, frame in frames:
                        connection.execute(delete(table))
                        insert_frame(connection, table, frame)
                else:
                    copy_staged(connection, STAGED, [table for table, _ in frames])
                # None of them: the stored ones stand (`_stored_outcomes`).
                for rows in outcomes:
                    if isinstance(rows, StoredOutcomes):
                        write_outcomes(connection, rows)
                    elif isinstance(rows, MeasureRows):
                        write_measures(connection, rows)
                    else:
                        write_years(connection, rows)
                set_meta(connection, meta)
        finally:
            if staged is not None:
                connection.exec_driver_sql(f"DETACH DATABASE {STAGED}")
                connection.commit()


@dataclass(frozen=True)
class IndicatorLag:
    """The stored indicators were computed before the last import (or never after it)."""

    #: When the stored indicators were computed (None: never).
    computed_at: datetime | None
    import_id: int
    imported_at: datetime
    imported_by: str


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _last_import(engine: Engine) -> ImportRun | None:
    with engine.connect() as connection:
        row = connection.execute(
            select(RUNS.c.import_id, RUNS.c.finished_at, RUNS.c.started_at, RUNS.c.imported_by)
            .order_by(RUNS.c.import_id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return ImportRun(
        import_id=row.import_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        imported_by=row.imported_by,
        files="",
    )


def indicators_lag(engine: Engine) -> IndicatorLag | None:
    """The last import, when the stored indicators were computed before it (its refresh
    was interrupted, or never ran); None when they are as recent as the data.

    The rule: the refresh records the last import id it saw; a later id means the
    indicators lag. A database refreshed before that record existed is compared by time
    (the refresh after an import always ends after the import's commit)."""
    last = _last_import(engine)
    if last is None or last.import_id is None:
        return None
    meta = read_meta(engine)
    written = meta.get(REFRESHED_AT_KEY)
    computed_at = _utc(datetime.fromisoformat(written)) if written else None
    imported_at = _utc(last.finished_at or last.started_at)
    seen = meta.get(AFTER_IMPORT_KEY)
    if seen is not None:
        lagging = last.import_id > int(seen)
    else:
        lagging = computed_at is None or computed_at < imported_at.replace(microsecond=0)
    if not lagging:
        return None
    return IndicatorLag(computed_at, last.import_id, imported_at, last.imported_by)
