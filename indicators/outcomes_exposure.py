"""Program outcomes, step 1: who was served, who may be compared, and their windows.

Rules (docs/outcomes.md, "Who counts as served" and "Comparison students"):
- A *program* is (org_id, service_type); a program-year adds the school year the service
  started in (`domain.school_year`: Aug 1 .. Jul 31, named by the year it ends in).
- A services row *qualifies* when it covers at least `outcomes_min_days_served` (30) days,
  counted from its start_date to the earlier of its end_date and the as-of date, both days
  included (a row starting Jan 1 and ending Jan 30 covers 30 days). Rows starting after
  the as-of date are not known yet and are ignored.
- A student is *served* by a program in school year Y when a qualifying row of that
  organisation and service type starts in Y. The start date is the earliest such start;
  the follow-up ends at the earlier of that row's end and the as-of date. Dose: the
  sessions and hours of the qualifying rows, summed (null when none are given).
- *Comparison pool* of a program-year: students enrolled in Y, in a grade the program
  served that year, with no services row of the same service type (any organisation)
  overlapping Y. So a student with a row of that type that does not qualify, or that
  started in an earlier year and runs into Y, is neither served nor in the pool.
- The pool is sampled before any window is computed: per program-year and exact cell
  (school, grade, english_learner, disability, econ_disadvantaged), at most
  `outcomes_pool_per_served` pool students per served student of the cell, those first
  in a uniform draw; pool students of a cell without a served student are left out (they
  could never be matched). Every draw of a program-year comes from a NumPy generator
  seeded with (`outcomes_match_seed`, a stable integer of school_year, org_id and
  service_type) over its pool sorted by student_id, so the same data and seed always give
  the same rows, and one program's data never moves another program's comparisons.
- Each kept pool student takes the calendar windows (start date and follow-up end) of
  one served student of the same program-year and exact cell, drawn by a second draw of
  the same generator. A third draw (`draw`) orders the pool students for
  `indicators.outcomes_matching.cem_weights`.

The school and grade of a student in year Y are those of their latest enrollment of Y (by
entry_date, then school_id) that began on or before the as-of date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import date
from typing import Final

import numpy as np
import polars as pl

from domain.vocabulary import GROUP_FIELDS
from indicators.pipeline import group_label
from indicators.settings import Settings
from indicators.tables import RawTables

PROGRAM_KEYS: Final = ("school_year", "org_id", "service_type")
#: The exact part of the match: school, grade and the three need flags (as group labels).
CELL: Final = ("school_id", "grade_level", "english_learner", "disability", "econ_disadvantaged")
#: One integer per distinct exact cell (`student_years`): joins and windows over cells
#: take this integer rather than five columns, two of them strings (for speed only).
CELL_CODE: Final = "_cell"
ROW_COLUMNS: Final = (
    "pyid",
    *PROGRAM_KEYS,
    "student_id",
    "served",
    "start_date",
    "follow_end",
    *CELL,
    CELL_CODE,
    "race_ethnicity",
    "gender",
    "cohort_year",
    "draw",
)


def by_student(frame: pl.DataFrame | pl.LazyFrame, high: str) -> list[pl.Expr]:
    """The sort keys of (high, student_id) in `frame`: one Int64 that sorts as the pair
    does when students are integer codes (`indicators.outcomes_keys`, below 2**32; `high`
    a non-negative integer below 2**31): a sort by one integer column rather than two is
    several times faster. Both columns when students are strings (tests call the steps
    with their own ids)."""
    if not frame.collect_schema()["student_id"].is_integer():
        return [pl.col(high), pl.col("student_id")]
    return [pl.col(high).cast(pl.Int64) * (1 << 32) + pl.col("student_id").cast(pl.Int64)]


def school_year_of(column: str) -> pl.Expr:
    """The school year a date column falls in (domain.school_year.school_year_of)."""
    day = pl.col(column)
    return (day.dt.year() + (day.dt.month() >= 8).cast(pl.Int32)).cast(pl.Int64)


def _covered_days(as_of: date) -> pl.Expr:
    last = pl.min_horizontal(pl.col("end_date").fill_null(as_of), pl.lit(as_of))
    return (last - pl.col("start_date")).dt.total_days() + 1


def _summed_or_null(column: str) -> pl.Expr:
    return pl.when(pl.col(column).is_not_null().any()).then(pl.col(column).sum()).alias(column)


def served_students(services: pl.DataFrame, as_of: date, settings: Settings) -> pl.DataFrame:
    """One row per program-year and served student: school_year, org_id, service_type,
    student_id, start_date, follow_end, sessions (Int64), hours (Float64)."""
    rows = services.lazy().filter(pl.col("start_date") <= as_of)
    qualifying = rows.with_columns(school_year_of("start_date").alias("school_year")).filter(
        _covered_days(as_of) >= settings.outcomes_min_days_served
    )
    return (
        qualifying.group_by(*PROGRAM_KEYS, "student_id")
        .agg(
            pl.col("start_date").min(),
            # The end of the earliest-starting row (an open row, null, sorts as the latest).
            pl.col("end_date")
            .sort_by("start_date", pl.col("end_date").fill_null(date.max), descending=[False, True])
            .first(),
            _summed_or_null("sessions").cast(pl.Int64),
            _summed_or_null("hours").cast(pl.Float64),
        )
        .with_columns(
            pl.min_horizontal(pl.col("end_date").fill_null(as_of), pl.lit(as_of)).alias(
                "follow_end"
            )
        )
        .select(*PROGRAM_KEYS, "student_id", "start_date", "follow_end", "sessions", "hours")
        .sort(*PROGRAM_KEYS, "student_id")
        .collect()
    )


def blocked(services: pl.DataFrame, years: list[int], as_of: date) -> pl.LazyFrame:
    """(school_year, service_type, student_id) of every student with a services row of that
    type overlapping the school year (and started by the as-of date)."""
    year_list = pl.LazyFrame({"school_year": years}, schema={"school_year": pl.Int64})
    first_day = pl.date(pl.col("school_year") - 1, 8, 1)
    last_day = pl.date(pl.col("school_year"), 7, 31)
    return (
        services.lazy()
        .filter(pl.col("start_date") <= as_of)
        .select("student_id", "service_type", "start_date", "end_date")
        .join(year_list, how="cross")
        .filter(
            (pl.col("start_date") <= last_day)
            & (pl.col("end_date").is_null() | (pl.col("end_date") >= first_day))
        )
        .select("school_year", "service_type", "student_id")
        .unique()
    )


def student_years(tables: RawTables, years: list[int], as_of: date) -> pl.DataFrame:
    """Per (school_year, student_id) enrolled in one of `years`: the school and grade of the
    latest enrollment begun by the as-of date, the group fields as group labels (booleans
    Y/N, blanks "unknown", as in indicators.pipeline), cohort_year and `CELL_CODE`, one
    integer per distinct exact cell (numbered in sorted order, so the same in every run)."""
    enrolled = (
        tables.enrollments.lazy()
        .filter(pl.col("school_year").is_in(years) & (pl.col("entry_date") <= as_of))
        .group_by("school_year", "student_id")
        .agg(pl.col("school_id", "grade_level").sort_by("entry_date", "school_id").last())
    )
    fields = [f for f in GROUP_FIELDS if f != "school_id"]
    people = tables.students.lazy().select("student_id", "cohort_year", *fields)
    found = (
        enrolled.join(people, on="student_id", how="inner")
        .with_columns(group_label(f) for f in GROUP_FIELDS)
        .collect()
    )
    # Sorted before numbering: the same cells get the same codes in every run.
    cells = found.select(CELL).unique().sort(CELL, nulls_last=True).with_row_index(CELL_CODE)
    return found.join(cells, on=list(CELL), how="left", nulls_equal=True, maintain_order="left")


def _ranked(served: pl.DataFrame, by: list[str], name: str) -> pl.DataFrame:
    return served.sort("pyid", "student_id").with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).over(by).alias(name)
    )


def program_seed(school_year: int, org_id: str, service_type: str) -> int:
    """A stable integer of a program-year (the first 8 bytes of a SHA-256 of its keys; not
    Python's hash(), which changes between runs)."""
    text = f"{school_year}\x1f{org_id}\x1f{service_type}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def program_draws(pool: pl.DataFrame, programs: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Three uniform draws per pool row (`_keep`, `_u`, `draw`), from a generator seeded
    with (seed, `program_seed` of the row's program-year): `pool` sorted by pyid and
    student_id, so one program-year's draws depend on its own pool only."""
    sizes = pool.group_by("pyid", maintain_order=True).len().join(programs, on="pyid")
    parts = []
    for row in sizes.iter_rows(named=True):
        rng = np.random.default_rng(
            [seed, program_seed(row["school_year"], row["org_id"], row["service_type"])]
        )
        parts.append(rng.random((3, row["len"])))
    values = np.concatenate(parts, axis=1) if parts else np.empty((3, 0))
    return pool.with_columns(
        pl.Series(name, values[i]) for i, name in enumerate(("_keep", "_u", "draw"))
    )


def study_rows(
    tables: RawTables,
    services: pl.DataFrame,
    served: pl.DataFrame,
    as_of: date,
    settings: Settings,
    people: pl.DataFrame | None = None,
    grades: Collection[int] | None = None,
) -> pl.DataFrame:
    """Served students and the sampled comparison pool of their program-year, one row
    each, with the windows: columns `ROW_COLUMNS` (pyid numbers the program-years in
    sorted order). `people`: `student_years` of the served years, when already known.
    `grades`: only the rows of students in these grades, the same rows (and draws) as
    without it: the pool is drawn whole first, and a cell holds one grade."""
    years = sorted(served["school_year"].unique().to_list())
    if people is None:
        people = student_years(tables, years, as_of)
    programs = served.select(PROGRAM_KEYS).unique().sort(PROGRAM_KEYS)
    programs = programs.with_row_index("pyid").with_columns(pl.col("pyid").cast(pl.Int64))
    treated = (
        served.join(programs, on=list(PROGRAM_KEYS))
        .join(people, on=["school_year", "student_id"], how="inner")
        .with_columns(pl.lit(True).alias("served"), pl.lit(None, dtype=pl.Float64).alias("draw"))
    )
    by_cell = _ranked(treated, ["pyid", CELL_CODE], "_cell_rank")
    # The pool of a program-year: unblocked students of its school year in an exact cell
    # with a served student (no other pool student can ever be matched; the cell fixes
    # the grade). Narrow (integer keys) until sampled: the person columns join back after.
    cell_sizes = (
        by_cell.group_by("pyid", CELL_CODE)
        .agg(pl.len().alias("_cell_n"))
        .join(programs.select("pyid", "school_year", "service_type"), on="pyid")
    )
    pool = (
        people.select("school_year", "student_id", CELL_CODE)
        .join(cell_sizes, on=["school_year", CELL_CODE], how="inner")
        .join(
            blocked(services, years, as_of).collect(),
            on=["school_year", "service_type", "student_id"],
            how="anti",
        )
        .sort(by_student(people, "pyid"))
    )
    pool = program_draws(pool, programs, settings.outcomes_match_seed)
    if grades is not None:
        in_grades = pl.col("grade_level").is_in(list(grades))
        cells = people.filter(in_grades)[CELL_CODE].unique()
        pool = pool.filter(pl.col(CELL_CODE).is_in(cells.implode()))
        treated = treated.filter(in_grades)
    # One integer per program-year and cell (the rank partitions by one key, not two).
    pool_cell = pl.col("pyid") * (1 << 32) + pl.col(CELL_CODE).cast(pl.Int64)
    kept = pl.col("_keep").rank("ordinal").over(pool_cell) <= (
        settings.outcomes_pool_per_served * pl.col("_cell_n")
    )
    window = ["start_date", "follow_end"]
    person = [c for c in ROW_COLUMNS if c in people.columns and c != CELL_CODE]
    pool = (
        pool.filter(kept)
        .select(
            "pyid",
            "school_year",
            "student_id",
            CELL_CODE,
            "draw",
            (pl.col("_u") * pl.col("_cell_n")).floor().cast(pl.Int64).alias("_cell_rank"),
            pl.lit(False).alias("served"),
        )
        # Left joins keep the pool's order (program-year, student).
        .join(programs.select("pyid", "org_id", "service_type"), on="pyid", maintain_order="left")
        .join(
            people.select(person),
            on=["school_year", "student_id"],
            how="left",
            maintain_order="left",
        )
        .join(
            by_cell.select("pyid", CELL_CODE, "_cell_rank", *window),
            on=["pyid", CELL_CODE, "_cell_rank"],
            how="left",
            maintain_order="left",
        )
    )
    return pl.concat([treated.select(ROW_COLUMNS), pool.select(ROW_COLUMNS)])
