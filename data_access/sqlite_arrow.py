"""Whole SQLite tables as Arrow, read by a child process (the refresh's raw tables).

Reading is most of a refresh at scale: through Python's sqlite3 every value becomes a Python
object on its way to Polars (24 s for the 7M rows of the 100k-student demo). The ADBC SQLite
driver hands whole columns over as Arrow (9 s for the same rows), but it links its own copy
of SQLite, and two copies of SQLite in one process do not see each other's POSIX locks:
each may rebuild or delete the WAL files the other uses, which loses writes and corrupts
the database (https://sqlite.org/howtocorrupt.html, 2.2.1; see `bulk._sqlite_rows`). Two
processes are what SQLite's locking is built for, so the driver runs in a child process,
which opens the database read-only, runs every query inside one read transaction (the
tables are one consistent snapshot, as the parent's own reads would be) and writes each
result as an Arrow IPC file the parent memory-maps.

`read_queries` answers None when the child could not do it (the driver missing, an
in-memory database, any error): the caller then reads the slow way. Nothing here writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import polars as pl

#: Rows per Arrow batch: large, so that the driver infers each column's type from the whole
#: table rather than from its first rows (a column null in its first rows stays typed).
BATCH_ROWS = 1 << 30


def read_queries(database: Path, queries: Mapping[str, str]) -> dict[str, pl.DataFrame] | None:
    """The result of each query (`name -> SELECT`) on the SQLite file `database`, read in
    one transaction by a child process; None when it could not be read that way."""
    if not database.is_file():
        return None
    with tempfile.TemporaryDirectory(prefix="pathwise-read-") as out:
        job = {"database": str(database), "queries": dict(queries), "out": out}
        done = subprocess.run(
            [sys.executable, "-m", "data_access.sqlite_arrow"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return None
        try:
            return {
                name: pl.read_ipc(Path(out) / f"{index}.arrow")
                for index, name in enumerate(queries)
            }
        except (OSError, pl.exceptions.PolarsError):
            return None


def _child(job: Mapping[str, object]) -> None:
    """The child's side: every query in one read transaction, each to `<index>.arrow`."""
    import adbc_driver_sqlite
    import adbc_driver_sqlite.dbapi
    import pyarrow.ipc

    database = Path(str(job["database"])).resolve()
    queries = job["queries"]
    assert isinstance(queries, dict)
    out = Path(str(job["out"]))
    batch = {adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value: str(BATCH_ROWS)}
    # Not in autocommit mode, the driver opens a transaction: the reads share one snapshot.
    with (
        adbc_driver_sqlite.dbapi.connect(
            f"file:{database}?mode=ro", autocommit=False
        ) as connection,
        connection.cursor() as cursor,
    ):
        for index, sql in enumerate(queries.values()):
            cursor.adbc_statement.set_options(**batch)
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
            with pyarrow.ipc.new_file(out / f"{index}.arrow", table.schema) as writer:
                writer.write_table(table)
        connection.rollback()


if __name__ == "__main__":
    _child(json.loads(sys.stdin.read()))
