"""Bulk writes and whole-table reads give back exactly the frames that went in."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Engine

from data_access.bulk import insert_frame, read_table
from data_access.models import IMPORT_TABLES, table_of
from demo_district.generate import DemoSpec, district

SPEC = DemoSpec(students=150, seed=11, today=date(2026, 11, 22))


def test_every_import_table_reads_back_what_was_written(engine: Engine) -> None:
    written: dict[str, list[pl.DataFrame]] = {}
    with engine.begin() as connection:
        for part in district(SPEC):
            for name in IMPORT_TABLES:
                if name in part.tables:
                    insert_frame(connection, table_of(IMPORT_TABLES[name]), part.tables[name])
                    written.setdefault(name, []).append(part.tables[name])
    for name, model in IMPORT_TABLES.items():
        expected = pl.concat(written[name])
        key = [c.name for c in table_of(model).primary_key.columns]
        back = read_table(engine, table_of(model), expected.columns).sort(key)
        assert back.equals(expected.sort(key)), name
