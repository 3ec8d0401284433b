"""Suite `indicators`: student indicators for the current school year plus the pipeline cube
for every cohort, from the demo district held in memory; against a plain pandas
implementation of the same rules (bench.pandas_reference, checked identical) and a NumPy
pass over the attendance arrays (the memory-bandwidth reference)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import polars as pl
from polars.testing import assert_frame_equal

from bench import pandas_reference
from bench.report import best_of, load_average, machine, memory_available
from data_access.derived import derive
from demo_district.generate import DemoSpec, district_frames
from indicators import attendance as attendance_rules
from indicators.pipeline import pipeline_cube
from indicators.settings import Settings, load_settings
from indicators.student import compute_student_indicators
from indicators.tables import RawTables
from indicators.trajectory import attendance_trajectory

SEED = 2026
#: The pandas run peaked near 7x the Polars input frames' size at 100,000 students; it is
#: skipped (and said so) when less than this multiple is available.
PANDAS_MEMORY_FACTOR = 8
TODAY = date(2026, 11, 22)
#: The columns of docs/command-line.md's `export flags` that the indicators produce.
FLAG_COLUMNS = (
    "student_id",
    "school_id",
    "grade_level",
    "absence_rate",
    "attendance_band",
    "chronic_absence",
    "core_fails",
    "course_failure",
    "on_track",
    "below_proficient",
    "fafsa_status",
    "fafsa_not_completed",
    "flag_count",
    "tier",
)
INPUT_TABLES = (
    "students",
    "enrollments",
    "attendance",
    "course_marks",
    "test_scores",
    "fafsa",
    "outcomes",
)


def demo_tables(students: int) -> tuple[dict[str, pl.DataFrame], float]:
    """The demo district's import files as whole frames (its `_`-named helper frames
    left out), and the seconds it took."""
    start = time.perf_counter()
    frames = district_frames(DemoSpec(students=students, seed=SEED, today=TODAY))
    tables = {name: frame for name, frame in frames.items() if not name.startswith("_")}
    return tables, time.perf_counter() - start


def to_pandas(frame: pl.DataFrame) -> pd.DataFrame:
    """A frame as a pandas user would hold it: dates as datetime64, strings as str."""
    dates = [name for name, dtype in frame.schema.items() if dtype == pl.Date]
    return frame.with_columns(pl.col(dates).cast(pl.Datetime("ms"))).to_pandas()


def polars_run(
    frames: dict[str, pl.DataFrame], year: int, settings: Settings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    tables = RawTables.from_mapping(frames)
    return (
        compute_student_indicators(tables, year, TODAY, settings),
        pipeline_cube(tables, None, settings),
    )


def pandas_run(
    frames: dict[str, pd.DataFrame], year: int, settings: Settings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        pandas_reference.student_indicators(frames, year, TODAY, settings),
        pandas_reference.pipeline_cube(frames, settings),
    )


def assert_identical(
    polars_result: tuple[pl.DataFrame, pl.DataFrame],
    pandas_result: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Both implementations give the same flags frame and the same cube."""
    flags = polars_result[0].select(FLAG_COLUMNS)
    other = pl.from_pandas(pandas_result[0][list(FLAG_COLUMNS)]).cast(flags.schema)
    assert_frame_equal(flags, other, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
    keys = ["cohort", "group_by", "group", "stage"]
    cube = polars_result[1].sort(keys)
    other_cube = pl.from_pandas(pandas_result[1]).cast(cube.schema).select(cube.columns)
    assert_frame_equal(cube, other_cube.sort(keys))


@dataclass
class AttendanceArrays:
    """The attendance table with pre-factorised ids, as a NumPy program would hold it."""

    student: np.ndarray
    pair: np.ndarray
    school_year: np.ndarray
    day: np.ndarray
    enrolled: np.ndarray
    absent: np.ndarray
    students: int
    pairs: int

    @classmethod
    def of(cls, attendance: pl.DataFrame) -> AttendanceArrays:
        codes = attendance.select(
            (pl.col("student_id").rank("dense").cast(pl.Int64) - 1).alias("student"),
            (
                (pl.col("student_id") + "|" + pl.col("school_id")).rank("dense").cast(pl.Int64) - 1
            ).alias("pair"),
        )
        student, pair = codes.to_series(0).to_numpy(), codes.to_series(1).to_numpy()
        return cls(
            student=student,
            pair=pair,
            school_year=attendance["school_year"].to_numpy(),
            day=attendance["as_of_date"].cast(pl.Int32).to_numpy(),
            enrolled=attendance["days_enrolled"].to_numpy(),
            absent=attendance["days_absent"].to_numpy(),
            students=int(student.max()) + 1 if len(student) else 0,
            pairs=int(pair.max()) + 1 if len(pair) else 0,
        )


def numpy_absence_rates(arrays: AttendanceArrays, year: int, as_of: date) -> np.ndarray:
    """Per student: days absent / days enrolled over each school's latest snapshot of
    `year` on or before `as_of` (NaN under 10 days), in plain NumPy."""
    cutoff = (as_of - date(1970, 1, 1)).days
    keep = (arrays.school_year == year) & (arrays.day <= cutoff)
    pair, day = arrays.pair[keep], arrays.day[keep]
    latest = np.full(arrays.pairs, np.iinfo(np.int32).min, dtype=np.int32)
    np.maximum.at(latest, pair, day)
    last = day == latest[pair]
    student = arrays.student[keep][last]
    enrolled = np.bincount(student, arrays.enrolled[keep][last], minlength=arrays.students)
    absent = np.bincount(student, arrays.absent[keep][last], minlength=arrays.students)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(enrolled >= 10, absent / enrolled, np.nan)


def polars_absence_rates_on_ids(arrays: AttendanceArrays, year: int, as_of: date) -> pl.DataFrame:
    """The NumPy pass written in Polars over the same pre-factorised integer arrays."""
    frame = pl.DataFrame(
        {
            "student": arrays.student,
            "pair": arrays.pair,
            "school_year": arrays.school_year,
            "day": arrays.day,
            "enrolled": arrays.enrolled,
            "absent": arrays.absent,
        }
    )
    cutoff = (as_of - date(1970, 1, 1)).days
    return (
        frame.lazy()
        .filter((pl.col("school_year") == year) & (pl.col("day") <= cutoff))
        .filter(pl.col("day") == pl.col("day").max().over("pair"))
        .group_by("student")
        .agg(pl.col("enrolled").sum(), pl.col("absent").sum())
        .with_columns(pl.when(pl.col("enrolled") >= 10).then(pl.col("absent") / pl.col("enrolled")))
        .collect()
    )


def polars_absence_rates(attendance: pl.DataFrame, year: int, settings: Settings) -> pl.DataFrame:
    """The same attendance step as `numpy_absence_rates`, with the indicators' own code."""
    return (
        attendance_rules.attendance_totals(attendance.lazy(), year, TODAY)
        .with_columns(attendance_rules.attendance_state(settings))
        .with_columns(attendance_rules.absence_rate())
        .collect()
    )


def _pandas_time(
    inputs: dict[str, pl.DataFrame],
    year: int,
    settings: Settings,
    runs: int,
    polars_result: tuple[pl.DataFrame, pl.DataFrame],
) -> float:
    """Best time of the pandas reference, after checking it agrees with Polars."""
    frames = {name: to_pandas(frame) for name, frame in inputs.items()}
    seconds, result = best_of(runs, lambda: pandas_run(frames, year, settings))
    assert_identical(polars_result, result)
    return seconds


@dataclass
class Row:
    students: int
    enrolled: int
    rows: int
    generate: float
    indicators: float
    cube: float
    total: float
    pandas_total: float | None
    pandas_runs: int
    polars_attendance: float
    polars_attendance_ids: float
    numpy_attendance: float
    trajectory: float
    refresh: float


def measure(students: int, runs: int, settings: Settings) -> Row:
    frames, generated = demo_tables(students)
    inputs = {name: frames[name] for name in INPUT_TABLES}
    del frames
    year = DemoSpec(students=students, seed=SEED, today=TODAY).current_year
    tables = RawTables.from_mapping(inputs)
    indicators_time, flags = best_of(
        runs, lambda: compute_student_indicators(tables, year, TODAY, settings)
    )
    cube_time, _ = best_of(runs, lambda: pipeline_cube(tables, None, settings))
    trajectory_time, _ = best_of(
        runs, lambda: attendance_trajectory(tables.attendance, year, TODAY, settings)
    )
    refresh_time, _ = best_of(runs, lambda: derive(tables, year, TODAY, settings))
    total_time, polars_result = best_of(runs, lambda: polars_run(inputs, year, settings))

    pandas_runs = runs if students <= 100_000 else 1
    needed = PANDAS_MEMORY_FACTOR * sum(frame.estimated_size() for frame in inputs.values())
    available = memory_available()
    pandas_time: float | None = None
    if available is None or available >= needed:
        pandas_time = _pandas_time(inputs, year, settings, pandas_runs, polars_result)
    else:
        print(
            f"  pandas skipped: needs ~{needed / 2**30:.1f} GiB, {available / 2**30:.1f} available"
        )

    arrays = AttendanceArrays.of(inputs["attendance"])
    numpy_time, rates = best_of(runs, lambda: numpy_absence_rates(arrays, year, TODAY))
    polars_att_time, polars_rates = best_of(
        runs, lambda: polars_absence_rates(inputs["attendance"], year, settings)
    )
    assert int(np.count_nonzero(~np.isnan(rates))) == polars_rates["absence_rate"].count()
    ids_time, _ = best_of(runs, lambda: polars_absence_rates_on_ids(arrays, year, TODAY))
    return Row(
        students=students,
        enrolled=flags.height,
        rows=sum(frame.height for frame in inputs.values()),
        generate=generated,
        indicators=indicators_time,
        cube=cube_time,
        total=total_time,
        pandas_total=pandas_time,
        pandas_runs=pandas_runs,
        polars_attendance=polars_att_time,
        polars_attendance_ids=ids_time,
        numpy_attendance=numpy_time,
        trajectory=trajectory_time,
        refresh=refresh_time,
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:,.1f} ms"


def run(sizes: list[int], runs: int) -> str:
    settings = load_settings()
    load_before = load_average()
    rows = []
    for students in sizes:
        print(f"  indicators: {students:,} students ...", flush=True)
        rows.append(measure(students, runs, settings))
    lines = [
        "## Suite `indicators`",
        "",
        "Early-warning indicators of every student enrolled in the current school year "
        f"(2026-27, as of {TODAY}) plus the pipeline cube (all students and the six group "
        "fields and the grade-9 on-track split, every cohort), computed from the demo "
        "district held in memory "
        f"(`DemoSpec(students=N, seed={SEED}, today=date(2026, 11, 22))`).",
        "",
        f"Machine: {machine()}. Load average (1 min) at the start: {load_before}, at the "
        f"end: {load_average()} (the benchmark itself adds about 1 to 2; more means other work "
        f"shared the {os.cpu_count()} cores).",
        "",
        "Timings are the best of the runs, `time.perf_counter`, in one process. *Polars "
        "total* is both calls from the import-format frames (building `RawTables` "
        "included). *pandas* is bench/pandas_reference.py, the same rules written the plain "
        "way, asserted to give an identical flags frame and cube. The attendance columns "
        "time one step alike: each school's latest snapshot summed per student and the "
        "absence rate, by the indicators' Polars code from the raw table (string ids, dates), "
        "by the same steps in Polars on pre-factorised integer ids, and by NumPy "
        "(`np.maximum.at` + `np.bincount`) on those ids; *Polars / NumPy* compares the "
        "first with the last.",
        "",
        "| students (N) | enrolled now | input rows | Polars indicators | Polars cube "
        "| Polars total | pandas total | pandas / Polars | attendance: Polars | attendance: "
        "Polars on int ids | attendance: NumPy | Polars / NumPy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.pandas_total is None:
            pandas = "not run (memory)"
            ratio = "-"
        else:
            pandas = _ms(r.pandas_total) + ("" if r.pandas_runs > 1 else " (1 run)")
            ratio = f"{r.pandas_total / r.total:.1f}x"
        lines.append(
            f"| {r.students:,} | {r.enrolled:,} | {r.rows:,} | {_ms(r.indicators)} | "
            f"{_ms(r.cube)} | **{_ms(r.total)}** | {pandas} | {ratio} | "
            f"{_ms(r.polars_attendance)} | {_ms(r.polars_attendance_ids)} | "
            f"{_ms(r.numpy_attendance)} | {r.polars_attendance / r.numpy_attendance:.1f}x |"
        )
    lines += [
        "",
        "What a refresh computes besides (`data_access.derived.derive`, stored after every "
        "demo build and import): the attendance trajectories (projected year-end rate, "
        "approaching, days to recover) and the small-cell protection of the whole cube.",
        "",
        "| students (N) | trajectories | whole refresh computation (indicators, "
        "trajectories, cube, protected cube) |",
        "|---:|---:|---:|",
    ]
    lines += [f"| {r.students:,} | {_ms(r.trajectory)} | {_ms(r.refresh)} |" for r in rows]
    lines += [
        "",
        "Generating the demo district in memory (not timed above): "
        + ", ".join(f"{r.students:,} students {r.generate:,.1f} s" for r in rows)
        + f". Runs per figure: {runs} (pandas: 1 above 100,000 students).",
    ]
    return "\n".join(lines)
