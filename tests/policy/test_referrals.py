"""Referrals: who may create, read and answer them, and what the audit log says.

The rules (docs/access-rules.md, "Referrals"; `data_access/policy.py`): admins, counselors
and teachers refer students they may see; partners, leaders, viewers and families do not.
School staff read the referrals of the students in their scope, a teacher only the ones
they made; a partner reads only those addressed to its organisation, and only while a
release naming it is active: until the family signs, the partner learns nothing. Only the
addressed partner answers. Every attempt, allowed or refused, is in the audit log.

The small world (tests/worlds.py): the counselor works at HS1 (S1, S2, S3); the teacher's
caseload is S1 and S4; ORGA has an active release for S1 and one signed tomorrow for S4;
ORGC has an active release for S5 only (it serves S1 without one).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select

from data_access import referrals
from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.identity import sign_in
from data_access.models import Referral, table_of
from data_access.policy import AccessDenied, Principal
from tests.worlds import TODAY, TOMORROW, build_small_world

REFERRAL = table_of(Referral)


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    return engine


def who(engine: Engine, email: str, today: Any = TODAY) -> Principal:
    return sign_in(engine, email, today)


def events(engine: Engine) -> list[dict[str, Any]]:
    """Every audit event, oldest first, with its students and their legal bases."""
    with engine.connect() as connection:
        rows = connection.execute(select(AUDIT_EVENT).order_by(AUDIT_EVENT.c.event_id)).all()
        students = connection.execute(select(AUDIT_STUDENT)).all()
    return [
        {
            "user": row.user_email,
            "action": row.action,
            "outcome": row.outcome,
            "students": {
                s.student_id: s.legal_basis for s in students if s.event_id == row.event_id
            },
            "detail": json.loads(row.detail or "{}"),
        }
        for row in rows
    ]


def stored_referrals(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(REFERRAL.c.student_id, REFERRAL.c.org_id, REFERRAL.c.referred_by).order_by(
                REFERRAL.c.referral_id
            )
        ).all()
    return [tuple(r) for r in rows]


# --- create ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "student", "basis"),
    [
        ("admin@d.org", "S5", "role:admin"),
        ("counselor@d.org", "S1", "role:counselor"),
        ("teacher@d.org", "S4", "role:teacher"),
    ],
)
def test_school_staff_refer_a_student_they_see_and_it_is_audited(
    world: Engine, email: str, student: str, basis: str
) -> None:
    referral_id = referrals.create_referral(world, who(world, email), student, "ORGA", "Mentoring")
    assert stored_referrals(world) == [(student, "ORGA", email)]
    (event,) = events(world)
    assert event == {
        "user": email,
        "action": "referral.create",
        "outcome": "allowed",
        "students": {student: basis},
        "detail": {"referral_id": referral_id, "org_id": "ORGA"},
    }


@pytest.mark.parametrize(
    ("email", "student"),
    [("counselor@d.org", "S5"), ("teacher@d.org", "S2")],
    ids=["counselor, a student of another school", "teacher, a student off the caseload"],
)
def test_school_staff_cannot_refer_a_student_out_of_their_scope(
    world: Engine, email: str, student: str
) -> None:
    with pytest.raises(AccessDenied) as denied:
        referrals.create_referral(world, who(world, email), student, "ORGA", "Mentoring")
    assert denied.value.code == "out_of_scope"
    assert stored_referrals(world) == []
    (event,) = events(world)
    assert (event["user"], event["action"], event["outcome"], event["students"]) == (
        email,
        "referral.create",
        "denied",
        {student: "denied"},
    )
    assert event["detail"] == {"reason": "out_of_scope", "message": denied.value.reason}


@pytest.mark.parametrize(
    ("email", "student"),
    [
        ("a@orga.org", "S1"),
        ("leader@d.org", "S1"),
        ("viewer@city.org", "S1"),
        ("mom@family.org", "S1"),
        ("eli@student.org", "S5"),
    ],
    ids=["partner", "district leader", "viewer", "parent", "student"],
)
def test_partners_leaders_viewers_and_families_do_not_refer(
    world: Engine, email: str, student: str
) -> None:
    with pytest.raises(AccessDenied):
        referrals.create_referral(world, who(world, email), student, "ORGC", "Mentoring")
    assert stored_referrals(world) == []
    (event,) = events(world)
    assert (event["user"], event["action"], event["outcome"], event["students"]) == (
        email,
        "referral.create",
        "denied",
        {student: "denied"},
    )


# --- read -----------------------------------------------------------------------------


def test_school_staff_read_the_referrals_of_the_students_in_their_scope(world: Engine) -> None:
    admin = who(world, "admin@d.org")
    referrals.create_referral(world, admin, "S1", "ORGA", "Mentoring")
    referrals.create_referral(world, admin, "S5", "ORGC", "FAFSA help")
    assert sorted(referrals.referrals(world, admin)["student_id"]) == ["S1", "S5"]
    assert sorted(referrals.referrals(world, who(world, "leader@d.org"))["student_id"]) == [
        "S1",
        "S5",
    ]
    counselor = who(world, "counselor@d.org")
    assert referrals.referrals(world, counselor)["student_id"].to_list() == ["S1"]
    read = [e for e in events(world) if e["action"] == "referral.read"]
    assert read[-1] == {
        "user": "counselor@d.org",
        "action": "referral.read",
        "outcome": "allowed",
        "students": {"S1": "role:counselor"},
        "detail": {},
    }


def test_a_teacher_reads_only_the_referrals_they_made(world: Engine) -> None:
    referrals.create_referral(world, who(world, "counselor@d.org"), "S1", "ORGA", "Mentoring")
    teacher = who(world, "teacher@d.org")
    assert referrals.referrals(world, teacher, "S1").height == 0
    mine = referrals.create_referral(world, teacher, "S1", "ORGC", "College visit")
    assert referrals.referrals(world, teacher)["referral_id"].to_list() == [mine]


def test_a_partner_reads_only_the_referrals_addressed_to_it_with_a_release(
    world: Engine,
) -> None:
    admin = who(world, "admin@d.org")
    to_a = referrals.create_referral(world, admin, "S1", "ORGA", "Mentoring")
    referrals.create_referral(world, admin, "S1", "ORGC", "College visit")  # no ORGC release
    to_c = referrals.create_referral(world, admin, "S5", "ORGC", "FAFSA help")
    assert referrals.referrals(world, who(world, "a@orga.org"))["referral_id"].to_list() == [to_a]
    assert referrals.referrals(world, who(world, "c@orgc.org"))["referral_id"].to_list() == [to_c]
    assert referrals.referrals(world, who(world, "c@orgc.org"), "S1").height == 0
    (refusal,) = [e for e in events(world) if e["outcome"] == "denied"]
    assert (refusal["user"], refusal["action"], refusal["students"]) == (
        "c@orgc.org",
        "referral.read",
        {"S1": "denied"},
    )


@pytest.mark.parametrize("email", ["viewer@city.org", "mom@family.org", "eli@student.org"])
def test_viewers_and_families_do_not_read_referrals(world: Engine, email: str) -> None:
    referrals.create_referral(world, who(world, "admin@d.org"), "S1", "ORGA", "Mentoring")
    with pytest.raises(AccessDenied) as denied:
        referrals.referrals(world, who(world, email))
    assert denied.value.code == "forbidden"
    refusal = events(world)[-1]
    assert (refusal["user"], refusal["action"], refusal["outcome"]) == (
        email,
        "referral.read",
        "denied",
    )


# --- waiting for a release --------------------------------------------------------------


def test_a_partner_learns_nothing_of_a_referral_until_the_release_is_signed(
    world: Engine,
) -> None:
    referral_id = referrals.create_referral(
        world, who(world, "teacher@d.org"), "S4", "ORGA", "Mentoring"
    )
    partner_today = who(world, "a@orga.org")
    assert referrals.referrals(world, partner_today).height == 0
    assert referrals.referrals(world, partner_today, "S4").height == 0
    with pytest.raises(AccessDenied):
        referrals.respond_to_referral(world, partner_today, referral_id, "accepted")
    assert not [e for e in events(world) if e["user"] == "a@orga.org" and e["outcome"] == "allowed"]

    partner_tomorrow = who(world, "a@orga.org", TOMORROW)  # the release C4 is signed
    seen = referrals.referrals(world, partner_tomorrow)
    assert (seen["referral_id"].to_list(), seen["first_name"].to_list()) == ([referral_id], ["Dev"])
    referrals.respond_to_referral(world, partner_tomorrow, referral_id, "accepted", "Welcome")
    assert referrals.referrals(world, partner_tomorrow)["status"].to_list() == ["accepted"]
    allowed = [e for e in events(world) if e["user"] == "a@orga.org" and e["outcome"] == "allowed"]
    assert [(e["action"], e["students"]) for e in allowed] == [
        ("referral.read", {"S4": "consent:C4"}),
        ("referral.respond", {"S4": "consent:C4"}),
        ("referral.read", {"S4": "consent:C4"}),
    ]


# --- respond ----------------------------------------------------------------------------


def test_the_addressed_partner_answers_a_referral_and_it_is_audited(world: Engine) -> None:
    referral_id = referrals.create_referral(
        world, who(world, "counselor@d.org"), "S1", "ORGA", "Mentoring"
    )
    referrals.respond_to_referral(
        world, who(world, "a@orga.org"), referral_id, "accepted", "See you Monday"
    )
    answered = referrals.referrals(world, who(world, "counselor@d.org"), "S1")
    assert (answered["status"].to_list(), answered["response"].to_list()) == (
        ["accepted"],
        ["See you Monday"],
    )
    respond = [e for e in events(world) if e["action"] == "referral.respond"]
    assert respond == [
        {
            "user": "a@orga.org",
            "action": "referral.respond",
            "outcome": "allowed",
            "students": {"S1": "consent:C1"},
            "detail": {"referral_id": referral_id, "status": "accepted"},
        }
    ]


@pytest.mark.parametrize(
    "email",
    ["c@orgc.org", "counselor@d.org", "admin@d.org", "teacher@d.org", "mom@family.org"],
    ids=["another partner", "counselor", "admin", "teacher", "parent"],
)
def test_nobody_but_the_addressed_partner_answers(world: Engine, email: str) -> None:
    referral_id = referrals.create_referral(
        world, who(world, "counselor@d.org"), "S1", "ORGA", "Mentoring"
    )
    with pytest.raises(AccessDenied):
        referrals.respond_to_referral(world, who(world, email), referral_id, "declined")
    status = referrals.referrals(world, who(world, "counselor@d.org"), "S1")["status"]
    assert status.to_list() == ["open"]
    (refusal,) = [e for e in events(world) if e["action"] == "referral.respond"]
    assert (refusal["user"], refusal["outcome"], refusal["students"]) == (
        email,
        "denied",
        {"S1": "denied"},
    )


def test_a_partner_that_sees_the_student_does_not_answer_another_partners_referral(
    world: Engine,
) -> None:
    referral_id = referrals.create_referral(
        world, who(world, "counselor@d.org"), "S1", "ORGC", "College visit"
    )
    with pytest.raises(AccessDenied):
        referrals.respond_to_referral(world, who(world, "a@orga.org"), referral_id, "accepted")
    (refusal,) = [e for e in events(world) if e["action"] == "referral.respond"]
    assert (refusal["user"], refusal["outcome"], refusal["students"]) == (
        "a@orga.org",
        "denied",
        {"S1": "denied"},
    )
