"""Suite `outcomes`: program outcomes ("Is it working?", docs/outcomes.md) for every
program of the demo district, as the refresh computes them (`indicators.outcomes.
program_outcomes`, every grouping), against the plain statsmodels/pandas way of the same
overall estimates: CEM in pandas and statsmodels' formula API per program-year and measure
(`bench.pandas_reference.program_estimates`), from the same per-student sample. The suite
asserts that both give the same effects and intervals.

The pandas side starts from `indicators.outcomes.outcome_sample` (exposure, windows and
measures computed once, untimed), so its time is that of matching and estimation only;
ours is the whole computation.

What the issue's target is about, the time program outcomes add to the refresh, is timed
end to end: `data_access.derived.refresh_derived` of a SQLite database of the demo
district (its native files imported once, cached under data/bench/outcomes/), reading,
computing and writing every derived table, against the same refresh with the outcome
method replaced by one that returns no rows (the only difference between the two runs).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from bench import pandas_reference
from bench.import_bench import AS_OF, CHECKOUT, SEED, csv_district
from bench.indicators_suite import TODAY, demo_tables
from bench.report import best_of, load_average, machine
from indicators.outcomes import ProgramOutcomes, outcome_sample, program_outcomes
from indicators.outcomes_results import (
    BALANCE_SCHEMA,
    ESTIMATE_SCHEMA,
    SCALE,
    SERVED_SCHEMA,
    TRAJECTORY_SCHEMA,
)
from indicators.settings import Settings, load_settings
from indicators.tables import RawTables


def assert_same_effects(ours: pl.DataFrame, reference: pl.DataFrame) -> int:
    """Every overall estimate with an effect agrees with the reference; returns how many."""
    keys = ["school_year", "org_id", "service_type", "measure"]
    mine = ours.filter(pl.col("group_by") == "all").select(
        *keys, "matched", "effect", "ci_low", "ci_high", "verdict"
    )
    scale = pl.col("measure").replace_strict(SCALE, return_dtype=pl.Float64)
    other = reference.with_columns((pl.col(c) * scale) for c in ("effect", "ci_low", "ci_high"))
    both = mine.join(other, on=keys, how="full", suffix="_ref", coalesce=True)
    shown = both.filter(pl.col("effect").is_not_null())
    assert shown.filter(pl.col("effect_ref").is_null()).height == 0, shown
    for column in ("effect", "ci_low", "ci_high"):
        gap = shown.select((pl.col(column) - pl.col(f"{column}_ref")).abs().max()).item()
        assert gap is None or float(gap) < 1e-6, f"{column} differs by {gap!r}"
    # The reference estimates every row with enough matched students, including rows the
    # method withholds as not comparable: those have no effect of ours to compare.
    return shown.height


CACHE = CHECKOUT / "data" / "bench" / "outcomes"
#: Issue 13's target: seconds program outcomes may add to the refresh at 100,000 students.
TARGET_ADDED = 2.0


def _database(students: int) -> Path:
    """A SQLite database of the demo district's native files, imported once and kept."""
    from data_access import schema
    from data_access.engine import make_engine
    from data_access.importing import import_path

    path = CACHE / f"{students}-{SEED}-{AS_OF.isoformat()}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    building = path.with_name(path.name + ".building")
    building.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{building}")
    schema.upgrade(engine)
    import_path(engine, str(csv_district(students)), imported_by="bench")
    engine.dispose()
    building.rename(path)
    for leftover in CACHE.glob(building.name + "*"):  # the importer's lock file
        leftover.unlink()
    return path


def _no_outcomes(*_args: object, **_kwargs: object) -> ProgramOutcomes:
    return ProgramOutcomes(
        *(
            pl.DataFrame(schema=schema)
            for schema in (ESTIMATE_SCHEMA, BALANCE_SCHEMA, TRAJECTORY_SCHEMA, SERVED_SCHEMA)
        )
    )


