"""Every class of problem, with a small file and the exact line the command line prints.

All imports here are rejected, so they share one database per backend (holding the
`WORLD` import) and each test also checks that nothing was written.
"""

from __future__ import annotations

import codecs
import io
from datetime import datetime

import pytest
import xlsxwriter
from sqlalchemy import Engine

from data_access.importing import ImportRejected, import_files, report_lines
from tests.importing.conftest import counts, csv

STUDENTS_HEADER = (
    "student_id,first_name,last_name,school_id,grade_level,cohort_year,birth_date,gender,"
    "race_ethnicity,english_learner,disability,econ_disadvantaged"
)
MARKS_HEADER = (
    "student_id,school_year,term,course_id,course_title,subject,mark,credits_attempted,"
    "credits_earned,final"
)
FILE_NAMES = (
    "schools, organizations, students, guardians, enrollments, attendance, attendance_daily, "
    "course_marks, test_scores, fafsa, outcomes, services, capacity, agreements, consents, users, "
    "caseloads"
)


def rejected(engine: Engine, files: dict[str, bytes]) -> list[str]:
    """The printed problem lines of an import that must be rejected and write nothing."""
    before = counts(engine)
    with pytest.raises(ImportRejected) as rejection:
        import_files(engine, files)
    assert counts(engine) == before
    return rejection.value.report_lines()


def student(**cells: str) -> str:
    row = {
        "student_id": "S9",
        "first_name": "Cy",
        "last_name": "Doe",
        "school_id": "HS1",
        "grade_level": "10",
        "cohort_year": "2029",
        "birth_date": "2010-01-02",
        "gender": "X",
        "race_ethnicity": "white",
        "english_learner": "N",
        "disability": "N",
        "econ_disadvantaged": "N",
    }
    row.update(cells)
    return ",".join(row.values())


