"""Fixtures for the indicator tests: default settings and a one-call indicator runner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from indicators.settings import Settings
from indicators.student import compute_student_indicators
from indicators.tables import RawTables
from tests.indicators.builders import AS_OF, YEAR

Rows = dict[str, dict[str, Any]]


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def rows(settings: Settings) -> Callable[..., Rows]:
    """Indicators of `tables` as {student_id: row}."""

    def run(tables: RawTables, year: int = YEAR, as_of: date = AS_OF) -> Rows:
        frame = compute_student_indicators(tables, year, as_of, settings)
        return {row["student_id"]: row for row in frame.iter_rows(named=True)}

    return run
