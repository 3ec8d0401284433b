"""Running a scoped SELECT into Polars, and the transaction every student-level request uses.

`student_request` opens one transaction for a read and its audit record, so both commit
together. `frame` turns a Core SELECT into a Polars frame with SQLAlchemy's own type
processing (dates come back as dates on SQLite as on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, Select


@contextmanager
def student_request(engine: Engine) -> Iterator[Connection]:
    """One transaction: the read and its audit record commit together or not at all."""
    with engine.begin() as connection:
        yield connection


def frame(
    connection: Connection,
    statement: Select[Any],
    schema: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """The rows of `statement` as a frame; `schema` fixes dtypes when there are no rows."""
    result = connection.execute(statement)
    columns = list(result.keys())
    rows = result.all()
    if not rows:
        if schema:
            return pl.DataFrame(schema={c: schema.get(c, pl.String) for c in columns})
        return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema=columns,
        orient="row",
        schema_overrides=schema or {},
        infer_schema_length=None,
    )
