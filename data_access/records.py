"""One student's record, as the principal may see it (profile page, `export student`).

Only the categories the principal may see for this student are queried at all; an
out-of-scope student returns nothing and leaves a denial in the audit log. Services: the
roles that see every category see every organisation serving the student; a partner sees
only its own services; a teacher sees none (which organisations serve a student can itself
be sensitive, e.g. a behavioural-health clinic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, select

from data_access.audit import record_event, recording_refusals
from data_access.models import (
    AttendanceSnapshot,
    CourseMark,
    Enrollment,
    Fafsa,
    Guardian,
    NscSearch,
    Organization,
    Outcome,
    PostsecondaryEnrollment,
    School,
    Service,
    Student,
    TestScore,
    table_of,
)
from data_access.policy import (
    AGREEMENT,
    CONSENT,
    Action,
    Principal,
    Scope,
    agreement_active,
    categories_of,
    consent_active,
    current_school_year,
    require_student,
    visible_consents,
    visible_services,
    visible_students,
)
from data_access.reading import frame, student_request
from data_access.roster import indicator_row
from domain.vocabulary import CATEGORIES

STUDENT = table_of(Student)
SCHOOL = table_of(School)
ATTENDANCE = table_of(AttendanceSnapshot)
MARK = table_of(CourseMark)
TEST = table_of(TestScore)
FAFSA = table_of(Fafsa)
OUTCOME = table_of(Outcome)
COLLEGE = table_of(PostsecondaryEnrollment)
NSC_SEARCH = table_of(NscSearch)
ENROLLMENT = table_of(Enrollment)
SERVICE = table_of(Service)
ORGANIZATION = table_of(Organization)
GUARDIAN = table_of(Guardian)

DEMOGRAPHIC_COLUMNS = (
    "birth_date",
    "gender",
    "race_ethnicity",
    "english_learner",
    "disability",
    "econ_disadvantaged",
)


@dataclass(frozen=True)
class VisibilityReason:
    """Why the principal can see this student ("why can I see this student?")."""

    legal_basis: str
    categories: frozenset[str]
    explanation: str
    consent_id: str | None = None
    consent_expires: date | None = None
    agreement_id: str | None = None
    agreement_expires: date | None = None


@dataclass
class StudentRecord:
    """Everything the principal may see about one student; absent categories are None."""

    student_id: str
    identity: dict[str, Any]
    reason: VisibilityReason
    school_year: int
    demographics: dict[str, Any] | None = None
    guardians: pl.DataFrame | None = None
    attendance: pl.DataFrame | None = None
    marks: pl.DataFrame | None = None
    tests: pl.DataFrame | None = None
    fafsa: pl.DataFrame | None = None
    outcome: dict[str, Any] | None = None
    enrollments: pl.DataFrame | None = None
    services: pl.DataFrame = field(default_factory=pl.DataFrame)
    consents: pl.DataFrame = field(default_factory=pl.DataFrame)
    indicators: dict[str, Any] | None = None
    #: Clearinghouse terms and the search (category `outcomes`; None when not visible).
    college: pl.DataFrame | None = None
    college_search: dict[str, Any] | None = None

    @property
    def categories(self) -> frozenset[str]:
        return self.reason.categories


def _explain(principal: Principal, basis: str, categories: frozenset[str]) -> str:
    shown = ", ".join(c for c in CATEGORIES if c in categories) or "identity only"
    match principal.scope:
        case Scope.EVERY_STUDENT:
            return f"As {principal.role.value.replace('_', ' ')} you see every student ({shown})."
        case Scope.SCHOOL:
            return f"The student is enrolled at your school, {principal.school_id} ({shown})."
        case Scope.CASELOAD:
            return f"The student is on your caseload; teachers see {shown}."
        case Scope.CHILDREN:
            return "You are listed as this student's guardian."
        case Scope.SELF:
            return "This is your own record."
        case Scope.RELEASES:
            return (
                f"A parent release ({basis.removeprefix('consent:')}) names your organisation; "
                f"with your organisation's agreement it allows: {shown}."
            )
    return basis


def _reason(connection: Connection, principal: Principal, row: Any) -> VisibilityReason:
    basis = str(row.legal_basis)
    categories = categories_of(row)
    reason = VisibilityReason(basis, categories, _explain(principal, basis, categories))
    if not principal.partner:
        return reason
    consent_id = basis.removeprefix("consent:")
    consent = connection.execute(
        select(CONSENT.c.expires_date).where(CONSENT.c.consent_id == consent_id)
    ).first()
    agreement = connection.execute(
        select(AGREEMENT.c.agreement_id, AGREEMENT.c.expires_date)
        .where(AGREEMENT.c.org_id == principal.org_id, agreement_active(principal.today))
        .order_by(AGREEMENT.c.effective_date.desc())
    ).first()
    return VisibilityReason(
        basis,
        categories,
        reason.explanation,
        consent_id=consent_id,
        consent_expires=consent.expires_date if consent else None,
        agreement_id=agreement.agreement_id if agreement else None,
        agreement_expires=agreement.expires_date if agreement else None,
    )


def student_record(
    engine: Engine,
    principal: Principal,
    student_id: str,
    *,
    action: str = "student.read",
) -> StudentRecord:
    """One student's record as `principal` may see it; `AccessDenied` (audited) otherwise."""
    with recording_refusals(engine, principal, action), student_request(engine) as connection:
        year = current_school_year(connection, principal.today)
        row = require_student(connection, principal, Action.READ_STUDENTS, student_id, year)
        record = _read_record(connection, principal, student_id, row, year)
        record.indicators = indicator_row(connection, principal, year, student_id)
        record_event(
            connection,
            principal,
            action,
            students={student_id: record.reason.legal_basis},
            categories=record.categories,
        )
    return record