@contextmanager
def _without_outcomes() -> Iterator[None]:
    """The refresh with the outcome method replaced by one that returns no rows."""
    from data_access import derived

    method = derived.program_outcomes
    derived.program_outcomes = _no_outcomes
    try:
        yield
    finally:
        derived.program_outcomes = method


#: Flips the college outcomes of a tenth of the students (each flip is a change).
FLIP_COLLEGE = (
    "UPDATE outcome SET postsecondary_enrolled = NOT postsecondary_enrolled "
    "WHERE postsecondary_enrolled IS NOT NULL AND student_id LIKE '%1'"
)


#: The nightly case's first day: the current year's services (begun in November) have
#: run their 30 days, so 2026-27 is studied beside 2025-26.
WINTER = date(2027, 1, 15)
#: A new attendance snapshot of `:year` on `:day` for every student with one (a week more
#: enrolled, a day more absent for one student in ten), as a nightly file brings.
NEW_SNAPSHOT = (
    "INSERT INTO attendance (student_id, school_id, school_year, as_of_date, days_enrolled, "
    "days_absent) SELECT a.student_id, a.school_id, a.school_year, :day, a.days_enrolled + 5, "
    "a.days_absent + CASE WHEN a.student_id LIKE :ending THEN 1 ELSE 0 END FROM attendance a "
    "WHERE a.school_year = :year AND a.as_of_date = (SELECT MAX(b.as_of_date) FROM attendance "
    "b WHERE b.student_id = a.student_id AND b.school_year = a.school_year)"
)


@dataclass(frozen=True)
class RefreshTimes:
    """Seconds of the refresh, each the best of the runs."""

    #: Program outcomes computed whole (`recompute_outcomes`).
    whole: float
    #: The same with the outcome method returning no rows.
    without: float
    #: Nothing program outcomes read changed: the stored figures are kept.
    kept: float
    #: Only the college outcomes changed: their three measures computed again.
    college: float
    #: The nightly refresh: a new day and a new snapshot of the current year's attendance,
    #: as of `WINTER` and after: the current year computed again, the complete one kept.
    nightly: float


def refresh_times(students: int, runs: int) -> RefreshTimes:
    """The refresh in its four cases (`RefreshTimes`), the runs taken in turn (whole,
    kept, college, without, whole, ...) so that a change in the machine's speed during
    the runs weighs on all alike."""
    from sqlalchemy import text

    from data_access.derived import refresh_derived
    from data_access.engine import make_engine

    work = _database(students).with_name(f"refresh-{students}.db")
    shutil.copy(_database(students), work)
    engine = make_engine(f"sqlite:///{work}")
    best = dict.fromkeys(("whole", "without", "kept", "college", "nightly"), float("inf"))

    def timed(case: str, recompute: bool = False, as_of: date = AS_OF) -> None:
        seconds, _ = best_of(
            1, lambda: refresh_derived(engine, as_of=as_of, recompute_outcomes=recompute)
        )
        best[case] = min(best[case], seconds)

    try:
        for run in range(max(1, runs)):
            timed("whole", recompute=True)
            timed("kept")
            with engine.begin() as connection:
                connection.exec_driver_sql(FLIP_COLLEGE)
            timed("college")
            with _without_outcomes():
                timed("without", recompute=True)
            # The night before (not timed), then the night: a new day and its snapshot.
            night = WINTER + timedelta(days=2 * run + 1)
            refresh_derived(engine, as_of=night - timedelta(days=1))
            with engine.begin() as connection:
                connection.execute(
                    text(NEW_SNAPSHOT), {"day": night, "year": AS_OF.year + 1, "ending": "%7"}
                )
            timed("nightly", as_of=night)
    finally:
        engine.dispose()
        for leftover in work.parent.glob(work.name + "*"):
            leftover.unlink()
    return RefreshTimes(**best)


