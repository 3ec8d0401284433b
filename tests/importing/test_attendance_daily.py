"""Daily attendance becomes cumulative snapshots: the expected rows are worked out by hand.

S1 at HS1, school year 2027 (from August 2026):
    Aug 27 present, Aug 28 absent_excused                      -> Aug 31: 2 enrolled, 1 absent
    Sep 1 suspended, Sep 2 present, Sep 3 absent_unexcused     -> Sep 3 (latest): 5, 3
S1 at HS2 after moving, 2027: Oct 5 present, Oct 6 absent_excused -> Oct 6 (latest): 2, 1
S2 at HS1 on both sides of the August 1 boundary:
    Jul 31 2026 present        -> school year 2026, Jul 31 (month end and latest): 1, 0
    Aug 1 2026 absent_excused  -> school year 2027, Aug 1 (latest): 1, 1
S2 at HS1 in 2027 also has Aug 3 present and, after a month without rows, Oct 1 present:
    -> Aug 31: 2, 1 (Aug 1 and Aug 3); Oct 1 (latest): 3, 1. September has no rows, no snapshot.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from sqlalchemy import Engine

from data_access.bulk import read_table
from data_access.importing import ImportRejected, import_files
from data_access.importing.daily_attendance import snapshots
from data_access.models import AttendanceSnapshot, table_of
from tests.importing.conftest import WORLD, csv

DAILY = [
    ("S1", "HS1", "2026-08-27", "present"),
    ("S1", "HS1", "2026-08-28", "absent_excused"),
    ("S1", "HS1", "2026-09-01", "suspended"),
    ("S1", "HS1", "2026-09-02", "present"),
    ("S1", "HS1", "2026-09-03", "absent_unexcused"),
    ("S1", "HS2", "2026-10-05", "present"),
    ("S1", "HS2", "2026-10-06", "absent_excused"),
    ("S2", "HS1", "2026-07-31", "present"),
    ("S2", "HS1", "2026-08-01", "absent_excused"),
    ("S2", "HS1", "2026-08-03", "present"),
    ("S2", "HS1", "2026-10-01", "present"),
]
EXPECTED = [
    ("S1", "HS1", 2027, date(2026, 8, 31), 2, 1),
    ("S1", "HS1", 2027, date(2026, 9, 3), 5, 3),
    ("S1", "HS2", 2027, date(2026, 10, 6), 2, 1),
    ("S2", "HS1", 2026, date(2026, 7, 31), 1, 0),
    ("S2", "HS1", 2027, date(2026, 8, 31), 2, 1),
    ("S2", "HS1", 2027, date(2026, 10, 1), 3, 1),
]
KEY = ["student_id", "school_id", "school_year", "as_of_date"]


def test_snapshots_by_hand() -> None:
    daily = pl.DataFrame(
        DAILY, schema=["student_id", "school_id", "date", "status"], orient="row"
    ).with_columns(pl.col("date").str.to_date())
    # Row order must not matter.
    assert snapshots(daily.reverse()).sort(KEY).rows() == EXPECTED


def test_daily_attendance_is_imported_as_snapshots(engine: Engine) -> None:
    import_files(engine, WORLD)
    lines = ["student_id,school_id,date,status"] + [",".join(row) for row in DAILY]
    result = import_files(engine, {"attendance_daily.csv": csv(*lines)})
    assert [(f.name, f.table, f.rows, f.inserted, f.updated) for f in result.files] == [
        ("attendance_daily.csv", "attendance", 11, 6, 0)
    ]
    stored = read_table(engine, table_of(AttendanceSnapshot)).sort(KEY)
    world_row = ("S1", "HS1", 2027, date(2026, 10, 31), 40, 6)  # from WORLD's attendance.csv
    assert stored.select(*KEY, "days_enrolled", "days_absent").rows() == sorted(
        [*EXPECTED, world_row]
    )


def test_the_same_day_twice_is_a_duplicate_key(engine: Engine) -> None:
    import_files(engine, WORLD)
    with pytest.raises(ImportRejected) as rejection:
        import_files(
            engine,
            {
                "attendance_daily.csv": csv(
                    "student_id,school_id,date,status",
                    "S1,HS1,2026-09-01,present",
                    "S1,HS2,2026-09-01,present",
                )
            },
        )
    assert [str(p) for p in rejection.value.problems] == [
        "attendance_daily.csv:3:student_id+date: duplicate key, first on line 2 (S1, 2026-09-01)"
    ]
