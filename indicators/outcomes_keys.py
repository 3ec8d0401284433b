"""Program outcomes: students as integer codes while the method runs (for speed only).

The method joins millions of rows on student_id (one row per comparison student and
program-year; attendance snapshots; course marks). Joins, as-of joins and group-bys on
an integer key are several times faster than on a string, so `coded` replaces every
student_id by its position among the sorted student_ids of the students table, and
`decoded` turns the codes back into student_ids. Codes keep the order of the ids, so a
sort by student_id gives the same rows in the same order either way, and the seeded draws
(taken over the pool sorted by program-year and student) are unchanged.

Rows of a student who is not in the students table are dropped: the method never reads
them (every study row comes from an enrollment joined to its student, and every other
table is joined to study rows). Given the school years the method studies (those of the
served students), `coded` also leaves out, before coding, the rows of enrollments,
attendance and course marks of other years, which the method never reads: enrollments
and attendance of those years only (`student_years`, `attendance_series`), course marks
of those years and the year before each (`with_core_fails` reads the term before the
start, which may end in the year before; the other readers filter to the years).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

import polars as pl

from indicators.tables import RawTables

CODE = pl.UInt32


def student_codes(tables: RawTables) -> pl.Series:
    """The student_ids of the students table, sorted: a code is a position in it."""
    return tables.students["student_id"].unique().sort()


def _coded_frames(frames: list[pl.DataFrame], ids: pl.Series) -> list[pl.DataFrame]:
    """`frames` with student_id as its position in `ids`, rows of other ids dropped. The
    ids of every frame are cast to the Enum of `ids` at once: each cast to an Enum of
    100,000 categories first hands the whole category list to Polars again, which cost
    more than the cast itself."""
    column = pl.concat([frame["student_id"].cast(pl.String) for frame in frames])
    codes = column.cast(pl.Enum(ids), strict=False).to_physical().cast(CODE)
    out = []
    offset = 0
    for frame in frames:
        part = codes.slice(offset, frame.height)
        offset += frame.height
        out.append(
            frame.with_columns(part.alias("student_id")).filter(pl.col("student_id").is_not_null())
        )
    return out


def _years_read(name: str, frame: pl.DataFrame, years: list[int] | None) -> pl.DataFrame:
    """The rows of table `name` the method can read when it studies `years` (the module)."""
    if years is None:
        return frame
    if name in ("enrollments", "attendance"):
        return frame.filter(pl.col("school_year").is_in(years))
    if name == "course_marks":
        wanted = sorted({y for year in years for y in (year - 1, year)})
        return frame.filter(pl.col("school_year").is_in(wanted))
    return frame


def coded(
    tables: RawTables, services: pl.DataFrame, ids: pl.Series, years: list[int] | None = None
) -> tuple[RawTables, pl.DataFrame]:
    """`tables` and `services` with student_id as the codes of `ids` (see the module);
    with `years`, the studied school years, without the rows the method never reads.

    The RawTables is assembled without conforming again (conforming would turn the codes
    back into strings); its frames keep every other column as it was."""
    names = [f.name for f in fields(RawTables)]
    frames = [_years_read(name, getattr(tables, name), years) for name in names]
    *coded_tables, coded_services = _coded_frames([*frames, services], ids)
    return assembled(dict(zip(names, coded_tables, strict=True))), coded_services


def assembled(frames: Mapping[str, pl.DataFrame]) -> RawTables:
    """A RawTables of `frames` (one per field) as they are, without conforming them again:
    conforming would turn student codes back into strings."""
    result = object.__new__(RawTables)
    for field in fields(RawTables):
        object.__setattr__(result, field.name, frames[field.name])
    return result


def decoded(frame: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """`frame` with its student_id codes turned back into the student_ids of `ids`."""
    return frame.with_columns(ids.gather(frame["student_id"]).alias("student_id"))
