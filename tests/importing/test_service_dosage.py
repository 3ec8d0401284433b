"""The services file's dose columns: `sessions` (a whole number) and `hours` (a number).

docs/import-format.md, `services`: both optional, both 0 or more; blank means unknown.
A negative or unreadable cell is reported as FILE:LINE:COLUMN with its value and the
whole import writes nothing (DEVELOPERS.md, rule 5).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from data_access.bulk import read_table
from data_access.importing import ImportRejected, import_files
from data_access.models import Service, table_of
from tests.importing.conftest import WORLD, counts, csv

HEADER = "student_id,org_id,service_type,start_date,end_date,sessions,hours"


def test_sessions_and_hours_load_and_blank_means_unknown(engine: Engine) -> None:
    files = dict(WORLD)
    files["services.csv"] = csv(
        HEADER,
        "S1,ORGA,mentoring,2026-09-05,,12,9.5",
        "S2,ORGA,academic,2026-09-10,2026-12-01,0,0",
        "S2,ORGA,mentoring,2026-10-01,,,",
    )
    import_files(engine, files)
    stored = read_table(engine, table_of(Service)).sort("student_id", "service_type")
    assert stored.select("student_id", "service_type", "sessions", "hours").rows() == [
        ("S1", "mentoring", 12, 9.5),
        ("S2", "academic", 0, 0.0),
        ("S2", "mentoring", None, None),
    ]


def test_the_dose_columns_may_be_left_out_of_the_file(engine: Engine) -> None:
    import_files(engine, WORLD)  # WORLD's services.csv has no sessions or hours column
    stored = read_table(engine, table_of(Service))
    assert stored.height == 1
    assert stored["sessions"].to_list() == [None]
    assert stored["hours"].to_list() == [None]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ("-1,2.5", "services.csv:2:sessions: negative (-1)"),
        ("3,-0.5", "services.csv:2:hours: negative (-0.5)"),
        ("2.5,4", "services.csv:2:sessions: not a whole number (2.5)"),
        ("four,4", "services.csv:2:sessions: not a whole number (four)"),
        ("4,lots", "services.csv:2:hours: not a number (lots)"),
    ],
)
def test_a_bad_dose_cell_is_named_and_nothing_is_written(
    shared_engine: Engine, cells: str, expected: str
) -> None:
    before = counts(shared_engine)
    files = {
        "services.csv": csv(HEADER, f"S1,ORGA,academic,2026-10-05,,{cells}"),
    }
    with pytest.raises(ImportRejected) as rejection:
        import_files(shared_engine, files)
    assert rejection.value.report_lines() == [expected]
    assert counts(shared_engine) == before
