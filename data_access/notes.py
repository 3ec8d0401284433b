"""The two-way notes thread on a student (profile page).

Rules (docs/access-rules.md, "notes" column, plus the decisions a steward would expect where it is
silent), decided by `data_access/policy.py` (`Action.READ_NOTES`, `Action.WRITE_NOTE`,
`visible_notes`):
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

import polars as pl
from sqlalchemy import Engine, insert, select

from data_access.audit import record_event, recording_refusals
from data_access.models import Note, table_of
from data_access.policy import Action, Principal, require_student, visible_notes
from data_access.reading import frame, student_request

NOTE = table_of(Note)
MAX_NOTE_LENGTH = 4000


class InvalidNote(ValueError):
    """The note is empty or too long."""


def notes_for(engine: Engine, principal: Principal, student_id: str) -> pl.DataFrame:
    """The notes on a student the principal may read, oldest first (audited)."""
    with (
        recording_refusals(engine, principal, "notes.read"),
        student_request(engine) as connection,
    ):
        row = require_student(connection, principal, Action.READ_NOTES, student_id)
        notes = frame(
            connection,
            select(
                NOTE.c.note_id,
                NOTE.c.created_at,
                NOTE.c.author_email,
                NOTE.c.author_role,
                NOTE.c.author_org_id,
                NOTE.c.body,
                NOTE.c.shared_with_family,
            )
            .where(NOTE.c.student_id == student_id, visible_notes(principal))
            .order_by(NOTE.c.created_at, NOTE.c.note_id),
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
    with (
        recording_refusals(engine, principal, "notes.write"),
        student_request(engine) as connection,
    ):
        row = require_student(connection, principal, Action.WRITE_NOTE, student_id)
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
    return int(note_id)
