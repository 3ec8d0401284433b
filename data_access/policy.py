"""The access policy: the one front door. Who may do what is answered here and nowhere else.

Contract (docs/access-rules.md):

- A request is made by a `Principal`, resolved from the users table by the signed-in
  email, with "today" (the real date unless a test or `--as-of` pins it). Unknown and
  inactive users, and users of any role but `parent` and `student` without a signed
  confidentiality agreement, get `AccessDenied` with the reason, never data; the refusal
  is audited. The command line's operator commands (`users add`, `import`) act as the
  district's operator: an admin principal carrying the operating-system user (`operator`).
- Row scope. `visible_students(principal)` is a SQL selectable of `(student_id,
  legal_basis, see_<category>...)`: the students the principal may see and, per student,
  which data categories. Every student-level query in `data_access/` joins it, so
  out-of-scope rows never leave the database, and masks each category's columns with its
  `see_` flag, so out-of-scope columns never leave it either.
    admin, district_leader  every student, every category          basis "role:<role>"
    counselor               enrolled at their school this year     basis "role:counselor"
    teacher                 their caseload; attendance/grades/tests basis "role:teacher"
    org_staff               an active consent naming their org and an active agreement
                            for their org; categories = consent ∩ agreement
                                                                   basis "consent:<id>"
    parent                  their children (guardians file)        basis "role:parent"
    student                 themselves                             basis "role:student"
    viewer                  nobody
- Actions. `RULES` maps every `Action` to the roles allowed and what meeting mode does
  (refuses it, or keeps the role's answer: meeting mode never adds a right):
    read students, export flags/student  every role but viewer; not in meeting mode
    list students (list, profile pages)  admin, leader, counselor, teacher, org_staff; not in m.m.
    read own record (family view)        parent, student; not in meeting mode
    see services                         every role but teacher
    read notes                           admin, leader, counselor, teacher, org_staff, parent *
    write note                           admin, counselor, teacher, org_staff *
    refer                                admin, counselor, teacher
    read referrals                       admin, leader, counselor, teacher, org_staff; not in m.m.
    respond to referral                  org_staff (of the addressed organisation)
    see aggregates, export pipeline      admin, leader, counselor, org_staff, viewer (also in m.m.)
    see exact aggregates                 admin, leader; not in meeting mode
    see outcomes, export outcomes        admin, leader, viewer, org_staff (also in m.m.; a
                                         partner only its own organisation's programs:
                                         `visible_programs`); exact as "see exact aggregates"
    list program students                admin, leader, org_staff (within the row scope);
                                         not in meeting mode
    see coverage, export coverage        admin, leader, counselor, org_staff, viewer (also
                                         in m.m.); exact as "see exact aggregates"
    read audit log                       admin; not in meeting mode
    request release                      admin, counselor (for a student in scope); not in m.m.
    ask for release                      org_staff (a name and a school, no student); not in m.m.
    see release requests                 admin (the steward's view); not in meeting mode
    withdraw release                     parent, student (their own record); not in m.m.
    read notifications                   district staff, org_staff; not in meeting mode
    read disclosures                     admin (one student at a time), parent, student;
                                         not in meeting mode
    administer users/releases/agreements,
      import files, edit capacity        admin; not in meeting mode
    list organisations                   every role but parent and student
  `principal.can(action)` answers; `require(principal, action)` raises `AccessDenied`
  (code "forbidden", the rule's words). About one student, `require_student(connection,
  principal, action, student_id)` returns the student's `visible_students` row or raises
  (code "out_of_scope") when the role is not allowed, the student is out of scope, or (*)
  a partner's consent ∩ agreement lacks the action's category (`notes`).
- Sub-records. Functions here return the SQL condition the callers apply:
  `visible_services` (a partner its own organisation's; a teacher, or anyone not seeing
  every category of the student, none; the others all), `visible_consents` (likewise),
  `visible_notes` (a partner: district staff's and its own organisation's; a parent: those
  shared with the family; the others all) and `visible_referrals` (a partner: those
  addressed to it; a teacher: those they made; the others all, within the row scope).
- Dates. A consent is active when signed_date <= today, expires_date is blank or >= today
  and revoked_date is blank or > today; an agreement likewise with effective_date; a
  service when start_date <= today and end_date is blank or >= today (`consent_active`,
  `agreement_active`, `service_active`). Nothing here is cached: a revocation is honoured
  on the very next request.
- Refusals. Every `AccessDenied` is raised inside `audit.recording_refusals`, which records
  it (outcome "denied", its code and words, the students it was about) in a transaction of
  its own, so that it stays although the request fails, and raises it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
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
    Note,
    Referral,
    Service,
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
    Category,
    Role,
)

STUDENT = table_of(Student)
CONSENT = table_of(Consent)
AGREEMENT = table_of(Agreement)
ENROLLMENT = table_of(Enrollment)
GUARDIAN = table_of(Guardian)
CASELOAD = table_of(Caseload)
USER = table_of(User)
SERVICE = table_of(Service)
NOTE = table_of(Note)
REFERRAL = table_of(Referral)

DISTRICT_STAFF = frozenset({Role.ADMIN, Role.DISTRICT_LEADER, Role.COUNSELOR, Role.TEACHER})
EVERY_ROLE = frozenset(Role)
_LANDING_ON_FIGURES = frozenset({Role.DISTRICT_LEADER, Role.VIEWER})
#: The email under which the command line's operator commands (`users add`, `import`) are
#: recorded; the operating-system user who ran them is recorded with it.
OPERATOR_EMAIL = "operator"


class Action(StrEnum):
    """Everything someone may or may not do; `RULES` says who may."""

    READ_STUDENTS = "read students"
    EXPORT_FLAGS = "export flags"
    EXPORT_STUDENT = "export student"
    LIST_STUDENTS = "list students"
    READ_OWN_RECORD = "read own record"
    SEE_SERVICES = "see services"
    READ_NOTES = "read notes"
    WRITE_NOTE = "write note"
    REFER = "refer"
    READ_REFERRALS = "read referrals"
    RESPOND_TO_REFERRAL = "respond to referral"
    SEE_AGGREGATES = "see aggregates"
    SEE_EXACT_AGGREGATES = "see exact aggregates"
    EXPORT_PIPELINE = "export pipeline"
    READ_AUDIT_LOG = "read audit log"
    READ_DISCLOSURES = "read disclosures"
    ADMINISTER_USERS = "administer users"
    ADMINISTER_RELEASES = "administer releases"
    ADMINISTER_AGREEMENTS = "administer agreements"
    IMPORT_FILES = "import files"
    #: A partner's own service export (issue 15): stewards, and partner staff for their org.
    IMPORT_SERVICES = "import services"
    LIST_ORGANISATIONS = "list organisations"
    SEE_OUTCOMES = "see outcomes"
    EXPORT_OUTCOMES = "export outcomes"
    LIST_PROGRAM_STUDENTS = "list program students"
    EDIT_CAPACITY = "edit capacity"
    SEE_COVERAGE = "see coverage"
    EXPORT_COVERAGE = "export coverage"
    REQUEST_RELEASE = "request release"
    ASK_FOR_RELEASE = "ask for release"
    SEE_RELEASE_REQUESTS = "see release requests"
    WITHDRAW_RELEASE = "withdraw release"
    READ_NOTIFICATIONS = "read notifications"


class Scope(StrEnum):
    """The row-scope rule a principal's role gives them (the table in the contract)."""

    EVERY_STUDENT = "every student"
    SCHOOL = "their school"
    CASELOAD = "their caseload"
    RELEASES = "released to their organisation"
    CHILDREN = "their children"
    SELF = "themselves"
    NOBODY = "nobody"


