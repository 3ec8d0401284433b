"""Release requests: who may ask, what is asked, who receives a link, and signing it.

The world: tests/releases/release_world.py (Ana, S1 at HS1, has two guardians, one
reading Spanish; Eli, S5 at HS2, is 18 and signs his own; ORGA's active agreement covers
attendance, notes and tests).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from data_access.models import AuditEvent, Consent, OutboxMessage, ReleaseRequest, table_of
from data_access.notifications import notifications_for
from data_access.policy import AccessDenied, visibility_row
from data_access.releases import (
    CreatedRequest,
    InvalidRequest,
    InvalidSignature,
    LinkRefused,
    LinkView,
    NewRequest,
    create_request,
    create_requests,
    decline,
    open_link,
    requests,
    sign,
)
from tests.releases.release_world import (
    ANA_FOR_ORGA,
    ELI_FOR_ORGC,
    LINK_BASE,
    NOW,
    build_release_world,
    compose,
    link_in,
    principal,
    token_of,
)
from tests.worlds import TODAY, YEAR

OUTBOX = table_of(OutboxMessage)
REQUEST = table_of(ReleaseRequest)
CONSENT = table_of(Consent)
AUDIT = table_of(AuditEvent)


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_release_world(engine)
    return engine


def _tokens(engine: Engine, request_id: int) -> dict[str, str]:
    """recipient email -> token, read from the (unsent) outbox messages' links."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(OUTBOX.c.to_address, OUTBOX.c.body).where(OUTBOX.c.request_id == request_id)
        ).all()
    return {row.to_address: token_of(link_in(row.body)) for row in rows}


def _request(
    engine: Engine, email: str = "counselor@d.org", new: NewRequest = ANA_FOR_ORGA
) -> CreatedRequest:
    return create_request(
        engine,
        principal(engine, email),
        new,
        link_base=LINK_BASE,
        compose=compose,
        mail=None,
        now=NOW,
    )


def test_a_counselor_requests_a_release_and_each_guardian_gets_a_link_in_their_language(
    world: Engine,
) -> None:
    created = _request(world)
    assert sorted(created.recipients) == [
        ("dad@family.org", "es", False),
        ("mom@family.org", "en", False),
    ]
    with world.connect() as connection:
        request = connection.execute(select(REQUEST)).one()
    assert request.status == "sent"
    assert request.requested_by == "counselor@d.org"
    assert request.categories == "attendance;tests"
    assert request.release_expires == date(2027, 6, 30)  # the end of school year 2027
    assert request.expires_at == NOW + timedelta(days=14)
    assert request.paper_code == created.paper_code


def test_an_eligible_student_gets_the_link_instead_of_the_guardians(world: Engine) -> None:
    created = _request(world, "admin@d.org", ELI_FOR_ORGC)
    assert created.recipients == (("eli@student.org", "en", False),)


def test_the_first_valid_open_shows_the_release_and_marks_the_request_opened(
    world: Engine,
) -> None:
    created = _request(world)
    view = open_link(
        world, _tokens(world, created.request_id)["dad@family.org"], client="c1", now=NOW
    )
    assert view == LinkView(
        request_id=created.request_id,
        language="es",
        recipient_email="dad@family.org",
        signer_is_student=False,
        student_first_name="Ana",
        school_name="First High",
        org_name="Mentors A",
        org_type="community",
        org_service_types=("mentoring",),
        categories=("attendance", "tests"),
        purpose="Mentoring",
        release_expires=date(2027, 6, 30),
    )
    assert requests(world, principal(world, "admin@d.org"), now=NOW)["state"].to_list() == [
        "opened"
    ]


def _partner_sees(engine: Engine, email: str, student_id: str) -> bool:
    with engine.connect() as connection:
        return visibility_row(connection, principal(engine, email), student_id, YEAR) is not None


def test_signing_records_the_release_and_the_partner_sees_the_student(world: Engine) -> None:
    ana_for_orgc = NewRequest("S1", "ORGC", ("fafsa",), "College applications")
    assert not _partner_sees(world, "c@orgc.org", "S1")
    created = _request(world, new=ana_for_orgc)
    token = _tokens(world, created.request_id)["mom@family.org"]
    consent_id = sign(
        world,
        token,
        client="c1",
        signed_by="Mom Testcase",
        relationship="parent",
        language="en",
        now=NOW,
    )
    assert consent_id == f"E-{created.request_id}"
    with world.connect() as connection:
        consent = connection.execute(
            select(CONSENT).where(CONSENT.c.consent_id == consent_id)
        ).one()
        request = connection.execute(select(REQUEST)).one()
    assert (consent.org_id, consent.method, consent.request_id, consent.signed_by) == (
        "ORGC",
        "electronic",
        created.request_id,
        "Mom Testcase",
    )
    assert (consent.categories, consent.signed_date, consent.expires_date) == (
        "fafsa",
        NOW.date(),
        date(2027, 6, 30),
    )
    assert (request.status, request.consent_id) == ("signed", consent_id)
    assert _partner_sees(world, "c@orgc.org", "S1")
    assert notifications_for(world, principal(world, "c@orgc.org"))["text"].to_list() == [
        "A family signed a release for Ana Testcase at First High."
    ]
    assert notifications_for(world, principal(world, "counselor@d.org"))["text"].to_list() == [
        "A family signed the release you requested for Ana Testcase (College C)."
    ]


def test_a_decline_tells_the_requester_and_not_the_organisation(world: Engine) -> None:
    created = _request(world)
    token = _tokens(world, created.request_id)["dad@family.org"]
    assert decline(world, token, client="c1", now=NOW) is None
    assert requests(world, principal(world, "admin@d.org"), now=NOW)["state"].to_list() == [
        "declined"
    ]
    assert notifications_for(world, principal(world, "a@orga.org")).height == 0
    assert notifications_for(world, principal(world, "counselor@d.org"))["text"].to_list() == [
        "A family declined the release you requested for Ana Testcase (Mentors A)."
    ]


