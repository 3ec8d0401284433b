"""Ids are printable ASCII without spaces: a look-alike id never names a second student.

`S1` followed by a zero-width space, with a no-break space inside, or spelled with a
Cyrillic `С` looks like `S1` on screen but is another string: stored, it would be a second
student (or a reference to nobody). Every id column of the import format refuses such a
cell, and the problem names the file, line, column, value and the offending character.
"""

from __future__ import annotations

import csv as csv_module
import io

import pytest
from sqlalchemy import Engine

from data_access.importing import ImportRejected, import_files
from domain.import_format import FILE_FORMATS
from tests.importing.conftest import WORLD, counts

ID_RULE = "ids are printable ASCII without spaces"
#: Every column of the format that holds an id (its name ends in `_id`).
ID_COLUMNS = [
    (kind, column.name)
    for kind, fmt in FILE_FORMATS.items()
    for column in fmt.columns
    if column.name.endswith("_id") and f"{kind}.csv" in WORLD
]


def _with_cell(kind: str, column: str, value: str) -> tuple[bytes, int]:
    """`kind`'s file of the world with `column` set to `value` in its first row where the
    column is filled (its first row if none is), and the line of that row."""
    rows = list(csv_module.reader(io.StringIO(WORLD[f"{kind}.csv"].decode(), newline="")))
    position = rows[0].index(column)
    line = next((n for n, row in enumerate(rows[1:], start=2) if row[position]), 2)
    rows[line - 1][position] = value
    buffer = io.StringIO(newline="")
    csv_module.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8"), line


def _rejected(engine: Engine, files: dict[str, bytes]) -> list[str]:
    before = counts(engine)
    with pytest.raises(ImportRejected) as rejection:
        import_files(engine, files)
    assert counts(engine) == before
    return rejection.value.report_lines()


@pytest.mark.parametrize(
    ("written", "character"),
    [
        ("S1\u200b", "U+200B ZERO WIDTH SPACE at position 3"),
        ("S\u00a01", "U+00A0 NO-BREAK SPACE at position 2"),
        ("\u04211", "U+0421 CYRILLIC CAPITAL LETTER ES at position 1"),
        ("S 1", "U+0020 SPACE at position 2"),
        ("S1\u00e9", "U+00E9 LATIN SMALL LETTER E WITH ACUTE at position 3"),
    ],
)
def test_a_look_alike_student_id_is_refused_naming_the_character(
    shared_engine: Engine, written: str, character: str
) -> None:
    data, line = _with_cell("students", "student_id", written)
    assert _rejected(shared_engine, {"students.csv": data}) == [
        f"students.csv:{line}:student_id: not an id: {character}; {ID_RULE} ({written})"
    ]


@pytest.mark.parametrize(("kind", "column"), ID_COLUMNS)
def test_every_id_column_refuses_a_zero_width_space(
    shared_engine: Engine, kind: str, column: str
) -> None:
    written = "ID\u200b9"
    data, line = _with_cell(kind, column, written)
    lines = _rejected(shared_engine, {f"{kind}.csv": data})
    expected = (
        f"{kind}.csv:{line}:{column}: not an id: U+200B ZERO WIDTH SPACE at position 3; "
        f"{ID_RULE} ({written})"
    )
    assert expected in lines


def test_every_id_column_of_the_format_is_covered() -> None:
    """The world has a file for every kind but daily attendance, whose id columns are the
    same student_id and school_id as attendance's."""
    assert {kind for kind, _ in ID_COLUMNS} >= {
        "schools",
        "organizations",
        "students",
        "enrollments",
        "course_marks",
        "agreements",
        "consents",
        "users",
    }
    assert ("consents", "consent_id") in ID_COLUMNS
    assert ("course_marks", "course_id") in ID_COLUMNS


def test_plain_ascii_ids_with_punctuation_are_accepted(shared_engine: Engine) -> None:
    data, _ = _with_cell("students", "student_id", "S-1000001_a.b/c")
    result = import_files(shared_engine, {"students.csv": data}, dry_run=True)
    assert result.ok
