"""The steward's view of releases on the database (data_access/release_overview.py).

The small world (tests/worlds.py), with these referrals and requests added:

| student | organisation | service / referral | release |
|---|---|---|---|
| S1 Ana (First High)  | ORGA Mentors A | served          | C1 active |
| S1 Ana               | ORGC College C | served + referred (open) | none |
| S2 Ben (First High)  | ORGA           | referred (open) | C2 revoked yesterday |
| S4 Dev (Second High) | ORGA           | referred (open) | C4 signed tomorrow |
| S5 Eli (Second High) | ORGA           | referred (accepted) | none |
| S5 Eli               | ORGC           | served          | C5 active |
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select

from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.identity import sign_in
from data_access.models import Referral, ReleaseRequest, table_of
from data_access.policy import AccessDenied
from data_access.release_overview import consent_gap, request_counts
from domain.releases import STATES
from tests.worlds import TODAY, TOMORROW, build_small_world

NOW = datetime(2026, 11, 22, 15, tzinfo=UTC)


def _referral(student: str, org: str, status: str) -> dict[str, object]:
    return {
        "student_id": student, "org_id": org, "referred_by": "counselor@d.org",
        "reason": "needs support", "status": status, "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip


def _request(
    n: int, student: str, org: str, status: str, expires_in_days: int
) -> dict[str, object]:
    return {
        "student_id": student, "org_id": org, "categories": "attendance", "purpose": "mentoring",
        "requested_by": "counselor@d.org", "requested_at": NOW - timedelta(days=20),
        "status": status, "expires_at": NOW + timedelta(days=expires_in_days),
        "paper_code": f"CODE{n}",
    }  # fmt: skip


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(Referral)),
            [
                _referral("S1", "ORGC", "open"),
                _referral("S2", "ORGA", "open"),
                _referral("S4", "ORGA", "open"),
                _referral("S5", "ORGA", "accepted"),
            ],
        )
        connection.execute(
            insert(table_of(ReleaseRequest)),
            [
                _request(1, "S1", "ORGA", "sent", 3),
                _request(2, "S2", "ORGA", "sent", -1),
                _request(3, "S3", "ORGA", "opened", -2),
                _request(4, "S4", "ORGA", "signed", -5),
                _request(5, "S5", "ORGC", "opened", 4),
                _request(6, "S5", "ORGC", "declined", 4),
                _request(7, "S5", "ORGC", "cancelled", -9),
            ],
        )
    return engine


def _steward(engine: Engine):
    return sign_in(engine, "admin@d.org", TODAY)


def test_the_gap_lists_who_is_served_or_referred_without_an_active_release(world: Engine) -> None:
    gap = consent_gap(world, _steward(world))
    assert gap.select("org_id", "student_id", "school_name", "why").rows() == [
        ("ORGC", "S1", "First High", "both"),
        ("ORGA", "S2", "First High", "referred"),
        ("ORGA", "S4", "Second High", "referred"),
    ]
    categories = dict(zip(gap["org_id"], gap["categories"].to_list(), strict=False))
    assert categories == {"ORGC": ["fafsa"], "ORGA": ["attendance", "notes", "tests"]}


def test_a_release_that_starts_tomorrow_closes_the_gap_tomorrow(world: Engine) -> None:
    gap = consent_gap(world, _steward(world), today=TOMORROW)
    assert ("ORGA", "S4") not in gap.select("org_id", "student_id").rows()
    assert ("ORGA", "S2") in gap.select("org_id", "student_id").rows()


def test_the_gap_is_audited_student_by_student(world: Engine) -> None:
    consent_gap(world, _steward(world))
    with world.connect() as connection:
        rows = connection.execute(
            select(AUDIT_STUDENT.c.student_id, AUDIT_STUDENT.c.legal_basis)
            .join(AUDIT_EVENT, AUDIT_EVENT.c.event_id == AUDIT_STUDENT.c.event_id)
            .where(AUDIT_EVENT.c.action == "consent_gap.read")
            .order_by(AUDIT_STUDENT.c.student_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("S1", "role:admin"),
        ("S2", "role:admin"),
        ("S4", "role:admin"),
    ]


@pytest.mark.parametrize("email", ["leader@d.org", "counselor@d.org", "a@orga.org"])
def test_only_the_steward_sees_the_gap_and_the_counts(world: Engine, email: str) -> None:
    principal = sign_in(world, email, TODAY)
    with pytest.raises(AccessDenied):
        consent_gap(world, principal)
    with pytest.raises(AccessDenied):
        request_counts(world, principal, now=NOW)


def test_requests_are_counted_by_organisation_school_and_derived_state(world: Engine) -> None:
    counts = request_counts(world, _steward(world), now=NOW)
    nonzero = counts.filter(counts["requests"] > 0).select(
        "org_id", "school_id", "state", "requests"
    )
    assert sorted(nonzero.rows()) == [
        ("ORGA", "HS1", "expired", 2),
        ("ORGA", "HS1", "sent", 1),
        ("ORGA", "HS2", "signed", 1),
        ("ORGC", "HS2", "cancelled", 1),
        ("ORGC", "HS2", "declined", 1),
        ("ORGC", "HS2", "opened", 1),
    ]


def test_every_state_is_a_row_for_every_organisation_and_school_even_at_zero(
    world: Engine,
) -> None:
    counts = request_counts(world, _steward(world), now=NOW)
    places = counts.select("org_id", "school_id").unique()
    assert places.height == 3
    assert counts.height == 3 * len(STATES)
    for place in places.rows():
        states = counts.filter((counts["org_id"] == place[0]) & (counts["school_id"] == place[1]))[
            "state"
        ].to_list()
        assert states == list(STATES)
    assert counts["requests"].sum() == 7


def test_a_request_counts_as_expired_only_once_its_links_have_expired(world: Engine) -> None:
    earlier = request_counts(world, _steward(world), now=NOW - timedelta(days=3))
    expired = earlier.filter(earlier["state"] == "expired")["requests"].sum()
    assert expired == 0


def test_no_request_gives_an_empty_frame_with_the_columns(engine: Engine) -> None:
    build_small_world(engine)
    counts = request_counts(engine, _steward(engine), now=NOW)
    assert counts.height == 0
    assert counts.columns == [
        "org_id",
        "org_name",
        "school_id",
        "school_name",
        "state",
        "requests",
    ]
