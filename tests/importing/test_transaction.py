"""One import is one transaction, even though tables are written while later files are
still being checked (and, on PostgreSQL, foreign keys are dropped and added back)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect

from data_access.importing import ImportRejected, import_files, writing
from data_access.models import IMPORT_TABLES, table_of
from tests.importing.conftest import WORLD, counts, csv


def foreign_keys(engine: Engine) -> dict[str, list[tuple[str, tuple[str, ...], str]]]:
    inspector = inspect(engine)
    return {
        table_of(model).name: sorted(
            (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
            for fk in inspector.get_foreign_keys(table_of(model).name)
        )
        for model in IMPORT_TABLES.values()
    }


@pytest.fixture(autouse=True)
def every_write_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the bulk path (foreign keys checked once, on PostgreSQL) for the tiny world."""
    monkeypatch.setattr(writing, "CHECK_ONCE_ROWS", 1)


def test_a_problem_in_the_last_file_rolls_back_the_tables_already_written(engine: Engine) -> None:
    empty = counts(engine)
    keys = foreign_keys(engine)
    files = {**WORLD, "caseloads.csv": csv("user_email,student_id", "c@d.org,S404")}
    with pytest.raises(ImportRejected) as rejection:
        import_files(engine, files)
    assert [str(p) for p in rejection.value.problems] == [
        "caseloads.csv:2:student_id: no student with this student_id in the database or in "
        "this import (S404)"
    ]
    assert counts(engine) == empty
    assert foreign_keys(engine) == keys


def test_foreign_keys_are_back_after_a_bulk_import(engine: Engine) -> None:
    keys = foreign_keys(engine)
    result = import_files(engine, WORLD)
    assert result.inserted == 22
    assert foreign_keys(engine) == keys
    again = import_files(engine, WORLD)
    assert (again.inserted, again.updated) == (0, 22)
    assert foreign_keys(engine) == keys
