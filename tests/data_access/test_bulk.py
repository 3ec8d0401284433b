"""Bulk writes and whole-table reads give back exactly the frames that went in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from data_access.bulk import insert_frame, read_table, read_tables
from data_access.models import IMPORT_TABLES, table_of
from demo_district.generate import DemoSpec, district

SPEC = DemoSpec(students=150, seed=11, today=date(2026, 11, 22))


def test_every_import_table_reads_back_what_was_written(engine: Engine) -> None:
    written: dict[str, list[pl.DataFrame]] = {}
    with engine.begin() as connection:
        for part in district(SPEC):
            for name in IMPORT_TABLES:
                if name in part.tables:
                    insert_frame(connection, table_of(IMPORT_TABLES[name]), part.tables[name])
                    written.setdefault(name, []).append(part.tables[name])
    for name, model in IMPORT_TABLES.items():
        expected = pl.concat(written[name])
        key = [c.name for c in table_of(model).primary_key.columns]
        back = read_table(engine, table_of(model), expected.columns).sort(key)
        assert back.equals(expected.sort(key)), name


def test_sqlite_reads_see_later_writes_and_leave_the_engines_wal_alone(
    sqlite_engine: Engine,
) -> None:
    """ADBC links its own SQLite; a read-write ADBC connection closing used to delete the WAL
    the engine was still writing to, so later writes vanished for every other connection."""
    import sqlite3

    from sqlalchemy import text

    schools = table_of(IMPORT_TABLES["schools"])
    with sqlite_engine.begin() as connection:
        connection.execute(text("INSERT INTO school VALUES ('A', 'a', 9, 12)"))
    assert read_table(sqlite_engine, schools).height == 1
    with sqlite_engine.begin() as connection:
        connection.execute(text("INSERT INTO school VALUES ('B', 'b', 9, 12)"))
    assert read_table(sqlite_engine, schools).height == 2
    database = sqlite_engine.url.database
    assert database is not None
    with sqlite3.connect(database) as other:
        assert other.execute("SELECT count(*) FROM school").fetchone() == (2,)


def test_sqlite_whole_table_reads_alongside_writes_never_corrupt(sqlite_engine: Engine) -> None:
    """Reads while another thread writes (as the importer does): with a second SQLite library
    in the process this corrupted the database ("database disk image is malformed")."""
    import sqlite3
    import threading

    schools = table_of(IMPORT_TABLES["schools"])

    def write() -> None:
        for batch in range(20):
            ids = [f"S{batch}-{i}" for i in range(500)]
            frame = pl.DataFrame(
                {"school_id": ids, "school_name": ids, "low_grade": 9, "high_grade": 12}
            )
            with sqlite_engine.begin() as connection:
                insert_frame(connection, schools, frame)

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        read_table(sqlite_engine, schools)
    writer.join()
    assert read_table(sqlite_engine, schools).height == 10_000
    database = sqlite_engine.url.database
    assert database is not None
    with sqlite3.connect(database) as other:
        assert other.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _awkward_students() -> pl.DataFrame:
    """Students whose values test a reader: nulls in the first rows, quotes, commas, new
    lines, accents, a column that is null in every row."""
    rows = []
    for number in range(3000):
        late = number >= 2500  # every optional value null in the first 2,500 rows
        rows.append(
            {
                "student_id": f"S{number:05d}",
                "first_name": ['Ana "Nené"', "José, Jr.", "Line\nbreak", "Zoë"][number % 4],
                "last_name": "O'Brien",
                "school_id": "A",
                "grade_level": 9 + number % 4,
                "cohort_year": 2027 + number % 4,
                "birth_date": date(2010, 1, 1 + number % 28) if late else None,
                "gender": "F" if late else None,
                "race_ethnicity": None,
                "english_learner": (number % 2 == 0) if late else None,
                "disability": None,
                "econ_disadvantaged": True if late else None,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


def _with_school(engine: Engine, students: pl.DataFrame) -> None:
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text("INSERT INTO school VALUES ('A', 'a', 9, 12)"))
        insert_frame(connection, table_of(IMPORT_TABLES["students"]), students)


def test_reading_several_tables_at_once_gives_what_reading_each_gives(engine: Engine) -> None:
    """`read_tables` (on a SQLite file: ADBC in a child process) and `read_table` agree on
    every value and type, nulls, dates, booleans and awkward text included."""
    students = _awkward_students()
    _with_school(engine, students)
    table = table_of(IMPORT_TABLES["students"])
    wanted = {"students": (table, None), "schools": (table_of(IMPORT_TABLES["schools"]), None)}
    together = read_tables(engine, wanted, child_from_rows=0)
    assert together["students"].equals(read_table(engine, table))
    assert (
        together["students"]
        .sort("student_id")
        .equals(students.select(together["students"].columns).sort("student_id"))
    )
    assert together["schools"]["school_id"].to_list() == ["A"]


def test_a_sqlite_file_is_read_by_the_child_process(sqlite_engine: Engine) -> None:
    """The fast path is taken (not only the fallback) and returns the stored form."""
    from data_access.sqlite_arrow import read_queries

    _with_school(sqlite_engine, _awkward_students())
    database = sqlite_engine.url.database
    assert database is not None
    found = read_queries(Path(database), {"s": ("student", ["student_id", "birth_date"])})
    assert found is not None and found["s"].height == 3000
    assert found["s"]["birth_date"].null_count() == 2500


def test_without_a_database_file_the_child_answers_none_and_tables_are_read_in_process(
    tmp_path: Path,
) -> None:
    from data_access import schema
    from data_access.engine import make_engine
    from data_access.sqlite_arrow import read_queries

    assert read_queries(tmp_path / "missing.db", {"s": ("student", ["student_id"])}) is None
    memory = make_engine("sqlite://")
    schema.upgrade(memory)
    _with_school(memory, _awkward_students())
    table = table_of(IMPORT_TABLES["students"])
    read = read_tables(memory, {"s": (table, None)}, child_from_rows=0)
    assert read["s"].equals(read_table(memory, table))


#: Runs `read_to_files` in its own process (it loads the driver's SQLite, which must never
#: share a process with Python's sqlite3), with a commit between the two connections'
#: first reads when asked.
READ_WITH_A_COMMIT = """
import json, sys
from pathlib import Path
import adbc_driver_sqlite.dbapi
import polars as pl
from data_access.sqlite_arrow_child import read_to_files

