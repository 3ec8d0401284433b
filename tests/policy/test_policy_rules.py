"""The access rules of docs/access-rules.md, one behaviour at a time, in the small world."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, text, update

from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.disclosures import audit_events, disclosure_log
from data_access.identity import sign_in
from data_access.models import Consent, table_of
from data_access.notes import InvalidNote, add_note, notes_for
from data_access.policy import AccessDenied, Principal, visible_students
from data_access.records import student_record
from domain.vocabulary import CATEGORIES
from tests.worlds import TODAY, TOMORROW, YEAR, build_small_world

ALL = frozenset(CATEGORIES)


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    return engine


def who(engine: Engine, email: str) -> Principal:
    return sign_in(engine, email, TODAY)


def visible(engine: Engine, principal: Principal) -> dict[str, frozenset[str]]:
    scope = visible_students(principal, YEAR).subquery()
    with engine.connect() as connection:
        rows = connection.execute(select(scope)).all()
    return {r.student_id: frozenset(c for c in CATEGORIES if getattr(r, f"see_{c}")) for r in rows}


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("stranger@nowhere.org", "unknown_user"),
        ("gone@d.org", "inactive_user"),
        ("new@orga.org", "no_confidentiality_agreement"),
    ],
)
def test_unknown_inactive_and_unsigned_users_are_refused_with_a_reason_and_audited(
    world: Engine, email: str, code: str
) -> None:
    with pytest.raises(AccessDenied) as denied:
        sign_in(world, email, TODAY)
    assert denied.value.code == code
    with world.connect() as connection:
        event = connection.execute(
            select(AUDIT_EVENT).where(AUDIT_EVENT.c.action == "sign_in")
        ).one()
    assert event.outcome == "denied" and event.user_email == email


def test_families_need_no_confidentiality_agreement(world: Engine) -> None:
    assert who(world, "mom@family.org").role == "parent"
    assert who(world, "eli@student.org").student_id == "S5"


def test_admin_and_leader_see_every_student_and_category(world: Engine) -> None:
    for email in ("admin@d.org", "leader@d.org"):
        seen = visible(world, who(world, email))
        assert set(seen) == {"S1", "S2", "S3", "S4", "S5", "S6"}
        assert all(categories == ALL for categories in seen.values())


def test_a_counselor_sees_the_students_enrolled_at_their_school(world: Engine) -> None:
    assert set(visible(world, who(world, "counselor@d.org"))) == {"S1", "S2", "S3"}


def test_a_teacher_sees_their_caseload_with_attendance_grades_and_tests_only(world: Engine) -> None:
    seen = visible(world, who(world, "teacher@d.org"))
    assert set(seen) == {"S1", "S4"}
    assert seen["S1"] == {"attendance", "grades", "tests"}


def test_a_partner_sees_consented_students_with_consent_and_agreement_categories_intersected(
    world: Engine,
) -> None:
    seen = visible(world, who(world, "a@orga.org"))
    # S2 revoked yesterday, S4 signs tomorrow; S3's release expires today: still active.
    assert set(seen) == {"S1", "S3"}
    assert seen["S1"] == {
        "attendance",
        "notes",
    }  # grades not in the agreement, tests not in the release
    assert seen["S3"] == {"attendance"}


def test_a_partner_whose_agreement_expired_sees_nobody(world: Engine) -> None:
    assert visible(world, who(world, "b@orgb.org")) == {}


def test_viewers_see_no_student(world: Engine) -> None:
    assert visible(world, who(world, "viewer@city.org")) == {}


def test_families_see_only_their_own(world: Engine) -> None:
    assert set(visible(world, who(world, "mom@family.org"))) == {"S1"}
    assert set(visible(world, who(world, "eli@student.org"))) == {"S5"}


def test_a_release_signed_tomorrow_counts_from_tomorrow(world: Engine) -> None:
    partner = sign_in(world, "a@orga.org", TOMORROW)
    assert "S4" in visible(world, partner)
    assert "S3" not in visible(world, partner)  # expired at the end of TODAY


def test_the_record_holds_only_the_partners_categories(world: Engine) -> None:
    record = student_record(world, who(world, "a@orga.org"), "S1")
    assert record.attendance is not None and record.attendance.height == 1
    assert record.marks is None and record.tests is None and record.demographics is None
    assert record.services["org_id"].to_list() == ["ORGA"]  # not the other partner's service
    assert record.consents["consent_id"].to_list() == ["C1"]
    assert record.reason.consent_id == "C1" and record.reason.agreement_id == "DSA-A"


def test_a_counselor_record_shows_every_category_and_every_service(world: Engine) -> None:
    record = student_record(world, who(world, "counselor@d.org"), "S1")
    assert record.marks is not None and record.tests is not None and record.demographics is not None
    assert sorted(record.services["org_id"].to_list()) == ["ORGA", "ORGC"]
    assert record.reason.legal_basis == "role:counselor"


def test_reaching_an_out_of_scope_student_by_id_returns_nothing_and_is_audited(
    world: Engine,
) -> None:
    partner = who(world, "a@orga.org")
    with pytest.raises(AccessDenied):
        student_record(world, partner, "S5")
    with world.connect() as connection:
        row = connection.execute(
            select(AUDIT_EVENT.c.outcome, AUDIT_STUDENT.c.student_id).join(
                AUDIT_STUDENT, AUDIT_STUDENT.c.event_id == AUDIT_EVENT.c.event_id
            )
        ).one()
    assert tuple(row) == ("denied", "S5")


def test_every_read_is_audited_with_its_legal_basis(world: Engine) -> None:
    student_record(world, who(world, "a@orga.org"), "S1")
    with world.connect() as connection:
        row = connection.execute(
            select(
                AUDIT_EVENT.c.action, AUDIT_EVENT.c.categories, AUDIT_STUDENT.c.legal_basis
            ).join(AUDIT_STUDENT, AUDIT_STUDENT.c.event_id == AUDIT_EVENT.c.event_id)
        ).one()
    assert tuple(row) == ("student.read", "attendance;notes", "consent:C1")


def test_a_revoked_release_is_honoured_on_the_very_next_request(world: Engine) -> None:
    partner = who(world, "a@orga.org")
    assert student_record(world, partner, "S1").student_id == "S1"
    with world.begin() as connection:
        consent = table_of(Consent)
        connection.execute(
            update(consent).where(consent.c.consent_id == "C1").values(revoked_date=TODAY)
        )
    with pytest.raises(AccessDenied):
        student_record(world, partner, "S1")


def test_notes_flow_both_ways_between_school_and_partner(world: Engine) -> None:
    counselor, partner = who(world, "counselor@d.org"), who(world, "a@orga.org")
    add_note(world, partner, "S1", "Ana came to mentoring twice.")
    add_note(world, counselor, "S1", "<b>Thanks</b> - see you Monday")
    assert "Ana came to mentoring twice." in notes_for(world, counselor, "S1")["body"].to_list()
    partner_view = notes_for(world, partner, "S1")["body"].to_list()
    assert "<b>Thanks</b> - see you Monday" in partner_view  # stored as plain text, verbatim
    assert "Other partner note" not in partner_view
    assert "Other partner note" in notes_for(world, counselor, "S1")["body"].to_list()


def test_a_partner_without_notes_in_both_release_and_agreement_cannot_read_or_write_notes(
    world: Engine,
) -> None:
    partner = who(world, "c@orgc.org")  # S5: release {fafsa, grades}, agreement {fafsa}
    with pytest.raises(AccessDenied):
        notes_for(world, partner, "S5")
    with pytest.raises(AccessDenied):
        add_note(world, partner, "S5", "hello")


def test_parents_read_only_notes_shared_with_the_family_and_leaders_cannot_write(
    world: Engine,
) -> None:
    assert notes_for(world, who(world, "mom@family.org"), "S1")["body"].to_list() == [
        "Counselor note"
    ]
    with pytest.raises(AccessDenied):
        add_note(world, who(world, "leader@d.org"), "S1", "hello")
    with pytest.raises(InvalidNote):
        add_note(world, who(world, "counselor@d.org"), "S1", "   ")


def test_families_see_partner_reads_of_their_record_in_the_disclosure_log(world: Engine) -> None:
    student_record(world, who(world, "a@orga.org"), "S1")
    student_record(world, who(world, "counselor@d.org"), "S1")
    log = disclosure_log(world, who(world, "mom@family.org"))
    assert log["org_id"].to_list() == ["ORGA"]
    assert log["legal_basis"].to_list() == ["consent:C1"]
    with pytest.raises(AccessDenied):
        disclosure_log(world, who(world, "mom@family.org"), "S5")


def test_only_admins_search_the_audit_log(world: Engine) -> None:
    student_record(world, who(world, "a@orga.org"), "S1")
    events = audit_events(world, who(world, "admin@d.org"), student_id="S1")
    assert events["action"].to_list() == ["student.read"]
    with pytest.raises(AccessDenied):
        audit_events(world, who(world, "counselor@d.org"))


def test_the_audit_log_cannot_be_rewritten_even_by_the_application(world: Engine) -> None:
    student_record(world, who(world, "admin@d.org"), "S1")
    with pytest.raises(Exception, match="append-only"), world.begin() as connection:
        connection.execute(text("DELETE FROM audit_student"))
