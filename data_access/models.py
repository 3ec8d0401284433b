"""SQLModel tables: one per file of docs/import-format.md, plus the application's own records.

Keys are the natural keys of the import contract (so a re-import upserts), ids are the
district's own strings. Lists (categories, service types) are stored in their canonical
`;`-joined form (`domain.vocabulary.format_list`). Indexes follow the access paths: students
by school, consents by org and by student, attendance and marks by student and year, audit
by student and by user.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlmodel import Field, SQLModel


class School(SQLModel, table=True):
    __tablename__ = "school"
    school_id: str = Field(primary_key=True, max_length=64)
    school_name: str = Field(max_length=200)
    low_grade: int
    high_grade: int


class Organization(SQLModel, table=True):
    __tablename__ = "organization"
    org_id: str = Field(primary_key=True, max_length=64)
    org_name: str = Field(max_length=200)
    org_type: str = Field(max_length=16)
    service_types: str = Field(default="", max_length=200)


class Student(SQLModel, table=True):
    __tablename__ = "student"
    student_id: str = Field(primary_key=True, max_length=64)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    school_id: str = Field(foreign_key="school.school_id", index=True, max_length=64)
    grade_level: int
    cohort_year: int = Field(index=True)
    birth_date: date | None = None
    gender: str | None = Field(default=None, max_length=1)
    race_ethnicity: str | None = Field(default=None, max_length=32)
    english_learner: bool | None = None
    disability: bool | None = None
    econ_disadvantaged: bool | None = None


class Guardian(SQLModel, table=True):
    __tablename__ = "guardian"
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    guardian_email: str = Field(primary_key=True, max_length=254, index=True)
    guardian_name: str = Field(max_length=200)
    relationship: str | None = Field(default=None, max_length=64)
    #: The language the family reads (ISO 639-1, `es`); the family pages use it when
    #: Pathwise has a catalog for it (ui/i18n.py).
    language: str | None = Field(default=None, max_length=8)


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollment"
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    school_year: int = Field(primary_key=True)
    school_id: str = Field(foreign_key="school.school_id", primary_key=True, max_length=64)
    grade_level: int
    entry_date: date
    exit_date: date | None = None
    exit_code: str | None = Field(default=None, max_length=16)

    __table_args__ = (Index("ix_enrollment_year_school", "school_year", "school_id"),)


class AttendanceSnapshot(SQLModel, table=True):
    """Cumulative attendance for a school year up to `as_of_date` at one school."""

    __tablename__ = "attendance"
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    school_year: int = Field(primary_key=True)
    school_id: str = Field(foreign_key="school.school_id", primary_key=True, max_length=64)
    as_of_date: date = Field(primary_key=True)
    days_enrolled: int
    days_absent: int


class CourseMark(SQLModel, table=True):
    __tablename__ = "course_mark"
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    school_year: int = Field(primary_key=True)
    term: str = Field(primary_key=True, max_length=4)
    course_id: str = Field(primary_key=True, max_length=64)
    course_title: str = Field(max_length=200)
    subject: str = Field(max_length=16)
    mark: str = Field(max_length=8)
    credits_attempted: float | None = None
    credits_earned: float | None = None
    final: bool = True


class TestScore(SQLModel, table=True):
    __tablename__ = "test_score"
    __test__ = False  # not a pytest test class
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    test_name: str = Field(primary_key=True, max_length=64)
    subject: str = Field(primary_key=True, max_length=16)
    school_year: int = Field(primary_key=True)
    proficient: bool
    performance_level: int | None = None
    scale_score: float | None = None
    test_date: date | None = None


class Fafsa(SQLModel, table=True):
    __tablename__ = "fafsa"
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    award_year: int = Field(primary_key=True)
    status: str = Field(max_length=16)
    status_date: date | None = None
    #: Flags some states' FAFSA completion files carry (migration 0011); blank = not given.
    selected_for_verification: bool | None = None
    student_signed: bool | None = None
    parent_signed: bool | None = None


class Outcome(SQLModel, table=True):
    __tablename__ = "outcome"
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    graduated: bool | None = None
    graduation_date: date | None = None
    postsecondary_enrolled: bool | None = None
    postsecondary_start_date: date | None = None
    institution_level: str | None = Field(default=None, max_length=16)
    persisted_second_year: bool | None = None


class Service(SQLModel, table=True):
    __tablename__ = "service"
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    org_id: str = Field(foreign_key="organization.org_id", primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    start_date: date = Field(primary_key=True)
    end_date: date | None = None
    #: Dosage, when the partner's export has it (migration 0005).
    sessions: int | None = None
    hours: float | None = None

    __table_args__ = (Index("ix_service_org", "org_id"),)


class Agreement(SQLModel, table=True):
    """A data-sharing agreement between the district and one organisation."""

    __tablename__ = "agreement"
    agreement_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(foreign_key="organization.org_id", index=True, max_length=64)
    categories: str = Field(max_length=200)
    effective_date: date
    expires_date: date | None = None


class Consent(SQLModel, table=True):
    """A parent release (or an eligible student's own) naming one organisation."""

    __tablename__ = "consent"
    consent_id: str = Field(primary_key=True, max_length=64)
    student_id: str = Field(foreign_key="student.student_id", index=True, max_length=64)
    org_id: str = Field(foreign_key="organization.org_id", max_length=64)
    categories: str = Field(max_length=200)
    purpose: str = Field(max_length=500)
    signed_by: str = Field(max_length=200)
    signer_relationship: str = Field(max_length=32)
    signed_date: date
    expires_date: date | None = None
    revoked_date: date | None = None
    language: str | None = Field(default=None, max_length=32)
    #: How it was given (migration 0013): `electronic` (signed on the release page),
    #: `paper` (a printed release returned, its code typed in by the steward) or blank
    #: (typed in from paper before release requests existed, or imported).
    method: str | None = Field(default=None, max_length=16)
    #: The release request it answers, if any.
    request_id: int | None = Field(default=None, index=True)

    __table_args__ = (Index("ix_consent_org_student", "org_id", "student_id"),)


class ReleaseRequest(SQLModel, table=True):
    """A request that a family sign a release naming one organisation (issue 16, FERPA
    34 CFR 99.30), made by a counselor or the steward. `status`: `sent`, `opened`,
    `signed`, `declined` or `cancelled`; a `sent` or `opened` request past `expires_at`
    counts as expired (domain.releases). `paper_code` is printed on the paper release and
    typed in by the steward when it comes back; `consent_id` is the release it became."""

    __tablename__ = "release_request"
    request_id: int | None = Field(default=None, primary_key=True)
    student_id: str = Field(foreign_key="student.student_id", index=True, max_length=64)
    org_id: str = Field(foreign_key="organization.org_id", index=True, max_length=64)
    categories: str = Field(max_length=200)
    purpose: str = Field(max_length=500)
    #: The expiry of the release once signed (default: the end of the school year).
    release_expires: date | None = None
    requested_by: str = Field(max_length=254)
    requested_at: datetime
    #: The referral waiting for this release, if the request came from one.
    referral_id: int | None = Field(default=None)
    #: The partner's ask this request answers, if any.
    ask_id: int | None = Field(default=None)
    status: str = Field(default="sent", max_length=16)
    expires_at: datetime
    paper_code: str = Field(max_length=16, unique=True)
    opened_at: datetime | None = None
    decided_at: datetime | None = None
    consent_id: str | None = Field(default=None, max_length=64)

    __table_args__ = (Index("ix_release_request_org_status", "org_id", "status"),)


class ReleaseToken(SQLModel, table=True):
    """A single-use link sent to one guardian for one request: only the SHA-256 of the
    token is stored (docs/access-rules.md, "Release links")."""

    __tablename__ = "release_token"
    token_hash: str = Field(primary_key=True, max_length=64)
    request_id: int = Field(foreign_key="release_request.request_id", index=True)
    recipient_email: str = Field(max_length=254)
    language: str = Field(max_length=8)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class TokenFailure(SQLModel, table=True):
    """A bad release link presented by one client (a hash of its address): repeated
    failures slow that client down."""

    __tablename__ = "token_failure"
    failure_id: int | None = Field(default=None, primary_key=True)
    client_key: str = Field(max_length=64)
    at: datetime

    __table_args__ = (Index("ix_token_failure_client_at", "client_key", "at"),)


class ReleaseAsk(SQLModel, table=True):
    """A partner's ask that the district request a release for a student it serves but
    cannot see: the partner gives a name and school; the steward matches it to a student
    (`student_id`, then a request) or rejects it. The partner learns nothing from it until
    the family signs."""

    __tablename__ = "release_ask"
    ask_id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(foreign_key="organization.org_id", index=True, max_length=64)
    asked_by: str = Field(max_length=254)
    asked_at: datetime
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    school_id: str | None = Field(default=None, max_length=64)
    birth_date: date | None = None
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="open", max_length=16)
    student_id: str | None = Field(default=None, max_length=64)
    decided_by: str | None = Field(default=None, max_length=254)
    decided_at: datetime | None = None