def test_a_signature_needs_a_name_and_a_relationship_of_the_vocabulary(world: Engine) -> None:
    created = _request(world)
    token = _tokens(world, created.request_id)["mom@family.org"]
    with pytest.raises(InvalidSignature) as blank:
        sign(
            world, token, client="c1", signed_by="  ", relationship="parent", language="en", now=NOW
        )
    assert (blank.value.problems, blank.value.allowed) == (("name",), ("parent", "guardian"))
    with pytest.raises(InvalidSignature) as student:
        sign(
            world,
            token,
            client="c1",
            signed_by="Mom",
            relationship="eligible_student",
            language="en",
            now=NOW,
        )
    assert student.value.problems == ("relationship",)
    assert "eligible_student" in str(student.value)
    # Nothing was written: the link still works.
    assert isinstance(open_link(world, token, client="c1", now=NOW), LinkView)


def test_an_eligible_student_signs_as_eligible_student(world: Engine) -> None:
    created = _request(world, "admin@d.org", ELI_FOR_ORGC)
    token = _tokens(world, created.request_id)["eli@student.org"]
    view = open_link(world, token, client="c1", now=NOW)
    assert isinstance(view, LinkView) and view.signer_is_student
    with pytest.raises(InvalidRequest, match="eligible_student"):
        sign(
            world,
            token,
            client="c1",
            signed_by="Eli Testcase",
            relationship="parent",
            language="en",
            now=NOW,
        )
    consent_id = sign(
        world,
        token,
        client="c1",
        signed_by="Eli Testcase",
        relationship="eligible_student",
        language="en",
        now=NOW,
    )
    assert consent_id == f"E-{created.request_id}"


def test_categories_beyond_the_active_agreement_are_named(world: Engine) -> None:
    beyond = NewRequest("S1", "ORGA", ("attendance", "grades", "fafsa"), "Mentoring")
    with pytest.raises(InvalidRequest, match="does not cover grades, fafsa"):
        _request(world, new=beyond)
    expired_agreement = NewRequest("S1", "ORGB", ("attendance",), "Mentoring")
    with pytest.raises(InvalidRequest, match="no active data-sharing agreement"):
        _request(world, new=expired_agreement)
    with world.connect() as connection:
        assert connection.execute(select(REQUEST)).first() is None


@pytest.mark.parametrize(
    "email", ["viewer@city.org", "teacher@d.org", "a@orga.org", "mom@family.org"]
)
def test_only_counselors_and_the_steward_request_releases(world: Engine, email: str) -> None:
    with pytest.raises(AccessDenied):
        _request(world, email)
    with world.connect() as connection:
        assert connection.execute(select(REQUEST)).first() is None
        refusal = connection.execute(
            select(AUDIT.c.outcome).where(
                AUDIT.c.action == "release_request.create", AUDIT.c.user_email == email
            )
        ).scalar_one()
    assert refusal == "denied"


def test_a_counselor_may_not_request_for_a_student_of_another_school(world: Engine) -> None:
    with pytest.raises(AccessDenied):
        _request(world, new=ELI_FOR_ORGC)  # Eli is at HS2, the counselor at HS1


def test_a_batch_is_made_whole_or_not_at_all(world: Engine) -> None:
    steward = principal(world, "admin@d.org")
    bad = NewRequest("S2", "ORGA", ("grades",), "Mentoring")
    with pytest.raises(InvalidRequest):
        create_requests(
            world,
            steward,
            [ANA_FOR_ORGA, bad],
            link_base=LINK_BASE,
            compose=compose,
            mail=None,
            now=NOW,
        )
    with world.connect() as connection:
        assert connection.execute(select(REQUEST)).first() is None
    made = create_requests(
        world,
        steward,
        [ANA_FOR_ORGA, NewRequest("S2", "ORGA", ("notes",), "Mentoring")],
        link_base=LINK_BASE,
        compose=compose,
        mail=None,
        now=NOW,
    )
    assert len({m.paper_code for m in made}) == 2
    assert made[1].recipients == ()  # Ben has no guardian on file: his goes out on paper


def test_the_request_is_audited_with_the_students_basis(world: Engine) -> None:
    created = _request(world)
    with world.connect() as connection:
        event = connection.execute(
            select(AUDIT).where(AUDIT.c.action == "release_request.create")
        ).one()
    assert json.loads(event.detail)["request_id"] == created.request_id
    assert (event.user_email, event.categories) == ("counselor@d.org", "attendance;tests")


def test_a_refused_link_reveals_nothing(world: Engine) -> None:
    assert open_link(world, "no-such-token", client="c1", now=NOW) == LinkRefused("unknown")


def test_the_request_list_is_the_counselors_scope_and_hides_the_paper_code(world: Engine) -> None:
    _request(world)
    _request(world, "admin@d.org", ELI_FOR_ORGC)
    counselor = requests(world, principal(world, "counselor@d.org"), now=NOW)
    assert counselor["student_id"].to_list() == ["S1"]
    assert counselor["paper_code"].to_list() == [None]
    steward = requests(world, principal(world, "admin@d.org"), now=NOW)
    assert sorted(steward["student_id"].to_list()) == ["S1", "S5"]
    assert steward["paper_code"].null_count() == 0
    later = requests(world, principal(world, "admin@d.org"), now=NOW + timedelta(days=15))
    assert later["state"].to_list() == ["expired", "expired"]


def test_today_is_the_principals_today(world: Engine) -> None:
    assert principal(world, "admin@d.org").today == TODAY
