"""Upsert, references, dry runs, the import history and the refresh hook, on both backends."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from sqlalchemy import Engine, select

from data_access.bulk import read_table
from data_access.importing import ImportRefused, ImportRejected, import_files
from data_access.importing.sources import sha256
from data_access.meta import DEMO_KEY, set_meta
from data_access.models import Agreement, CourseMark, ImportRun, Student, User, table_of
from tests.importing.conftest import WORLD, counts, csv

STUDENTS_HEADER = WORLD["students.csv"].decode().splitlines()[0]


def students(engine: Engine) -> pl.DataFrame:
    return read_table(engine, table_of(Student)).sort("student_id")


def test_reimporting_updates_rows_and_never_duplicates_them(engine: Engine) -> None:
    first = import_files(engine, WORLD)
    assert (first.inserted, first.updated) == (22, 0)
    loaded = counts(engine)
    again = import_files(engine, WORLD)
    assert (again.inserted, again.updated) == (0, 22)
    assert counts(engine) == {**loaded, "import_run": 2}

    changed = csv(
        STUDENTS_HEADER,
        "S1,Anna,Lee,HS2,10,2030,2011-03-04,F,hispanic,N,N,",
        "S3,Cal,Roe,HS1,9,2030,,,,,,",
    )
    result = import_files(engine, {"students.csv": changed})
    assert [(f.name, f.rows, f.inserted, f.updated) for f in result.files] == [
        ("students.csv", 2, 1, 1)
    ]
    rows = students(engine)
    assert rows.get_column("student_id").to_list() == ["S1", "S2", "S3"]
    s1 = rows.row(0, named=True)
    assert (s1["first_name"], s1["school_id"], s1["grade_level"]) == ("Anna", "HS2", 10)
    assert (s1["english_learner"], s1["econ_disadvantaged"]) == (False, None)


def test_references_resolve_in_the_database_or_in_the_same_import(engine: Engine) -> None:
    import_files(engine, {k: WORLD[k] for k in ("schools.csv", "students.csv")})
    marks_header = WORLD["course_marks.csv"].decode().splitlines()[0]
    result = import_files(
        engine,
        {
            # S1 is in the database; S3 only in this import's students.csv.
            "students.csv": csv(STUDENTS_HEADER, "S3,Cal,Roe,HS1,9,2030,,,,,,"),
            "course_marks.csv": csv(
                marks_header,
                "S1,2027,Q1,ALG1,Algebra I,math,B,,,",
                "S3,2027,Q1,ALG1,Algebra I,math,C-,,,",
            ),
        },
    )
    assert result.inserted == 3
    with pytest.raises(ImportRejected) as rejection:
        import_files(
            engine, {"course_marks.csv": csv(marks_header, "S4,2027,Q1,ALG1,Algebra I,math,B,,,")}
        )
    assert [str(p) for p in rejection.value.problems] == [
        "course_marks.csv:2:student_id: no student with this student_id in the database or in "
        "this import (S4)"
    ]


def test_a_dry_run_counts_and_writes_nothing(engine: Engine) -> None:
    import_files(engine, {k: WORLD[k] for k in ("schools.csv", "organizations.csv")})
    before = counts(engine)
    calls: list[object] = []
    result = import_files(engine, WORLD, dry_run=True, after_import=calls.append)
    assert counts(engine) == before
    assert calls == []
    assert result.dry_run and result.import_id is None
    by_file = {f.name: (f.rows, f.inserted, f.updated) for f in result.files}
    assert by_file["schools.csv"] == (2, 0, 2)
    assert by_file["students.csv"] == (2, 2, 0)
    assert by_file["users.csv"] == (3, 3, 0)


def test_the_import_history_records_who_when_which_files_and_counts(engine: Engine) -> None:
    files = {k: WORLD[k] for k in ("schools.csv", "organizations.csv")}
    first = import_files(engine, files, imported_by="steward@d.org")
    second = import_files(engine, {"schools.csv": WORLD["schools.csv"]})
    runs = table_of(ImportRun)
    with engine.connect() as connection:
        rows = connection.execute(select(runs).order_by(runs.c.import_id)).mappings().all()
    assert [r["import_id"] for r in rows] == [first.import_id, second.import_id]
    assert rows[0]["imported_by"] == "steward@d.org"
    assert rows[1]["imported_by"] == second.imported_by != ""
    assert (rows[0]["rows_inserted"], rows[0]["rows_updated"]) == (4, 0)
    assert (rows[1]["rows_inserted"], rows[1]["rows_updated"]) == (0, 2)
    assert rows[0]["started_at"] <= rows[0]["finished_at"]
    assert json.loads(rows[0]["files"]) == [
        {
            "name": "schools.csv",
            "kind": "schools",
            "sha256": sha256(WORLD["schools.csv"]),
            "rows": 2,
            "inserted": 2,
            "updated": 0,
        },
        {
            "name": "organizations.csv",
            "kind": "organizations",
            "sha256": sha256(WORLD["organizations.csv"]),
            "rows": 2,
            "inserted": 2,
            "updated": 0,
        },
    ]


def test_the_refresh_hook_runs_once_after_a_committed_import(engine: Engine) -> None:
    seen: list[int] = []

    def refresh(hooked: Engine) -> None:
        assert hooked is engine
        seen.append(students(hooked).height)  # the import is already visible

    import_files(engine, WORLD, after_import=refresh)
    assert seen == [2]
    with pytest.raises(ImportRejected):
        import_files(engine, {"students.csv": b""}, after_import=refresh)
    assert seen == [2]


def test_stored_values_are_typed_and_normalised(engine: Engine) -> None:
    import_files(engine, WORLD)
    users = read_table(engine, table_of(User)).sort("email")
    assert users.get_column("email").to_list() == ["a@orga.org", "admin@d.org", "c@d.org"]
    assert users.get_column("active").to_list() == [True, True, True]
    agreements = read_table(engine, table_of(Agreement))
    assert agreements.get_column("categories").to_list() == ["attendance;notes"]
    marks = read_table(engine, table_of(CourseMark)).sort("student_id")
    assert marks.select("mark", "credits_attempted", "credits_earned", "final").rows() == [
        ("F", 0.5, 0.0, False),
        ("87.5", None, None, True),
    ]
    s1 = students(engine).row(0, named=True)
    assert s1["birth_date"] == date(2011, 3, 4)
    assert (s1["english_learner"], s1["disability"], s1["econ_disadvantaged"]) == (
        True,
        False,
        True,
    )


def test_a_demo_database_refuses_imports(engine: Engine) -> None:
    with engine.begin() as connection:
        set_meta(connection, {DEMO_KEY: "true"})
    with pytest.raises(ImportRefused, match="demo district"):
        import_files(engine, WORLD)
