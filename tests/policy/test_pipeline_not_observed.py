"""College stages of a class without college data are "not observed" (issue 15, part 1):
never searched is not "not enrolled". On SQLite and PostgreSQL, for a leader (exact) and
a viewer (protected), on the page's reads and in `pathwise export pipeline`.

The world is the small world of tests/worlds.py plus three graduated classes of 24
(refreshed on 2026-11-30, when every stage of the three is observable by date; half of
each class at each school, all graduated on June 10 of their year, 20 completed the FAFSA):

| class | college data |
|---|---|
| 2023 | none: never searched, no college value in `outcomes` |
| 2024 | every student searched by the Clearinghouse, no record found (`nsc_search`, `record_found` N), no college value in `outcomes` |
| 2025 | a district's own `outcomes.csv`: 12 enrolled (Y, 11 of them a second year), 3 not (N), 9 left blank |
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, insert

from cli.main import EXIT_OK, main
from data_access import aggregates
from data_access.derived import refresh_derived
from data_access.identity import sign_in
from data_access.models import Enrollment, Fafsa, NscSearch, Outcome, Student, table_of
from domain.vocabulary import COLLEGE_STAGES, PIPELINE_STAGES
from indicators.diagnostics import NOT_OBSERVED as TIMING_NOT_OBSERVED
from indicators.observable import NOT_OBSERVED, NOT_YET
from tests.worlds import build_small_world

NOV_30 = date(2026, 11, 30)
CLASS_SIZE = 24
FAFSA_COMPLETED = 20
#: Class of 2025: whose `outcomes.csv` row says what (None: the college columns blank).
ENROLLED_2025 = 12
PERSISTED_2025 = 11
NOT_ENROLLED_2025 = 3
EARLIER = ["entered_grade_9", "reached_grade_12", "graduated", "fafsa_completed"]


def _ids(cohort: int) -> list[str]:
    return [f"C{cohort}-{n:02d}" for n in range(1, CLASS_SIZE + 1)]


def _college_2025(n: int) -> dict[str, Any]:
    """The college columns of the n-th student (0-based) of the class of 2025."""
    if n < ENROLLED_2025:
        return {"postsecondary_enrolled": True, "postsecondary_start_date": date(2025, 8, 25),
                "institution_level": "4yr", "persisted_second_year": n < PERSISTED_2025}  # fmt: skip
    if n < ENROLLED_2025 + NOT_ENROLLED_2025:
        return {"postsecondary_enrolled": False}
    return {}


def add_three_graduated_classes(engine: Engine) -> None:
    students, enrollments, fafsa, outcomes, searches = [], [], [], [], []
    for cohort in (2023, 2024, 2025):
        for n, sid in enumerate(_ids(cohort)):
            school = "HS1" if n % 2 else "HS2"
            students.append(
                {"student_id": sid, "first_name": sid, "last_name": "Graduate", "school_id": school,
                 "grade_level": 12, "cohort_year": cohort, "gender": "F" if n % 3 else "M",
                 "race_ethnicity": "hispanic"}
            )  # fmt: skip
            enrollments += [
                {"student_id": sid, "school_id": school, "school_year": year, "grade_level": grade,
                 "entry_date": date(year - 1, 8, 27), "exit_date": None, "exit_code": None}
                for year, grade in ((cohort - 3, 9), (cohort, 12))
            ]  # fmt: skip
            if n < FAFSA_COMPLETED:
                fafsa.append({"student_id": sid, "award_year": cohort, "status": "completed",
                              "status_date": date(cohort, 2, 1)})  # fmt: skip
            college = _college_2025(n) if cohort == 2025 else {}
            outcomes.append(
                {"student_id": sid, "graduated": True, "graduation_date": date(cohort, 6, 10),
                 "postsecondary_enrolled": None, "postsecondary_start_date": None,
                 "institution_level": None, "persisted_second_year": None, **college}
            )  # fmt: skip
            if cohort == 2024:
                searches.append({"student_id": sid, "record_found": False,
                                 "high_school_grad_date": date(cohort, 6, 10)})  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(table_of(Student)), students)
        connection.execute(insert(table_of(Enrollment)), enrollments)
        connection.execute(insert(table_of(Fafsa)), fafsa)
        connection.execute(insert(table_of(Outcome)), outcomes)
        connection.execute(insert(table_of(NscSearch)), searches)


@pytest.fixture
def district(engine: Engine) -> Engine:
    build_small_world(engine)
    add_three_graduated_classes(engine)
    refresh_derived(engine, as_of=NOV_30)
    return engine


def funnel(engine: Engine, email: str, cohort: int, by: str | None = None) -> pl.DataFrame:
    return aggregates.pipeline(engine, sign_in(engine, email, NOV_30), cohort, by).rows


def displays(rows: pl.DataFrame) -> dict[str, str]:
    return dict(rows.select("stage", "display").iter_rows())


def test_a_class_never_searched_shows_its_college_stages_not_observed_in_both_views(
    district: Engine,
) -> None:
    for email in ("leader@d.org", "viewer@city.org"):
        rows = funnel(district, email, 2023)
        assert rows["stage"].to_list() == list(PIPELINE_STAGES)
        college = rows.filter(pl.col("stage").is_in(COLLEGE_STAGES))
        assert college["display"].to_list() == [NOT_OBSERVED] * 2, email
        assert college["shown"].null_count() == college["share"].null_count() == 2
        earlier = rows.filter(pl.col("stage").is_in(EARLIER))
        assert NOT_OBSERVED not in earlier["display"] and NOT_YET not in earlier["display"]
    assert displays(funnel(district, "leader@d.org", 2023))["fafsa_completed"] == str(
        FAFSA_COMPLETED
    )


def test_every_grouping_of_a_class_never_searched_reads_not_observed(district: Engine) -> None:
    for email in ("leader@d.org", "viewer@city.org"):
        for by in ("school_id", "gender", "on_track_9", "prior_achievement"):
            rows = funnel(district, email, 2023, by).filter(pl.col("stage").is_in(COLLEGE_STAGES))
            assert rows.height and set(rows["display"]) == {NOT_OBSERVED}, (email, by)


def test_a_class_searched_with_no_record_found_shows_zero_enrolled_protected_as_a_small_count(
    district: Engine,
) -> None:
    exact = displays(funnel(district, "leader@d.org", 2024))
    protected = displays(funnel(district, "viewer@city.org", 2024))
    assert (exact["enrolled_postsecondary"], exact["persisted"]) == ("0", "0")
    # Rule 1: a count under 10, zero included, is `<10`; never "not observed".
    assert (protected["enrolled_postsecondary"], protected["persisted"]) == ("<10", "<10")


def test_a_class_with_its_own_outcomes_file_is_counted_as_before(district: Engine) -> None:
    exact = funnel(district, "leader@d.org", 2025)
    counts = dict(exact.select("stage", "shown").iter_rows())
    # Blank college columns of a class with college data count as not enrolled, as always.
    assert counts == {
        "entered_grade_9": CLASS_SIZE,
        "reached_grade_12": CLASS_SIZE,
        "graduated": CLASS_SIZE,
        # Nested: the enrolled students who also completed the FAFSA (the first 12 of 20).
        "fafsa_completed": FAFSA_COMPLETED,
        "enrolled_postsecondary": ENROLLED_2025,
        "persisted": PERSISTED_2025,
    }
    protected = displays(funnel(district, "viewer@city.org", 2025))
    for stage, display in protected.items():  # the small-cell rules, over every stage
        assert display in (str(counts[stage]), "<10", "*"), (stage, display)


def test_the_trend_leaves_out_the_college_stages_of_a_class_without_data(
    district: Engine,
) -> None:
    for email in ("leader@d.org", "viewer@city.org"):
        trend = aggregates.pipeline_trend(district, sign_in(district, email, NOV_30))
        marked = {
            (r["cohort"], r["stage"])
            for r in trend.filter(pl.col("display") == NOT_OBSERVED).iter_rows(named=True)
        }
        assert marked == {(2023, s) for s in COLLEGE_STAGES}, email
        assert trend.filter(pl.col("display") == NOT_OBSERVED)["share"].null_count() == 2


def test_the_seamless_or_delayed_split_of_a_class_without_data_is_one_not_observed_group(
    district: Engine,
) -> None:
    for email in ("leader@d.org", "viewer@city.org"):
        unsearched = funnel(district, email, 2023, "college_timing")
        assert unsearched["group"].to_list() == [TIMING_NOT_OBSERVED], email
        searched = funnel(district, email, 2024, "college_timing")
        assert TIMING_NOT_OBSERVED not in searched["group"].to_list()
        assert "not_enrolled" in searched["group"].to_list()


def test_the_date_rule_comes_first_for_a_class_still_in_school(district: Engine) -> None:
    # The small world's class of 2027 has no college data either: it is "not yet".
    for email in ("leader@d.org", "viewer@city.org"):
        college = funnel(district, email, 2027).filter(pl.col("stage").is_in(COLLEGE_STAGES))
        assert set(college["display"]) == {NOT_YET}, email


def export(capsys: pytest.CaptureFixture[str], email: str, cohort: int) -> list[dict[str, str]]:
    code = main(
        ["export", "pipeline", "--as", email, "--cohort", str(cohort), "--as-of", "2026-11-30",
         "--by", "school_id"]
    )  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == EXIT_OK
    return list(csv.DictReader(io.StringIO(out)))


def test_export_pipeline_writes_not_observed_with_an_empty_share_for_both_views(
    district: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATHWISE_DATABASE_URL", district.url.render_as_string(hide_password=False))
    for email in ("leader@d.org", "viewer@city.org"):
        rows = export(capsys, email, 2023)
        college = [r for r in rows if r["stage"] in COLLEGE_STAGES]
        assert college and all(r["count"] == NOT_OBSERVED and r["share"] == "" for r in college)
        assert all(r["count"] != NOT_OBSERVED for r in rows if r["stage"] not in COLLEGE_STAGES)
        searched = export(capsys, email, 2024)
        assert all(r["count"] != NOT_OBSERVED for r in searched)
