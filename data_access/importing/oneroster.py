"""A OneRoster CSV package (a zip with `manifest.csv`) checked and turned into Pathwise's
schools, students and enrollments (docs/import-format.md, "Rosters from the SIS: OneRoster").

The binding's files and codes, and their maps to Pathwise's vocabularies, are in
`domain.oneroster`. Checked as strictly as the native files: every problem names the CSV
inside the zip as `roster.zip/users.csv`, its line, column and value; nothing is written
when there is one.

What becomes what:

- orgs of type `school` -> schools (id per setting `[oneroster] id_field`; a new school's
  grades from its classes' and enrolled students' grades; a stored school keeps its grades).
- users whose role is `student` (users.csv `role`, or a primary `student` row of roles.csv)
  -> students: names, and from demographics.csv the birth date, sex and race. A new student
  needs an enrollment in the package: its school and grade are the student's latest, and
  `cohort_year` is that school year + 12 - grade (the year the student is due to finish
  grade 12). A stored student keeps its cohort year and its English-learner, disability and
  economic flags (OneRoster carries none of them).
- student enrollments in classes -> one school-level enrollment per student, school and
  school year (the `schoolYear` of the class's terms in academicSessions.csv): entry date
  the earliest `beginDate` (else the earliest start of the class's terms), exit date the
  latest `endDate` when every class enrollment there has one.
- bulk enrollments replace the school years they cover at the package's schools: a stored
  enrollment without an exit date that the package no longer has gets one (the import's
  day, or the last day of that school year when it is already over); nothing is deleted.
- delta files upsert; an enrollment `tobedeleted` ends the school-level enrollment on its
  `dateLastModified` day unless the package still enrolls the student there that year.
- with `[oneroster] teacher_caseloads`, teachers' class enrollments -> caseloads (the
  teacher must be a Pathwise user with the same email); a bulk package replaces the
  caseloads of the teachers it names.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any, Final

import polars as pl

from data_access.importing.problems import Problem
from data_access.importing.reading import FIELDS, LINE, read_csv
from domain import oneroster as spec
from domain.school_year import school_year_of

#: A zip that unpacks to more than this is refused unread.
MAX_UNPACKED: Final = 4 << 30
_ID = re.compile(r"^[!-~]{1,64}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DATETIME = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$"
)
_YEAR = re.compile(r"^[0-9]{4}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TEXT_LENGTHS: Final = {"name": 200, "givenName": 100, "familyName": 100}


def is_package(data: bytes) -> bool:
    """Whether `data` is a zip holding a `manifest.csv` at its top (a OneRoster package)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(PurePosixPath(n).as_posix() == spec.MANIFEST for n in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


@dataclass
class Stored:
    """What the database holds that a package is checked against (read before writing)."""

    schools: pl.DataFrame
    students: pl.DataFrame
    enrollments: pl.DataFrame
    users: pl.DataFrame  # email (lower case), role


@dataclass
class Roster:
    """A checked package: full rows to upsert per table, caseload changes, problems."""

    schools: pl.DataFrame | None = None
    students: pl.DataFrame | None = None
    enrollments: pl.DataFrame | None = None
    caseloads: pl.DataFrame | None = None
    #: Teachers whose caseloads a bulk package replaces.
    replace_caseloads_of: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)
    #: Data rows read per CSV.
    rows: dict[str, int] = field(default_factory=dict)


@dataclass
class _Table:
    file: str
    rows: list[dict[str, str | None]]
    mode: str


class _Checker:
    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.name = name
        self.problems = problems

    def add(
        self, file: str, line: int | None, column: str | None, message: str, value: object = None
    ) -> None:
        self.problems.append(
            Problem(file, line, column, message, None if value is None else str(value))
        )


