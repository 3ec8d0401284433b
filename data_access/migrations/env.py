"""Alembic environment: runs against the connection handed in by `data_access.schema`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import data_access.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from data_access.engine import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata)
            context.run_migrations()
        engine.dispose()
        return
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
