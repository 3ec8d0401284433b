"""Capacity as a steward would file it, for worlds built from the demo district.

The demo district carries capacity of its own (demo_district/capacity.py), shaped to show
every realignment case; the suggestion tests and the `suggestions` benchmark replace it
here with a uniform one, so that every student has suggestions: every partner at every
school for each of its service types, plus an any-school row of its first type, and
`coverage_served_now` from the services active on `today` (what the refresh stores).
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Engine, delete, insert, select

from data_access.models import (
    ANY_SCHOOL,
    Capacity,
    CoverageServedNow,
    Organization,
    School,
    Service,
    StudentIndicator,
    table_of,
)
from data_access.policy import current_school_year
from data_access.reading import frame


def add_capacity(engine: Engine, today: date) -> int:
    """Capacity for every partner at every school and any school, and the served counts,
    in place of those stored."""
    with engine.begin() as connection:
        connection.execute(delete(table_of(Capacity)))
        connection.execute(delete(table_of(CoverageServedNow)))
        year = current_school_year(connection, today)
        orgs = frame(
            connection,
            select(table_of(Organization)).where(table_of(Organization).c.org_type != "district"),
        )
        schools = connection.execute(select(table_of(School).c.school_id)).scalars().all()
        service = table_of(Service)
        si = table_of(StudentIndicator)
        active = frame(
            connection,
            select(service.c.org_id, service.c.service_type, si.c.school_id, service.c.student_id)
            .join(si, si.c.student_id == service.c.student_id)
            .where(
                si.c.school_year == year,
                service.c.start_date <= today,
                (service.c.end_date.is_(None)) | (service.c.end_date >= today),
            ),
        )
        rows = []
        for org in orgs.iter_rows(named=True):
            types = [t for t in (org["service_types"] or "").split(";") if t] or ["mentoring"]
            for school in [*schools, ANY_SCHOOL]:
                for kind in types if school != ANY_SCHOOL else types[:1]:
                    rows.append({"org_id": org["org_id"], "school_id": school, "service_type": kind,
                                 "school_year": year, "slots": 60, "accepting_referrals": True})  # fmt: skip
        connection.execute(insert(table_of(Capacity)), rows)
        served = active.group_by("org_id", "school_id", "service_type").agg(
            students=pl.col("student_id").n_unique(),
            students_with_release=pl.col("student_id").n_unique(),
        )
        if served.height:
            connection.execute(insert(table_of(CoverageServedNow)), served.to_dicts())
    return len(rows)
