"""The refresh computes program outcomes again only where what they read changed
(indicators/outcomes_incremental.py), and what it stores then is what a full computation
stores: on a small demo district, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from sqlalchemy import Engine, text

from data_access.bulk import read_table
from data_access.demo_build import build_demo
from data_access.derived import OUTCOME_INPUTS_KEY, OUTCOME_TABLES, refresh_derived, write_outcomes
from data_access.meta import read_meta
from demo_district.generate import DemoSpec
from indicators.outcomes_incremental import EVERY_MEASURE, MEASURE_SOURCES
from indicators.outcomes_schema import ESTIMATE_KEYS, MEASURES

AS_OF = date(2026, 12, 1)
#: Large enough for grade-12 programs with estimates of their own (not only "too few").
SPEC = DemoSpec(students=1500, seed=11, today=AS_OF)
#: What identifies a row of each outcome table (they are compared sorted by it).
PROGRAM_YEAR = ["school_year", "org_id", "service_type"]
KEYS = {
    "estimates": list(ESTIMATE_KEYS),
    "estimates_public": list(ESTIMATE_KEYS),
    "balance": [*PROGRAM_YEAR, "measure", "covariate"],
    "trajectory": [*PROGRAM_YEAR, "group", "month_offset"],
    "trajectory_public": [*PROGRAM_YEAR, "group", "month_offset"],
    "served_students": [*PROGRAM_YEAR, "student_id"],
}


def stored(engine: Engine) -> dict[str, pl.DataFrame]:
    """The six outcome tables, each sorted by its keys (PostgreSQL returns no fixed order)."""
    found = {}
    for name, table in OUTCOME_TABLES.items():
        frame = read_table(engine, table)
        found[name] = frame.drop([c for c in frame.columns if c == "id"]).sort(KEYS[name])
    return found


def assert_same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    for name in OUTCOME_TABLES:
        assert left[name].equals(right[name]), name


def measure_rows(frames: dict[str, pl.DataFrame], measures: frozenset[str]) -> pl.DataFrame:
    return frames["estimates"].filter(pl.col("measure").is_in(list(measures)))


@pytest.fixture
def demo(engine: Engine) -> Engine:
    """The demo district, refreshed once from the database (the build's own refresh reads
    the frames it wrote from memory)."""
    build_demo(engine, SPEC)
    refresh_derived(engine, as_of=AS_OF)
    return engine


def flip_college_outcomes(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE outcome SET postsecondary_enrolled = NOT postsecondary_enrolled, "
                "persisted_second_year = NOT persisted_second_year "
                "WHERE postsecondary_enrolled IS NOT NULL AND student_id LIKE :ending"
            ),
            {"ending": "%1"},
        )


def complete_every_fafsa(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE fafsa SET status = 'completed' WHERE status <> 'completed'"
        )


def test_a_refresh_keeps_or_recomputes_only_changed_measures_to_the_figures_of_a_full_one(
    demo: Engine,
) -> None:
    """One demo district, three changes in turn (one build: building is most of the time)."""
    before = stored(demo)
    assert before["estimates"].height > 0
    # Nothing changed: kept, and the progress line says so.
    steps: list[str] = []
    summary = refresh_derived(
        demo, as_of=AS_OF, progress=lambda _d, _t, message: steps.append(message)
    )
    assert summary.outcome_measures == frozenset()
    assert "program outcomes: nothing they read changed, kept" in steps
    assert_same(stored(demo), before)

    for change, source in ((flip_college_outcomes, "outcomes"), (complete_every_fafsa, "fafsa")):
        measures = MEASURE_SOURCES[source]
        before = stored(demo)
        change(demo)
        assert refresh_derived(demo, as_of=AS_OF).outcome_measures == measures
        partly = stored(demo)
        # The change reached the figures (not two unchanged tables compared), and only
        # those of its measures.
        assert not measure_rows(partly, measures).equals(measure_rows(before, measures)), source
        others = frozenset(MEASURES) - measures
        assert measure_rows(partly, others).equals(measure_rows(before, others)), source
        whole = refresh_derived(demo, as_of=AS_OF, recompute_outcomes=True)
        assert whole.outcome_measures == EVERY_MEASURE
        assert_same(stored(demo), partly)


def test_a_fafsa_import_on_a_new_day_computes_the_current_year_and_fafsa_elsewhere(
    demo: Engine,
) -> None:
    """The first refresh of a day in FAFSA season: the new day moves the current year, the
    state's file moves `fafsa_completed`. The current year is computed whole and the
    complete year's `fafsa_completed` alone; the stored figures are a full computation's."""
    before = stored(demo)
    complete_every_fafsa(demo)
    later = date(2026, 12, 2)
    steps: list[str] = []
    summary = refresh_derived(
        demo, as_of=later, progress=lambda _d, _t, message: steps.append(message)
    )
    fafsa = MEASURE_SOURCES["fafsa"]
    assert (summary.outcome_years, summary.outcome_elsewhere) == ({2027}, fafsa)
    said = "computing program outcomes again for 2026-27, and fafsa_completed for the other"
    assert f"{said} school years" in steps
    partly = years_rows(stored(demo), {2026})
    last_year = years_rows(before, {2026})
    assert not measure_rows(partly, fafsa).equals(measure_rows(last_year, fafsa))
    others = frozenset(MEASURES) - fafsa
    assert measure_rows(partly, others).equals(measure_rows(last_year, others))
    for name in ("trajectory", "trajectory_public", "served_students"):
        assert partly[name].equals(last_year[name]), name
    nightly = stored(demo)
    assert refresh_derived(demo, as_of=later, recompute_outcomes=True).outcome_years is None
    assert_same(stored(demo), nightly)


def add_snapshot(engine: Engine, school_year: int, day: date) -> None:
    """A new attendance snapshot of `school_year` on `day` for every student with one: a
    week more enrolled, a day more absent for one student in ten."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO attendance (student_id, school_id, school_year, as_of_date, "
                "days_enrolled, days_absent) SELECT a.student_id, a.school_id, a.school_year, "
                ":day, a.days_enrolled + 5, a.days_absent + CASE WHEN a.student_id LIKE :ending "
                "THEN 1 ELSE 0 END FROM attendance a WHERE a.school_year = :year AND "
                "a.as_of_date = (SELECT MAX(b.as_of_date) FROM attendance b "
                "WHERE b.student_id = a.student_id AND b.school_year = a.school_year)"
            ),
            {"day": day, "year": school_year, "ending": "%7"},
        )