def _one_size(students: int, runs: int, settings: Settings) -> str:
    frames, built = demo_tables(students)
    tables = RawTables.from_mapping(frames)
    services = frames["services"]
    ours_time, ours = best_of(runs, lambda: program_outcomes(tables, services, TODAY, settings))
    sample = outcome_sample(tables, services, TODAY, settings)
    data = sample.to_pandas()
    pandas_time, reference = best_of(
        runs, lambda: pandas_reference.program_estimates(data, settings)
    )
    compared = assert_same_effects(ours.estimates, pl.from_pandas(reference))
    estimates = ours.estimates
    regressions = estimates.filter(pl.col("effect").is_not_null()).height
    print(f"  outcomes: timing the refresh at {students:,} students ...", flush=True)
    times = refresh_times(students, runs)

    def verdict(added: float) -> str:
        return "-" if students != 100_000 else ("met" if added < TARGET_ADDED else "MISSED")

    cases = [
        ("computed whole", times.whole),
        ("the current year only (the nightly refresh in January)", times.nightly),
        ("college measures only (after a Clearinghouse file)", times.college),
        ("kept (nothing they read changed)", times.kept),
    ]
    first = (
        f"| {students:,} | {ours.served_students.height:,} | {estimates.height:,} | "
        f"{regressions:,} | {ours_time:.2f} | {pandas_time:.2f} | {compared} | {built:.0f} | "
        f"{times.without:.1f} |"
    )
    blank = "| | | | | | | | | |"
    return "\n".join(
        f"{first if i == 0 else blank} {case} | {seconds:.1f} | {seconds - times.without:.1f} "
        f"| {verdict(seconds - times.without)} |"
        for i, (case, seconds) in enumerate(cases)
    )


def run(sizes: list[int], runs: int) -> str:
    """The markdown section: one row per size."""
    settings = load_settings()
    lines = [
        "## Suite `outcomes`",
        "",
        "Program outcomes for every program-year of the demo district (as of "
        f"{TODAY}), best of {runs} run(s); {machine()}; load before: {load_average()}.",
        "",
        "| students | served students | estimate rows | effects shown | ours, whole "
        "(s) | pandas + statsmodels formula, matching and estimation only (s) | "
        "effects compared (all equal) | demo build (s) | refresh without program outcomes "
        "(s) | program outcomes in the refresh | refresh (s) | added by program outcomes "
        "(s) | target: under 2 s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_one_size(size, runs, settings) for size in sizes]
    lines += [
        "",
        "Target (issue 13): under 2 s added to the refresh at 100,000 students. Ours is the "
        "whole computation the refresh runs (exposure, windows, measures, matching for every "
        "grouping, estimates, balance, trajectory, naive comparison); the pandas side starts "
        "from our per-student sample and does the overall matching and estimation only. "
        "The refresh columns time `data_access.derived.refresh_derived` of a SQLite database "
        "of the demo district end to end (read, compute, write, statistics), with the "
        "outcome method returning no rows and with program outcomes in each of the "
        "refresh's four cases (docs/outcomes.md, 'When the figures are recomputed'): "
        "computed whole (`recompute_outcomes`, as after new settings, a new version of the "
        "method, or the first refresh); the current year only, as the nightly refresh "
        "does (a new day and a new attendance snapshot of the current school year, as of "
        f"{WINTER} and after: the demo's current-year services begin in November, and by "
        "then they have run their 30 days); only the three college measures (a tenth of "
        "the college outcomes flipped before the run, as a Clearinghouse file changes "
        "them); and kept (a second refresh with nothing new). The nightly case grows "
        "through the year with the current year's served students: here 2026-27 has about "
        "a sixth of the served students of 2025-26; by the year's end it has about as many, "
        "and the nightly refresh then costs about what 'computed whole' costs here (on "
        f"{TODAY} 2025-26 is the only studied year). The refresh computes program outcomes "
        "in a second thread beside the indicators and the pipeline. 'Kept' can take less "
        "than the refresh without program outcomes: that one replaces the stored outcome "
        "tables with empty ones, 'kept' writes none of them.",
    ]
    return "\n".join(lines) + "\n"
