"""Partner capacity: the steward's rows, and open slots as each viewer may see them.

Issue 14 part 2; the `capacity` import file (docs/import-format.md) and its table
(migration 0008). Rules:

- Reading the capacity rows and their open slots is an aggregate view: every role that
  sees district figures (`Action.SEE_AGGREGATES`; refusals audited). Slots are a
  partner's plan, not a count of students; the students served now are, so open slots go
  through `indicators.capacity.open_slots`, the one rule for open slots.
- Exact open slots for admins and district leaders (`Principal.exact_aggregates`); every
  other viewer, and everyone in meeting mode, gets the protected form: the slots a partner
  offers ("up to 25"), never a figure derived from its served count, which would bound
  the coverage page's protected counts (docs/access-rules.md, "Need and coverage", rule 6).
  A partner's own organisation counts only the students with an active release naming it
  (`coverage_served_now.students_with_release`): a partner never learns that a student it
  may not see exists, not even as one slot fewer. Outside meeting mode those counts are
  its own students and exact; other organisations' rows are protected.
- The realignment (`realignment_view`) takes its unmet need from the coverage the
  viewer sees on the coverage page (`data_access.coverage.shown_coverage`), never from
  the stored exact counts: shown beside that page it must reveal nothing more.
- Editing (`save_capacity_row`, `delete_capacity_row`) is the steward's
  (`Action.EDIT_CAPACITY`, admin only, never in meeting mode), checked as the import file
  is (known organisation and school, a service type of the vocabulary, slots 0 or more)
  and audited in the same transaction as the change, like agreements.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from data_access.audit import record_event, recording_refusals
from data_access.coverage import shown_coverage
from data_access.models import (
    ANY_SCHOOL,
    Capacity,
    CoverageServedNow,
    Organization,
    School,
    table_of,
)
from data_access.policy import Action, Principal, require
from data_access.reading import frame
from domain.school_year import school_year_of
from domain.vocabulary import FLAGS, SERVICE_TYPES, Role
from indicators import capacity as capacity_rules
from indicators.realignment import realignment, unmet_need
from indicators.settings import load_settings

CAPACITY = table_of(Capacity)
SERVED_NOW = table_of(CoverageServedNow)
ORGANIZATION = table_of(Organization)
SCHOOL = table_of(School)

#: The columns of `read_capacity`, in order.
CAPACITY_COLUMNS = (
    "org_id",
    "org_name",
    "school_id",
    "service_type",
    "school_year",
    "slots",
    "accepting_referrals",
)
_SCHEMA = {
    "school_year": pl.Int64,
    "slots": pl.Int64,
    "accepting_referrals": pl.Boolean,
}


class InvalidCapacity(ValueError):
    """A capacity row the steward entered is incomplete or inconsistent; the message
    says what to fix (every problem at once)."""


@dataclass(frozen=True)
class CapacityRow:
    """One row of the `capacity` file: `school_id` is `ANY_SCHOOL` ("") for any school."""

    org_id: str
    school_id: str
    service_type: str
    school_year: int
    slots: int
    accepting_referrals: bool = True


def _may_see(engine: Engine, principal: Principal, action: str) -> None:
    with recording_refusals(engine, principal, action):
        require(principal, Action.SEE_AGGREGATES)


def _may_edit(engine: Engine, principal: Principal, action: str) -> None:
    with recording_refusals(engine, principal, action):
        require(principal, Action.EDIT_CAPACITY)


def _rows(engine: Engine, school_year: int) -> pl.DataFrame:
    statement = (
        select(
            CAPACITY.c.org_id,
            ORGANIZATION.c.org_name,
            CAPACITY.c.school_id,
            CAPACITY.c.service_type,
            CAPACITY.c.school_year,
            CAPACITY.c.slots,
            CAPACITY.c.accepting_referrals,
        )
        .join(ORGANIZATION, ORGANIZATION.c.org_id == CAPACITY.c.org_id)
        .where(CAPACITY.c.school_year == school_year)
        .order_by(CAPACITY.c.org_id, CAPACITY.c.school_id, CAPACITY.c.service_type)
    )
    with engine.connect() as connection:
        return frame(connection, statement, schema=_SCHEMA).with_columns(
            pl.col("school_year").cast(pl.Int64),
            pl.col("slots").cast(pl.Int64),
            pl.col("accepting_referrals").cast(pl.Boolean),
        )


def read_capacity(engine: Engine, *, principal: Principal, school_year: int) -> pl.DataFrame:
    """One school year's capacity rows with organisation names (CAPACITY_COLUMNS), sorted
    by org_id, school_id, service_type. For every role that sees district figures."""
    _may_see(engine, principal, "capacity.read")
    return _rows(engine, school_year)


def _problems(engine: Engine, row: CapacityRow) -> list[str]:
    """What is wrong with `row`, in the import file's words."""
    problems = []
    if row.service_type not in SERVICE_TYPES:
        problems.append(f"service type must be one of {', '.join(SERVICE_TYPES)}")
    if row.slots < 0:
        problems.append(f"slots may not be negative ({row.slots})")
    with engine.connect() as connection:
        org = connection.execute(
            select(ORGANIZATION.c.org_id).where(ORGANIZATION.c.org_id == row.org_id)
        ).first()
        school = row.school_id == ANY_SCHOOL or (
            connection.execute(
                select(SCHOOL.c.school_id).where(SCHOOL.c.school_id == row.school_id)
            ).first()
            is not None
        )
    if org is None:
        problems.append(f"no organisation {row.org_id!r}")
    if not school:
        problems.append(f"no school {row.school_id!r}")
    return problems


