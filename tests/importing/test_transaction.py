"""One import is one transaction, even though tables are written while later files are
still being checked (and, on PostgreSQL, foreign keys are dropped and added back)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect

from data_access.importing import ImportRejected, import_files, writing
from data_access.models import IMPORT_TABLES, table_of
from tests.importing.conftest import WORLD, counts, csv


def constraints(engine: Engine) -> dict[str, object]:
    """Every import table's foreign keys, primary key and indexes, by name."""
    inspector = inspect(engine)
    found: dict[str, object] = {}
    for model in IMPORT_TABLES.values():
        name = table_of(model).name
        found[name] = (
            sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(name)
            ),
            inspector.get_pk_constraint(name),
            sorted(
                (i["name"] or "", tuple(i["column_names"]), i["unique"])
                for i in inspector.get_indexes(name)
            ),
        )
    return found


@pytest.fixture(autouse=True)
def every_write_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the bulk path (on PostgreSQL: constraints and indexes built once) for the tiny world."""
    monkeypatch.setattr(writing, "CHECK_ONCE_ROWS", 1)


def test_a_problem_in_the_last_file_rolls_back_the_tables_already_written(engine: Engine) -> None:
    empty = counts(engine)
    keys = constraints(engine)
    files = {**WORLD, "caseloads.csv": csv("user_email,student_id", "c@d.org,S404")}
    with pytest.raises(ImportRejected) as rejection:
        import_files(engine, files)
    assert [str(p) for p in rejection.value.problems] == [
        "caseloads.csv:2:student_id: no student with this student_id in the database or in "
        "this import (S404)"
    ]
    assert counts(engine) == empty
    assert constraints(engine) == keys


def test_keys_and_indexes_are_back_after_a_bulk_import(engine: Engine) -> None:
    keys = constraints(engine)
    result = import_files(engine, WORLD)
    assert result.inserted == 22
    assert constraints(engine) == keys
    again = import_files(engine, WORLD)
    assert (again.inserted, again.updated) == (0, 22)
    assert constraints(engine) == keys


def test_a_rule_the_checks_missed_is_a_rejection_not_a_crash(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a check missing (here: text lengths), PostgreSQL's refusal rolls everything back
    and is reported like any other problem."""
    from data_access.importing import api

    monkeypatch.setattr(api, "_max_lengths", lambda kind: {})
    empty = counts(pg_engine)
    long_id = "H" * 65
    files = {
        **WORLD,
        "schools.csv": csv(
            "school_id,school_name,low_grade,high_grade",
            f"{long_id},X,9,12",
            "HS1,A,9,12",
            "HS2,B,9,12",
        ),
    }
    with pytest.raises(ImportRejected) as rejection:
        import_files(pg_engine, files)
    (problem,) = rejection.value.problems
    assert str(problem).startswith("-:-:-: the database refused the import: value too long")
    assert counts(pg_engine) == empty
