"""The data steward's work: users, agreements, parent releases and data freshness.

Every function requires an `admin` principal and records what it changed in the audit log
(consent changes with the student and the consent as the legal basis). Revoking a release
takes effect on the next request, because nothing about access is cached.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
from sqlalchemy import Engine, func, insert, select, update

from data_access.audit import record_event, recording_refusals
from data_access.derived import FRESHNESS
from data_access.meta import read_meta
from data_access.models import (
    Agreement,
    AttendanceSnapshot,
    Consent,
    CourseMark,
    Enrollment,
    Fafsa,
    ImportRun,
    Organization,
    Outcome,
    Student,
    TestScore,
    User,
    table_of,
)
from data_access.policy import Action, Principal, agreement_active, consent_active, require
from data_access.reading import frame
from data_access.users import InvalidUser, UserRequest, save_user
from domain.vocabulary import CATEGORIES, SIGNER_RELATIONSHIPS, format_list, parse_list

AGREEMENT = table_of(Agreement)
CONSENT = table_of(Consent)
ORGANIZATION = table_of(Organization)
USER = table_of(User)
STUDENT = table_of(Student)


class InvalidChange(ValueError):
    """The steward's change is incomplete or inconsistent; the message says what to fix."""


def _require_admin(
    engine: Engine,
    principal: Principal,
    action: str,
    students: Sequence[str] = (),
    *,
    may: Action = Action.ADMINISTER_USERS,
) -> None:
    """Administration is for data stewards (`may`: the policy's action, admins never in
    meeting mode); a refusal is recorded with the students it was about."""
    with recording_refusals(engine, principal, action, students=students):
        require(principal, may)


def users(engine: Engine, principal: Principal) -> pl.DataFrame:
    _require_admin(engine, principal, "users.read")
    with engine.connect() as connection:
        return frame(
            connection,
            select(USER).order_by(USER.c.role, USER.c.email),
            schema={"active": pl.Boolean, "confidentiality_signed_date": pl.Date},
        )


def save_user_as(engine: Engine, principal: Principal, request: UserRequest) -> bool:
    """Add or update a user and record it in the audit log, in one transaction (the
    Administration page and `pathwise users add` alike); returns whether it was new.
    Raises `InvalidUser`."""
    _require_admin(engine, principal, "user.save")
    with engine.begin() as connection:
        _, created = save_user(connection, request)
        record_event(
            connection,
            principal,
            "user.save",
            detail={k: v for k, v in dataclasses.asdict(request).items() if v is not None},
        )
    return created


def organisations(engine: Engine, principal: Principal) -> pl.DataFrame:
    """Organisations (not student data; any signed-in staff member may list them)."""
    with recording_refusals(engine, principal, "organisations.read"):
        require(principal, Action.LIST_ORGANISATIONS)
    with engine.connect() as connection:
        return frame(connection, select(ORGANIZATION).order_by(ORGANIZATION.c.org_name))


def agreements(engine: Engine, principal: Principal) -> pl.DataFrame:
    _require_admin(engine, principal, "agreements.read", may=Action.ADMINISTER_AGREEMENTS)
    today = principal.today
    with engine.connect() as connection:
        return frame(
            connection,
            select(
                AGREEMENT,
                ORGANIZATION.c.org_name,
                agreement_active(today).label("active"),
            )
            .select_from(AGREEMENT.join(ORGANIZATION, ORGANIZATION.c.org_id == AGREEMENT.c.org_id))
            .order_by(ORGANIZATION.c.org_name, AGREEMENT.c.effective_date),
            schema={"active": pl.Boolean},
        )


@dataclass(frozen=True)
class AgreementRequest:
    agreement_id: str
    org_id: str
    categories: tuple[str, ...]
    effective_date: date
    expires_date: date | None = None


