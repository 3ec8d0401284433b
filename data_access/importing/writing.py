"""Writing checked rows: which keys exist already, the upsert, and the import history.

One import is one transaction (docs/import-format.md). Rows whose key is not in the table are
inserted, rows whose key is are updated (upsert; never a duplicate). A table none of whose
incoming keys exist yet is written with the plain bulk insert (executemany on SQLite,
COPY on PostgreSQL); otherwise with `data_access.bulk.upsert_frame` (ON CONFLICT DO
UPDATE; on PostgreSQL through COPY into a temporary table). The `import_run` row records
who, when, each file with its sha256 checksum and counts, and the totals, in the same
transaction.

Writing runs in a background thread (`BackgroundWriter`) while the importer goes on
checking the next files: the checks use this process's cores, the database its own. If a
problem turns up anywhere, the writer's transaction is rolled back: nothing is committed.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection, Engine, Table, insert, inspect
from sqlalchemy.exc import DBAPIError

from data_access.bulk import insert_frame, read_table, upsert_frame
from data_access.models import IMPORT_TABLES, ImportRun, table_of

#: Rows written between two progress reports.
PROGRESS_ROWS = 250_000
#: PostgreSQL: from this many rows on, a table's foreign keys (and, if it was empty, its
#: indexes) are checked and built once, after the write, instead of per row (`loaded_in_bulk`).
CHECK_ONCE_ROWS = 50_000


def import_table(kind: str) -> Table:
    return table_of(IMPORT_TABLES[kind])


def key_columns(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def stored_keys(engine: Engine, table: Table) -> pl.DataFrame:
    """The primary keys already in `table`."""
    return read_table(engine, table, key_columns(table))


def existing_mask(stored: pl.DataFrame, rows: pl.DataFrame) -> pl.Series:
    """For each row of `rows` (its key columns), whether that key is among `stored`."""
    key = list(stored.columns)
    if rows.height == 0 or stored.height == 0:
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


def _referenced(table: Table) -> bool:
    """Whether some table's foreign key refers to `table`."""
    return any(
        key.column.table is table
        for other in table.metadata.tables.values()
        for key in other.foreign_keys
    )


@contextmanager
def loaded_in_bulk(connection: Connection, table: Table, rows: int, empty: bool) -> Iterator[None]:
    """On PostgreSQL, for a large write by the table's owner: check its foreign keys once,
    after the write, instead of once per row; and into an empty table that no other table
    refers to, build its primary key and indexes once, after the write, instead of row by
    row. Elsewhere, or when the table cannot be altered, the write runs as it is.

    PostgreSQL checks a foreign key with a trigger per inserted row (most of the time of a
    bulk COPY into course_mark) and updates each index per row; adding a constraint back
    checks every row in one join (and fails the transaction if a reference is broken),
    and an index built afterwards is one sort. The guarantees are unchanged and all of it
    stays inside the import's transaction; the rows' references and keys were already
    checked by the importer. Where the role may not alter the table, or a lock is not
    granted within a few seconds (someone is reading it), nothing is dropped.

    The price: PostgreSQL locks the table and the tables its keys refer to (students,
    schools, organisations, users) exclusively until the import commits, so readers wait
    for it. Hence only for large writes (`CHECK_ONCE_ROWS`), the bulk loads it pays for.
    """
    if connection.dialect.name != "postgresql" or rows < CHECK_ONCE_ROWS:
        yield
        return
    inspector = inspect(connection)
    keys = inspector.get_foreign_keys(table.name)
    rebuild = empty and not _referenced(table)
    indexes = inspector.get_indexes(table.name) if rebuild else []
    primary = inspector.get_pk_constraint(table.name) if rebuild else None
    name = table.name
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
            for key in keys:
                connection.exec_driver_sql(f'ALTER TABLE "{name}" DROP CONSTRAINT "{key["name"]}"')
            for index in indexes:
                connection.exec_driver_sql(f'DROP INDEX "{index["name"]}"')
            if primary and primary["name"]:
                connection.exec_driver_sql(
                    f'ALTER TABLE "{name}" DROP CONSTRAINT "{primary["name"]}"'
                )
            connection.exec_driver_sql("SET LOCAL lock_timeout = DEFAULT")
    except DBAPIError:
        yield
        return
    yield
    if primary and primary["name"]:
        columns = ", ".join(f'"{c}"' for c in primary["constrained_columns"])
        connection.exec_driver_sql(
            f'ALTER TABLE "{name}" ADD CONSTRAINT "{primary["name"]}" PRIMARY KEY ({columns})'
        )
    for index in indexes:
        columns = ", ".join(f'"{c}"' for c in index["column_names"])
        unique = "UNIQUE " if index["unique"] else ""
        connection.exec_driver_sql(
            f'CREATE {unique}INDEX "{index["name"]}" ON "{name}" ({columns})'
        )
    for key in keys:
        columns = ", ".join(f'"{c}"' for c in key["constrained_columns"])
        referred = ", ".join(f'"{c}"' for c in key["referred_columns"])
        options = key.get("options") or {}
        actions = "".join(
            f" ON {event.upper()} {options[event]}"
            for event in ("ondelete", "onupdate")
            if options.get(event)
        )
        connection.exec_driver_sql(
            f'ALTER TABLE "{name}" ADD CONSTRAINT "{key["name"]}" FOREIGN KEY ({columns}) '
            f'REFERENCES "{key["referred_table"]}" ({referred}){actions}'
        )


