"""The steward's view of releases (issue 16 part 1): where releases are missing (the consent
gap) and what became of the requests, by organisation and school.

Both are the steward's (SEE_RELEASE_REQUESTS: admins, not in meeting mode), who sees every
student and exact figures (docs/access-rules.md: admins see exact figures), so the counts are not
small-cell protected; a role that may not see them is refused (audited).

- `consent_gap`: `indicators.consent_gap` over the services active on `today`, the open
  referrals, the releases and agreements active on `today` (the policy's own date rules,
  `service_active`, `consent_active`, `agreement_active`). A list of students: audited,
  each student with the steward's basis.
- `request_counts`: release requests by organisation, school (the student's) and state
  at `now` (`domain.releases.state_of`: a sent or opened request past its links' expiry
  is `expired`). Long form: one row per organisation x school x state of
  `domain.releases.STATES`, every state present for every organisation and school that
  has a request, zeros included, in the order of `STATES` (a request's path), so a page
  or a test can read any cell without asking whether the row exists.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Engine, select

from data_access.audit import record_event, recording_refusals
from data_access.models import (
    Agreement,
    Consent,
    Organization,
    Referral,
    ReleaseRequest,
    School,
    Service,
    Student,
    table_of,
)
from data_access.policy import (
    Action,
    Principal,
    agreement_active,
    consent_active,
    require,
    service_active,
)
from data_access.reading import frame, student_request
from domain.releases import STATES, state_of
from indicators.consent_gap import consent_gap as _consent_gap

AGREEMENT = table_of(Agreement)
CONSENT = table_of(Consent)
ORGANIZATION = table_of(Organization)
REFERRAL = table_of(Referral)
REQUEST = table_of(ReleaseRequest)
SCHOOL = table_of(School)
SERVICE = table_of(Service)
STUDENT = table_of(Student)

#: A referral still waiting for the partner's answer (domain.vocabulary.REFERRAL_STATUSES).
OPEN_REFERRAL = "open"

COUNT_COLUMNS = ("org_id", "org_name", "school_id", "school_name", "state", "requests")


def consent_gap(engine: Engine, principal: Principal, *, today: date | None = None) -> pl.DataFrame:
    """The students served by, or referred to, an organisation without an active release
    naming it on `today` (default: the principal's today); `indicators.consent_gap`'s
    columns. Audited ("consent_gap.read", every student listed)."""
    with recording_refusals(engine, principal, "consent_gap.read"):
        require(principal, Action.SEE_RELEASE_REQUESTS)
    day = today or principal.today
    with student_request(engine) as connection:
        services = frame(
            connection,
            select(SERVICE.c.student_id, SERVICE.c.org_id).where(service_active(day)).distinct(),
        )
        referrals = frame(
            connection,
            select(REFERRAL.c.student_id, REFERRAL.c.org_id)
            .where(REFERRAL.c.status == OPEN_REFERRAL)
            .distinct(),
        )
        consents = frame(
            connection,
            select(CONSENT.c.student_id, CONSENT.c.org_id).where(consent_active(day)).distinct(),
        )
        agreements = frame(
            connection,
            select(AGREEMENT.c.org_id, AGREEMENT.c.categories).where(agreement_active(day)),
        )
        concerned = (
            select(SERVICE.c.student_id)
            .where(service_active(day))
            .union(select(REFERRAL.c.student_id).where(REFERRAL.c.status == OPEN_REFERRAL))
        )
        students = frame(
            connection,
            select(
                STUDENT.c.student_id,
                STUDENT.c.first_name,
                STUDENT.c.last_name,
                STUDENT.c.school_id,
                SCHOOL.c.school_name,
            )
            .select_from(STUDENT.join(SCHOOL, SCHOOL.c.school_id == STUDENT.c.school_id))
            .where(STUDENT.c.student_id.in_(concerned)),
        )
        organisations = frame(connection, select(ORGANIZATION.c.org_id, ORGANIZATION.c.org_name))
        gap = _consent_gap(services, referrals, consents, agreements, students, organisations)
        listed = sorted(set(gap["student_id"].to_list()))
        if listed:
            record_event(
                connection,
                principal,
                "consent_gap.read",
                students=dict.fromkeys(listed, f"role:{principal.role.value}"),
                detail={"as_of": day},
            )
    return gap


def request_counts(
    engine: Engine, principal: Principal, *, now: datetime | None = None
) -> pl.DataFrame:
    """Release requests by organisation, school and state at `now` (default: the real time);
    columns `COUNT_COLUMNS`, every state of `STATES` for each organisation and school with
    a request (see the module's docstring). Counts only: nothing about a student leaves."""
    with recording_refusals(engine, principal, "release_requests.count"):
        require(principal, Action.SEE_RELEASE_REQUESTS)
    at = now or datetime.now(UTC)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                REQUEST.c.org_id,
                ORGANIZATION.c.org_name,
                STUDENT.c.school_id,
                SCHOOL.c.school_name,
                REQUEST.c.status,
                REQUEST.c.expires_at,
            ).select_from(
                REQUEST.join(ORGANIZATION, ORGANIZATION.c.org_id == REQUEST.c.org_id)
                .join(STUDENT, STUDENT.c.student_id == REQUEST.c.student_id)
                .join(SCHOOL, SCHOOL.c.school_id == STUDENT.c.school_id)
            )
        ).all()
    schema = dict.fromkeys(COUNT_COLUMNS[:5], pl.String)
    states = pl.DataFrame(
        {"state": list(STATES), "_order": list(range(len(STATES)))},
        schema={"state": pl.String, "_order": pl.Int64},
    )
    if not rows:
        return pl.DataFrame(schema={**schema, "requests": pl.Int64})
    requests = pl.DataFrame(
        [
            (
                r.org_id,
                r.org_name,
                r.school_id,
                r.school_name,
                state_of(r.status, _utc(r.expires_at), at),
            )
            for r in rows
        ],
        schema=schema,
        orient="row",
    )
    places = requests.select(COUNT_COLUMNS[:4]).unique()
    counted = requests.group_by(COUNT_COLUMNS[:5]).agg(pl.len().cast(pl.Int64).alias("requests"))
    return (
        places.join(states, how="cross")
        .join(counted, on=list(COUNT_COLUMNS[:5]), how="left")
        .with_columns(pl.col("requests").fill_null(0))
        .sort("org_name", "org_id", "school_name", "school_id", "_order")
        .select(COUNT_COLUMNS)
    )


def _utc(moment: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite gives it back naive)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