SCOPES: dict[Role, Scope] = {
    Role.ADMIN: Scope.EVERY_STUDENT,
    Role.DISTRICT_LEADER: Scope.EVERY_STUDENT,
    Role.COUNSELOR: Scope.SCHOOL,
    Role.TEACHER: Scope.CASELOAD,
    Role.ORG_STAFF: Scope.RELEASES,
    Role.PARENT: Scope.CHILDREN,
    Role.STUDENT: Scope.SELF,
    Role.VIEWER: Scope.NOBODY,
}


class InMeeting(StrEnum):
    """What meeting mode does to an action: refuses it, or keeps the role's answer. It
    never grants anything: meeting mode only ever removes rights (issue 10, item 7)."""

    REFUSED = "refused"
    KEPT = "kept"


REFUSED, KEPT = InMeeting.REFUSED, InMeeting.KEPT


@dataclass(frozen=True)
class Rule:
    """Who may do an action: `roles`; what meeting mode does (`REFUSED` it, or `KEPT` the
    role's answer); `reason`, said on a refusal; `about_student`,
    said when refused about one student; `partner_category`, the category a partner's
    consent ∩ agreement must name for the student (None: any student in scope)."""

    roles: frozenset[Role]
    meeting_mode: InMeeting
    reason: str
    about_student: str = "This student is not in your scope, or does not exist."
    partner_category: str | None = None