def _read_record(
    connection: Connection, principal: Principal, student_id: str, row: Any, year: int
) -> StudentRecord:
    see = categories_of(row)
    identity_row = connection.execute(
        select(
            STUDENT.c.student_id,
            STUDENT.c.first_name,
            STUDENT.c.last_name,
            STUDENT.c.school_id,
            SCHOOL.c.school_name,
            STUDENT.c.grade_level,
        )
        .select_from(STUDENT.join(SCHOOL, SCHOOL.c.school_id == STUDENT.c.school_id))
        .where(STUDENT.c.student_id == student_id)
    ).one()
    record = StudentRecord(
        student_id=student_id,
        identity=dict(identity_row._mapping),
        reason=_reason(connection, principal, row),
        school_year=year,
    )
    by_student = STUDENT.c.student_id == student_id
    if "demographics" in see:
        demo = connection.execute(
            select(*(STUDENT.c[c] for c in DEMOGRAPHIC_COLUMNS)).where(by_student)
        ).one()
        record.demographics = dict(demo._mapping)
        record.guardians = frame(
            connection,
            select(GUARDIAN.c.guardian_name, GUARDIAN.c.relationship, GUARDIAN.c.guardian_email)
            .where(GUARDIAN.c.student_id == student_id)
            .order_by(GUARDIAN.c.guardian_email),
        )
    if "attendance" in see:
        record.attendance = frame(
            connection,
            select(
                ATTENDANCE.c.school_year,
                ATTENDANCE.c.school_id,
                ATTENDANCE.c.as_of_date,
                ATTENDANCE.c.days_enrolled,
                ATTENDANCE.c.days_absent,
            )
            .where(ATTENDANCE.c.student_id == student_id)
            .order_by(ATTENDANCE.c.school_year, ATTENDANCE.c.as_of_date, ATTENDANCE.c.school_id),
        )
    if "grades" in see:
        record.marks = frame(
            connection,
            select(*(c for c in MARK.c if c.name != "student_id"))
            .where(MARK.c.student_id == student_id)
            .order_by(MARK.c.school_year, MARK.c.term, MARK.c.subject, MARK.c.course_id),
        )
    if "tests" in see:
        record.tests = frame(
            connection,
            select(*(c for c in TEST.c if c.name != "student_id"))
            .where(TEST.c.student_id == student_id)
            .order_by(TEST.c.school_year, TEST.c.test_date, TEST.c.subject),
        )
    if "fafsa" in see:
        record.fafsa = frame(
            connection,
            select(FAFSA.c.award_year, FAFSA.c.status, FAFSA.c.status_date)
            .where(FAFSA.c.student_id == student_id)
            .order_by(FAFSA.c.award_year),
        )
    if "outcomes" in see:
        outcome = connection.execute(
            select(*(c for c in OUTCOME.c if c.name != "student_id")).where(
                OUTCOME.c.student_id == student_id
            )
        ).first()
        record.outcome = dict(outcome._mapping) if outcome else {}
        record.identity["cohort_year"] = connection.execute(
            select(STUDENT.c.cohort_year).where(by_student)
        ).scalar_one()
        record.college = frame(
            connection,
            select(*(c for c in COLLEGE.c if c.name != "student_id"))
            .where(COLLEGE.c.student_id == student_id)
            .order_by(COLLEGE.c.seq),
        )
        search = connection.execute(
            select(*(c for c in NSC_SEARCH.c if c.name != "student_id")).where(
                NSC_SEARCH.c.student_id == student_id
            )
        ).first()
        record.college_search = dict(search._mapping) if search else None
        record.enrollments = frame(
            connection,
            select(*(c for c in ENROLLMENT.c if c.name != "student_id"))
            .where(ENROLLMENT.c.student_id == student_id)
            .order_by(ENROLLMENT.c.school_year, ENROLLMENT.c.entry_date),
        )
    record.services = _services(connection, principal, student_id, see)
    record.consents = _consents(connection, principal, student_id, see)
    return record


