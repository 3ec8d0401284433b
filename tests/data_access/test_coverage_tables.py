"""Migrations 0008 and 0009: partner capacity and the stored need-and-coverage tables."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from data_access.models import ANY_SCHOOL, Capacity, Organization, table_of


def test_capacity_is_keyed_by_organisation_school_service_type_and_year(engine: Engine) -> None:
    key = inspect(engine).get_pk_constraint("capacity")["constrained_columns"]
    assert key == ["org_id", "school_id", "service_type", "school_year"]


def test_migration_0008_creates_capacity_exactly_as_the_model_declares_it(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in differences if "capacity" in repr(d)] == []


def test_any_school_capacity_is_one_row_per_key_on_both_databases(engine: Engine) -> None:
    row = {
        "org_id": "ORG1",
        "school_id": ANY_SCHOOL,
        "service_type": "academic",
        "school_year": 2026,
        "slots": 25,
        "accepting_referrals": True,
    }
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(Organization)),
            [{"org_id": "ORG1", "org_name": "Tutors", "org_type": "nonprofit"}],
        )
        connection.execute(insert(table_of(Capacity)), [row])
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(table_of(Capacity)), [{**row, "slots": 30}])
    with engine.connect() as connection:
        slots = connection.execute(select(table_of(Capacity).c.slots)).scalars().all()
    assert slots == [25]


def test_migration_0009_creates_the_coverage_tables_exactly_as_the_models_declare_them(
    engine: Engine,
) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in differences if "coverage_" in repr(d)] == []
    assert {"coverage_need", "coverage_duplication", "coverage_tier_support"} <= set(
        inspect(engine).get_table_names()
    )
