"""Notifications: each user reads their own and their organisation's, nobody else's.

The small world (tests/worlds.py): a@orga.org works for ORGA, c@orgc.org for ORGC.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from data_access.identity import sign_in
from data_access.notifications import mark_read, notifications_for, notify
from data_access.policy import AccessDenied
from tests.worlds import TODAY, build_small_world


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    with engine.begin() as connection:
        notify(
            connection,
            kind="release_signed",
            text="A release for Ana was signed.",
            recipient_org_id="ORGA",
            student_id="S1",
        )
        notify(
            connection,
            kind="release_signed",
            text="Your request was signed.",
            recipient_email="counselor@d.org",
            student_id="S1",
        )
        notify(connection, kind="release_ended", text="A release ended.", recipient_org_id="ORGC")
    return engine


def test_partner_staff_read_their_organisations_notifications_only(world: Engine) -> None:
    texts = notifications_for(world, sign_in(world, "a@orga.org", TODAY))["text"].to_list()
    assert texts == ["A release for Ana was signed."]


def test_a_requester_reads_the_notification_addressed_to_them(world: Engine) -> None:
    texts = notifications_for(world, sign_in(world, "counselor@d.org", TODAY))["text"].to_list()
    assert texts == ["Your request was signed."]


def test_marking_read_touches_only_the_readers_own_notifications(world: Engine) -> None:
    partner_c = sign_in(world, "c@orgc.org", TODAY)
    partner_a = sign_in(world, "a@orga.org", TODAY)
    every_id = [1, 2, 3]
    mark_read(world, partner_c, every_id)
    assert notifications_for(world, partner_c, unread_only=True).height == 0
    assert notifications_for(world, partner_a, unread_only=True).height == 1


@pytest.mark.parametrize("email", ["viewer@city.org", "mom@family.org"])
def test_viewers_and_families_have_no_notifications(world: Engine, email: str) -> None:
    with pytest.raises(AccessDenied):
        notifications_for(world, sign_in(world, email, TODAY))


def test_a_notification_goes_to_one_user_or_one_organisation(world: Engine) -> None:
    with world.begin() as connection, pytest.raises(ValueError):
        notify(connection, kind="x", text="x")