class OutboxMessage(SQLModel, table=True):
    """Every email Pathwise writes. With SMTP settings it is sent and `sent_at` set; without
    them (as in the demo) it waits here, marked as not sent, for the steward to read in
    Administration. A sent message's single-use link is blanked in `body`."""

    __tablename__ = "outbox_message"
    message_id: int | None = Field(default=None, primary_key=True)
    created_at: datetime
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(max_length=8)
    kind: str = Field(max_length=32)
    request_id: int | None = Field(default=None, index=True)
    sent_at: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Notification(SQLModel, table=True):
    """A message inside Pathwise, to one user (`recipient_email`) or to every staff member
    of one organisation (`recipient_org_id`): a release was signed, declined or ended."""

    __tablename__ = "notification"
    notification_id: int | None = Field(default=None, primary_key=True)
    created_at: datetime
    recipient_email: str | None = Field(default=None, max_length=254, index=True)
    recipient_org_id: str | None = Field(default=None, max_length=64, index=True)
    kind: str = Field(max_length=32)
    text: str = Field(max_length=500)
    student_id: str | None = Field(default=None, max_length=64)
    request_id: int | None = None
    read_at: datetime | None = None


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    email: str = Field(primary_key=True, max_length=254)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=32)
    org_id: str | None = Field(default=None, foreign_key="organization.org_id", max_length=64)
    school_id: str | None = Field(default=None, foreign_key="school.school_id", max_length=64)
    student_id: str | None = Field(default=None, foreign_key="student.student_id", max_length=64)
    confidentiality_signed_date: date | None = None
    active: bool = True