def _unpack(name: str, data: bytes, out: list[Problem]) -> dict[str, bytes] | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        out.append(
            Problem(name, None, None, "not a zip file (a OneRoster export is a zip of CSV files)")
        )
        return None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if sum(i.file_size for i in infos) > MAX_UNPACKED:
            out.append(
                Problem(name, None, None, "the zip unpacks to more than 4 GiB; refused unread")
            )
            return None
        names = {i.filename: i for i in infos}
        if spec.MANIFEST not in names:
            out.append(
                Problem(
                    name,
                    None,
                    None,
                    "not a OneRoster package: no manifest.csv at the top of the zip",
                    ", ".join(sorted(names)[:5]) or None,
                )
            )
            return None
        files: dict[str, bytes] = {}
        for entry, info in names.items():
            if "/" in entry.strip("/") or not entry.lower().endswith(".csv"):
                continue
            files[entry] = archive.read(info)
        return files


def _table(
    c: _Checker, file: str, data: bytes, kind: str, mode: str, has_roles: bool
) -> _Table | None:
    raw = read_csv(file, data)
    if isinstance(raw, list):
        c.problems.extend(raw)
        return None
    required, known = spec.FILES[kind]
    if kind == "users" and not has_roles:
        required = (*required, "role")
    header = list(raw.header)
    ok = True
    seen: set[str] = set()
    for position, cell in enumerate(header):
        if cell in seen:
            c.add(file, 1, cell, "a second column of this name", cell)
            ok = False
        seen.add(cell)
        if cell not in required and cell not in known and not cell.startswith("metadata."):
            c.add(
                file, 1, cell or f"#{position + 1}", f"not a column of OneRoster {kind}.csv", cell
            )
            ok = False
    for column in required:
        if column not in seen:
            c.add(file, 1, column, "missing required column")
            ok = False
    if not ok:
        return None
    width = len(header)
    rows: list[dict[str, str | None]] = []
    for record in raw.cells.iter_rows(named=True):
        if record[FIELDS] != width:
            c.add(file, record[LINE], None, f"{record[FIELDS]} fields; the header has {width}")
            continue
        row: dict[str, str | None] = {h: record[f"c{i}"] for i, h in enumerate(header)}
        row["_line"] = record[LINE]
        rows.append(row)
    table = _Table(file, rows, mode)
    _common(c, table)
    return table


def _line(row: dict[str, str | None]) -> int:
    return int(row["_line"])  # type: ignore[arg-type]


def _common(c: _Checker, table: _Table) -> None:
    """sourcedId present and unique; status and dateLastModified as the file's mode wants."""
    first: dict[str, int] = {}
    for row in table.rows:
        line = _line(row)
        sid = row.get("sourcedId")
        if sid is None:
            c.add(table.file, line, "sourcedId", "blank sourcedId")
        elif sid in first:
            c.add(
                table.file,
                line,
                "sourcedId",
                f"duplicate sourcedId, first on line {first[sid]}",
                sid,
            )
        else:
            first[sid] = line
        status = row.get("status")
        if table.mode == "delta":
            if status is None:
                c.add(table.file, line, "status", "blank; a delta file gives active or tobedeleted")
            elif status not in spec.STATUSES:
                c.add(table.file, line, "status", "not active or tobedeleted", status)
        elif status is not None and status != "active":
            c.add(
                table.file,
                line,
                "status",
                "a bulk file lists active records only (delete through a delta file)",
                status,
            )
        modified = row.get("dateLastModified")
        if modified is None:
            if table.mode == "delta":
                c.add(table.file, line, "dateLastModified", "blank; a delta file dates every row")
        elif _modified(modified) is None:
            c.add(
                table.file,
                line,
                "dateLastModified",
                "not an ISO 8601 date-time (2026-08-20T00:00:00.000Z)",
                modified,
            )


def _modified(text: str) -> date | None:
    match = _DATETIME.match(text)
    if match is None:
        return None
    return _parse_date(match.group(1))


def _parse_date(text: str | None) -> date | None:
    if text is None or not _DATE.match(text):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None


def _date(c: _Checker, table: _Table, row: dict[str, str | None], column: str) -> date | None:
    text = row.get(column)
    if text is None:
        return None
    value = _parse_date(text)
    if value is None:
        message = "no such date" if _DATE.match(text) else "not a date (YYYY-MM-DD)"
        c.add(table.file, _line(row), column, message, text)
    return value


def _active(row: dict[str, str | None]) -> bool:
    return row.get("status") != "tobedeleted"


def _list(cell: str | None) -> list[str]:
    return [item.strip() for item in (cell or "").split(",") if item.strip()]


