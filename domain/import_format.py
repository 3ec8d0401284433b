"""The import files of docs/import-format.md, column by column, as data.

One `FileFormat` per file kind, in dependency order (schools and organisations first, then
students, then everything that refers to students). Each column says how its cells are
read (`Kind`), whether it is required (bold in the spec), its vocabulary, its default when
blank and which file's key it refers to. The importer (`data_access.importing`) checks
files against these formats and `pathwise demo --csv` writes its files in their column
order; nothing else repeats the contract.

`attendance_daily` is the one file without a table of its own: it is aggregated on import
into the cumulative `attendance` snapshots (`stored_as`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from domain.vocabulary import (
    ATTENDANCE_STATUSES,
    CATEGORIES,
    EXIT_CODES,
    FAFSA_STATUSES,
    GENDERS,
    INSTITUTION_LEVELS,
    ORG_TYPES,
    RACE_ETHNICITIES,
    ROLES,
    SERVICE_TYPES,
    SIGNER_RELATIONSHIPS,
    SUBJECTS,
    TERMS,
    Role,
)


class Kind(StrEnum):
    """How a cell is read (docs/import-format.md, "General rules")."""

    TEXT = "text"
    #: An identifier: printable ASCII without spaces (`S1000001`, `HS-01`), so that an id
    #: with an invisible or look-alike character is refused instead of naming someone new.
    ID = "id"
    EMAIL = "email"  # text, compared and stored in lower case (sign-in lower-cases emails)
    INT = "int"
    GRADE = "grade"  # an integer -1 (pre-K), 0 (kindergarten) .. 12
    NUMBER = "number"
    DATE = "date"  # YYYY-MM-DD
    YES_NO = "yes_no"  # Y/N, true/false, yes/no, 1/0 in any case
    CHOICE = "choice"  # one value of `choices`
    LIST = "list"  # `;`-separated values of `choices`, stored sorted and unique
    MARK = "mark"  # A..F with optional +/-, P, NP, or a number 0..100
    #: An ISO 639-1 two-letter language code in any case (`es`, `EN`), stored lower-cased.
    LANGUAGE = "language"


#: `school_id` of a `capacity` row offered at any school: the file's blank cell
#: (`data_access.models.ANY_SCHOOL` and `indicators.capacity.ANY_SCHOOL` are the same "").
ANY_SCHOOL: Final = ""

#: Lowest and highest grade level (docs/import-format.md: -1 pre-K, 0 kindergarten, 1..12).
GRADE_RANGE: Final = (-1, 12)
#: Cells of Y/N columns, lower-cased, and what they mean.
YES_NO_VALUES: Final = {
    "y": True,
    "yes": True,
    "true": True,
    "1": True,
    "n": False,
    "no": False,
    "false": False,
    "0": False,
}


@dataclass(frozen=True)
class ColumnFormat:
    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    #: Stored when the cell is blank (only for optional columns with a default in the spec).
    default: object = None
    #: The file whose key this column names (`student_id` -> `students`).
    references: str | None = None


@dataclass(frozen=True)
class FileFormat:
    name: str
    key: tuple[str, ...]
    columns: tuple[ColumnFormat, ...]
    #: The import file whose table receives the rows (itself, except for attendance_daily).
    stored_as: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> ColumnFormat:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, kind: Kind, required: bool = False, **extra: object) -> ColumnFormat:
    return ColumnFormat(name, kind, required, **extra)  # type: ignore[arg-type]


def _student(required: bool = True) -> ColumnFormat:
    return _c("student_id", Kind.ID, required, references="students")


def _school(required: bool = True) -> ColumnFormat:
    return _c("school_id", Kind.ID, required, references="schools")


def _org(required: bool = True) -> ColumnFormat:
    return _c("org_id", Kind.ID, required, references="organizations")


def _file(
    name: str, key: tuple[str, ...], *columns: ColumnFormat, stored_as: str = ""
) -> FileFormat:
    return FileFormat(name, key, columns, stored_as or name)


FILE_FORMATS: Final[dict[str, FileFormat]] = {
    f.name: f
    for f in (
        _file(
            "schools",
            ("school_id",),
            _c("school_id", Kind.ID, True),
            _c("school_name", Kind.TEXT, True),
            _c("low_grade", Kind.GRADE, True),
            _c("high_grade", Kind.GRADE, True),
        ),
        _file(
            "organizations",
            ("org_id",),
            _c("org_id", Kind.ID, True),
            _c("org_name", Kind.TEXT, True),
            _c("org_type", Kind.CHOICE, True, choices=ORG_TYPES),
            _c("service_types", Kind.LIST, choices=SERVICE_TYPES, default=""),
        ),
        _file(
            "students",
            ("student_id",),
            _c("student_id", Kind.ID, True),
            _c("first_name", Kind.TEXT, True),
            _c("last_name", Kind.TEXT, True),
            _school(),
            _c("grade_level", Kind.GRADE, True),
            _c("cohort_year", Kind.INT, True),
            _c("birth_date", Kind.DATE),
            _c("gender", Kind.CHOICE, choices=GENDERS),
            _c("race_ethnicity", Kind.CHOICE, choices=RACE_ETHNICITIES),
            _c("english_learner", Kind.YES_NO),
            _c("disability", Kind.YES_NO),
            _c("econ_disadvantaged", Kind.YES_NO),
        ),
        _file(
            "guardians",
            ("student_id", "guardian_email"),
            _student(),
            _c("guardian_email", Kind.EMAIL, True),
            _c("guardian_name", Kind.TEXT, True),
            _c("relationship", Kind.TEXT),
            _c("language", Kind.LANGUAGE),
        ),
        _file(
            "enrollments",
            ("student_id", "school_year", "school_id"),
            _student(),
            _school(),
            _c("school_year", Kind.INT, True),
            _c("grade_level", Kind.GRADE, True),
            _c("entry_date", Kind.DATE, True),
            _c("exit_date", Kind.DATE),
            _c("exit_code", Kind.CHOICE, choices=EXIT_CODES),
        ),
        _file(
            "attendance",
            ("student_id", "school_year", "school_id", "as_of_date"),
            _student(),
            _school(),
            _c("school_year", Kind.INT, True),
            _c("as_of_date", Kind.DATE, True),
            _c("days_enrolled", Kind.INT, True),
            _c("days_absent", Kind.INT, True),
        ),
        _file(
            "attendance_daily",
            ("student_id", "date"),
            _student(),
            _school(),
            _c("date", Kind.DATE, True),
            _c("status", Kind.CHOICE, True, choices=ATTENDANCE_STATUSES),
            stored_as="attendance",
        ),
        _file(
            "course_marks",
            ("student_id", "school_year", "term", "course_id"),
            _student(),
            _c("school_year", Kind.INT, True),
            _c("term", Kind.CHOICE, True, choices=TERMS),
            _c("course_id", Kind.ID, True),
            _c("course_title", Kind.TEXT, True),
            _c("subject", Kind.CHOICE, True, choices=SUBJECTS),
            _c("mark", Kind.MARK, True),
            _c("credits_attempted", Kind.NUMBER),
            _c("credits_earned", Kind.NUMBER),
            _c("final", Kind.YES_NO, default=True),
        ),
        _file(
            "test_scores",
            ("student_id", "test_name", "subject", "school_year"),
            _student(),
            _c("school_year", Kind.INT, True),
            _c("test_name", Kind.TEXT, True),
            _c("subject", Kind.CHOICE, True, choices=SUBJECTS),
            _c("proficient", Kind.YES_NO, True),
            _c("performance_level", Kind.INT),
            _c("scale_score", Kind.NUMBER),
            _c("test_date", Kind.DATE),
        ),
        _file(
            "fafsa",
            ("student_id", "award_year"),
            _student(),
            _c("award_year", Kind.INT, True),
            _c("status", Kind.CHOICE, True, choices=FAFSA_STATUSES),
            _c("status_date", Kind.DATE),
        ),
        _file(
            "outcomes",
            ("student_id",),
            _student(),
            _c("graduated", Kind.YES_NO),
            _c("graduation_date", Kind.DATE),
            _c("postsecondary_enrolled", Kind.YES_NO),
            _c("postsecondary_start_date", Kind.DATE),
            _c("institution_level", Kind.CHOICE, choices=INSTITUTION_LEVELS),
            _c("persisted_second_year", Kind.YES_NO),
        ),
        _file(
            "services",
            ("student_id", "org_id", "service_type", "start_date"),
            _student(),
            _org(),
            _c("service_type", Kind.CHOICE, True, choices=SERVICE_TYPES),
            _c("start_date", Kind.DATE, True),
            _c("end_date", Kind.DATE),
            _c("sessions", Kind.INT),
            _c("hours", Kind.NUMBER),
        ),
        _file(
            "capacity",
            ("org_id", "school_id", "service_type", "school_year"),
            _org(),
            # Blank = any school, stored as `ANY_SCHOOL` ("") so the key has no null part.
            _c("school_id", Kind.ID, references="schools", default=ANY_SCHOOL),
            _c("service_type", Kind.CHOICE, True, choices=SERVICE_TYPES),
            _c("school_year", Kind.INT, True),
            _c("slots", Kind.INT, True),
            _c("accepting_referrals", Kind.YES_NO, default=True),
        ),
        _file(
            "agreements",
            ("agreement_id",),
            _c("agreement_id", Kind.ID, True),
            _org(),
            _c("categories", Kind.LIST, True, choices=CATEGORIES),
            _c("effective_date", Kind.DATE, True),
            _c("expires_date", Kind.DATE),
        ),
        _file(
            "consents",
            ("consent_id",),
            _c("consent_id", Kind.ID, True),
            _student(),
            _org(),
            _c("categories", Kind.LIST, True, choices=CATEGORIES),
            _c("purpose", Kind.TEXT, True),
            _c("signed_by", Kind.TEXT, True),
            _c("signer_relationship", Kind.CHOICE, True, choices=SIGNER_RELATIONSHIPS),
            _c("signed_date", Kind.DATE, True),
            _c("expires_date", Kind.DATE),
            _c("revoked_date", Kind.DATE),
            _c("language", Kind.TEXT),
        ),
        _file(
            "users",
            ("email",),
            _c("email", Kind.EMAIL, True),
            _c("display_name", Kind.TEXT, True),
            _c("role", Kind.CHOICE, True, choices=ROLES),
            _org(required=False),
            _school(required=False),
            _student(required=False),
            _c("confidentiality_signed_date", Kind.DATE),
            _c("active", Kind.YES_NO, default=True),
        ),
        _file(
            "caseloads",
            ("user_email", "student_id"),
            _c("user_email", Kind.EMAIL, True, references="users"),
            _student(),
        ),
    )
}

#: Columns a user row must fill for its role (docs/import-format.md "users"; as `pathwise users add`).
ROLE_REQUIRES: Final = {
    Role.ORG_STAFF.value: "org_id",
    Role.COUNSELOR.value: "school_id",
    Role.STUDENT.value: "student_id",
}

#: Pairs (file, lower column, higher column) where the first may not exceed the second.
NOT_ABOVE: Final = (
    ("schools", "low_grade", "high_grade"),
    ("attendance", "days_absent", "days_enrolled"),
)
#: Number columns that may not be negative.
NOT_NEGATIVE: Final = {
    "attendance": ("days_enrolled", "days_absent"),
    "course_marks": ("credits_attempted", "credits_earned"),
    "services": ("sessions", "hours"),
    "capacity": ("slots",),
}
#: Attendance statuses that count as a day absent when daily attendance is aggregated
#: (every status but `present`: absent_excused + absent_unexcused + suspended).
ABSENT_STATUSES: Final = tuple(s for s in ATTENDANCE_STATUSES if s != "present")

FILE_NAMES: Final = tuple(FILE_FORMATS)