def years_rows(frames: dict[str, pl.DataFrame], years: set[int]) -> dict[str, pl.DataFrame]:
    return {n: f.filter(pl.col("school_year").is_in(sorted(years))) for n, f in frames.items()}


def test_a_new_day_or_one_years_rows_compute_that_year_alone_to_the_figures_of_a_full_one(
    demo: Engine,
) -> None:
    """The nightly refresh: a new day and the current year's attendance compute the
    current year again and keep the last complete one; a change in last year's rows
    computes last year (and, for its course marks, the year after, whose baseline they
    are). Each time the stored figures are those of a full computation."""
    winter = date(2027, 1, 15)  # the current year's services have run 30 days by now
    steps: list[str] = []
    summary = refresh_derived(
        demo, as_of=winter, progress=lambda _d, _t, message: steps.append(message)
    )
    assert summary.outcome_years == {2027}
    assert "computing program outcomes again for 2026-27" in steps
    kept = stored(demo)
    assert set(kept["estimates"]["school_year"]) == {2026, 2027}

    def full_is(frames: dict[str, pl.DataFrame], day: date) -> None:
        assert refresh_derived(demo, as_of=day, recompute_outcomes=True).outcome_years is None
        assert_same(stored(demo), frames)

    full_is(kept, winter)

    later = date(2027, 1, 22)
    add_snapshot(demo, 2027, later)
    assert refresh_derived(demo, as_of=later).outcome_years == {2027}
    nightly = stored(demo)
    assert not years_rows(nightly, {2027})["estimates"].equals(
        years_rows(kept, {2027})["estimates"]
    )
    assert_same(years_rows(nightly, {2026}), years_rows(kept, {2026}))
    full_is(nightly, later)

    with demo.begin() as connection:
        connection.execute(
            text(
                "UPDATE attendance SET days_absent = days_absent + 3 "
                "WHERE school_year = 2026 AND student_id LIKE :ending"
            ),
            {"ending": "%3"},
        )
    assert refresh_derived(demo, as_of=later).outcome_years == {2026}
    full_is(stored(demo), later)

    with demo.begin() as connection:
        connection.execute(
            text(
                "UPDATE course_mark SET mark = 'F' "
                "WHERE school_year = 2026 AND student_id LIKE :ending"
            ),
            {"ending": "%2"},
        )
    assert refresh_derived(demo, as_of=later).outcome_years == {2026, 2027}
    full_is(stored(demo), later)
    assert refresh_derived(demo, as_of=later).outcome_years == frozenset()


