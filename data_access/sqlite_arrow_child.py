"""The child process of `data_access.sqlite_arrow`: SQLite tables to Arrow IPC files.

Run as a script (`python data_access/sqlite_arrow_child.py`, the job as JSON on standard
input), not as a module of the package: it imports only the ADBC driver manager's core
and pyarrow (not its DB-API module, which imports pandas and Polars), so it starts in a
quarter of a second, without SQLAlchemy. It loads the driver's own copy
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


def _query(connection: Any, sql: str) -> Any:
    """The whole result of `sql` as a pyarrow Table (the driver's C stream, read by pyarrow
    outside the interpreter's lock)."""
    import adbc_driver_manager
    import adbc_driver_sqlite
    import pyarrow

    statement = adbc_driver_manager.AdbcStatement(connection)
    try:
        statement.set_options(
            **{adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value: str(BATCH_ROWS)}
        )
        statement.set_sql_query(sql)
        stream, _ = statement.execute_query()
        return pyarrow.RecordBatchReader._import_from_c(stream.address).read_all()
    finally:
        statement.close()


def _data_version(connection: Any) -> int:
    return int(_query(connection, "PRAGMA data_version").column(0)[0].as_py())


def _write(connection: Any, sql: str, path: Path) -> None:
    import pyarrow.ipc

    table = _query(connection, sql)
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
    import adbc_driver_manager
    import adbc_driver_sqlite

    database_handle = adbc_driver_sqlite.connect(f"file:{database.resolve()}?mode=ro")
    watcher = adbc_driver_manager.AdbcConnection(database_handle)
    # Without autocommit the driver opens a transaction: a connection's reads share one
    # snapshot, taken at its first read.
    one = adbc_driver_manager.AdbcConnection(database_handle)
    other = adbc_driver_manager.AdbcConnection(database_handle)
    try:
        one.set_autocommit(False)
        other.set_autocommit(False)
        before = _data_version(watcher)
        for connection in (one, other):
            _query(connection, "SELECT count(*) FROM sqlite_master")
            if between is not None and connection is one:
                between()
        together = _data_version(watcher) == before
        jobs: list[list[tuple[str, Path]]] = [[], []]
        for index, (table, columns) in enumerate(tables):
            if not together:
                jobs[0].append((_select(table, columns), out / f"{index}.0.arrow"))
                continue
            bounds = _query(one, f"SELECT min(rowid), max(rowid) FROM {_quoted(table)}")
            low, high = (bounds.column(i)[0].as_py() or 0 for i in (0, 1))
            middle = (low + high) // 2
            for half, where in enumerate((f" WHERE rowid <= {middle}", f" WHERE rowid > {middle}")):
                jobs[half].append((_select(table, columns, where), out / f"{index}.{half}.arrow"))

        def read(connection: Any, work: list[tuple[str, Path]]) -> None:
            for sql, path in work:
                _write(connection, sql, path)

        with ThreadPoolExecutor(max_workers=2) as threads:
            list(threads.map(read, (one, other), jobs))
        one.rollback()
        other.rollback()
    finally:
        for connection in (one, other, watcher):
            connection.close()
        database_handle.close()
    return together


if __name__ == "__main__":
    job: Mapping[str, Any] = json.loads(sys.stdin.read())
    read_to_files(Path(job["database"]), [tuple(t) for t in job["tables"]], Path(job["out"]))
