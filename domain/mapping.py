"""Column mappings: how a state's FAFSA file or a partner's service export becomes `fafsa` or
`services` rows (docs/import-format.md, "Files in other systems' shapes").

A mapping names, for each target column, the file's column it is read from, and for the
columns with a vocabulary (a FAFSA status, a service type, an attendance status, a unit,
a school) which value of the file means which vocabulary value. Values not listed are
errors, never guessed. A mapping may also fix one value for the whole file (`award_year`
of a state file for one aid year, `org_id` and `service_type` of one partner's program).

The same mapping is a TOML file for the command line and rows in the database, edited on
the Administration page; `parse_toml` and `to_toml` convert, `problems` checks a mapping
on its own and `header_problems` against a file's header. Pure: no I/O.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any, Final

from domain.import_format import YES_NO_VALUES
from domain.vocabulary import FAFSA_STATUSES, SERVICE_TYPES

TARGETS: Final = ("fafsa", "services")

#: Columns that identify a student when the file has no district id (record matching).
IDENTITY: Final = ("student_id", "first_name", "last_name", "birth_date", "school_id")
#: The flags states' FAFSA files carry (NCAN; North Carolina's Finish the FAFSA report).
FAFSA_FLAGS: Final = ("selected_for_verification", "student_signed", "parent_signed")
#: Attendance of one delivered session (PMM `AttendanceStatus__c`: Present, Unexcused
#: Absence, Excused Absence): only a `present` session counts.
ATTENDANCE: Final = ("present", "absent")
#: Units of a session's quantity (PMM `UnitOfMeasurement__c` is free text per service).
UNITS: Final = ("hours", "minutes", "sessions")

#: Target columns of each target file, in the order the Administration page lists them.
TARGET_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "fafsa": (*IDENTITY, "award_year", "status", "status_date", *FAFSA_FLAGS),
    "services": (
        *IDENTITY,
        "source_key",
        "org_id",
        "service_type",
        "start_date",
        "end_date",
        "sessions",
        "hours",
        "delivery_date",
        "quantity",
        "unit",
        "attendance",
    ),
}
#: The vocabulary a mapped value must come from (school_id: any id, listed by the steward).
VOCABULARY: Final[dict[str, tuple[str, ...]]] = {
    "status": FAFSA_STATUSES,
    "service_type": SERVICE_TYPES,
    "attendance": ATTENDANCE,
    "unit": UNITS,
    **dict.fromkeys(FAFSA_FLAGS, ("Y", "N")),
}
#: Columns whose file values must each be listed in the mapping (no value passes unmapped).
VALUES_REQUIRED: Final = ("status", "service_type", "attendance", "unit")
#: Fixed values a mapping may give for the whole file instead of a column.
CONSTANTS: Final[dict[str, tuple[str, ...]]] = {
    "fafsa": ("award_year",),
    "services": ("org_id", "service_type"),
}


@dataclass(frozen=True)
class Mapping:
    """One saved mapping. `columns`: target column -> the file's column (as written in its
    header; matched without regard to case and surrounding spaces). `values`: target
    column -> (the file's value -> vocabulary value). Constants apply to every row."""

    name: str
    target: str
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    award_year: int | None = None
    org_id: str | None = None
    service_type: str | None = None
    #: How the file writes dates (strftime, e.g. `%m/%d/%Y`); None: `YYYY-MM-DD`.
    date_format: str | None = None

    @property
    def matches_records(self) -> bool:
        """Whether rows are matched on name, birth date and school (no district id mapped)."""
        return "student_id" not in self.columns

    @property
    def deliveries(self) -> bool:
        """Whether a services file has one row per session (rolled up into periods)."""
        return self.target == "services" and "delivery_date" in self.columns

    def constant(self, column: str) -> object:
        return {
            "award_year": self.award_year,
            "org_id": self.org_id,
            "service_type": self.service_type,
        }.get(column)

    def translate(self, column: str, cell: str) -> str | None:
        """The vocabulary value of `cell` in `column`, or None when the mapping does not list
        it (a yes/no flag also accepts the import format's own yes/no words)."""
        listed = self.values.get(column, {})
        for source, value in listed.items():
            if source.strip().casefold() == cell.strip().casefold():
                return value
        if column in FAFSA_FLAGS and cell.strip().lower() in YES_NO_VALUES:
            return "Y" if YES_NO_VALUES[cell.strip().lower()] else "N"
        if column in VALUES_REQUIRED:
            return None
        return cell if not listed else None


def required_columns(mapping: Mapping) -> tuple[str, ...]:
    """Target columns the mapping must fill (from a column or a constant)."""
    identity = ("first_name", "last_name", "birth_date") if mapping.matches_records else ()
    if mapping.target == "fafsa":
        return (*identity, "award_year", "status")
    when = ("delivery_date",) if mapping.deliveries else ("start_date",)
    return (*identity, "org_id", "service_type", *when)


def problems(mapping: Mapping) -> list[str]:
    """What is wrong with a mapping on its own (empty when it is usable)."""
    found: list[str] = []
    if not mapping.name.strip():
        found.append("the mapping has no name")
    if mapping.target not in TARGETS:
        return [*found, f"target must be one of {', '.join(TARGETS)} ({mapping.target})"]
    known = TARGET_COLUMNS[mapping.target]
    for column in mapping.columns:
        if column not in known:
            found.append(f"unknown target column for {mapping.target} ({column})")
    for column in required_columns(mapping):
        if column not in mapping.columns and mapping.constant(column) is None:
            found.append(f"required column {column} is not mapped")
    for column, listed in mapping.values.items():
        if column not in known:
            found.append(f"values for an unknown target column ({column})")
            continue
        vocabulary = VOCABULARY.get(column)
        for source, value in listed.items():
            if vocabulary is not None and value not in vocabulary:
                found.append(
                    f"{column}: {source!r} maps to {value!r}, not one of {', '.join(vocabulary)}"
                )
    if mapping.service_type is not None and mapping.service_type not in SERVICE_TYPES:
        found.append(f"service_type must be one of {', '.join(SERVICE_TYPES)}")
    if mapping.target == "services" and not mapping.deliveries:
        for column in ("quantity", "unit", "attendance"):
            if column in mapping.columns:
                found.append(f"{column} needs delivery_date (one row per session)")
    return found


def header_problems(mapping: Mapping, header: tuple[str, ...]) -> list[tuple[str, str]]:
    """(column, message) for each mapped source column the file's header lacks."""
    written = {h.strip().casefold() for h in header}
    return [
        (source, f"missing column mapped to {target} by mapping {mapping.name}")
        for target, source in mapping.columns.items()
        if source.strip().casefold() not in written
    ]


def parse_toml(text: str, default_name: str = "") -> Mapping:
    """A mapping from its TOML form (see docs/import-format.md); raises ValueError."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"not a TOML mapping: {error}") from error
    unknown = set(data) - {"name", "target", "columns", "values", "date_format", "award_year"}
    unknown -= set(CONSTANTS["services"])
    if unknown:
        raise ValueError(f"unknown keys in the mapping: {', '.join(sorted(unknown))}")
    columns = data.get("columns", {})
    values = data.get("values", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise ValueError("[columns] must map target columns to the file's column names")
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise ValueError("[values.COLUMN] tables must map the file's values to Pathwise's")
    award_year = data.get("award_year")
    if award_year is not None and not isinstance(award_year, int):
        raise ValueError("award_year must be a whole number (2026 for 2026-27)")
    return Mapping(
        name=str(data.get("name", default_name)),
        target=str(data.get("target", "")),
        columns={str(k): str(v) for k, v in columns.items()},
        values={str(k): {str(s): str(t) for s, t in v.items()} for k, v in values.items()},
        award_year=award_year,
        org_id=data.get("org_id"),
        service_type=data.get("service_type"),
        date_format=data.get("date_format"),
    )


def _quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def to_toml(mapping: Mapping) -> str:
    """The TOML form of a mapping (`parse_toml(to_toml(m)) == m`)."""
    lines = [f"name = {_quoted(mapping.name)}", f"target = {_quoted(mapping.target)}"]
    if mapping.award_year is not None:
        lines.append(f"award_year = {mapping.award_year}")
    if mapping.date_format is not None:
        lines.append(f"date_format = {_quoted(mapping.date_format)}")
    for key in ("org_id", "service_type"):
        value = mapping.constant(key)
        if value is not None:
            lines.append(f"{key} = {_quoted(str(value))}")
    lines += ["", "[columns]"]
    lines += [f"{target} = {_quoted(source)}" for target, source in mapping.columns.items()]
    for column, listed in mapping.values.items():
        lines += ["", f"[values.{column}]"]
        lines += [f"{_quoted(source)} = {_quoted(value)}" for source, value in listed.items()]
    return "\n".join(lines) + "\n"
