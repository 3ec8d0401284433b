"""The access policy: the one front door to student data.

Contract (../shared/spec/access.md):

- A request is made by a `Principal`, resolved from the users table by the signed-in
  email, with "today" (the real date unless a test or `--as-of` pins it). Unknown and
  inactive users, and users of any role but `parent` and `student` without a signed
  confidentiality agreement, get `AccessDenied` with the reason, never data; the refusal
  is audited.
- `visible_students(principal)` is a SQL selectable of `(student_id, legal_basis,
  see_<category>...)`: the students the principal may see and, per student, which data
  categories. Every student-level query in `data_access/` joins it, so out-of-scope rows
  never leave the database, and masks each category's columns with its `see_` flag, so
  out-of-scope columns never leave it either.
    admin, district_leader  every student, every category          basis "role:<role>"
    counselor               enrolled at their school this year     basis "role:counselor"
    teacher                 their caseload; attendance/grades/tests basis "role:teacher"
    org_staff               an active consent naming their org and an active agreement
                            for their org; categories = consent ∩ agreement
                                                                   basis "consent:<id>"
    parent                  their children (guardians file)        basis "role:parent"
    student                 themselves                             basis "role:student"
    viewer                  nobody
- A consent is active when signed_date <= today, expires_date is blank or >= today and
  revoked_date is blank or > today; an agreement likewise with effective_date. Nothing
  here is cached: a revocation is honoured on the very next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
)

from data_access.models import (
    Agreement,
    Caseload,
    Consent,
    Enrollment,
    Guardian,
    Student,
    User,
    table_of,
)
from domain.school_year import school_year_of
from domain.vocabulary import (
    CATEGORIES,
    ROLES_EXACT_AGGREGATES,
    ROLES_NEEDING_CONFIDENTIALITY,
    ROLES_WITH_AGGREGATES,
    TEACHER_CATEGORIES,
    Role,
)

STUDENT = table_of(Student)
CONSENT = table_of(Consent)
AGREEMENT = table_of(Agreement)
ENROLLMENT = table_of(Enrollment)
GUARDIAN = table_of(Guardian)
CASELOAD = table_of(Caseload)
USER = table_of(User)

#: Roles that may read and write notes (before the per-student `notes` category check).
NOTE_WRITERS = frozenset({Role.ADMIN, Role.COUNSELOR, Role.TEACHER, Role.ORG_STAFF})
NOTE_READERS = NOTE_WRITERS | {Role.DISTRICT_LEADER, Role.PARENT}


def sees_services(principal: Principal) -> bool:
    """Whether the principal may learn which organisations serve a student (services, the
    list's `served`, other people's referrals). Not a teacher: which partner serves a
    student (e.g. a behavioural-health clinic) is itself sensitive, and a teacher's
    categories (attendance, grades, tests) do not include it (docs/access-rules.md,
    "Organisations serving a student"). A partner learns only about its own services.
    """
    return principal.role != Role.TEACHER


class AccessDenied(Exception):
    """The request may not be served; `reason` says why in words a user can act on."""

    def __init__(self, reason: str, *, code: str = "denied") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Principal:
    """Who is asking, as the users table knows them, and the date the rules apply on."""

    email: str
    display_name: str
    role: Role
    today: date
    org_id: str | None = None
    school_id: str | None = None
    student_id: str | None = None
    meeting_mode: bool = field(default=False)
    #: The operating-system user running the command line on this user's behalf (None in
    #: the app); recorded with every audit event (issue 10, item 5).
    os_user: str | None = None

    @property
    def exact_aggregates(self) -> bool:
        """Exact figures only for admin and district_leader, and never in meeting mode."""
        return self.role in ROLES_EXACT_AGGREGATES and not self.meeting_mode

    @property
    def sees_aggregates(self) -> bool:
        """Pipeline figures for the roles that have them (access.md). Meeting mode only ever
        removes rights: it never gives figures to a teacher, a parent or a student."""
        return self.role in ROLES_WITH_AGGREGATES

    @property
    def sees_students(self) -> bool:
        return self.role != Role.VIEWER and not self.meeting_mode

    def in_meeting_mode(self) -> Principal:
        """The same person, restricted to suppressed aggregates (access.md): for a role
        without aggregates, that leaves nothing."""
        return Principal(
            self.email, self.display_name, self.role, self.today,
            self.org_id, self.school_id, self.student_id, meeting_mode=True,
        )  # fmt: skip


def resolve_principal(connection: Connection, email: str, today: date) -> Principal:
    """The principal for a signed-in email, or `AccessDenied` with the reason."""
    normalised = (email or "").strip().lower()
    row = connection.execute(select(USER).where(USER.c.email == normalised)).first()
    if row is None:
        raise AccessDenied(
            f"{email or 'This account'} has no access to Pathwise yet. Ask your data steward to add you.",
            code="unknown_user",
        )
    if not row.active:
        raise AccessDenied(
            f"The Pathwise account {row.email} is inactive. Ask your data steward if you need access again.",
            code="inactive_user",
        )
    role = Role(row.role)
    if role in ROLES_NEEDING_CONFIDENTIALITY and (
        row.confidentiality_signed_date is None or row.confidentiality_signed_date > today
    ):
        raise AccessDenied(
            f"{row.email} has no signed confidentiality agreement on file. Student data is shown "
            "only after your data steward records it.",
            code="no_confidentiality_agreement",
        )
    return Principal(
        email=row.email,
        display_name=row.display_name,
        role=role,
        today=today,
        org_id=row.org_id,
        school_id=row.school_id,
        student_id=row.student_id,
    )


def _has_category(column: ColumnElement[str], category: str) -> ColumnElement[bool]:
    """`category` is an item of a stored `;` list (canonical form: sorted, no spaces)."""
    return (literal(";") + column + literal(";")).like(f"%;{category};%")


def consent_active(today: date) -> ColumnElement[bool]:
    return and_(
        CONSENT.c.signed_date <= today,
        or_(CONSENT.c.expires_date.is_(None), CONSENT.c.expires_date >= today),
        or_(CONSENT.c.revoked_date.is_(None), CONSENT.c.revoked_date > today),
    )


def agreement_active(today: date) -> ColumnElement[bool]:
    return and_(
        AGREEMENT.c.effective_date <= today,
        or_(AGREEMENT.c.expires_date.is_(None), AGREEMENT.c.expires_date >= today),
    )


def current_school_year(connection: Connection, today: date) -> int:
    """The latest school year with enrollments, up to the one `today` falls in."""
    latest = connection.execute(
        select(func.max(ENROLLMENT.c.school_year)).where(
            ENROLLMENT.c.school_year <= school_year_of(today)
        )
    ).scalar()
    return int(latest) if latest is not None else school_year_of(today)


def enrolled_in(school_year: int, as_of: date) -> ColumnElement[bool]:
    """An enrollment for `school_year` whose exit date is blank or after `as_of` (cli.md)."""
    return and_(
        ENROLLMENT.c.school_year == school_year,
        ENROLLMENT.c.entry_date <= as_of,
        or_(ENROLLMENT.c.exit_date.is_(None), ENROLLMENT.c.exit_date > as_of),
    )


def _all_categories(flag: bool) -> list[ColumnElement[bool]]:
    return [(true() if flag else false()).label(f"see_{c}") for c in CATEGORIES]


StudentFilter = Select[Any] | Sequence[str] | str | None


def _restricted(column: ColumnElement[str], restrict: StudentFilter) -> ColumnElement[bool]:
    """`column` limited to the students a caller asks about (one id, a list, a subquery)."""
    if restrict is None:
        return true()
    if isinstance(restrict, str):
        return column == restrict
    return column.in_(restrict)


def visible_students(
    principal: Principal, school_year: int, restrict: StudentFilter = None
) -> Select[tuple[object, ...]]:
    """`(student_id, legal_basis, see_attendance, …, see_notes)` for every student in scope.

    The result is a subquery-ready SELECT; callers join it on `student_id`. `restrict`
    narrows it to the students the caller asks about (one id, a list or a subquery) before
    the rules are evaluated, so a one-student request does not evaluate a whole school.
    """
    role = principal.role
    only = _restricted(STUDENT.c.student_id, restrict)
    if not principal.sees_students:
        return select(
            STUDENT.c.student_id, literal("none").label("legal_basis"), *_all_categories(False)
        ).where(false())
    if role in (Role.ADMIN, Role.DISTRICT_LEADER):
        return select(
            STUDENT.c.student_id,
            literal(f"role:{role.value}").label("legal_basis"),
            *_all_categories(True),
        ).where(only)
    if role == Role.COUNSELOR:
        here = (
            select(ENROLLMENT.c.student_id)
            .where(enrolled_in(school_year, principal.today))
            .where(ENROLLMENT.c.school_id == principal.school_id)
            .where(_restricted(ENROLLMENT.c.student_id, restrict))
        )
        return select(
            STUDENT.c.student_id,
            literal("role:counselor").label("legal_basis"),
            *_all_categories(True),
        ).where(STUDENT.c.student_id.in_(here), only)
    if role == Role.TEACHER:
        mine = select(CASELOAD.c.student_id).where(
            CASELOAD.c.user_email == principal.email, _restricted(CASELOAD.c.student_id, restrict)
        )
        return select(
            STUDENT.c.student_id,
            literal("role:teacher").label("legal_basis"),
            *[
                (true() if c in TEACHER_CATEGORIES else false()).label(f"see_{c}")
                for c in CATEGORIES
            ],
        ).where(STUDENT.c.student_id.in_(mine), only)
    if role == Role.PARENT:
        # Emails are stored lower-cased (imports and users add normalise them), so the
        # guardians index answers this without scanning.
        children = select(GUARDIAN.c.student_id).where(
            GUARDIAN.c.guardian_email == principal.email.lower()
        )
        return select(
            STUDENT.c.student_id,
            literal("role:parent").label("legal_basis"),
            *_all_categories(True),
        ).where(STUDENT.c.student_id.in_(children), only)
    if role == Role.STUDENT:
        return select(
            STUDENT.c.student_id,
            literal("role:student").label("legal_basis"),
            *_all_categories(True),
        ).where(STUDENT.c.student_id == (principal.student_id or ""), only)
    if role == Role.ORG_STAFF:
        return _consented_students(principal, restrict)
    return select(
        STUDENT.c.student_id, literal("none").label("legal_basis"), *_all_categories(False)
    ).where(false())


def _consented_students(
    principal: Principal, restrict: StudentFilter = None
) -> Select[tuple[object, ...]]:
    """Students with an active consent naming the org, while an agreement is active.

    Categories are the union over active consents intersected with the union over active
    agreements (the same thing as "any consent and any agreement both name it").
    """
    today = principal.today
    org = principal.org_id or ""
    pairs = (
        select(
            CONSENT.c.student_id,
            CONSENT.c.consent_id,
            CONSENT.c.categories.label("consent_categories"),
            AGREEMENT.c.categories.label("agreement_categories"),
        )
        .select_from(CONSENT.join(AGREEMENT, AGREEMENT.c.org_id == CONSENT.c.org_id))
        .where(CONSENT.c.org_id == org, consent_active(today), agreement_active(today))
        .where(_restricted(CONSENT.c.student_id, restrict))
        .subquery("pairs")
    )
    flags = [
        (
            func.max(
                case(
                    (
                        and_(
                            _has_category(pairs.c.consent_categories, c),
                            _has_category(pairs.c.agreement_categories, c),
                        ),
                        1,
                    ),
                    else_=0,
                )
            )
            == 1
        ).label(f"see_{c}")
        for c in CATEGORIES
    ]
    return select(
        pairs.c.student_id,
        (literal("consent:") + func.max(pairs.c.consent_id)).label("legal_basis"),
        *flags,
    ).group_by(pairs.c.student_id)


def categories_of(row: object) -> frozenset[str]:
    """The categories a `visible_students` row grants (its true `see_` flags)."""
    return frozenset(c for c in CATEGORIES if getattr(row, f"see_{c}", False))
