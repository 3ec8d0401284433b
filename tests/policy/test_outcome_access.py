"""Who sees which outcome figures ("Is it working?", docs/access-rules.md), and the served
students of a program through the student scope, audited."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, select

from data_access import outcomes
from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.identity import sign_in
from data_access.policy import AccessDenied, Principal
from tests.outcome_rows import small_world_outcomes, store_outcomes
from tests.worlds import TODAY, YEAR, build_small_world

MENTORING: dict[str, Any] = {"school_year": YEAR, "org_id": "ORGA", "service_type": "mentoring"}


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    store_outcomes(engine, small_world_outcomes(YEAR))
    return engine


def who(engine: Engine, email: str) -> Principal:
    return sign_in(engine, email, TODAY)


def audit(engine: Engine, action: str) -> list[tuple[str, str, str]]:
    """(user, outcome, student) of every audit entry of `action`."""
    query = (
        select(AUDIT_EVENT.c.user_email, AUDIT_EVENT.c.outcome, AUDIT_STUDENT.c.student_id)
        .select_from(
            AUDIT_EVENT.outerjoin(AUDIT_STUDENT, AUDIT_STUDENT.c.event_id == AUDIT_EVENT.c.event_id)
        )
        .where(AUDIT_EVENT.c.action == action)
        .order_by(AUDIT_EVENT.c.event_id, AUDIT_STUDENT.c.student_id)
    )
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(query)]


@pytest.mark.parametrize("email", ["leader@d.org", "admin@d.org"])
def test_leaders_and_stewards_see_exact_figures_of_every_program(world: Engine, email: str) -> None:
    view = outcomes.program_outcomes(world, who(world, email), group_by="school_id")
    assert view.exact
    hs2 = view.rows.filter(pl.col("group_value") == "HS2").row(0, named=True)
    assert hs2["served"] == 8 and hs2["served_display"] == "8" and hs2["effect"] is not None
    assert "excluded" in view.rows.columns
    assert view.school_years == [YEAR] and view.org_names["ORGA"] == "Mentors A"


def test_a_work_group_member_sees_protected_figures(world: Engine) -> None:
    view = outcomes.program_outcomes(world, who(world, "viewer@city.org"), group_by="school_id")
    assert not view.exact
    hs2 = view.rows.filter(pl.col("group_value") == "HS2").row(0, named=True)
    assert hs2["served"] is None and hs2["served_display"] == "<10" and hs2["effect"] is None
    assert "excluded" not in view.rows.columns and "unserved" not in view.rows.columns


def test_meeting_mode_keeps_the_figures_protected_for_a_leader(world: Engine) -> None:
    leader = who(world, "leader@d.org").in_meeting_mode()
    view = outcomes.program_outcomes(world, leader, group_by="school_id")
    assert not view.exact
    assert view.rows.filter(pl.col("group_value") == "HS2")["served_display"].to_list() == [
        "<10",
        "<10",
    ]
    detail = outcomes.program_detail(world, leader, **MENTORING)
    assert detail.served_students is None and not detail.exact


def test_a_partner_sees_only_its_own_organisations_programs(world: Engine) -> None:
    partner = who(world, "a@orga.org")
    view = outcomes.program_outcomes(world, partner)
    assert set(view.rows["org_id"]) == {"ORGA"} and not view.exact
    with pytest.raises(AccessDenied, match="own organisation"):
        outcomes.program_outcomes(world, partner, org_id="ORGC")
    with pytest.raises(AccessDenied, match="own organisation"):
        outcomes.program_detail(
            world, partner, school_year=YEAR, org_id="ORGC", service_type="college_access"
        )
    assert audit(world, "outcomes.read") == [("a@orga.org", "denied", None)] * 2


@pytest.mark.parametrize(
    "email", ["counselor@d.org", "teacher@d.org", "mom@family.org", "eli@student.org"]
)
def test_other_roles_are_refused_and_the_refusal_is_recorded(world: Engine, email: str) -> None:
    principal = who(world, email)
    with pytest.raises(AccessDenied):
        outcomes.program_outcomes(world, principal)
    with pytest.raises(AccessDenied):
        outcomes.program_detail(world, principal, **MENTORING)
    assert audit(world, "outcomes.read") == [(email, "denied", None)] * 2


def test_a_partner_lists_only_the_served_students_it_may_see_and_the_read_is_audited(
    world: Engine,
) -> None:
    detail = outcomes.program_detail(world, who(world, "a@orga.org"), **MENTORING)
    assert detail.served_students is not None
    # S1 and S3 have an active release naming ORGA; S2's was revoked, S4's is signed tomorrow.
    assert detail.served_students["student_id"].to_list() == ["S1", "S3"]
    assert detail.served_students.columns == [
        "student_id", "first_name", "last_name", "school_id", "grade_level", "start_date",
        "matched", "sessions", "hours",
    ]  # fmt: skip
    assert audit(world, "outcomes.served_students") == [
        ("a@orga.org", "allowed", "S1"),
        ("a@orga.org", "allowed", "S3"),
    ]
    with world.connect() as connection:
        bases = connection.execute(select(AUDIT_STUDENT.c.legal_basis)).scalars().all()
    assert sorted(bases) == ["consent:C1", "consent:C3"]


def test_a_leader_lists_every_served_student_and_a_viewer_none(world: Engine) -> None:
    leader = outcomes.program_detail(world, who(world, "leader@d.org"), **MENTORING)
    assert leader.served_students is not None
    assert leader.served_students["student_id"].to_list() == ["S1", "S2", "S3", "S4"]
    assert leader.org_name == "Mentors A" and leader.exact
    viewer = outcomes.program_detail(world, who(world, "viewer@city.org"), **MENTORING)
    assert viewer.served_students is None
    assert audit(world, "outcomes.served_students") == [
        ("leader@d.org", "allowed", s) for s in ("S1", "S2", "S3", "S4")
    ]


def test_a_protected_program_view_has_the_published_balance_and_trajectory_only(
    world: Engine,
) -> None:
    viewer = outcomes.program_detail(world, who(world, "viewer@city.org"), **MENTORING)
    assert viewer.estimates["group_by"].unique().to_list() == ["all"]
    assert set(viewer.balance["measure"]) == {"absence_rate"}
    served = viewer.trajectory.filter(pl.col("group") == "served")
    assert served.filter(pl.col("month_offset") == -1)["absence_rate"].to_list() == [None]
    assert served.filter(pl.col("month_offset") == 0)["students_display"].to_list() == ["40"]
    leader = outcomes.program_detail(world, who(world, "leader@d.org"), **MENTORING)
    assert leader.trajectory.filter(pl.col("month_offset") == -1)["students"].to_list() == [9, 9]


def test_a_program_view_reads_stored_rows_only(world: Engine) -> None:
    """The page never recomputes: a program with no stored rows has none to show."""
    detail = outcomes.program_detail(
        world,
        who(world, "leader@d.org"),
        school_year=YEAR - 1,
        org_id="ORGA",
        service_type="mentoring",
    )
    assert detail.estimates.height == 0 and detail.served_students is None
    assert json.dumps(detail.balance.to_dicts()) == "[]"
