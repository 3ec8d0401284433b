"""Sessions rolled up into service periods (indicators/service_periods.py)."""

from __future__ import annotations

from datetime import date

import polars as pl

from indicators.service_periods import roll_up


def _sessions(*rows: tuple[str, bool, float | None, date | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_person": ["P"] * len(rows),
            "org_id": ["ORG"] * len(rows),
            "service_type": ["mentoring"] * len(rows),
            "delivery_date": [date.fromisoformat(r[0]) for r in rows],
            "present": [r[1] for r in rows],
            "hours": [r[2] for r in rows],
            "end_date": [r[3] for r in rows],
            "_line": list(range(2, 2 + len(rows))),
        },
        schema_overrides={"hours": pl.Float64, "end_date": pl.Date},
    )


def test_a_gap_of_more_than_the_setting_starts_a_new_period_and_absences_do_not_count() -> None:
    periods = roll_up(
        _sessions(
            ("2025-09-01", True, 1.0, None),
            ("2025-09-08", False, 0.0, None),
            ("2025-10-01", True, 1.5, None),  # 30 days: same period
            ("2025-11-01", True, 1.0, None),  # 31 days: a new one
        ),
        30,
        ends_given=False,
    )
    assert periods.select("start_date", "end_date", "sessions", "hours").rows() == [
        (date(2025, 9, 1), date(2025, 10, 1), 2, 2.5),
        (date(2025, 11, 1), None, 1, 1.0),  # the latest, within 30 days of the export: open
    ]


def test_an_end_date_in_the_export_ends_the_period_and_blank_hours_stay_blank() -> None:
    periods = roll_up(
        _sessions(("2025-09-01", True, None, date(2025, 9, 20)), ("2025-09-15", True, None, None)),
        30,
        ends_given=True,
    )
    assert periods.select("start_date", "end_date", "sessions", "hours").rows() == [
        (date(2025, 9, 1), date(2025, 9, 20), 2, None)
    ]
