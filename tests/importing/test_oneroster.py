"""A OneRoster package (docs/import-format.md, "Rosters from the SIS: OneRoster"): what a
small package writes, the maps to Pathwise's vocabularies, delta files, caseloads, and
malformed packages refused with FILE:LINE:COLUMN: message (value), nothing written."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from data_access.bulk import read_table
from data_access.importing import ImportRejected, import_files
from data_access.importing.oneroster import race_ethnicity
from data_access.models import Caseload, Enrollment, School, Student, table_of
from domain import oneroster as spec
from domain.vocabulary import GENDERS, RACE_ETHNICITIES
from tests.importing.conftest import counts, csv

TODAY = date(2026, 11, 22)
MANIFEST = [
    "propertyName,value",
    "manifest.version,1.0",
    "oneroster.version,1.2",
    "file.academicSessions,bulk",
    "file.categories,absent",
    "file.classes,bulk",
    "file.courses,absent",
    "file.demographics,bulk",
    "file.enrollments,bulk",
    "file.orgs,bulk",
    "file.roles,absent",
    "file.users,bulk",
]
#: A district, one school, a year with one term, a class, two students and a teacher.
PACKAGE: dict[str, list[str]] = {
    "manifest.csv": MANIFEST,
    "orgs.csv": [
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
        "d1,,,Unified,district,,",
        "o1,,,First High,school,HS1,d1",
    ],
    "academicSessions.csv": [
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
        "y27,,,2026-27,schoolYear,2026-08-01,2027-07-31,,2027",
    ],
    "classes.csv": [
        "sourcedId,status,dateLastModified,title,grades,classCode,schoolSourcedId,termSourcedIds",
        "c1,,,Homeroom 9,09,HR9,o1,y27",
    ],
    "users.csv": [
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,"
        "familyName,identifier,email,grades",
        "u1,,,true,o1,student,ana,Ana,Lee,S1,,09",
        "u2,,,true,o1,student,ben,Ben,Ng,,,09",
        "t1,,,true,o1,teacher,kim,Kim,Park,T1,Kim.Park@District.org,",
    ],
    "demographics.csv": [
        "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
        "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
        "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity",
        "u1,,,2011-03-04,female,false,false,false,false,true,false,true",
        "u2,,,2011-05-06,male,false,true,false,false,true,,false",
    ],
    "enrollments.csv": [
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate",
        "e1,,,c1,o1,u1,student,false,2026-08-27,",
        "e2,,,c1,o1,u2,student,false,,2026-10-15",
        "e3,,,c1,o1,t1,teacher,true,,",
    ],
}


def package(files: dict[str, list[str]] | None = None, **changes: list[str] | None) -> bytes:
    """`PACKAGE` (or `files`) as a zip, with whole files replaced (None: left out)."""
    chosen = {**(files or PACKAGE), **{k.replace("_", "."): v for k, v in changes.items()}}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, lines in chosen.items():
            if lines is not None:
                archive.writestr(name, csv(*lines))
    return out.getvalue()


def with_line(name: str, index: int, line: str) -> dict[str, list[str]]:
    """`PACKAGE` with line `index` (0 = header) of file `name` replaced."""
    lines = list(PACKAGE[name])
    lines[index] = line
    return {**PACKAGE, name: lines}


def rejected(engine: Engine, data: bytes, name: str = "roster.zip") -> list[str]:
    before = counts(engine)
    with pytest.raises(ImportRejected) as caught:
        import_files(engine, {name: data}, today=TODAY)
    assert counts(engine) == before  # nothing written
    return [str(p) for p in caught.value.problems]


def test_a_package_writes_its_school_students_and_school_level_enrollments(
    engine: Engine,
) -> None:
    result = import_files(engine, {"roster.zip": package()}, today=TODAY)
    assert result.inserted == 1 + 2 + 2
    schools = read_table(engine, table_of(School))
    assert schools.rows() == [("HS1", "First High", 9, 9)]
    students = read_table(engine, table_of(Student)).sort("student_id")
    # Ben has no identifier: his sourcedId is his id. Ana is Hispanic (of any race).
    assert students.select(
        "student_id",
        "first_name",
        "school_id",
        "grade_level",
        "cohort_year",
        "birth_date",
        "gender",
        "race_ethnicity",
    ).rows() == [
        ("S1", "Ana", "HS1", 9, 2030, date(2011, 3, 4), "F", "hispanic"),
        ("u2", "Ben", "HS1", 9, 2030, date(2011, 5, 6), "M", "two_or_more"),
    ]
    enrollments = read_table(engine, table_of(Enrollment)).sort("student_id")
    assert enrollments.select("student_id", "school_year", "entry_date", "exit_date").rows() == [
        ("S1", 2027, date(2026, 8, 27), None),
        ("u2", 2027, date(2026, 8, 1), date(2026, 10, 15)),  # no beginDate: the term's start
    ]
    assert read_table(engine, table_of(Caseload)).height == 0  # caseloads are off by default


def test_a_delta_ends_an_enrollment_to_be_deleted_and_updates_names(engine: Engine) -> None:
    import_files(engine, {"roster.zip": package()}, today=TODAY)
    delta = [line.replace(",bulk", ",delta") for line in MANIFEST]
    files = {
        "manifest.csv": [
            *delta[:3],
            "file.academicSessions,delta",
            "file.classes,delta",
            "file.demographics,absent",
            "file.enrollments,delta",
            "file.orgs,delta",
            "file.users,delta",
        ],
        "orgs.csv": [
            PACKAGE["orgs.csv"][0],
            "o1,active,2026-12-01T00:00:00.000Z,First High,school,HS1,d1",
        ],
        "academicSessions.csv": [
            PACKAGE["academicSessions.csv"][0],
            "y27,active,2026-12-01,2026-27,schoolYear,2026-08-01,2027-07-31,,2027",
        ],
        "classes.csv": [PACKAGE["classes.csv"][0], "c1,active,2026-12-01,Homeroom 9,09,HR9,o1,y27"],
        "users.csv": [
            PACKAGE["users.csv"][0],
            "u1,active,2026-12-01,true,o1,student,ana,Anna,Lee,S1,,09",
        ],
        "enrollments.csv": [
            PACKAGE["enrollments.csv"][0],
            "e1,tobedeleted,2026-12-03T10:00:00Z,c1,o1,u1,student,false,2026-08-27,",
        ],
    }
    import_files(engine, {"delta.zip": package(files)}, today=TODAY)
    students = read_table(engine, table_of(Student)).sort("student_id")
    assert students["first_name"].to_list() == ["Anna", "Ben"]
    assert students["race_ethnicity"].to_list() == ["hispanic", "two_or_more"]  # kept
    ana = read_table(engine, table_of(Enrollment)).filter(pl.col("student_id") == "S1")
    assert ana["exit_date"].to_list() == [date(2026, 12, 3)]
    assert read_table(engine, table_of(Student)).height == 2  # nothing deleted


def test_teacher_caseloads_come_from_class_enrollments_when_the_setting_is_on(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text("[oneroster]\nteacher_caseloads = true\n", encoding="utf-8")
    monkeypatch.setenv("PATHWISE_SETTINGS", str(settings_file))
    problems = rejected(engine, package())
    assert problems == [
        "roster.zip/users.csv:4:email: no Pathwise user with this email (add the teacher first, "
        "or turn [oneroster] teacher_caseloads off) (Kim.Park@District.org)"
    ]
    import_files(
        engine,
        {
            "schools.csv": csv("school_id,school_name,low_grade,high_grade", "HS1,First High,9,12"),
            "users.csv": csv(
                "email,display_name,role,org_id,school_id,student_id,confidentiality_signed_date,active",
                "kim.park@district.org,Kim Park,teacher,,,,2026-08-01,Y",
            ),
        },
    )
    import_files(engine, {"roster.zip": package()}, today=TODAY)
    assert sorted(read_table(engine, table_of(Caseload)).rows()) == [
        ("kim.park@district.org", "S1"),
        ("kim.park@district.org", "u2"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            package(manifest_csv=[*MANIFEST[:2], "oneroster.version,1.0", *MANIFEST[3:]]),
            "roster.zip/manifest.csv:3:value: oneroster.version must be 1.2 or 1.1 (1.0)",
        ),
        (
            package(users_csv=None),
            "roster.zip/users.csv:-:-: missing: the manifest says file.users is bulk",
        ),
        (
            package(with_line("users.csv", 0, PACKAGE["users.csv"][0].replace("grades", "grade"))),
            "roster.zip/users.csv:1:grade: not a column of OneRoster users.csv (grade)",
        ),
        (
            package(with_line("enrollments.csv", 1, "e1,,,c1,o1,u1,student,false,2026-13-01,")),
            "roster.zip/enrollments.csv:2:beginDate: no such date (2026-13-01)",
        ),
        (
            package(with_line("enrollments.csv", 1, "e1,,,c1,o1,u1,student,false,27/08/2026,")),
            "roster.zip/enrollments.csv:2:beginDate: not a date (YYYY-MM-DD) (27/08/2026)",
        ),
        (
            package(with_line("users.csv", 1, "u1,,,true,o1,pupil,ana,Ana,Lee,S1,,09")),
            "roster.zip/users.csv:2:role: not a OneRoster role (pupil)",
        ),
        (
            package(with_line("users.csv", 1, "u1,,,true,o1,student,ana,Ana,Lee,S1,,9th")),
            "roster.zip/users.csv:2:grades: not a grade code (CEDS: PK, TK, KG, 01..12, ...) (9th)",
        ),
        (
            package(with_line("users.csv", 2, "u1,,,true,o1,student,ben,Ben,Ng,,,09")),
            "roster.zip/users.csv:3:sourcedId: duplicate sourcedId, first on line 2 (u1)",
        ),
        (
            package(with_line("demographics.csv", 1, "u1,,,2011-03-04,girl,,,,,,,")),
            "roster.zip/demographics.csv:2:sex: not one of: female, male, other, unspecified (girl)",
        ),
        (
            package(with_line("enrollments.csv", 1, "e1,tobedeleted,,c1,o1,u1,student,false,,")),
            "roster.zip/enrollments.csv:2:status: a bulk file lists active records only "
            "(delete through a delta file) (tobedeleted)",
        ),
    ],
)
def test_a_malformed_package_is_refused_naming_file_line_column_and_value(
    shared_engine: Engine, data: bytes, expected: str
) -> None:
    assert expected in rejected(shared_engine, data)


def test_a_zip_of_another_format_or_no_zip_at_all_is_refused(shared_engine: Engine) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("students.csv", csv("student_id,first_name", "S1,Ana"))
    assert rejected(shared_engine, out.getvalue(), "export.zip") == [
        "export.zip:-:-: not a OneRoster package: no manifest.csv at the top of the zip "
        "(students.csv)"
    ]
    assert rejected(shared_engine, b"student_id\nS1\n", "export.zip") == [
        "export.zip:-:-: not a zip file (a OneRoster export is a zip of CSV files)"
    ]


@settings(max_examples=40, deadline=None)
@given(
    code=st.text(
        st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=',"'),
        min_size=1,
        max_size=5,
    )
)
def test_every_grade_code_is_mapped_or_reported_with_its_value(code: str) -> None:
    from data_access.importing.oneroster import Stored, check_package

    code = code.strip()
    if not code:
        return
    empty = Stored(
        schools=pl.DataFrame(
            schema={
                "school_id": pl.String,
                "school_name": pl.String,
                "low_grade": pl.Int64,
                "high_grade": pl.Int64,
            }
        ),
        students=pl.DataFrame(schema={"student_id": pl.String}),
        enrollments=pl.DataFrame(
            schema={"student_id": pl.String, "school_id": pl.String, "school_year": pl.Int64}
        ),
        users=pl.DataFrame(schema={"email": pl.String, "role": pl.String}),
    )
    data = package(with_line("classes.csv", 1, f"c1,,,Homeroom,{code},HR9,o1,y27"))
    roster = check_package(
        "r.zip", data, empty, id_field="identifier", caseloads=False, today=TODAY
    )
    grade_problems = [p for p in roster.problems if p.column == "grades"]
    if code in spec.GRADES:
        assert not grade_problems
    else:
        assert [(p.file, p.line, p.value) for p in grade_problems] == [
            ("r.zip/classes.csv", 2, code)
        ]


def test_the_maps_land_in_pathwise_vocabularies() -> None:
    assert set(spec.SEX.values()) <= set(GENDERS)
    assert set(spec.RACE_COLUMNS.values()) <= set(RACE_ETHNICITIES)
    assert {race_ethnicity({}), race_ethnicity({"asian": True})} == {None, "asian"}
    assert race_ethnicity({"asian": True, "white": True}) == "two_or_more"
    assert race_ethnicity({"demographicRaceTwoOrMoreRaces": True}) == "two_or_more"
    assert race_ethnicity({"hispanicOrLatinoEthnicity": True, "asian": True}) == "hispanic"
    assert set(spec.GRADES.values()) == set(range(-1, 13))