class Caseload(SQLModel, table=True):
    __tablename__ = "caseload"
    user_email: str = Field(foreign_key="app_user.email", primary_key=True, max_length=254)
    student_id: str = Field(
        foreign_key="student.student_id", primary_key=True, max_length=64, index=True
    )


class Note(SQLModel, table=True):
    """A case note, shared both ways between school staff and partner organisations."""

    __tablename__ = "note"
    note_id: int | None = Field(default=None, primary_key=True)
    student_id: str = Field(foreign_key="student.student_id", index=True, max_length=64)
    author_email: str = Field(max_length=254)
    author_role: str = Field(max_length=32)
    author_org_id: str | None = Field(default=None, max_length=64)
    created_at: datetime
    body: str = Field(sa_column=Column(Text, nullable=False))
    shared_with_family: bool = False


class Referral(SQLModel, table=True):
    """A request from school staff that an organisation serve a student."""

    __tablename__ = "referral"
    referral_id: int | None = Field(default=None, primary_key=True)
    student_id: str = Field(foreign_key="student.student_id", index=True, max_length=64)
    org_id: str = Field(foreign_key="organization.org_id", index=True, max_length=64)
    referred_by: str = Field(max_length=254)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16)
    created_at: datetime
    updated_at: datetime
    response: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AuditEvent(SQLModel, table=True):
    """One request that touched student-level data, or a denied attempt. Append-only."""

    __tablename__ = "audit_event"
    event_id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(index=True)
    user_email: str = Field(max_length=254, index=True)
    role: str | None = Field(default=None, max_length=32)
    org_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64)
    categories: str = Field(default="", max_length=200)
    outcome: str = Field(default="allowed", max_length=16)
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: The date whose rules applied, when it was not the real date (`--as-of`).
    rules_as_of: date | None = Field(default=None)
    #: "app" or "cli" (blank before migration 0004).
    via: str | None = Field(default=None, max_length=16)
    #: The operating-system user who ran a command-line request.
    os_user: str | None = Field(default=None, max_length=64)


class AuditStudent(SQLModel, table=True):
    """Which students one audit event covered, each with its legal basis."""

    __tablename__ = "audit_student"
    event_id: int = Field(foreign_key="audit_event.event_id", primary_key=True)
    student_id: str = Field(primary_key=True, max_length=64, index=True)
    legal_basis: str = Field(max_length=128)


