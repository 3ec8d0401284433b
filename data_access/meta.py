"""Facts about the database itself: is it the demo district, what is loaded, is it empty."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, inspect, select
from sqlmodel import SQLModel

from data_access.models import Meta, Organization, School, Student, User, table_of

DEMO_KEY = "demo"
#: The cohorts whose college stages are not observed at the last refresh (no college data;
#: indicators.observable.college_not_observed), a JSON list of years.
NOT_OBSERVED_KEY = "college_not_observed_cohorts"


def set_meta(connection: Connection, values: dict[str, str]) -> None:
    table = table_of(Meta)
    for key, value in values.items():
        connection.execute(table.delete().where(table.c.key == key))
        connection.execute(table.insert().values(key=key, value=value))


def delete_meta(connection: Connection, key: str) -> None:
    table = table_of(Meta)
    connection.execute(table.delete().where(table.c.key == key))


def read_meta(engine: Engine) -> dict[str, str]:
    if not inspect(engine).has_table("pathwise_meta"):
        return {}
    table = table_of(Meta)
    with engine.connect() as connection:
        return {row.key: row.value for row in connection.execute(select(table))}


def is_demo(engine: Engine) -> bool:
    """True when the database was built by `pathwise demo` (and holds nothing else)."""
    return read_meta(engine).get(DEMO_KEY) == "true"


@dataclass(frozen=True)
class LoadedCounts:
    """How much is loaded: shown on the start page and by `pathwise demo`."""

    schools: int
    organizations: int
    students: int
    users: int

    @property
    def empty(self) -> bool:
        return self.students == 0 and self.users == 0 and self.schools == 0


def loaded_counts(engine: Engine) -> LoadedCounts:
    if not inspect(engine).has_table("student"):
        return LoadedCounts(0, 0, 0, 0)
    tables: list[type[SQLModel]] = [School, Organization, Student, User]
    with engine.connect() as connection:
        values = [
            connection.execute(select(func.count()).select_from(table_of(model))).scalar_one()
            for model in tables
        ]
    return LoadedCounts(*values)
