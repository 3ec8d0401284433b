"""The child process of `data_access.sqlite_arrow`: SQLite tables to Arrow IPC files.

Run as a script (`python data_access/sqlite_arrow_child.py`, the job as JSON on standard
input), not as a module of the package: it imports only the ADBC driver and pyarrow, so
it starts in half a second, without SQLAlchemy or Polars. It loads the driver's own copy
of SQLite: nothing here may run in a process that uses Python's sqlite3 (see
`data_access.sqlite_arrow`). Nothing here writes to the database.

Two connections read in two threads (the driver leaves the interpreter while it reads),
each table in two halves by rowid, the first half on one connection and the second on
the other; each thread writes its halves as `<table index>.<half>.arrow` as it reads them.
Each connection reads inside one read transaction, and both must see the same snapshot,
as one connection would: a third connection reads `PRAGMA data_version` before the two
transactions begin and after both have, and when it changed (another connection
committed in between: https://sqlite.org/pragma.html#pragma_data_version) the first
connection reads every table whole, alone (`<index>.0.arrow` only).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

#: Rows per Arrow batch: large, so that the driver infers each column's type from the whole
#: table (or half) rather than from its first rows.
BATCH_ROWS = 1 << 30


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(table: str, columns: Sequence[str], where: str = "") -> str:
    return f"SELECT {', '.join(map(_quoted, columns))} FROM {_quoted(table)}{where}"


def _data_version(cursor: Any) -> int:
    cursor.execute("PRAGMA data_version")
    return int(cursor.fetchone()[0])


def _write(cursor: Any, sql: str, path: Path) -> None:
    import adbc_driver_sqlite
    import pyarrow.ipc

    batch = {adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value: str(BATCH_ROWS)}
    cursor.adbc_statement.set_options(**batch)
    cursor.execute(sql)
    table = cursor.fetch_arrow_table()
    with pyarrow.ipc.new_file(path, table.schema) as writer:
        writer.write_table(table)


def read_to_files(
    database: Path,
    tables: Sequence[tuple[str, Sequence[str]]],
    out: Path,
    *,
    between: Callable[[], object] | None = None,
) -> bool:
    """Every table (`(name, columns)`, in order) to `out/<index>.<half>.arrow`, one
    snapshot for all (see the module). True when two connections read (halves 0 and 1),
    False when one did (half 0 only: the snapshot moved while they began). `between` runs
    after the first connection has begun and before the second does (for the tests: a
    commit there moves the snapshot)."""
    import adbc_driver_sqlite.dbapi

    uri = f"file:{database.resolve()}?mode=ro"
    # Not in autocommit mode, the driver opens a transaction: a connection's reads share
    # one snapshot, taken at its first read.
    with (
        adbc_driver_sqlite.dbapi.connect(uri, autocommit=True) as watcher,
        watcher.cursor() as watch,
        adbc_driver_sqlite.dbapi.connect(uri, autocommit=False) as first,
        adbc_driver_sqlite.dbapi.connect(uri, autocommit=False) as second,
        first.cursor() as one,
        second.cursor() as other,
    ):
        before = _data_version(watch)
        for cursor in (one, other):
            cursor.execute("SELECT count(*) FROM sqlite_master")
            cursor.fetchall()
            if between is not None and cursor is one:
                between()
        together = _data_version(watch) == before
        jobs: list[list[tuple[str, Path]]] = [[], []]
        for index, (table, columns) in enumerate(tables):
            if not together:
                jobs[0].append((_select(table, columns), out / f"{index}.0.arrow"))
                continue
            one.execute(f"SELECT min(rowid), max(rowid) FROM {_quoted(table)}")
            low, high = one.fetchone() or (None, None)
            middle = ((low or 0) + (high or 0)) // 2
            for half, where in enumerate((f" WHERE rowid <= {middle}", f" WHERE rowid > {middle}")):
                jobs[half].append((_select(table, columns, where), out / f"{index}.{half}.arrow"))

        def read(cursor: Any, work: list[tuple[str, Path]]) -> None:
            for sql, path in work:
                _write(cursor, sql, path)

        with ThreadPoolExecutor(max_workers=2) as threads:
            list(threads.map(read, (one, other), jobs))
        first.rollback()
        second.rollback()
    return together


if __name__ == "__main__":
    job: Mapping[str, Any] = json.loads(sys.stdin.read())
    read_to_files(Path(job["database"]), [tuple(t) for t in job["tables"]], Path(job["out"]))