def enrol_a_newcomer_and_load_this_years_tests(engine: Engine, year: int) -> None:
    """The nightly student file: a new student of `year` (a copy of the first enrolled
    one, under an id that sorts right after it, so every later student's code moves) with
    their enrollment and attendance, and this year's test results for one student in ten
    (copies of last year's)."""
    copy = "SELECT student_id || 'A' FROM enrollment WHERE school_year = :year"
    first = f"(SELECT MIN(student_id) FROM enrollment WHERE school_year = {year})"
    with engine.begin() as connection:
        for table, columns in (
            ("student", "first_name, last_name, school_id, grade_level, cohort_year, "
             "birth_date, gender, race_ethnicity, english_learner, disability, "
             "econ_disadvantaged"),
            ("enrollment", "school_year, school_id, grade_level, entry_date, exit_date, "
             "exit_code"),
            ("attendance", "school_year, school_id, as_of_date, days_enrolled, days_absent"),
        ):  # fmt: skip
            year_only = "" if table == "student" else f" AND school_year = {year}"
            connection.execute(
                text(
                    f"INSERT INTO {table} (student_id, {columns}) SELECT student_id || 'A', "
                    f"{columns} FROM {table} WHERE student_id = {first}{year_only}"
                )
            )
        assert connection.execute(text(copy), {"year": year}).first() is not None
        connection.execute(
            text(
                "INSERT INTO test_score (student_id, test_name, subject, school_year, "
                "proficient, performance_level, scale_score, test_date) SELECT student_id, "
                "test_name, subject, :year, proficient, performance_level, scale_score, NULL "
                "FROM test_score WHERE school_year = :year - 1 AND student_id LIKE '%5'"
            ),
            {"year": year},
        )


def test_new_enrollees_and_this_years_tests_compute_the_current_year_alone(
    demo: Engine,
) -> None:
    """The nightly import of the student information system brings new students and,
    in spring, this year's test results: neither is read by a complete year's figures
    (its students are enrolled in it; its prior proficiency is of the years before), so
    those are kept, and the stored figures are a full computation's."""
    winter = date(2027, 1, 15)
    refresh_derived(demo, as_of=winter)
    kept = stored(demo)
    enrol_a_newcomer_and_load_this_years_tests(demo, 2027)
    assert refresh_derived(demo, as_of=winter).outcome_years == {2027}
    assert_same(years_rows(stored(demo), {2026}), years_rows(kept, {2026}))
    nightly = stored(demo)
    assert refresh_derived(demo, as_of=winter, recompute_outcomes=True).outcome_years is None
    assert_same(stored(demo), nightly)


def test_a_changed_student_or_tables_written_outside_a_refresh_recompute_their_years(
    demo: Engine,
) -> None:
    """A changed student recomputes every year they are enrolled in; whoever else writes
    the outcome tables (a repair, a test) drops the fingerprint, so the next refresh cannot
    keep figures it did not compute."""
    from data_access.derived import StoredOutcomes

    with demo.begin() as connection:
        years = connection.execute(
            text(
                "SELECT DISTINCT school_year FROM enrollment WHERE student_id = "
                "(SELECT MIN(student_id) FROM student)"
            )
        ).scalars()
        enrolled = set(years) & {2026, 2027}
        connection.exec_driver_sql(
            "UPDATE student SET gender = 'X' WHERE student_id = (SELECT MIN(student_id) "
            "FROM student)"
        )
    assert enrolled
    summary = refresh_derived(demo, as_of=AS_OF)
    assert summary.outcome_measures == EVERY_MEASURE and summary.outcome_years == enrolled
    later = date(2026, 12, 2)
    # A new day: the current year (not settled) again, the complete one kept.
    assert refresh_derived(demo, as_of=later).outcome_years == {2027}

    emptied = StoredOutcomes(**{name: frame.clear() for name, frame in stored(demo).items()})
    with demo.begin() as connection:
        write_outcomes(connection, emptied)
    assert OUTCOME_INPUTS_KEY not in read_meta(demo)
    assert refresh_derived(demo, as_of=later).outcome_years is None
    assert stored(demo)["estimates"].height > 0
