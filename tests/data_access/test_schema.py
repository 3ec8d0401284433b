"""The schema: migrations create every table and index; the audit log is append-only."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import DateTime, Engine, TextClause, bindparam, inspect, text
from sqlalchemy.exc import DBAPIError

from data_access import schema
from data_access.engine import make_engine
from data_access.models import IMPORT_TABLES

APP_TABLES = {
    "app_user",
    "caseload",
    "note",
    "referral",
    "audit_event",
    "audit_student",
    "import_run",
    "pathwise_meta",
}


def test_upgrade_creates_a_table_for_every_import_file_and_the_app_records(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    expected = {model.__tablename__ for model in IMPORT_TABLES.values()} | APP_TABLES
    assert expected <= tables
    assert schema.is_up_to_date(engine)


def test_upgrade_is_idempotent_and_downgrade_removes_everything(engine: Engine) -> None:
    schema.upgrade(engine)
    schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(engine)
    assert schema.is_up_to_date(engine)


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("student", ["school_id"]),
        ("consent", ["org_id", "student_id"]),
        ("consent", ["student_id"]),
        ("audit_student", ["student_id"]),
        ("audit_event", ["user_email"]),
    ],
)
def test_access_paths_are_indexed(engine: Engine, table: str, columns: list[str]) -> None:
    indexed = [index["column_names"] for index in inspect(engine).get_indexes(table)]
    assert columns in indexed


@pytest.mark.parametrize("table", ["attendance", "course_mark"])
def test_attendance_and_marks_are_keyed_by_student_then_year(engine: Engine, table: str) -> None:
    key = inspect(engine).get_pk_constraint(table)["constrained_columns"]
    assert key[:2] == ["student_id", "school_year"]


def _timed(statement: str) -> TextClause:
    """`statement` with `:at` (if any) bound as a DateTime, stored as SQLAlchemy stores it."""
    if ":at" not in statement:
        return text(statement)
    return text(statement).bindparams(bindparam("at", type_=DateTime(timezone=True)))


def _one_audit_event(engine: Engine) -> None:
    """Event 1 (or the next), read of student S1, appended as the application does it."""
    with engine.begin() as connection:
        event_id = connection.execute(
            _timed(
                "INSERT INTO audit_event (occurred_at, user_email, action, categories, outcome) "
                "VALUES (:at, 'a@x.org', 'student.read', '', 'allowed') RETURNING event_id"
            ),
            {"at": datetime.now(UTC)},
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO audit_student (event_id, student_id, legal_basis) "
                "VALUES (:id, 'S1', 'role:admin')"
            ),
            {"id": event_id},
        )


def _audit_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT e.event_id, e.user_email, e.action, s.student_id, s.legal_basis "
                    "FROM audit_event e LEFT JOIN audit_student s ON s.event_id = e.event_id "
                    "ORDER BY e.event_id, s.student_id"
                )
            )
        ]


_EVENT_COLUMNS = "(event_id, occurred_at, user_email, action, categories, outcome)"
_EVENT_VALUES = "(1, :at, 'forger@x.org', 'nothing', '', 'allowed')"
_STUDENT_COLUMNS = "(event_id, student_id, legal_basis)"
_STUDENT_VALUES = "(1, 'S1', 'forged')"

#: Every way an INSERT can overwrite an existing row, on each database. SQLite's REPLACE
#: deletes the old row without firing DELETE triggers unless `recursive_triggers` is on.
REWRITING_INSERTS = {
    "sqlite": [
        f"INSERT OR REPLACE INTO audit_event {_EVENT_COLUMNS} VALUES {_EVENT_VALUES}",
        f"REPLACE INTO audit_event {_EVENT_COLUMNS} VALUES {_EVENT_VALUES}",
        f"INSERT OR REPLACE INTO audit_student {_STUDENT_COLUMNS} VALUES {_STUDENT_VALUES}",
        f"REPLACE INTO audit_student {_STUDENT_COLUMNS} VALUES {_STUDENT_VALUES}",
    ],
    "postgresql": [
        "MERGE INTO audit_event t USING (SELECT 1 AS event_id) s ON t.event_id = s.event_id "
        "WHEN MATCHED THEN UPDATE SET user_email = 'forger@x.org'",
        "MERGE INTO audit_student t USING (SELECT 1 AS event_id) s ON t.event_id = s.event_id "
        "WHEN MATCHED THEN UPDATE SET legal_basis = 'forged'",
    ],
    "both": [
        f"INSERT INTO audit_event {_EVENT_COLUMNS} VALUES {_EVENT_VALUES} "
        "ON CONFLICT (event_id) DO UPDATE SET user_email = excluded.user_email",
        f"INSERT INTO audit_student {_STUDENT_COLUMNS} VALUES {_STUDENT_VALUES} "
        "ON CONFLICT (event_id, student_id) DO UPDATE SET legal_basis = excluded.legal_basis",
    ],
}


def _rewriting_inserts(dialect: str) -> list[str]:
    return REWRITING_INSERTS[dialect] + REWRITING_INSERTS["both"]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET action = 'nothing'", "DELETE FROM audit_event"],
)
def test_the_audit_log_refuses_updates_and_deletes(engine: Engine, statement: str) -> None:
    _one_audit_event(engine)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM audit_event")).scalars().all() == [
            "student.read"
        ]


def test_the_audit_log_refuses_inserts_that_replace_or_upsert_an_existing_entry(
    engine: Engine,
) -> None:
    _one_audit_event(engine)
    before = _audit_rows(engine)
    for statement in _rewriting_inserts(engine.dialect.name):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(_timed(statement), {"at": datetime.now(UTC)})
        assert _audit_rows(engine) == before, statement


def test_on_sqlite_a_replace_is_refused_even_without_recursive_triggers(
    sqlite_engine: Engine,
) -> None:
    """The `sqlite3` shell, or any client that does not turn `recursive_triggers` on."""
    _one_audit_event(sqlite_engine)
    before = _audit_rows(sqlite_engine)
    plain = sqlite3.connect(sqlite_engine.url.database or "")
    try:
        assert plain.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        for statement in _rewriting_inserts("sqlite"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                plain.execute(statement, {"at": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S.%f}"})
            plain.rollback()
    finally:
        plain.close()
    assert _audit_rows(sqlite_engine) == before


def test_the_time_of_an_audit_entry_comes_from_the_database_not_the_client(
    engine: Engine,
) -> None:
    """PostgreSQL overwrites the client's time with the transaction's; SQLite (whose clock
    is the host's) refuses a time that is not now."""
    forged = datetime(2000, 1, 1, tzinfo=UTC)
    statement = _timed(
        "INSERT INTO audit_event (occurred_at, user_email, action, categories, outcome) "
        "VALUES (:at, 'forger@x.org', 'student.read', '', 'allowed')"
    )
    if engine.dialect.name == "sqlite":
        refused = pytest.raises(DBAPIError, match="the time of an audit entry")
        with refused, engine.begin() as connection:
            connection.execute(statement, {"at": forged})
        assert _audit_rows(engine) == []
        return
    with engine.begin() as connection:
        connection.execute(statement, {"at": forged})
        database_now = connection.execute(text("SELECT now()")).scalar_one()
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT occurred_at FROM audit_event")).scalar_one()
    assert abs(stored - database_now) < timedelta(seconds=5)


def test_sqlite_connections_fire_delete_triggers_for_replace(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("PRAGMA recursive_triggers")).scalar() == 1


def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_reject_a_student_at_an_unknown_school(engine: Engine) -> None:
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO student (student_id, first_name, last_name, school_id, grade_level, cohort_year) "
                "VALUES ('S1', 'Ana', 'Diaz', 'NOPE', 9, 2030)"
            )
        )


