"""Figures of "Is it working?" (issue 13): program outcomes, read from the stored rows.

Who sees what (docs/access-rules.md, "Is it working?"; `data_access.policy`):
- admin and district_leader read the exact estimates (`program_estimate`); viewers,
  partner staff and everyone in meeting mode read only the protected table
  (`program_estimate_public`), which does not hold a hidden value at all; the other
  roles are refused (the refusal audited).
- Partner staff see their own organisation's programs only; asking for another's is
  refused.
- The served students of a program: only to admin, leader and partner staff, not in
  meeting mode, and only the students `visible_students` lets the principal see (a
  partner: an active release naming its organisation, under an active agreement); the
  read is audited as a student-level read, in its transaction. Comparison students are
  never stored, so never listed.

Figures are read, never recomputed here: the refresh computed them
(`data_access.derived`). Viewing figures is not audited (not student-level data);
exporting them is (`export_outcomes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import Connection, Engine, Select, Table, select

from data_access.audit import record_event, recording_refusals
from data_access.models import (
    Meta,
    Organization,
    ProgramBalance,
    ProgramEstimate,
    ProgramEstimatePublic,
    ProgramServedStudent,
    ProgramTrajectory,
    ProgramTrajectoryPublic,
    School,
    Student,
    table_of,
)
from data_access.policy import (
    Action,
    Principal,
    require_program,
    visible_programs,
    visible_students,
)
from data_access.reading import frame
from domain.vocabulary import GROUP_FIELDS
from indicators.outcomes_protection import publishable_balance
from indicators.outcomes_schema import (
    BALANCE_SCHEMA,
    DISPLAYED_COUNTS,
    ESTIMATES_SCHEMA,
    MEASURES,
    PUBLIC_ESTIMATES_SCHEMA,
    PUBLIC_TRAJECTORY_SCHEMA,
    TRAJECTORY_SCHEMA,
)

EXACT = table_of(ProgramEstimate)
PUBLIC = table_of(ProgramEstimatePublic)
BALANCE = table_of(ProgramBalance)
TRAJECTORY = table_of(ProgramTrajectory)
TRAJECTORY_PUBLIC = table_of(ProgramTrajectoryPublic)
SERVED = table_of(ProgramServedStudent)
STUDENT = table_of(Student)
ORGANIZATION = table_of(Organization)
SCHOOL = table_of(School)
META = table_of(Meta)
ALL = "all"
GROUPINGS = (ALL, *GROUP_FIELDS)
SERVED_STUDENT_COLUMNS = (
    "student_id",
    "first_name",
    "last_name",
    "school_id",
    "grade_level",
    "start_date",
    "matched",
    "sessions",
    "hours",
)
_SERVED_STUDENT_SCHEMA: dict[str, pl.DataType] = {
    "student_id": pl.String(),
    "first_name": pl.String(),
    "last_name": pl.String(),
    "school_id": pl.String(),
    "grade_level": pl.Int64(),
    "start_date": pl.Date(),
    "matched": pl.Boolean(),
    "sessions": pl.Int64(),
    "hours": pl.Float64(),
}


@dataclass(frozen=True)
class OutcomesView:
    """The estimates a principal may see (issue-13 contract)."""

    #: Estimates columns (exact) or the public table's (protected); both with the
    #: `served_display`, `matched_display`, `comparison_display` text columns.
    rows: pl.DataFrame
    exact: bool
    #: When the figures were computed (the refresh's as-of date).
    as_of: date | None
    #: School years with figures, newest first.
    school_years: list[int]
    org_names: dict[str, str]
    school_names: dict[str, str]


@dataclass(frozen=True)
class ProgramDetail:
    """One program-year as a principal may see it (issue-13 contract)."""

    estimates: pl.DataFrame
    balance: pl.DataFrame
    trajectory: pl.DataFrame
    #: None when the principal may see none; else only the ones it may see.
    served_students: pl.DataFrame | None
    exact: bool
    org_name: str


def _estimates_table(principal: Principal) -> tuple[Table, dict[str, pl.DataType]]:
    if principal.exact_aggregates:
        return EXACT, ESTIMATES_SCHEMA
    return PUBLIC, PUBLIC_ESTIMATES_SCHEMA


def _one_shape(rows: pl.DataFrame, exact: bool) -> pl.DataFrame:
    """Exact rows get the `_display` columns too (the integer as text), so a page reads
    one shape; both sorted newest year first, then program, measure and group."""
    if exact:
        rows = rows.with_columns(
            pl.col(c).cast(pl.String).alias(f"{c}_display") for c in DISPLAYED_COUNTS
        )
    rank = {m: i for i, m in enumerate(MEASURES)}
    return (
        rows.with_columns(
            _measure=pl.col("measure").replace_strict(
                rank, default=len(rank), return_dtype=pl.Int64
            ),
            _all=pl.col("group_by") != ALL,
        )
        .sort(
            [
                "school_year",
                "org_id",
                "service_type",
                "_measure",
                "measure",
                "_all",
                "group_by",
                "group_value",
            ],
            descending=[True, False, False, False, False, False, False, False],
        )  # fmt: skip
        .drop("_measure", "_all")
    )


def _where(
    table: Table,
    principal: Principal,
    *,
    school_year: int | None,
    org_id: str | None,
    service_type: str | None,
    group_by: str,
    group_value: str | None,
) -> Select[tuple[object, ...]]:
    query = select(table).where(visible_programs(principal, table.c.org_id))
    query = query.where(table.c.group_by == group_by)
    if school_year is not None:
        query = query.where(table.c.school_year == school_year)
    if org_id is not None:
        query = query.where(table.c.org_id == org_id)
    if service_type is not None:
        query = query.where(table.c.service_type == service_type)
    if group_value is not None:
        query = query.where(table.c.group_value == group_value)
    return query


def outcomes_in(
    connection: Connection,
    principal: Principal,
    *,
    school_year: int | None = None,
    org_id: str | None = None,
    service_type: str | None = None,
    group_by: str = ALL,
    group_value: str | None = None,
) -> OutcomesView:
    """`program_outcomes` on the caller's connection (the export audits in its
    transaction); the caller has checked `require_program`."""
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by is one of {', '.join(GROUPINGS)} (not {group_by!r})")
    table, schema = _estimates_table(principal)
    query = _where(
        table, principal, school_year=school_year, org_id=org_id, service_type=service_type,
        group_by=group_by, group_value=group_value,
    )  # fmt: skip
    rows = frame(connection, query, schema=schema).select(list(schema))
    years = connection.execute(
        select(table.c.school_year)
        .where(visible_programs(principal, table.c.org_id))
        .distinct()
        .order_by(table.c.school_year.desc())
    ).scalars()
    refreshed = connection.execute(
        select(META.c.value).where(META.c.key == "indicators_as_of")
    ).scalar()
    return OutcomesView(
        rows=_one_shape(rows, principal.exact_aggregates),
        exact=principal.exact_aggregates,
        as_of=date.fromisoformat(refreshed) if refreshed else None,
        school_years=[int(y) for y in years],
        org_names=_org_names(connection),
        school_names={
            r.school_id: r.school_name
            for r in connection.execute(select(SCHOOL.c.school_id, SCHOOL.c.school_name))
        },
    )


def _org_names(connection: Connection) -> dict[str, str]:
    return {
        r.org_id: r.org_name
        for r in connection.execute(select(ORGANIZATION.c.org_id, ORGANIZATION.c.org_name))
    }


def program_outcomes(
    engine: Engine,
    principal: Principal,
    *,
    school_year: int | None = None,
    org_id: str | None = None,
    service_type: str | None = None,
    group_by: str = ALL,
    group_value: str | None = None,
) -> OutcomesView:
    """The estimates of every program-year the principal may see, for one grouping
    (`group_by`: `all` or a GROUP_FIELDS name; `group_value`: one of its groups, or all of
    them), optionally one school year (None: every year), organisation and service type.
    Exact for admin and leader, protected for the others; a role without outcome rights,
    or a partner asking for another organisation, is refused (audited)."""
    with recording_refusals(engine, principal, "outcomes.read"):
        require_program(principal, Action.SEE_OUTCOMES, org_id)
    with engine.connect() as connection:
        return outcomes_in(
            connection, principal, school_year=school_year, org_id=org_id,
            service_type=service_type, group_by=group_by, group_value=group_value,
        )  # fmt: skip


def _program_rows(
    connection: Connection, table: Table, schema: dict[str, pl.DataType], key: tuple[int, str, str]
) -> pl.DataFrame:
    year, org_id, service_type = key
    query = select(table).where(
        table.c.school_year == year, table.c.org_id == org_id, table.c.service_type == service_type
    )
    return frame(connection, query, schema=schema).select(list(schema))


def program_detail(
    engine: Engine, principal: Principal, *, school_year: int, org_id: str, service_type: str
) -> ProgramDetail:
    """One program-year: its `all` estimates, balance table and trajectory (exact or
    protected as in `program_outcomes`), and the served students the principal may see
    (None when it may see none), that read audited as a student-level read."""
    with recording_refusals(engine, principal, "outcomes.read"):
        require_program(principal, Action.SEE_OUTCOMES, org_id)
    key = (school_year, org_id, service_type)
    exact = principal.exact_aggregates
    with engine.begin() as connection:
        view = outcomes_in(
            connection, principal, school_year=school_year, org_id=org_id,
            service_type=service_type,
        )  # fmt: skip
        balance = _program_rows(connection, BALANCE, BALANCE_SCHEMA, key)
        if exact:
            trajectory = _program_rows(connection, TRAJECTORY, TRAJECTORY_SCHEMA, key)
        else:
            public = _program_rows(connection, PUBLIC, PUBLIC_ESTIMATES_SCHEMA, key)
            balance = publishable_balance(balance, public)
            trajectory = _program_rows(connection, TRAJECTORY_PUBLIC, PUBLIC_TRAJECTORY_SCHEMA, key)
        served = _served_students(connection, principal, key)
        org_name = _org_names(connection).get(org_id, org_id)
    return ProgramDetail(
        estimates=view.rows,
        balance=balance.sort("measure", "covariate"),
        trajectory=trajectory.sort("group", "month_offset", descending=[True, False]),
        served_students=served,
        exact=exact,
        org_name=org_name,
    )


def _served_students(
    connection: Connection, principal: Principal, key: tuple[int, str, str]
) -> pl.DataFrame | None:
    """The program's served students within the principal's row scope, recorded as a
    student-level read (with each student's legal basis) in the caller's transaction."""
    if not principal.can(Action.LIST_PROGRAM_STUDENTS):
        return None
    year, org_id, service_type = key
    scope = visible_students(principal, year).subquery("scope")
    query = (
        select(
            SERVED.c.student_id, STUDENT.c.first_name, STUDENT.c.last_name, STUDENT.c.school_id,
            STUDENT.c.grade_level, SERVED.c.start_date, SERVED.c.matched, SERVED.c.sessions,
            SERVED.c.hours, scope.c.legal_basis,
        )
        .select_from(
            SERVED.join(scope, scope.c.student_id == SERVED.c.student_id).join(
                STUDENT, STUDENT.c.student_id == SERVED.c.student_id
            )
        )
        .where(
            SERVED.c.school_year == year,
            SERVED.c.org_id == org_id,
            SERVED.c.service_type == service_type,
            visible_programs(principal, SERVED.c.org_id),
        )
        .order_by(STUDENT.c.last_name, STUDENT.c.first_name, SERVED.c.student_id)
    )  # fmt: skip
    rows = frame(connection, query, schema={**_SERVED_STUDENT_SCHEMA, "legal_basis": pl.String()})
    if rows.height == 0:
        return None
    record_event(
        connection,
        principal,
        "outcomes.served_students",
        students=dict(zip(rows["student_id"], rows["legal_basis"], strict=True)),
        detail={"school_year": year, "org_id": org_id, "service_type": service_type},
    )
    return rows.select(SERVED_STUDENT_COLUMNS)
