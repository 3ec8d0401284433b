"""The National Student Clearinghouse StudentTracker for High Schools detail report
(docs/import-format.md, "College enrollment from the Clearinghouse").

One row per student per college enrollment term (and degree rows), as the Clearinghouse
returns it for a request file. The columns and codes follow what public parsers read
(TEAMSchools/teamster `stg_nsc__student_tracker`, uclacommschool/college-rpp
`clean_names_nsc_data`, charkins24/nscPublication quoting "Reading the StudentTracker
Detail Report"); where they differ, both spellings are accepted (`Middle Initial` /
`Middle Name`; `College Code/Branch` as `001149-00` or `00114900`; dates `YYYYMMDD`, also
`YYYY-MM-DD` and `M/D/YYYY` as a spreadsheet re-saves them).

Checked as strictly as the native files: every problem as FILE:LINE:COLUMN: message
(value), nothing written when there is one. A student is matched on `Your Unique
Identifier` (or `Requester Return Field`: setting `[nsc] student_key`); an id that is no
student is reported, never guessed. The result is a `CheckedNsc`: the terms to store, the
searches and the students the file replaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from data_access.importing.cells import parse
from data_access.importing.problems import Problem, problem_frame
from data_access.importing.reading import LINE, RawTable, cell_column
from domain.import_format import ColumnFormat, Kind
from domain.vocabulary import NSC_CONTROLS, NSC_ENROLLMENT_STATUSES, NSC_LEVELS

#: The file kind recorded in the import history.
NSC_KIND: Final = "nsc"


def normalise_header(cell: str) -> str:
    """`  Record Found Y / N ` -> `record found y/n`: lower case, single spaces, no spaces
    around `/` (the Clearinghouse writes `2-year / 4-year` and `College Code/Branch`)."""
    text = re.sub(r"\s+", " ", cell.strip().lower())
    return re.sub(r"\s*/\s*", "/", text)


@dataclass(frozen=True)
class NscColumn:
    """One column: its stored name, header spellings (normalised) and whether required."""

    name: str
    headers: tuple[str, ...]
    required: bool = False


#: The detail report's columns Pathwise reads, in the report's order.
COLUMNS: Final = (
    NscColumn("your_unique_identifier", ("your unique identifier",), True),
    NscColumn("first_name", ("first name",)),
    NscColumn("middle_name", ("middle name", "middle initial")),
    NscColumn("last_name", ("last name",)),
    NscColumn("name_suffix", ("name suffix",)),
    NscColumn("requester_return_field", ("requester return field",)),
    NscColumn("record_found", ("record found y/n",), True),
    NscColumn("high_school_code", ("high school code",)),
    NscColumn("high_school_grad_date", ("high school grad date",)),
    NscColumn("college_code", ("college code/branch",), True),
    NscColumn("college_name", ("college name",), True),
    NscColumn("college_state", ("college state",)),
    NscColumn("level", ("2-year/4-year",), True),
    NscColumn("control", ("public/private",)),
    NscColumn("enrollment_begin", ("enrollment begin",), True),
    NscColumn("enrollment_end", ("enrollment end",), True),
    NscColumn("enrollment_status", ("enrollment status",)),
    NscColumn("graduated", ("graduated?",)),
    NscColumn("graduation_date", ("graduation date",)),
    NscColumn("degree_title", ("degree title",)),
    NscColumn("major", ("major",)),
    NscColumn("college_sequence", ("college sequence",)),
)
#: Columns some reports carry that Pathwise does not keep (teamster, college-rpp).
IGNORED: Final = frozenset(
    {
        "search date",
        "class level",
        "program code",
        "enrollment major 1",
        "enrollment major 2",
        "enrollment cip 1",
        "enrollment cip 2",
        *(f"degree major {i}" for i in range(1, 5)),
        *(f"degree cip {i}" for i in range(1, 5)),
    }
)
_BY_HEADER: Final = {h: c for c in COLUMNS for h in c.headers}
#: The two headers that make a file a detail report (recognised in a folder or an upload).
SIGNATURE: Final = ("your unique identifier", "record found y/n")

_COLLEGE_CODE = r"^[0-9]{6}-?[0-9]{2}$"
_STATE = r"^[A-Z]{2}$"
_DATE_FORMATS: Final = (
    (r"^[0-9]{8}$", "%Y%m%d"),
    (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "%Y-%m-%d"),
    (r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$", "%m/%d/%Y"),
)
_TEXT_LENGTHS: Final = {
    "college_name": 128,
    "degree_title": 128,
    "major": 128,
    "high_school_code": 16,
}
#: Columns that hold college data: blank on a row whose Record Found is N.
COLLEGE_COLUMNS: Final = (
    "college_code",
    "college_name",
    "college_state",
    "level",
    "control",
    "enrollment_begin",
    "enrollment_end",
    "enrollment_status",
    "graduated",
    "graduation_date",
    "degree_title",
    "major",
    "college_sequence",
)
#: The stored columns of `postsecondary_enrollment` (besides student_id and seq).
TERM_COLUMNS: Final = COLLEGE_COLUMNS


def is_detail_report(header: Sequence[str]) -> bool:
    """Whether a header row is a StudentTracker detail report's (`SIGNATURE`)."""
    cells = {normalise_header(h) for h in header}
    return all(s in cells for s in SIGNATURE)


