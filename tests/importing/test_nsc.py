"""The Clearinghouse StudentTracker detail report (data_access.importing.nsc): loaded by
`import nsc`, recognised by its header in a folder or upload, replacing its students'
rows, deriving the college outcomes; malformed reports are refused whole.

World: the importer's `WORLD` (students S1, class of 2030, and S2, class of 2027)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from data_access.bulk import read_table
from data_access.importing import ImportRejected, import_files, import_path
from data_access.models import NscSearch, Outcome, PostsecondaryEnrollment, table_of
from tests.importing.conftest import WORLD, counts, csv

HEADER = (
    "Your Unique Identifier,First Name,Middle Initial,Last Name,Name Suffix,"
    "Requester Return Field,Record Found Y/N,High School Code,High School Grad Date,"
    "College Code/Branch,College Name,College State,2-year / 4-year,Public / Private,"
    "Enrollment Begin,Enrollment End,Enrollment Status,Graduated?,Graduation Date,"
    "Degree Title,Major,College Sequence"
)
S2_FALL = "S2,Ben,,Ng,,R2,Y,123456,20270610,001149-00,STATE UNIVERSITY,CA,4,Public,20270826,20271215,F,N,,,,1"
S2_SPRING = "S2,Ben,,Ng,,R2,Y,123456,20270610,001149-00,STATE UNIVERSITY,CA,4,Public,20280120,20280510,H,N,,,,1"
S1_NOT_FOUND = "S1,Ana,,Lee,,R1,N,123456,20300610,,,,,,,,,,,,,"


def report(*rows: str, header: str = HEADER) -> bytes:
    return csv(header, *rows)


def table(engine: Engine, model: type) -> pl.DataFrame:
    return read_table(engine, table_of(model))


def test_a_report_stores_each_term_and_derives_the_outcome_columns(engine: Engine) -> None:
    import_files(engine, WORLD)
    result = import_files(engine, {"ST_detail.csv": report(S2_FALL, S2_SPRING, S1_NOT_FOUND)})
    (file,) = result.files
    assert (file.kind, file.table, file.rows, file.inserted) == (
        "nsc",
        "postsecondary_enrollment",
        3,
        2,
    )
    terms = table(engine, PostsecondaryEnrollment).sort("seq")
    assert terms["enrollment_begin"].to_list() == [date(2027, 8, 26), date(2028, 1, 20)]
    assert terms["level"].to_list() == ["4yr", "4yr"]
    assert terms["control"].to_list() == ["public", "public"]
    assert terms["enrollment_status"].to_list() == ["F", "H"]
    searches = table(engine, NscSearch).sort("student_id")
    assert searches.select("student_id", "record_found", "seamless_enrolled").rows() == [
        ("S1", False, False),
        ("S2", True, True),
    ]
    outcome = table(engine, Outcome).sort("student_id")
    assert outcome.select(
        "student_id", "postsecondary_enrolled", "postsecondary_start_date", "institution_level"
    ).rows() == [
        ("S1", False, None, None),
        ("S2", True, date(2027, 8, 26), "4yr"),
    ]


def test_a_new_report_replaces_its_students_rows_and_keeps_the_others(engine: Engine) -> None:
    import_files(engine, WORLD)
    import_files(engine, {"first.csv": report(S2_FALL, S2_SPRING, S1_NOT_FOUND)})
    result = import_files(engine, {"second.csv": report(S2_FALL)})
    assert (result.files[0].inserted, result.files[0].updated) == (1, 2)
    assert table(engine, PostsecondaryEnrollment).height == 1
    assert set(table(engine, NscSearch)["student_id"]) == {"S1", "S2"}


def test_graduated_and_graduation_date_are_kept_when_the_college_columns_are_derived(
    engine: Engine,
) -> None:
    world = dict(WORLD)
    world["outcomes.csv"] = csv("student_id,graduated,graduation_date", "S2,Y,2027-06-10")
    import_files(engine, world)
    import_files(engine, {"r.csv": report(S2_FALL)})
    row = table(engine, Outcome).row(0, named=True)
    assert (row["graduated"], row["graduation_date"], row["postsecondary_enrolled"]) == (
        True,
        date(2027, 6, 10),
        True,
    )


def test_import_nsc_reads_a_report_whatever_its_name(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, WORLD)
    path = tmp_path / "10042443-DETAIL-EFFDT-20271120.txt"
    path.write_bytes(report(S2_FALL))
    import_path(engine, path, nsc=True)
    assert table(engine, PostsecondaryEnrollment).height == 1


def test_a_report_in_a_folder_is_recognised_by_its_header_and_loads_with_the_other_files(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name, data in WORLD.items():
        (folder / name).write_bytes(data)
    (folder / "10042443-DETAIL.csv").write_bytes(report(S2_FALL))
    result = import_path(engine, folder)
    assert "nsc" in {f.kind for f in result.files}
    assert table(engine, PostsecondaryEnrollment).height == 1


def test_the_requester_return_field_matches_students_when_the_setting_says_so(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text('[nsc]\nstudent_key = "requester_return_field"\n')
    monkeypatch.setenv("PATHWISE_SETTINGS", str(settings_file))
    import_files(engine, WORLD)
    row = "X9,Ben,,Ng,,S2,Y,,20270610,001149-00,STATE UNIVERSITY,CA,4,Public,20270826,20271215,F,N,,,,1"
    import_files(engine, {"r.csv": report(row)})
    assert table(engine, PostsecondaryEnrollment)["student_id"].to_list() == ["S2"]


def test_a_dry_run_counts_and_writes_nothing(engine: Engine) -> None:
    import_files(engine, WORLD)
    before = counts(engine)
    result = import_files(engine, {"r.csv": report(S2_FALL, S1_NOT_FOUND)}, dry_run=True)
    assert (result.files[0].inserted, result.dry_run) == (1, True)
    assert counts(engine) == before


def rejected(engine: Engine, data: bytes, name: str = "r.csv") -> list[str]:
    before = counts(engine)
    with pytest.raises(ImportRejected) as caught:
        import_files(engine, {name: data})
    assert counts(engine) == before
    return [str(p) for p in caught.value.result.problems]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            S2_FALL.replace("20270826", "2027-13-45"),
            "r.csv:2:Enrollment Begin: no such date (2027-13-45)",
        ),
        (
            S2_FALL.replace("20270826", "Aug 26"),
            "r.csv:2:Enrollment Begin: not a date (YYYYMMDD) (Aug 26)",
        ),
        (
            S2_FALL.replace(",F,N,", ",X,N,"),
            "r.csv:2:Enrollment Status: not an enrollment status: F, Q, H, L, W, A, D or blank (X)",
        ),
        (
            S2_FALL.replace(",4,Public,", ",5,Public,"),
            "r.csv:2:2-year / 4-year: not one of: 4, 2, L (5)",
        ),
        (
            S2_FALL.replace("001149-00", "1149"),
            "r.csv:2:College Code/Branch: not a college code (six digits, then the two-digit branch: 001149-00) (1149)",
        ),
        (
            S2_FALL.replace("S2,Ben", "S404,Ben"),
            "r.csv:2:Your Unique Identifier: no student with this id in the database or in this import (S404)",
        ),
        (
            S2_FALL.replace("20271215", "20270101"),
            "r.csv:2:Enrollment End: before Enrollment Begin (2027-01-01)",
        ),
        (
            S1_NOT_FOUND.replace(",,,,,,,,,,,,,", ",001149-00,,,,,,,,,,,,"),
            "r.csv:2:Record Found Y/N: Record Found is N but the row has college data (false)",
        ),
    ],
)
def test_a_malformed_row_is_reported_with_line_column_and_value(
    shared_engine: Engine, row: str, expected: str
) -> None:
    assert expected in rejected(shared_engine, report(row))


def test_a_duplicated_row_is_reported_with_its_first_line(shared_engine: Engine) -> None:
    assert "r.csv:3:-: duplicate row, first on line 2 (S2)" in rejected(
        shared_engine, report(S2_FALL, S2_FALL)
    )


def test_a_missing_column_and_an_unknown_one_are_reported_on_the_header(
    shared_engine: Engine,
) -> None:
    problems = rejected(
        shared_engine,
        report(S2_FALL, header=HEADER.replace("Enrollment Begin", "Start")),
        name="x.csv",
    )
    assert "x.csv:1:Start: not a column of the StudentTracker detail report (Start)" in problems
    assert "x.csv:1:Enrollment Begin: missing required column" in problems


def test_a_file_of_another_format_given_to_import_nsc_is_refused(
    shared_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "students.csv"
    path.write_bytes(WORLD["students.csv"])
    before = counts(shared_engine)
    with pytest.raises(ImportRejected) as caught:
        import_path(shared_engine, path, nsc=True)
    problems = [str(p) for p in caught.value.result.problems]
    assert "students.csv:1:Your Unique Identifier: missing required column" in problems
    assert counts(shared_engine) == before


_DATES = st.text(alphabet="0123456789-/ abc", min_size=1, max_size=10).filter(
    lambda t: t.strip() == t and "," not in t
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cell=_DATES)
def test_any_date_cell_is_either_a_real_date_or_reported_and_nothing_is_written(
    shared_engine: Engine, cell: str
) -> None:
    data = report(S2_FALL.replace("20270826", cell))
    before = counts(shared_engine)
    try:
        result = import_files(shared_engine, {"r.csv": data}, dry_run=True)
    except ImportRejected as error:
        assert any(
            p.column == "Enrollment Begin" and p.value == cell for p in error.result.problems
        ) or any(p.column == "Enrollment End" for p in error.result.problems)
    else:
        assert result.files[0].rows == 1
    assert counts(shared_engine) == before