@dataclass(frozen=True)
class TableWrite:
    """Rows for one table (columns named as the table's), how many keys exist, and the
    share of the import's work (in bytes of its files) the write stands for."""

    kind: str
    rows: pl.DataFrame
    existing: int
    work: int = 0
    #: The table held no row at all before the import.
    empty: bool = False


@dataclass(frozen=True)
class CustomWrite:
    """A write that is not an upsert of one table (the Clearinghouse report replaces its
    students' rows: `data_access.importing.nsc_writing`), run in the import's transaction."""

    label: str
    write: Callable[[Connection], object]
    work: int = 0


@dataclass(frozen=True)
class FileRecord:
    name: str
    kind: str
    sha256: str
    rows: int
    inserted: int
    updated: int


def write_table(connection: Connection, write: TableWrite, done: Callable[[int], None]) -> None:
    """Write one table's rows in key order; `done(rows)` after each chunk."""
    table = import_table(write.kind)
    # In key order: index pages fill in order (and PostgreSQL's checks hit in order).
    rows = write.rows.sort(key_columns(table))
    with loaded_in_bulk(connection, table, rows.height, write.empty):
        for offset in range(0, rows.height, PROGRESS_ROWS):
            chunk = rows.slice(offset, PROGRESS_ROWS)
            if write.existing == 0:
                insert_frame(connection, table, chunk)
            else:
                upsert_frame(connection, table, chunk)
            done(chunk.height)


def record_import(
    connection: Connection,
    files: Sequence[FileRecord],
    imported_by: str,
    started_at: datetime,
) -> int:
    """The `import_run` row of a successful import; returns its id."""
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


class _Abort(Exception):
    """Raised inside the writer's transaction to roll it back."""


class BackgroundWriter:
    """One transaction, written by one thread while the caller goes on checking files.

    Tables are written in the order they are submitted; `commit` adds the import record
    (and what `record` writes with it: the import's audit event) and commits, `abort` rolls everything back. The thread never calls the caller's
    progress callback (a Streamlit page may only be updated from its own thread): it
    counts the work done in `work_done`, which the caller reports. An error ends the
    transaction (rolled back) and is kept in `error` for the caller.
    """

    def __init__(
        self,
        engine: Engine,
        record: Callable[[Connection, int, Sequence[FileRecord]], object] | None = None,
    ) -> None:
        self.engine = engine
        self.record = record
        self.work_done = 0
        self.current = ""
        self.error: BaseException | None = None
        self.import_id: int | None = None
        # At most one table waits while another is written: memory stays bounded when the
        # database is slower than the checks.
        self._queue: queue.Queue[
            TableWrite | CustomWrite | tuple[Sequence[FileRecord], str, datetime] | None
        ] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(
            target=self._run, name="pathwise-import-writer", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            with self.engine.begin() as connection:
                while True:
                    item = self._queue.get()
                    if item is None:
                        raise _Abort
                    if isinstance(item, TableWrite):
                        self._write(connection, item)
                        continue
                    if isinstance(item, CustomWrite):
                        self.current = item.label
                        item.write(connection)
                        self.work_done += item.work
                        continue
                    files, imported_by, started_at = item
                    self.import_id = record_import(connection, files, imported_by, started_at)
                    if self.record is not None:
                        self.record(connection, self.import_id, files)
                    return
        except _Abort:
            return
        except BaseException as error:  # kept for the caller's thread
            self.error = error

    def _write(self, connection: Connection, write: TableWrite) -> None:
        self.current = import_table(write.kind).name
        total = max(write.rows.height, 1)
        written = 0
        start = self.work_done

        def done(rows: int) -> None:
            nonlocal written
            written += rows
            self.work_done = start + write.work * written // total

        write_table(connection, write, done)
        self.work_done = start + write.work

    def submit(self, write: TableWrite | CustomWrite, poll: Callable[[], None]) -> None:
        """Queue a table; waits (calling `poll` meanwhile) while another one is queued."""
        while self._thread.is_alive():
            try:
                self._queue.put(write, timeout=0.25)
                return
            except queue.Full:
                poll()

    def failed(self) -> bool:
        return self.error is not None

    def wait(self, poll: Callable[[], None], seconds: float = 0.25) -> None:
        while self._thread.is_alive():
            self._thread.join(seconds)
            poll()

    def commit(
        self,
        files: Sequence[FileRecord],
        imported_by: str,
        started_at: datetime,
        poll: Callable[[], None],
    ) -> int | None:
        """Write the import record and commit; returns the import id, or None when the
        writer failed (`error` says why; nothing was committed)."""
        while self._thread.is_alive():
            try:
                self._queue.put((files, imported_by, started_at), timeout=0.25)
                break
            except queue.Full:
                poll()
        self.wait(poll)
        return None if self.error is not None else self.import_id

    def abort(self) -> None:
        """Roll back everything written so far and wait for the thread to end."""
        with contextlib.suppress(queue.Empty):
            self._queue.get_nowait()  # a table still waiting need not be written
        while self._thread.is_alive():
            try:
                self._queue.put(None, timeout=0.25)
                break
            except queue.Full:
                continue
        self._thread.join()
