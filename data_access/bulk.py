"""Fast bulk writes of Polars frames into tables: executemany on SQLite, COPY on PostgreSQL.

Used where the rows are already validated (the demo build, the importer after its checks).
Values are converted to the storage form SQLAlchemy itself uses, so that ORM and Core
reads see exactly what they would have written: ISO dates, `YYYY-MM-DD HH:MM:SS.ffffff`
UTC datetimes on SQLite, booleans as 0/1 on SQLite.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import polars as pl
from sqlalchemy import Connection, Table

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
        raw = connection.connection.driver_connection
        column_list = ", ".join(f'"{c}"' for c in columns)
        sql = f"COPY \"{table.name}\" ({column_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            for offset in range(0, frame.height, BATCH_ROWS):
                with cursor.copy(sql) as copy:
                    copy.write(_copy_csv(frame.slice(offset, BATCH_ROWS)))
        return frame.height
    placeholders = ", ".join("?" for _ in columns)
    column_list = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({column_list}) VALUES ({placeholders})'
    for offset in range(0, frame.height, BATCH_ROWS):
        batch = _sqlite_ready(frame.slice(offset, BATCH_ROWS))
        connection.exec_driver_sql(sql, batch.rows())
    return frame.height
