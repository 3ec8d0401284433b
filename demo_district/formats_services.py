"""The demo district's services as partners export them (issue 15).

Two exports, each with the mapping that reads it:

- `pmm-service-deliveries.csv`: a Salesforce Program Management Module report of service
  deliveries, one row per session (`ServiceDelivery__c`: Contact, Service, Delivery Date,
  Quantity, Unit of Measurement, Attendance Status), with the contact's name and birth date
  and the program engagement's end date. Every service whose sessions the partner counts
  (sessions >= 1, hours known) and whose sessions can be spread with gaps of at most
  `service_period_gap_days` is written as that many sessions: evenly from its start to its
  end (or onwards, while still open), the hours split in quarter hours, and an excused
  absence now and then (dropped by the roll-up). Rolled up, they give the service back.
- `apricot-program-enrollments.csv`: an Apricot (Bonterra Case Management) program-enrollment
  report, one row per enrollment (start and end date, sessions and hours where counted), for
  every other service.

Neither carries the district's student id: partners know a student by name and birth
date, and by their own contact or participant id.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import polars as pl

from demo_district.formats_fafsa import demo_tables
from demo_district.generate import DemoSpec
from domain.mapping import Mapping, to_toml
from domain.vocabulary import SERVICE_TYPES

PMM_FILE: Final = "pmm-service-deliveries.csv"
APRICOT_FILE: Final = "apricot-program-enrollments.csv"
PMM_MAPPING: Final = "pmm-service-deliveries"
APRICOT_MAPPING: Final = "apricot-program-enrollments"
GAP_DAYS: Final = 30
#: The partner's name for each service type (a PMM Service record's name).
SERVICE_NAMES: Final = {t: t.replace("_", " ").title() + " Program" for t in SERVICE_TYPES}

PMM_COLUMNS: Final = {
    "source_key": "Contact: Contact ID",
    "first_name": "Contact: First Name",
    "last_name": "Contact: Last Name",
    "birth_date": "Contact: Birthdate",
    "org_id": "Service Provider: Account Name",
    "service_type": "Service: Service Name",
    "delivery_date": "Delivery Date",
    "quantity": "Quantity",
    "unit": "Unit of Measurement",
    "attendance": "Attendance Status",
    "end_date": "Program Engagement: End Date",
}
APRICOT_COLUMNS: Final = {
    "source_key": "Participant ID",
    "first_name": "First Name",
    "last_name": "Last Name",
    "birth_date": "Date of Birth",
    "org_id": "Site",
    "service_type": "Program",
    "start_date": "Enrollment Start Date",
    "end_date": "Enrollment End Date",
    "sessions": "Sessions Attended",
    "hours": "Hours of Service",
}


def _contact_id(student_id: str, org_id: str) -> str:
    """A partner's own id for a student (Salesforce Contact ids start with 003)."""
    return "003" + hashlib.sha256(f"{org_id}:{student_id}".encode()).hexdigest()[:15].upper()


def _org_values(organizations: pl.DataFrame) -> dict[str, str]:
    return dict(
        zip(organizations["org_name"].to_list(), organizations["org_id"].to_list(), strict=True)
    )


def pmm_mapping(organizations: pl.DataFrame) -> Mapping:
    return Mapping(
        name=PMM_MAPPING,
        target="services",
        columns=dict(PMM_COLUMNS),
        values={
            "org_id": _org_values(organizations),
            "service_type": {name: t for t, name in SERVICE_NAMES.items()},
            "unit": {"Hours": "hours", "Minutes": "minutes", "Sessions": "sessions"},
            "attendance": {
                "Present": "present",
                "Excused Absence": "absent",
                "Unexcused Absence": "absent",
            },
        },
    )


def apricot_mapping(organizations: pl.DataFrame) -> Mapping:
    return Mapping(
        name=APRICOT_MAPPING,
        target="services",
        columns=dict(APRICOT_COLUMNS),
        values={
            "org_id": _org_values(organizations),
            "service_type": {name: t for t, name in SERVICE_NAMES.items()},
        },
    )


def _sessions(row: dict[str, object], today: date) -> list[tuple[date, float, str]] | None:
    """The sessions (date, hours, attendance) of one service, or None when it cannot be
    written session by session so that the roll-up gives it back."""
    sessions, hours = row["sessions"], row["hours"]
    start, end = row["start_date"], row["end_date"]
    assert isinstance(start, date)
    if not isinstance(sessions, int) or sessions < 1 or not isinstance(hours, float):
        return None
    if end is None:
        until = start + timedelta(days=min(max((today - start).days, 0), GAP_DAYS * (sessions - 1)))
    else:
        assert isinstance(end, date)
        until = end
    span = (until - start).days
    if sessions == 1 and span != 0 and end is not None:
        return None
    if sessions > 1 and span > GAP_DAYS * (sessions - 1):
        return None
    quarters = round(hours * 4)
    out = []
    for i in range(sessions):
        day = start + timedelta(days=round(i * span / (sessions - 1)) if sessions > 1 else 0)
        share = quarters // sessions + (1 if i < quarters % sessions else 0)
        out.append((day, share / 4, "Present"))
    if sessions > 2 and sum(ord(c) for c in str(row["student_id"])) % 5 == 0:
        out.insert(1, (out[1][0], 0.0, "Excused Absence"))
    return out


