"""The data steward's changes: only admins, complete releases, revocation at once, audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select

from data_access import administration as admin
from data_access.audit import AUDIT_EVENT
from data_access.identity import sign_in
from data_access.policy import AccessDenied
from data_access.records import student_record
from tests.worlds import TODAY, build_small_world

RELEASE = admin.ConsentRequest(
    consent_id="C9", student_id="S2", org_id="ORGA", categories=("attendance", "notes"),
    purpose="mentoring", signed_by="Parent", signer_relationship="parent", signed_date=TODAY,
)  # fmt: skip


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    return engine


def test_only_admins_manage_releases_users_and_agreements(world: Engine) -> None:
    counselor = sign_in(world, "counselor@d.org", TODAY)
    with pytest.raises(AccessDenied):
        admin.record_consent(world, counselor, RELEASE)
    with pytest.raises(AccessDenied):
        admin.users(world, counselor)
    with pytest.raises(AccessDenied):
        admin.consents(world, sign_in(world, "admin@d.org", TODAY).in_meeting_mode())


@pytest.mark.parametrize("missing", ["purpose", "signed_by", "consent_id"])
def test_a_release_missing_a_required_element_is_refused(world: Engine, missing: str) -> None:
    steward = sign_in(world, "admin@d.org", TODAY)
    with pytest.raises(admin.InvalidChange, match="required"):
        changes: dict[str, Any] = {missing: " "}
        admin.record_consent(world, steward, replace(RELEASE, **changes))
    partner = sign_in(world, "a@orga.org", TODAY)
    with pytest.raises(AccessDenied):
        student_record(world, partner, "S2")


def test_recording_then_revoking_a_release_opens_then_closes_access_at_once(world: Engine) -> None:
    steward, partner = sign_in(world, "admin@d.org", TODAY), sign_in(world, "a@orga.org", TODAY)
    admin.record_consent(world, steward, RELEASE)
    assert student_record(world, partner, "S2").categories == {"attendance", "notes"}
    admin.revoke_consent(world, steward, "C9", TODAY)
    with pytest.raises(AccessDenied):
        student_record(world, partner, "S2")
    with world.connect() as connection:
        actions = (
            connection.execute(select(AUDIT_EVENT.c.action).order_by(AUDIT_EVENT.c.event_id))
            .scalars()
            .all()
        )
    assert "consent.record" in actions and "consent.revoke" in actions


def test_the_expiring_list_shows_active_releases_ending_within_the_window(world: Engine) -> None:
    steward = sign_in(world, "admin@d.org", TODAY)
    soon = admin.consents(world, steward, expiring_within_days=30)
    assert soon["consent_id"].to_list() == ["C3"]  # expires today, still active


def test_agreements_are_validated_and_saved(world: Engine) -> None:
    steward = sign_in(world, "admin@d.org", TODAY)
    with pytest.raises(admin.InvalidChange, match="expires before"):
        admin.save_agreement(
            world,
            steward,
            admin.AgreementRequest(
                "DSA-X", "ORGA", ("grades",), date(2026, 9, 1), date(2026, 1, 1)
            ),
        )
    admin.save_agreement(
        world, steward, admin.AgreementRequest("DSA-B", "ORGB", ("grades",), date(2026, 9, 1))
    )
    table = admin.agreements(world, steward)
    row = table.filter(table["agreement_id"] == "DSA-B").row(0, named=True)
    assert row["categories"] == "grades" and row["active"] is True
    partner = sign_in(world, "b@orgb.org", TODAY)
    assert student_record(world, partner, "S3").categories == {"grades"}


def test_freshness_reports_the_latest_data_of_each_source(world: Engine) -> None:
    table = admin.data_freshness(world, sign_in(world, "admin@d.org", TODAY))
    assert table.filter(table["source"] == "attendance")["latest"].item() == "2026-10-31"


def test_freshness_recorded_at_refresh_matches_the_tables(world: Engine) -> None:
    from data_access.derived import refresh_derived

    steward = sign_in(world, "admin@d.org", TODAY)
    live = admin.data_freshness(world, steward)
    refresh_derived(world, as_of=TODAY)
    recorded = admin.data_freshness(world, steward)
    assert recorded.select("source", "latest").equals(live.select("source", "latest"))


def test_stewards_see_when_the_indicators_were_last_computed(world: Engine) -> None:
    from data_access.derived import refresh_derived

    steward = sign_in(world, "admin@d.org", TODAY)
    refresh_derived(world, as_of=date(2026, 11, 2))
    assert admin.indicators_computed_as_of(world, steward) == date(2026, 11, 2)
    with pytest.raises(AccessDenied):
        admin.indicators_computed_as_of(world, sign_in(world, "counselor@d.org", TODAY))
