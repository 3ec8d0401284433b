"""Which database Pathwise talks to."""

from __future__ import annotations

import pytest

from data_access import engine as engine_module


def test_default_is_a_sqlite_file_in_the_checkouts_data_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PATHWISE_DATABASE_URL", raising=False)
    url = engine_module.database_url()
    assert url == f"sqlite:///{engine_module.CHECKOUT / 'data' / 'pathwise.db'}"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db/pathwise", "postgresql+psycopg://u:p@db/pathwise"),
        ("postgres://u@db/pathwise", "postgresql+psycopg://u@db/pathwise"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////tmp/other.db", "sqlite:////tmp/other.db"),
    ],
)
def test_postgres_urls_use_psycopg_3(
    monkeypatch: pytest.MonkeyPatch, given: str, used: str
) -> None:
    monkeypatch.setenv("PATHWISE_DATABASE_URL", given)
    assert engine_module.database_url() == used
