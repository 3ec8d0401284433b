"""The `capacity` import file (issue 14 part 2; docs/import-format.md, `capacity`).

Key org_id + school_id + service_type + school_year; a blank school_id is capacity at any
school, stored as `ANY_SCHOOL` (""); accepting_referrals defaults to yes. Unknown
organisations, schools or service types, negative or unreadable slots, a bad yes/no and
a repeated key are each named as FILE:LINE:COLUMN: message (value), and nothing is
written (DEVELOPERS.md rule 5). Loaded through `import_files` / `import_path`, the entry
points of the Administration upload and `pathwise import`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from data_access.bulk import read_table
from data_access.importing import ImportRejected, import_files, import_path
from data_access.models import ANY_SCHOOL, Capacity, table_of
from tests.importing.conftest import WORLD, counts, csv

HEADER = "org_id,school_id,service_type,school_year,slots,accepting_referrals"


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    frame = read_table(engine, table_of(Capacity)).sort("org_id", "school_id", "service_type")
    return frame.select(
        "org_id", "school_id", "service_type", "school_year", "slots", "accepting_referrals"
    ).rows()


def test_capacity_rows_load_with_blank_school_as_any_school_and_referrals_by_default(
    engine: Engine,
) -> None:
    files = dict(WORLD)
    files["capacity.csv"] = csv(
        HEADER,
        "ORGA,HS1,mentoring,2027,25,Y",
        "ORGA,,mentoring,2027,40,",
        "ORGA,HS2,academic,2027,0,n",
    )
    import_files(engine, files)
    assert _stored(engine) == [
        ("ORGA", ANY_SCHOOL, "mentoring", 2027, 40, True),
        ("ORGA", "HS1", "mentoring", 2027, 25, True),
        ("ORGA", "HS2", "academic", 2027, 0, False),
    ]


def test_the_accepting_referrals_column_may_be_left_out(engine: Engine) -> None:
    files = dict(WORLD)
    files["capacity.csv"] = csv(
        "org_id,school_id,service_type,school_year,slots", "ORGA,HS1,academic,2027,5"
    )
    import_files(engine, files)
    assert _stored(engine) == [("ORGA", "HS1", "academic", 2027, 5, True)]


def test_reimporting_a_capacity_key_updates_its_slots(engine: Engine, tmp_path: Path) -> None:
    """The same key again replaces the row, blank school included (a folder import)."""
    files = dict(WORLD)
    files["capacity.csv"] = csv(HEADER, "ORGA,,mentoring,2027,40,Y")
    import_files(engine, files)
    folder = tmp_path / "nightly"
    folder.mkdir()
    (folder / "capacity.csv").write_bytes(csv(HEADER, "ORGA,,mentoring,2027,12,N"))
    result = import_path(engine, folder)
    assert [(f.kind, f.inserted, f.updated) for f in result.files] == [("capacity", 0, 1)]
    assert _stored(engine) == [("ORGA", ANY_SCHOOL, "mentoring", 2027, 12, False)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "NOPE,HS1,mentoring,2027,5,Y",
            "capacity.csv:2:org_id: no organization with this org_id in the database or in "
            "this import (NOPE)",
        ),
        (
            "ORGA,HS9,mentoring,2027,5,Y",
            "capacity.csv:2:school_id: no school with this school_id in the database or in "
            "this import (HS9)",
        ),
        ("ORGA,HS1,tutoring,2027,5,Y", "capacity.csv:2:service_type: "),
        ("ORGA,HS1,mentoring,2027,-3,Y", "capacity.csv:2:slots: negative (-3)"),
        ("ORGA,HS1,mentoring,2027,2.5,Y", "capacity.csv:2:slots: not a whole number (2.5)"),
        ("ORGA,HS1,mentoring,2027,,Y", "capacity.csv:2:slots: required value is blank"),
        ("ORGA,HS1,mentoring,2027,5,maybe", "capacity.csv:2:accepting_referrals: "),
        ("ORGA,HS1,mentoring,,5,Y", "capacity.csv:2:school_year: required value is blank"),
    ],
)
def test_a_bad_capacity_cell_is_named_and_nothing_is_written(
    shared_engine: Engine, line: str, expected: str
) -> None:
    before = counts(shared_engine)
    with pytest.raises(ImportRejected) as rejection:
        import_files(shared_engine, {"capacity.csv": csv(HEADER, line)})
    (reported,) = rejection.value.report_lines()
    assert reported.startswith(expected)
    if line.split(",")[2] == "tutoring":
        assert reported.endswith("(tutoring)")
    if line.endswith("maybe"):
        assert reported.endswith("(maybe)")
    assert counts(shared_engine) == before


@pytest.mark.parametrize(
    ("first", "second", "value"),
    [
        (
            "ORGA,HS1,mentoring,2027,5,Y",
            "ORGA,HS1,mentoring,2027,9,N",
            "ORGA, HS1, mentoring, 2027",
        ),
        ("ORGA,,mentoring,2027,5,Y", "ORGA, ,mentoring,2027,9,Y", "ORGA, , mentoring, 2027"),
    ],
    ids=["school", "any school"],
)
def test_a_repeated_capacity_key_is_named_with_its_first_line_and_nothing_is_written(
    shared_engine: Engine, first: str, second: str, value: str
) -> None:
    before = counts(shared_engine)
    files = {"capacity.csv": csv(HEADER, "ORGA,HS2,academic,2027,1,Y", first, second)}
    with pytest.raises(ImportRejected) as rejection:
        import_files(shared_engine, files)
    assert rejection.value.report_lines() == [
        "capacity.csv:4:org_id+school_id+service_type+school_year: duplicate key, first on "
        f"line 3 ({value})"
    ]
    assert counts(shared_engine) == before


def test_a_blank_school_is_not_taken_for_an_unknown_school(shared_engine: Engine) -> None:
    """The blank cell's default ("", any school) names no school, so it is no bad reference;
    a dry run accepts the file."""
    result = import_files(
        shared_engine, {"capacity.csv": csv(HEADER, "ORGA,,academic,2027,3,Y")}, dry_run=True
    )
    assert result.problem_count == 0