class ImportRun(SQLModel, table=True):
    """The history of imports: who, when, which files with their checksums and row counts."""

    __tablename__ = "import_run"
    import_id: int | None = Field(default=None, primary_key=True)
    started_at: datetime
    finished_at: datetime | None = None
    imported_by: str = Field(max_length=254)
    files: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of file records
    rows_inserted: int = 0
    rows_updated: int = 0


class Meta(SQLModel, table=True):
    """Key/value facts about this database (is it the demo district, when was it built)."""

    __tablename__ = "pathwise_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=500)


class ColumnMapping(SQLModel, table=True):
    """A saved column mapping (migration 0011): how a state's FAFSA file or a partner's
    service export becomes `fafsa` or `services` rows (domain.mapping)."""

    __tablename__ = "column_mapping"
    name: str = Field(primary_key=True, max_length=100)
    target: str = Field(max_length=16)
    award_year: int | None = None
    org_id: str | None = Field(default=None, max_length=64)
    service_type: str | None = Field(default=None, max_length=32)
    date_format: str | None = Field(default=None, max_length=32)
    saved_by: str = Field(max_length=254)
    saved_at: datetime


class ColumnMappingColumn(SQLModel, table=True):
    """One target column of a saved mapping and the file's column it is read from."""

    __tablename__ = "column_mapping_column"
    name: str = Field(
        sa_column=Column(
            String(100),
            ForeignKey("column_mapping.name", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    target_column: str = Field(primary_key=True, max_length=64)
    source_column: str = Field(max_length=200)


class ColumnMappingValue(SQLModel, table=True):
    """One value of the file (a status, a service name) and the vocabulary value it means."""

    __tablename__ = "column_mapping_value"
    name: str = Field(
        sa_column=Column(
            String(100),
            ForeignKey("column_mapping.name", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    target_column: str = Field(primary_key=True, max_length=64)
    source_value: str = Field(primary_key=True, max_length=200)
    value: str = Field(max_length=64)


class ReviewItem(SQLModel, table=True):
    """A row of a mapped file that matched no student, or more than one (migration 0011):
    never guessed, it waits for the data steward, who picks a student among the
    candidates (the rows are then loaded) or rejects it. `rows` is the JSON list of the
    target rows it would load (without student_id); `candidates` the JSON list of
    {student_id, score}."""

    __tablename__ = "review_item"
    review_id: int | None = Field(default=None, primary_key=True)
    target: str = Field(max_length=16)
    source_file: str = Field(max_length=255)
    line: int
    org_id: str | None = Field(default=None, max_length=64)
    source_key: str | None = Field(default=None, max_length=200)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    birth_date: date | None = None
    school: str | None = Field(default=None, max_length=200)
    candidates: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(max_length=16)
    rows: str = Field(sa_column=Column(Text, nullable=False))
    queued_by: str = Field(max_length=254)
    queued_at: datetime
    resolution: str | None = Field(default=None, max_length=64)
    resolved_by: str | None = Field(default=None, max_length=254)
    resolved_at: datetime | None = None

    __table_args__ = (Index("ix_review_item_open", "target", "resolution"),)


class Capacity(SQLModel, table=True):
    """A partner's slots for one service type at one school (or any school) in a school
    year: the `capacity` import file of issue 14. `school_id` is `ANY_SCHOOL` ("") when the
    capacity is not tied to a school (blank in the file), so the key stays a plain primary
    key on both databases. Open slots = slots minus the students served now."""

    __tablename__ = "capacity"
    org_id: str = Field(foreign_key="organization.org_id", primary_key=True, max_length=64)
    school_id: str = Field(primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    school_year: int = Field(primary_key=True)
    slots: int
    accepting_referrals: bool = True


#: `Capacity.school_id` of capacity offered at any school (blank in the import file).
ANY_SCHOOL: str = ""


class PostsecondaryEnrollment(SQLModel, table=True):
    """One row of a National Student Clearinghouse StudentTracker detail report (migration
    0010): a college enrollment term, or a degree row (`graduated` Y, its date and title),
    of a student found by the Clearinghouse. Category `outcomes` (docs/access-rules.md): read
    with the student's outcomes, never without. `seq` numbers the student's rows in the order
    of the file; a new report for the student replaces all of them (docs/import-format.md)."""

    __tablename__ = "postsecondary_enrollment"
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    seq: int = Field(primary_key=True)
    college_code: str | None = Field(default=None, max_length=16)
    college_name: str | None = Field(default=None, max_length=128)
    college_state: str | None = Field(default=None, max_length=8)
    #: `INSTITUTION_LEVELS` (`4yr`, `2yr`, `less_than_2yr`) from the report's 2-year / 4-year.
    level: str | None = Field(default=None, max_length=16)
    #: `public` or `private`.
    control: str | None = Field(default=None, max_length=8)
    enrollment_begin: date | None = None
    enrollment_end: date | None = None
    #: One of `NSC_ENROLLMENT_STATUSES` (F, Q, H, L, W, A, D), or null when blank.
    enrollment_status: str | None = Field(default=None, max_length=1)
    graduated: bool | None = None
    graduation_date: date | None = None
    degree_title: str | None = Field(default=None, max_length=128)
    major: str | None = Field(default=None, max_length=128)
    college_sequence: int | None = None


class NscSearch(SQLModel, table=True):
    """That the Clearinghouse searched for a student, and whether it found a record
    (`Record Found Y/N`): a student searched and not found is "not enrolled", a student
    never searched is "not observed" (docs/indicators.md). Category `outcomes`."""

    __tablename__ = "nsc_search"
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    record_found: bool
    high_school_code: str | None = Field(default=None, max_length=16)
    high_school_grad_date: date | None = None
    #: Derived from the report (indicators.postsecondary; docs/indicators.md): a term
    #: beginning Aug 15 - Oct 31 of the graduation year, and a degree earned.
    seamless_enrolled: bool | None = None
    degree_completed: bool | None = None


#: Import-format file name -> table model, in dependency order (parents first).
IMPORT_TABLES: dict[str, type[SQLModel]] = {
    "schools": School,
    "organizations": Organization,
    "students": Student,
    "guardians": Guardian,
    "enrollments": Enrollment,
    "attendance": AttendanceSnapshot,
    "course_marks": CourseMark,
    "test_scores": TestScore,
    "fafsa": Fafsa,
    "outcomes": Outcome,
    "services": Service,
    "capacity": Capacity,
    "agreements": Agreement,
    "consents": Consent,
    "users": User,
    "caseloads": Caseload,
}


def table_of(model: type[SQLModel]) -> Table:
    """The Core `Table` behind a table model (typed, for bulk reads and writes)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


# ---------------------------------------------------------------------------------------
# Derived tables: recomputed by `data_access.derived.refresh_derived` whenever data changes,
# so that a page view reads a few hundred indexed rows instead of raw attendance.
# ---------------------------------------------------------------------------------------


class StudentIndicator(SQLModel, table=True):
    """The early-warning indicators of one enrolled student (docs/indicators.md), per school year."""

    __tablename__ = "student_indicator"
    school_year: int = Field(primary_key=True)
    student_id: str = Field(foreign_key="student.student_id", primary_key=True, max_length=64)
    computed_as_of: date
    school_id: str = Field(max_length=64)
    grade_level: int
    days_enrolled: int | None = None
    days_absent: int | None = None
    attendance_as_of: date | None = None
    attendance_state: str | None = Field(default=None, max_length=32)
    absence_rate: float | None = None
    attendance_band: str | None = Field(default=None, max_length=32)
    chronic_absence: bool | None = None
    pace_days_enrolled: int | None = None
    pace_days_absent: int | None = None
    pace_rate: float | None = None
    remaining_days: int | None = None
    projected_days_absent: float | None = None
    projected_absence_rate: float | None = None
    projected_band: str | None = Field(default=None, max_length=32)
    next_band: str | None = Field(default=None, max_length=32)
    approaching: bool | None = None
    days_to_recover: int | None = None
    recoverable_this_year: bool | None = None
    days_until_chronic: int | None = None
    core_fails: int | None = None
    course_failure: bool | None = None
    credits_earned: float | None = None
    core_semester_fs: int | None = None
    has_year_end_mark: bool | None = None
    on_track: bool | None = None
    ela_test_name: str | None = Field(default=None, max_length=64)
    ela_test_year: int | None = None
    ela_test_date: date | None = None
    ela_proficient: bool | None = None
    math_test_name: str | None = Field(default=None, max_length=64)
    math_test_year: int | None = None
    math_test_date: date | None = None
    math_proficient: bool | None = None
    below_proficient: bool | None = None
    fafsa_status: str | None = Field(default=None, max_length=16)
    fafsa_status_date: date | None = None
    fafsa_not_completed: bool | None = None
    flag_count: int
    tier: int

    __table_args__ = (
        Index("ix_student_indicator_school", "school_year", "school_id"),
        Index("ix_student_indicator_tier", "school_year", "tier"),
        Index("ix_student_indicator_flagged", "school_year", "school_id", "flag_count"),
        Index(
            "ix_student_indicator_lookup", "school_year", "student_id", "flag_count", "school_id"
        ),
    )


class PipelineCell(SQLModel, table=True):
    """Exact pipeline counts: one cohort, one grouping, one group, one stage."""

    __tablename__ = "pipeline_cell"
    cohort: int = Field(primary_key=True)
    group_by: str = Field(primary_key=True, max_length=32)
    group_value: str = Field(primary_key=True, max_length=64)
    stage: str = Field(primary_key=True, max_length=32)
    stage_order: int
    count: int


class PipelineCellPublic(SQLModel, table=True):
    """The same cells as shown to viewers who may not see the students (docs/access-rules.md 1-5).

    A hidden count has `shown` and `share` null and `display` "<10" or "*"; its value is
    not stored here at all, so no query on this table can leak it.
    """

    __tablename__ = "pipeline_cell_public"
    cohort: int = Field(primary_key=True)
    group_by: str = Field(primary_key=True, max_length=32)
    group_value: str = Field(primary_key=True, max_length=64)
    stage: str = Field(primary_key=True, max_length=32)
    stage_order: int
    display: str = Field(max_length=16)
    shown: int | None = None
    share: float | None = None


# ---------------------------------------------------------------------------------------
# "Is it working?" (issue 13): program outcomes, recomputed by the refresh. The columns are
# those of indicators/outcomes_schema.py; the `_public` tables hold only what a viewer
# without exact rights may see (indicators/outcomes_protection.py), not a hidden value.
# ---------------------------------------------------------------------------------------


class ProgramEstimate(SQLModel, table=True):
    """Exact outcome figures: one program-year, one measure, one group."""

    __tablename__ = "program_estimate"
    school_year: int = Field(primary_key=True)
    org_id: str = Field(primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    measure: str = Field(primary_key=True, max_length=32)
    group_by: str = Field(primary_key=True, max_length=32)
    group_value: str = Field(primary_key=True, max_length=64)
    served: int
    excluded: int
    matched: int
    comparison: int
    unserved: int
    served_before: float | None = None
    served_after: float | None = None
    comparison_before: float | None = None
    comparison_after: float | None = None
    effect: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    effect_size: float | None = None
    effect_size_kind: str | None = Field(default=None, max_length=16)
    max_smd: float | None = None
    balance: str | None = Field(default=None, max_length=16)
    naive_effect: float | None = None
    verdict: str = Field(max_length=16)
    mean_sessions: float | None = None
    mean_hours: float | None = None

    __table_args__ = (
        Index("ix_program_estimate_grouping", "school_year", "group_by", "group_value"),
        Index("ix_program_estimate_org", "org_id", "school_year"),
    )


class ProgramEstimatePublic(SQLModel, table=True):
    """The same rows as a viewer without exact rights may see them (docs/access-rules.md,
    "Is it working?"): a hidden count has its integer null and `_display` "<10" or "*";
    means, effects and balance are null where a side has fewer than min_cell students."""

    __tablename__ = "program_estimate_public"
    school_year: int = Field(primary_key=True)
    org_id: str = Field(primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    measure: str = Field(primary_key=True, max_length=32)
    group_by: str = Field(primary_key=True, max_length=32)
    group_value: str = Field(primary_key=True, max_length=64)
    served: int | None = None
    served_display: str = Field(max_length=16)
    matched: int | None = None
    matched_display: str = Field(max_length=16)
    comparison: int | None = None
    comparison_display: str = Field(max_length=16)
    served_before: float | None = None
    served_after: float | None = None
    comparison_before: float | None = None
    comparison_after: float | None = None
    effect: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    effect_size: float | None = None
    effect_size_kind: str | None = Field(default=None, max_length=16)
    max_smd: float | None = None
    balance: str | None = Field(default=None, max_length=16)
    naive_effect: float | None = None
    verdict: str = Field(max_length=16)
    mean_sessions: float | None = None
    mean_hours: float | None = None

    __table_args__ = (
        Index("ix_program_estimate_public_grouping", "school_year", "group_by", "group_value"),
        Index("ix_program_estimate_public_org", "org_id", "school_year"),
    )


class ProgramBalance(SQLModel, table=True):
    """Baseline balance of one program-year's measure: one covariate's means and SMDs."""

    __tablename__ = "program_balance"
    school_year: int = Field(primary_key=True)
    org_id: str = Field(primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    measure: str = Field(primary_key=True, max_length=32)
    covariate: str = Field(primary_key=True, max_length=64)
    served_mean: float | None = None
    pool_mean: float | None = None
    comparison_mean: float | None = None
    smd_before: float | None = None
    smd_after: float | None = None


class ProgramTrajectory(SQLModel, table=True):
    """Absence rate by month relative to the start month, served against comparison."""

    __tablename__ = "program_trajectory"
    school_year: int = Field(primary_key=True)
    org_id: str = Field(primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    group: str = Field(primary_key=True, max_length=16)
    month_offset: int = Field(primary_key=True)
    absence_rate: float | None = None
    students: int


class ProgramTrajectoryPublic(SQLModel, table=True):
    """The trajectory as a viewer without exact rights sees it: a point of fewer than
    min_cell students has no rate and `students_display` "<10" (`students` null)."""

    __tablename__ = "program_trajectory_public"
    school_year: int = Field(primary_key=True)
    org_id: str = Field(primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    group: str = Field(primary_key=True, max_length=16)
    month_offset: int = Field(primary_key=True)
    absence_rate: float | None = None
    students: int | None = None
    students_display: str = Field(max_length=16)


class ProgramServedStudent(SQLModel, table=True):
    """A student served by a program in a school year (read only through the policy's
    student scope; comparison students are never stored)."""

    __tablename__ = "program_served_student"
    school_year: int = Field(primary_key=True)
    org_id: str = Field(primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    student_id: str = Field(primary_key=True, max_length=64, index=True)
    start_date: date
    matched: bool
    sessions: int | None = None
    hours: float | None = None


class FafsaSeasonSeniors(SQLModel, table=True):
    """The seniors of each class by school of record, less transfers out: what the FAFSA
    season's shares are of (indicators.fafsa_season.season_counts). Exact counts, read
    only through data_access/fafsa_season.py."""

    __tablename__ = "fafsa_season_seniors"
    class_of: int = Field(primary_key=True)
    school_id: str = Field(primary_key=True, max_length=64)
    seniors: int


class FafsaSeasonCompletions(SQLModel, table=True):
    """How many of those seniors completed the FAFSA on each day (exact counts)."""

    __tablename__ = "fafsa_season_completions"
    class_of: int = Field(primary_key=True)
    school_id: str = Field(primary_key=True, max_length=64)
    status_date: date = Field(primary_key=True)
    completed: int


class CoverageNeed(SQLModel, table=True):
    """Need and coverage by school x need on the refresh's date (indicators.coverage
    .need_coverage): exact counts, read only through data_access/coverage.py."""

    __tablename__ = "coverage_need"
    school_id: str = Field(primary_key=True, max_length=64)
    need: str = Field(primary_key=True, max_length=32)
    flagged: int
    served_addressing: int
    served_addressing_with_release: int
    served_other: int
    unserved: int
    duplicated: int


class CoverageDuplication(SQLModel, table=True):
    """Students served by two organisations with the same service type in overlapping
    periods, by school and organisation pair (org_a < org_b; indicators.coverage.duplication)."""

    __tablename__ = "coverage_duplication"
    school_id: str = Field(primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    org_a: str = Field(primary_key=True, max_length=64)
    org_b: str = Field(primary_key=True, max_length=64)
    students: int


class CoverageTierSupport(SQLModel, table=True):
    """By school and tier, students with no active service, one, two or more
    (indicators.coverage.tier_support, per school)."""

    __tablename__ = "coverage_tier_support"
    school_id: str = Field(primary_key=True, max_length=64)
    tier: int = Field(primary_key=True)
    students: int
    no_service: int
    one_service: int
    two_or_more: int


class CoverageServedNow(SQLModel, table=True):
    """Students served now by each organisation, service type and school of record: what
    open slots subtract (`students`), and of them those with an active release naming the
    organisation (`students_with_release`: all a partner may count of its own)."""

    __tablename__ = "coverage_served_now"
    org_id: str = Field(primary_key=True, max_length=64)
    school_id: str = Field(primary_key=True, max_length=64)
    service_type: str = Field(primary_key=True, max_length=32)
    students: int
    students_with_release: int
