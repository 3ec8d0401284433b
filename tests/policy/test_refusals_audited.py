"""Every refusal is recorded (docs/access-rules.md, "The audit log"; issue 10, item 8).

Each entry point of `data_access/` that can raise `AccessDenied` is called here by someone
it refuses; the refusal must be in the audit log with outcome "denied" and its reason,
committed although the request raised.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from data_access import administration, aggregates, api, disclosures, referrals, roster
from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.identity import sign_in
from data_access.policy import AccessDenied, Principal
from data_access.users import UserRequest
from tests.worlds import TODAY, build_small_world

Call = Callable[[Engine, Principal], Any]

#: (who is refused, what they call, the action recorded, the students recorded)
ENTRY_POINTS: dict[str, tuple[str, Call, str, set[str]]] = {
    "the early-warning list, for a viewer": (
        "viewer@city.org",
        lambda e, p: roster.at_risk_list(e, p),
        "flags.list",
        set(),
    ),
    "the live early-warning export, for a viewer": (
        "viewer@city.org",
        lambda e, p: roster.live_list(e, p, None, TODAY),
        "flags.export",
        set(),
    ),
    "the disclosure log, for a counselor": (
        "counselor@d.org",
        lambda e, p: disclosures.disclosure_log(e, p, "S1"),
        "disclosures.read",
        {"S1"},
    ),
    "the disclosure log of another family's child, for a parent": (
        "mom@family.org",
        lambda e, p: disclosures.disclosure_log(e, p, "S5"),
        "disclosures.read",
        {"S5"},
    ),
    "the disclosure log without a student, for a steward": (
        "admin@d.org",
        lambda e, p: disclosures.disclosure_log(e, p),
        "disclosures.read",
        set(),
    ),
    "the audit search, for a counselor": (
        "counselor@d.org",
        lambda e, p: disclosures.audit_events(e, p),
        "audit.read",
        set(),
    ),
    "the audit search, for a viewer": (
        "viewer@city.org",
        lambda e, p: disclosures.audit_events(e, p, student_id="S1"),
        "audit.read",
        {"S1"},
    ),
    "the audit search for another family's child, for a parent": (
        "mom@family.org",
        lambda e, p: disclosures.audit_events(e, p, student_id="S5"),
        "disclosures.read",
        {"S5"},
    ),
    "the pipeline's cohorts, for a parent": (
        "mom@family.org",
        lambda e, p: aggregates.pipeline_cohorts(e, p),
        "pipeline.read",
        set(),
    ),
    "the pipeline, for a teacher": (
        "teacher@d.org",
        lambda e, p: aggregates.pipeline(e, p, 2027),
        "pipeline.read",
        set(),
    ),
    "the pipeline trend, for a student": (
        "eli@student.org",
        lambda e, p: aggregates.pipeline_trend(e, p),
        "pipeline.read",
        set(),
    ),
    "the consent coverage, for a teacher": (
        "teacher@d.org",
        lambda e, p: aggregates.consent_coverage(e, p),
        "consent_coverage.read",
        set(),
    ),
    "the users, for a counselor": (
        "counselor@d.org",
        lambda e, p: administration.users(e, p),
        "users.read",
        set(),
    ),
    "saving a user, for a counselor": (
        "counselor@d.org",
        lambda e, p: administration.save_user_as(
            e, p, UserRequest(email="x@d.org", role="admin", confidentiality_signed_date=TODAY)
        ),
        "user.save",
        set(),
    ),
    "the organisations, for a parent": (
        "mom@family.org",
        lambda e, p: administration.organisations(e, p),
        "organisations.read",
        set(),
    ),
    "the agreements, for a partner": (
        "a@orga.org",
        lambda e, p: administration.agreements(e, p),
        "agreements.read",
        set(),
    ),
    "saving an agreement, for a partner": (
        "a@orga.org",
        lambda e, p: administration.save_agreement(
            e,
            p,
            administration.AgreementRequest(
                agreement_id="AG9",
                org_id="ORGA",
                categories=("attendance",),
                effective_date=TODAY,
            ),
        ),
        "agreement.save",
        set(),
    ),
    "the releases, for a leader": (
        "leader@d.org",
        lambda e, p: administration.consents(e, p, student_id="S1"),
        "consent.read",
        {"S1"},
    ),
    "recording a release, for a counselor": (
        "counselor@d.org",
        lambda e, p: administration.record_consent(
            e,
            p,
            administration.ConsentRequest(
                consent_id="C9",
                student_id="S1",
                org_id="ORGA",
                categories=("attendance",),
                purpose="mentoring",
                signed_by="Maria Diaz",
                signer_relationship="parent",
                signed_date=TODAY,
            ),
        ),
        "consent.record",
        {"S1"},
    ),
    "revoking a release, for a partner": (
        "a@orga.org",
        lambda e, p: administration.revoke_consent(e, p, "C1", TODAY),
        "consent.revoke",
        set(),
    ),
    "the data freshness, for a counselor": (
        "counselor@d.org",
        lambda e, p: administration.data_freshness(e, p),
        "data_freshness.read",
        set(),
    ),
    "when the indicators were computed, for a counselor": (
        "counselor@d.org",
        lambda e, p: administration.indicators_computed_as_of(e, p),
        "data_freshness.read",
        set(),
    ),
    "the import history, for a counselor": (
        "counselor@d.org",
        lambda e, p: administration.import_history(e, p),
        "import_history.read",
        set(),
    ),
    "the referrals, for a parent": (
        "mom@family.org",
        lambda e, p: referrals.referrals(e, p, "S1"),
        "referral.read",
        {"S1"},
    ),
    "uploading files, for a counselor": (
        "counselor@d.org",
        lambda e, p: api.admin_import(p, {"schools.csv": b"school_id\n"}, dry_run=False),
        "import",
        set(),
    ),
}


@pytest.fixture
def world(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The small world, also as the configured database (for `data_access.api`)."""
    build_small_world(engine)
    monkeypatch.setenv("PATHWISE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    yield engine
    api.get_engine().dispose()


def _refusals(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        events = connection.execute(
            select(AUDIT_EVENT).where(AUDIT_EVENT.c.outcome == "denied")
        ).all()
        students = connection.execute(select(AUDIT_STUDENT)).all()
    return [
        {
            **event._asdict(),
            "students": {s.student_id for s in students if s.event_id == event.event_id},
            "detail": json.loads(event.detail or "{}"),
        }
        for event in events
    ]


@pytest.mark.parametrize("entry_point", list(ENTRY_POINTS))
def test_a_refusal_is_recorded_with_its_reason_although_the_request_raises(
    world: Engine, entry_point: str
) -> None:
    email, call, action, students = ENTRY_POINTS[entry_point]
    principal = sign_in(world, email, TODAY)
    with pytest.raises(AccessDenied) as denied:
        call(world, principal)
    refusals = _refusals(world)
    assert len(refusals) == 1, refusals
    (refusal,) = refusals
    assert (refusal["user_email"], refusal["role"], refusal["action"]) == (
        email,
        principal.role.value,
        action,
    )
    assert refusal["detail"]["reason"] == denied.value.code
    assert refusal["detail"]["message"] == denied.value.reason
    assert refusal["students"] == students


def test_demo_sign_in_on_real_data_is_a_recorded_refusal(world: Engine) -> None:
    with pytest.raises(AccessDenied):
        api.demo_users()
    (refusal,) = _refusals(world)
    assert (refusal["user_email"], refusal["action"], refusal["detail"]["reason"]) == (
        "unknown",
        "demo_sign_in.list",
        "not_demo",
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda e, p: disclosures.audit_events(e, p),
        lambda e, p: disclosures.audit_events(e, p, student_id="S1"),
        lambda e, p: disclosures.disclosure_log(e, p, "S1"),
    ],
    ids=["audit search", "audit search about a student", "disclosure log"],
)
def test_a_steward_in_meeting_mode_reads_no_log_that_names_users_or_students(
    world: Engine, call: Call
) -> None:
    steward = sign_in(world, "admin@d.org", TODAY)
    call(world, steward)  # outside meeting mode: allowed
    with pytest.raises(AccessDenied) as denied:
        call(world, steward.in_meeting_mode())
    assert denied.value.code == "forbidden"
    (refusal,) = _refusals(world)
    assert (refusal["user_email"], refusal["detail"]["reason"]) == ("admin@d.org", "forbidden")
