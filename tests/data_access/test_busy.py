"""A read that cannot write its audit record because an import holds SQLite's write lock
fails as `DatabaseBusy` (said on the page as "an import is running, try again in a
minute"), never as the driver's `database is locked` stack trace.

The lock is real: a second connection holds SQLite's write lock (`BEGIN IMMEDIATE`, as an
import's transaction does) while a counselor opens a student's record, which is audited
in the read's own transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from streamlit.testing.v1 import AppTest

from data_access import records
from data_access.busy import BUSY_MESSAGE, DatabaseBusy
from data_access.identity import sign_in
from data_access.models import AuditEvent, table_of
from tests.worlds import TODAY, build_small_world


@pytest.fixture
def world(sqlite_engine: Engine) -> Engine:
    build_small_world(sqlite_engine)

    def short_wait(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA busy_timeout=200")  # the app waits 10 s; a test need not

    event.listen(sqlite_engine, "connect", short_wait)
    sqlite_engine.dispose()
    return sqlite_engine


@pytest.fixture
def import_writing(world: Engine) -> Iterator[sqlite3.Connection]:
    """Another connection holding the write lock, as a large import's transaction does."""
    writer = sqlite3.connect(str(world.url.database), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    yield writer
    writer.execute("ROLLBACK")
    writer.close()


def _audit_events(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table_of(AuditEvent))).scalar_one()
        )


def test_an_audited_read_during_an_import_is_database_busy(
    world: Engine, import_writing: sqlite3.Connection
) -> None:
    counselor = sign_in(world, "counselor@d.org", TODAY)
    before = _audit_events(world)
    with pytest.raises(DatabaseBusy) as busy:
        records.student_record(world, counselor, "S1")
    assert str(busy.value).startswith(BUSY_MESSAGE)
    assert "database is locked" in busy.value.detail
    import_writing.execute("ROLLBACK")
    import_writing.execute("BEGIN")
    assert _audit_events(world) == before  # the read and its record: neither happened
    assert records.student_record(world, counselor, "S1").student_id == "S1"


def _page_that_meets_a_locked_database() -> None:
    """A page (wrapped by the guard, as every page is) whose audited read meets a locked
    SQLite database; the test's environment says which one."""
    import os
    import sqlite3

    from data_access.engine import make_engine
    from ui.guard import guarded

    path = os.environ["PATHWISE_BUSY_TEST_DB"]
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")

    def page() -> None:
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout=200")
            connection.exec_driver_sql("INSERT INTO pathwise_meta VALUES ('k', 'v')")

    try:
        guarded(page)()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_the_page_says_an_import_is_running_without_a_stack_trace(
    world: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATHWISE_BUSY_TEST_DB", str(world.url.database))
    at = AppTest.from_function(_page_that_meets_a_locked_database, default_timeout=30)
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [BUSY_MESSAGE]
    assert not at.error
