"""More capacity, as a steward would file it, for worlds built from the demo district.

The demo district carries a few capacity rows of its own (issue 14 part 2); the
suggestion tests, the browser test and the `suggestions` benchmark want every partner
to have room everywhere, so this adds the rows the demo lacks: every partner at every
school for each of its service types, plus an any-school row of its first type. The
refresh stores `coverage_served_now`; when it has not run, the counts are filled here
from the services active on `today` (what the refresh stores).
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Engine, insert, select

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
    """Capacity for every partner at every school and any school, and the served counts;
    returns how many capacity rows the current school year then has."""
    with engine.begin() as connection:
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
        capacity = table_of(Capacity)
        filed = {
            (r.org_id, r.school_id, r.service_type)
            for r in connection.execute(
                select(capacity.c.org_id, capacity.c.school_id, capacity.c.service_type).where(
                    capacity.c.school_year == year
                )
            )
        }
        rows = []
        for org in orgs.iter_rows(named=True):
            types = [t for t in (org["service_types"] or "").split(";") if t] or ["mentoring"]
            for school in [*schools, ANY_SCHOOL]:
                for kind in types if school != ANY_SCHOOL else types[:1]:
                    if (org["org_id"], school, kind) in filed:
                        continue
                    rows.append({"org_id": org["org_id"], "school_id": school, "service_type": kind,
                                 "school_year": year, "slots": 60, "accepting_referrals": True})  # fmt: skip
        if rows:
            connection.execute(insert(capacity), rows)
        stored = connection.execute(select(table_of(CoverageServedNow))).first()
        served = active.group_by("org_id", "school_id", "service_type").agg(
            students=pl.col("student_id").n_unique(),
            students_with_release=pl.col("student_id").n_unique(),
        )
        if served.height and stored is None:
            connection.execute(insert(table_of(CoverageServedNow)), served.to_dicts())
    return len(filed) + len(rows)
