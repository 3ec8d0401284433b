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

from data_access import disclosures, notes, records, referrals
from data_access.engine import get_engine
from data_access.identity import sign_in as _sign_in
from data_access.meta import LoadedCounts, is_demo, loaded_counts
from data_access.notes import InvalidNote
from data_access.policy import AccessDenied, Principal
from data_access.records import StudentRecord, VisibilityReason
from data_access.referrals import InvalidReferral

__all__ = [
    "AccessDenied",
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
