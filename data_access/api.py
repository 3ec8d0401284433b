"""The public face of `data_access`: what the pages and the command line may call.

Every function here reads or writes through the access policy with the principal it is
given, and audits in the same transaction. None of them hands out an engine, a session
or a table: a page that wanted raw rows would have to go around this module (and the
tests in tests/test_architecture.py fail if any page or UI module does).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import select

from data_access import administration, disclosures, notes, records, referrals
from data_access.administration import AgreementRequest, ConsentRequest, InvalidChange
from data_access.engine import get_engine
from data_access.identity import sign_in as _sign_in
from data_access.meta import LoadedCounts, is_demo, loaded_counts
from data_access.models import User, table_of
from data_access.notes import InvalidNote
from data_access.policy import AccessDenied, Principal
from data_access.records import StudentRecord, VisibilityReason
from data_access.referrals import InvalidReferral
from data_access.users import InvalidUser, UserRequest
from domain.vocabulary import ROLES

USER = table_of(User)

__all__ = [
    "AccessDenied",
    "AgreementRequest",
    "ConsentRequest",
    "InvalidChange",
    "InvalidUser",
    "UserRequest",
    "admin_agreements",
    "admin_consents",
    "admin_freshness",
    "admin_import_history",
    "admin_organisations",
    "admin_record_consent",
    "admin_revoke_consent",
    "admin_save_agreement",
    "admin_save_user",
    "admin_users",
    "InvalidNote",
    "InvalidReferral",
    "LoadedCounts",
    "Principal",
    "StudentRecord",
    "VisibilityReason",
    "add_note",
    "audit_events",
    "counts",
    "create_referral",
    "demo_users",
    "my_students",
    "disclosure_log",
    "is_demo_database",
    "notes_for",
    "referrals_for",
    "respond_to_referral",
    "sign_in",
    "student_record",
]


def sign_in(email: str, today: date | None = None) -> Principal:
    return _sign_in(get_engine(), email, today)


def is_demo_database() -> bool:
    return is_demo(get_engine())


def demo_users() -> list[dict[str, str]]:
    """The users a trainer may act as: only ever on the demo database."""
    engine = get_engine()
    if not is_demo(engine):
        raise AccessDenied("Demo sign-in exists only on the demo database.", code="not_demo")
    order = {role: i for i, role in enumerate(ROLES)}
    with engine.connect() as connection:
        rows = connection.execute(
            select(USER.c.email, USER.c.role, USER.c.display_name).order_by(USER.c.email)
        ).all()
    people = [dict(r._mapping) for r in rows]
    return sorted(people, key=lambda p: (order.get(p["role"], 99), p["email"]))


def my_students(principal: Principal) -> list[dict[str, str]]:
    """A parent's children or a student's own id, with names (for the family view)."""
    return records.family_students(get_engine(), principal)


def counts() -> LoadedCounts:
    """How many schools, organisations, students and users are loaded (no student data)."""
    return loaded_counts(get_engine())


def student_record(principal: Principal, student_id: str, **options: Any) -> StudentRecord:
    return records.student_record(get_engine(), principal, student_id, **options)


def notes_for(principal: Principal, student_id: str) -> pl.DataFrame:
    return notes.notes_for(get_engine(), principal, student_id)


def add_note(
    principal: Principal, student_id: str, body: str, *, shared_with_family: bool = False
) -> int:
    return notes.add_note(
        get_engine(), principal, student_id, body, shared_with_family=shared_with_family
    )


def referrals_for(principal: Principal, student_id: str | None = None) -> pl.DataFrame:
    return referrals.referrals(get_engine(), principal, student_id)


def create_referral(principal: Principal, student_id: str, org_id: str, reason: str) -> int:
    return referrals.create_referral(get_engine(), principal, student_id, org_id, reason)


def respond_to_referral(
    principal: Principal, referral_id: int, status: str, response: str = ""
) -> None:
    referrals.respond_to_referral(get_engine(), principal, referral_id, status, response)


def disclosure_log(principal: Principal, student_id: str | None = None) -> pl.DataFrame:
    return disclosures.disclosure_log(get_engine(), principal, student_id)


def audit_events(
    principal: Principal,
    *,
    student_id: str | None = None,
    since: date | None = None,
    user_email: str | None = None,
    action: str | None = None,
) -> pl.DataFrame:
    return disclosures.audit_events(
        get_engine(),
        principal,
        student_id=student_id,
        since=since,
        user_email=user_email,
        action=action,
    )


# --- the data steward's work (admin only; each function re-checks) -------------------


def admin_users(principal: Principal) -> pl.DataFrame:
    return administration.users(get_engine(), principal)


def admin_save_user(principal: Principal, request: UserRequest) -> bool:
    return administration.save_user_as(get_engine(), principal, request)


def admin_organisations(principal: Principal) -> pl.DataFrame:
    return administration.organisations(get_engine(), principal)


def admin_agreements(principal: Principal) -> pl.DataFrame:
    return administration.agreements(get_engine(), principal)


def admin_save_agreement(principal: Principal, request: AgreementRequest) -> None:
    administration.save_agreement(get_engine(), principal, request)


def admin_consents(
    principal: Principal, *, student_id: str | None = None, expiring_within_days: int | None = None
) -> pl.DataFrame:
    return administration.consents(
        get_engine(), principal, student_id=student_id, expiring_within_days=expiring_within_days
    )


def admin_record_consent(principal: Principal, request: ConsentRequest) -> None:
    administration.record_consent(get_engine(), principal, request)


def admin_revoke_consent(principal: Principal, consent_id: str, revoked: date) -> None:
    administration.revoke_consent(get_engine(), principal, consent_id, revoked)


def admin_freshness(principal: Principal) -> pl.DataFrame:
    return administration.data_freshness(get_engine(), principal)


def admin_import_history(principal: Principal) -> pl.DataFrame:
    return administration.import_history(get_engine(), principal)