def save_capacity_row(engine: Engine, *, principal: Principal, row: CapacityRow) -> bool:
    """Add or replace the row of `row`'s key (org, school, type, year); returns whether
    it was new. Raises `InvalidCapacity` naming every problem (nothing written);
    audited as "capacity.save" with the row, in the same transaction."""
    _may_edit(engine, principal, "capacity.save")
    row = CapacityRow(
        row.org_id.strip(),
        row.school_id.strip(),
        row.service_type.strip(),
        row.school_year,
        row.slots,
        row.accepting_referrals,
    )
    problems = _problems(engine, row)
    if problems:
        raise InvalidCapacity("; ".join(problems))
    key = (
        (CAPACITY.c.org_id == row.org_id)
        & (CAPACITY.c.school_id == row.school_id)
        & (CAPACITY.c.service_type == row.service_type)
        & (CAPACITY.c.school_year == row.school_year)
    )
    with engine.begin() as connection:
        new = connection.execute(select(CAPACITY.c.slots).where(key)).first() is None
        if new:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            connection.execute(dialect.insert(CAPACITY).values(asdict(row)))
        else:
            connection.execute(
                update(CAPACITY)
                .where(key)
                .values(slots=row.slots, accepting_referrals=row.accepting_referrals)
            )
        record_event(connection, principal, "capacity.save", detail={**asdict(row), "new": new})
    return new


def delete_capacity_row(
    engine: Engine,
    *,
    principal: Principal,
    org_id: str,
    school_id: str,
    service_type: str,
    school_year: int,
) -> bool:
    """Delete one capacity row by its key; returns whether there was one. Audited as
    "capacity.delete" with the key and the slots it had, in the same transaction."""
    _may_edit(engine, principal, "capacity.delete")
    key = (
        (CAPACITY.c.org_id == org_id)
        & (CAPACITY.c.school_id == school_id)
        & (CAPACITY.c.service_type == service_type)
        & (CAPACITY.c.school_year == school_year)
    )
    with engine.begin() as connection:
        slots = connection.execute(select(CAPACITY.c.slots).where(key)).scalar_one_or_none()
        if slots is None:
            return False
        connection.execute(delete(CAPACITY).where(key))
        record_event(
            connection,
            principal,
            "capacity.delete",
            detail={
                "org_id": org_id,
                "school_id": school_id,
                "service_type": service_type,
                "school_year": school_year,
                "slots": slots,
            },
        )
    return True


