"""The fixed parts of the demo district: its schools, partner organisations and agreements.

Each school has a size weight, a risk effect and its share of economically disadvantaged
students; one reports marks as numbers (0..100) instead of letters, as real districts
mix both. Each organisation has its services, the categories of its data-sharing agreement
(different for each; one agreement has expired) and how many students it serves.
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
    share_served: float  # of current students
    focus: str  # "risk", "seniors", "attendance", "grade9", "any"


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
    ),
)


def agreement_dates(org: DemoOrg) -> tuple[date, date | None]:
    expires = date(*org.agreement_expires) if org.agreement_expires else None
    return date(*org.agreement_effective), expires
