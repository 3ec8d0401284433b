"""Partner capacity in data_access/capacity.py: the steward edits, everyone with district
figures reads, and open slots reach each viewer as docs/access-rules.md allows (issue 14 part 2).

The small world of tests/worlds.py (HS1, HS2; partners ORGA, ORGB, ORGC), with capacity
rows and the `coverage_served_now` table written here as the refresh would write them.
The property test's oracle restates the open-slot rule from the issue and docs/access-rules.md rule 1
in its own code: open = slots - served (never below 0); an any-school row's served are
those at schools where the partner has no row of its own; a protected viewer never gets a
figure derived from another organisation's served count (docs/access-rules.md, "Need and
coverage", rule 6), only the slots offered ("up to N").
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, select

from data_access.audit import AUDIT_EVENT
from data_access.capacity import (
    CapacityRow,
    InvalidCapacity,
    delete_capacity_row,
    open_capacity,
    read_capacity,
    realignment_view,
    save_capacity_row,
)
from data_access.coverage import coverage_view
from data_access.identity import sign_in
from data_access.models import ANY_SCHOOL, Capacity, CoverageNeed, CoverageServedNow, table_of
from data_access.policy import AccessDenied, Principal
from tests.worlds import TODAY, YEAR, build_small_world

CAPACITY = table_of(Capacity)
SERVED = table_of(CoverageServedNow)
MIN_CELL = 10  # docs/access-rules.md: the minimum cell size unless the deployment sets another


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    return engine


def _write(engine: Engine, capacity: list[dict[str, Any]], served: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(delete(CAPACITY))
        connection.execute(delete(SERVED))
        if capacity:
            connection.execute(insert(CAPACITY), capacity)
        if served:
            connection.execute(insert(SERVED), served)


def _cap(org: str, school: str, service: str, slots: int, accepting: bool = True) -> dict[str, Any]:
    return {
        "org_id": org,
        "school_id": school,
        "service_type": service,
        "school_year": YEAR,
        "slots": slots,
        "accepting_referrals": accepting,
    }


def _served(org: str, school: str, service: str, students: int, released: int) -> dict[str, Any]:
    return {
        "org_id": org,
        "school_id": school,
        "service_type": service,
        "students": students,
        "students_with_release": released,
    }


def _audit_actions(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [
            (row.action, row.outcome)
            for row in connection.execute(
                select(AUDIT_EVENT.c.action, AUDIT_EVENT.c.outcome).order_by(AUDIT_EVENT.c.event_id)
            )
        ]


def test_the_steward_adds_changes_and_deletes_a_row_each_change_audited(world: Engine) -> None:
    steward = sign_in(world, "admin@d.org", TODAY)
    row = CapacityRow("ORGA", ANY_SCHOOL, "mentoring", YEAR, 30, True)
    assert save_capacity_row(world, principal=steward, row=row) is True
    assert (
        save_capacity_row(
            world, principal=steward, row=CapacityRow("ORGA", "", "mentoring", YEAR, 12, False)
        )
        is False
    )
    stored = read_capacity(world, principal=steward, school_year=YEAR)
    assert stored.select("org_name", "school_id", "slots", "accepting_referrals").rows() == [
        ("Mentors A", ANY_SCHOOL, 12, False)
    ]
    assert delete_capacity_row(
        world, principal=steward, org_id="ORGA", school_id="", service_type="mentoring",
        school_year=YEAR,
    ) is True  # fmt: skip
    assert read_capacity(world, principal=steward, school_year=YEAR).height == 0
    saved = [a for a in _audit_actions(world) if a[0].startswith("capacity.")]
    assert saved == [
        ("capacity.save", "allowed"),
        ("capacity.save", "allowed"),
        ("capacity.delete", "allowed"),
    ]


def test_a_bad_row_names_every_problem_and_writes_nothing(world: Engine) -> None:
    steward = sign_in(world, "admin@d.org", TODAY)
    with pytest.raises(InvalidCapacity) as problem:
        save_capacity_row(
            world, principal=steward, row=CapacityRow("NOPE", "HS9", "tutoring", YEAR, -4)
        )
    message = str(problem.value)
    for part in ("service type must be one of", "negative (-4)", "'NOPE'", "'HS9'"):
        assert part in message
    assert read_capacity(world, principal=steward, school_year=YEAR).height == 0


@pytest.mark.parametrize(
    "email", ["leader@d.org", "counselor@d.org", "a@orga.org", "viewer@city.org"]
)
def test_only_the_steward_edits_capacity_and_a_refusal_is_audited(
    world: Engine, email: str
) -> None:
    someone = sign_in(world, email, TODAY)
    with pytest.raises(AccessDenied):
        save_capacity_row(
            world, principal=someone, row=CapacityRow("ORGA", "HS1", "mentoring", YEAR, 5)
        )
    with pytest.raises(AccessDenied):
        delete_capacity_row(
            world, principal=someone, org_id="ORGA", school_id="HS1",
            service_type="mentoring", school_year=YEAR,
        )  # fmt: skip
    assert ("capacity.save", "denied") in _audit_actions(world)
    assert ("capacity.delete", "denied") in _audit_actions(world)


def test_the_steward_in_meeting_mode_does_not_edit(world: Engine) -> None:
    steward = sign_in(world, "admin@d.org", TODAY).in_meeting_mode()
    with pytest.raises(AccessDenied):
        save_capacity_row(
            world, principal=steward, row=CapacityRow("ORGA", "HS1", "mentoring", YEAR, 5)
        )


def test_roles_without_district_figures_read_no_capacity(world: Engine) -> None:
    teacher = sign_in(world, "teacher@d.org", TODAY)
    with pytest.raises(AccessDenied):
        read_capacity(world, principal=teacher, school_year=YEAR)
    with pytest.raises(AccessDenied):
        open_capacity(world, principal=teacher, school_year=YEAR)


def test_open_slots_are_exact_for_leaders_and_subtract_students_served_now(world: Engine) -> None:
    _write(
        world,
        [
            _cap("ORGA", "HS1", "mentoring", 25),
            _cap("ORGA", ANY_SCHOOL, "mentoring", 40),
            _cap("ORGB", "HS2", "college_access", 5, accepting=False),
        ],
        [
            _served("ORGA", "HS1", "mentoring", 3, 1),
            _served("ORGA", "HS2", "mentoring", 4, 4),
            _served("ORGB", "HS2", "college_access", 9, 0),
        ],
    )
    leader = sign_in(world, "leader@d.org", TODAY)
    rows = open_capacity(world, principal=leader, school_year=YEAR)
    assert rows.select(
        "org_name", "school_id", "served", "open_display", "accepting_referrals"
    ).rows() == [
        ("Mentors A", ANY_SCHOOL, 4, "36", True),
        ("Mentors A", "HS1", 3, "22", True),
        ("Bridge B", "HS2", 9, "0", False),  # over-full: none open, never negative
    ]
    assert open_capacity(world, principal=leader, school_year=YEAR - 1).height == 0


def test_a_partner_counts_only_its_released_students_and_others_are_protected(
    world: Engine,
) -> None:
    _write(
        world,
        [_cap("ORGA", "HS1", "mentoring", 25), _cap("ORGB", "HS1", "college_access", 30)],
        [
            _served("ORGA", "HS1", "mentoring", 14, 2),
            _served("ORGB", "HS1", "college_access", 4, 4),
        ],
    )
    partner = sign_in(world, "a@orga.org", TODAY)
    rows = {
        r["org_id"]: r for r in open_capacity(world, principal=partner, school_year=YEAR).to_dicts()
    }
    # Its own: the 2 students it may see, exactly; the 12 others are never counted for it.
    assert (rows["ORGA"]["served"], rows["ORGA"]["open_display"]) == (2, "23")
    # Another partner's students are hidden however many: only the slots it offers.
    assert (rows["ORGB"]["served"], rows["ORGB"]["open_display"]) == (None, "up to 30")


# ---------------------------------------------------------------------------------------
# Property: no protected principal learns another organisation's served count
# ---------------------------------------------------------------------------------------

ORGS = ("ORGA", "ORGB", "ORGC")
SCHOOLS = ("HS1", "HS2")
TYPES = ("mentoring", "academic")
PRINCIPALS = (
    ("admin@d.org", False),
    ("leader@d.org", False),
    ("counselor@d.org", False),
    ("viewer@city.org", False),
    ("a@orga.org", False),
    ("c@orgc.org", False),
    ("admin@d.org", True),
    ("a@orga.org", True),
)


@st.composite
def capacity_worlds(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    served = []
    for org in ORGS:
        for school in SCHOOLS:
            for service in TYPES:
                if draw(st.booleans()):
                    students = draw(st.integers(0, 25))
                    released = draw(st.integers(0, students))
                    served.append(_served(org, school, service, students, released))
    capacity = []
    for org in ORGS:
        for school in (ANY_SCHOOL, *SCHOOLS):
            for service in TYPES:
                if draw(st.booleans()):
                    capacity.append(_cap(org, school, service, draw(st.integers(0, 40))))
    return capacity, served


def _oracle_served(
    row: dict[str, Any], capacity: list[dict[str, Any]], served: list[dict[str, Any]], count: str
) -> int:
    """The students a capacity row's slots are taken by, in the viewer's count."""
    same = [
        s
        for s in served
        if s["org_id"] == row["org_id"] and s["service_type"] == row["service_type"]
    ]
    if row["school_id"] != ANY_SCHOOL:
        return sum(s[count] for s in same if s["school_id"] == row["school_id"])
    own_rows = {
        c["school_id"]
        for c in capacity
        if c["org_id"] == row["org_id"] and c["service_type"] == row["service_type"]
    }
    return sum(s[count] for s in same if s["school_id"] not in own_rows)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=capacity_worlds())
def test_no_protected_principal_learns_another_organisations_served_count(
    world: Engine, drawn: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    capacity, served = drawn
    _write(world, capacity, served)
    for email, meeting in PRINCIPALS:
        principal: Principal = sign_in(world, email, TODAY)
        if meeting:
            principal = principal.in_meeting_mode()
        exact_role = principal.role.value in ("admin", "district_leader") and not meeting
        shown = open_capacity(world, principal=principal, school_year=YEAR).to_dicts()
        assert len(shown) == len(capacity)
        for row in shown:
            own = principal.org_id == row["org_id"] and principal.role.value == "org_staff"
            count = "students_with_release" if own else "students"
            true = _oracle_served(row, capacity, served, count)
            slots = row["slots"]
            if exact_role or (own and not meeting):
                assert row["served"] == true, (email, meeting, row)
                assert row["open_low"] == row["open_high"] == max(0, slots - true)
            else:
                assert row["served"] is None, (email, meeting, row)
                # The slots offered, the same whatever the hidden count is.
                assert (row["open_low"], row["open_high"]) == (0, slots)
                assert row["open_display"] == f"up to {slots}"


def _coverage(school: str, need: str, flagged: int, addressing: int, other: int) -> dict[str, Any]:
    return {
        "school_id": school, "need": need, "flagged": flagged, "served_addressing": addressing,
        "served_addressing_with_release": 0, "served_other": other,
        "unserved": flagged - addressing - other, "duplicated": 0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("email", "meeting"),
    [("leader@d.org", False), ("leader@d.org", True), ("viewer@city.org", False),
     ("a@orga.org", False), ("admin@d.org", True)],
)  # fmt: skip
def test_the_realignments_unmet_need_is_the_one_the_coverage_page_shows(
    world: Engine, email: str, meeting: bool
) -> None:
    """HS2's 40 chronically absent students served for it are `*` on the coverage page
    beside its 120 flagged (HS1's 5 are `<10`, the district's 45 shown): the realignment
    never shows that unmet need (80) to a protected viewer, so 120 - 80 cannot give the 40
    away; wherever it shows one, it is flagged less served_addressing as the page shows
    them (docs/access-rules.md, "Need and coverage")."""
    with world.begin() as connection:
        connection.execute(
            insert(table_of(CoverageNeed)),
            [
                _coverage("HS1", "chronic_absence", 140, 5, 35),
                _coverage("HS2", "chronic_absence", 120, 40, 10),
                _coverage("HS1", "course_failure", 60, 30, 12),
                _coverage("HS2", "course_failure", 70, 20, 15),
            ],
        )
    _write(
        world, [_cap("ORGA", "HS1", "mentoring", 40)], [_served("ORGA", "HS1", "mentoring", 15, 1)]
    )
    principal = sign_in(world, email, TODAY)
    rows = realignment_view(world, principal=principal, meeting=meeting)
    page = coverage_view(world, principal=principal, meeting=meeting)
    shown = {(r["school_id"], r["need"]): r for r in page.coverage.schools.iter_rows(named=True)}
    assert rows.height > 0
    for row in rows.iter_rows(named=True):
        cell = shown[(row["school_id"], row["need"])]
        if cell["flagged"] is not None and cell["served_addressing"] is not None:
            assert row["unmet"] == cell["flagged"] - cell["served_addressing"]
            assert row["unmet_display"] == str(row["unmet"])
        else:
            assert row["unmet"] is None and row["unmet_display"] in ("*", f"<{MIN_CELL}")
    hs2_absence = rows.filter(school_id="HS2", need="chronic_absence")["unmet_display"].to_list()
    assert hs2_absence == (["80"] if page.exact else ["*"])
    # Mentors A's 40 slots at HS1 less its 15 students: 25 open for an exact viewer; its
    # own staff count its 1 released student; everyone else reads only the 40 it offers.
    own = principal.role.value == "org_staff" and principal.org_id == "ORGA" and not meeting
    expected = "25" if page.exact else "39" if own else "up to 40"
    assert set(rows["open_display"]) == {expected}
    for sentence in rows["sentence"]:
        offer = f"has {expected} open" if expected.isdigit() else "offers up to 40 mentoring"
        assert f"Mentors A {offer}" in sentence
        assert page.exact or own or "25" not in sentence
