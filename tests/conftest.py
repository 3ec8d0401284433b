"""Shared fixtures: databases on SQLite and on a real PostgreSQL, small readable worlds.

`engine` is parametrised over both backends, so every data-layer test that asks for it
runs twice. The PostgreSQL cluster is started once per test session; each test gets a
fresh database cloned from a migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text

from data_access import schema
from data_access.engine import make_engine
from tests.postgres_cluster import Cluster, running_cluster

_database_numbers = itertools.count()

# Property tests check what a viewer may learn, not how fast an example runs: on two
# shared cores an example's time varies tenfold, so Hypothesis' per-example deadline would
# only make the suite flaky. Each test keeps its own max_examples.
settings.register_profile("pathwise", deadline=None)
settings.load_profile("pathwise")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    with running_cluster() as cluster:
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE pathwise_template"))
        template = make_engine(cluster.url("pathwise_template"))
        schema.upgrade(template)
        template.dispose()
        admin.dispose()
        yield cluster


def _fresh_pg_database(cluster: Cluster) -> str:
    name = f"pathwise_test_{next(_database_numbers)}"
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE pathwise_template"))
    admin.dispose()
    return cluster.url(name)


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'pathwise.db'}")
    schema.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(pg_cluster: Cluster) -> Iterator[Engine]:
    engine = make_engine(_fresh_pg_database(pg_cluster))
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request) -> Engine:
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)
