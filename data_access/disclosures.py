"""Reading the audit log: the disclosure log of a student's record, and the audit search.

- A parent sees, for each of their children, and a student for themselves, every read of
  the record by a partner organisation (FERPA 34 CFR 99.32: the party, the date, what was
  disclosed). Only allowed reads count as disclosures; refusals disclosed nothing. A read
  served under the rules of another date than the real one, or run from the command line
  by the district's operator on a partner's behalf, says so in words (`how`).
- An admin searches every event (by student, user, action and date).
- Nobody else reads the audit log.
Reading the log is itself recorded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import polars as pl
from sqlalchemy import Engine, select

from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT, record_event, recording_refusals
from data_access.models import Guardian, Organization, table_of
from data_access.policy import (
    RULES,
    AccessDenied,
    Action,
    Principal,
    Scope,
    partner_event,
    require,
)
from data_access.reading import frame, student_request

ORGANIZATION = table_of(Organization)
GUARDIAN = table_of(Guardian)
_SCHEMA = {
    "event_id": pl.Int64,
    "occurred_at": pl.Datetime("us", "UTC"),
    "rules_as_of": pl.Date,
    "via": pl.String,
    "os_user": pl.String,
}


def _how(log: pl.DataFrame) -> pl.DataFrame:
    """`how`, in words, for a disclosure that was not an ordinary read in the app that day:
    an export run from the command line by the district's operator on the partner user's
    behalf, and the date whose rules applied when it was not the real date (null otherwise)."""
    rules = pl.lit("under the rules as of ") + pl.col("rules_as_of").dt.to_string("%Y-%m-%d")
    operator = pl.concat_str(
        pl.lit("exported from the command line by the district's operator (operating-system user "),
        pl.col("os_user").fill_null("unknown"),
        pl.lit(") on behalf of "),
        pl.col("user_email"),
    )
    dated = pl.col("rules_as_of").is_not_null()
    return log.with_columns(
        how=pl.when(pl.col("via") == "cli")
        .then(pl.when(dated).then(operator + pl.lit(", ") + rules).otherwise(operator))
        .when(dated)
        .then(rules)
        .otherwise(pl.lit(None, pl.String))
    )


def _own_students(engine: Engine, principal: Principal) -> list[str]:
    if principal.scope == Scope.SELF:
        return [principal.student_id] if principal.student_id else []
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(GUARDIAN.c.student_id).where(GUARDIAN.c.guardian_email == principal.email)
            ).scalars()
        )


def _students_whose_log(engine: Engine, principal: Principal, student_id: str | None) -> list[str]:
    """The students whose disclosure log the principal asks for, or `AccessDenied`."""
    require(principal, Action.READ_DISCLOSURES)
    if not principal.family:
        if student_id is None:
            raise AccessDenied("Name the student whose disclosures you want.", code="usage")
        return [student_id]
    students = _own_students(engine, principal)
    if student_id is not None:
        if student_id not in students:
            raise AccessDenied(RULES[Action.READ_DISCLOSURES].about_student, code="out_of_scope")
        return [student_id]
    return students


def disclosure_log(
    engine: Engine, principal: Principal, student_id: str | None = None
) -> pl.DataFrame:
    """Partner-organisation reads of the principal's own (or their children's) records.
    A refusal is recorded, with the student asked about."""
    asked = [student_id] if student_id is not None else []
    with recording_refusals(engine, principal, "disclosures.read", students=asked):
        students = _students_whose_log(engine, principal, student_id)
    with student_request(engine) as connection:
        result = frame(
            connection,
            select(
                AUDIT_EVENT.c.event_id,
                AUDIT_EVENT.c.occurred_at,
                AUDIT_STUDENT.c.student_id,
                AUDIT_EVENT.c.org_id,
                ORGANIZATION.c.org_name,
                AUDIT_EVENT.c.user_email,
                AUDIT_EVENT.c.action,
                AUDIT_EVENT.c.categories,
                AUDIT_STUDENT.c.legal_basis,
                AUDIT_EVENT.c.rules_as_of,
                AUDIT_EVENT.c.via,
                AUDIT_EVENT.c.os_user,
            )
            .select_from(
                AUDIT_STUDENT.join(
                    AUDIT_EVENT, AUDIT_EVENT.c.event_id == AUDIT_STUDENT.c.event_id
                ).outerjoin(ORGANIZATION, ORGANIZATION.c.org_id == AUDIT_EVENT.c.org_id)
            )
            .where(
                AUDIT_STUDENT.c.student_id.in_(students),
                partner_event(AUDIT_EVENT.c.role),
                AUDIT_EVENT.c.outcome == "allowed",
            )
            .order_by(AUDIT_EVENT.c.occurred_at.desc(), AUDIT_EVENT.c.event_id.desc()),
            schema=_SCHEMA,
        )
        record_event(
            connection,
            principal,
            "disclosures.read",
            students=dict.fromkeys(students, f"role:{principal.role.value}"),
        )
    return _how(result)


def audit_events(
    engine: Engine,
    principal: Principal,
    *,
    student_id: str | None = None,
    since: date | None = None,
    user_email: str | None = None,
    action: str | None = None,
    limit: int = 5000,
) -> pl.DataFrame:
    """The audit search (admins), or the disclosure log (parents and students)."""
    if principal.family:
        log = disclosure_log(engine, principal, student_id)
        if since is not None:
            log = log.filter(pl.col("occurred_at") >= datetime.combine(since, time(), tzinfo=UTC))
        return log
    asked = [student_id] if student_id is not None else []
    with recording_refusals(engine, principal, "audit.read", students=asked):
        require(principal, Action.READ_AUDIT_LOG)
    statement = select(AUDIT_EVENT).order_by(
        AUDIT_EVENT.c.occurred_at.desc(), AUDIT_EVENT.c.event_id.desc()
    )
    if student_id is not None:
        statement = statement.where(
            AUDIT_EVENT.c.event_id.in_(
                select(AUDIT_STUDENT.c.event_id).where(AUDIT_STUDENT.c.student_id == student_id)
            )
        )
    if since is not None:
        statement = statement.where(
            AUDIT_EVENT.c.occurred_at >= datetime.combine(since, time(), tzinfo=UTC)
        )
    if user_email:
        statement = statement.where(AUDIT_EVENT.c.user_email == user_email)
    if action:
        statement = statement.where(AUDIT_EVENT.c.action == action)
    with student_request(engine) as connection:
        events = frame(connection, statement.limit(limit), schema=_SCHEMA)
        ids = events["event_id"].to_list()
        counts = frame(
            connection,
            select(AUDIT_STUDENT.c.event_id, AUDIT_STUDENT.c.student_id).where(
                AUDIT_STUDENT.c.event_id.in_(ids)
            ),
            schema={"event_id": pl.Int64},
        )
        record_event(
            connection,
            principal,
            "audit.read",
            detail={"student_id": student_id, "since": since, "user": user_email, "action": action},
        )
    students = counts.group_by("event_id").agg(
        pl.len().alias("student_count"),
        pl.col("student_id").sort().str.join(";").alias("student_ids"),
    )
    return (
        events.join(students, on="event_id", how="left")
        .with_columns(pl.col("student_count").fill_null(0))
        .sort("occurred_at", "event_id", descending=True)
    )
