"""The early-warning list ("Who needs help this week?") and `pathwise export flags`.

One scoped SELECT over the derived indicators: the WHERE clause keeps only the students
the principal may see (joined with `policy.visible_students`), and every indicator column
is masked in SQL by its category's `see_` flag, so an out-of-scope row or a hidden column
never leaves the database. Flag count and tier are then recomputed from the visible flags
only (`indicators.tiers.flags_and_tier_per_row`), so a tier never reveals a hidden category.
Filters on tier, flags and "approaching" apply to those recomputed values. Every student
returned is audited, with the legal basis, in the same transaction. `served` (a partner
serves the student now) is a partner's own services only, and is neither a column nor a
filter for a teacher, who may not learn which organisations serve a student
(`policy.sees_services`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, Select, and_, case, exists, func, literal, or_, select

from data_access.audit import record_event, recording_refusals
from data_access.bulk import polars_dtype
from data_access.models import (
    AttendanceSnapshot,
    Caseload,
    CourseMark,
    Enrollment,
    Fafsa,
    Meta,
    Service,
    Student,
    StudentIndicator,
    TestScore,
    table_of,
)
from data_access.policy import (
    Action,
    Principal,
    StudentFilter,
    current_school_year,
    require,
    sees_services,
    service_active,
    visible_services,
    visible_students,
)
from data_access.reading import frame, student_request
from domain.vocabulary import CATEGORIES, FLAGS
from indicators.settings import Settings, load_settings
from indicators.student import compute_student_indicators
from indicators.tables import RawTables
from indicators.tiers import COLUMN_CATEGORY, flags_and_tier_per_row
from indicators.trajectory import attendance_trajectory

SI = table_of(StudentIndicator)
META = table_of(Meta)
STUDENT = table_of(Student)
SERVICE = table_of(Service)
CASELOAD = table_of(Caseload)


@dataclass(frozen=True)
class ListFilters:
    """What the list shows. `caseload_only` is the counselor's default view."""

    caseload_only: bool = False
    school_id: str | None = None
    grades: tuple[int, ...] = ()
    tiers: tuple[int, ...] = ()
    flags: tuple[str, ...] = ()
    served: bool | None = None
    approaching: bool | None = None
    search: str | None = None
    limit: int | None = None


@dataclass
class AtRiskList:
    rows: pl.DataFrame
    school_year: int
    computed_as_of: date | None
    total_in_scope: int = 0
    categories_seen: frozenset[str] = field(default_factory=frozenset)


def _masked_columns(scope: Any) -> list[Any]:
    columns = []
    for column in SI.columns:
        if column.name in (
            "student_id",
            "school_id",
            "grade_level",
            "school_year",
            "computed_as_of",
            "flag_count",
            "tier",
        ):
            continue
        category = COLUMN_CATEGORY.get(column.name)
        if category is None:
            continue
        columns.append(case((scope.c[f"see_{category}"], column), else_=None).label(column.name))
    return columns


