"""Storing a checked Clearinghouse detail report (docs/import-format.md, "Re-importing a
report replaces").

A report replaces, for every student it names (found or not), that student's stored terms
(`postsecondary_enrollment`) and search (`nsc_search`); students it does not name keep
theirs. The college columns of `outcomes` (postsecondary_enrolled,
postsecondary_start_date, institution_level, persisted_second_year) of those students are
recomputed from the report (`indicators.postsecondary`) and upserted; `graduated` and
`graduation_date` stay as they are. All in the import's one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import Connection, delete

from data_access.bulk import insert_frame, upsert_frame
from data_access.models import NscSearch, Outcome, PostsecondaryEnrollment, table_of
from indicators.postsecondary import derive_outcomes

TERMS = table_of(PostsecondaryEnrollment)
SEARCHES = table_of(NscSearch)
OUTCOMES = table_of(Outcome)
#: Ids per DELETE statement (SQLite allows 32,766 parameters).
DELETE_CHUNK = 5_000


@dataclass(frozen=True)
class NscRows:
    """What a report writes: its terms, searches (with the two report-only figures) and
    the recomputed outcome columns."""

    terms: pl.DataFrame
    searches: pl.DataFrame
    outcomes: pl.DataFrame


def rows_to_write(
    terms: pl.DataFrame,
    searches: pl.DataFrame,
    students: pl.DataFrame,
    stored_graduation: pl.DataFrame,
    as_of: date,
) -> NscRows:
    """The rows of a checked report (`nsc.CheckedNsc`) with its derived figures."""
    derived = derive_outcomes(terms, searches, students, stored_graduation, as_of)
    return NscRows(
        terms=terms,
        searches=searches.join(
            derived.select("student_id", "seamless_enrolled", "degree_completed"),
            on="student_id",
            how="left",
        ),
        outcomes=derived.select(
            "student_id",
            "postsecondary_enrolled",
            "postsecondary_start_date",
            "institution_level",
            "persisted_second_year",
        ),
    )


def replace_rows(rows: NscRows) -> Callable[[Connection], None]:
    """The write of a report, for `writing.CustomWrite`."""

    def write(connection: Connection) -> None:
        ids = rows.searches.get_column("student_id").to_list()
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            connection.execute(delete(TERMS).where(TERMS.c.student_id.in_(chunk)))
            connection.execute(delete(SEARCHES).where(SEARCHES.c.student_id.in_(chunk)))
        insert_frame(connection, TERMS, rows.terms.sort("student_id", "seq"))
        insert_frame(connection, SEARCHES, rows.searches.sort("student_id"))
        upsert_frame(connection, OUTCOMES, rows.outcomes.sort("student_id"))

    return write
