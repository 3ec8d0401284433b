"""audit log: no rewriting through INSERT, the time set by the database, the rules' date
and the operator of command-line requests

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

The audit log is append-only (docs/access-rules.md; migration 0001 refuses UPDATE and DELETE). Two
holes remained (issue 10, item 4):

- On SQLite, `INSERT OR REPLACE` (and `REPLACE INTO`) deletes the existing row without
  firing DELETE triggers unless the connection turned `recursive_triggers` on, so an entry
  could be silently replaced. A BEFORE INSERT trigger now refuses an insert whose key is
  already in the log, whatever the connection's settings (UPSERT too); the application's
  connections also run with `recursive_triggers` on (`data_access.engine`).
- The time of an entry came from the client. On PostgreSQL a BEFORE INSERT trigger now
  sets it to the transaction's time (`now()`); on SQLite (an embedded database whose clock
  is the host's) a trigger refuses a time that is not now, within two minutes, in the form
  SQLAlchemy writes.

And the log did not say when a request was served under the rules of another date than the
real one (`--as-of`), nor who ran it from the command line (item 5). Three nullable columns
of audit_event: `rules_as_of` (the date whose rules applied, when not the real date), `via`
("app" or "cli"; blank on earlier entries) and `os_user` (the operating-system user who ran
a command).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: The key of each audit table, as a SQLite condition "this row is already in the log".
_EXISTING = {
    "audit_event": "SELECT 1 FROM audit_event WHERE event_id = NEW.event_id",
    "audit_student": (
        "SELECT 1 FROM audit_student WHERE event_id = NEW.event_id AND student_id = NEW.student_id"
    ),
}

#: How far (in days) a client's time may be from SQLite's clock: two minutes.
_SQLITE_CLOCK_TOLERANCE = "120.0 / 86400"
#: The exact text SQLAlchemy stores for a DateTime on SQLite.
_SQLITE_DATETIME_GLOB = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] "
    "[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"
)


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("rules_as_of", sa.Date(), nullable=True))
    op.add_column("audit_event", sa.Column("via", sa.String(length=16), nullable=True))
    op.add_column("audit_event", sa.Column("os_user", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # INSERT ... ON CONFLICT DO UPDATE and MERGE already fire the UPDATE trigger of 0001
        # (and need an UPDATE right the application's role does not have).
        op.execute(
            """
            CREATE FUNCTION pathwise_audit_time() RETURNS trigger AS $$
            BEGIN
                NEW.occurred_at := now();
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_event_time BEFORE INSERT ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION pathwise_audit_time()"
        )
        return
    for table, existing in _EXISTING.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_overwrite BEFORE INSERT ON {table} "
            f"WHEN EXISTS ({existing}) "
            f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only (INSERT over an existing "
            f"entry of {table})'); END"
        )
    op.execute(
        "CREATE TRIGGER audit_event_time BEFORE INSERT ON audit_event "
        "WHEN NEW.occurred_at IS NULL OR typeof(NEW.occurred_at) != 'text' "
        f"OR NEW.occurred_at NOT GLOB '{_SQLITE_DATETIME_GLOB}' "
        "OR abs(julianday(NEW.occurred_at) - julianday('now')) > "
        f"{_SQLITE_CLOCK_TOLERANCE} "
        "BEGIN SELECT RAISE(ABORT, 'the time of an audit entry is the time it is written "
        "(UTC, YYYY-MM-DD HH:MM:SS.ffffff)'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_time ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS pathwise_audit_time()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_time")
        for table in _EXISTING:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_overwrite")
    for column in ("os_user", "via", "rules_as_of"):
        op.drop_column("audit_event", column)