def first_line(data: bytes) -> list[str]:
    """The header cells of CSV bytes (a byte-order mark tolerated), for recognising a file."""
    head = data[:65536].decode("utf-8-sig", errors="replace").splitlines()
    if not head:
        return []
    rows = pl.read_csv(head[0].encode(), has_header=False, infer_schema=False).rows()
    return [str(cell or "") for cell in rows[0]] if rows else []


@dataclass(frozen=True)
class CheckedNsc:
    """A checked detail report: `terms` (student_id, seq, TERM_COLUMNS), `searches`
    (student_id, record_found, high_school_code, high_school_grad_date) and `problems`."""

    terms: pl.DataFrame
    searches: pl.DataFrame
    problems: tuple[pl.DataFrame, ...]


def _problems(
    file: str, frame: pl.DataFrame, column: str, message: pl.Expr | str, value: pl.Expr | None
) -> pl.DataFrame:
    return frame.select(
        pl.lit(file).alias("file"),
        pl.col(LINE).alias("line"),
        pl.lit(column).alias("column"),
        (pl.lit(message) if isinstance(message, str) else message).alias("message"),
        (value if value is not None else pl.lit(None, dtype=pl.String)).alias("value"),
        pl.lit(0, dtype=pl.Int64).alias("rank"),
    )


