"""A family's releases in My record, and withdrawing one (issue 16 part 1, "Withdrawal").

- `releases_for_family`: every release (consent) a parent's children signed, or an eligible
  student's own: the student's first name, the organisation (its name and what it does:
  its type and service types), the categories, the purpose, when and by whom it was signed,
  how (electronic, paper, or blank for one typed in before release requests existed), its
  expiry, its withdrawal date and whether it counts today (`policy.consent_active`). Only
  a parent or a student (READ_OWN_RECORD), only their own students (`visible_students`);
  the read is audited like the record's ("releases.read", each student with its basis).
- `withdraw_release`: a parent withdraws a release for their own child, a student their
  own (WITHDRAW_RELEASE, `require_student` on the release's student; a release of another
  family is refused exactly like one that does not exist). `revoked_date` becomes
  `principal.today`: the policy counts a release only while `revoked_date` is blank or
  after today, so the partner loses the student on its very next request. Audited
  ("consent.withdraw", with the basis). The organisation is told in Pathwise that "a
  release ended", never why, and so is the person who requested the release, if it
  answered a request. FERPA 34 CFR 99.30 lets a family give a release; the district's
  policy (docs/access-rules.md, "Withdrawing a release") lets it take it back as easily.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Engine, select, update

from data_access.audit import record_event, recording_refusals
from data_access.models import Organization, ReleaseRequest, Student, table_of
from data_access.notifications import notify
from data_access.policy import (
    CONSENT,
    RULES,
    AccessDenied,
    Action,
    Principal,
    consent_active,
    current_school_year,
    require,
    require_student,
    visible_students,
)
from data_access.reading import frame, student_request
from domain.vocabulary import parse_list

STUDENT = table_of(Student)
ORGANIZATION = table_of(Organization)
RELEASE_REQUEST = table_of(ReleaseRequest)

#: The kind of the notification a withdrawal sends.
RELEASE_ENDED = "release_ended"

_SCHEMA: dict[str, Any] = {
    "consent_id": pl.String,
    "student_id": pl.String,
    "first_name": pl.String,
    "org_id": pl.String,
    "org_name": pl.String,
    "org_type": pl.String,
    "service_types": pl.List(pl.String),
    "categories": pl.List(pl.String),
    "purpose": pl.String,
    "signed_date": pl.Date,
    "signed_by": pl.String,
    "method": pl.String,
    "expires_date": pl.Date,
    "revoked_date": pl.Date,
    "active": pl.Boolean,
}


class WithdrawalRefused(ValueError):
    """A withdrawal that cannot be done, in words a family can act on; `code` says which
    (`already_withdrawn`, `ended`) and `day` the date it concerns, for the page to word it
    in the family's language."""

    def __init__(self, message: str, *, code: str, day: date | None) -> None:
        super().__init__(message)
        self.code = code
        self.day = day


def releases_for_family(engine: Engine, principal: Principal) -> pl.DataFrame:
    """Every release for the principal's own students (columns of `_SCHEMA`), newest
    first; audited as "releases.read" with each of their students."""
    with recording_refusals(engine, principal, "releases.read"):
        require(principal, Action.READ_OWN_RECORD)
    with student_request(engine) as connection:
        year = current_school_year(connection, principal.today)
        scope = visible_students(principal, year).subquery("scope")
        mine = connection.execute(select(scope.c.student_id, scope.c.legal_basis)).all()
        rows = frame(
            connection,
            select(
                CONSENT.c.consent_id,
                CONSENT.c.student_id,
                STUDENT.c.first_name,
                CONSENT.c.org_id,
                ORGANIZATION.c.org_name,
                ORGANIZATION.c.org_type,
                ORGANIZATION.c.service_types,
                CONSENT.c.categories,
                CONSENT.c.purpose,
                CONSENT.c.signed_date,
                CONSENT.c.signed_by,
                CONSENT.c.method,
                CONSENT.c.expires_date,
                CONSENT.c.revoked_date,
                consent_active(principal.today).label("active"),
            )
            .select_from(
                CONSENT.join(scope, scope.c.student_id == CONSENT.c.student_id)
                .join(STUDENT, STUDENT.c.student_id == CONSENT.c.student_id)
                .join(ORGANIZATION, ORGANIZATION.c.org_id == CONSENT.c.org_id)
            )
            .order_by(STUDENT.c.first_name, CONSENT.c.signed_date.desc(), CONSENT.c.consent_id),
            schema={"signed_date": pl.Date, "expires_date": pl.Date, "revoked_date": pl.Date},
        )
        record_event(
            connection,
            principal,
            "releases.read",
            students={row.student_id: row.legal_basis for row in mine},
        )
    if rows.height == 0:
        return pl.DataFrame(schema=_SCHEMA)
    return rows.with_columns(
        _as_list("service_types"),
        _as_list("categories"),
        pl.col("active").cast(pl.Boolean),
    ).select(list(_SCHEMA))