def _split(spec: DemoSpec) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(services with the student's names, the services written session by session, orgs)."""
    tables = demo_tables(spec, ("students", "services", "organizations"))
    services = (
        tables["services"]
        .join(
            tables["students"].select("student_id", "first_name", "last_name", "birth_date"),
            on="student_id",
        )
        .join(tables["organizations"].select("org_id", "org_name"), on="org_id")
        .sort("org_id", "student_id", "service_type", "start_date")
    )
    return services, tables["organizations"], tables["students"]


def delivery_rows(spec: DemoSpec) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(the PMM export's rows, the services it holds, the services left for Apricot)."""
    services, organizations, _ = _split(spec)
    rows: list[dict[str, object]] = []
    written: list[bool] = []
    for service in services.iter_rows(named=True):
        sessions = _sessions(service, spec.today)
        written.append(sessions is not None)
        for day, hours, attendance in sessions or []:
            rows.append(
                {
                    PMM_COLUMNS["source_key"]: _contact_id(
                        service["student_id"], service["org_id"]
                    ),
                    PMM_COLUMNS["first_name"]: service["first_name"],
                    PMM_COLUMNS["last_name"]: service["last_name"],
                    PMM_COLUMNS["birth_date"]: service["birth_date"].isoformat(),
                    PMM_COLUMNS["org_id"]: service["org_name"],
                    PMM_COLUMNS["service_type"]: SERVICE_NAMES[service["service_type"]],
                    PMM_COLUMNS["delivery_date"]: day.isoformat(),
                    PMM_COLUMNS["quantity"]: f"{hours:g}",
                    PMM_COLUMNS["unit"]: "Hours",
                    PMM_COLUMNS["attendance"]: attendance,
                    PMM_COLUMNS["end_date"]: service["end_date"].isoformat()
                    if service["end_date"]
                    else None,
                }
            )
    mask = pl.Series(written, dtype=pl.Boolean)
    frame = pl.DataFrame(rows, schema=dict.fromkeys(PMM_COLUMNS.values(), pl.String))
    return frame, services.filter(mask), services.filter(~mask)


def write_pmm_services(demo: DemoSpec, directory: Path) -> Path:
    """Write the PMM-style service delivery export (and its mapping); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    frame, _, _ = delivery_rows(demo)
    _, organizations, _ = _split(demo)
    path = directory / PMM_FILE
    frame.write_csv(path)
    (directory / f"{PMM_MAPPING}.toml").write_text(
        to_toml(pmm_mapping(organizations)), encoding="utf-8"
    )
    return path


def write_apricot_services(demo: DemoSpec, directory: Path) -> Path:
    """Write the Apricot-style program-enrollment report of the services the PMM export
    does not hold (and its mapping); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    _, _, rest = delivery_rows(demo)
    _, organizations, _ = _split(demo)
    out = rest.select(
        pl.struct("student_id", "org_id")
        .map_elements(lambda s: _contact_id(s["student_id"], s["org_id"]), return_dtype=pl.String)
        .alias(APRICOT_COLUMNS["source_key"]),
        pl.col("first_name").alias(APRICOT_COLUMNS["first_name"]),
        pl.col("last_name").alias(APRICOT_COLUMNS["last_name"]),
        pl.col("birth_date").dt.strftime("%Y-%m-%d").alias(APRICOT_COLUMNS["birth_date"]),
        pl.col("org_name").alias(APRICOT_COLUMNS["org_id"]),
        pl.col("service_type").replace_strict(SERVICE_NAMES).alias(APRICOT_COLUMNS["service_type"]),
        pl.col("start_date").dt.strftime("%Y-%m-%d").alias(APRICOT_COLUMNS["start_date"]),
        pl.col("end_date").dt.strftime("%Y-%m-%d").alias(APRICOT_COLUMNS["end_date"]),
        pl.col("sessions").cast(pl.String).alias(APRICOT_COLUMNS["sessions"]),
        pl.col("hours")
        .map_elements(lambda h: f"{h:g}", return_dtype=pl.String)
        .alias(APRICOT_COLUMNS["hours"]),
    )
    path = directory / APRICOT_FILE
    out.write_csv(path)
    (directory / f"{APRICOT_MAPPING}.toml").write_text(
        to_toml(apricot_mapping(organizations)), encoding="utf-8"
    )
    return path
