"""The OneRoster CSV binding as data: its files, columns and codes, and how each code maps
to Pathwise's vocabularies (docs/import-format.md, "Rosters from the SIS: OneRoster").

Followed: the 1EdTech OneRoster CSV Binding 1.2 (imsglobal.org/spec/oneroster/v1p2/bind/csv,
the manifest's `manifest.version` 1.0, `oneroster.version` 1.2 and `file.*` = bulk, delta
or absent), cross-checked against vendors' published 1.2 and 1.1 CSV guides (ManageBac's
OneRoster 1.2 CSV specification for manifest.csv, roles.csv and demographics.csv; Great
Minds, Quaver and PowerSchool Naviance for 1.1 users.csv; D2L Brightspace for bulk and
delta) and the open-source nicelion/oneroster-mocker (grade codes, roles). Where 1.1 and
1.2 differ both are accepted: a user's role in `users.csv` (`role`, `orgSourcedIds`, 1.1)
or in `roles.csv` (1.2); a 1.1 manifest (`oneroster.version` 1.1).

Every map's targets are values of `domain.vocabulary` (tests/importing/test_oneroster.py
checks this); nothing here repeats a Pathwise vocabulary.
"""

from __future__ import annotations

from typing import Final

#: The file kind recorded in the import history.
ONEROSTER_KIND: Final = "oneroster"
MANIFEST: Final = "manifest.csv"
MANIFEST_VERSION: Final = "1.0"
#: `oneroster.version` values read (1.2 is the binding followed; 1.1 files differ only in
#: where the role is, which is accepted too).
ONEROSTER_VERSIONS: Final = ("1.2", "1.1")
FILE_MODES: Final = ("bulk", "delta", "absent")
STATUSES: Final = ("active", "tobedeleted")

#: The files Pathwise reads, and the columns of each: (required, other known columns).
#: A column not listed is a problem unless it is an extension (`metadata.` prefix).
FILES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "orgs": (
        ("sourcedId", "name", "type"),
        ("status", "dateLastModified", "identifier", "parentSourcedId"),
    ),
    "users": (
        ("sourcedId", "givenName", "familyName"),
        (
            "status",
            "dateLastModified",
            "enabledUser",
            "orgSourcedIds",
            "role",
            "username",
            "userIds",
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
        ),
    ),
    "roles": (
        ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"),
        ("status", "dateLastModified", "beginDate", "endDate", "userProfileSourcedId"),
    ),
    "demographics": (
        ("sourcedId",),
        (
            "status",
            "dateLastModified",
            "birthDate",
            "sex",
            "americanIndianOrAlaskaNative",
            "asian",
            "blackOrAfricanAmerican",
            "nativeHawaiianOrOtherPacificIslander",
            "white",
            "demographicRaceTwoOrMoreRaces",
            "hispanicOrLatinoEthnicity",
            "countryOfBirthCode",
            "stateOfBirthAbbreviation",
            "cityOfBirth",
            "publicSchoolResidenceStatus",
        ),
    ),
    "academicSessions": (
        ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
        ("status", "dateLastModified", "parentSourcedId"),
    ),
    "classes": (
        ("sourcedId", "title", "schoolSourcedId", "termSourcedIds"),
        (
            "status",
            "dateLastModified",
            "grades",
            "courseSourcedId",
            "classCode",
            "classType",
            "location",
            "subjects",
            "subjectCodes",
            "periods",
            "resources",
        ),
    ),
    "enrollments": (
        ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
        ("status", "dateLastModified", "primary", "beginDate", "endDate"),
    ),
}
#: Files a bulk package must carry (the others may be absent).
BULK_REQUIRED: Final = ("orgs", "users", "academicSessions", "classes", "enrollments")
#: Files of the binding Pathwise does not read (listed in the manifest, ignored in the zip).
OTHER_FILES: Final = (
    "categories",
    "courses",
    "classResources",
    "courseResources",
    "lineItems",
    "resources",
    "results",
    "userProfiles",
    "lineItemLearningObjectiveIds",
    "lineItemScoreScales",
    "resultLearningObjectiveIds",
    "resultScoreScales",
    "scoreScales",
)

#: Org types of the binding; only `school` becomes a Pathwise school.
ORG_TYPES: Final = ("department", "school", "district", "local", "state", "national")
#: User roles (1.2's list; `administrator` from 1.1).
USER_ROLES: Final = (
    "aide",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
    "administrator",
)
ROLE_TYPES: Final = ("primary", "secondary")


def teaches(roster_role: str | None) -> bool:
    """A OneRoster user or enrollment role of a teacher (the file's vocabulary, not a
    Pathwise role: who may see what is data_access/policy.py's)."""
    return roster_role == "teacher"


def is_enrolled_student(roster_role: str | None) -> bool:
    """A OneRoster user or enrollment role of a student (the file's vocabulary)."""
    return roster_role == "student"


ENROLLMENT_ROLES: Final = (
    "administrator",
    "aide",
    "guardian",
    "parent",
    "proctor",
    "relative",
    "student",
    "teacher",
)
SESSION_TYPES: Final = ("gradingPeriod", "semester", "schoolYear", "term")

#: CEDS grade-level codes the binding uses -> Pathwise grade (-1 pre-K, 0 kindergarten,
#: 1..12). `TK` (transitional kindergarten, the year before kindergarten) is pre-K. Codes
#: without a Pathwise grade (IT infant/toddler, PR preschool, PS postsecondary, 13, UG
#: ungraded, Other) are reported.
GRADES: Final = {
    "PK": -1,
    "TK": -1,
    "KG": 0,
    **{f"{g:02d}": g for g in range(1, 13)},
}
#: Grade codes of the binding that have no Pathwise grade.
GRADES_NOT_KEPT: Final = ("IT", "PR", "PS", "13", "UG", "Other")

#: `demographics.sex` -> `vocabulary.GENDERS` (1.1: male, female; 1.2 adds other and
#: unspecified, both X). Blank: unknown.
SEX: Final = {"female": "F", "male": "M", "other": "X", "unspecified": "X"}
#: The race columns of demographics.csv -> `vocabulary.RACE_ETHNICITIES`.
RACE_COLUMNS: Final = {
    "americanIndianOrAlaskaNative": "native_american",
    "asian": "asian",
    "blackOrAfricanAmerican": "black",
    "nativeHawaiianOrOtherPacificIslander": "pacific_islander",
    "white": "white",
}
TWO_OR_MORE_COLUMN: Final = "demographicRaceTwoOrMoreRaces"
HISPANIC_COLUMN: Final = "hispanicOrLatinoEthnicity"
#: Boolean cells of demographics.csv (the binding writes true/false; 1.1 guides also yes/no).
BOOLEANS: Final = {"true": True, "false": False, "yes": True, "no": False}

#: Which OneRoster column gives a student's and a school's Pathwise id (setting
#: `[oneroster] id_field`): `identifier` when the row has one, else `sourcedId`; or always
#: `sourcedId`.
ID_FIELDS: Final = ("identifier", "sourcedId")
