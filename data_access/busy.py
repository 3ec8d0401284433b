"""A database held by a long write says so: `DatabaseBusy`, never a driver's stack trace.

SQLite lets one writer at a time in. A large import holds the write lock for its whole
transaction (17 s for 1.6M rows, issue 10), and every audited read writes its audit record
in the read's own transaction, so a page opened meanwhile waits (`busy_timeout`, 10 s)
and then fails with SQLite's `database is locked`. Every engine translates that error into
`DatabaseBusy`, which the pages (`ui.guard`) show as "an import is running, try again in a
minute". Districts that import during the day run on PostgreSQL (README, deployment),
where readers do not fail this way.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

#: What the pages say (ui.guard) and the command line prints.
BUSY_MESSAGE = (
    "The database is busy: an import is writing to it. Nothing was changed; "
    "please try again in a minute."
)


class DatabaseBusy(Exception):
    """The database stayed locked by another writer (an import) longer than we wait."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(BUSY_MESSAGE + (f" ({detail})" if detail else ""))
        self.detail = detail


def is_locked(error: BaseException | None) -> bool:
    """SQLite's `database is locked` (SQLITE_BUSY) or `database table is locked`."""
    return isinstance(error, sqlite3.OperationalError) and "is locked" in str(error)


def _translate(context: ExceptionContext) -> BaseException | None:
    if is_locked(context.original_exception):
        return DatabaseBusy(str(context.original_exception))
    return None


# Every engine of the process (make_engine's, the tests'): listened on the Engine class.
event.listen(Engine, "handle_error", _translate)
