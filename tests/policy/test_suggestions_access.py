"""Suggested partners through the policy: scoped, masked by category, audited.

The small world (tests/worlds.py), refreshed on TODAY: Ana (S1, HS1) is chronically
absent and failing Algebra; ORGA mentors her under a release naming attendance, grades
and notes (its agreement: attendance, notes, tests), and ORGC serves her for college
access without a release. The counselor works at HS1, the teacher's caseload is S1 and S4.
Capacity for the current school year is inserted directly (the capacity import and the
refresh of `coverage_served_now` belong to other parts of issue 14).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from sqlalchemy import Engine, delete, insert, select, update

from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.derived import refresh_derived
from data_access.identity import sign_in
from data_access.models import ANY_SCHOOL, Capacity, CoverageServedNow, Organization, table_of
from data_access.policy import AccessDenied, Principal
from data_access.suggestions import suggested_partners
from domain.vocabulary import FLAG_CATEGORY
from indicators.suggestions import ALREADY_SERVING, SUGGESTED
from tests.policy import test_policy_properties as properties
from tests.policy.test_policy_properties import (
    SETTINGS,
    World,
    load,
    oracle,
    principals,
    worlds,
)
from tests.worlds import TODAY, YEAR, build_small_world

# The random worlds' databases (a fresh one per example, on both databases).
sqlite_template = properties.sqlite_template
fresh_database = properties.fresh_database

CAPACITY = [
    ("ORGA", ANY_SCHOOL, "mentoring", 15),
    ("ORGB", "HS1", "academic", 20),
    ("ORGB", "HS1", "attendance", 12),
    ("ORGC", ANY_SCHOOL, "college_access", 10),
]


def add_capacity(engine: Engine, rows: list[tuple[str, str, str, int]], year: int = YEAR) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(Capacity)),
            [
                {"org_id": o, "school_id": s, "service_type": t, "school_year": year,
                 "slots": n, "accepting_referrals": True}
                for o, s, t, n in rows
            ],
        )  # fmt: skip


def add_served(engine: Engine, rows: list[tuple[str, str, str, int, int]]) -> None:
    """These served counts instead of those the refresh stored."""
    with engine.begin() as connection:
        connection.execute(delete(table_of(CoverageServedNow)))
        connection.execute(
            insert(table_of(CoverageServedNow)),
            [
                {"org_id": o, "school_id": s, "service_type": t, "students": n,
                 "students_with_release": r}
                for o, s, t, n, r in rows
            ],
        )  # fmt: skip


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    refresh_derived(engine, as_of=TODAY)
    add_capacity(engine, CAPACITY)
    return engine


def who(engine: Engine, email: str) -> Principal:
    return sign_in(engine, email, TODAY)


def audited(engine: Engine, email: str) -> list[dict[str, str]]:
    """The students of each allowed `suggestions.read` event of `email`, oldest first."""
    with engine.connect() as connection:
        events = connection.execute(
            select(AUDIT_EVENT.c.event_id)
            .where(
                AUDIT_EVENT.c.user_email == email,
                AUDIT_EVENT.c.action == "suggestions.read",
                AUDIT_EVENT.c.outcome == "allowed",
            )
            .order_by(AUDIT_EVENT.c.event_id)
        ).scalars()
        students = connection.execute(select(AUDIT_STUDENT)).all()
        return [
            {s.student_id: s.legal_basis for s in students if s.event_id == event}
            for event in events
        ]


def rows(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    return frame.select("org_id", "service_type", "needs", "status").rows()


def test_an_admin_sees_the_partner_already_serving_and_the_suggestions_by_open_slots(
    world: Engine,
) -> None:
    result = suggested_partners(world, principal=who(world, "admin@d.org"), student_ids=["S1"])
    assert rows(result.for_student("S1")) == [
        (
            "ORGA",
            "mentoring",
            ["chronic_absence", "course_failure", "below_proficient"],
            ALREADY_SERVING,
        ),
        ("ORGB", "academic", ["course_failure", "below_proficient"], SUGGESTED),
        ("ORGB", "attendance", ["chronic_absence"], SUGGESTED),
    ]
    assert result.students.row(0, named=True) == {
        "student_id": "S1",
        "flagged": True,
        "no_support": False,
    }
    assert audited(world, "admin@d.org") == [{"S1": "role:admin"}]


def test_students_outside_the_scope_are_silently_absent_and_not_audited(world: Engine) -> None:
    counselor = who(world, "counselor@d.org")
    result = suggested_partners(world, principal=counselor, student_ids=["S1", "S4", "S5", "NOPE"])
    assert result.students["student_id"].to_list() == ["S1"]
    assert set(result.partners["student_id"]) == {"S1"}
    assert audited(world, "counselor@d.org") == [{"S1": "role:counselor"}]


def test_a_partner_counts_only_the_flags_of_categories_it_may_see(world: Engine) -> None:
    # ORGA sees Ana's attendance only (release ∩ agreement): her failing grade and her
    # test results must not lead to a tutoring suggestion, nor appear as needs.
    result = suggested_partners(world, principal=who(world, "a@orga.org"), student_ids=["S1", "S5"])
    assert result.students["student_id"].to_list() == ["S1"]
    assert rows(result.for_student("S1")) == [
        ("ORGA", "mentoring", ["chronic_absence"], ALREADY_SERVING),
        ("ORGB", "attendance", ["chronic_absence"], SUGGESTED),
    ]
    assert result.students["no_support"].to_list() == [None]
    assert audited(world, "a@orga.org") == [{"S1": "consent:C1"}]


def test_a_teacher_learns_no_service_from_the_suggestions(world: Engine) -> None:
    result = suggested_partners(world, principal=who(world, "teacher@d.org"), student_ids=["S1"])
    assert ALREADY_SERVING not in result.partners["status"].to_list()
    assert ("ORGA", "mentoring") in result.partners.select("org_id", "service_type").rows()
    assert result.students["no_support"].to_list() == [None]


def test_open_slots_are_exact_for_leaders_and_a_range_for_counselors(world: Engine) -> None:
    add_served(world, [("ORGB", "HS1", "attendance", 3, 1)])
    exact = suggested_partners(world, principal=who(world, "leader@d.org"), student_ids=["S1"])
    protected = suggested_partners(
        world, principal=who(world, "counselor@d.org"), student_ids=["S1"]
    )

    def attendance(result: Any) -> str:
        return result.partners.filter(pl.col("service_type") == "attendance")["open_display"].item()

    assert (attendance(exact), attendance(protected)) == ("9", "up to 12")


def test_a_partner_counts_its_own_served_students_only_under_a_release(world: Engine) -> None:
    add_served(world, [("ORGA", "HS1", "mentoring", 14, 1)])
    mine = suggested_partners(world, principal=who(world, "a@orga.org"), student_ids=["S1"])
    admin = suggested_partners(world, principal=who(world, "admin@d.org"), student_ids=["S1"])
    own = pl.col("org_id") == "ORGA"
    assert mine.partners.filter(own)["open_display"].item() == "14"
    assert admin.partners.filter(own)["open_display"].item() == "1"


def test_open_slots_follow_a_capacity_edit_and_a_refresh_at_once(world: Engine) -> None:
    admin = who(world, "admin@d.org")
    orgb = (pl.col("org_id") == "ORGB") & (pl.col("service_type") == "academic")
    before = suggested_partners(world, principal=admin, student_ids=["S1"]).partners
    with world.begin() as connection:
        connection.execute(
            update(table_of(Capacity))
            .where(table_of(Capacity).c.org_id == "ORGB")
            .where(table_of(Capacity).c.service_type == "academic")
            .values(slots=7)
        )
    edited = suggested_partners(world, principal=admin, student_ids=["S1"]).partners
    add_served(world, [("ORGB", "HS1", "academic", 3, 3)])
    refreshed = suggested_partners(world, principal=admin, student_ids=["S1"]).partners
    assert before.filter(orgb)["open_display"].item() == "20"
    assert edited.filter(orgb)["open_display"].item() == "7"
    assert refreshed.filter(orgb)["open_display"].item() == "4"


def test_a_list_longer_than_any_statement_parameter_limit_is_answered(world: Engine) -> None:
    asked = [f"NOPE{i}" for i in range(40_000)] + ["S1"]
    counselor = who(world, "counselor@d.org")
    result = suggested_partners(world, principal=counselor, student_ids=asked)
    assert result.students["student_id"].to_list() == ["S1"]
    assert audited(world, "counselor@d.org") == [{"S1": "role:counselor"}]


@pytest.mark.parametrize("email", ["viewer@city.org"])
def test_a_role_without_student_reads_is_refused(world: Engine, email: str) -> None:
    with pytest.raises(AccessDenied):
        suggested_partners(world, principal=who(world, email), student_ids=["S1"])


def test_meeting_mode_gives_no_suggestion(world: Engine) -> None:
    with pytest.raises(AccessDenied):
        suggested_partners(
            world, principal=who(world, "admin@d.org").in_meeting_mode(), student_ids=["S1"]
        )


# --- properties --------------------------------------------------------------------------


@SETTINGS
@given(world=worlds())
def test_no_principal_gets_a_suggestion_for_a_student_outside_its_scope_and_every_one_is_audited(
    fresh_database: Callable[[], Iterator[Engine]], world: World
) -> None:
    for engine in fresh_database():
        load(engine, world)
        refresh_derived(engine, as_of=world.today)
        with engine.begin() as connection:
            orgs = connection.execute(select(table_of(Organization).c.org_id)).scalars().all()
        add_capacity(
            engine,
            [(o, ANY_SCHOOL, t, 30) for o in orgs for t in ("mentoring", "academic", "attendance")],
        )
        ids = [s for s, _ in world.students] + ["GHOST"]
        for email, principal in principals(engine, world):
            expected = oracle(world, email, world.today)
            if principal is None or expected is None:
                continue
            if not principal.sees_students:
                with pytest.raises(AccessDenied):
                    suggested_partners(engine, principal=principal, student_ids=ids)
                continue
            result = suggested_partners(engine, principal=principal, student_ids=ids)
            returned = set(result.students["student_id"])
            assert returned <= set(expected), email
            assert set(result.partners["student_id"]) <= returned, email
            for row in result.partners.iter_rows(named=True):
                for need in row["needs"]:
                    assert FLAG_CATEGORY[need] in expected[row["student_id"]], (email, row)
            events = audited(engine, email)
            assert {s for event in events for s in event} == returned, email
