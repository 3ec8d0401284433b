"""The database engine: SQLite file by default, PostgreSQL through `PATHWISE_DATABASE_URL`.

The default database lives in `data/pathwise.db` inside the checkout (ignored by git).
SQLite connections run with WAL journaling, foreign keys and recursive triggers on (so that
`INSERT OR REPLACE` fires the audit log's DELETE trigger: migrations 0001 and 0004);
`postgresql://` URLs are routed to the psycopg 3 driver.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

CHECKOUT = Path(__file__).resolve().parent.parent
DATA_DIR = CHECKOUT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "pathwise.db"
ENV_VAR = "PATHWISE_DATABASE_URL"


def database_url() -> str:
    """The configured URL, normalised (`postgresql://` -> `postgresql+psycopg://`)."""
    url = os.environ.get(ENV_VAR, "").strip()
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DEFAULT_SQLITE_PATH}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # REPLACE deletes the row it overwrites without firing DELETE triggers unless this is
    # on; the audit log's append-only triggers must fire for it too.
    cursor.execute("PRAGMA recursive_triggers=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """A new engine for `url` (default: the configured one)."""
    url = url or database_url()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


@cache
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    """The process-wide engine for the configured URL (one pool per process, never per user)."""
    return _engine_for(database_url())
