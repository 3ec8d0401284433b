"""The demo district's school calendar.

`school_year` follows Ed-Fi: the calendar year in which the school year ends. The demo's
year starts on August 27 and ends on June 15 with 178 instructional days, spread over the
ten months September..June.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

#: Instructional days in each month of the year, September first (sums to 178).
MONTH_DAYS: tuple[int, ...] = (20, 21, 17, 15, 19, 18, 20, 17, 21, 10)
MONTHS: tuple[int, ...] = (9, 10, 11, 12, 1, 2, 3, 4, 5, 6)


def school_year_of(day: date) -> int:
    """The school year a date falls in (a year runs from August 1 to July 31)."""
    return day.year + 1 if day.month >= 8 else day.year


def year_start(school_year: int) -> date:
    return date(school_year - 1, 8, 27)


def year_end(school_year: int) -> date:
    return date(school_year, 6, 15)


def month_end(school_year: int, month_index: int) -> date:
    """The snapshot date of month `month_index` (0 = September); June closes on the 15th."""
    month = MONTHS[month_index]
    year = school_year - 1 if month >= 8 else school_year
    if month == 6:
        return date(year, 6, 15)
    return date(year, month, calendar.monthrange(year, month)[1])


def month_start(school_year: int, month_index: int) -> date:
    month = MONTHS[month_index]
    year = school_year - 1 if month >= 8 else school_year
    return date(year, month, 1) if month_index else year_start(school_year)


def month_middle(school_year: int, month_index: int) -> date:
    return month_start(school_year, month_index) + timedelta(days=14)


@dataclass(frozen=True)
class YearProgress:
    """How much of a school year has happened by a reference date.

    `full_months` months are complete; the next month has `partial_days` of its
    instructional days behind it (0 when none). `latest` is the last day with data.
    """

    school_year: int
    full_months: int
    partial_days: int
    latest: date

    @property
    def complete(self) -> bool:
        return self.full_months == len(MONTH_DAYS)

    def days_in_month(self, month_index: int) -> int:
        if month_index < self.full_months:
            return MONTH_DAYS[month_index]
        if month_index == self.full_months:
            return self.partial_days
        return 0

    @property
    def months_with_data(self) -> int:
        return self.full_months + (1 if self.partial_days else 0)


def progress(school_year: int, today: date) -> YearProgress:
    """The part of `school_year` that lies before `today` (data run through yesterday)."""
    latest = today - timedelta(days=1)
    if latest >= year_end(school_year):
        return YearProgress(school_year, len(MONTH_DAYS), 0, year_end(school_year))
    full = 0
    while full < len(MONTH_DAYS) and month_end(school_year, full) <= latest:
        full += 1
    start = month_start(school_year, full)
    end = month_end(school_year, full)
    if latest < start:
        return YearProgress(
            school_year, full, 0, month_end(school_year, full - 1) if full else latest
        )
    fraction = ((latest - start).days + 1) / ((end - start).days + 1)
    partial = int(round(MONTH_DAYS[full] * fraction))
    return YearProgress(school_year, full, partial, latest)


def current_school_year(today: date) -> int:
    """The school year the demo treats as current: in July and August, the one just ended."""
    if today.month in (7, 8):
        return today.year
    return school_year_of(today)
