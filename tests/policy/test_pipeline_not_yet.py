"""Stages not observed yet (issue 12, part 1): as of 2026-11-30 the class of 2027 (today's
seniors) has entered grade 9 and reached grade 12, and nothing later has happened yet.
A leader (exact) and a viewer (protected) both read "not_yet" for the later stages, on
the page's reads and in `pathwise export pipeline`, on SQLite and PostgreSQL.

The world is the small world of tests/worlds.py plus 24 seniors of the class of 2027
(K01-K24, half at each school) who were in grade 9 in school year 2024; 12 of them have
already completed the FAFSA (Nov 2026), and none has graduated (as of November, nobody
has).
"""

from __future__ import annotations

import csv
import io
from datetime import date

import polars as pl
import pytest
from sqlalchemy import Engine, insert

from cli.main import EXIT_OK, main
from data_access import aggregates
from data_access.derived import refresh_derived
from data_access.identity import sign_in
from data_access.models import Enrollment, Fafsa, Student, table_of
from domain.vocabulary import PIPELINE_STAGES
from indicators.observable import NOT_YET
from tests.worlds import build_small_world

NOV_30 = date(2026, 11, 30)
SENIORS = [f"K{n:02d}" for n in range(1, 25)]
LATER = ["graduated", "fafsa_completed", "enrolled_postsecondary", "persisted"]


def add_the_class_of_2027(engine: Engine) -> None:
    students = [
        {"student_id": sid, "first_name": sid, "last_name": "Senior",
         "school_id": "HS1" if n % 2 else "HS2", "grade_level": 12, "cohort_year": 2027,
         "gender": "F" if n % 3 else "M", "race_ethnicity": "hispanic"}
        for n, sid in enumerate(SENIORS)
    ]  # fmt: skip
    enrollments = [
        {"student_id": s["student_id"], "school_id": s["school_id"], "school_year": year,
         "grade_level": grade, "entry_date": date(year - 1, 8, 27), "exit_date": None,
         "exit_code": None}
        for s in students
        for year, grade in ((2024, 9), (2027, 12))
    ]  # fmt: skip
    fafsa = [
        {"student_id": sid, "award_year": 2027, "status": "completed",
         "status_date": date(2026, 11, 15)}
        for sid in SENIORS[:12]
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(table_of(Student)), students)
        connection.execute(insert(table_of(Enrollment)), enrollments)
        connection.execute(insert(table_of(Fafsa)), fafsa)


@pytest.fixture
def district(engine: Engine) -> Engine:
    build_small_world(engine)
    add_the_class_of_2027(engine)
    refresh_derived(engine, as_of=NOV_30)
    return engine


def funnel(engine: Engine, email: str, today: date, by: str | None = None) -> pl.DataFrame:
    principal = sign_in(engine, email, today)
    return aggregates.pipeline(engine, principal, 2027, by).rows


def test_leader_and_viewer_both_read_not_yet_for_the_class_of_2027s_later_stages(
    district: Engine,
) -> None:
    exact = funnel(district, "leader@d.org", NOV_30)
    protected = funnel(district, "viewer@city.org", NOV_30)
    assert exact["stage"].to_list() == protected["stage"].to_list() == list(PIPELINE_STAGES)
    # The class has entered grade 9 and reached grade 12: 24 and 24 (leader); the viewer
    # sees 24 and `*` (a count within 10 of an earlier one, docs/access-rules.md rule 2).
    assert exact["display"].to_list() == ["24", "24", *[NOT_YET] * 4]
    assert protected["display"].to_list() == ["24", "*", *[NOT_YET] * 4]
    for rows in (exact, protected):
        later = rows.filter(pl.col("stage").is_in(LATER))
        assert later["shown"].null_count() == later["share"].null_count() == 4


def test_every_group_of_every_grouping_reads_not_yet_for_the_later_stages(
    district: Engine,
) -> None:
    for email in ("leader@d.org", "viewer@city.org"):
        for by in ("school_id", "gender", "on_track_9"):
            rows = funnel(district, email, NOV_30, by).filter(pl.col("stage").is_in(LATER))
            assert rows.height and set(rows["display"]) == {NOT_YET}, (email, by)


def test_the_trend_of_both_views_stops_each_stage_at_its_last_observed_class(
    district: Engine,
) -> None:
    for email in ("leader@d.org", "viewer@city.org"):
        trend = aggregates.pipeline_trend(district, sign_in(district, email, NOV_30))
        not_yet = {
            (r["cohort"], r["stage"])
            for r in trend.filter(pl.col("display") == NOT_YET).iter_rows(named=True)
        }
        # 2026 (S6) has everything but a second year; 2027-2030 are still in school.
        assert (2026, "persisted") in not_yet and (2026, "graduated") not in not_yet
        assert {(2027, s) for s in LATER} <= not_yet
        assert (2027, "reached_grade_12") not in not_yet
        assert {(2030, s) for s in PIPELINE_STAGES[1:]} <= not_yet  # S1, in grade 9 now
        assert trend.filter(pl.col("display") == NOT_YET)["share"].null_count() == len(not_yet)


@pytest.mark.parametrize(
    ("refreshed", "today", "graduated_shown"),
    [
        (date(2027, 8, 15), date(2027, 9, 10), False),  # not yet until the next refresh
        (date(2027, 9, 10), date(2027, 9, 10), True),
        (date(2027, 9, 10), NOV_30, False),  # a reader whose today is before the refresh
    ],
)
def test_exact_and_protected_views_agree_on_what_is_not_yet_whatever_the_dates(
    engine: Engine, refreshed: date, today: date, graduated_shown: bool
) -> None:
    build_small_world(engine)
    add_the_class_of_2027(engine)
    refresh_derived(engine, as_of=refreshed)
    exact = funnel(engine, "leader@d.org", today)
    protected = funnel(engine, "viewer@city.org", today)
    marked = [d == NOT_YET for d in exact["display"]]
    assert marked == [d == NOT_YET for d in protected["display"]]
    graduated = exact.filter(pl.col("stage") == "graduated")["display"][0]
    assert (graduated != NOT_YET) is graduated_shown


def export(capsys: pytest.CaptureFixture[str], email: str, *extra: str) -> list[dict[str, str]]:
    code = main(
        ["export", "pipeline", "--as", email, "--cohort", "2027", "--as-of", "2026-11-30", *extra]
    )
    out, _ = capsys.readouterr()
    assert code == EXIT_OK
    return list(csv.DictReader(io.StringIO(out)))


def test_export_pipeline_writes_not_yet_with_an_empty_share_for_both_views(
    district: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATHWISE_DATABASE_URL", district.url.render_as_string(hide_password=False))
    for email in ("leader@d.org", "viewer@city.org"):
        for extra in ((), ("--by", "school_id")):
            rows = export(capsys, email, *extra)
            later = [r for r in rows if r["stage"] in LATER]
            assert later and all(r["count"] == NOT_YET and r["share"] == "" for r in later)
            earlier = [r for r in rows if r["stage"] not in LATER]
            assert earlier and all(r["count"] != NOT_YET for r in earlier)
    leader = {r["stage"]: r for r in export(capsys, "leader@d.org")}
    assert (leader["reached_grade_12"]["count"], leader["reached_grade_12"]["share"]) == (
        "24",
        "100.0",
    )
