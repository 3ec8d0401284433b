"""Small, readable worlds for access-policy tests.

`TODAY` is 2026-11-22 (school year 2027). Two schools, three partners and six students:

| student | school | served by / release (consent) |
|---|---|---|
| S1 Ana   | HS1 | ORGA: active release {attendance, notes, grades}; agreement {attendance, notes, tests} |
| S2 Ben   | HS1 | ORGA: release revoked yesterday |
| S3 Caro  | HS1 | ORGA: release expires today (still active); ORGB: active release, expired agreement |
| S4 Dev   | HS2 | ORGA: release signed tomorrow (not yet active) |
| S5 Eli   | HS2 | ORGC: active release {fafsa, grades}; agreement {fafsa} |
| S6 Fay   | HS2 | left the district last year (former student) |

Users: one of every role, an inactive counselor and a partner without a confidentiality
agreement. The counselor works at HS1 (caseload S1); the teacher's caseload is S1 and S4;
the parent is Ana's; the student user is Eli.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from data_access.models import (
    Agreement,
    AttendanceSnapshot,
    Caseload,
    Consent,
    CourseMark,
    Enrollment,
    Fafsa,
    Guardian,
    Note,
    Organization,
    Outcome,
    School,
    Service,
    Student,
    TestScore,
    User,
    table_of,
)

TODAY = date(2026, 11, 22)
YEAR = 2027
YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)
SIGNED = date(2026, 8, 20)


def user(email: str, role: str, **extra: Any) -> dict[str, Any]:
    row = {
        "email": email,
        "display_name": email.split("@")[0],
        "role": role,
        "org_id": None,
        "school_id": None,
        "student_id": None,
        "confidentiality_signed_date": SIGNED,
        "active": True,
    }
    row.update(extra)
    return row


USERS = [
    user("admin@d.org", "admin", org_id="DIST"),
    user("leader@d.org", "district_leader", org_id="DIST"),
    user("counselor@d.org", "counselor", school_id="HS1", org_id="DIST"),
    user("teacher@d.org", "teacher", school_id="HS2", org_id="DIST"),
    user("a@orga.org", "org_staff", org_id="ORGA"),
    user("b@orgb.org", "org_staff", org_id="ORGB"),
    user("c@orgc.org", "org_staff", org_id="ORGC"),
    user("viewer@city.org", "viewer"),
    user("mom@family.org", "parent", confidentiality_signed_date=None),
    user("eli@student.org", "student", student_id="S5", confidentiality_signed_date=None),
    user("gone@d.org", "counselor", school_id="HS1", active=False),
    user("new@orga.org", "org_staff", org_id="ORGA", confidentiality_signed_date=None),
]


def _student(sid: str, first: str, school: str, grade: int, cohort: int) -> dict[str, Any]:
    return {
        "student_id": sid,
        "first_name": first,
        "last_name": "Testcase",
        "school_id": school,
        "grade_level": grade,
        "cohort_year": cohort,
        "birth_date": date(2010, 1, 1),
        "gender": "F",
        "race_ethnicity": "hispanic",
        "english_learner": False,
        "disability": False,
        "econ_disadvantaged": True,
    }


def _consent(cid: str, sid: str, org: str, cats: str, **dates: Any) -> dict[str, Any]:
    row = {
        "consent_id": cid,
        "student_id": sid,
        "org_id": org,
        "categories": cats,
        "purpose": "mentoring",
        "signed_by": "Parent Testcase",
        "signer_relationship": "parent",
        "signed_date": date(2026, 9, 1),
        "expires_date": None,
        "revoked_date": None,
        "language": "en",
    }
    row.update(dates)
    return row


def build_small_world(engine: Engine) -> None:
    rows: dict[Any, list[dict[str, Any]]] = {
        School: [
            {"school_id": "HS1", "school_name": "First High", "low_grade": 9, "high_grade": 12},
            {"school_id": "HS2", "school_name": "Second High", "low_grade": 9, "high_grade": 12},
        ],
        Organization: [
            {"org_id": "DIST", "org_name": "District", "org_type": "district", "service_types": ""},
            {"org_id": "ORGA", "org_name": "Mentors A", "org_type": "community", "service_types": "mentoring"},
            {"org_id": "ORGB", "org_name": "Bridge B", "org_type": "community", "service_types": "college_access"},
            {"org_id": "ORGC", "org_name": "College C", "org_type": "hub", "service_types": "college_access"},
        ],
        Student: [
            _student("S1", "Ana", "HS1", 9, 2030),
            _student("S2", "Ben", "HS1", 10, 2029),
            _student("S3", "Caro", "HS1", 11, 2028),
            _student("S4", "Dev", "HS2", 12, 2027),
            _student("S5", "Eli", "HS2", 12, 2027),
            _student("S6", "Fay", "HS2", 12, 2026),
        ],
        Enrollment: [
            {"student_id": sid, "school_id": school, "school_year": YEAR, "grade_level": grade,
             "entry_date": date(2026, 8, 27), "exit_date": None, "exit_code": None}
            for sid, school, grade in [("S1", "HS1", 9), ("S2", "HS1", 10), ("S3", "HS1", 11), ("S4", "HS2", 12), ("S5", "HS2", 12)]
        ]
        + [
            {"student_id": "S6", "school_id": "HS2", "school_year": 2026, "grade_level": 12,
             "entry_date": date(2025, 8, 27), "exit_date": date(2026, 6, 12), "exit_code": "graduated"}
        ],
        AttendanceSnapshot: [
            {"student_id": sid, "school_id": school, "school_year": YEAR, "as_of_date": date(2026, 10, 31),
             "days_enrolled": 40, "days_absent": absent}
            for sid, school, absent in [("S1", "HS1", 6), ("S2", "HS1", 1), ("S3", "HS1", 9), ("S4", "HS2", 2), ("S5", "HS2", 0)]
        ],
        CourseMark: [
            {"student_id": "S1", "school_year": YEAR, "term": "Q1", "course_id": "ALG1", "course_title": "Algebra I",
             "subject": "math", "mark": "F", "credits_attempted": None, "credits_earned": None, "final": True},
            {"student_id": "S5", "school_year": YEAR, "term": "Q1", "course_id": "ENG12", "course_title": "English 12",
             "subject": "ela", "mark": "B", "credits_attempted": None, "credits_earned": None, "final": True},
        ],
        TestScore: [
            {"student_id": "S1", "test_name": "State", "subject": "ela", "school_year": 2026, "proficient": False,
             "performance_level": 2, "scale_score": 480.0, "test_date": date(2026, 4, 20)},
        ],
        Fafsa: [{"student_id": "S5", "award_year": YEAR, "status": "submitted", "status_date": date(2026, 11, 1)}],
        Outcome: [{"student_id": "S6", "graduated": True, "graduation_date": date(2026, 6, 12),
                   "postsecondary_enrolled": True, "postsecondary_start_date": date(2026, 8, 26),
                   "institution_level": "4yr", "persisted_second_year": None}],
        Service: [
            {"student_id": "S1", "org_id": "ORGA", "service_type": "mentoring", "start_date": date(2026, 9, 5), "end_date": None},
            {"student_id": "S5", "org_id": "ORGC", "service_type": "college_access", "start_date": date(2026, 9, 5), "end_date": None},
            {"student_id": "S1", "org_id": "ORGC", "service_type": "college_access", "start_date": date(2026, 9, 5), "end_date": None},
        ],
        Agreement: [
            {"agreement_id": "DSA-A", "org_id": "ORGA", "categories": "attendance;notes;tests", "effective_date": date(2025, 7, 1), "expires_date": None},
            {"agreement_id": "DSA-B", "org_id": "ORGB", "categories": "attendance;grades;notes", "effective_date": date(2024, 7, 1), "expires_date": date(2026, 6, 30)},
            {"agreement_id": "DSA-C", "org_id": "ORGC", "categories": "fafsa", "effective_date": date(2025, 7, 1), "expires_date": None},
        ],
        Consent: [
            _consent("C1", "S1", "ORGA", "attendance;grades;notes"),
            _consent("C2", "S2", "ORGA", "attendance;notes", revoked_date=YESTERDAY),
            _consent("C3", "S3", "ORGA", "attendance", expires_date=TODAY),
            _consent("C3B", "S3", "ORGB", "attendance;grades;notes"),
            _consent("C4", "S4", "ORGA", "attendance;notes", signed_date=TOMORROW),
            _consent("C5", "S5", "ORGC", "fafsa;grades"),
        ],
        Guardian: [
            {"student_id": "S1", "guardian_email": "mom@family.org", "guardian_name": "Mom Testcase", "relationship": "mother"},
        ],
        User: USERS,
        Caseload: [
            {"user_email": "counselor@d.org", "student_id": "S1"},
            {"user_email": "teacher@d.org", "student_id": "S1"},
            {"user_email": "teacher@d.org", "student_id": "S4"},
        ],
        Note: [
            {"student_id": "S1", "author_email": "counselor@d.org", "author_role": "counselor", "author_org_id": "DIST",
             "created_at": datetime(2026, 11, 1, 15, tzinfo=UTC), "body": "Counselor note", "shared_with_family": True},
            {"student_id": "S1", "author_email": "a@orga.org", "author_role": "org_staff", "author_org_id": "ORGA",
             "created_at": datetime(2026, 11, 2, 15, tzinfo=UTC), "body": "Mentor note", "shared_with_family": False},
            {"student_id": "S1", "author_email": "x@orgc.org", "author_role": "org_staff", "author_org_id": "ORGC",
             "created_at": datetime(2026, 11, 3, 15, tzinfo=UTC), "body": "Other partner note", "shared_with_family": False},
        ],
    }  # fmt: skip
    with engine.begin() as connection:
        for model, values in rows.items():
            connection.execute(insert(table_of(model)), values)
