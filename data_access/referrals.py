"""Referrals: school staff ask a partner organisation to serve a student.

- create: admin, counselor and teacher, for a student they may see, to a community or
  hub organisation.
- read: school staff (admin, district_leader, counselor) see the referrals of the students
  they may see; a teacher sees only the referrals they made (which organisation a student
  is referred to, and why, is service information a teacher may not see:
  `policy.sees_services`); partner staff see the referrals addressed to their organisation
  for students they may see. A referral to a partner without an active release naming it
  waits: the partner learns nothing about the student until the family signs (the school
  sees it as "waiting for a release").
- respond: partner staff of the addressed organisation (accepted, declined, closed).
All audited. Who may do which is decided by `data_access/policy.py` (`Action.REFER`,
`Action.READ_REFERRALS`, `Action.RESPOND_TO_REFERRAL`, `visible_referrals`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Boolean, Engine, and_, cast, exists, insert, literal, select, update

from data_access.audit import record_event, record_refusal, recording_refusals
from data_access.models import Consent, Organization, Referral, Student, table_of
from data_access.policy import (
    AccessDenied,
    Action,
    Principal,
    consent_active,
    current_school_year,
    require,
    require_student,
    sees_services,
    visibility_row,
    visible_referrals,
    visible_students,
)
from data_access.reading import frame, student_request
from domain.vocabulary import REFERRAL_STATUSES

REFERRAL = table_of(Referral)
ORGANIZATION = table_of(Organization)
STUDENT = table_of(Student)
CONSENT = table_of(Consent)


class InvalidReferral(ValueError):
    """Unknown organisation, empty reason or an unknown status."""


def create_referral(
    engine: Engine, principal: Principal, student_id: str, org_id: str, reason: str
) -> int:
    text = (reason or "").strip()
    if not text:
        raise InvalidReferral("Say why you are referring the student.")
    with (
        recording_refusals(engine, principal, "referral.create"),
        student_request(engine) as connection,
    ):
        org = connection.execute(
            select(ORGANIZATION).where(ORGANIZATION.c.org_id == org_id)
        ).first()
        if org is None or org.org_type == "district":
            raise InvalidReferral(f"No partner organisation with id {org_id!r}.")
        row = require_student(connection, principal, Action.REFER, student_id)
        now = datetime.now(UTC)
        referral_id = connection.execute(
            insert(REFERRAL)
            .values(
                student_id=student_id,
                org_id=org_id,
                referred_by=principal.email,
                reason=text[:2000],
                status="open",
                created_at=now,
                updated_at=now,
            )
            .returning(REFERRAL.c.referral_id)
        ).scalar_one()
        record_event(
            connection,
            principal,
            "referral.create",
            students={student_id: str(row.legal_basis)},
            detail={"referral_id": referral_id, "org_id": org_id},
        )
    return int(referral_id)


def waiting_for_release(principal: Principal) -> Any:
    """`waiting_for_release`: an open referral to an organisation without an active release
    naming it for the student (the partner learns nothing until the family signs). Known to
    those who see which organisations serve a student; null for a teacher, who may not
    learn of releases (`policy.sees_services`), and false for a partner, who sees a
    referral only under an active release."""
    if not sees_services(principal):
        return cast(literal(None), Boolean).label("waiting_for_release")
    released = exists(
        select(literal(1)).where(
            CONSENT.c.student_id == REFERRAL.c.student_id,
            CONSENT.c.org_id == REFERRAL.c.org_id,
            consent_active(principal.today),
        )
    )
    return and_(REFERRAL.c.status == "open", ~released).label("waiting_for_release")


def referrals(engine: Engine, principal: Principal, student_id: str | None = None) -> pl.DataFrame:
    """Referrals the principal may see (one student's, or all in scope), newest first: a
    partner only those addressed to it, a teacher only those they made
    (`policy.visible_referrals`), with `waiting_for_release`. Asking about a student out of
    scope returns none, and the refusal is recorded."""
    asked = [student_id] if student_id is not None else []
    with recording_refusals(engine, principal, "referral.read", students=asked):
        require(principal, Action.READ_REFERRALS)
    with student_request(engine) as connection:
        year = current_school_year(connection, principal.today)
        scope = visible_students(principal, year, student_id).subquery("scope")
        statement = (
            select(
                REFERRAL.c.referral_id,
                REFERRAL.c.student_id,
                STUDENT.c.first_name,
                STUDENT.c.last_name,
                REFERRAL.c.org_id,
                ORGANIZATION.c.org_name,
                REFERRAL.c.referred_by,
                REFERRAL.c.reason,
                REFERRAL.c.status,
                REFERRAL.c.created_at,
                REFERRAL.c.updated_at,
                REFERRAL.c.response,
                waiting_for_release(principal),
                scope.c.legal_basis,
            )
            .select_from(
                REFERRAL.join(scope, scope.c.student_id == REFERRAL.c.student_id)
                .join(STUDENT, STUDENT.c.student_id == REFERRAL.c.student_id)
                .join(ORGANIZATION, ORGANIZATION.c.org_id == REFERRAL.c.org_id)
            )
            .where(visible_referrals(principal))
            .order_by(REFERRAL.c.created_at.desc(), REFERRAL.c.referral_id.desc())
        )
        if student_id is not None:
            statement = statement.where(REFERRAL.c.student_id == student_id)
        result = frame(
            connection,
            statement,
            schema={"referral_id": pl.Int64, "waiting_for_release": pl.Boolean},
        )
        if result.height:
            record_event(
                connection,
                principal,
                "referral.read",
                students=dict(zip(result["student_id"], result["legal_basis"], strict=True)),
            )
        elif (
            student_id is not None
            and visibility_row(connection, principal, student_id, year) is None
        ):
            record_refusal(
                connection,
                principal,
                "referral.read",
                AccessDenied("This student is not in your scope.", code="out_of_scope"),
                students=asked,
            )
    return result.drop("legal_basis")


def respond_to_referral(
    engine: Engine, principal: Principal, referral_id: int, status: str, response: str = ""
) -> None:
    """The addressed partner's answer (accepted, declined, closed), for a student it may
    see; `AccessDenied` (audited) for anyone else."""
    if status not in REFERRAL_STATUSES or status == "open":
        raise InvalidReferral(f"A response is one of accepted, declined, closed (not {status!r}).")
    refused = AccessDenied("You may not respond to this referral.", code="out_of_scope")
    with (
        recording_refusals(engine, principal, "referral.respond"),
        student_request(engine) as connection,
    ):
        referral = connection.execute(
            select(REFERRAL).where(REFERRAL.c.referral_id == referral_id)
        ).first()
        if referral is None:
            raise refused
        row = require_student(
            connection, principal, Action.RESPOND_TO_REFERRAL, referral.student_id
        )
        if referral.org_id != principal.org_id:
            raise AccessDenied(refused.reason, code=refused.code, students=[referral.student_id])
        connection.execute(
            update(REFERRAL)
            .where(REFERRAL.c.referral_id == referral_id)
            .values(
                status=status,
                response=(response or "").strip()[:2000] or None,
                updated_at=datetime.now(UTC),
            )
        )
        record_event(
            connection,
            principal,
            "referral.respond",
            students={referral.student_id: str(row.legal_basis)},
            detail={"referral_id": referral_id, "status": status},
        )