def check_package(
    name: str, data: bytes, stored: Stored, *, id_field: str, caseloads: bool, today: date
) -> Roster:
    """Check one package against the binding and the database; see the module docstring."""
    roster = Roster()
    c = _Checker(name, roster.problems)
    files = _unpack(name, data, roster.problems)
    if files is None:
        return roster
    manifest_file = f"{name}/{spec.MANIFEST}"
    modes = _manifest(c, manifest_file, files[spec.MANIFEST])
    if modes is None:
        return roster
    tables: dict[str, _Table] = {}
    has_roles = modes.get("roles", "absent") != "absent"
    for kind in spec.FILES:
        mode = modes.get(kind, "absent")
        entry = f"{kind}.csv"
        file = f"{name}/{entry}"
        if mode == "absent":
            if entry in files:
                c.add(file, None, None, f"in the zip, but the manifest says file.{kind} is absent")
            continue
        if entry not in files:
            c.add(file, None, None, f"missing: the manifest says file.{kind} is {mode}")
            continue
        table = _table(c, file, files[entry], kind, mode, has_roles)
        if table is not None:
            tables[kind] = table
            roster.rows[file] = len(table.rows)
    if modes.get("enrollments") == "bulk":
        for kind in spec.BULK_REQUIRED:
            if modes.get(kind, "absent") == "absent":
                c.add(
                    manifest_file,
                    None,
                    f"file.{kind}",
                    "a bulk enrollments file needs this file too (bulk or delta)",
                    "absent",
                )
    if roster.problems:
        return roster
    _Build(c, tables, modes, stored, id_field, caseloads, today, roster).run()
    return roster


def _manifest(c: _Checker, file: str, data: bytes) -> dict[str, str] | None:
    raw = read_csv(file, data)
    if isinstance(raw, list):
        c.problems.extend(raw)
        return None
    if list(raw.header) != ["propertyName", "value"]:
        c.add(file, 1, None, "the header must be propertyName,value", ",".join(raw.header))
        return None
    properties: dict[str, tuple[str, int]] = {}
    for record in raw.cells.iter_rows(named=True):
        key, value, line = record["c0"], record["c1"], record[LINE]
        if key is None:
            c.add(file, line, "propertyName", "blank property name")
            continue
        if key in properties:
            c.add(
                file,
                line,
                "propertyName",
                f"a second row for it, first on line {properties[key][1]}",
                key,
            )
            continue
        properties[key] = (value or "", line)
    ok = True
    for key, allowed in (
        ("manifest.version", (spec.MANIFEST_VERSION,)),
        ("oneroster.version", spec.ONEROSTER_VERSIONS),
    ):
        if key not in properties:
            c.add(file, None, "propertyName", f"missing the {key} row")
            ok = False
        elif properties[key][0] not in allowed:
            c.add(
                file,
                properties[key][1],
                "value",
                f"{key} must be " + " or ".join(allowed),
                properties[key][0],
            )
            ok = False
    modes: dict[str, str] = {}
    for key, (value, line) in properties.items():
        if not key.startswith("file."):
            continue
        kind = key.removeprefix("file.")
        if value not in spec.FILE_MODES:
            c.add(file, line, "value", "not bulk, delta or absent", value)
            ok = False
        elif kind in spec.FILES:
            modes[kind] = value
        elif kind not in spec.OTHER_FILES:
            c.add(file, line, "propertyName", "not a file of the OneRoster binding", key)
            ok = False
    return modes if ok else None


@dataclass
class _Student:
    sourced_id: str
    student_id: str
    row: dict[str, str | None]
    grade: int | None


