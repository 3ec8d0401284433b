"""The schema: migrations create every table and index; the audit log is append-only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text
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


def _one_audit_event(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_event (occurred_at, user_email, action, categories, outcome) "
                "VALUES (:at, 'a@x.org', 'student.read', '', 'allowed')"
            ),
            {"at": datetime(2026, 11, 1, tzinfo=UTC)},
        )


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
    finally:
        app.dispose()
        with pg_engine.begin() as connection:
            connection.execute(text("DROP OWNED BY pathwise_app"))