def _served_now(engine: Engine) -> pl.DataFrame:
    statement = select(
        SERVED_NOW.c.org_id,
        SERVED_NOW.c.school_id,
        SERVED_NOW.c.service_type,
        SERVED_NOW.c.students,
        SERVED_NOW.c.students_with_release,
    )
    with engine.connect() as connection:
        return frame(
            connection,
            statement,
            schema={"students": pl.Int64, "students_with_release": pl.Int64},
        ).with_columns(pl.col("students", "students_with_release").cast(pl.Int64))


def open_capacity(engine: Engine, *, principal: Principal, school_year: int) -> pl.DataFrame:
    """Open slots of one school year's capacity, as `principal` may see them.

    Columns: org_name, then `indicators.capacity.OPEN_SLOTS_COLUMNS` (served null where
    hidden, open_low 0 and open_high the slots there; open_low/open_high/open_display). The students served are those of the last
    refresh (`coverage_served_now`). The module's rules say who sees what exactly."""
    _may_see(engine, principal, "capacity.read")
    rows = _rows(engine, school_year)
    names = rows.select("org_id", "org_name").unique()
    capacity = rows.drop("org_name", "school_year")
    served = _served_now(engine)
    min_cell = load_settings().min_cell
    if principal.exact_aggregates:
        result = capacity_rules.open_slots(
            capacity, served.drop("students_with_release"), exact=True, min_cell=min_cell
        )
    elif principal.role == Role.ORG_STAFF and principal.org_id is not None:
        own_org = principal.org_id
        own = pl.col("org_id") == own_org
        counted = served.with_columns(
            students=pl.when(own)
            .then(pl.col("students_with_release"))
            .otherwise(pl.col("students"))
        ).drop("students_with_release")
        others = capacity_rules.open_slots(
            capacity.filter(~own), counted.filter(~own), exact=False, min_cell=min_cell
        )
        mine = capacity_rules.open_slots(
            capacity.filter(own),
            counted.filter(own),
            exact=not principal.meeting_mode,
            min_cell=min_cell,
        )
        result = pl.concat([others, mine]).sort("org_id", "school_id", "service_type")
    else:
        result = capacity_rules.open_slots(
            capacity, served.drop("students_with_release"), exact=False, min_cell=min_cell
        )
    return result.join(names, on="org_id", how="left").select(
        "org_name", *capacity_rules.OPEN_SLOTS_COLUMNS
    )


def realignment_view(
    engine: Engine, *, principal: Principal, meeting: bool = False
) -> pl.DataFrame:
    """Unmet need against open capacity elsewhere (`indicators.realignment`) for the
    current school year, from the need and coverage of the last refresh as the coverage
    page shows them to the viewer (`data_access.coverage.shown_coverage`: the unmet need
    is exact only where flagged and served_addressing are shown exactly there) and the
    viewer's open slots; exact only for admins and leaders outside meeting mode (the
    module's rules). For every role that sees district figures."""
    viewer = principal.in_meeting_mode() if meeting else principal
    _may_see(engine, viewer, "realignment.read")
    settings = load_settings()
    with engine.connect() as connection:
        coverage = shown_coverage(
            connection, exact=viewer.exact_aggregates, min_cell=settings.min_cell
        )
        names = {
            str(school_id): str(name)
            for school_id, name in connection.execute(
                select(SCHOOL.c.school_id, SCHOOL.c.school_name)
            )
        }
    slots = open_capacity(engine, principal=viewer, school_year=school_year_of(viewer.today))
    return realignment(
        unmet_need(coverage.schools),
        slots,
        {need: settings.service_types_addressing(need) for need in FLAGS},
        names,
        exact=viewer.exact_aggregates,
    )