def _as_list(column: str) -> pl.Expr:
    """A stored `;` list cell as a list of its trimmed, non-empty items (`parse_list`)."""
    return (
        pl.col(column)
        .fill_null("")
        .str.split(";")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element().str.len_chars() > 0))
    )


def withdraw_release(engine: Engine, principal: Principal, consent_id: str) -> None:
    """Withdraw one of the family's releases from today (see the module's docstring).

    `AccessDenied` (audited) when the principal is not a family or the release is not about
    their own student (or does not exist: the same words); `WithdrawalRefused` when it was
    already withdrawn or has ended."""
    rule = RULES[Action.WITHDRAW_RELEASE]
    today = principal.today
    with recording_refusals(engine, principal, "consent.withdraw"), engine.begin() as connection:
        require(principal, Action.WITHDRAW_RELEASE)
        release = connection.execute(
            select(CONSENT).where(CONSENT.c.consent_id == consent_id)
        ).first()
        if release is None:
            raise AccessDenied(rule.about_student, code="out_of_scope")
        row = require_student(connection, principal, Action.WITHDRAW_RELEASE, release.student_id)
        if release.revoked_date is not None and release.revoked_date <= today:
            raise WithdrawalRefused(
                f"This release was already withdrawn on {release.revoked_date}.",
                code="already_withdrawn",
                day=release.revoked_date,
            )
        if release.expires_date is not None and release.expires_date < today:
            raise WithdrawalRefused(
                f"This release ended on {release.expires_date}; there is nothing to withdraw.",
                code="ended",
                day=release.expires_date,
            )
        connection.execute(
            update(CONSENT).where(CONSENT.c.consent_id == consent_id).values(revoked_date=today)
        )
        record_event(
            connection,
            principal,
            "consent.withdraw",
            students={release.student_id: row.legal_basis},
            categories=parse_list(release.categories),
            detail={
                "consent_id": consent_id,
                "org_id": release.org_id,
                "revoked_date": today,
                "basis": row.legal_basis,
            },
        )
        name = connection.execute(
            select(STUDENT.c.first_name, STUDENT.c.last_name).where(
                STUDENT.c.student_id == release.student_id
            )
        ).one()
        text = f"A release for {name.first_name} {name.last_name} ended."
        notify(
            connection,
            kind=RELEASE_ENDED,
            text=text,
            recipient_org_id=release.org_id,
            student_id=release.student_id,
            request_id=release.request_id,
        )
        if release.request_id is not None:
            requester = connection.execute(
                select(RELEASE_REQUEST.c.requested_by).where(
                    RELEASE_REQUEST.c.request_id == release.request_id
                )
            ).scalar()
            if requester:
                notify(
                    connection,
                    kind=RELEASE_ENDED,
                    text=text,
                    recipient_email=requester,
                    student_id=release.student_id,
                    request_id=release.request_id,
                )
