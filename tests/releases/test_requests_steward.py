"""The steward's and the requester's side of release requests: paper releases by their
code, cancelling, the printable release's data. World: tests/releases/release_world.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select

from data_access.models import AuditEvent, Consent, ReleaseRequest, table_of
from data_access.notifications import notifications_for
from data_access.policy import AccessDenied
from data_access.releases import (
    CreatedRequest,
    InvalidRequest,
    NewRequest,
    cancel_request,
    create_request,
    printable_request,
    record_paper_release,
    requests,
)
from domain.release_tokens import PAPER_CODE_ALPHABET, PAPER_CODE_LENGTH, printed_paper_code
from tests.releases.release_world import (
    ANA_FOR_ORGA,
    ELI_FOR_ORGC,
    LINK_BASE,
    NOW,
    build_release_world,
    compose,
    principal,
)
from tests.worlds import TODAY

REQUEST = table_of(ReleaseRequest)
CONSENT = table_of(Consent)
AUDIT = table_of(AuditEvent)


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_release_world(engine)
    return engine


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


def _paper(engine: Engine, code: str, email: str = "admin@d.org", **changes: object) -> str:
    values: dict[str, object] = {
        "signed_by": "Mom Testcase",
        "relationship": "parent",
        "signed_date": TODAY,
        "language": "es",
    }
    values.update(changes)
    return record_paper_release(engine, principal(engine, email), code, **values)  # type: ignore[arg-type]


def test_a_paper_code_is_short_and_unambiguous(world: Engine) -> None:
    code = _request(world).paper_code
    assert len(code) == PAPER_CODE_LENGTH
    assert set(code) <= set(PAPER_CODE_ALPHABET)
    assert not set(code) & set("0O1I")


def test_the_steward_records_a_returned_paper_release_by_its_printed_code(world: Engine) -> None:
    created = _request(world)
    typed = printed_paper_code(created.paper_code).lower()  # as a steward might type it
    consent_id = _paper(world, typed)
    assert consent_id == f"P-{created.request_id}"
    with world.connect() as connection:
        consent = connection.execute(
            select(CONSENT).where(CONSENT.c.consent_id == consent_id)
        ).one()
    assert (consent.method, consent.request_id, consent.language, consent.signed_date) == (
        "paper",
        created.request_id,
        "es",
        TODAY,
    )
    assert requests(world, principal(world, "admin@d.org"), now=NOW)["state"].to_list() == [
        "signed"
    ]
    assert notifications_for(world, principal(world, "a@orga.org")).height == 1
    assert notifications_for(world, principal(world, "counselor@d.org")).height == 1


def test_an_unknown_or_closed_code_is_refused_with_the_code_in_the_words(world: Engine) -> None:
    with pytest.raises(InvalidRequest, match="ZZZZ-ZZZZ"):
        _paper(world, "ZZZZ-ZZZZ")
    code = _request(world).paper_code
    _paper(world, code)
    with pytest.raises(InvalidRequest, match=f"{code}.*already signed"):
        _paper(world, code)


def test_a_paper_release_needs_a_signer_and_a_date_not_after_today(world: Engine) -> None:
    code = _request(world).paper_code
    with pytest.raises(InvalidRequest, match="name"):
        _paper(world, code, signed_by=" ")
    with pytest.raises(InvalidRequest, match="after today"):
        _paper(world, code, signed_date=date(2026, 11, 23))
    with world.connect() as connection:
        assert (
            connection.execute(select(CONSENT).where(CONSENT.c.method == "paper")).first() is None
        )


def test_only_the_steward_records_paper_releases(world: Engine) -> None:
    code = _request(world).paper_code
    with pytest.raises(AccessDenied):
        _paper(world, code, email="counselor@d.org")


def test_the_requester_cancels_and_the_links_close(world: Engine) -> None:
    created = _request(world)
    cancel_request(world, principal(world, "counselor@d.org"), created.request_id)
    assert requests(world, principal(world, "admin@d.org"), now=NOW)["state"].to_list() == [
        "cancelled"
    ]
    with pytest.raises(InvalidRequest, match="already cancelled"):
        cancel_request(world, principal(world, "admin@d.org"), created.request_id)
    with pytest.raises(InvalidRequest, match="already cancelled"):
        _paper(world, created.paper_code)


def test_someone_elses_request_is_not_the_counselors_to_cancel(world: Engine) -> None:
    created = _request(world, "admin@d.org")
    with pytest.raises(AccessDenied):
        cancel_request(world, principal(world, "counselor@d.org"), created.request_id)
    with pytest.raises(AccessDenied):
        printable_request(world, principal(world, "counselor@d.org"), created.request_id)


def test_the_printable_release_carries_the_three_elements_and_the_code(world: Engine) -> None:
    created = _request(world)
    printable = printable_request(world, principal(world, "counselor@d.org"), created.request_id)
    assert (printable.paper_code, printable.student_first_name, printable.school_name) == (
        created.paper_code,
        "Ana",
        "First High",
    )
    assert (printable.org_name, printable.categories, printable.purpose) == (
        "Mentors A",
        ("attendance", "tests"),
        "Mentoring",
    )
    assert sorted(printable.recipients) == [("Mom Testcase", "en"), ("Papá Testcase", "es")]
    assert not printable.signer_is_student
    eli = printable_request(
        world,
        principal(world, "admin@d.org"),
        _request(world, "admin@d.org", ELI_FOR_ORGC).request_id,
    )
    assert eli.signer_is_student
    with world.connect() as connection:
        printed = (
            connection.execute(
                select(AUDIT.c.user_email).where(AUDIT.c.action == "release_request.print")
            )
            .scalars()
            .all()
        )
    assert printed == ["counselor@d.org", "admin@d.org"]


def test_a_counselor_may_not_list_another_schools_student(world: Engine) -> None:
    _request(world, "admin@d.org", ELI_FOR_ORGC)
    with pytest.raises(AccessDenied):
        requests(world, principal(world, "counselor@d.org"), student_id="S5")
    with pytest.raises(AccessDenied):
        requests(world, principal(world, "a@orga.org"))


def test_a_paper_release_for_an_eligible_student_is_signed_by_the_student(world: Engine) -> None:
    code = _request(world, "admin@d.org", ELI_FOR_ORGC).paper_code
    with pytest.raises(InvalidRequest, match="eligible_student"):
        _paper(world, code, signed_by="Parent Testcase", relationship="parent")
    assert _paper(world, code, signed_by="Eli Testcase", relationship="eligible_student") == "P-1"
