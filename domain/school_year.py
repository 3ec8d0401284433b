"""School-year arithmetic shared by every layer.

`school_year` is the calendar year in which the school year ends (Ed-Fi convention,
docs/import-format.md): 2026 means 2025-26. A school year is taken to run from August 1 to
July 31.
"""

from __future__ import annotations

from datetime import date


def school_year_of(day: date) -> int:
    """The school year `day` falls in: August 2025 .. July 2026 -> 2026."""
    return day.year + 1 if day.month >= 8 else day.year


def label(school_year: int) -> str:
    """`2026` -> `2025-26`."""
    return f"{school_year - 1}-{school_year % 100:02d}"