_STUDENT_DATA = Rule(
    EVERY_ROLE - {Role.VIEWER}, REFUSED, "Your role does not see student-level data."
)
_AGGREGATES = Rule(ROLES_WITH_AGGREGATES, KEPT, "Your role does not see district figures.")
_STEWARD = "Only data stewards (admins) manage users, agreements and releases."
#: "Is it working?" (issue 13): leaders and stewards (exact), work groups and partners
#: (protected; a partner its own organisation's programs only). Not counselors: the
#: issue names who asks, and a school's staff are not among them.
_OUTCOMES = Rule(
    frozenset({Role.ADMIN, Role.DISTRICT_LEADER, Role.VIEWER, Role.ORG_STAFF}),
    KEPT,
    "Your role does not see program outcomes.",
)
#: "Where is help missing, and where is it doubled?" (issue 14): every role with
#: aggregate rights (admin and leader exact; viewer, counselor, partner staff protected;
#: everyone protected in meeting mode); teachers and families none.
_COVERAGE = Rule(ROLES_WITH_AGGREGATES, KEPT, "Your role does not see need and coverage figures.")

#: The action table: every "may I" of Pathwise (docs/access-rules.md, "Roles").
RULES: dict[Action, Rule] = {
    Action.READ_STUDENTS: _STUDENT_DATA,
    Action.EXPORT_FLAGS: _STUDENT_DATA,
    Action.EXPORT_STUDENT: _STUDENT_DATA,
    Action.LIST_STUDENTS: Rule(
        DISTRICT_STAFF | {Role.ORG_STAFF}, REFUSED, "Your role has no early-warning list."
    ),
    Action.READ_OWN_RECORD: Rule(
        frozenset({Role.PARENT, Role.STUDENT}), REFUSED, "Only families have this view."
    ),
    Action.SEE_SERVICES: Rule(
        EVERY_ROLE - {Role.TEACHER},
        KEPT,
        "Your role does not see which organisations serve a student.",
    ),
    Action.READ_NOTES: Rule(
        DISTRICT_STAFF | {Role.ORG_STAFF, Role.PARENT},
        KEPT,
        "Your role does not read notes.",
        about_student="You may not read notes on this student.",
        partner_category=Category.NOTES,
    ),
    Action.WRITE_NOTE: Rule(
        frozenset({Role.ADMIN, Role.COUNSELOR, Role.TEACHER, Role.ORG_STAFF}),
        KEPT,
        "Your role does not write notes.",
        about_student="You may not write notes on this student.",
        partner_category=Category.NOTES,
    ),
    Action.REFER: Rule(
        frozenset({Role.ADMIN, Role.COUNSELOR, Role.TEACHER}),
        KEPT,
        "Your role does not refer students.",
        about_student="You may not refer this student.",
    ),
    Action.READ_REFERRALS: Rule(
        DISTRICT_STAFF | {Role.ORG_STAFF}, REFUSED, "Your role does not work with referrals."
    ),
    Action.RESPOND_TO_REFERRAL: Rule(
        frozenset({Role.ORG_STAFF}),
        KEPT,
        "Only the partner a referral is addressed to answers it.",
        about_student="You may not respond to this referral.",
    ),
    Action.SEE_AGGREGATES: _AGGREGATES,
    Action.EXPORT_PIPELINE: _AGGREGATES,
    Action.SEE_EXACT_AGGREGATES: Rule(
        ROLES_EXACT_AGGREGATES, REFUSED, "Your role sees privacy-protected figures only."
    ),
    #: Not in meeting mode: the log names users and students (a projected screen shows
    #: neither, docs/access-rules.md), as a disclosure log does.
    Action.READ_AUDIT_LOG: Rule(
        frozenset({Role.ADMIN}), REFUSED, "Only data stewards (admins) read the audit log."
    ),
    Action.READ_DISCLOSURES: Rule(
        frozenset({Role.ADMIN, Role.PARENT, Role.STUDENT}),
        REFUSED,
        "Only families and data stewards see disclosure logs.",
        about_student="This is not your record.",
    ),
    Action.ADMINISTER_USERS: Rule(frozenset({Role.ADMIN}), REFUSED, _STEWARD),
    Action.ADMINISTER_RELEASES: Rule(frozenset({Role.ADMIN}), REFUSED, _STEWARD),
    Action.ADMINISTER_AGREEMENTS: Rule(frozenset({Role.ADMIN}), REFUSED, _STEWARD),
    Action.IMPORT_FILES: Rule(
        frozenset({Role.ADMIN}), REFUSED, "Only data stewards (admins) load files."
    ),
    Action.IMPORT_SERVICES: Rule(
        frozenset({Role.ADMIN, Role.ORG_STAFF}),
        REFUSED,
        "Only data stewards and partner staff load service exports.",
    ),
    Action.LIST_ORGANISATIONS: Rule(
        EVERY_ROLE - {Role.PARENT, Role.STUDENT}, KEPT, "Families do not list organisations here."
    ),
    Action.SEE_OUTCOMES: _OUTCOMES,
    Action.EXPORT_OUTCOMES: _OUTCOMES,
    Action.SEE_COVERAGE: _COVERAGE,
    Action.EXPORT_COVERAGE: _COVERAGE,
    Action.LIST_PROGRAM_STUDENTS: Rule(
        frozenset({Role.ADMIN, Role.DISTRICT_LEADER, Role.ORG_STAFF}),
        REFUSED,
        "Your role does not see which students a program serves.",
    ),
    #: Partner capacity (issue 14 part 2): the steward edits it, as agreements.
    Action.EDIT_CAPACITY: Rule(
        frozenset({Role.ADMIN}), REFUSED, "Only data stewards (admins) edit partner capacity."
    ),
    #: Release requests (issue 16 part 1): a counselor or the steward asks a family, for a
    #: student they may see; a partner asks the district (giving a name and a school);
    #: the steward sees every request and the consent gap; a family withdraws its own.
    Action.REQUEST_RELEASE: Rule(
        frozenset({Role.ADMIN, Role.COUNSELOR}),
        REFUSED,
        "Only counselors and data stewards ask families for releases.",
        about_student="You may not request a release for this student.",
    ),
    Action.ASK_FOR_RELEASE: Rule(
        frozenset({Role.ORG_STAFF}),
        REFUSED,
        "Only partner staff ask the district to request a release.",
    ),
    Action.SEE_RELEASE_REQUESTS: Rule(
        frozenset({Role.ADMIN}), REFUSED, "Only data stewards (admins) see every release request."
    ),
    Action.WITHDRAW_RELEASE: Rule(
        frozenset({Role.PARENT, Role.STUDENT}),
        REFUSED,
        "Only a family withdraws its releases here; staff ask the data steward.",
        about_student="This is not your record.",
    ),
    Action.READ_NOTIFICATIONS: Rule(
        DISTRICT_STAFF | {Role.ORG_STAFF},
        REFUSED,
        "Your role has no notifications.",
    ),
}


