"""The audit log: who looked at which students, when, why, and on what legal basis.

`record_event` is called inside the same transaction as the read, export or write it
describes, so a read that is not recorded cannot happen (both commit or neither does).
Denied attempts are recorded too (issue 10, item 8: every refusal, with its reason),
always through `recording_refusals`, which wraps the whole request. The tables are
append-only (triggers; see migration 0001). Reads by `org_staff` are disclosures outside the district (FERPA 34 CFR 99.32):
`disclosures_of` lists them for a parent or student.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, insert, text

from data_access.models import AuditEvent, AuditStudent, table_of
from data_access.policy import AccessDenied, Principal

AUDIT_EVENT = table_of(AuditEvent)
AUDIT_STUDENT = table_of(AuditStudent)


def record_event(
    connection: Connection,
    principal: Principal | None,
    action: str,
    *,
    students: Mapping[str, str] | None = None,
    categories: Iterable[str] = (),
    outcome: str = "allowed",
    detail: Mapping[str, object] | None = None,
    email: str | None = None,
    today: date | None = None,
    os_user: str | None = None,
) -> int:
    """Append one event and its students (`student_id -> legal basis`); return its id.

    The event says under which date's rules it was served when that is not the real date
    (`rules_as_of`), and whether it came from the app or the command line, with the
    operating-system user who ran the command (`via`, `os_user`): from the principal, or
    from `today` and `os_user` for an event without one (a refused sign-in). The time is
    the database's (migration 0004).
    """
    rules_date = principal.today if principal else today
    operator = principal.os_user if principal else os_user
    values = {
        "occurred_at": datetime.now(UTC),
        "user_email": principal.email if principal else (email or "unknown"),
        "role": principal.role.value if principal else None,
        "org_id": principal.org_id if principal else None,
        "action": action,
        "categories": ";".join(sorted(set(categories))),
        "outcome": outcome,
        "detail": json.dumps(dict(detail), default=str, sort_keys=True) if detail else None,
        "rules_as_of": rules_date if rules_date not in (None, date.today()) else None,
        "via": "cli" if operator else "app",
        "os_user": operator[:64] if operator else None,
    }
    event_id = connection.execute(
        insert(AUDIT_EVENT).values(values).returning(AUDIT_EVENT.c.event_id)
    ).scalar_one()
    if students:
        if connection.dialect.name == "postgresql":
            # Two array parameters instead of three per student: one round trip, no
            # statement that grows (and has to be compiled again) with the list.
            connection.execute(
                text(
                    "INSERT INTO audit_student (event_id, student_id, legal_basis) "
                    "SELECT :event_id, s, b FROM unnest(CAST(:students AS text[]), CAST(:bases AS text[])) AS t(s, b)"
                ),
                {
                    "event_id": event_id,
                    "students": list(students),
                    "bases": list(students.values()),
                },
            )
        else:
            connection.execute(
                insert(AUDIT_STUDENT),
                [
                    {"event_id": event_id, "student_id": sid, "legal_basis": basis}
                    for sid, basis in students.items()
                ],
            )
    return int(event_id)


def record_refusal(
    connection: Connection,
    principal: Principal | None,
    action: str,
    denied: AccessDenied,
    *,
    students: Iterable[str] = (),
    email: str | None = None,
) -> None:
    """Record a refused attempt at `action`: outcome "denied", detail the reason's code and
    words, and the students it was about (those asked about and those the refusal names),
    each with basis "denied"."""
    about = dict.fromkeys([*students, *denied.students], "denied")
    record_event(
        connection,
        principal,
        action,
        students=about,
        outcome="denied",
        detail={"reason": denied.code, "message": denied.reason},
        email=email,
    )


@contextmanager
def recording_refusals(
    engine: Engine,
    principal: Principal | None,
    action: str,
    *,
    students: Iterable[str] = (),
    email: str | None = None,
) -> Iterator[None]:
    """The one way to refuse: a request runs inside this block, and an `AccessDenied`
    raised in it (by `policy.require`, `policy.require_student` or a check of the caller)
    is recorded as a refused attempt at `action` (`record_refusal`, with the `students`
    asked about and those the refusal names) in a transaction of its own, committed so
    that it stays although the request fails (the request's own transaction, opened
    inside the block, has rolled back), and then raised again (docs/access-rules.md: refused
    attempts are recorded)."""
    try:
        yield
    except AccessDenied as denied:
        with engine.begin() as connection:
            record_refusal(connection, principal, action, denied, students=students, email=email)
        raise
