"""Writing checked rows: which keys exist already, the upsert, and the import history.

One import is one transaction (import-format.md). Rows whose key is not in the table are
inserted, rows whose key is are updated (upsert; never a duplicate). A table none of whose
incoming keys exist yet is written with the plain bulk insert (executemany on SQLite,
COPY on PostgreSQL); otherwise with `data_access.bulk.upsert_frame` (ON CONFLICT DO
UPDATE; on PostgreSQL through COPY into a temporary table). The `import_run` row records
who, when, each file with its sha256 checksum and counts, and the totals, in the same
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection, Engine, Table, insert, inspect
from sqlalchemy.exc import DBAPIError

from data_access.bulk import insert_frame, read_table, upsert_frame
from data_access.models import IMPORT_TABLES, ImportRun, table_of
from data_access.progress import Progress

#: Rows written between two progress reports.
PROGRESS_ROWS = 250_000
#: PostgreSQL: from this many rows on, a table's foreign keys are checked once, after the
#: write, instead of once per row (`foreign_keys_checked_once`).
CHECK_ONCE_ROWS = 50_000


def import_table(kind: str) -> Table:
    return table_of(IMPORT_TABLES[kind])


def key_columns(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def existing_mask(engine: Engine, table: Table, rows: pl.DataFrame) -> pl.Series:
    """For each row of `rows`, whether its primary key is already in `table`."""
    key = key_columns(table)
    if rows.height == 0:
        return pl.Series("exists", [], dtype=pl.Boolean)
    stored = read_table(engine, table, key)
    if stored.height == 0:
        return pl.Series("exists", [False] * rows.height, dtype=pl.Boolean)
    marked = (
        rows.select(key)
        .with_row_index("_row")
        .join(
            stored.unique().with_columns(pl.lit(True).alias("exists")),
            on=key,
            how="left",
            nulls_equal=False,
        )
        .sort("_row")
    )
    return marked.get_column("exists").fill_null(False)


@contextmanager
def foreign_keys_checked_once(connection: Connection, table: Table, rows: int) -> Iterator[None]:
    """On PostgreSQL, for a large write by the table's owner: drop the table's foreign keys
    for the write and add them back after it.

    PostgreSQL checks a foreign key with a trigger per inserted row (most of the time of a
    bulk COPY into course_mark); adding the constraint back checks every row in one join,
    and fails the transaction if any reference is broken, so the guarantee is unchanged
    and all of it stays inside the import's transaction. The rows' references were
    already checked by the importer. Where the role may not alter the table, or a lock is
    not granted within a few seconds (someone is reading it), nothing is dropped and the
    per-row checks run as usual.
    """
    if connection.dialect.name != "postgresql" or rows < CHECK_ONCE_ROWS:
        yield
        return
    keys = inspect(connection).get_foreign_keys(table.name)
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
            for key in keys:
                connection.exec_driver_sql(
                    f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{key["name"]}"'
                )
            connection.exec_driver_sql("SET LOCAL lock_timeout = DEFAULT")
    except DBAPIError:
        yield
        return
    yield
    for key in keys:
        columns = ", ".join(f'"{c}"' for c in key["constrained_columns"])
        referred = ", ".join(f'"{c}"' for c in key["referred_columns"])
        connection.exec_driver_sql(
            f'ALTER TABLE "{table.name}" ADD CONSTRAINT "{key["name"]}" FOREIGN KEY ({columns}) '
            f'REFERENCES "{key["referred_table"]}" ({referred})'
        )


@dataclass(frozen=True)
class TableWrite:
    """Rows for one table: the frame (columns named as the table's) and how many exist."""

    kind: str
    rows: pl.DataFrame
    existing: int


@dataclass(frozen=True)
class FileRecord:
    name: str
    kind: str
    sha256: str
    rows: int
    inserted: int
    updated: int


def write_import(
    engine: Engine,
    writes: Sequence[TableWrite],
    files: Sequence[FileRecord],
    imported_by: str,
    started_at: datetime,
    progress: Progress,
) -> int:
    """Write every table and the import record in one transaction; returns the import id."""
    total = sum(w.rows.height for w in writes)
    done = 0
    with engine.begin() as connection:
        for write in writes:
            table = import_table(write.kind)
            # In key order: index pages fill in order (and PostgreSQL's checks hit in order).
            rows = write.rows.sort(key_columns(table))
            with foreign_keys_checked_once(connection, table, rows.height):
                for offset in range(0, max(rows.height, 1), PROGRESS_ROWS):
                    chunk = rows.slice(offset, PROGRESS_ROWS)
                    if write.existing == 0:
                        insert_frame(connection, table, chunk)
                    else:
                        upsert_frame(connection, table, chunk)
                    done += chunk.height
                    progress(done, total, f"writing {table.name}")
        result = connection.execute(
            insert(table_of(ImportRun)).values(
                started_at=started_at,
                finished_at=datetime.now(UTC),
                imported_by=imported_by,
                files=json.dumps([f.__dict__ for f in files]),
                rows_inserted=sum(f.inserted for f in files),
                rows_updated=sum(f.updated for f in files),
            )
        )
        key = result.inserted_primary_key
        return int(key[0]) if key else 0