database, out, commit = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "commit"

def insert():
    with adbc_driver_sqlite.dbapi.connect(str(database), autocommit=True) as c, c.cursor() as cur:
        cur.execute("INSERT INTO t (x) VALUES (-1)")

together = read_to_files(database, [("t", ["x"])], out, between=insert if commit else None)
frame = pl.concat([pl.read_ipc(path) for path in sorted(out.glob("0.*.arrow"))])
print(json.dumps({"together": together, "rows": frame.height, "x": frame["x"].to_list()[:3]}))
"""


def _read_in_a_child(database: Path, out: Path, commit: bool) -> dict[str, object]:
    import json
    import subprocess
    import sys

    out.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            READ_WITH_A_COMMIT,
            str(database),
            str(out),
            str(commit and "commit"),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_two_connections_read_halves_of_one_snapshot_unless_a_commit_comes_between(
    tmp_path: Path,
) -> None:
    """The child reads each table in two halves on two connections only when both began on
    the same snapshot; a commit between their first reads makes the first connection read
    every table whole, so the rows are still one snapshot (here: the 1,000 rows, never
    the 1,001st committed in between)."""
    import sqlite3

    database = tmp_path / "halves.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x INTEGER)")
        connection.executemany("INSERT INTO t (x) VALUES (?)", [(i,) for i in range(1000)])
    connection.close()
    quiet = _read_in_a_child(database, tmp_path / "quiet", commit=False)
    assert quiet == {"together": True, "rows": 1000, "x": [0, 1, 2]}
    moved = _read_in_a_child(database, tmp_path / "moved", commit=True)
    assert moved == {"together": False, "rows": 1000, "x": [0, 1, 2]}
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM t").fetchone() == (1001,)
    connection.close()
