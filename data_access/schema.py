"""Schema management: `pathwise db upgrade` runs the Alembic migrations in this package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema to `revision` in one transaction."""
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)


APPEND_ONLY_TABLES = ("audit_event", "audit_student")


def grant_app_role(engine: Engine, role: str) -> list[str]:
    """PostgreSQL: give the application's login role what it needs, and no more.

    Deploy with two roles: the owner runs `pathwise db upgrade`; the application connects
    as `role`, which may read and write every table but may only SELECT and INSERT into
    the audit log (and the append-only triggers stop even the owner's UPDATE and DELETE).
    Returns the statements run.
    """
    if engine.dialect.name != "postgresql":
        raise ValueError("roles and grants exist only on PostgreSQL")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"not a plain role name: {role!r}")
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    statements = [f'GRANT USAGE ON SCHEMA public TO "{role}"']
    for table in tables:
        statements.append(f'REVOKE ALL ON "{table}" FROM "{role}"')
        if table in APPEND_ONLY_TABLES:
            statements.append(f'GRANT SELECT, INSERT ON "{table}" TO "{role}"')
        else:
            statements.append(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO "{role}"')
    statements.append(f'GRANT SELECT ON "alembic_version" TO "{role}"')
    statements.append(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    return statements