def _statement(
    principal: Principal, school_year: int, filters: ListFilters, restrict: StudentFilter = None
) -> Select[Any]:
    caseload = select(CASELOAD.c.student_id).where(CASELOAD.c.user_email == principal.email)
    if restrict is None and filters.caseload_only:
        restrict = caseload
    scope = visible_students(principal, school_year, restrict).subquery("scope")
    active_service = and_(
        SERVICE.c.student_id == SI.c.student_id,
        service_active(principal.today),
        visible_services(principal),
    )
    served = (
        [exists(select(literal(1)).where(active_service)).label("served")]
        if sees_services(principal)
        else []
    )
    statement = (
        select(
            SI.c.student_id,
            STUDENT.c.first_name,
            STUDENT.c.last_name,
            SI.c.school_id,
            SI.c.grade_level,
            *_masked_columns(scope),
            *served,
            scope.c.legal_basis,
            *(scope.c[f"see_{c}"] for c in CATEGORIES),
        )
        .select_from(
            SI.join(scope, scope.c.student_id == SI.c.student_id).join(
                STUDENT, STUDENT.c.student_id == SI.c.student_id
            )
        )
        .where(SI.c.school_year == school_year)
        .order_by(SI.c.student_id)
    )
    if filters.caseload_only:
        statement = statement.where(
            SI.c.student_id.in_(
                select(CASELOAD.c.student_id).where(CASELOAD.c.user_email == principal.email)
            )
        )
    if filters.school_id:
        statement = statement.where(SI.c.school_id == filters.school_id)
    if filters.grades:
        statement = statement.where(SI.c.grade_level.in_(filters.grades))
    if filters.search and filters.search.strip():
        text = filters.search.strip().lower()
        full_name = func.lower(STUDENT.c.first_name + literal(" ") + STUDENT.c.last_name)
        statement = statement.where(
            or_(
                full_name.like(f"%{_escape(text)}%", escape="\\"),
                func.lower(SI.c.student_id) == text,
            )
        )
    return statement


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _recompute(rows: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Every indicator column nulled where the row's grant (its `see_<category>` columns)
    leaves its category out, and flag count and tier recomputed from what is left."""
    if rows.height == 0:
        return rows.with_columns(flag_count=pl.lit(0, pl.Int64), tier=pl.lit(1, pl.Int64))
    return flags_and_tier_per_row(rows, settings).sort("student_id")


def _post_filter(rows: pl.DataFrame, filters: ListFilters) -> pl.DataFrame:
    if filters.tiers:
        rows = rows.filter(pl.col("tier").is_in(list(filters.tiers)))
    for flag in filters.flags:
        if flag in FLAGS:
            rows = rows.filter(pl.col(flag).fill_null(False))
    if filters.approaching is not None:
        rows = rows.filter(pl.col("approaching").fill_null(False) == filters.approaching)
    if filters.served is not None:
        rows = rows.filter(pl.col("served") == filters.served)
    return rows


def at_risk_list(
    engine: Engine,
    principal: Principal,
    filters: ListFilters | None = None,
    *,
    action: str = "flags.list",
    settings: Settings | None = None,
    order: Sequence[str] = ("tier", "flag_count", "absence_rate"),
) -> AtRiskList:
    """The early-warning rows the principal may see (audited)."""
    filters = filters or ListFilters()
    with recording_refusals(engine, principal, action):
        require(principal, Action.READ_STUDENTS)
        if filters.served is not None:
            require(principal, Action.SEE_SERVICES)
    settings = settings or load_settings()
    with student_request(engine) as connection:
        school_year = current_school_year(connection, principal.today)
        rows = frame(connection, _statement(principal, school_year, filters), schema=_SCHEMA)
        rows = _post_filter(_recompute(rows, settings), filters)
        total = rows.height
        if order:
            rows = rows.sort(list(order), descending=True, nulls_last=True)
        if filters.limit is not None:
            rows = rows.head(filters.limit)
        granted = _categories_granted(rows)
        if rows.height:
            record_event(
                connection,
                principal,
                action,
                students=dict(zip(rows["student_id"], rows["legal_basis"], strict=True)),
                categories=granted,
                detail={
                    "filters": {
                        k: v for k, v in filters.__dict__.items() if v not in (None, (), False)
                    }
                },
            )
        computed = connection.execute(
            select(META.c.value).where(META.c.key == "indicators_as_of")
        ).scalar()
    return AtRiskList(
        rows=rows.drop("legal_basis", *(f"see_{c}" for c in CATEGORIES)),
        school_year=school_year,
        computed_as_of=date.fromisoformat(computed) if computed else None,
        total_in_scope=total,
        categories_seen=granted,
    )


def _categories_granted(rows: pl.DataFrame) -> frozenset[str]:
    """The categories disclosed by these rows: the union of what each row's basis allows."""
    return frozenset(c for c in CATEGORIES if rows.height and rows[f"see_{c}"].any())


_SCHEMA: dict[str, Any] = {
    **{column.name: polars_dtype(column.type) for column in SI.columns},
    "first_name": pl.String,
    "last_name": pl.String,
    "legal_basis": pl.String,
    "served": pl.Boolean,
    **{f"see_{c}": pl.Boolean for c in CATEGORIES},
}


def indicator_row(
    connection: Connection,
    principal: Principal,
    school_year: int,
    student_id: str,
    settings: Settings | None = None,
) -> dict[str, Any] | None:
    """One student's indicators, masked and recomputed exactly as in the list (not audited
    here: the caller reads it inside its own audited request)."""
    statement = _statement(principal, school_year, ListFilters(), restrict=student_id).where(
        SI.c.student_id == student_id
    )
    rows = frame(connection, statement, schema=_SCHEMA)
    if rows.height == 0:
        return None
    row = _recompute(rows, settings or load_settings()).row(0, named=True)
    for key in ("legal_basis", *(f"see_{c}" for c in CATEGORIES)):
        row.pop(key, None)
    return row


def _scoped(
    connection: Connection, principal: Principal, school_year: int, model: Any, category: str | None
) -> pl.DataFrame:
    """Rows of a raw table for the students in scope (and, for a category's table, only
    those whose `see_<category>` is true): the input of a live recomputation."""
    table = table_of(model)
    scope = visible_students(principal, school_year).subquery("scope")
    statement = select(table).join(scope, scope.c.student_id == table.c.student_id)
    if category is not None:
        statement = statement.where(scope.c[f"see_{category}"])
    schema = {column.name: polars_dtype(column.type) for column in table.columns}
    return frame(connection, statement, schema=schema)


def live_list(
    engine: Engine,
    principal: Principal,
    school_year: int | None,
    as_of: date,
    *,
    action: str = "flags.export",
    settings: Settings | None = None,
) -> AtRiskList:
    """The early-warning rows computed now from the raw tables, for another school year or
    date than the stored indicators: the same scope, the same masking, the same audit."""
    with recording_refusals(engine, principal, action):
        require(principal, Action.READ_STUDENTS)
    settings = settings or load_settings()
    with student_request(engine) as connection:
        year = school_year or current_school_year(connection, as_of)
        scope = visible_students(principal, year).subquery("scope")
        grants = frame(
            connection, select(scope), schema={f"see_{c}": pl.Boolean for c in CATEGORIES}
        )
        tables = RawTables(
            enrollments=_scoped(connection, principal, year, Enrollment, None),
            attendance=_scoped(connection, principal, year, AttendanceSnapshot, "attendance"),
            course_marks=_scoped(connection, principal, year, CourseMark, "grades"),
            test_scores=_scoped(connection, principal, year, TestScore, "tests"),
            fafsa=_scoped(connection, principal, year, Fafsa, "fafsa"),
        )
        computed = compute_student_indicators(tables, year, as_of, settings)
        trajectory = attendance_trajectory(tables.attendance, year, as_of, settings)
        trajectory = trajectory.select(
            "student_id", *(c for c in trajectory.columns if c not in computed.columns)
        )
        names = frame(
            connection,
            select(STUDENT.c.student_id, STUDENT.c.first_name, STUDENT.c.last_name).join(
                scope, scope.c.student_id == STUDENT.c.student_id
            ),
        )
        rows = (
            computed.join(trajectory, on="student_id", how="left")
            .join(names, on="student_id", how="left")
            .join(grants, on="student_id", how="inner")
        )
        if sees_services(principal):
            rows = rows.with_columns(served=pl.lit(None, pl.Boolean))
        # Masking by each row's grant and the recomputed tier happen in one pass.
        rows = _recompute(rows, settings)
        granted = _categories_granted(rows)
        if rows.height:
            record_event(
                connection,
                principal,
                action,
                students=dict(zip(rows["student_id"], rows["legal_basis"], strict=True)),
                categories=granted,
                detail={"school_year": year, "as_of": as_of},
            )
    return AtRiskList(
        rows=rows.drop("legal_basis", *(f"see_{c}" for c in CATEGORIES)),
        school_year=year,
        computed_as_of=as_of,
        total_in_scope=rows.height,
        categories_seen=granted,
    )
