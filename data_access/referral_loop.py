"""Referral-loop figures (issue 14, part 3): what became of the referrals, per partner and school.

`referral_loop(engine, *, principal)` returns `indicators.referral_loop.shown_figures`:
- admin, district_leader: every organisation's referrals, exact;
- counselor, viewer, and anyone in meeting mode: every organisation's, through the
  small-cell rules (docs/access-rules.md, rules 1-5; `indicators.suppression`);
- org_staff: their own organisation's rows only, counting only the referrals of students
  they may see (`policy.visible_students`: an active release naming them), so a partner
  never learns of a student it may not see, not even as a number; exact (protected in
  meeting mode), since each of those students is one it may see (the read is audited as
  student-level);
- others (teacher, families): `AccessDenied` (`Action.SEE_AGGREGATES`), audited.
The referral path of one student is read on the profile through `data_access.referrals`
and `data_access.records` (policy and audit there) and `indicators.referral_loop`.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine, and_, select

from data_access.audit import record_event, recording_refusals
from data_access.models import Consent, Referral, Service, Student, table_of
from data_access.policy import (
    Action,
    Principal,
    consent_active,
    current_school_year,
    require,
    visible_students,
)
from data_access.reading import frame, student_request
from indicators.referral_loop import loop_figures, referral_paths, shown_figures
from indicators.settings import Settings, load_settings

REFERRAL = table_of(Referral)
CONSENT = table_of(Consent)
SERVICE = table_of(Service)
STUDENT = table_of(Student)

_REFERRAL_SCHEMA = {
    "referral_id": pl.Int64,
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
}


def referral_loop(
    engine: Engine, *, principal: Principal, settings: Settings | None = None
) -> pl.DataFrame:
    """The loop figures as this principal may see them (the module's rules)."""
    with recording_refusals(engine, principal, "referral_loop.read"):
        require(principal, Action.SEE_AGGREGATES)
    settings = settings or load_settings()
    with student_request(engine) as connection:
        referrals = select(
            REFERRAL.c.referral_id,
            REFERRAL.c.student_id,
            REFERRAL.c.org_id,
            REFERRAL.c.status,
            REFERRAL.c.created_at,
            REFERRAL.c.updated_at,
        )
        bases: pl.DataFrame | None = None
        if principal.partner:
            year = current_school_year(connection, principal.today)
            own = REFERRAL.c.org_id == (principal.org_id or "")
            # The scope evaluated for the students referred to it only, not every release.
            mine = select(REFERRAL.c.student_id).where(own)
            scope = visible_students(principal, year, mine).subquery("scope")
            referrals = referrals.add_columns(scope.c.legal_basis).join(
                scope, scope.c.student_id == REFERRAL.c.student_id
            )
            referrals = referrals.where(own)
        rows = frame(connection, referrals, schema=_REFERRAL_SCHEMA)
        rows = rows.with_columns(
            pl.col("created_at", "updated_at").cast(pl.Datetime("us")).dt.replace_time_zone(None)
        )
        if principal.partner:
            bases = rows.select("student_id", "legal_basis").unique()
        # Only the releases, services and schools of the referred students (and for the
        # releases and services, of the organisations they were referred to): a join on
        # the referrals read above, driven by the keys that start with student_id, instead
        # of every row of those tables on each call.
        asked = referrals.with_only_columns(REFERRAL.c.student_id, REFERRAL.c.org_id).subquery(
            "asked"
        )
        pairs = select(asked.c.student_id, asked.c.org_id).distinct().subquery("pairs")
        referred = select(asked.c.student_id).distinct().subquery("referred")
        released = frame(
            connection,
            select(CONSENT.c.student_id, CONSENT.c.org_id)
            .join(
                pairs,
                and_(
                    pairs.c.student_id == CONSENT.c.student_id, pairs.c.org_id == CONSENT.c.org_id
                ),
            )
            .where(consent_active(principal.today)),
        )
        services = frame(
            connection,
            select(
                SERVICE.c.student_id, SERVICE.c.org_id, SERVICE.c.service_type, SERVICE.c.start_date
            ).join(
                pairs,
                and_(
                    pairs.c.student_id == SERVICE.c.student_id, pairs.c.org_id == SERVICE.c.org_id
                ),
            ),
            schema={"start_date": pl.Date},
        )
        schools = frame(
            connection,
            select(STUDENT.c.student_id, STUDENT.c.school_id).join(
                referred, referred.c.student_id == STUDENT.c.student_id
            ),
        )
        if bases is not None and bases.height:
            record_event(
                connection,
                principal,
                "referral_loop.read",
                students=dict(zip(bases["student_id"], bases["legal_basis"], strict=True)),
            )
    paths = referral_paths(rows, released, services)
    figures = loop_figures(paths, schools)
    exact = principal.exact_aggregates or (principal.partner and not principal.meeting_mode)
    return shown_figures(figures, exact=exact, min_cell=settings.min_cell)