class AccessDenied(Exception):
    """The request may not be served; `reason` says why in words a user can act on;
    `students`, the students it was about (recorded with the refusal)."""

    def __init__(self, reason: str, *, code: str = "denied", students: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.students = tuple(students)


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

    def can(self, action: Action) -> bool:
        """Whether the action table allows `action` to this principal (before any
        per-student condition: see `require_student`)."""
        rule = RULES[action]
        if self.meeting_mode and rule.meeting_mode == REFUSED:
            return False
        return self.role in rule.roles

    @property
    def scope(self) -> Scope:
        """The row-scope rule of the principal's role."""
        return SCOPES[self.role]

    @property
    def partner(self) -> bool:
        """Staff of a partner organisation: what they read is a disclosure outside the
        district (FERPA 34 CFR 99.32), and their exports carry the redisclosure notice."""
        return self.scope == Scope.RELEASES

    @property
    def family(self) -> bool:
        """A parent or a student: they see their own record and its disclosure log."""
        return self.scope in (Scope.CHILDREN, Scope.SELF)

    @property
    def exact_aggregates(self) -> bool:
        """Exact figures only for admin and district_leader, and never in meeting mode."""
        return self.can(Action.SEE_EXACT_AGGREGATES)

    @property
    def sees_aggregates(self) -> bool:
        return self.can(Action.SEE_AGGREGATES)

    @property
    def sees_students(self) -> bool:
        return self.can(Action.READ_STUDENTS)

    def in_meeting_mode(self) -> Principal:
        """The same person, restricted to suppressed aggregates (docs/access-rules.md,
        "Meeting mode"): for a role without aggregates, that leaves nothing."""
        return Principal(
            self.email, self.display_name, self.role, self.today,
            self.org_id, self.school_id, self.student_id, meeting_mode=True,
        )  # fmt: skip


def sees_services(principal: Principal) -> bool:
    """Whether the principal may learn which organisations serve a student (services, the
    list's `served`, other people's referrals). Not a teacher: which partner serves a
    student (e.g. a behavioural-health clinic) is itself sensitive, and a teacher's
    categories (attendance, grades, tests) do not include it (docs/access-rules.md,
    "Organisations serving a student"). A partner learns only about its own services.
    """
    return principal.can(Action.SEE_SERVICES)


def lands_on_figures(principal: Principal) -> bool:
    """District leaders and viewers start on the pipeline (their work is the figures);
    everyone else starts on their students."""
    return principal.role in _LANDING_ON_FIGURES


def require(principal: Principal, action: Action) -> None:
    """`AccessDenied` (code "forbidden", the rule's words) unless `principal.can(action)`."""
    if not principal.can(action):
        raise AccessDenied(RULES[action].reason, code="forbidden")


def operator(today: date, os_user: str) -> Principal:
    """The district's operator running an operator command of the command line (`users
    add`, `import`): recorded as `OPERATOR_EMAIL` with the admin's rights and the
    operating-system user (docs/command-line.md). Whoever runs those commands on the
    server already holds the database's credentials; the audit says who it was."""
    return Principal(
        email=OPERATOR_EMAIL,
        display_name="District operator (command line)",
        role=Role.ADMIN,
        today=today,
        os_user=os_user,
    )


def needs_confidentiality(role: str) -> bool:
    """Whether a user of `role` sees nothing before a confidentiality agreement is on file
    (every role but parent and student)."""
    return role in ROLES_NEEDING_CONFIDENTIALITY


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
    if needs_confidentiality(role) and (
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
    """A release counts from its signing up to and including its expiry date, and not
    from the day it is revoked."""
    return and_(
        CONSENT.c.signed_date <= today,
        or_(CONSENT.c.expires_date.is_(None), CONSENT.c.expires_date >= today),
        or_(CONSENT.c.revoked_date.is_(None), CONSENT.c.revoked_date > today),
    )


def agreement_active(today: date) -> ColumnElement[bool]:
    """An agreement counts from its effective date up to and including its expiry date."""
    return and_(
        AGREEMENT.c.effective_date <= today,
        or_(AGREEMENT.c.expires_date.is_(None), AGREEMENT.c.expires_date >= today),
    )


def service_active(today: date) -> ColumnElement[bool]:
    """A service is active from its start date up to and including its end date."""
    return and_(
        SERVICE.c.start_date <= today,
        or_(SERVICE.c.end_date.is_(None), SERVICE.c.end_date >= today),
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
    """An enrollment for `school_year` whose exit date is blank or after `as_of` (docs/command-line.md)."""
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


def visibility_row(
    connection: Connection, principal: Principal, student_id: str, school_year: int
) -> Any | None:
    """The `visible_students` row for one student, or None when out of scope."""
    scope = visible_students(principal, school_year, student_id).subquery("scope")
    return connection.execute(select(scope).where(scope.c.student_id == student_id)).first()


def require_student(
    connection: Connection,
    principal: Principal,
    action: Action,
    student_id: str,
    school_year: int | None = None,
) -> Any:
    """The student's `visible_students` row when `principal` may do `action` about them:
    the action table allows it, the student is in scope, and for a partner the action's
    category is in consent ∩ agreement. Otherwise `AccessDenied` (code "out_of_scope",
    about this student; nothing is said about whether the student exists)."""
    rule = RULES[action]
    row = None
    if principal.can(action):
        year = school_year or current_school_year(connection, principal.today)
        row = visibility_row(connection, principal, student_id, year)
    if row is not None and not (
        principal.partner
        and rule.partner_category is not None
        and rule.partner_category not in categories_of(row)
    ):
        return row
    raise AccessDenied(rule.about_student, code="out_of_scope", students=[student_id])


def visible_services(
    principal: Principal, categories: frozenset[str] | None = None
) -> ColumnElement[bool]:
    """The rows of `service` the principal may learn about: a partner its own
    organisation's; someone who may not see services (a teacher), or who does not see
    every category of this student (`categories`), none; everyone else all of them."""
    if principal.partner:
        return SERVICE.c.org_id == principal.org_id
    if not sees_services(principal) or (
        categories is not None and categories != frozenset(CATEGORIES)
    ):
        return false()
    return true()


#: The refusal of another organisation's programs to partner staff.
OTHER_ORGANISATION = "Partner staff see their own organisation's programs only."


def visible_programs(principal: Principal, org_column: ColumnElement[str]) -> ColumnElement[bool]:
    """The programs (`org_column`: their organisation) whose outcome figures the principal
    may see: a partner its own organisation's; every other role allowed them, all."""
    if principal.partner:
        return org_column == (principal.org_id or "")
    return true()


def require_program(principal: Principal, action: Action, org_id: str | None) -> None:
    """`require(principal, action)`, and for a partner asking about another organisation's
    program (`org_id`), `AccessDenied` (code "forbidden")."""
    require(principal, action)
    if principal.partner and org_id is not None and org_id != principal.org_id:
        raise AccessDenied(OTHER_ORGANISATION, code="forbidden")


def visible_consents(principal: Principal, categories: frozenset[str]) -> ColumnElement[bool]:
    """The rows of `consent` about a student the principal may see: a partner its own
    organisation's; someone who does not see every category of the student, none."""
    if principal.partner:
        return CONSENT.c.org_id == principal.org_id
    if categories != frozenset(CATEGORIES):
        return false()
    return true()


def visible_notes(principal: Principal) -> ColumnElement[bool]:
    """The notes on a student (already allowed by `require_student(READ_NOTES)`) the
    principal reads: a partner those by district staff and by its own organisation, not
    other partners'; a parent those shared with the family; district staff all."""
    if principal.partner:
        return or_(
            NOTE.c.author_role.in_([r.value for r in DISTRICT_STAFF]),
            NOTE.c.author_org_id == principal.org_id,
        )
    if principal.scope == Scope.CHILDREN:
        return NOTE.c.shared_with_family.is_(True)
    return true()


def visible_referrals(principal: Principal) -> ColumnElement[bool]:
    """The referrals (of students in scope) the principal sees: a partner those addressed
    to its organisation; someone who may not see services (a teacher) those they made."""
    if principal.partner:
        return REFERRAL.c.org_id == principal.org_id
    if not sees_services(principal):
        return REFERRAL.c.referred_by == principal.email
    return true()


def partner_event(role_column: ColumnElement[str]) -> ColumnElement[bool]:
    """An audit event by partner staff (`role_column` is the event's role): a disclosure
    outside the district, listed in the family's disclosure log."""
    return role_column == Role.ORG_STAFF.value
