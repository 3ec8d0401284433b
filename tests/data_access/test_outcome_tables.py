"""Migration 0006: the outcome tables, their keys and indexes, as the models declare them."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

OUTCOME_TABLES = {
    "program_estimate": ["school_year", "org_id", "service_type", "measure", "group_by", "group_value"],
    "program_estimate_public": [
        "school_year", "org_id", "service_type", "measure", "group_by", "group_value",
    ],
    "program_balance": ["school_year", "org_id", "service_type", "measure", "covariate"],
    "program_trajectory": ["school_year", "org_id", "service_type", "group", "month_offset"],
    "program_trajectory_public": ["school_year", "org_id", "service_type", "group", "month_offset"],
    "program_served_student": ["school_year", "org_id", "service_type", "student_id"],
}  # fmt: skip


@pytest.mark.parametrize(("table", "key"), sorted(OUTCOME_TABLES.items()))
def test_each_outcome_table_is_keyed_by_its_program_year(
    engine: Engine, table: str, key: list[str]
) -> None:
    assert inspect(engine).get_pk_constraint(table)["constrained_columns"] == key


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("program_estimate", ["school_year", "group_by", "group_value"]),
        ("program_estimate", ["org_id", "school_year"]),
        ("program_estimate_public", ["school_year", "group_by", "group_value"]),
        ("program_estimate_public", ["org_id", "school_year"]),
        ("program_served_student", ["student_id"]),
    ],
)
def test_the_outcome_pages_access_paths_are_indexed(
    engine: Engine, table: str, columns: list[str]
) -> None:
    indexed = [index["column_names"] for index in inspect(engine).get_indexes(table)]
    assert columns in indexed


def test_the_public_estimates_hold_no_excluded_or_unserved_count(engine: Engine) -> None:
    columns = {c["name"] for c in inspect(engine).get_columns("program_estimate_public")}
    assert {"excluded", "unserved"}.isdisjoint(columns)
    assert {"served_display", "matched_display", "comparison_display"} <= columns


def test_migration_0006_creates_the_outcome_tables_exactly_as_the_models_declare_them(
    engine: Engine,
) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    about_outcomes = [d for d in differences if "program_" in repr(d)]
    assert about_outcomes == []
