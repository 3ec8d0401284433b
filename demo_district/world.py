"""The fixed parts of the demo district: its schools, partner organisations and agreements.

Each school has a size weight, a risk effect and its share of economically disadvantaged
students; one reports marks as numbers (0..100) instead of letters, as real districts
mix both. Each organisation has its services, the categories of its data-sharing agreement
(different for each; one agreement has expired), how many students it serves, how it
chooses them, how often it meets them and the TRUE effect of its program (none for most),
which docs/demo-district.md ("Programs and their true effects") states and the tests of
"Is it working?" check the estimates against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DISTRICT_ORG_ID = "DIST"
DEMO_EMAIL_DOMAIN = "demo.pathwise.example"


@dataclass(frozen=True)
class DemoSchool:
    school_id: str
    name: str
    weight: float
    risk_effect: float
    econ_share: float
    numeric_marks: bool = False


SCHOOLS: tuple[DemoSchool, ...] = (
    DemoSchool("HS01", "Central High School", 0.22, 0.35, 0.85),
    DemoSchool("HS02", "Riverside High School", 0.19, 0.15, 0.75),
    DemoSchool("HS03", "Northgate Academy", 0.16, -0.25, 0.55),
    DemoSchool("HS04", "Eastside High School", 0.18, 0.45, 0.88),
    DemoSchool("HS05", "Westview High School", 0.14, -0.10, 0.62),
    DemoSchool("HS06", "Lincoln Early College", 0.11, -0.45, 0.60, numeric_marks=True),
)


@dataclass(frozen=True)
class DemoOrg:
    org_id: str
    name: str
    org_type: str
    service_types: tuple[str, ...]
    agreement_categories: tuple[str, ...]
    agreement_effective: tuple[int, int, int]
    agreement_expires: tuple[int, int, int] | None
    share_served: float  # of present students, in each school year it serves
    focus: str  # "risk", "seniors", "attendance", "grade9", "any"
    #: Sessions a week and hours a session; `reports_dose` False leaves both blank.
    sessions_per_week: float = 1.0
    session_hours: float = 1.0
    reports_dose: bool = True
    #: True effects (0 = none). Absence: percentage points off each served student's
    #: absence rate from the start month to the end of that school year (never below 0).
    absence_points: float = 0.0
    #: Failing core marks: the chance that each failing core mark of a term ending after
    #: the start passes instead (that school year).
    failing_mark_pass_chance: float = 0.0
    #: FAFSA: percentage points added to the chance of completing it by June 30 of grade
    #: 12, for students served in their grade-12 year.
    fafsa_points: float = 0.0

    @property
    def has_effect(self) -> bool:
        return bool(self.absence_points or self.failing_mark_pass_chance or self.fafsa_points)


ORGS: tuple[DemoOrg, ...] = (
    DemoOrg(
        "ORG01",
        "Big Brothers Big Sisters of the Valley",
        "community",
        ("mentoring",),
        ("attendance", "grades", "notes"),
        (2023, 7, 1),
        None,
        0.035,
        "risk",
        reports_dose=False,
    ),
    DemoOrg(
        "ORG02",
        "College Access Collaborative",
        "community",
        ("college_access",),
        ("grades", "tests", "fafsa", "outcomes", "notes"),
        (2022, 9, 1),
        None,
        0.06,
        "seniors",
        session_hours=1.5,
        fafsa_points=15.0,
    ),
    DemoOrg(
        "ORG03",
        "Youth Tutoring Network",
        "community",
        ("academic",),
        ("grades", "tests", "notes"),
        (2024, 1, 15),
        None,
        0.05,
        "risk",
        sessions_per_week=2.0,
        failing_mark_pass_chance=0.4,
    ),
    DemoOrg(
        "ORG04",
        "Family Resource Center",
        "community",
        ("family_support", "attendance"),
        ("attendance", "demographics", "notes"),
        (2023, 8, 1),
        None,
        0.03,
        "attendance",
    ),
    DemoOrg(
        "ORG05",
        "Every Day Counts Attendance Partners",
        "community",
        ("attendance",),
        ("attendance", "notes"),
        (2024, 8, 15),
        None,
        0.04,
        "attendance",
        sessions_per_week=2.0,
        session_hours=0.5,
        absence_points=3.0,
    ),
    DemoOrg(
        "ORG06",
        "Teen Health & Wellness Clinic",
        "community",
        ("behavioral_health",),
        ("attendance", "notes"),
        (2023, 1, 1),
        None,
        0.02,
        "risk",
    ),
    DemoOrg(
        "ORG07",
        "Career Pathways Alliance",
        "community",
        ("career",),
        ("grades", "outcomes", "demographics"),
        (2024, 2, 1),
        None,
        0.03,
        "seniors",
    ),
    DemoOrg(
        "ORG08",
        "Boys & Girls Club",
        "community",
        ("mentoring", "academic"),
        ("attendance", "grades", "tests", "notes"),
        (2022, 7, 1),
        None,
        0.04,
        "grade9",
    ),
    DemoOrg(
        "ORG09",
        "Summer Bridge Program",
        "community",
        ("college_access",),
        ("grades", "fafsa", "outcomes"),
        (2022, 4, 1),
        (2025, 9, 30),
        0.02,
        "seniors",
        reports_dose=False,
    ),
    DemoOrg(
        "ORG10",
        "City Youth Hub",
        "hub",
        ("other", "career", "mentoring"),
        ("attendance", "grades", "tests", "fafsa", "outcomes", "notes"),
        (2023, 9, 1),
        None,
        0.025,
        "any",
        reports_dose=False,
    ),
)


def agreement_dates(org: DemoOrg) -> tuple[date, date | None]:
    expires = date(*org.agreement_expires) if org.agreement_expires else None
    return date(*org.agreement_effective), expires
