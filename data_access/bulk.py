"""Fast bulk reads and writes between tables and Polars frames.

Writes: executemany on SQLite, COPY on PostgreSQL. Reads (whole tables, for recomputing the
derived indicator tables; never for a viewer): the engine's own sqlite3 in batches on
SQLite (never ADBC in this process: see `_sqlite_rows`; `read_tables` runs it in a child
process), COPY on PostgreSQL.

Used where the rows are already validated (the demo build, the importer after its checks).
Values are converted to the storage form SQLAlchemy itself uses, so that ORM and Core
reads see exactly what they would have written: ISO dates, `YYYY-MM-DD HH:MM:SS.ffffff`
UTC datetimes on SQLite, booleans as 0/1 on SQLite.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Table,
    func,
    select,
)

BATCH_ROWS = 200_000


def _sqlite_ready(frame: pl.DataFrame) -> pl.DataFrame:
    conversions = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            conversions.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            col = pl.col(name)
            if dtype.time_zone is not None:
                col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            conversions.append(col.dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
        elif dtype == pl.Boolean:
            conversions.append(pl.col(name).cast(pl.Int8))
    return frame.with_columns(conversions) if conversions else frame


def _copy_csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(
        buffer,
        include_header=False,
        null_value="\\N",
        datetime_format="%Y-%m-%d %H:%M:%S%.6f%z",
        date_format="%Y-%m-%d",
    )
    return buffer.getvalue()


def insert_frame(connection: Connection, table: Table, frame: pl.DataFrame) -> int:
    """Insert every row of `frame` (columns named as the table's) and return the count."""
    if frame.height == 0:
        return 0
    columns: Sequence[str] = [c for c in frame.columns if c in table.c]
    frame = frame.select(columns)
    if connection.dialect.name == "postgresql":
        raw: Any = connection.connection.driver_connection
        column_list = ", ".join(f'"{c}"' for c in columns)
        sql = f"COPY \"{table.name}\" ({column_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        with raw.cursor() as cursor:
            for offset in range(0, frame.height, BATCH_ROWS):
                with cursor.copy(sql) as copy:
                    copy.write(_copy_csv(frame.slice(offset, BATCH_ROWS)))
        return frame.height
    sql, batches = _sqlite_inserts(table.name, frame)
    for rows in batches:
        connection.exec_driver_sql(sql, rows)
    return frame.height


def _sqlite_inserts(name: str, frame: pl.DataFrame) -> tuple[str, Iterator[list[tuple[Any, ...]]]]:
    """The INSERT of `frame`'s columns into SQLite table `name`, and its rows in storage
    form (`_sqlite_ready`), `BATCH_ROWS` at a time."""
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    placeholders = ", ".join("?" for _ in frame.columns)
    batches = (
        _sqlite_ready(frame.slice(offset, BATCH_ROWS)).rows()
        for offset in range(0, frame.height, BATCH_ROWS)
    )
    return f'INSERT INTO "{name}" ({columns}) VALUES ({placeholders})', batches


def stage_frames(path: Path, frames: Sequence[tuple[Table, pl.DataFrame]]) -> None:
    """Write each frame into a new SQLite file at `path`, in a table named as its own (the
    table's columns only, no types, keys or indexes), through a connection of its own: a
    refresh writes its largest tables there while it still computes, then copies them in
    one statement each (`copy_staged`), which keeps the database's write lock short."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        for table, frame in frames:
            frame = frame.select(c for c in frame.columns if c in table.c)
            names = ", ".join(f'"{c}"' for c in frame.columns)
            connection.execute(f'CREATE TABLE "{table.name}" ({names})')
            sql, batches = _sqlite_inserts(table.name, frame)
            for rows in batches:
                connection.executemany(sql, rows)
        connection.commit()
    finally:
        connection.close()


def copy_staged(connection: Connection, schema: str, tables: Sequence[Table]) -> None:
    """Replace the rows of each table by those of its staged copy in the attached database
    `schema` (`stage_frames`), on the caller's transaction: one INSERT ... SELECT each."""
    for table in tables:
        columns = [
            row[1]
            for row in connection.exec_driver_sql(f'PRAGMA "{schema}".table_info("{table.name}")')
        ]
        names = ", ".join(f'"{c}"' for c in columns)
        connection.exec_driver_sql(f'DELETE FROM main."{table.name}"')
        connection.exec_driver_sql(
            f'INSERT INTO main."{table.name}" ({names}) '
            f'SELECT {names} FROM "{schema}"."{table.name}"'
        )


def polars_dtype(column_type: Any) -> Any:
    """The Polars dtype for a column's SQLAlchemy type."""
    if isinstance(column_type, Boolean):
        return pl.Boolean
    if isinstance(column_type, DateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(column_type, Date):
        return pl.Date
    if isinstance(column_type, Integer):
        return pl.Int64
    if isinstance(column_type, Float):
        return pl.Float64
    return pl.String


def _typed(frame: pl.DataFrame, schema: dict[str, Any]) -> pl.DataFrame:
    conversions = []
    for name, dtype in schema.items():
        current = frame.schema[name]
        if current == dtype:
            continue
        if dtype == pl.Date and current == pl.String:
            conversions.append(pl.col(name).str.to_date("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime) and current == pl.String:
            conversions.append(
                pl.col(name).str.to_datetime(time_unit="us", time_zone="UTC", format=None)
            )
        else:
            conversions.append(pl.col(name).cast(dtype))
    return frame.with_columns(conversions) if conversions else frame


def read_table(engine: Engine, table: Table, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """Every row of `table` (or of some of its columns) as a typed frame.

    Only for whole-table system work (the derived-table refresh, import checks): it applies
    no access scope, so it is not part of the API pages and the command line may call.
    """
    names = list(columns or [c.name for c in table.columns])
    schema = {n: polars_dtype(table.c[n].type) for n in names}
    column_list = ", ".join(f'"{n}"' for n in names)
    sql = f'SELECT {column_list} FROM "{table.name}"'
    if engine.dialect.name == "postgresql":
        buffer = io.BytesIO()
        with engine.connect() as connection:
            raw: Any = connection.connection.driver_connection
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy,
            ):
                for block in copy:
                    buffer.write(block)
        buffer.seek(0)
        text_schema = {
            n: (pl.String if t in (pl.Date, pl.Boolean) or isinstance(t, pl.Datetime) else t)
            for n, t in schema.items()
        }
        frame = (
            pl.read_csv(buffer, schema=text_schema)
            if buffer.getbuffer().nbytes
            else pl.DataFrame(schema=text_schema)
        )
        booleans = [
            pl.col(n).replace_strict({"t": True, "f": False}, return_dtype=pl.Boolean)
            for n, t in schema.items()
            if t == pl.Boolean
        ]
        frame = frame.with_columns(booleans) if booleans else frame
        return _typed(frame, schema)
    if engine.dialect.name == "sqlite":
        return _typed(_sqlite_rows(engine, sql, schema), schema)
    with engine.connect() as connection:
        rows = connection.execute(select(*(table.c[n] for n in names))).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


#: Rows from which `read_tables` reads a SQLite file in a child process: starting one costs
#: about 1.3 s (Python, pyarrow, the driver), reading in process about 4 us a row.
CHILD_READ_ROWS = 300_000


def read_tables(
    engine: Engine,
    wanted: Mapping[str, tuple[Table, Sequence[str] | None]],
    *,
    child_from_rows: int = CHILD_READ_ROWS,
) -> dict[str, pl.DataFrame]:
    """`read_table` of several tables (`name -> (table, columns or None)`) at once. On a
    SQLite file holding at least `child_from_rows` rows in them, read by a child process
    as Arrow (`data_access.sqlite_arrow`: 3.5 times faster at 100k students, one snapshot
    for all tables); otherwise, or when that fails, table by table in this process."""
    schemas = {}
    for name, (table, columns) in wanted.items():
        names = list(columns or [c.name for c in table.columns])
        schemas[name] = {n: polars_dtype(table.c[n].type) for n in names}
    database = engine.url.database
    if (
        engine.dialect.name == "sqlite"
        and database
        and database != ":memory:"
        and _rows(engine, [table for table, _ in wanted.values()]) >= child_from_rows
    ):
        from data_access.sqlite_arrow import read_queries

        found = read_queries(
            Path(database),
            {name: (table.name, list(schemas[name])) for name, (table, _) in wanted.items()},
        )
        if found is not None:
            try:
                return {
                    name: _typed(_stored_form(found[name], schema), schema)
                    for name, schema in schemas.items()
                }
            except pl.exceptions.PolarsError:
                pass  # an unexpected storage form: read the slow way
    return {name: read_table(engine, table, columns) for name, (table, columns) in wanted.items()}


def _rows(engine: Engine, tables: Sequence[Table]) -> int:
    with engine.connect() as connection:
        return sum(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in tables
        )


def _stored_form(frame: pl.DataFrame, schema: dict[str, Any]) -> pl.DataFrame:
    """A frame read by ADBC in the storage form `_typed` converts from: dates and datetimes
    as text, booleans as integers; a column the driver typed as null (every value null)
    or as another type is cast (null stays null)."""
    stored = {
        n: (pl.String if t == pl.Date or isinstance(t, pl.Datetime) else pl.Int64)
        if t in (pl.Date, pl.Boolean) or isinstance(t, pl.Datetime)
        else t
        for n, t in schema.items()
    }
    return frame.select(pl.col(n).cast(t) for n, t in stored.items())


def _sqlite_rows(engine: Engine, sql: str, schema: dict[str, Any]) -> pl.DataFrame:
    """Rows in SQLite's storage form (ISO text dates, 0/1 booleans), batch by batch.

    Through the engine's own sqlite3, never a second SQLite library in this process (ADBC
    links its own): two copies of SQLite do not see each other's POSIX locks, so each
    believes it is alone and rebuilds or deletes the WAL files the other is using, which
    loses writes and corrupts the database (https://sqlite.org/howtocorrupt.html, 2.2.1).
    """
    stored = {
        n: (pl.String if t == pl.Date or isinstance(t, pl.Datetime) else pl.Int64)
        if t in (pl.Date, pl.Boolean) or isinstance(t, pl.Datetime)
        else t
        for n, t in schema.items()
    }
    frames = [pl.DataFrame(schema=stored)]
    with engine.connect() as connection:
        raw: Any = connection.connection.driver_connection
        cursor = raw.execute(sql)
        while batch := cursor.fetchmany(BATCH_ROWS):
            frames.append(pl.DataFrame(batch, schema=stored, orient="row"))
    return pl.concat(frames) if len(frames) > 1 else frames[0]


def upsert_frame(connection: Connection, table: Table, frame: pl.DataFrame) -> int:
    """Insert every row of `frame`, updating the row of any primary key that already exists.

    SQLite: executemany of `INSERT ... ON CONFLICT (key) DO UPDATE`. PostgreSQL: COPY into a
    temporary table, then one `INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE`. A stored
    row whose values are all equal to the incoming ones is left as it is (the update's
    `WHERE ... IS DISTINCT FROM`), so re-importing unchanged data writes no new row
    versions. A table whose columns are all key columns gets `DO NOTHING`. Returns the
    number of rows in `frame`.
    """
    if frame.height == 0:
        return 0
    columns: Sequence[str] = [c for c in frame.columns if c in table.c]
    frame = frame.select(columns)
    key = [c.name for c in table.primary_key.columns]
    updates = [c for c in columns if c not in key]
    column_list = ", ".join(f'"{c}"' for c in columns)
    key_list = ", ".join(f'"{k}"' for k in key)
    postgres = connection.dialect.name == "postgresql"
    if updates:
        target = ", ".join(f'"{table.name}"."{c}"' for c in updates)
        incoming = ", ".join(f'excluded."{c}"' for c in updates)
        changed = (
            f"({target}) IS DISTINCT FROM ({incoming})"
            if postgres
            else " OR ".join(f'"{table.name}"."{c}" IS NOT excluded."{c}"' for c in updates)
        )
        if postgres and len(updates) == 1:
            changed = f"{target} IS DISTINCT FROM {incoming}"
        on_conflict = (
            f"ON CONFLICT ({key_list}) DO UPDATE SET "
            + ", ".join(f'"{c}" = excluded."{c}"' for c in updates)
            + f" WHERE {changed}"
        )
    else:
        on_conflict = f"ON CONFLICT ({key_list}) DO NOTHING"
    if postgres:
        staging = f"_upsert_{table.name}"
        connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{staging}"')
        connection.exec_driver_sql(
            f'CREATE TEMPORARY TABLE "{staging}" (LIKE "{table.name}") ON COMMIT DROP'
        )
        raw: Any = connection.connection.driver_connection
        copy_sql = f"COPY \"{staging}\" ({column_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        with raw.cursor() as cursor:
            for offset in range(0, frame.height, BATCH_ROWS):
                with cursor.copy(copy_sql) as copy:
                    copy.write(_copy_csv(frame.slice(offset, BATCH_ROWS)))
        connection.exec_driver_sql(
            f'INSERT INTO "{table.name}" ({column_list}) '
            f'SELECT {column_list} FROM "{staging}" {on_conflict}'
        )
        connection.exec_driver_sql(f'DROP TABLE "{staging}"')
        return frame.height
    placeholders = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({column_list}) VALUES ({placeholders}) {on_conflict}'
    for offset in range(0, frame.height, BATCH_ROWS):
        batch = _sqlite_ready(frame.slice(offset, BATCH_ROWS))
        connection.exec_driver_sql(sql, batch.rows())
    return frame.height