def save_agreement(engine: Engine, principal: Principal, request: AgreementRequest) -> None:
    _require_admin(engine, principal, "agreement.save", may=Action.ADMINISTER_AGREEMENTS)
    problems = []
    if not request.agreement_id.strip():
        problems.append("an agreement needs an id")
    unknown = [c for c in request.categories if c not in CATEGORIES]
    if unknown or not request.categories:
        problems.append(f"categories must be some of {', '.join(CATEGORIES)}")
    if request.expires_date and request.expires_date < request.effective_date:
        problems.append("the agreement expires before it takes effect")
    with engine.begin() as connection:
        if (
            connection.execute(
                select(ORGANIZATION.c.org_id).where(ORGANIZATION.c.org_id == request.org_id)
            ).first()
            is None
        ):
            problems.append(f"no organisation {request.org_id!r}")
        if problems:
            raise InvalidChange("; ".join(problems))
        values = {
            "org_id": request.org_id,
            "categories": format_list(request.categories),
            "effective_date": request.effective_date,
            "expires_date": request.expires_date,
        }
        exists = connection.execute(
            select(AGREEMENT.c.agreement_id).where(AGREEMENT.c.agreement_id == request.agreement_id)
        ).first()
        if exists:
            connection.execute(
                update(AGREEMENT)
                .where(AGREEMENT.c.agreement_id == request.agreement_id)
                .values(values)
            )
        else:
            connection.execute(
                insert(AGREEMENT).values(agreement_id=request.agreement_id, **values)
            )
        record_event(
            connection,
            principal,
            "agreement.save",
            detail={"agreement_id": request.agreement_id, **values},
        )


def consents(
    engine: Engine,
    principal: Principal,
    *,
    student_id: str | None = None,
    expiring_within_days: int | None = None,
) -> pl.DataFrame:
    """Releases, with the student's name: by student, or those expiring soon (audited)."""
    _require_admin(
        engine,
        principal,
        "consent.read",
        [student_id] if student_id else (),
        may=Action.ADMINISTER_RELEASES,
    )
    today = principal.today
    statement = (
        select(
            CONSENT,
            STUDENT.c.first_name,
            STUDENT.c.last_name,
            ORGANIZATION.c.org_name,
            consent_active(today).label("active"),
        )
        .select_from(
            CONSENT.join(STUDENT, STUDENT.c.student_id == CONSENT.c.student_id).join(
                ORGANIZATION, ORGANIZATION.c.org_id == CONSENT.c.org_id
            )
        )
        .order_by(CONSENT.c.expires_date, CONSENT.c.consent_id)
    )
    if student_id:
        statement = statement.where(CONSENT.c.student_id == student_id)
    if expiring_within_days is not None:
        statement = statement.where(
            consent_active(today),
            CONSENT.c.expires_date.is_not(None),
            CONSENT.c.expires_date <= today + timedelta(days=expiring_within_days),
        )
    with engine.begin() as connection:
        result = frame(connection, statement.limit(5000), schema={"active": pl.Boolean})
        if result.height:
            record_event(
                connection,
                principal,
                "consent.read",
                students=dict.fromkeys(result["student_id"].to_list(), "role:admin"),
                categories=[],
            )
    return result


@dataclass(frozen=True)
class ConsentRequest:
    consent_id: str
    student_id: str
    org_id: str
    categories: tuple[str, ...]
    purpose: str
    signed_by: str
    signer_relationship: str
    signed_date: date
    expires_date: date | None = None
    language: str | None = None


def record_consent(engine: Engine, principal: Principal, request: ConsentRequest) -> None:
    """Record a parent release; every element 34 CFR 99.30 requires must be present."""
    _require_admin(
        engine,
        principal,
        "consent.record",
        [request.student_id] if request.student_id else (),
        may=Action.ADMINISTER_RELEASES,
    )
    problems = []
    for name in ("consent_id", "student_id", "org_id", "purpose", "signed_by"):
        if not str(getattr(request, name) or "").strip():
            problems.append(f"{name.replace('_', ' ')} is required")
    if not request.categories or any(c not in CATEGORIES for c in request.categories):
        problems.append(f"categories must be some of {', '.join(CATEGORIES)}")
    if request.signer_relationship not in SIGNER_RELATIONSHIPS:
        problems.append(f"the signer is one of {', '.join(SIGNER_RELATIONSHIPS)}")
    if request.expires_date and request.expires_date < request.signed_date:
        problems.append("the release expires before it was signed")
    with engine.begin() as connection:
        if (
            request.student_id
            and connection.execute(
                select(STUDENT.c.student_id).where(STUDENT.c.student_id == request.student_id)
            ).first()
            is None
        ):
            problems.append(f"no student {request.student_id!r}")
        if (
            request.org_id
            and connection.execute(
                select(ORGANIZATION.c.org_id).where(ORGANIZATION.c.org_id == request.org_id)
            ).first()
            is None
        ):
            problems.append(f"no organisation {request.org_id!r}")
        if connection.execute(
            select(CONSENT.c.consent_id).where(CONSENT.c.consent_id == request.consent_id)
        ).first():
            problems.append(f"a release with id {request.consent_id!r} already exists")
        if problems:
            raise InvalidChange("; ".join(problems))
        values = dataclasses.asdict(request)
        values["categories"] = format_list(request.categories)
        connection.execute(insert(CONSENT).values(values))
        record_event(
            connection,
            principal,
            "consent.record",
            students={request.student_id: f"consent:{request.consent_id}"},
            categories=request.categories,
        )