def _date(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(value, error) of a date cell in one of `_DATE_FORMATS`."""
    value: pl.Expr = pl.lit(None, dtype=pl.Date)
    for pattern, fmt in reversed(_DATE_FORMATS):
        value = (
            pl.when(text.str.contains(pattern))
            .then(text.str.to_date(fmt, strict=False))
            .otherwise(value)
        )
    shaped = pl.any_horizontal(*(text.str.contains(p) for p, _ in _DATE_FORMATS))
    error = (
        pl.when(text.is_null())
        .then(None)
        .when(~shaped)
        .then(pl.lit("not a date (YYYYMMDD)"))
        .when(value.is_null())
        .then(pl.lit("no such date"))
    )
    return value, error


def check_report(raw: RawTable, student_key: str, known_students: pl.Series) -> CheckedNsc:
    """Check one detail report (all its cells, `reading.RawTable`) against the rules of
    this module; `known_students`: the student ids in the database or this import."""
    file = raw.file
    problems: list[pl.DataFrame] = []
    header = [normalise_header(h) for h in raw.header]
    positions: dict[str, int] = {}
    file_problems: list[Problem] = []
    for position, cell in enumerate(header):
        column = _BY_HEADER.get(cell)
        if column is None:
            if cell not in IGNORED:
                file_problems.append(
                    Problem(
                        file,
                        1,
                        raw.header[position] or f"#{position + 1}",
                        "not a column of the StudentTracker detail report",
                        raw.header[position],
                    )
                )
            continue
        if column.name in positions:
            file_problems.append(
                Problem(
                    file,
                    1,
                    raw.header[position],
                    "a second column of this name",
                    raw.header[position],
                )
            )
            continue
        positions[column.name] = position
    key = student_key
    for column in COLUMNS:
        if column.name not in positions and (column.required or column.name == key):
            file_problems.append(
                Problem(file, 1, column.headers[0].title(), "missing required column")
            )
    empty = pl.DataFrame(schema={"student_id": pl.String})
    if file_problems:
        return CheckedNsc(empty, empty, (problem_frame(file_problems, 0),))
    names = [c.name for c in COLUMNS if c.name in positions]
    cells = raw.cells.select(
        pl.col(LINE),
        *(pl.col(cell_column(positions[n])).alias(n) for n in names),
        *(pl.lit(None, dtype=pl.String).alias(c.name) for c in COLUMNS if c.name not in positions),
    )
    shown = {c.name: c.headers[0] for c in COLUMNS}
    display = {
        c.name: raw.header[positions[c.name]] if c.name in positions else c.headers[0]
        for c in COLUMNS
    }
    parsed: dict[str, pl.Expr] = {}
    errors: list[tuple[str, pl.Expr]] = []

    def check(name: str, value: pl.Expr, error: pl.Expr) -> None:
        parsed[name] = value
        errors.append((name, error))

    def with_format(name: str, kind: Kind, **extra: object) -> None:
        result = parse(pl.col(name), ColumnFormat(name, kind, **extra), _TEXT_LENGTHS.get(name))  # type: ignore[arg-type]
        check(name, result.value, pl.when(result.suspect).then(result.error))

    id_result = parse(pl.col(key), ColumnFormat(key, Kind.ID), 64)
    check(
        "student_id",
        id_result.value,
        pl.when(pl.col(key).is_null())
        .then(pl.lit("blank student id"))
        .when(id_result.suspect)
        .then(id_result.error),
    )
    errors[-1] = (key, errors[-1][1])
    with_format("record_found", Kind.YES_NO)
    errors.append(
        ("record_found", pl.when(pl.col("record_found").is_null()).then(pl.lit("blank; Y or N")))
    )
    for name in ("college_name", "degree_title", "major", "high_school_code"):
        with_format(name, Kind.TEXT)
    code = pl.col("college_code")
    check(
        "college_code",
        code,
        pl.when(code.is_not_null() & ~code.str.contains(_COLLEGE_CODE)).then(
            pl.lit("not a college code (six digits, then the two-digit branch: 001149-00)")
        ),
    )
    state = pl.col("college_state")
    check(
        "college_state",
        state,
        pl.when(state.is_not_null() & ~state.str.contains(_STATE)).then(
            pl.lit("not a two-letter state code")
        ),
    )
    level_text = pl.col("level")
    check(
        "level",
        level_text.replace_strict(NSC_LEVELS, default=None, return_dtype=pl.String),
        pl.when(level_text.is_not_null() & ~level_text.is_in(list(NSC_LEVELS))).then(
            pl.lit("not one of: " + ", ".join(NSC_LEVELS))
        ),
    )
    control_text = pl.col("control").str.to_lowercase()
    check(
        "control",
        pl.when(control_text.is_in(list(NSC_CONTROLS))).then(control_text),
        pl.when(control_text.is_not_null() & ~control_text.is_in(list(NSC_CONTROLS))).then(
            pl.lit("not Public or Private")
        ),
    )
    status = pl.col("enrollment_status")
    check(
        "enrollment_status",
        status,
        pl.when(status.is_not_null() & ~status.is_in(list(NSC_ENROLLMENT_STATUSES))).then(
            pl.lit("not an enrollment status: " + ", ".join(NSC_ENROLLMENT_STATUSES) + " or blank")
        ),
    )
    with_format("graduated", Kind.YES_NO)
    for name in ("high_school_grad_date", "enrollment_begin", "enrollment_end", "graduation_date"):
        value, error = _date(pl.col(name))
        check(name, value, error)
    sequence = pl.col("college_sequence").cast(pl.Int64, strict=False)
    check(
        "college_sequence",
        sequence,
        pl.when(
            pl.col("college_sequence").is_not_null()
            & (sequence.is_null() | (sequence < 1) | (sequence > 999))
        ).then(pl.lit("not a whole number from 1")),
    )
    frame = cells.with_columns(
        *(e.alias(f"_err_{i}") for i, (_, e) in enumerate(errors)),
        *(v.alias(f"_val_{n}") for n, v in parsed.items()),
    )
    for i, (name, _) in enumerate(errors):
        bad = frame.filter(pl.col(f"_err_{i}").is_not_null())
        if bad.height:
            source = name if name in frame.columns else key
            problems.append(
                _problems(
                    file,
                    bad,
                    display.get(name, shown.get(name, name)),
                    pl.col(f"_err_{i}"),
                    pl.col(source),
                )
            )
    rows = frame.select(LINE, *(pl.col(f"_val_{n}").alias(n) for n in parsed))
    # Row rules (only on cells that parsed).
    found = pl.col("record_found")
    college_data = pl.any_horizontal(*(pl.col(c).is_not_null() for c in COLLEGE_COLUMNS))
    rules: list[tuple[pl.Expr, str, str, pl.Expr | None]] = [
        (
            found.eq(False) & college_data,
            display["record_found"],
            "Record Found is N but the row has college data",
            found.cast(pl.String),
        ),
        (
            found.eq(True) & pl.col("college_code").is_null(),
            display["college_code"],
            "blank on a row whose Record Found is Y",
            None,
        ),
        (
            found.eq(True) & pl.col("enrollment_begin").is_null() & pl.col("graduated").ne(True),
            display["enrollment_begin"],
            "blank on an enrollment row (a row without it must be a degree row, Graduated? Y)",
            None,
        ),
        (
            pl.col("enrollment_end") < pl.col("enrollment_begin"),
            display["enrollment_end"],
            "before Enrollment Begin",
            pl.col("enrollment_end").cast(pl.String),
        ),
        (
            pl.col("graduation_date").is_not_null() & pl.col("graduated").ne(True),
            display["graduation_date"],
            "a graduation date on a row whose Graduated? is not Y",
            pl.col("graduation_date").cast(pl.String),
        ),
    ]
    for condition, column_name, message, rule_value in rules:
        bad = rows.filter(condition.fill_null(False))
        if bad.height:
            problems.append(_problems(file, bad, column_name, message, rule_value))
    unknown = rows.filter(
        pl.col("student_id").is_not_null() & ~pl.col("student_id").is_in(known_students.implode())
    )
    if unknown.height:
        problems.append(
            _problems(
                file,
                unknown,
                display[key],
                "no student with this id in the database or in this import",
                pl.col("student_id"),
            )
        )
    mixed = (
        rows.group_by("student_id")
        .agg(pl.col("record_found").drop_nulls().n_unique().alias("_n"))
        .filter(pl.col("_n") > 1)
    )
    if mixed.height:
        bad = rows.join(mixed, on="student_id").filter(pl.col("record_found").eq(False))
        problems.append(
            _problems(
                file,
                bad,
                display["record_found"],
                "N for a student who has rows with Y in this file",
                pl.col("student_id"),
            )
        )
    stored = [
        "student_id",
        "record_found",
        "high_school_code",
        "high_school_grad_date",
        *COLLEGE_COLUMNS,
    ]
    duplicated = rows.with_columns(
        pl.col(LINE).min().over(stored, order_by=LINE).alias("_first")
    ).filter(pl.col(LINE) != pl.col("_first"))
    if duplicated.height:
        problems.append(
            _problems(
                file,
                duplicated,
                "-",
                pl.format("duplicate row, first on line {}", pl.col("_first")),
                pl.col("student_id"),
            )
        )
    terms = (
        rows.filter(found.eq(True))
        .sort(LINE)
        .select(
            "student_id",
            (pl.int_range(pl.len()).over("student_id") + 1).alias("seq"),
            *COLLEGE_COLUMNS,
        )
    )
    searches = (
        rows.group_by("student_id")
        .agg(
            found.any().alias("record_found"),
            pl.col("high_school_code").drop_nulls().first(),
            pl.col("high_school_grad_date").drop_nulls().first(),
        )
        .sort("student_id")
    )
    return CheckedNsc(terms, searches, tuple(problems))
