"""One import at a time: a second one says "another import is running" and writes nothing.

Two imports at once would each check their rows against the keys stored before either
wrote, then collide on a key (a misleading UNIQUE error), or leave the derived tables
computed from half of them. So a real import (not a dry run) holds the import lock from
its first read to the end of its refresh. The lock is one the operating system or the
database server lets go of when its holder dies, so a killed import never leaves it
behind (no stale-lock rule to get wrong):

- PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection of its
  own, released when that connection closes, which the server notices when the process
  dies.
- SQLite: an exclusive `flock` on the file `<database>.import-lock` next to the database
  (SQLite is local to one machine; the kernel releases the lock with the process). The
  file also says who holds the lock, for the message.

A mapped import (`data_access.mapped_import`) holds it from its write to the end of its
refresh, and so does a review item resolved (`api.resolve_review`).
`pathwise refresh` holds the same lock (`work="refresh"`): a refresh that read the tables
before an import committed and wrote after that import's own refresh would put back the
figures of before the import. A refresh waits for an import to finish (`wait`); an import
that meets a running refresh is refused like one that meets another import.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine, text

#: The advisory lock key (an arbitrary 64-bit number: "pathwise import").
ADVISORY_KEY = 7_361_202_611_090_001


class ImportBusy(Exception):
    """Another import, or a refresh, holds the import lock; nothing was read or written."""


#: Told who holds the lock (the text of `ImportBusy`'s parentheses) before waiting for it.
Waiting = Callable[[str], None]


def _busy(holder: str) -> ImportBusy:
    work = "a refresh" if holder.startswith("pathwise refresh") else "another import"
    return ImportBusy(
        f"{work} is running{f' ({holder})' if holder else ''}; nothing was written: "
        "wait for it to finish, then run this import again"
    )


@contextmanager
def import_lock(
    engine: Engine, holder: str, *, work: str = "import", wait: Waiting | None = None
) -> Iterator[None]:
    """Hold the import lock while the block runs, for `work` ("import" or "refresh", said
    to whoever meets it). When it is taken: `ImportBusy`, or with `wait`, `wait` is told
    who holds it and the lock is waited for."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, holder, work, wait):
            yield
        return
    path = engine.url.database
    if not path or path == ":memory:":
        yield  # a private in-memory database: no other process can import into it
        return
    with _file_lock(path + ".import-lock", holder, work, wait):
        yield


@contextmanager
def _advisory_lock(engine: Engine, holder: str, work: str, wait: Waiting | None) -> Iterator[None]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"SET application_name = {_quoted(_label(holder, work))}"))
        taken = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
        ).scalar_one()
        if not taken:
            if wait is None:
                connection.execute(text("RESET application_name"))
                raise _busy(_pg_holder(engine))
            wait(_pg_holder(engine))
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            connection.execute(text("RESET application_name"))


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _label(holder: str, work: str) -> str:
    return f"pathwise {work} by {holder}"[:63]


def _pg_holder(engine: Engine) -> str:
    """Who holds the advisory lock, from the server's view of its sessions."""
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT a.application_name, a.backend_start, a.pid FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                "AND l.granted AND l.classid = :high AND l.objid = :low"
            ),
            {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFFFFFF},
        ).first()
    if row is None:
        return ""
    started = row.backend_start.astimezone(UTC).isoformat(timespec="seconds")
    return f"{row.application_name or 'pathwise import'}, since {started}"


@contextmanager
def _file_lock(path: str, holder: str, work: str, wait: Waiting | None) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait is None:
                raise _busy(_file_holder(descriptor)) from None
            wait(_file_holder(descriptor))
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        record = {
            "work": work,
            "by": holder,
            "pid": os.getpid(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(record).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _file_holder(descriptor: int) -> str:
    try:
        record = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
        work = record.get("work", "import")
        return (
            f"pathwise {work} by {record['by']}, process {record['pid']}, since {record['since']}"
        )
    except (ValueError, KeyError, TypeError):
        return ""
