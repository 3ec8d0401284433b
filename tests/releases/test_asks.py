"""A partner asks the district to request a release; the steward matches or rejects it
(issue 16 part 1; data_access/release_asks.py).

The small world (tests/worlds.py): a@orga.org works for ORGA (agreement {attendance, notes,
tests}, active); the admin is the steward. Ben (S2, First High) had a release to ORGA that
was revoked yesterday, so ORGA cannot see him today.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, insert, select

from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.identity import sign_in
from data_access.models import Consent, ReleaseAsk, table_of
from data_access.policy import AccessDenied
from data_access.release_asks import (
    InvalidAsk,
    ask_for_release,
    match_ask,
    my_asks,
    open_asks,
    reject_ask,
)
from tests.worlds import TODAY, build_small_world

ASK = table_of(ReleaseAsk)


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    return engine


def _partner(engine: Engine):
    return sign_in(engine, "a@orga.org", TODAY)


def _steward(engine: Engine):
    return sign_in(engine, "admin@d.org", TODAY)


def _ask_for_ben(engine: Engine, **extra: object) -> int:
    return ask_for_release(
        engine,
        _partner(engine),
        first_name=str(extra.pop("first_name", "Ben")),
        last_name="Testcase",
        school_id="HS1",
        **extra,  # type: ignore[arg-type]
    )


def test_a_partners_ask_is_stored_as_typed_and_listed_as_waiting(world: Engine) -> None:
    ask_id = _ask_for_ben(world, birth_date=date(2010, 1, 1), note="  comes on Tuesdays ")
    asks = my_asks(world, _partner(world))
    assert asks["ask_id"].to_list() == [ask_id]
    row = asks.row(0, named=True)
    assert (row["first_name"], row["last_name"], row["school_name"]) == (
        "Ben",
        "Testcase",
        "First High",
    )
    assert (row["birth_date"], row["note"], row["state"]) == (
        date(2010, 1, 1),
        "comes on Tuesdays",
        "waiting",
    )
    assert "student_id" not in asks.columns and "status" not in asks.columns


def test_another_organisation_does_not_see_the_ask(world: Engine) -> None:
    _ask_for_ben(world)
    assert my_asks(world, sign_in(world, "c@orgc.org", TODAY)).height == 0


@pytest.mark.parametrize("email", ["counselor@d.org", "mom@family.org", "viewer@city.org"])
def test_only_partner_staff_ask(world: Engine, email: str) -> None:
    with pytest.raises(AccessDenied):
        ask_for_release(
            world, sign_in(world, email, TODAY), first_name="Ben", last_name="T", school_id="HS1"
        )


@pytest.mark.parametrize(
    ("first_name", "school_id", "birth_date"),
    [(" ", "HS1", None), ("Ben", "NOPE", None), ("Ben", "HS1", TODAY)],
)
def test_an_ask_without_a_name_a_known_school_or_a_past_birth_date_is_refused(
    world: Engine, first_name: str, school_id: str, birth_date: date | None
) -> None:
    with pytest.raises(InvalidAsk):
        ask_for_release(
            world,
            _partner(world),
            first_name=first_name,
            last_name="Testcase",
            school_id=school_id,
            birth_date=birth_date,
        )
    with world.connect() as connection:
        assert connection.execute(select(ASK)).first() is None


def test_the_steward_sees_the_open_ask_with_the_exact_candidate_first(world: Engine) -> None:
    _ask_for_ben(world, first_name="Bén", birth_date=date(2010, 1, 1))
    asks = open_asks(world, _steward(world))
    assert asks["org_name"].to_list() == ["Mentors A"]
    candidates = asks["candidates"][0].to_list()
    assert candidates[0]["student_id"] == "S2"
    assert candidates[0]["score"] == 1.0
    assert candidates[0]["first_name"] == "Ben"


def test_without_a_birth_date_students_of_the_same_name_are_candidates(world: Engine) -> None:
    _ask_for_ben(world)
    candidates = open_asks(world, _steward(world))["candidates"][0].to_list()
    assert [c["student_id"] for c in candidates] == ["S2"]


def test_the_candidates_shown_to_the_steward_are_audited(world: Engine) -> None:
    _ask_for_ben(world, birth_date=date(2010, 1, 1))
    open_asks(world, _steward(world))
    with world.connect() as connection:
        rows = connection.execute(
            select(AUDIT_STUDENT.c.student_id, AUDIT_STUDENT.c.legal_basis)
            .join(AUDIT_EVENT, AUDIT_EVENT.c.event_id == AUDIT_STUDENT.c.event_id)
            .where(AUDIT_EVENT.c.action == "release_ask.read")
        ).all()
    assert [tuple(r) for r in rows] == [("S2", "role:admin")]


@pytest.mark.parametrize("email", ["a@orga.org", "counselor@d.org", "leader@d.org"])
def test_only_the_steward_reads_open_asks(world: Engine, email: str) -> None:
    _ask_for_ben(world)
    with pytest.raises(AccessDenied):
        open_asks(world, sign_in(world, email, TODAY))


def test_matching_returns_what_the_request_form_needs_and_closes_the_ask(world: Engine) -> None:
    ask_id = _ask_for_ben(world, note="mentoring twice a week")
    matched = match_ask(world, _steward(world), ask_id, "S2")
    assert (matched.student_id, matched.student_first_name, matched.school_name) == (
        "S2",
        "Ben",
        "First High",
    )
    assert (matched.org_id, matched.org_name) == ("ORGA", "Mentors A")
    assert matched.categories == ("attendance", "notes", "tests")
    assert matched.note == "mentoring twice a week"
    assert open_asks(world, _steward(world)).height == 0
    with world.connect() as connection:
        audited = connection.execute(
            select(AUDIT_STUDENT.c.student_id)
            .join(AUDIT_EVENT, AUDIT_EVENT.c.event_id == AUDIT_STUDENT.c.event_id)
            .where(AUDIT_EVENT.c.action == "release_ask.match")
        ).scalars()
        assert list(audited) == ["S2"]


def test_an_ask_is_decided_once(world: Engine) -> None:
    ask_id = _ask_for_ben(world)
    reject_ask(world, _steward(world), ask_id)
    with pytest.raises(InvalidAsk):
        match_ask(world, _steward(world), ask_id, "S2")
    with pytest.raises(InvalidAsk):
        reject_ask(world, _steward(world), ask_id)


def test_matching_to_no_student_is_refused(world: Engine) -> None:
    ask_id = _ask_for_ben(world)
    with pytest.raises(InvalidAsk):
        match_ask(world, _steward(world), ask_id, "S99")


def test_the_partner_learns_of_a_signed_release_only_when_it_names_its_organisation(
    world: Engine,
) -> None:
    ask_id = _ask_for_ben(world)
    match_ask(world, _steward(world), ask_id, "S2")
    other = {
        "consent_id": "NEW-B", "student_id": "S2", "org_id": "ORGC", "categories": "fafsa",
        "purpose": "college", "signed_by": "Parent", "signer_relationship": "parent",
        "signed_date": TODAY,
    }  # fmt: skip
    with world.begin() as connection:
        connection.execute(insert(table_of(Consent)).values(other))
    assert my_asks(world, _partner(world))["state"].to_list() == ["waiting"]
    with world.begin() as connection:
        connection.execute(
            insert(table_of(Consent)).values(
                {**other, "consent_id": "NEW-A", "org_id": "ORGA", "categories": "attendance"}
            )
        )
    assert my_asks(world, _partner(world))["state"].to_list() == ["signed"]


def test_a_release_that_ended_before_the_ask_does_not_say_signed(world: Engine) -> None:
    """Ben's release to ORGA was revoked yesterday: matching his ask does not make it
    "signed" (that would tell the partner the steward found him)."""
    ask_id = _ask_for_ben(world)
    match_ask(world, _steward(world), ask_id, "S2")
    assert my_asks(world, _partner(world))["state"].to_list() == ["waiting"]