@pytest.mark.postgres
def test_on_postgresql_the_application_role_cannot_update_or_delete_audit_rows(
    pg_engine: Engine,
) -> None:
    with pg_engine.begin() as connection:
        connection.execute(text("CREATE ROLE pathwise_app LOGIN"))
    schema.grant_app_role(pg_engine, "pathwise_app")
    _one_audit_event(pg_engine)
    app_url = pg_engine.url.set(username="pathwise_app")
    app = make_engine(app_url.render_as_string(hide_password=False))
    try:
        _one_audit_event(app)  # it may append
        with app.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() == 2
        for statement in (
            "UPDATE audit_event SET action = 'x'",
            "DELETE FROM audit_event",
            "TRUNCATE audit_event",
        ):
            with pytest.raises(DBAPIError, match="permission denied"), app.begin() as connection:
                connection.execute(text(statement))
        with pytest.raises(DBAPIError, match="must be owner"), app.begin() as connection:
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER ALL"))
        for statement in _rewriting_inserts("postgresql"):
            with pytest.raises(DBAPIError, match="permission denied"), app.begin() as connection:
                connection.execute(_timed(statement), {"at": datetime.now(UTC)})
        with app.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_event (occurred_at, user_email, action, categories, outcome) "
                    "VALUES ('2000-01-01T00:00:00Z', 'app@x.org', 'student.read', '', 'allowed')"
                )
            )
        with app.connect() as connection:
            earliest = connection.execute(text("SELECT min(occurred_at) FROM audit_event")).scalar()
        assert earliest is not None and earliest.year > 2000
    finally:
        app.dispose()
        with pg_engine.begin() as connection:
            connection.execute(text("DROP OWNED BY pathwise_app"))