def revoke_consent(engine: Engine, principal: Principal, consent_id: str, revoked: date) -> None:
    """Revoke a release from `revoked` on (the release no longer counts on that day)."""
    _require_admin(engine, principal, "consent.revoke", may=Action.ADMINISTER_RELEASES)
    with engine.begin() as connection:
        row = connection.execute(select(CONSENT).where(CONSENT.c.consent_id == consent_id)).first()
        if row is None:
            raise InvalidChange(f"no release {consent_id!r}")
        if revoked < row.signed_date:
            raise InvalidChange("a release cannot be revoked before it was signed")
        connection.execute(
            update(CONSENT).where(CONSENT.c.consent_id == consent_id).values(revoked_date=revoked)
        )
        record_event(
            connection,
            principal,
            "consent.revoke",
            students={row.student_id: f"consent:{consent_id}"},
            categories=parse_list(row.categories),
            detail={"revoked_date": revoked},
        )


def data_freshness(engine: Engine, principal: Principal) -> pl.DataFrame:
    """The latest date (or year) each source has data for (recorded at the last refresh of
    the derived tables; computed from the tables when there has been none)."""
    _require_admin(engine, principal, "data_freshness.read")
    recorded = read_meta(engine).get("freshness")
    if recorded:
        found = json.loads(recorded)
        return pl.DataFrame(
            [{"source": name, "latest": found[name][0], "meaning": meaning, "rows": found[name][1]}
             for name, _, meaning in FRESHNESS if name in found],
            schema={"source": pl.String, "latest": pl.String, "meaning": pl.String, "rows": pl.Int64},
        )  # fmt: skip
    sources = [
        ("enrollments", table_of(Enrollment).c.school_year, "latest school year"),
        ("attendance", table_of(AttendanceSnapshot).c.as_of_date, "latest snapshot"),
        ("course_marks", table_of(CourseMark).c.school_year, "latest school year"),
        ("test_scores", table_of(TestScore).c.test_date, "latest test date"),
        ("fafsa", table_of(Fafsa).c.status_date, "latest status date"),
        ("outcomes", table_of(Outcome).c.graduation_date, "latest graduation date"),
    ]
    rows = []
    with engine.connect() as connection:
        for name, column, meaning in sources:
            latest, count = connection.execute(select(func.max(column), func.count())).one()
            rows.append(
                {
                    "source": name,
                    "latest": str(latest) if latest is not None else "",
                    "meaning": meaning,
                    "rows": int(count),
                }
            )
    return pl.DataFrame(
        rows,
        schema={"source": pl.String, "latest": pl.String, "meaning": pl.String, "rows": pl.Int64},
    )


def indicators_computed_as_of(engine: Engine, principal: Principal) -> date | None:
    """The date the stored indicators and pipeline were last computed as of (None before
    the first refresh). Imports, the demo build and `pathwise refresh` set it."""
    _require_admin(engine, principal, "data_freshness.read")
    recorded = read_meta(engine).get("indicators_as_of")
    return date.fromisoformat(recorded) if recorded else None


def import_history(engine: Engine, principal: Principal) -> pl.DataFrame:
    _require_admin(engine, principal, "import_history.read")
    runs = table_of(ImportRun)
    with engine.connect() as connection:
        return frame(
            connection,
            select(runs).order_by(runs.c.started_at.desc()).limit(50),
            schema={"import_id": pl.Int64, "started_at": pl.Datetime("us", "UTC")},
        )


__all__ = [
    "AgreementRequest",
    "ConsentRequest",
    "InvalidChange",
    "InvalidUser",
    "UserRequest",
    "agreements",
    "consents",
    "data_freshness",
    "import_history",
    "organisations",
    "record_consent",
    "revoke_consent",
    "save_agreement",
    "save_user_as",
    "users",
]