class _Build:
    """The cross-file checks and the rows to write."""

    def __init__(
        self,
        c: _Checker,
        tables: dict[str, _Table],
        modes: dict[str, str],
        stored: Stored,
        id_field: str,
        caseloads: bool,
        today: date,
        roster: Roster,
    ) -> None:
        self.c, self.tables, self.modes, self.stored = c, tables, modes, stored
        self.id_field, self.caseloads, self.today, self.roster = id_field, caseloads, today, roster
        #: Class sourcedId -> the students it enrolls (for caseloads).
        self.enrolled_in: dict[str, set[str]] = defaultdict(set)
        self.demographics: dict[str, dict[str, object]] = {}

    def _rows(self, kind: str) -> list[dict[str, str | None]]:
        table = self.tables.get(kind)
        return table.rows if table else []

    def _file(self, kind: str) -> str:
        return self.tables[kind].file

    def _id(self, file: str, row: dict[str, str | None]) -> str | None:
        """The Pathwise id of an org or user row (setting `[oneroster] id_field`)."""
        column = (
            "identifier" if self.id_field == "identifier" and row.get("identifier") else "sourcedId"
        )
        value = row.get(column)
        if value is None:
            return None
        if not _ID.match(value):
            self.c.add(
                file,
                _line(row),
                column,
                "not an id Pathwise keeps (printable characters without spaces, at most 64)",
                value,
            )
            return None
        return value

    def run(self) -> None:
        schools = self._schools()
        sessions = self._sessions()
        classes = self._classes(schools, sessions)
        roles = self._roles()
        students = self._students(roles)
        teachers = {sid for sid, kind in roles.items() if spec.teaches(kind)}
        if self.c.problems:
            return
        triples, exits, teaching = self._enrollments(schools, classes, students, teachers, sessions)
        if self.c.problems:
            return
        self._write_rows(schools, classes, students, triples, exits, sessions)
        if self.caseloads:
            self._caseloads(teaching, students)

    # --- orgs ------------------------------------------------------------------------------
    def _schools(self) -> dict[str, tuple[str, dict[str, str | None]]]:
        """Org sourcedId -> (school id, row), for active orgs of type school."""
        out: dict[str, tuple[str, dict[str, str | None]]] = {}
        seen: dict[str, int] = {}
        for row in self._rows("orgs"):
            file, line = self._file("orgs"), _line(row)
            kind = row.get("type")
            if kind not in spec.ORG_TYPES:
                self.c.add(
                    file, line, "type", "not an org type: " + ", ".join(spec.ORG_TYPES), kind
                )
                continue
            if row.get("name") is None:
                self.c.add(file, line, "name", "blank name")
            elif len(row["name"] or "") > _TEXT_LENGTHS["name"]:
                self.c.add(file, line, "name", "longer than 200 characters", row["name"])
            if kind != "school" or not _active(row) or row.get("sourcedId") is None:
                continue
            school_id = self._id(file, row)
            if school_id is None:
                continue
            if school_id in seen:
                self.c.add(
                    file,
                    line,
                    "identifier",
                    f"the same school id as line {seen[school_id]}",
                    school_id,
                )
                continue
            seen[school_id] = line
            out[row["sourcedId"] or ""] = (school_id, row)
        return out

    # --- academicSessions ------------------------------------------------------------------
    def _sessions(self) -> dict[str, tuple[int, date | None, date | None]]:
        out: dict[str, tuple[int, date | None, date | None]] = {}
        for row in self._rows("academicSessions"):
            file, line = self._file("academicSessions"), _line(row)
            kind = row.get("type")
            if kind not in spec.SESSION_TYPES:
                self.c.add(
                    file, line, "type", "not a session type: " + ", ".join(spec.SESSION_TYPES), kind
                )
            start = _date(self.c, self.tables["academicSessions"], row, "startDate")
            end = _date(self.c, self.tables["academicSessions"], row, "endDate")
            if start and end and end < start:
                self.c.add(file, line, "endDate", "before startDate", row["endDate"])
            year_text = row.get("schoolYear")
            if year_text is None or not _YEAR.match(year_text):
                self.c.add(
                    file,
                    line,
                    "schoolYear",
                    "not a year (YYYY, the year the school year ends)",
                    year_text,
                )
                continue
            year = int(year_text)
            if start and school_year_of(start) != year:
                self.c.add(
                    file,
                    line,
                    "startDate",
                    f"not in school year {year} (August {year - 1} to July {year})",
                    row["startDate"],
                )
            if row.get("sourcedId"):
                out[row["sourcedId"] or ""] = (year, start, end)
        return out

    # --- classes ---------------------------------------------------------------------------
    def _classes(self, schools: dict, sessions: dict) -> dict[str, tuple[str, int, list[int]]]:
        """Class sourcedId -> (org sourcedId, school year, grades)."""
        out: dict[str, tuple[str, int, list[int]]] = {}
        for row in self._rows("classes"):
            file, line = self._file("classes"), _line(row)
            school = row.get("schoolSourcedId")
            if school not in schools:
                self.c.add(
                    file,
                    line,
                    "schoolSourcedId",
                    "no active school org with this sourcedId in orgs.csv",
                    school,
                )
                continue
            terms = _list(row.get("termSourcedIds"))
            years = set()
            for term in terms:
                if term not in sessions:
                    self.c.add(
                        file,
                        line,
                        "termSourcedIds",
                        "no academic session with this sourcedId",
                        term,
                    )
                else:
                    years.add(sessions[term][0])
            if not terms:
                self.c.add(file, line, "termSourcedIds", "blank; a class names its terms")
            if len(years) > 1:
                self.c.add(
                    file,
                    line,
                    "termSourcedIds",
                    "terms of different school years",
                    row["termSourcedIds"],
                )
            grades = []
            for code in _list(row.get("grades")):
                grade = self._grade(file, line, "grades", code)
                if grade is not None:
                    grades.append(grade)
            if len(years) == 1 and row.get("sourcedId"):
                out[row["sourcedId"] or ""] = (school or "", years.pop(), grades)
        return out

    def _grade(self, file: str, line: int, column: str, code: str) -> int | None:
        if code in spec.GRADES:
            return spec.GRADES[code]
        if code in spec.GRADES_NOT_KEPT:
            message = "a grade Pathwise does not keep (PK, TK, KG, 01..12)"
        else:
            message = "not a grade code (CEDS: PK, TK, KG, 01..12, ...)"
        self.c.add(file, line, column, message, code)
        return None

    # --- roles -----------------------------------------------------------------------------
    def _roles(self) -> dict[str, str]:
        """User sourcedId -> role (users.csv `role`, else the primary role in roles.csv)."""
        out: dict[str, str] = {}
        for row in self._rows("roles"):
            file, line = self._file("roles"), _line(row)
            role, kind = row.get("role"), row.get("roleType")
            if role not in spec.USER_ROLES:
                self.c.add(file, line, "role", "not a OneRoster role", role)
                continue
            if kind not in spec.ROLE_TYPES:
                self.c.add(file, line, "roleType", "not primary or secondary", kind)
                continue
            user = row.get("userSourcedId") or ""
            if _active(row) and (kind == "primary" or user not in out):
                out[user] = role
        users = {row.get("sourcedId") for row in self._rows("users")}
        if "roles" in self.tables:
            for row in self._rows("roles"):
                if row.get("userSourcedId") not in users and self.tables["users"].mode == "bulk":
                    self.c.add(
                        self._file("roles"),
                        _line(row),
                        "userSourcedId",
                        "no user with this sourcedId in users.csv",
                        row.get("userSourcedId"),
                    )
        for row in self._rows("users"):
            role = row.get("role")
            if "role" in row and role is not None:
                if role not in spec.USER_ROLES:
                    self.c.add(
                        self._file("users"), _line(row), "role", "not a OneRoster role", role
                    )
                    continue
                out[row.get("sourcedId") or ""] = role
            elif "role" in row and "roles" not in self.tables:
                self.c.add(self._file("users"), _line(row), "role", "blank role")
        return out

    # --- users and demographics ------------------------------------------------------------
    def _students(self, roles: dict[str, str]) -> dict[str, _Student]:
        out: dict[str, _Student] = {}
        seen: dict[str, int] = {}
        for row in self._rows("users"):
            sid = row.get("sourcedId")
            if sid is None or not spec.is_enrolled_student(roles.get(sid)) or not _active(row):
                continue
            file, line = self._file("users"), _line(row)
            for column in ("givenName", "familyName"):
                value = row.get(column)
                if value is None:
                    self.c.add(file, line, column, "blank; a student's name is needed")
                elif len(value) > _TEXT_LENGTHS[column]:
                    self.c.add(
                        file, line, column, f"longer than {_TEXT_LENGTHS[column]} characters", value
                    )
            student_id = self._id(file, row)
            if student_id is None:
                continue
            if student_id in seen:
                self.c.add(
                    file,
                    line,
                    "identifier",
                    f"the same student id as line {seen[student_id]}",
                    student_id,
                )
                continue
            seen[student_id] = line
            codes = _list(row.get("grades"))
            grade = None
            if len(codes) > 1:
                self.c.add(file, line, "grades", "more than one grade for a student", row["grades"])
            elif codes:
                grade = self._grade(file, line, "grades", codes[0])
            out[sid] = _Student(sid, student_id, row, grade)
        self._demographics(out)
        return out

    def _demographics(self, students: dict[str, _Student]) -> None:
        if "demographics" not in self.tables:
            return
        table = self.tables["demographics"]
        for row in table.rows:
            sid = row.get("sourcedId")
            line = _line(row)
            values: dict[str, object] = {}
            values["birth_date"] = _date(self.c, table, row, "birthDate")
            sex = row.get("sex")
            if sex is not None and sex not in spec.SEX:
                self.c.add(table.file, line, "sex", "not one of: " + ", ".join(spec.SEX), sex)
            values["gender"] = spec.SEX.get(sex or "")
            flags: dict[str, bool | None] = {}
            for column in (*spec.RACE_COLUMNS, spec.TWO_OR_MORE_COLUMN, spec.HISPANIC_COLUMN):
                cell = row.get(column)
                if cell is None:
                    flags[column] = None
                elif cell.lower() in spec.BOOLEANS:
                    flags[column] = spec.BOOLEANS[cell.lower()]
                else:
                    self.c.add(table.file, line, column, "not true or false", cell)
                    flags[column] = None
            values["race_ethnicity"] = race_ethnicity(flags)
            if sid in students and _active(row):
                self.demographics[sid] = values

    # --- enrollments -----------------------------------------------------------------------
    def _enrollments(self, schools, classes, students, teachers, sessions):  # type: ignore[no-untyped-def]
        """(school-level enrollments by (sourcedId, org, year): [entries, ends, all ended];
        delta exits by (sourcedId, org, year) -> day; classes each teacher teaches)."""
        triples: dict[tuple[str, str, int], list] = {}
        exits: dict[tuple[str, str, int], date] = {}
        teaching: dict[str, set[str]] = defaultdict(set)
        table = self.tables.get("enrollments")
        if table is None:
            return triples, exits, teaching
        file = table.file
        starts = {sid: start for sid, (_, start, _) in sessions.items()}
        class_rows = {r.get("sourcedId"): r for r in self._rows("classes")}
        for row in table.rows:
            line = _line(row)
            role = row.get("role")
            if role not in spec.ENROLLMENT_ROLES:
                self.c.add(
                    file,
                    line,
                    "role",
                    "not an enrollment role: " + ", ".join(spec.ENROLLMENT_ROLES),
                    role,
                )
                continue
            klass = row.get("classSourcedId")
            if klass not in classes:
                self.c.add(
                    file,
                    line,
                    "classSourcedId",
                    "no class with this sourcedId in classes.csv",
                    klass,
                )
                continue
            org, year, _ = classes[klass]
            if row.get("schoolSourcedId") != org:
                self.c.add(
                    file,
                    line,
                    "schoolSourcedId",
                    "not the school of its class",
                    row.get("schoolSourcedId"),
                )
                continue
            begin = _date(self.c, table, row, "beginDate")
            end = _date(self.c, table, row, "endDate")
            if begin and end and end < begin:
                self.c.add(file, line, "endDate", "before beginDate", row["endDate"])
                continue
            user = row.get("userSourcedId") or ""
            if spec.teaches(role):
                if user in teachers and _active(row):
                    teaching[user].add(klass or "")
                continue
            if not spec.is_enrolled_student(role):
                continue
            if user not in students:
                self.c.add(
                    file,
                    line,
                    "userSourcedId",
                    "no active student with this sourcedId in users.csv",
                    user,
                )
                continue
            key = (user, org, year)
            if not _active(row):
                day = _modified(row.get("dateLastModified") or "") or self.today
                exits[key] = max(exits.get(key, day), day)
                continue
            if students[user].grade is None:
                self.c.add(
                    self._file("users"),
                    _line(students[user].row),
                    "grades",
                    "blank; a student enrolled in a class needs a grade",
                )
                continue
            terms = _list(class_rows[klass].get("termSourcedIds"))
            fallback = min((starts[t] for t in terms if starts.get(t)), default=None)
            entry = begin or fallback
            if entry is None:
                self.c.add(
                    file, line, "beginDate", "blank, and the class's terms have no start date"
                )
                continue
            slot = triples.setdefault(key, [[], [], True])
            slot[0].append(entry)
            if end is None:
                slot[2] = False
            else:
                slot[1].append(end)
            self.enrolled_in[klass or ""].add(user)
        return triples, exits, teaching

    # --- rows ------------------------------------------------------------------------------
    def _write_rows(self, schools, classes, students, triples, exits, sessions) -> None:  # type: ignore[no-untyped-def]
        stored_students = {r["student_id"]: r for r in self.stored.students.iter_rows(named=True)}
        stored_schools = {r["school_id"]: r for r in self.stored.schools.iter_rows(named=True)}
        year_ends: dict[int, date] = {}
        for year, _, end in sessions.values():
            if end is not None:
                year_ends[year] = max(year_ends.get(year, end), end)
        # Enrollments from the package.
        enrollment_rows: dict[tuple[str, str, int], dict[str, Any]] = {}
        for (user, org, year), (entries, ends, ended) in triples.items():
            student = students[user]
            school_id = schools[org][0]
            enrollment_rows[(student.student_id, school_id, year)] = {
                "student_id": student.student_id,
                "school_year": year,
                "school_id": school_id,
                "grade_level": student.grade,
                "entry_date": min(entries),
                "exit_date": max(ends) if ended and ends else None,
                "exit_code": None,
            }
        stored_enrollments = {
            (r["student_id"], r["school_id"], r["school_year"]): r
            for r in self.stored.enrollments.iter_rows(named=True)
        }
        for key, row in enrollment_rows.items():
            if key in stored_enrollments:
                row["exit_code"] = (
                    stored_enrollments[key]["exit_code"] if row["exit_date"] else None
                )
        # Delta: enrollments to be deleted end the school-level enrollment.
        for (user, org, year), day in exits.items():
            key = (students[user].student_id, schools[org][0], year)
            if key in enrollment_rows or key not in stored_enrollments:
                continue
            stored = stored_enrollments[key]
            if stored["exit_date"] is None:
                enrollment_rows[key] = {**stored, "exit_date": max(day, stored["entry_date"])}
        # Bulk: stored enrollments of the covered years and schools that left get an exit date.
        if self.tables["enrollments"].mode == "bulk" if "enrollments" in self.tables else False:
            years = {year for _, _, year in enrollment_rows}
            package_schools = {school_id for school_id, _ in schools.values()}
            for key, stored in stored_enrollments.items():
                _, school_id, year = key
                if (
                    year in years
                    and school_id in package_schools
                    and key not in enrollment_rows
                    and stored["exit_date"] is None
                ):
                    day = min(self.today, year_ends.get(year, self.today))
                    enrollment_rows[key] = {**stored, "exit_date": max(day, stored["entry_date"])}
        # Students: the latest enrollment of each gives a new student's school and grade.
        latest: dict[str, tuple[int, bool, date, str, int]] = {}
        for row in enrollment_rows.values():
            sid = str(row["student_id"])
            rank = (
                int(row["school_year"]),
                row["exit_date"] is None,
                row["entry_date"],
                str(row["school_id"]),
                int(row["grade_level"]),
            )
            if sid not in latest or rank[:3] > latest[sid][:3]:
                latest[sid] = rank
        student_rows = []
        for student in students.values():
            sid = student.student_id
            known = stored_students.get(sid)
            if known is None and sid not in latest:
                continue  # a student the package does not enroll anywhere: not Pathwise's
            row = (
                dict(known)
                if known
                else {
                    "english_learner": None,
                    "disability": None,
                    "econ_disadvantaged": None,
                    "birth_date": None,
                    "gender": None,
                    "race_ethnicity": None,
                }
            )
            row["student_id"] = sid
            row["first_name"] = student.row.get("givenName")
            row["last_name"] = student.row.get("familyName")
            if sid in latest:
                year, _, _, school_id, grade = latest[sid]
                row["school_id"] = school_id
                row["grade_level"] = grade
                if known is None:
                    row["cohort_year"] = year + 12 - grade
            if student.sourced_id in self.demographics:
                row.update(self.demographics[student.sourced_id])
            student_rows.append(row)
        # Schools: a new school's grades from its classes and enrolled students.
        grades: dict[str, list[int]] = defaultdict(list)
        for org, _, class_grades in classes.values():
            grades[schools[org][0]].extend(class_grades)
        for row in enrollment_rows.values():
            if row["grade_level"] is not None:
                grades[str(row["school_id"])].append(int(row["grade_level"]))
        school_rows = []
        for school_id, org_row in schools.values():
            held = stored_schools.get(school_id)
            if held is None and not grades[school_id]:
                self.c.add(
                    self._file("orgs"),
                    _line(org_row),
                    "sourcedId",
                    "a new school needs its grades: none of its classes or students has one",
                    org_row.get("sourcedId"),
                )
                continue
            school_rows.append(
                {
                    "school_id": school_id,
                    "school_name": org_row.get("name"),
                    "low_grade": held["low_grade"] if held else min(grades[school_id]),
                    "high_grade": held["high_grade"] if held else max(grades[school_id]),
                }
            )
        self.roster.schools = _frame(school_rows, self.stored.schools.schema)
        self.roster.students = _frame(student_rows, self.stored.students.schema)
        self.roster.enrollments = _frame(
            list(enrollment_rows.values()), self.stored.enrollments.schema
        )

    # --- caseloads -------------------------------------------------------------------------
    def _caseloads(self, teaching: dict[str, set[str]], students: dict[str, _Student]) -> None:
        emails = set(self.stored.users.get_column("email").to_list())
        users = {row.get("sourcedId"): row for row in self._rows("users")}
        enrolled = self.enrolled_in
        pairs: set[tuple[str, str]] = set()
        named: set[str] = set()
        for teacher, klasses in teaching.items():
            row = users[teacher]
            email = (row.get("email") or "").lower()
            if not email or not _EMAIL.match(email):
                self.c.add(
                    self._file("users"),
                    _line(row),
                    "email",
                    "a teacher needs an email to match a Pathwise user",
                    row.get("email"),
                )
                continue
            if email not in emails:
                self.c.add(
                    self._file("users"),
                    _line(row),
                    "email",
                    "no Pathwise user with this email (add the teacher first, or turn [oneroster] teacher_caseloads off)",
                    row.get("email"),
                )
                continue
            named.add(email)
            for klass in klasses:
                for user in enrolled.get(klass, ()):
                    pairs.add((email, students[user].student_id))
        self.roster.caseloads = pl.DataFrame(
            sorted(pairs), schema={"user_email": pl.String, "student_id": pl.String}, orient="row"
        )
        if self.tables["enrollments"].mode == "bulk":
            self.roster.replace_caseloads_of = tuple(sorted(named))


def race_ethnicity(flags: dict[str, bool | None]) -> str | None:
    """Pathwise's one race/ethnicity code from OneRoster's booleans, by the U.S. Department
    of Education's aggregation (72 FR 59266, 2007): Hispanic or Latino of any race ->
    `hispanic`; else two or more races (the two-or-more column, or more than one race
    true) -> `two_or_more`; else the one race that is true; else unknown (None)."""
    if flags.get(spec.HISPANIC_COLUMN):
        return "hispanic"
    races = [code for column, code in spec.RACE_COLUMNS.items() if flags.get(column)]
    if flags.get(spec.TWO_OR_MORE_COLUMN) or len(races) > 1:
        return "two_or_more"
    return races[0] if races else None


def _frame(rows: Iterable[dict[str, object]], schema: pl.Schema) -> pl.DataFrame:
    return (
        pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row")
        if rows
        else pl.DataFrame(schema=schema)
    )
