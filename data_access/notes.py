"""The two-way notes thread on a student (profile page).

Rules (access.md "notes" column, plus the decisions a steward would expect where it is
silent):
- read: admin, district_leader, counselor and teacher read every note on a student they
  may see; org_staff read, where `notes` is in their consent ∩ agreement for the student,
  the notes written by district staff and by their own organisation (not other partners');
  a parent reads the notes marked as shared with the family; students read none.
- write: admin, counselor, teacher, and org_staff where `notes` is allowed. A note is
  plain text (1 to 4,000 characters) and is never rendered as HTML or markdown.
Every read and write is audited with the student and its legal basis.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, insert, or_, select

from data_access.audit import record_event
from data_access.models import Note, table_of
from data_access.policy import (
    NOTE_READERS,
    NOTE_WRITERS,
    AccessDenied,
    Principal,
    categories_of,
    current_school_year,
)
from data_access.reading import frame, student_request
from data_access.records import deny_student, visibility_row
from domain.vocabulary import Role

NOTE = table_of(Note)
MAX_NOTE_LENGTH = 4000
SCHOOL_ROLES = ("admin", "district_leader", "counselor", "teacher")


class InvalidNote(ValueError):
    """The note is empty or too long."""


def _notes_basis(
    connection: Connection,
    principal: Principal,
    student_id: str,
    allowed: frozenset[Role],
    action: str,
) -> Any | None:
    """The student's `visible_students` row when the principal may do `action` on their
    notes (role allowed, and for partners `notes` in consent ∩ agreement); otherwise the
    refusal is audited and None returned."""
    year = current_school_year(connection, principal.today)
    row = visibility_row(connection, principal, student_id, year)
    partner_without_notes = principal.role == Role.ORG_STAFF and (
        row is None or "notes" not in categories_of(row)
    )
    if row is not None and principal.role in allowed and not partner_without_notes:
        return row
    deny_student(connection, principal, action, student_id)
    return None


def notes_for(engine: Engine, principal: Principal, student_id: str) -> pl.DataFrame:
    """The notes on a student the principal may read, oldest first (audited)."""
    with student_request(engine) as connection:
        row = _notes_basis(connection, principal, student_id, NOTE_READERS, "notes.read")
        if row is None:
            notes = None
        else:
            statement = (
                select(
                    NOTE.c.note_id,
                    NOTE.c.created_at,
                    NOTE.c.author_email,
                    NOTE.c.author_role,
                    NOTE.c.author_org_id,
                    NOTE.c.body,
                    NOTE.c.shared_with_family,
                )
                .where(NOTE.c.student_id == student_id)
                .order_by(NOTE.c.created_at, NOTE.c.note_id)
            )
            if principal.role == Role.ORG_STAFF:
                statement = statement.where(
                    or_(
                        NOTE.c.author_role.in_(SCHOOL_ROLES),
                        NOTE.c.author_org_id == principal.org_id,
                    )
                )
            elif principal.role == Role.PARENT:
                statement = statement.where(NOTE.c.shared_with_family.is_(True))
            notes = frame(
                connection,
                statement,
                schema={
                    "note_id": pl.Int64,
                    "created_at": pl.Datetime("us", "UTC"),
                    "shared_with_family": pl.Boolean,
                },
            )
            record_event(
                connection,
                principal,
                "notes.read",
                students={student_id: str(row.legal_basis)},
                categories=["notes"],
            )
    if notes is None:
        raise AccessDenied("You may not read notes on this student.", code="out_of_scope")
    return notes


def add_note(
    engine: Engine,
    principal: Principal,
    student_id: str,
    body: str,
    *,
    shared_with_family: bool = False,
) -> int:
    """Write a note (audited); returns its id. Raises `InvalidNote` or `AccessDenied`."""
    text = (body or "").strip()
    if not text:
        raise InvalidNote("A note cannot be empty.")
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidNote(
            f"A note can be at most {MAX_NOTE_LENGTH:,} characters ({len(text):,} given)."
        )
    with student_request(engine) as connection:
        row = _notes_basis(connection, principal, student_id, NOTE_WRITERS, "notes.write")
        if row is None:
            note_id = None
        else:
            note_id = connection.execute(
                insert(NOTE)
                .values(
                    student_id=student_id,
                    author_email=principal.email,
                    author_role=principal.role.value,
                    author_org_id=principal.org_id,
                    created_at=datetime.now(UTC),
                    body=text,
                    shared_with_family=shared_with_family,
                )
                .returning(NOTE.c.note_id)
            ).scalar_one()
            record_event(
                connection,
                principal,
                "notes.write",
                students={student_id: str(row.legal_basis)},
                categories=["notes"],
                detail={"note_id": note_id},
            )
    if note_id is None:
        raise AccessDenied("You may not write notes on this student.", code="out_of_scope")
    return int(note_id)
