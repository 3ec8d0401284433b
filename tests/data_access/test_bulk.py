"""Bulk writes and whole-table reads give back exactly the frames that went in."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Engine

from data_access.bulk import insert_frame, read_table
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
