"""Whole SQLite tables as Arrow, read by a child process (the refresh's raw tables).

Reading is most of a refresh at scale: through Python's sqlite3 every value becomes a Python
object on its way to Polars (24 s for the 7M rows of the 100k-student demo). The ADBC SQLite
driver hands whole columns over as Arrow (9 s for the same rows), but it links its own copy
of SQLite, and two copies of SQLite in one process do not see each other's POSIX locks:
each may rebuild or delete the WAL files the other uses, which loses writes and corrupts
the database (https://sqlite.org/howtocorrupt.html, 2.2.1; see `bulk._sqlite_rows`). Two
processes are what SQLite's locking is built for, so the driver runs in a child process,
which opens the database read-only and writes each table as an Arrow IPC file the parent
memory-maps.

The child (`data_access/sqlite_arrow_child.py`, a script) reads each table in two halves
on two connections in two threads, one snapshot for both; here the halves are joined in
rowid order (3.0 s instead of 5.2 s for the 3.6M course marks of the 100k demo).

`read_queries` answers None when the child could not do it (the driver missing, an
in-memory database, any error): the caller then reads the slow way. Nothing here writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

CHILD = Path(__file__).with_name("sqlite_arrow_child.py")
#: What the child reads of one table: (table name, column names).
Selection = tuple[str, Sequence[str]]


def read_queries(database: Path, tables: Mapping[str, Selection]) -> dict[str, pl.DataFrame] | None:
    """Every row of each table (`name -> (table, columns)`) of the SQLite file `database`,
    one snapshot for all, read by a child process; None when it could not be read that
    way."""
    if not database.is_file():
        return None
    with tempfile.TemporaryDirectory(prefix="pathwise-read-", dir=_memory_dir()) as out:
        job = {
            "database": str(database),
            "tables": [[table, list(columns)] for table, columns in tables.values()],
            "out": out,
        }
        done = subprocess.run(
            [sys.executable, str(CHILD)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return None
        try:
            return {name: _joined(Path(out), index) for index, name in enumerate(tables)}
        except (OSError, pl.exceptions.PolarsError, ValueError):
            return None


def _memory_dir() -> str | None:
    """A directory in memory (Linux's /dev/shm) for the child's files when there is one:
    the tables pass through memory rather than through the disk cache's write-back (the
    system's temporary directory otherwise)."""
    shared = Path("/dev/shm")
    return str(shared) if shared.is_dir() and os.access(shared, os.W_OK) else None


def _joined(out: Path, index: int) -> pl.DataFrame:
    """Table `index` from its halves, in rowid order. The driver types a column from its
    values, so a column null throughout one half may come typed otherwise (as an integer)
    than in the other: it takes the other half's type. Any other difference is an error
    (and the caller reads in process)."""
    import pyarrow
    import pyarrow.ipc

    # Memory-mapped by pyarrow, then handed to Polars (Polars' own read_ipc took three
    # times as long for the same files).
    halves = []
    for path in sorted(out.glob(f"{index}.*.arrow")):
        table = pyarrow.ipc.open_file(pyarrow.memory_map(str(path))).read_all()
        halves.append(pl.DataFrame(pl.from_arrow(table)))
    if len(halves) == 1:
        return halves[0]
    head, tail = halves
    for name in head.columns:
        if head.schema[name] == tail.schema[name]:
            continue
        if head[name].null_count() == head.height:
            head = head.with_columns(pl.col(name).cast(tail.schema[name]))
        elif tail[name].null_count() == tail.height:
            tail = tail.with_columns(pl.col(name).cast(head.schema[name]))
    return pl.concat([head, tail], how="vertical_relaxed", rechunk=False)
