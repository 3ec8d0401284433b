"""Teachers never learn which organisations serve a student (docs/access-rules.md).

Which partner serves a student (a behavioural-health clinic, say) is sensitive, and the
profile hides services from teachers. The referrals and the early-warning list must not
tell them either: a teacher sees only the referrals they made, and the list has no
`served` column (nor a filter on it) for them. In the small world (tests/worlds.py) the
teacher's caseload is S1 and S4, and S1 is served by ORGA and ORGC.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from data_access import referrals, roster
from data_access.derived import refresh_derived
from data_access.identity import sign_in
from data_access.policy import AccessDenied, Principal
from data_access.records import student_record
from data_access.roster import ListFilters
from tests.worlds import TODAY, build_small_world

CLINIC_REASON = "Behavioral health: panic attacks, seeing the clinic weekly"


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    refresh_derived(engine, as_of=TODAY)
    return engine


def who(engine: Engine, email: str) -> Principal:
    return sign_in(engine, email, TODAY)


def test_a_teacher_sees_only_the_referrals_they_made(world: Engine) -> None:
    counselor, teacher = who(world, "counselor@d.org"), who(world, "teacher@d.org")
    referrals.create_referral(world, counselor, "S1", "ORGA", CLINIC_REASON)
    mine = referrals.create_referral(world, teacher, "S1", "ORGC", "Needs help with the FAFSA")

    seen = referrals.referrals(world, teacher, "S1")
    assert seen["referral_id"].to_list() == [mine]
    assert CLINIC_REASON not in seen["reason"].to_list()
    assert "Mentors A" not in seen["org_name"].to_list()
    everyone = referrals.referrals(world, teacher)  # the whole caseload too
    assert everyone["referral_id"].to_list() == [mine]
    # The counselor (who sees every category) still sees both.
    assert referrals.referrals(world, counselor, "S1").height == 2


def test_a_teachers_list_has_no_served_column(world: Engine) -> None:
    rows = roster.at_risk_list(world, who(world, "teacher@d.org")).rows
    assert sorted(rows["student_id"]) == ["S1", "S4"]
    assert "served" not in rows.columns
    assert student_record(world, who(world, "teacher@d.org"), "S1").services.height == 0


def test_a_teacher_cannot_filter_the_list_on_served(world: Engine) -> None:
    teacher = who(world, "teacher@d.org")
    for served in (True, False):
        with pytest.raises(AccessDenied):
            roster.at_risk_list(world, teacher, ListFilters(served=served))


def test_the_live_list_for_a_teacher_has_no_served_column(world: Engine) -> None:
    listed = roster.live_list(world, who(world, "teacher@d.org"), None, TODAY)
    assert listed.rows.height == 2 and "served" not in listed.rows.columns


def test_roles_that_see_services_still_get_served(world: Engine) -> None:
    counselor = roster.at_risk_list(world, who(world, "counselor@d.org")).rows
    assert dict(zip(counselor["student_id"], counselor["served"], strict=True))["S1"] is True
    # A partner's `served` is about its own services only.
    partner = roster.at_risk_list(world, who(world, "a@orga.org")).rows
    assert dict(zip(partner["student_id"], partner["served"], strict=True)) == {
        "S1": True,
        "S3": False,
    }
    served = roster.at_risk_list(world, who(world, "admin@d.org"), ListFilters(served=True))
    assert set(served.rows["student_id"]) == {"S1", "S5"}
