"""A family withdraws a release in My record (issue 16 part 1, data_access/family_releases.py).

The small world (tests/worlds.py): mom@family.org is Ana's (S1) parent; Ana's release C1
names ORGA (a@orga.org), whose agreement is active, so ORGA sees Ana today. Eli (S5,
eli@student.org) is a student user with his own release C5 to ORGC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select, update

from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.family_releases import (
    WithdrawalRefused,
    releases_for_family,
    withdraw_release,
)
from data_access.identity import sign_in
from data_access.models import Consent, Notification, ReleaseRequest, table_of
from data_access.notifications import notifications_for
from data_access.policy import AccessDenied
from data_access.records import student_record
from tests.worlds import TODAY, YESTERDAY, build_small_world

CONSENT = table_of(Consent)
NOTIFICATION = table_of(Notification)


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    return engine


def _partner_sees(engine: Engine, email: str, student_id: str) -> bool:
    try:
        student_record(engine, sign_in(engine, email, TODAY), student_id)
    except AccessDenied:
        return False
    return True


def test_after_the_parent_withdraws_the_partner_no_longer_sees_the_student(world: Engine) -> None:
    assert _partner_sees(world, "a@orga.org", "S1")
    withdraw_release(world, sign_in(world, "mom@family.org", TODAY), "C1")
    assert not _partner_sees(world, "a@orga.org", "S1")
    with world.connect() as connection:
        revoked = connection.execute(
            select(CONSENT.c.revoked_date).where(CONSENT.c.consent_id == "C1")
        ).scalar_one()
    assert revoked == TODAY


def test_the_parent_lists_every_release_of_their_child_in_plain_fields(world: Engine) -> None:
    releases = releases_for_family(world, sign_in(world, "mom@family.org", TODAY))
    assert releases["consent_id"].to_list() == ["C1"]
    row = releases.row(0, named=True)
    assert row["first_name"] == "Ana"
    assert row["org_name"] == "Mentors A"
    assert row["org_type"] == "community"
    assert row["service_types"] == ["mentoring"]
    assert row["categories"] == ["attendance", "grades", "notes"]
    assert row["purpose"] == "mentoring"
    assert row["signed_by"] == "Parent Testcase"
    assert row["active"] is True


def test_a_withdrawn_release_is_still_listed_and_no_longer_active(world: Engine) -> None:
    parent = sign_in(world, "mom@family.org", TODAY)
    withdraw_release(world, parent, "C1")
    row = releases_for_family(world, parent).row(0, named=True)
    assert (row["revoked_date"], row["active"]) == (TODAY, False)


def test_reading_the_releases_is_audited_with_the_child_and_the_basis(world: Engine) -> None:
    releases_for_family(world, sign_in(world, "mom@family.org", TODAY))
    with world.connect() as connection:
        rows = connection.execute(
            select(AUDIT_STUDENT.c.student_id, AUDIT_STUDENT.c.legal_basis)
            .join(AUDIT_EVENT, AUDIT_EVENT.c.event_id == AUDIT_STUDENT.c.event_id)
            .where(AUDIT_EVENT.c.action == "releases.read")
        ).all()
    assert [tuple(r) for r in rows] == [("S1", "role:parent")]


def test_a_withdrawal_is_audited_with_the_student_and_basis(world: Engine) -> None:
    withdraw_release(world, sign_in(world, "mom@family.org", TODAY), "C1")
    with world.connect() as connection:
        rows = connection.execute(
            select(
                AUDIT_EVENT.c.user_email,
                AUDIT_EVENT.c.outcome,
                AUDIT_STUDENT.c.student_id,
                AUDIT_STUDENT.c.legal_basis,
            )
            .join(AUDIT_STUDENT, AUDIT_EVENT.c.event_id == AUDIT_STUDENT.c.event_id)
            .where(AUDIT_EVENT.c.action == "consent.withdraw")
        ).all()
    assert [tuple(r) for r in rows] == [("mom@family.org", "allowed", "S1", "role:parent")]


def test_the_organisation_is_told_a_release_ended_without_the_reason(world: Engine) -> None:
    withdraw_release(world, sign_in(world, "mom@family.org", TODAY), "C1")
    texts = notifications_for(world, sign_in(world, "a@orga.org", TODAY))["text"].to_list()
    assert texts == ["A release for Ana Testcase ended."]
    assert notifications_for(world, sign_in(world, "c@orgc.org", TODAY)).height == 0


def test_the_requester_is_told_too_when_the_release_answered_a_request(world: Engine) -> None:
    now = datetime.now(UTC)
    with world.begin() as connection:
        request_id = connection.execute(
            insert(table_of(ReleaseRequest))
            .values(
                student_id="S1", org_id="ORGA", categories="attendance", purpose="mentoring",
                requested_by="counselor@d.org", requested_at=now, status="signed",
                expires_at=now + timedelta(days=14), paper_code="PAPER1",
            )
            .returning(table_of(ReleaseRequest).c.request_id)
        ).scalar_one()  # fmt: skip
        connection.execute(
            update(CONSENT).where(CONSENT.c.consent_id == "C1").values(request_id=request_id)
        )
    withdraw_release(world, sign_in(world, "mom@family.org", TODAY), "C1")
    counselor = notifications_for(world, sign_in(world, "counselor@d.org", TODAY))
    assert counselor["text"].to_list() == ["A release for Ana Testcase ended."]


def test_an_eligible_student_withdraws_their_own_release(world: Engine) -> None:
    assert _partner_sees(world, "c@orgc.org", "S5")
    eli = sign_in(world, "eli@student.org", TODAY)
    assert releases_for_family(world, eli)["consent_id"].to_list() == ["C5"]
    withdraw_release(world, eli, "C5")
    assert not _partner_sees(world, "c@orgc.org", "S5")


@pytest.mark.parametrize("consent_id", ["C5", "C3", "NO-SUCH-RELEASE"])
def test_a_parent_may_not_withdraw_another_familys_release_or_learn_it_exists(
    world: Engine, consent_id: str
) -> None:
    with pytest.raises(AccessDenied) as refused:
        withdraw_release(world, sign_in(world, "mom@family.org", TODAY), consent_id)
    assert refused.value.reason == "This is not your record."
    with world.connect() as connection:
        outcomes = connection.execute(
            select(AUDIT_EVENT.c.outcome).where(AUDIT_EVENT.c.action == "consent.withdraw")
        ).scalars()
        assert list(outcomes) == ["denied"]
        assert connection.execute(select(NOTIFICATION)).first() is None
        revoked = connection.execute(
            select(CONSENT.c.revoked_date).where(CONSENT.c.consent_id == consent_id)
        ).scalar()
    assert revoked is None


@pytest.mark.parametrize("email", ["counselor@d.org", "admin@d.org", "a@orga.org"])
def test_staff_do_not_withdraw_a_familys_release_here(world: Engine, email: str) -> None:
    with pytest.raises(AccessDenied):
        withdraw_release(world, sign_in(world, email, TODAY), "C1")
    assert _partner_sees(world, "a@orga.org", "S1")


def test_withdrawing_twice_says_it_was_already_withdrawn(world: Engine) -> None:
    parent = sign_in(world, "mom@family.org", TODAY)
    withdraw_release(world, parent, "C1")
    with pytest.raises(WithdrawalRefused) as refused:
        withdraw_release(world, parent, "C1")
    assert (refused.value.code, refused.value.day) == ("already_withdrawn", TODAY)
    assert notifications_for(world, sign_in(world, "a@orga.org", TODAY)).height == 1


def test_a_release_withdrawn_yesterday_cannot_be_withdrawn_again(world: Engine) -> None:
    with world.begin() as connection:
        connection.execute(
            update(CONSENT).where(CONSENT.c.consent_id == "C1").values(revoked_date=YESTERDAY)
        )
    with pytest.raises(WithdrawalRefused) as refused:
        withdraw_release(world, sign_in(world, "mom@family.org", TODAY), "C1")
    assert refused.value.code == "already_withdrawn"