CASES: dict[str, tuple[dict[str, bytes], list[str]]] = {
    "unknown file name": (
        {"notes.csv": b"a\n1\n"},
        [
            f"notes.csv:-:-: not an import file name; expected one of {FILE_NAMES} with .csv or .xlsx"
        ],
    ),
    "old excel": (
        {"students.xls": b"x"},
        [
            "students.xls:-:-: old Excel workbooks (.xls) are not read; save it as .xlsx or CSV UTF-8"
        ],
    ),
    "two files of one kind": (
        {"students.csv": csv(STUDENTS_HEADER), "Students.XLSX": b"x"},
        ["Students.XLSX:-:-: a second file for students (also students.csv)"],
    ),
    "empty file": (
        {"students.csv": b""},
        ["students.csv:1:-: the file is empty (not even a header row)"],
    ),
    "only blank lines": (
        {"students.csv": b"\r\n\n  \n"},
        ["students.csv:1:-: the file is empty (not even a header row)"],
    ),
    "latin-1": (
        {
            "students.csv": csv(STUDENTS_HEADER, student(first_name="Jos\u00e9")).replace(
                b"\xc3\xa9", b"\xe9"
            )
        },
        [
            'students.csv:2:-: not UTF-8 text (byte 0xe9; is it Latin-1 or Windows-1252?); save it as "CSV UTF-8"'
        ],
    ),
    "utf-16 with byte-order mark": (
        {"students.csv": codecs.BOM_UTF16_LE + (STUDENTS_HEADER + "\n").encode("utf-16-le")},
        ['students.csv:1:-: UTF-16 text, not UTF-8; save it as "CSV UTF-8"'],
    ),
    "utf-16 without byte-order mark": (
        {"students.csv": (STUDENTS_HEADER + "\n").encode("utf-16-le")},
        [
            "students.csv:1:-: not a CSV text file (it contains NUL bytes: UTF-16 or a binary file?); "
            'save it as "CSV UTF-8"'
        ],
    ),
    "quote inside an unquoted field": (
        {"students.csv": csv(STUDENTS_HEADER, student(), student(student_id='S"10'))},
        [
            'students.csv:3:-: a quote inside an unquoted field (quote the field and write the quote as ""); '
            "the rest of the file cannot be read"
        ],
    ),
    "text after a closing quote": (
        {"students.csv": csv(STUDENTS_HEADER, student(first_name='"Cy" Jr'))},
        [
            "students.csv:2:-: text after the closing quote of a field (quote the whole field); "
            "the rest of the file cannot be read"
        ],
    ),
    "quote never closed": (
        {"students.csv": csv(STUDENTS_HEADER, student(), student(first_name='"Cy'))},
        ["students.csv:3:-: a quoted field is never closed; the rest of the file cannot be read"],
    ),
    "missing, unknown and doubled columns": (
        {
            "students.csv": csv(
                "student_id,first_name,last_name,school_id,grade_levl,favourite,last_name",
                "S9,Cy,Doe,HS1,10,blue,Doe",
            )
        },
        [
            "students.csv:1:grade_levl: unknown column, did you mean grade_level? (grade_levl)",
            "students.csv:1:favourite: unknown column for students (favourite)",
            "students.csv:1:last_name: column named twice (first as column 3) (last_name)",
            "students.csv:1:grade_level: missing required column",
            "students.csv:1:cohort_year: missing required column",
        ],
    ),
    "a column without a name holds values": (
        {"schools.csv": csv("school_id,school_name,low_grade,high_grade,", "HS3,Third,9,12,x")},
        ["schools.csv:1:#5: column without a name holds values"],
    ),
    "short and long rows": (
        {
            "schools.csv": csv(
                "school_id,school_name,low_grade,high_grade", "HS3,Third,9", "HS4,Fourth,9,12,13"
            )
        },
        [
            "schools.csv:2:-: 3 fields where the header has 4",
            "schools.csv:3:-: 5 fields where the header has 4",
        ],
    ),
    "cells of every kind": (
        {
            "students.csv": csv(
                STUDENTS_HEADER,
                student(first_name="", grade_level="13", cohort_year="20x0"),
                student(
                    student_id="S10", birth_date="2010-02-30", gender="f", english_learner="maybe"
                ),
                student(student_id="S11", birth_date="1/2/2010", cohort_year="99999999999"),
                student(student_id="S12", last_name="x" * 101),
            )
        },
        [
            "students.csv:2:first_name: required value is blank",
            "students.csv:2:grade_level: not a grade level (-1 pre-K, 0 kindergarten, 1..12) (13)",
            "students.csv:2:cohort_year: not a whole number (20x0)",
            "students.csv:3:birth_date: no such date (2010-02-30)",
            "students.csv:3:gender: not one of: F, M, X (f)",
            "students.csv:3:english_learner: not Y or N (also yes/no, true/false, 1/0) (maybe)",
            "students.csv:4:cohort_year: whole number out of range (-2147483648..2147483647) (99999999999)",
            "students.csv:4:birth_date: not a date (YYYY-MM-DD) (1/2/2010)",
            f"students.csv:5:last_name: longer than 100 characters ({'x' * 101})",
        ],
    ),
    "marks, numbers and credits": (
        {
            "course_marks.csv": csv(
                MARKS_HEADER,
                "S1,2027,Q2,ALG1,Algebra I,math,E,0.5,0.5,Y",
                "S1,2027,Q2,BIO,Biology,science,101,half,-0.5,Y",
                "S1,2027,Q2,ENG9,English 9,ela,A+,1e999,,Y",
                "S1,2027,Q5,ART,Art,arts,NP,,,",
            )
        },
        [
            "course_marks.csv:2:mark: not a mark (A, B, C, D or F with an optional + or -, P, NP, or a number 0..100) (E)",
            "course_marks.csv:3:mark: not a mark (A, B, C, D or F with an optional + or -, P, NP, or a number 0..100) (101)",
            "course_marks.csv:3:credits_attempted: not a number (half)",
            "course_marks.csv:3:credits_earned: negative (-0.5)",
            "course_marks.csv:4:credits_attempted: number out of range (1e999)",
            "course_marks.csv:5:term: not one of: S1, S2, Q1, Q2, Q3, Q4, T1, T2, T3, Y (Q5)",
            "course_marks.csv:5:subject: not one of: ela, math, science, social_studies, other (arts)",
        ],
    ),
    "lists, emails and roles": (
        {
            "consents.csv": csv(
                "consent_id,student_id,org_id,categories,purpose,signed_by,signer_relationship,signed_date",
                "C2,S1,ORGA,attendance;grade,Tutoring,Mom Lee,parent,2026-09-01",
            ),
            "users.csv": csv(
                "email,display_name,role,school_id",
                "pat.partner.org,Pat,org_staff,",
                "sam@d.org,Sam,counselor,",
                "kim@d.org,Kim,wizard,",
            ),
        },
        [
            "consents.csv:2:categories: item 'grade' is not one of: attendance, grades, tests, fafsa, "
            "outcomes, demographics, notes (attendance;grade)",
            "users.csv:2:email: not an email address (name@domain) (pat.partner.org)",
            "users.csv:2:org_id: required for role org_staff",
            "users.csv:3:school_id: required for role counselor",
            "users.csv:4:role: not one of: admin, district_leader, counselor, teacher, org_staff, "
            "viewer, parent, student (wizard)",
        ],
    ),
    "ranges between columns": (
        {
            "schools.csv": csv("school_id,school_name,low_grade,high_grade", "HS3,Third,12,9"),
            "attendance.csv": csv(
                "student_id,school_id,school_year,as_of_date,days_enrolled,days_absent",
                "S1,HS1,2027,2026-09-30,20,21",
                "S2,HS2,2027,2026-09-30,-1,0",
            ),
        },
        [
            "schools.csv:2:low_grade: greater than high_grade 9 (12)",
            "attendance.csv:2:days_absent: greater than days_enrolled 20 (21)",
            "attendance.csv:3:days_enrolled: negative (-1)",
        ],
    ),
    "duplicate keys": (
        {
            "enrollments.csv": csv(
                "student_id,school_id,school_year,grade_level,entry_date",
                "S1,HS1,2026,9,2025-08-27",
                "S1,HS2,2026,9,2025-08-27",
                "S1,HS1,2026,9,2025-09-15",
                "S1, HS1 ,2026,9,2025-10-15",
            )
        },
        [
            "enrollments.csv:4:student_id+school_year+school_id: duplicate key, first on line 2 (S1, 2026, HS1)",
            "enrollments.csv:5:student_id+school_year+school_id: duplicate key, first on line 2 (S1, 2026, HS1)",
        ],
    ),
    "references that resolve nowhere": (
        {
            "students.csv": csv(
                STUDENTS_HEADER, student(), student(student_id="S10", school_id="HS9")
            ),
            "enrollments.csv": csv(
                "student_id,school_id,school_year,grade_level,entry_date",
                "S9,HS1,2027,10,2026-08-27",
                "S1,HS1,2027,9,2026-08-27",
                "S404,HS1,2027,9,2026-08-27",
            ),
            "services.csv": csv(
                "student_id,org_id,service_type,start_date", "S1,ORGZ,mentoring,2026-09-01"
            ),
            "caseloads.csv": csv("user_email,student_id", "nobody@d.org,S2", "A@ORGA.org,S2"),
        },
        [
            "students.csv:3:school_id: no school with this school_id in the database or in this import (HS9)",
            "enrollments.csv:4:student_id: no student with this student_id in the database or in this import (S404)",
            "services.csv:2:org_id: no organization with this org_id in the database or in this import (ORGZ)",
            "caseloads.csv:2:user_email: no user with this email in the database or in this import (nobody@d.org)",
        ],
    ),
    "line numbers count the lines of quoted fields": (
        {
            "schools.csv": csv(
                "school_id,school_name,low_grade,high_grade",
                '"HS3","Third\nHigh\r\nSchool",9,12',
                "HS4,Fourth,9,twelve",
            )
        },
        ["schools.csv:5:high_grade: not a whole number (twelve)"],
    ),
    "a snapshot given both ways": (
        {
            "attendance.csv": csv(
                "student_id,school_id,school_year,as_of_date,days_enrolled,days_absent",
                "S1,HS1,2027,2026-09-30,2,1",
            ),
            "attendance_daily.csv": csv(
                "student_id,school_id,date,status",
                "S1,HS1,2026-09-29,present",
                "S1,HS1,2026-09-30,absent_excused",
            ),
        },
        [
            "attendance.csv:2:student_id+school_year+school_id+as_of_date: this snapshot is also "
            "computed from attendance_daily.csv (S1, 2027, HS1, 2026-09-30)"
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_problem_is_reported_exactly(shared_engine: Engine, case: str) -> None:
    files, expected = CASES[case]
    assert rejected(shared_engine, files) == expected


def test_a_valid_header_only_file_is_zero_rows_not_an_error(shared_engine: Engine) -> None:
    result = import_files(shared_engine, {"students.csv": csv(STUDENTS_HEADER)}, dry_run=True)
    assert [(f.name, f.rows, f.inserted, f.updated) for f in result.files] == [
        ("students.csv", 0, 0, 0)
    ]


def test_the_byte_order_mark_crlf_padding_and_header_case_are_accepted(
    shared_engine: Engine,
) -> None:
    data = codecs.BOM_UTF8 + csv(
        " SCHOOL_ID , School_Name ,low_grade,HIGH_GRADE",
        " HS1 , First High ,\t9,12",
        "",
        end="\r\n",
    )
    result = import_files(shared_engine, {"SCHOOLS.CSV": data}, dry_run=True)
    assert [(f.rows, f.inserted, f.updated) for f in result.files] == [(1, 0, 1)]


def test_problems_come_in_file_order_and_the_printout_is_capped(shared_engine: Engine) -> None:
    bad_marks = csv(MARKS_HEADER, *(f"S1,2027,Q2,C{i},Course,math,Z,,,Y" for i in range(250)))
    bad_schools = csv("school_id,school_name,low_grade,high_grade", "HS3,Third,9,13")
    before = counts(shared_engine)
    with pytest.raises(ImportRejected) as rejection:
        import_files(shared_engine, {"course_marks.csv": bad_marks, "schools.csv": bad_schools})
    assert counts(shared_engine) == before
    result = rejection.value.result
    assert result.problem_count == 251
    lines = report_lines(result.problems, result.problem_count, cap=200)
    assert len(lines) == 201
    assert lines[0].startswith("schools.csv:2:high_grade:")
    assert lines[1].startswith("course_marks.csv:2:mark:")
    assert lines[-1] == "... and 51 more problems"
    assert str(rejection.value) == "251 problems; nothing was written"


def _workbook(rows: list[list[object]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("schools")
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, dates)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def test_workbooks_are_read_with_their_row_numbers(shared_engine: Engine) -> None:
    header: list[object] = [
        "agreement_id",
        "org_id",
        "categories",
        "effective_date",
        "expires_date",
    ]
    good: list[object] = ["DSA-X", "ORGA", "notes", datetime(2026, 1, 5), None]
    bad = _workbook([header, good, [None] * 5, ["DSA-Y", "ORGA", "notes", "5 Jan 2026", None]])
    assert rejected(shared_engine, {"agreements.xlsx": bad}) == [
        "agreements.xlsx:4:effective_date: not a date (YYYY-MM-DD) (5 Jan 2026)"
    ]
    result = import_files(
        shared_engine, {"Agreements.xlsx": _workbook([header, good])}, dry_run=True
    )
    assert [(f.rows, f.inserted) for f in result.files] == [(1, 1)]


def test_a_file_that_is_not_a_workbook(shared_engine: Engine) -> None:
    (line,) = rejected(shared_engine, {"schools.xlsx": csv("school_id")})
    assert line.startswith("schools.xlsx:-:-: not an Excel workbook (.xlsx) that can be read (")


def test_nothing_to_import(shared_engine: Engine) -> None:
    assert rejected(shared_engine, {}) == ["-:-:-: no files to import"]


def test_a_large_file_read_in_parts_is_checked_as_one(
    shared_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts of a few records: duplicates across parts, one report per nameless column."""
    from data_access.importing import reading

    monkeypatch.setattr(reading, "PART_BYTES", 40)
    lines = [f"S1,2027,Q2,C{i},Course {i},math,B,,,Y," for i in range(8)]
    lines.append("S1,2027,Q2,C3,Again,math,Z,,,Y,x")
    assert rejected(shared_engine, {"course_marks.csv": csv(MARKS_HEADER + ",", *lines)}) == [
        "course_marks.csv:1:#11: column without a name holds values",
        "course_marks.csv:10:student_id+school_year+term+course_id: duplicate key, first on "
        "line 5 (S1, 2027, Q2, C3)",
        "course_marks.csv:10:mark: not a mark (A, B, C, D or F with an optional + or -, P, NP, "
        "or a number 0..100) (Z)",
    ]
    result = import_files(
        shared_engine,
        {"course_marks.csv": csv(MARKS_HEADER, *(line[:-1] for line in lines[:8]))},
        dry_run=True,
    )
    assert [(f.rows, f.inserted) for f in result.files] == [(8, 8)]
