"""Storing a checked OneRoster package (`oneroster.Roster`) in the import's transaction.

Schools, students and enrollments are upserted as full rows (the checker merged each with
its stored row, so nothing the package does not carry is lost); a bulk package's caseload
teachers lose their other caseload rows first. Nothing is deleted from a table that other
tables refer to (docs/import-format.md, "Rosters from the SIS: OneRoster").
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, delete

from data_access.bulk import upsert_frame
from data_access.importing.oneroster import Roster
from data_access.models import Caseload, Enrollment, School, Student, table_of

SCHOOLS = table_of(School)
STUDENTS = table_of(Student)
ENROLLMENTS = table_of(Enrollment)
CASELOADS = table_of(Caseload)


def write_roster(roster: Roster) -> Callable[[Connection], None]:
    """The write of a package, for `writing.CustomWrite`."""

    def write(connection: Connection) -> None:
        for table, frame in (
            (SCHOOLS, roster.schools),
            (STUDENTS, roster.students),
            (ENROLLMENTS, roster.enrollments),
        ):
            if frame is not None and frame.height:
                key = [c.name for c in table.primary_key.columns]
                upsert_frame(connection, table, frame.sort(key))
        if roster.replace_caseloads_of:
            connection.execute(
                delete(CASELOADS).where(CASELOADS.c.user_email.in_(roster.replace_caseloads_of))
            )
        if roster.caseloads is not None and roster.caseloads.height:
            upsert_frame(connection, CASELOADS, roster.caseloads)

    return write
