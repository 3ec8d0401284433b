"""'Waiting for a release': the school sees that a partner learns nothing yet.

The small world (tests/worlds.py): ORGA has an active release for Ana (S1) and one signed
tomorrow for Dev (S4); ORGB has none for Ana.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from data_access import referrals
from data_access.identity import sign_in
from tests.worlds import TODAY, TOMORROW, build_small_world


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    return engine


def test_an_open_referral_to_a_partner_without_a_release_is_waiting_for_one(world: Engine) -> None:
    admin = sign_in(world, "admin@d.org", TODAY)
    referrals.create_referral(world, admin, "S1", "ORGB", "Tutoring")
    referrals.create_referral(world, admin, "S1", "ORGA", "Mentoring")
    referrals.create_referral(world, admin, "S4", "ORGA", "Mentoring")
    seen = referrals.referrals(world, admin).sort("referral_id")
    assert seen.select("student_id", "org_id", "waiting_for_release").rows() == [
        ("S1", "ORGB", True),
        ("S1", "ORGA", False),
        ("S4", "ORGA", True),
    ]
    tomorrow = referrals.referrals(world, sign_in(world, "admin@d.org", TOMORROW), "S4")
    assert tomorrow["waiting_for_release"].to_list() == [False]


def test_an_answered_referral_is_no_longer_waiting(world: Engine) -> None:
    counselor = sign_in(world, "counselor@d.org", TODAY)
    referral_id = referrals.create_referral(world, counselor, "S1", "ORGA", "Mentoring")
    referrals.respond_to_referral(
        world, sign_in(world, "a@orga.org", TODAY), referral_id, "declined"
    )
    assert referrals.referrals(world, counselor, "S1")["waiting_for_release"].to_list() == [False]


def test_a_teacher_does_not_learn_whether_a_release_exists(world: Engine) -> None:
    teacher = sign_in(world, "teacher@d.org", TODAY)
    referrals.create_referral(world, teacher, "S4", "ORGA", "Mentoring")
    assert referrals.referrals(world, teacher)["waiting_for_release"].to_list() == [None]
