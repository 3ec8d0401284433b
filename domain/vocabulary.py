"""Every controlled vocabulary of Pathwise, in one place.

Sources: docs/import-format.md (file vocabularies), docs/access-rules.md
(roles, categories), docs/indicators.md (bands, stages, subjects). The order of
each tuple is the display order and the deterministic tie-break order.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """Roles of docs/access-rules.md, in the order of its table."""

    ADMIN = "admin"
    DISTRICT_LEADER = "district_leader"
    COUNSELOR = "counselor"
    TEACHER = "teacher"
    ORG_STAFF = "org_staff"
    VIEWER = "viewer"
    PARENT = "parent"
    STUDENT = "student"


ROLES: Final = tuple(r.value for r in Role)
#: Roles that must have a signed confidentiality agreement before they see anything.
ROLES_NEEDING_CONFIDENTIALITY: Final = frozenset(ROLES) - {Role.PARENT, Role.STUDENT}
#: What a user of a role must be linked to (users file, `pathwise users add`): the users
#: table's column naming the organisation, school or student, and who the role is in words.
ROLE_LINKS: Final = {
    Role.ORG_STAFF: ("org_id", "an org_staff user"),
    Role.COUNSELOR: ("school_id", "a counselor"),
    Role.STUDENT: ("student_id", "a student user"),
}
#: Roles that see exact (unsuppressed) aggregates.
ROLES_EXACT_AGGREGATES: Final = frozenset({Role.ADMIN, Role.DISTRICT_LEADER})
#: Roles that see aggregates at all (suppressed unless in ROLES_EXACT_AGGREGATES).
ROLES_WITH_AGGREGATES: Final = frozenset(
    {Role.ADMIN, Role.DISTRICT_LEADER, Role.COUNSELOR, Role.ORG_STAFF, Role.VIEWER}
)


class Category(StrEnum):
    """Data categories used by agreements, consents and the access rules."""

    ATTENDANCE = "attendance"
    GRADES = "grades"
    TESTS = "tests"
    FAFSA = "fafsa"
    OUTCOMES = "outcomes"
    DEMOGRAPHICS = "demographics"
    NOTES = "notes"


CATEGORIES: Final = tuple(c.value for c in Category)
#: What a teacher may see (docs/access-rules.md).
TEACHER_CATEGORIES: Final = frozenset({Category.ATTENDANCE, Category.GRADES, Category.TESTS})

ORG_TYPES: Final = ("district", "community", "hub")
SERVICE_TYPES: Final = (
    "attendance",
    "academic",
    "college_access",
    "mentoring",
    "behavioral_health",
    "family_support",
    "career",
    "other",
)
GENDERS: Final = ("F", "M", "X")
RACE_ETHNICITIES: Final = (
    "hispanic",
    "black",
    "white",
    "asian",
    "native_american",
    "pacific_islander",
    "two_or_more",
)
EXIT_CODES: Final = ("graduated", "dropped_out", "transferred", "other")
ATTENDANCE_STATUSES: Final = ("present", "absent_excused", "absent_unexcused", "suspended")
TERMS: Final = ("S1", "S2", "Q1", "Q2", "Q3", "Q4", "T1", "T2", "T3", "Y")
SEMESTER_TERMS: Final = ("S1", "S2")
SUBJECTS: Final = ("ela", "math", "science", "social_studies", "other")
CORE_SUBJECTS: Final = ("ela", "math", "science", "social_studies")
FAFSA_STATUSES: Final = ("not_started", "submitted", "incomplete", "completed")
INSTITUTION_LEVELS: Final = ("less_than_2yr", "2yr", "4yr")
SIGNER_RELATIONSHIPS: Final = ("parent", "guardian", "eligible_student")
REFERRAL_STATUSES: Final = ("open", "accepted", "declined", "closed")

ATTENDANCE_BANDS: Final = ("satisfactory", "at_risk", "moderate_chronic", "severe_chronic")
FLAGS: Final = ("chronic_absence", "course_failure", "below_proficient", "fafsa_not_completed")
#: The category each early-warning flag belongs to (used to hide flags a viewer may not see).
FLAG_CATEGORY: Final = {
    "chronic_absence": Category.ATTENDANCE,
    "course_failure": Category.GRADES,
    "below_proficient": Category.TESTS,
    "fafsa_not_completed": Category.FAFSA,
}
TIERS: Final = (1, 2, 3)

PIPELINE_STAGES: Final = (
    "entered_grade_9",
    "reached_grade_12",
    "graduated",
    "fafsa_completed",
    "enrolled_postsecondary",
    "persisted",
)
#: The pipeline's college stages: read from the college columns of `outcomes` (a
#: district's own file or a Clearinghouse report), "not observed" for a class with no
#: college data at all (indicators.observable, docs/indicators.md).
COLLEGE_STAGES: Final = ("enrolled_postsecondary", "persisted")
#: Fields a pipeline can be grouped by (docs/command-line.md, `export pipeline --by`).
GROUP_FIELDS: Final = (
    "school_id",
    "race_ethnicity",
    "gender",
    "english_learner",
    "disability",
    "econ_disadvantaged",
)
UNKNOWN_GROUP: Final = "unknown"

#: Program outcome measures (docs/outcomes.md): the change measures, then the yes/no ones.
OUTCOME_CHANGE_MEASURES: Final = ("absence_rate", "core_fails")
OUTCOME_YES_NO_MEASURES: Final = (
    "on_track",
    "fafsa_completed",
    "graduated",
    "enrolled_postsecondary",
    "persisted",
)
OUTCOME_MEASURES: Final = OUTCOME_CHANGE_MEASURES + OUTCOME_YES_NO_MEASURES
#: WWC baseline-equivalence bands of the largest absolute SMD after matching.
OUTCOME_BALANCE_BANDS: Final = ("ok", "adjusted", "not_comparable")
OUTCOME_VERDICTS: Final = ("better", "worse", "no_difference", "too_few", "not_comparable")

AUDIT_OUTCOMES: Final = ("allowed", "denied")


def parse_list(cell: str | None) -> tuple[str, ...]:
    """Split a `;`-separated list cell (docs/import-format.md) into trimmed, non-empty items."""
    if not cell:
        return ()
    return tuple(item.strip() for item in cell.split(";") if item.strip())


def format_list(items: object) -> str:
    """The canonical stored form of a list cell: unique items, sorted, joined by `;`."""
    return ";".join(sorted({str(i).strip() for i in items if str(i).strip()}))  # type: ignore[attr-defined]


#: National Student Clearinghouse StudentTracker detail report: `Enrollment Status` codes
#: and their meanings ("Reading the StudentTracker Detail Report", quoted by
#: charkins24/nscPublication). Blank: the college has not defined the student's enrollment
#: status as directory information.
NSC_ENROLLMENT_STATUSES: Final = {
    "F": "full-time",
    "Q": "three-quarter time",
    "H": "half-time",
    "L": "less than half-time",
    "W": "withdrawn",
    "A": "leave of absence",
    "D": "deceased",
}
#: `2-year / 4-year` codes of the detail report -> `INSTITUTION_LEVELS`.
NSC_LEVELS: Final = {"4": "4yr", "2": "2yr", "L": "less_than_2yr"}
#: `Public / Private` values of the detail report, as stored.
NSC_CONTROLS: Final = ("public", "private")
#: How a student's Clearinghouse search came back (`Record Found Y/N`).
NSC_SEARCH_RESULTS: Final = ("found", "not_found")
#: Which detail-report column matches a student to the district's id (setting
#: `[nsc] student_key`).
NSC_STUDENT_KEYS: Final = ("your_unique_identifier", "requester_return_field")

#: ISO 639-1 two-letter language codes (the Library of Congress registration authority's
#: list, https://www.loc.gov/standards/iso639-2/php/code_list.php): the `language` of a
#: guardian (`guardians` file). Any of them is accepted; the family pages use it when
#: Pathwise has a catalog for it (`locale/`), and English otherwise.
ISO_639_1: Final = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv
    cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho
    hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku
    kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn
    no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm
    sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
    vo wa wo xh yi yo za zh zu
    """.split()  # noqa: SIM905  (a list of codes reads best as one)
)
