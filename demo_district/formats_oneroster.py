"""The demo district's current roster as a OneRoster 1.2 CSV bulk package (issue 15).

`oneroster-roster.zip` holds what a district's SIS exports for rostering: `manifest.csv`
(manifest 1.0, OneRoster 1.2, each file bulk or absent), `orgs.csv` (the district and its
schools, each school's `identifier` its Pathwise school id), `academicSessions.csv` (the
current school year and its two semesters), `classes.csv` (a year-long homeroom per school
and grade), `users.csv` and `roles.csv` (1.2 keeps roles apart: the students of this
year's enrollments with their grade, and a homeroom teacher per school), `demographics.csv`
(birth date, sex and race booleans of each student) and `enrollments.csv` (each student's
homeroom at each school this year, `beginDate` the entry date and `endDate` the exit date
when there is one; the teachers in their homerooms). sourcedIds are stable UUIDs derived
from the Pathwise ids; a student's `identifier` is the district id. Importing it gives the
schools, the current students (with their demographics) and this year's enrollments of the
native files (tests/importing/test_oneroster_round_trip.py).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from demo_district.formats_fafsa import demo_tables
from demo_district.generate import DemoSpec
from domain import oneroster as spec_or
from domain.progress import Progress
from domain.school_year import school_year_of

ONEROSTER_FILE: Final = "oneroster-roster.zip"
_NAMESPACE: Final = uuid.UUID("6f1c2b1e-8a4e-4d0b-9a53-2f0d7c1e9b42")
USERS_HEADER: Final = [
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "userMasterIdentifier",
    "resourceSourcedIds",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
]
_SEX: Final = {"F": "female", "M": "male", "X": "other"}
_RACE_COLUMN: Final = {code: column for column, code in spec_or.RACE_COLUMNS.items()}


def sourced_id(kind: str, key: object) -> str:
    """A stable sourcedId for a Pathwise record (`kind`, its key)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key}"))


def _grade(level: int) -> str:
    return {-1: "PK", 0: "KG"}.get(level, f"{level:02d}")


def _csv(rows: list[dict[str, object]], header: list[str]) -> bytes:
    frame = pl.DataFrame(
        [{h: (None if r.get(h) is None else str(r.get(h))) for h in header} for r in rows],
        schema=dict.fromkeys(header, pl.String),
        orient="row",
    )
    return frame.write_csv().encode("utf-8")


