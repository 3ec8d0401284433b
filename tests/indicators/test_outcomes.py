"""Program outcomes (docs/outcomes.md): exposure, windows, matching and the frames' shape,
on small worlds written out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import polars as pl
import pytest

from indicators.outcomes import (
    BALANCE_SCHEMA,
    ESTIMATE_SCHEMA,
    SERVED_SCHEMA,
    TRAJECTORY_SCHEMA,
    matched_students,
    program_outcomes,
)
from indicators.outcomes_exposure import served_students, study_rows
from indicators.outcomes_matching import balance_band
from indicators.settings import Settings
from tests.indicators.builders import enrollment, snapshot, student, tables

AS_OF = date(2026, 6, 15)
SNAPSHOTS = [date(2025, 10, 31), date(2025, 12, 19), date(2026, 3, 31), date(2026, 5, 29)]


def service(
    sid: str,
    start: date,
    end: date | None = None,
    org: str = "ORG1",
    kind: str = "attendance",
    **dose: Any,
) -> dict[str, Any]:
    return {
        "student_id": sid,
        "org_id": org,
        "service_type": kind,
        "start_date": start,
        "end_date": end,
        "sessions": dose.get("sessions"),
        "hours": dose.get("hours"),
    }


def services(*rows: dict[str, Any]) -> pl.DataFrame:
    schema = {
        "student_id": pl.String,
        "org_id": pl.String,
        "service_type": pl.String,
        "start_date": pl.Date,
        "end_date": pl.Date,
        "sessions": pl.Int64,
        "hours": pl.Float64,
    }
    return pl.DataFrame(list(rows), schema=schema)


def district(ids: list[str], absences: dict[str, list[int]] | None = None, **kw: Any) -> Any:
    """Grade-9 students of one school, enrolled all year, with cumulative snapshots of
    `absences` (days absent at each of SNAPSHOTS; 2 a snapshot by default)."""
    absences = absences or {}
    days = [45, 80, 140, 180]
    return tables(
        students=[student(s, cohort=2029, grade=9) for s in ids],
        enrollments=[enrollment(s, grade=9, year=2026) for s in ids],
        attendance=[
            snapshot(s, enrolled, absent, on=day, year=2026)
            for s in ids
            for day, enrolled, absent in zip(
                SNAPSHOTS, days, absences.get(s, [2, 4, 6, 8]), strict=True
            )
        ],
        **kw,
    )


def test_a_service_counts_from_thirty_days_covered_counting_both_ends() -> None:
    rows = services(
        service("A", date(2026, 1, 1), date(2026, 1, 30)),  # 30 days
        service("B", date(2026, 1, 1), date(2026, 1, 29)),  # 29 days
        service("C", date(2026, 6, 1)),  # open, 15 days by the as-of date
    )
    served = served_students(rows, AS_OF, Settings())
    assert served["student_id"].to_list() == ["A"]
    assert served.row(0, named=True)["follow_end"] == date(2026, 1, 30)


def test_the_start_is_the_earliest_qualifying_start_and_dose_is_summed() -> None:
    rows = services(
        service("A", date(2026, 2, 1), sessions=4, hours=3.0),
        service("A", date(2025, 10, 1), date(2025, 10, 10), sessions=1),  # 10 days: no
        service("A", date(2025, 11, 3), date(2026, 1, 9), sessions=6, hours=None),
    )
    row = served_students(rows, AS_OF, Settings()).row(0, named=True)
    assert row["start_date"] == date(2025, 11, 3)
    assert row["follow_end"] == date(2026, 1, 9)
    assert (row["sessions"], row["hours"]) == (10, 3.0)


def test_a_service_started_last_year_leaves_the_student_out_of_both_groups() -> None:
    world = district(["A", "B", "C", "D"])
    rows = services(
        service("A", date(2025, 11, 3)),
        service("B", date(2025, 3, 1)),  # started in 2024-25 and still running
        service("C", date(2025, 11, 3), kind="mentoring"),  # another service type
        service("D", date(2025, 11, 3), date(2025, 11, 20)),  # too short, same type
    )
    served = served_students(rows, AS_OF, Settings())
    study = study_rows(world, rows, served, AS_OF, Settings())
    attendance = study.filter(pl.col("service_type") == "attendance")
    assert attendance.filter(pl.col("served"))["student_id"].to_list() == ["A"]
    # B (earlier year) and D (a row of the type that does not qualify) are neither; C,
    # served by a mentoring program only, is a comparison student for attendance.
    assert attendance.filter(~pl.col("served"))["student_id"].to_list() == ["C"]


def test_absence_windows_run_from_the_snapshot_before_the_start() -> None:
    # A starts Nov 3: baseline = first day .. Oct 31 (45 days, 8 absent);
    # follow-up = Oct 31 .. May 29 (135 days, 26 - 8 = 18 absent). B is in A's stratum.
    world = district(["A", "B"], {"A": [8, 12, 20, 26], "B": [7, 9, 12, 16]})
    rows = services(service("A", date(2025, 11, 3)))
    settings = replace(Settings(), outcomes_min_matched=1)
    matched = matched_students(world, rows, AS_OF, settings).filter(
        pl.col("measure") == "absence_rate"
    )
    a = matched.filter(pl.col("student_id") == "A").row(0, named=True)
    assert a["before"] == pytest.approx(8 / 45)
    assert a["after"] == pytest.approx(18 / 135)
    b = matched.filter(pl.col("student_id") == "B").row(0, named=True)
    assert b["before"] == pytest.approx(7 / 45)
    assert b["after"] == pytest.approx(9 / 135)  # B takes A's windows


def test_a_window_under_ten_days_enrolled_is_left_out_and_counted() -> None:
    # Served from Oct 1: the latest snapshot on or before it is none, so the baseline
    # has 0 days enrolled.
    world = district(["A", "B"])
    rows = services(service("A", date(2025, 10, 1)))
    estimates = program_outcomes(world, rows, AS_OF, Settings()).estimates
    row = estimates.filter(
        (pl.col("measure") == "absence_rate") & (pl.col("group_by") == "all")
    ).row(0, named=True)
    assert (row["served"], row["excluded"], row["matched"]) == (1, 1, 0)
    assert row["verdict"] == "too_few"
    assert row["effect"] is None


def test_core_fails_compare_the_term_before_the_start_with_the_terms_after() -> None:
    def mark(sid: str, year: int, term: str, subject: str, value: str) -> dict[str, Any]:
        course = f"{subject}-{term}"
        return {
            "student_id": sid,
            "school_year": year,
            "term": term,
            "course_id": course,
            "subject": subject,
            "mark": value,
            "final": True,
        }

    marks = [
        mark("A", 2025, "S2", "math", "F"),  # ended Jun 30, 2025: before a Nov start
        mark("A", 2025, "S2", "ela", "F"),
        mark("A", 2026, "S1", "math", "F"),  # ends Jan 31, 2026: after
        mark("A", 2026, "S1", "ela", "C"),
        mark("A", 2026, "S2", "math", "F"),  # ends Jun 30, 2026: after the as-of date
        mark("A", 2025, "S1", "math", "F"),  # not the latest term before the start
        mark("B", 2025, "S2", "math", "F"),
        mark("B", 2025, "S2", "science", "52"),
        mark("B", 2026, "S1", "math", "B"),
    ]
    world = district(["A", "B"], course_marks=marks)
    rows = services(service("A", date(2025, 11, 3)))
    matched = matched_students(world, rows, date(2026, 3, 1), Settings()).filter(
        pl.col("measure") == "core_fails"
    )
    by_student = {r["student_id"]: (r["before"], r["after"]) for r in matched.iter_rows(named=True)}
    assert by_student == {"A": (2.0, 1.0), "B": (2.0, 0.0)}


def test_a_served_student_without_comparison_students_in_their_stratum_is_unmatched() -> None:
    # A and B are alike; C has a far higher baseline absence and nobody like them.
    world = district(["A", "B", "C"], {"A": [2, 4, 6, 8], "B": [2, 4, 6, 8], "C": [20, 30, 40, 50]})
    rows = services(service("A", date(2025, 11, 3)), service("C", date(2025, 11, 3)))
    out = program_outcomes(world, rows, AS_OF, Settings())
    listed = {r["student_id"]: r["matched"] for r in out.served_students.iter_rows(named=True)}
    assert listed == {"A": True, "C": False}
    row = out.estimates.filter(
        (pl.col("measure") == "absence_rate") & (pl.col("group_by") == "all")
    ).row(0, named=True)
    assert (row["served"], row["matched"], row["comparison"]) == (2, 1, 1)


def test_the_same_seed_gives_the_same_result_and_the_seed_decides_the_windows() -> None:
    ids = [f"S{i}" for i in range(12)]
    world = district(ids)
    rows = services(
        service("S0", date(2025, 11, 3)),
        service("S1", date(2026, 1, 12)),
        service("S2", date(2026, 4, 1)),
    )
    settings = Settings()
    first = study_rows(world, rows, served_students(rows, AS_OF, settings), AS_OF, settings)
    again = study_rows(world, rows, served_students(rows, AS_OF, settings), AS_OF, settings)
    assert first.sort("pyid", "student_id").equals(again.sort("pyid", "student_id"))
    out = [program_outcomes(world, rows, AS_OF, settings) for _ in range(2)]
    assert out[0].estimates.equals(out[1].estimates)
    seeds = {
        tuple(
            study_rows(world, rows, served_students(rows, AS_OF, s), AS_OF, s)
            .sort("student_id")["start_date"]
            .cast(pl.String)
            .to_list()
        )
        for s in (replace(settings, outcomes_match_seed=seed) for seed in range(6))
    }
    assert len(seeds) > 1


def test_the_pool_keeps_at_most_pool_per_served_students_per_served_student_of_a_cell() -> None:
    ids = [f"S{i:02d}" for i in range(12)]
    world = district(ids)
    rows = services(service("S00", date(2025, 11, 3)))
    for per_served, kept in ((3, 3), (40, 11)):
        settings = Settings(outcomes_pool_per_served=per_served)
        study = study_rows(world, rows, served_students(rows, AS_OF, settings), AS_OF, settings)
        assert study.filter(~pl.col("served")).height == kept


def test_one_programs_data_does_not_move_another_programs_comparisons() -> None:
    ids = [f"S{i:02d}" for i in range(20)]
    world = district(ids)
    settings = Settings(outcomes_pool_per_served=3)
    other = service("S19", date(2026, 1, 12), org="ORG2", kind="tutoring")

    def org2_rows(*org1: dict[str, Any]) -> list[tuple[Any, ...]]:
        rows = services(*org1, other)
        study = study_rows(world, rows, served_students(rows, AS_OF, settings), AS_OF, settings)
        return study.filter(pl.col("org_id") == "ORG2").sort("student_id").rows()

    # ORG1's program sorts first: a change to it once reshuffled every later program.
    alone = org2_rows(service("S00", date(2025, 11, 3)))
    grown = org2_rows(service("S00", date(2025, 11, 3)), service("S01", date(2025, 12, 1)))
    assert alone == grown
    assert len(alone) == 4


def test_the_naive_comparison_takes_each_unserved_students_own_year_absence() -> None:
    # A is served from January: their follow-up runs from the December snapshot to May.
    # B and C are unserved: their own rate from the first day to the May snapshot counts
    # (8 and 9 days of 180), not a window borrowed from A. D has a tutoring row only, so
    # is unserved for an attendance program; E has a short attendance row: not unserved.
    absences = {"A": [2, 4, 20, 30], "B": [2, 4, 6, 8], "C": [1, 2, 3, 9], "D": [0, 0, 0, 0]}
    world = district(["A", "B", "C", "D", "E"], absences)
    rows = services(
        service("A", date(2026, 1, 12)),
        service("D", date(2025, 9, 1), kind="tutoring"),
        service("E", date(2026, 1, 12), date(2026, 1, 20)),
    )
    out = program_outcomes(world, rows, AS_OF, Settings())
    row = out.estimates.filter(
        (pl.col("measure") == "absence_rate")
        & (pl.col("group_by") == "all")
        & (pl.col("service_type") == "attendance")
    ).row(0, named=True)
    served_after = (30 - 4) / (180 - 80)
    unserved = [8 / 180, 9 / 180, 0 / 180]
    assert row["unserved"] == len(unserved)
    assert row["naive_effect"] == pytest.approx(100 * (served_after - sum(unserved) / 3))


@pytest.mark.parametrize(
    ("largest", "band"),
    [
        (0.0, "ok"),
        (0.05, "ok"),
        (0.0501, "adjusted"),
        (0.25, "adjusted"),
        (0.2501, "not_comparable"),
    ],
)
def test_the_balance_band_follows_the_wwc_thresholds(largest: float, band: str) -> None:
    value = pl.select(balance_band(pl.lit(largest))).item()
    assert value == band


def test_a_yes_no_measure_not_observable_yet_has_no_row() -> None:
    seniors = ["A", "B"]
    world = tables(
        students=[student(s, cohort=2026, grade=12) for s in seniors],
        enrollments=[enrollment(s, grade=12, year=2026) for s in seniors],
        fafsa=[{"student_id": "A", "award_year": 2026, "status": "completed"}],
    )
    rows = services(service("A", date(2025, 10, 1), kind="college_access"))
    before = program_outcomes(world, rows, date(2026, 6, 30), Settings()).estimates
    after = program_outcomes(world, rows, date(2026, 7, 1), Settings()).estimates
    assert "fafsa_completed" not in before["measure"].to_list()
    assert "graduated" not in after["measure"].to_list()  # observable from Sep 1
    row = after.filter((pl.col("measure") == "fafsa_completed") & (pl.col("group_by") == "all"))
    assert row.select("served", "matched", "served_after", "comparison_after").row(0) == (
        1,
        1,
        100.0,
        0.0,
    )


def test_fafsa_completion_applies_only_to_the_service_types_of_the_setting() -> None:
    seniors = ["A", "B"]
    world = tables(
        students=[student(s, cohort=2026, grade=12) for s in seniors],
        enrollments=[enrollment(s, grade=12, year=2026) for s in seniors],
    )
    rows = services(service("A", date(2025, 10, 1), kind="attendance"))
    measures = program_outcomes(world, rows, date(2026, 9, 1), Settings()).estimates["measure"]
    assert "fafsa_completed" not in measures.to_list()
    assert "graduated" in measures.to_list()


def test_no_services_give_four_empty_frames_of_the_contract() -> None:
    out = program_outcomes(district(["A"]), services(), AS_OF, Settings())
    for got, schema in (
        (out.estimates, ESTIMATE_SCHEMA),
        (out.balance, BALANCE_SCHEMA),
        (out.trajectory, TRAJECTORY_SCHEMA),
        (out.served_students, SERVED_SCHEMA),
    ):
        assert got.height == 0
        assert dict(got.schema) == schema


def test_every_grouping_has_rows_with_the_contract_columns() -> None:
    ids = [f"S{i}" for i in range(6)]
    world = district(ids)
    rows = services(service("S0", date(2025, 11, 3)), service("S1", date(2025, 11, 3)))
    estimates = program_outcomes(world, rows, AS_OF, Settings()).estimates
    assert dict(estimates.schema) == ESTIMATE_SCHEMA
    groupings = estimates.filter(pl.col("measure") == "absence_rate")["group_by"].unique()
    assert sorted(groupings.to_list()) == sorted(
        [
            "all",
            "school_id",
            "race_ethnicity",
            "gender",
            "english_learner",
            "disability",
            "econ_disadvantaged",
        ]
    )
    assert estimates.equals(estimates.sort(list(ESTIMATE_SCHEMA)[:6]))


def test_repeated_runs_give_the_same_frames_to_the_last_bit() -> None:
    # Joins on several threads return rows in no fixed order; the study rows are sorted
    # before any sum, so every mean and SMD adds its rows in one order.
    ids = [f"S{i}" for i in range(12)]
    world = district(ids)
    rows = services(
        service("S0", date(2025, 11, 3)),
        service("S1", date(2026, 1, 12)),
        service("S2", date(2026, 4, 1)),
    )
    first = program_outcomes(world, rows, AS_OF, Settings())
    for _ in range(20):
        again = program_outcomes(world, rows, AS_OF, Settings())
        for name in ("estimates", "balance", "trajectory", "served_students"):
            assert getattr(again, name).equals(getattr(first, name)), name