def _services(
    connection: Connection, principal: Principal, student_id: str, see: frozenset[str]
) -> pl.DataFrame:
    statement = (
        select(
            SERVICE.c.org_id,
            ORGANIZATION.c.org_name,
            SERVICE.c.service_type,
            SERVICE.c.start_date,
            SERVICE.c.end_date,
        )
        .select_from(SERVICE.join(ORGANIZATION, ORGANIZATION.c.org_id == SERVICE.c.org_id))
        .where(SERVICE.c.student_id == student_id)
        .order_by(SERVICE.c.start_date, SERVICE.c.org_id)
    )
    return frame(connection, statement.where(visible_services(principal, see)))


def _consents(
    connection: Connection, principal: Principal, student_id: str, see: frozenset[str]
) -> pl.DataFrame:
    statement = (
        select(
            CONSENT.c.consent_id,
            CONSENT.c.org_id,
            ORGANIZATION.c.org_name,
            CONSENT.c.categories,
            CONSENT.c.purpose,
            CONSENT.c.signed_date,
            CONSENT.c.expires_date,
            CONSENT.c.revoked_date,
            consent_active(principal.today).label("active"),
        )
        .select_from(CONSENT.join(ORGANIZATION, ORGANIZATION.c.org_id == CONSENT.c.org_id))
        .where(CONSENT.c.student_id == student_id)
        .order_by(CONSENT.c.signed_date, CONSENT.c.consent_id)
    )
    statement = statement.where(visible_consents(principal, see))
    return frame(connection, statement, schema={"active": pl.Boolean})


def family_students(engine: Engine, principal: Principal) -> list[dict[str, str]]:
    """The students a parent or student sees in "My record" (identity only)."""
    if not principal.can(Action.READ_OWN_RECORD):
        return []
    with engine.connect() as connection:
        year = current_school_year(connection, principal.today)
        scope = visible_students(principal, year).subquery("scope")
        rows = connection.execute(
            select(STUDENT.c.student_id, STUDENT.c.first_name, STUDENT.c.last_name)
            .join(scope, scope.c.student_id == STUDENT.c.student_id)
            .order_by(STUDENT.c.first_name, STUDENT.c.student_id)
        ).all()
    return [dict(r._mapping) for r in rows]