def package(spec: DemoSpec) -> tuple[bytes, dict[str, int]]:
    """The zip's bytes and the data rows of each CSV in it."""
    tables = demo_tables(spec, ("schools", "students", "enrollments"))
    schools, students, enrollments = tables["schools"], tables["students"], tables["enrollments"]
    year = school_year_of(spec.today)
    current = enrollments.filter(pl.col("school_year") == year)
    if current.height == 0:
        year = int(enrollments["school_year"].max())  # type: ignore[arg-type]
        current = enrollments.filter(pl.col("school_year") == year)
    enrolled = students.join(current.select("student_id").unique(), on="student_id")
    district = sourced_id("org", "district")
    orgs = [
        {
            "sourcedId": district,
            "name": "Demo Unified School District",
            "type": "district",
            "identifier": "DISTRICT",
        },
        *(
            {
                "sourcedId": sourced_id("org", s["school_id"]),
                "name": s["school_name"],
                "type": "school",
                "identifier": s["school_id"],
                "parentSourcedId": district,
            }
            for s in schools.iter_rows(named=True)
        ),
    ]
    year_id = sourced_id("session", year)
    terms = [sourced_id("session", f"{year}-S1"), sourced_id("session", f"{year}-S2")]
    sessions = [
        {
            "sourcedId": year_id,
            "title": f"{year - 1}-{year % 100:02d}",
            "type": "schoolYear",
            "startDate": date(year - 1, 8, 1),
            "endDate": date(year, 7, 31),
            "schoolYear": year,
        },
        {
            "sourcedId": terms[0],
            "title": "Semester 1",
            "type": "semester",
            "startDate": date(year - 1, 8, 1),
            "endDate": date(year, 1, 15),
            "parentSourcedId": year_id,
            "schoolYear": year,
        },
        {
            "sourcedId": terms[1],
            "title": "Semester 2",
            "type": "semester",
            "startDate": date(year, 1, 16),
            "endDate": date(year, 7, 31),
            "parentSourcedId": year_id,
            "schoolYear": year,
        },
    ]
    classes, users, roles, enrollment_rows = [], [], [], []
    for school in schools.iter_rows(named=True):
        org = sourced_id("org", school["school_id"])
        teacher = sourced_id("user", f"teacher:{school['school_id']}")
        users.append(
            {
                "sourcedId": teacher,
                "enabledUser": "true",
                "username": f"homeroom.{school['school_id'].lower()}",
                "givenName": "Homeroom",
                "familyName": school["school_name"],
                "identifier": f"T-{school['school_id']}",
                "email": f"homeroom.{school['school_id'].lower()}@demo.example",
                "primaryOrgSourcedId": org,
            }
        )
        roles.append(
            {
                "sourcedId": sourced_id("role", teacher),
                "userSourcedId": teacher,
                "roleType": "primary",
                "role": "teacher",
                "orgSourcedId": org,
            }
        )
        for level in range(school["low_grade"], school["high_grade"] + 1):
            klass = sourced_id("class", f"{school['school_id']}:{level}")
            classes.append(
                {
                    "sourcedId": klass,
                    "title": f"Grade {level} Homeroom",
                    "grades": _grade(level),
                    "classCode": f"HR-{level}",
                    "classType": "homeroom",
                    "schoolSourcedId": org,
                    "termSourcedIds": ",".join(terms),
                }
            )
            enrollment_rows.append(
                {
                    "sourcedId": sourced_id("enrollment", f"{teacher}:{klass}"),
                    "classSourcedId": klass,
                    "schoolSourcedId": org,
                    "userSourcedId": teacher,
                    "role": "teacher",
                    "primary": "true",
                }
            )
    demographics = []
    for student in enrolled.sort("student_id").iter_rows(named=True):
        user = sourced_id("user", student["student_id"])
        users.append(
            {
                "sourcedId": user,
                "enabledUser": "true",
                "username": student["student_id"].lower(),
                "givenName": student["first_name"],
                "familyName": student["last_name"],
                "identifier": student["student_id"],
                "grades": _grade(student["grade_level"]),
                "primaryOrgSourcedId": sourced_id("org", student["school_id"]),
            }
        )
        roles.append(
            {
                "sourcedId": sourced_id("role", user),
                "userSourcedId": user,
                "roleType": "primary",
                "role": "student",
                "orgSourcedId": sourced_id("org", student["school_id"]),
            }
        )
        race = student["race_ethnicity"]
        flags: dict[str, object] = {}
        if race is not None:
            flags = dict.fromkeys((*spec_or.RACE_COLUMNS, spec_or.TWO_OR_MORE_COLUMN), "false")
            flags[spec_or.HISPANIC_COLUMN] = "true" if race == "hispanic" else "false"
            if race == "two_or_more":
                flags.update(
                    {
                        spec_or.TWO_OR_MORE_COLUMN: "true",
                        "white": "true",
                        "blackOrAfricanAmerican": "true",
                    }
                )
            elif race in _RACE_COLUMN:
                flags[_RACE_COLUMN[race]] = "true"
        demographics.append(
            {
                "sourcedId": user,
                "birthDate": student["birth_date"],
                "sex": _SEX.get(student["gender"] or ""),
                **flags,
            }
        )
    for row in current.sort("student_id", "entry_date").iter_rows(named=True):
        user = sourced_id("user", row["student_id"])
        klass = sourced_id("class", f"{row['school_id']}:{row['grade_level']}")
        enrollment_rows.append(
            {
                "sourcedId": sourced_id("enrollment", f"{user}:{klass}:{row['entry_date']}"),
                "classSourcedId": klass,
                "schoolSourcedId": sourced_id("org", row["school_id"]),
                "userSourcedId": user,
                "role": "student",
                "primary": "false",
                "beginDate": row["entry_date"],
                "endDate": row["exit_date"],
            }
        )
    files = {
        "orgs": (
            orgs,
            [
                "sourcedId",
                "status",
                "dateLastModified",
                "name",
                "type",
                "identifier",
                "parentSourcedId",
            ],
        ),
        "academicSessions": (
            sessions,
            [
                "sourcedId",
                "status",
                "dateLastModified",
                "title",
                "type",
                "startDate",
                "endDate",
                "parentSourcedId",
                "schoolYear",
            ],
        ),
        "classes": (
            classes,
            [
                "sourcedId",
                "status",
                "dateLastModified",
                "title",
                "grades",
                "courseSourcedId",
                "classCode",
                "classType",
                "location",
                "schoolSourcedId",
                "termSourcedIds",
                "subjects",
                "subjectCodes",
                "periods",
            ],
        ),
        "users": (users, USERS_HEADER),
        "roles": (
            roles,
            [
                "sourcedId",
                "status",
                "dateLastModified",
                "userSourcedId",
                "roleType",
                "role",
                "beginDate",
                "endDate",
                "orgSourcedId",
                "userProfileSourcedId",
            ],
        ),
        "demographics": (
            demographics,
            ["sourcedId", "status", "dateLastModified", *spec_or.FILES["demographics"][1][2:]],
        ),
        "enrollments": (
            enrollment_rows,
            [
                "sourcedId",
                "status",
                "dateLastModified",
                "classSourcedId",
                "schoolSourcedId",
                "userSourcedId",
                "role",
                "primary",
                "beginDate",
                "endDate",
            ],
        ),
    }
    manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    for kind in sorted({*spec_or.FILES, *spec_or.OTHER_FILES[:8]}):
        manifest.append((f"file.{kind}", "bulk" if kind in files else "absent"))
    manifest += [("source.systemName", "Pathwise demo SIS"), ("source.systemCode", "demo")]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            spec_or.MANIFEST,
            _csv([{"propertyName": k, "value": v} for k, v in manifest], ["propertyName", "value"]),
        )
        for kind, (rows, header) in files.items():
            archive.writestr(f"{kind}.csv", _csv(rows, header))
    return buffer.getvalue(), {f"{ONEROSTER_FILE}/{k}.csv": len(r) for k, (r, _) in files.items()}


def write_oneroster(spec: DemoSpec, directory: Path, progress: Progress) -> dict[str, int]:
    """Write `ONEROSTER_FILE` into `directory`; data rows per CSV in it."""
    progress(0, 1, "writing the OneRoster package")
    directory.mkdir(parents=True, exist_ok=True)
    data, rows = package(spec)
    (directory / ONEROSTER_FILE).write_bytes(data)
    progress(1, 1, f"wrote {ONEROSTER_FILE}")
    return rows
