"""Mapped files on a small world, on both databases: strict problems naming the file's own
column, nothing written; the review queue and its resolution; partner staff only for
their own organisation."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Table, func, select

from data_access.bulk import read_table
from data_access.importing import ImportRejected, import_files
from data_access.mapped_import import REVIEW_TABLE, MappedResult, import_mapped, open_reviews
from data_access.mappings import InvalidResolution, load_mapping, resolve, save_mapping
from data_access.models import AuditEvent, Fafsa, Service, table_of
from data_access.policy import Principal, operator
from domain.mapping import Mapping, parse_toml, to_toml
from domain.vocabulary import Role
from tests.importing.conftest import csv

TODAY = date(2026, 2, 1)
STEWARD = operator(TODAY, "tester")
WORLD = {
    "schools.csv": csv("school_id,school_name,low_grade,high_grade", "HS1,First High,9,12"),
    "organizations.csv": csv(
        "org_id,org_name,org_type,service_types",
        "ORG1,Mentors,community,mentoring",
        "ORG2,Tutors,community,academic",
    ),
    "students.csv": csv(
        "student_id,first_name,last_name,school_id,grade_level,cohort_year,birth_date",
        "S1,Ana,Lopez,HS1,12,2026,2008-01-05",
        "S2,Ben,Okafor,HS1,12,2026,2008-02-06",
        "S3,Maria,Diaz,HS1,12,2026,2008-03-07",
        "S4,Mario,Diaz,HS1,12,2026,2008-03-07",
    ),
}
FAFSA_MAPPING = Mapping(
    name="state",
    target="fafsa",
    columns={
        "last_name": "Last",
        "first_name": "First",
        "birth_date": "DOB",
        "status": "Status",
        "status_date": "Date",
        "student_signed": "Student Signed",
    },
    values={"status": {"Complete": "completed", "Submitted": "submitted"}},
    award_year=2026,
    date_format="%m/%d/%Y",
)
STATE_FILE = csv(
    "Last,First,DOB,Status,Date,Student Signed",
    "Lopez,Ana,01/05/2008,Complete,01/20/2026,Y",
    "Okafr,Ben,02/06/2008,Submitted,01/21/2026,N",
    "Diaz,Marie,03/07/2008,Complete,01/22/2026,Y",
)


@pytest.fixture
def world(engine: Engine) -> Engine:
    import_files(engine, WORLD)
    return engine


def _import(
    engine: Engine, data: bytes, mapping: Mapping = FAFSA_MAPPING, *, dry_run: bool = False
) -> MappedResult:
    return import_mapped(
        engine,
        "state.csv",
        data,
        mapping,
        principal=STEWARD,
        near=0.85,
        gap_days=30,
        dry_run=dry_run,
    )


def _rows(engine: Engine, table: Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_exact_rows_load_and_the_others_wait_for_review_with_their_counts(world: Engine) -> None:
    result = _import(world, STATE_FILE)
    assert (result.matched, result.ambiguous, result.unmatched, result.queued) == (1, 2, 0, 2)
    loaded = read_table(world, table_of(Fafsa))
    assert loaded.select("student_id", "status", "student_signed").rows() == [
        ("S1", "completed", True)
    ]
    queue = open_reviews(world)
    assert queue.get_column("line").to_list() == [3, 4]
    twins = json.loads(queue.filter(pl.col("line") == 4)["candidates"][0])
    assert {c["student_id"] for c in twins} == {"S3", "S4"}
    with world.connect() as connection:
        actions = connection.execute(select(table_of(AuditEvent).c.action)).scalars().all()
    assert {"import", "match records"} <= set(actions)


def test_a_dry_run_matches_and_counts_but_writes_nothing(world: Engine) -> None:
    result = _import(world, STATE_FILE, dry_run=True)
    assert (result.inserted, result.queued) == (1, 2)
    assert _rows(world, table_of(Fafsa)) == 0 and _rows(world, REVIEW_TABLE) == 0


def test_picking_a_candidate_loads_the_row_and_rejecting_loads_nothing(world: Engine) -> None:
    _import(world, STATE_FILE)
    queue = open_reviews(world)
    misspelt, twins = queue["review_id"].to_list()
    with pytest.raises(InvalidResolution):
        resolve(world, STEWARD, misspelt, "S3")  # not one of its candidates
    assert resolve(world, STEWARD, misspelt, "S2") == 1
    assert resolve(world, STEWARD, twins, None) == 0
    with pytest.raises(InvalidResolution):
        resolve(world, STEWARD, twins, "S3")  # already resolved
    loaded = read_table(world, table_of(Fafsa)).sort("student_id")
    assert loaded.select("student_id", "status").rows() == [
        ("S1", "completed"),
        ("S2", "submitted"),
    ]
    assert open_reviews(world).height == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            csv("Last,First,DOB,Status,Date,Student Signed", "Lopez,Ana,01/05/2008,Done,,Y"),
            "state.csv:2:Status: value not listed for status in mapping state (Done)",
        ),
        (
            csv("Last,First,Status,Date,Student Signed", "Lopez,Ana,Complete,,Y"),
            "state.csv:1:DOB: missing column mapped to birth_date by mapping state",
        ),
        (
            csv("Last,First,DOB,Status,Date,Student Signed", "Lopez,Ana,2008-01-05,Complete,,Y"),
            "state.csv:2:DOB: not a date written %m/%d/%Y (2008-01-05)",
        ),
        (
            csv("Last,First,DOB,Status,Date,Student Signed", "Lopez,Ana,01/05/2008,,,Y"),
            "state.csv:2:Status: required value is blank",
        ),
        (
            csv(
                "Last,First,DOB,Status,Date,Student Signed",
                "Lopez,Ana,01/05/2008,Complete,,Y",
                "Lopez,Ana,01/05/2008,Submitted,,Y",
            ),
            "state.csv:3:student_id+award_year: duplicate key, first on line 2 (S1, 2026)",
        ),
        (
            csv("student_id,org_id,service_type,start_date", "S1,ORG1,mentoring,2026-01-01"),
            "state.csv:1:Last: missing column mapped to last_name by mapping state",
        ),
    ],
    ids=["unknown status", "unmapped column", "wrong date", "blank", "duplicate", "other format"],
)
def test_a_malformed_file_names_file_line_column_and_value_and_writes_nothing(
    world: Engine, data: bytes, expected: str
) -> None:
    with pytest.raises(ImportRejected) as rejected:
        _import(world, data)
    assert expected in [str(p) for p in rejected.value.result.problems]
    assert _rows(world, table_of(Fafsa)) == 0 and _rows(world, REVIEW_TABLE) == 0


def test_a_mapping_without_a_required_column_is_refused_before_reading(world: Engine) -> None:
    columns = {k: v for k, v in FAFSA_MAPPING.columns.items() if k != "status"}
    broken = Mapping("broken", "fafsa", columns, FAFSA_MAPPING.values, award_year=2026)
    with pytest.raises(ImportRejected) as rejected:
        _import(world, STATE_FILE, broken)
    assert "state.csv:-:-: mapping broken: required column status is not mapped" in [
        str(p) for p in rejected.value.result.problems
    ]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    # A NUL byte makes the whole file "not a CSV text file", a problem of the file rather
    # than of its Status cell (the readers' own tests cover it).
    status=st.text(min_size=1, max_size=12).filter(
        lambda s: (
            s.strip()
            and "," not in s
            and '"' not in s
            and "\n" not in s
            and "\r" not in s
            and "\x00" not in s
        )
    )
)
def test_any_status_the_mapping_does_not_list_is_a_problem_never_a_row(
    world: Engine, status: str
) -> None:
    listed = {s.casefold() for s in FAFSA_MAPPING.values["status"]}
    data = csv("Last,First,DOB,Status,Date,Student Signed", f"Lopez,Ana,01/05/2008,{status},,Y")
    if status.strip().casefold() in listed:
        return
    with pytest.raises(ImportRejected) as rejected:
        _import(world, data, dry_run=True)
    assert any(p.column == "Status" and p.line == 2 for p in rejected.value.result.problems)


def test_the_toml_form_and_the_database_give_the_same_mapping(world: Engine) -> None:
    assert parse_toml(to_toml(FAFSA_MAPPING)) == FAFSA_MAPPING
    save_mapping(world, FAFSA_MAPPING, "tester")
    assert load_mapping(world, "state") == FAFSA_MAPPING


SESSIONS = Mapping(
    name="pmm",
    target="services",
    columns={
        "source_key": "Contact",
        "last_name": "Last",
        "first_name": "First",
        "birth_date": "Birthdate",
        "delivery_date": "DeliveryDate",
        "quantity": "Quantity",
        "unit": "UnitOfMeasurement",
        "attendance": "AttendanceStatus",
    },
    values={
        "unit": {"Hours": "hours"},
        "attendance": {"Present": "present", "Unexcused Absence": "absent"},
    },
    org_id="ORG1",
    service_type="mentoring",
)
PMM_FILE = csv(
    "Contact,Last,First,Birthdate,DeliveryDate,Quantity,UnitOfMeasurement,AttendanceStatus",
    "003A,Lopez,Ana,2008-01-05,2025-09-01,1,Hours,Present",
    "003A,Lopez,Ana,2008-01-05,2025-09-08,0,Hours,Unexcused Absence",
    "003A,Lopez,Ana,2008-01-05,2025-09-15,1.5,Hours,Present",
    "003A,Lopez,Ana,2008-01-05,2025-12-01,1,Hours,Present",
)


def test_a_delivery_export_is_rolled_up_into_periods_with_sessions_and_hours(
    world: Engine,
) -> None:
    result = _import(world, PMM_FILE, SESSIONS)
    assert (result.matched, result.inserted) == (1, 2)
    services = read_table(world, table_of(Service)).sort("start_date")
    assert services.select("student_id", "start_date", "end_date", "sessions", "hours").rows() == [
        ("S1", date(2025, 9, 1), date(2025, 9, 15), 2, 2.5),
        ("S1", date(2025, 12, 1), None, 1, 1.0),
    ]


def test_partner_staff_import_only_their_own_organisations_services(world: Engine) -> None:
    partner = Principal("staff@org2", "Staff", Role.ORG_STAFF, TODAY, org_id="ORG2")
    with pytest.raises(ImportRejected) as rejected:
        import_mapped(
            world,
            "pmm.csv",
            PMM_FILE,
            SESSIONS,
            principal=partner,
            near=0.85,
            gap_days=30,
            only_org="ORG2",
        )
    assert any("only your organisation" in p.message for p in rejected.value.result.problems)
    assert _rows(world, table_of(Service)) == 0


def _lock_is_held(engine: Engine) -> bool:
    from data_access.importing import ImportBusy
    from data_access.importing.lock import import_lock

    try:
        with import_lock(engine, "probe"):
            return False
    except ImportBusy:
        return True


def test_a_mapped_import_refreshes_while_it_still_holds_the_import_lock(world: Engine) -> None:
    held: list[bool] = []
    import_mapped(
        world, "state.csv", STATE_FILE, FAFSA_MAPPING, principal=STEWARD, near=0.85,
        gap_days=30, after_import=lambda engine: held.append(_lock_is_held(engine)),
    )  # fmt: skip
    assert held == [True] and not _lock_is_held(world)


def test_resolving_a_review_item_during_an_import_says_so_and_loads_nothing(
    world: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from data_access import api
    from data_access.importing.lock import import_lock

    _import(world, STATE_FILE)
    monkeypatch.setenv("PATHWISE_DATABASE_URL", world.url.render_as_string(hide_password=False))
    misspelt, _ = open_reviews(world)["review_id"].to_list()
    with import_lock(world, "ana"), pytest.raises(api.ImportBusy, match="another import"):
        api.resolve_review(STEWARD, misspelt, "S2", after_resolve=None)
    assert _rows(world, table_of(Fafsa)) == 1 and open_reviews(world).height == 2
    held: list[bool] = []
    loaded = api.resolve_review(
        STEWARD, misspelt, "S2", after_resolve=lambda engine: held.append(_lock_is_held(engine))
    )
    assert (loaded, held, _rows(world, table_of(Fafsa))) == (1, [True], 2)
