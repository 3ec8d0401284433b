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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Engine, Table, insert

from data_access.bulk import insert_frame, read_table, upsert_frame
from data_access.models import IMPORT_TABLES, ImportRun, table_of
from data_access.progress import Progress

#: Rows written between two progress reports.
PROGRESS_ROWS = 250_000


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
            for offset in range(0, max(write.rows.height, 1), PROGRESS_ROWS):
                chunk = write.rows.slice(offset, PROGRESS_ROWS)
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
