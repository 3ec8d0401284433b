"""Program outcomes, "Is it working?" (issue 13; the method is docs/outcomes.md).

`program_outcomes(tables, services, as_of, settings)` estimates, for every program-year
(organisation x service type x school year of the start) and every measure that applies
to it, the effect of being served against matched comparison students who were not,
overall and for every group of `domain.vocabulary.GROUP_FIELDS`:

1. exposure and windows (`indicators.outcomes_exposure`);
2. the measures and baseline covariates of every student (`indicators.outcomes_measures`);
3. coarsened exact matching and balance (`indicators.outcomes_matching`);
4. the regression-adjusted estimate (statsmodels' WLS with HC1 errors, computed with
   NumPy and tested against statsmodels), effect sizes and verdicts
   (`indicators.outcomes_estimation`);
5. the four frames of the contract (`indicators.outcomes_results`).

While it runs, students are integer codes (`indicators.outcomes_keys`), for speed.

Which measure applies to whom (issue 13's table): absence_rate and core_fails to every
served student; on_track to grade-9 students served before the end of the year (the end of
term `Y`); fafsa_completed to grade-12 students of the service types of
`outcomes_measure_service_types`; graduated, enrolled_postsecondary and persisted to
grade-12 students. A yes/no measure is reported only once it is observable as of the
as-of date (`indicators.observable`, for the class whose senior year is the school year;
on_track once term `Y` has ended), and only students whose own cohort's stage is
observable count in it: a stage not observable yet gives no row, never a zero.

Pure Polars and NumPy; no I/O. The data work is
vectorised; Python loops run over measures, groupings and the regressions only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import (
    GROUP_FIELDS,
    OUTCOME_CHANGE_MEASURES,
    OUTCOME_MEASURES,
    SERVICE_TYPES,
)
from indicators.observable import OBSERVABLE_FROM
from indicators.outcomes_exposure import (
    CELL_CODE,
    PROGRAM_KEYS,
    blocked,
    by_student,
    served_students,
    student_years,
    study_rows,
)
from indicators.outcomes_keys import assembled, coded, decoded, student_codes
from indicators.outcomes_matching import STRATUM, cem_weights, coarsened
from indicators.outcomes_measures import (
    COVARIATES,
    attendance_series,
    later_outcomes,
    prior_proficiency,
    with_absence,
    with_core_fails,
    yes_no_outcomes,
)
from indicators.outcomes_naive import unserved_sums, year_absence, year_core_fails
from indicators.outcomes_results import (
    BALANCE_SCHEMA,
    ESTIMATE_SCHEMA,
    SERVED_SCHEMA,
    TRAJECTORY_SCHEMA,
    balance,
    estimates,
    group_moments,
    served_list,
    trajectory,
)
from indicators.settings import Settings
from indicators.tables import RawTables

NINTH_GRADE: Final = 9
TWELFTH_GRADE: Final = 12
#: Study-row columns the sample no longer needs once `before` and `after` are set.
SAMPLE_DROPPED: Final = (
    "org_id",
    "service_type",
    "follow_end",
    "cohort_year",
    "absence_before",
    "absence_after",
    "core_fails_before",
    "core_fails_after",
    "on_track",
    "fafsa_completed",
    "graduated",
    "enrolled_postsecondary",
    "persisted",
)
#: The columns of the overall matched rows (what the results read of them; the group
#: fields, `_key` and `_stratum` to match every group again from the overall strata).
MATCHED_COLUMNS: Final = (
    "pyid",
    "school_year",
    "measure",
    "student_id",
    "served",
    "weight",
    "start_date",
    "before",
    "after",
    *COVARIATES,
    "_english_learner",
    "_disability",
    "_econ_disadvantaged",
    "sessions",
    "hours",
    *GROUP_FIELDS,
    "_key",
    "_stratum",
)
#: Measures read from a stage of the cohort pipeline, for their observability.
STAGE_OF: Final = {
    "fafsa_completed": "fafsa_completed",
    "graduated": "graduated",
    "enrolled_postsecondary": "enrolled_postsecondary",
    "persisted": "persisted",
}
#: The measures of grade-12 students only (those of a stage: `_scope`): computed alone
#: (`measure_estimates`), their study reads the grade-12 rows only.
SENIOR_MEASURES: Final = frozenset(STAGE_OF)
#: Display units: fractions become percent (percentage points for effects); counts stay.


@dataclass(frozen=True)
class ProgramOutcomes:
    """The four frames of the outcomes contract (docs/outcomes.md, "What is computed")."""

    estimates: pl.DataFrame
    balance: pl.DataFrame
    trajectory: pl.DataFrame
    served_students: pl.DataFrame


def method_services(services: pl.DataFrame) -> pl.DataFrame:
    """The services columns the method reads, with their dtypes (dose columns optional)."""
    frame = services
    for column, dtype in (("end_date", pl.Date), ("sessions", pl.Int64), ("hours", pl.Float64)):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(column))
    return frame.select(
        pl.col("student_id").cast(pl.String),
        pl.col("org_id").cast(pl.String),
        pl.col("service_type").cast(pl.String),
        pl.col("start_date").cast(pl.Date),
        pl.col("end_date").cast(pl.Date),
        pl.col("sessions").cast(pl.Int64),
        pl.col("hours").cast(pl.Float64),
    )


# ---------------------------------------------------------------------------------------
# Who is in scope for each measure
# ---------------------------------------------------------------------------------------


def _stage_date(stage: str, cohort: pl.Expr) -> pl.Expr:
    years, month, day = OBSERVABLE_FROM[stage]
    return pl.date(cohort + years, month, day)


def _year_end(settings: Settings) -> tuple[int, int]:
    return next((m, d) for t, m, d in settings.outcomes_term_ends if t == "Y")


def _scope(measure: str, as_of: date, settings: Settings) -> pl.Expr:
    """Whether a study row counts for `measure` (service type, grade, observability)."""
    types = dict(settings.outcomes_measure_service_types).get(measure, SERVICE_TYPES)
    scope = pl.col("service_type").is_in(list(types))
    if measure == "on_track":
        month, day = _year_end(settings)
        year_end = pl.date(pl.col("school_year"), month, day)
        scope &= (
            (pl.col("grade_level") == NINTH_GRADE)
            & (pl.col("start_date") < year_end)
            & (pl.lit(as_of) > year_end)
        )
    elif measure in STAGE_OF:
        stage = STAGE_OF[measure]
        scope &= (
            (pl.col("grade_level") == TWELFTH_GRADE)
            # The class whose senior year this is, and the student's own class.
            & (_stage_date(stage, pl.col("school_year")) <= as_of)
            & (_stage_date(stage, pl.col("cohort_year")) <= as_of).fill_null(False)
        )
    return scope


def _values(measure: str) -> tuple[pl.Expr, pl.Expr]:
    """(before, after) of `measure`, as Float64 (before null for yes/no measures)."""
    if measure == "absence_rate":
        return pl.col("absence_before"), pl.col("absence_after")
    if measure == "core_fails":
        return pl.col("core_fails_before"), pl.col("core_fails_after")
    return pl.lit(None, dtype=pl.Float64), pl.col(measure).cast(pl.Float64)


def measure_sample(
    rows: pl.DataFrame,
    as_of: date,
    settings: Settings,
    measures: Collection[str] = OUTCOME_MEASURES,
) -> pl.DataFrame:
    """The study rows of every measure of `measures` they are in scope for, long: the row
    columns plus measure, before, after and valid (the measure is known for the student),
    less the columns read only to find those (`SAMPLE_DROPPED`; org_id and service_type
    are `pyid`'s)."""
    parts = []
    for measure in (m for m in OUTCOME_MEASURES if m in measures):
        before, after = _values(measure)
        valid = after.is_not_null()
        if measure in OUTCOME_CHANGE_MEASURES:
            valid &= before.is_not_null()
        parts.append(
            rows.lazy()
            .filter(_scope(measure, as_of, settings))
            .with_columns(
                pl.lit(measure).alias("measure"),
                before.cast(pl.Float64).alias("before"),
                after.cast(pl.Float64).alias("after"),
                valid.alias("valid"),
            )
            .drop(SAMPLE_DROPPED)
        )
    return pl.concat(parts).collect()


# ---------------------------------------------------------------------------------------
# The study: rows, measures, matching
# ---------------------------------------------------------------------------------------


def _study(
    tables: RawTables,
    services: pl.DataFrame,
    served: pl.DataFrame,
    as_of: date,
    settings: Settings,
    grades: Collection[int] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(study rows with every measure and covariate, the attendance series, the unserved
    side of the naive comparison: `indicators.outcomes_naive.unserved_sums`); with
    `grades`, the rows of students in those grades only (`study_rows`)."""
    years = sorted(served["school_year"].unique().to_list())
    people = student_years(tables, years, as_of)
    rows = study_rows(tables, services, served, as_of, settings, people, grades)
    if grades is not None:
        # Every figure below is a student's own (series, windows, marks, results), so
        # the students of other grades can go: their rows are not in `rows`.
        people = people.filter(pl.col("grade_level").is_in(list(grades)))
        tables = _students_only(tables, people["student_id"].unique())
    series = attendance_series(tables.attendance, years, as_of)
    flags = ("english_learner", "disability", "econ_disadvantaged")
    later = later_outcomes(tables)
    yes_no = yes_no_outcomes(tables, years, settings)
    stages = ("fafsa_completed", "graduated", "enrolled_postsecondary", "persisted")
    # A student-year's own figures, joined to the ~200k student-years once rather than to
    # the ~1M study rows one table at a time (every study row is a student-year of
    # `people`, so the rows get the same values).
    own = (
        people.lazy()
        .select("school_year", "student_id", *flags)
        .join(
            prior_proficiency(tables.test_scores, years).lazy(),
            on=["school_year", "student_id"],
            how="left",
        )
        .join(yes_no.lazy(), on=["school_year", "student_id"], how="left")
        .join(later.lazy(), on="student_id", how="left")
        .with_columns(pl.col(c).fill_null(False) for c in stages)
        .with_columns(
            pl.col(f)
            .replace_strict({"Y": 1.0, "N": 0.0}, default=None, return_dtype=pl.Float64)
            .alias(f"_{f}")
            for f in flags
        )
        .drop(flags)
        .collect()
    )
    frame = (
        with_core_fails(with_absence(rows, series, settings), tables.course_marks, as_of, settings)
        .lazy()
        .join(own.lazy(), on=["school_year", "student_id"], how="left")
        .join(
            served.lazy().select(*PROGRAM_KEYS, "student_id", "sessions", "hours"),
            on=[*PROGRAM_KEYS, "student_id"],
            how="left",
        )
        # A fixed row order: every mean and SMD downstream adds its rows in this order,
        # so the same data gives the same figures to the last bit (joins on several
        # threads return their rows in no fixed order).
        .sort(by_student(rows, "pyid"))
        .collect()
    )
    figures = (
        people.lazy()
        .join(year_absence(series, settings).lazy(), on=["school_year", "student_id"], how="left")
        .join(
            year_core_fails(tables.course_marks, years, as_of, settings).lazy(),
            on=["school_year", "student_id"],
            how="left",
        )
        .join(
            own.lazy().drop("prior_proficiency", *(f"_{f}" for f in flags)),
            on=["school_year", "student_id"],
            how="left",
        )
        .sort(by_student(people, "school_year"))
        .collect()
    )
    program_grades = (
        rows.filter(pl.col("served"))
        .select("pyid", *PROGRAM_KEYS, "grade_level")
        .unique()
        .drop("org_id")
    )
    unserved = unserved_sums(
        figures,
        blocked(services, years, as_of).collect(),
        program_grades,
        as_of,
        settings,
    )
    return frame, series, unserved


#: The tables of a student's own figures, which `_students_only` narrows.
PER_STUDENT_TABLES: Final = ("attendance", "course_marks", "test_scores", "fafsa", "outcomes")


def _students_only(tables: RawTables, students: pl.Series) -> RawTables:
    """`tables` with the rows of `students` only in `PER_STUDENT_TABLES`."""
    wanted = pl.col("student_id").is_in(students.implode())
    return assembled(
        {
            field.name: getattr(tables, field.name).filter(wanted)
            if field.name in PER_STUDENT_TABLES
            else getattr(tables, field.name)
            for field in fields(RawTables)
        }
    )


def _studied_years(services: pl.DataFrame, as_of: date, settings: Settings) -> list[int]:
    """The school years of the served students (the only years the method reads)."""
    served = served_students(services, as_of, settings)
    return sorted(served["school_year"].unique().to_list())


def studied_years(services: pl.DataFrame, as_of: date, settings: Settings) -> list[int]:
    """The school years the method studies as of `as_of` (those with a served student):
    `services` as `program_outcomes` takes it."""
    return _studied_years(method_services(services), as_of, settings)


def _empty(schema: dict[str, pl.DataType] | dict[str, type[pl.DataType]]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _matched(
    tables: RawTables,
    services: pl.DataFrame,
    as_of: date,
    settings: Settings,
    measures: Collection[str] = OUTCOME_MEASURES,
    years: Collection[int] | None = None,
) -> tuple[pl.DataFrame, ...] | None:
    """(served, programs, sample, the overall matched rows (every group is matched again
    from them: `indicators.outcomes_results.group_moments`), attendance series, the
    unserved side of the naive comparison) of `measures` in the school years `years`
    (every studied year when None), students as the codes of
    `indicators.outcomes_keys` (the caller decodes). Each program-year and measure is
    matched on its own, so the rows of a measure, or of a year, are the same whichever
    other measures or years are asked for."""
    services = method_services(services)
    studied = _studied_years(services, as_of, settings)
    if years is not None:
        studied = [y for y in studied if y in years]
    tables, services = coded(tables, services, student_codes(tables), studied)
    served = served_students(services, as_of, settings).filter(pl.col("school_year").is_in(studied))
    if served.height == 0:
        return None
    seniors_only = set(measures) <= SENIOR_MEASURES
    grades = (TWELFTH_GRADE,) if seniors_only else None
    rows, series, unserved = _study(tables, services, served, as_of, settings, grades)
    programs = rows.select("pyid", *PROGRAM_KEYS).unique().sort("pyid")
    sample = measure_sample(rows, as_of, settings, measures)
    # Only the columns the matching and the results read (a narrower copy of ~2M rows).
    wanted = [c for c in (*MATCHED_COLUMNS, "draw", CELL_CODE) if c in sample.columns]
    strata = (
        sample.lazy()
        .filter(pl.col("valid"))
        .select(list(dict.fromkeys(wanted)))
        .with_columns(
            *coarsened(settings),
            # One integer per program-year and measure, the key of the matching.
            (
                pl.col("pyid") * len(OUTCOME_MEASURES)
                + pl.col("measure").cast(pl.Enum(OUTCOME_MEASURES)).to_physical()
            ).alias("_program_measure"),
        )
        .collect()
    )
    matched = cem_weights(strata, "_program_measure", settings.outcomes_max_comparisons)
    matched = matched.select(c for c in MATCHED_COLUMNS if c in matched.columns)
    return served, programs, sample, matched, series, unserved


def outcome_sample(
    tables: RawTables, services: pl.DataFrame, as_of: date, settings: Settings
) -> pl.DataFrame:
    """The students the matching starts from: one row per program-year, measure and
    student with the measure known (served or pool): school_year, org_id, service_type,
    measure, student_id, served, before, after, the baseline covariates, the exact cell,
    the coarsened bins and `draw` (the seeded order). For the benchmark's independent
    reference; never shown."""
    services = method_services(services)
    ids = student_codes(tables)
    tables, services = coded(tables, services, ids, _studied_years(services, as_of, settings))
    served = served_students(services, as_of, settings)
    if served.height == 0:
        return pl.DataFrame()
    rows, _, _ = _study(tables, services, served, as_of, settings)
    return decoded(
        measure_sample(rows, as_of, settings)
        .filter(pl.col("valid"))
        .join(rows.select("pyid", *PROGRAM_KEYS).unique(), on=["pyid", "school_year"])
        .with_columns(coarsened(settings))
        .select(
            *PROGRAM_KEYS,
            "measure",
            "student_id",
            "served",
            "before",
            "after",
            *COVARIATES,
            *STRATUM,
            "draw",
        )
        .sort(*PROGRAM_KEYS, "measure", "student_id"),
        ids,
    )


def matched_students(
    tables: RawTables, services: pl.DataFrame, as_of: date, settings: Settings
) -> pl.DataFrame:
    """The matched students behind the `all` estimates, one row per program-year, measure
    and student: school_year, org_id, service_type, measure, student_id, served, weight
    (CEM), before, after and the baseline covariates. For tests and the benchmark's
    independent reference; never shown (it names comparison students)."""
    found = _matched(tables, services, as_of, settings)
    columns = ["measure", "student_id", "served", "weight", "before", "after", *COVARIATES]
    if found is None:
        return pl.DataFrame(schema={**{k: ESTIMATE_SCHEMA[k] for k in PROGRAM_KEYS}})
    _, programs, _, matched, _, _ = found
    return decoded(
        matched.join(programs, on="pyid")
        .select(*PROGRAM_KEYS, *columns)
        .sort(*PROGRAM_KEYS, "measure", "served", "student_id"),
        student_codes(tables),
    )


def measure_estimates(
    tables: RawTables,
    services: pl.DataFrame,
    as_of: date,
    settings: Settings,
    measures: Collection[str],
    *,
    years: Collection[int] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(estimates, balance) of `measures` only (of the school years `years` only, when
    given): the rows `program_outcomes` gives for them, to the last bit. When they are
    all grade-12 measures (`SENIOR_MEASURES`), only the grade-12 study rows are built,
    about a third of the work: the refresh recomputes these alone when only the FAFSA
    statuses or the college outcomes changed (their matched students do not depend on
    either: data_access/derived.py)."""
    found = _matched(tables, services, as_of, settings, measures, years)
    if found is None:
        return _empty(ESTIMATE_SCHEMA), _empty(BALANCE_SCHEMA)
    _, programs, sample, matched, _, unserved = found
    moments = group_moments(matched)
    return (
        estimates(sample, unserved, matched, moments, programs, settings),
        balance(sample, moments, programs),
    )


def program_outcomes(
    tables: RawTables,
    services: pl.DataFrame,
    as_of: date,
    settings: Settings,
    *,
    years: Collection[int] | None = None,
) -> ProgramOutcomes:
    """Every program-year's outcome estimates as of `as_of` (see the module docstring and
    docs/outcomes.md), or those of the school years `years` only: the same rows, to the
    last bit, as the whole computation gives for those years. `services` holds
    student_id, org_id, service_type, start_date, end_date and optionally sessions and
    hours."""
    found = _matched(tables, services, as_of, settings, years=years)
    if found is None:
        return ProgramOutcomes(
            _empty(ESTIMATE_SCHEMA),
            _empty(BALANCE_SCHEMA),
            _empty(TRAJECTORY_SCHEMA),
            _empty(SERVED_SCHEMA),
        )
    served, programs, sample, matched, series, unserved = found
    moments = group_moments(matched)
    return ProgramOutcomes(
        estimates=estimates(sample, unserved, matched, moments, programs, settings),
        balance=balance(sample, moments, programs),
        trajectory=trajectory(matched, series, programs),
        served_students=decoded(served_list(served, matched, programs), student_codes(tables)),
    )
