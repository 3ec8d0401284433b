"""Importing files in other systems' shapes through a column mapping: a state's FAFSA
completion file into `fafsa`, a partner's service export into `services`
(docs/import-format.md, "Files in other systems' shapes").

The order of work, all before anything is written:

1. Read the file (CSV or the first sheet of an XLSX workbook) as the native importer does
   (`importing.reading`: every cell text, line numbers, file-level problems).
2. Check the mapping and the header: each mapped column must be in the file.
3. Read each mapped column: its values translated through the mapping (a value the mapping
   does not list is a problem: never guessed), then parsed as the import format reads that
   kind of cell (`importing.cells`). A blank required cell is a problem.
4. Partner staff import only their own organisation's services: any other org_id is a
   problem.
5. Services with one row per session are rolled up into periods
   (`indicators.service_periods`), per the partner's own person key.
6. Without a district id, rows (persons, for a services export) are matched to students
   (`indicators.record_matching`): FAFSA rows to the class whose senior year the award year
   follows (`cohort_year` = `award_year`), services to every student on record.
7. The rows to load are checked as the native file would be: a duplicate key is a problem,
   and so is a reference to an unknown student, school or organisation.

Every problem is `FILE:LINE:COLUMN: message (value)` with the file's own column name, and
any problem writes nothing (`ImportRejected`). Otherwise, in one transaction: the matched
rows are upserted, the ambiguous and unmatched ones go to the review queue (`review_item`),
the import is recorded (`import_run`) and audited together with the matching decisions.
A dry run does all the checks and matching and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Engine, insert, select

from data_access.audit import record_event
from data_access.bulk import read_table, upsert_frame
from data_access.importing.cells import parse
from data_access.importing.lock import import_lock
from data_access.importing.problems import Problem, Problems
from data_access.importing.reading import (
    FIELDS,
    LINE,
    RawTable,
    Unreadable,
    cell_column,
    file_parts,
)
from data_access.importing.results import FileResult, ImportRejected, ImportResult
from data_access.importing.sources import sha256
from data_access.importing.writing import FileRecord, existing_mask, record_import, stored_keys
from data_access.meta import DEMO_KEY, read_meta
from data_access.models import Fafsa, Organization, ReviewItem, School, Service, Student, table_of
from data_access.policy import Principal
from domain.import_format import ColumnFormat, Kind
from domain.mapping import (
    FAFSA_FLAGS,
    VALUES_REQUIRED,
    VOCABULARY,
    Mapping,
    header_problems,
    required_columns,
)
from domain.mapping import (
    problems as mapping_problems,
)
from domain.progress import Progress, no_progress
from domain.vocabulary import FAFSA_STATUSES, SERVICE_TYPES
from indicators.record_matching import AMBIGUOUS, MATCHED, UNMATCHED, match_records
from indicators.service_periods import roll_up

FAFSA_TABLE, SERVICE_TABLE, REVIEW_TABLE = table_of(Fafsa), table_of(Service), table_of(ReviewItem)
TABLES = {"fafsa": FAFSA_TABLE, "services": SERVICE_TABLE}

#: How each target column's cells are read (the import format's kinds).
KINDS: dict[str, ColumnFormat] = {
    c.name: c
    for c in (
        ColumnFormat("student_id", Kind.ID),
        ColumnFormat("first_name", Kind.TEXT),
        ColumnFormat("last_name", Kind.TEXT),
        ColumnFormat("birth_date", Kind.DATE),
        ColumnFormat("school_id", Kind.ID),
        ColumnFormat("award_year", Kind.INT),
        ColumnFormat("status", Kind.CHOICE, choices=FAFSA_STATUSES),
        ColumnFormat("status_date", Kind.DATE),
        *(ColumnFormat(flag, Kind.YES_NO) for flag in FAFSA_FLAGS),
        ColumnFormat("source_key", Kind.TEXT),
        ColumnFormat("org_id", Kind.ID),
        ColumnFormat("service_type", Kind.CHOICE, choices=SERVICE_TYPES),
        ColumnFormat("start_date", Kind.DATE),
        ColumnFormat("end_date", Kind.DATE),
        ColumnFormat("sessions", Kind.INT),
        ColumnFormat("hours", Kind.NUMBER),
        ColumnFormat("delivery_date", Kind.DATE),
        ColumnFormat("quantity", Kind.NUMBER),
        ColumnFormat("unit", Kind.CHOICE, choices=VOCABULARY["unit"]),
        ColumnFormat("attendance", Kind.CHOICE, choices=VOCABULARY["attendance"]),
    )
}
_NATIVE = {
    "fafsa": ["student_id", "award_year", "status", "status_date", *FAFSA_FLAGS],
    "services": [
        "student_id",
        "org_id",
        "service_type",
        "start_date",
        "end_date",
        "sessions",
        "hours",
    ],
}
_KEYS = {
    "fafsa": ["student_id", "award_year"],
    "services": ["student_id", "org_id", "service_type", "start_date"],
}
_IDENTITY = ["first_name", "last_name", "birth_date", "school_id"]


@dataclass(frozen=True)
class MappedResult:
    """What a mapped import did (or, for a dry run, would do)."""

    file: str
    target: str
    mapping: str
    source_rows: int
    #: Target rows loaded: inserted and updated.
    inserted: int
    updated: int
    #: Rows (FAFSA) or persons (services) by matching decision; all `matched` with an id.
    matched: int
    ambiguous: int
    unmatched: int
    #: Review items written (the ambiguous and unmatched rows or persons).
    queued: int
    dry_run: bool
    import_id: int | None = None


@dataclass
class _Prepared:
    rows: pl.DataFrame  # native rows to load, with `_line`
    review: list[dict[str, object]]
    matched: int
    ambiguous: int
    unmatched: int
    source_rows: int


def _problem(
    file: str, line: int | None, column: str | None, message: str, value: str | None = None
) -> Problem:
    return Problem(file, line, column, message, value)


def _read(file: str, data: bytes, problems: Problems) -> RawTable | None:
    workbook = file.lower().endswith(".xlsx")
    parts: list[RawTable] = []
    try:
        parts = list(file_parts(file, data, workbook))
    except Unreadable as unreadable:
        problems.add(*unreadable.problems)
        return None
    first = parts[0]
    cells = (
        pl.concat([p.cells for p in parts], how="diagonal_relaxed")
        if len(parts) > 1
        else first.cells
    )
    problems.add(*(p for part in parts for p in part.problems))
    return RawTable(first.file, first.header, cells)


def _text_columns(raw: RawTable, mapping: Mapping, problems: Problems) -> pl.DataFrame | None:
    """The mapped columns as text (`_line` and each target column), values translated;
    problems for ragged rows and values the mapping does not list."""
    positions = {h.strip().casefold(): i for i, h in enumerate(raw.header)}
    width = len(raw.header)
    ragged = raw.cells.filter(pl.col(FIELDS) != width)
    for line, fields in ragged.select(LINE, FIELDS).iter_rows():
        problems.add(
            _problem(raw.file, line, None, f"{fields} fields where the header has {width}")
        )
    cells = raw.cells.filter(pl.col(FIELDS) == width)
    columns = [pl.col(LINE)]
    for target, source in mapping.columns.items():
        columns.append(pl.col(cell_column(positions[source.strip().casefold()])).alias(target))
    frame = cells.select(columns)
    for target, source in mapping.columns.items():
        listed = mapping.values.get(target)
        if not listed and target not in VALUES_REQUIRED and target not in FAFSA_FLAGS:
            continue
        distinct = frame.get_column(target).drop_nulls().unique().to_list()
        translation = {cell: mapping.translate(target, cell) for cell in distinct}
        unknown = sorted(cell for cell, value in translation.items() if value is None)
        if unknown:
            bad = frame.filter(pl.col(target).is_in(unknown))
            for line, cell in bad.select(LINE, target).iter_rows():
                problems.add(
                    _problem(
                        raw.file,
                        line,
                        source,
                        f"value not listed for {target} in mapping {mapping.name}",
                        cell,
                    )
                )
        frame = frame.with_columns(
            pl.col(target).replace_strict(translation, default=None, return_dtype=pl.String)
        )
    return frame


def _typed(file: str, frame: pl.DataFrame, mapping: Mapping, problems: Problems) -> pl.DataFrame:
    """Each mapped column parsed as its kind; constants added; problems for bad cells and
    blank required cells (named by the file's column)."""
    required = set(required_columns(mapping))
    out = [pl.col(LINE)]
    for target, source in mapping.columns.items():
        text = pl.col(target)
        kind = KINDS[target]
        if kind.kind == Kind.DATE and mapping.date_format:
            value = text.str.strptime(pl.Date, mapping.date_format, strict=False)
            suspect = text.is_not_null() & value.is_null()
            error: pl.Expr = pl.when(suspect).then(
                pl.lit(f"not a date written {mapping.date_format}")
            )
        else:
            parsed = parse(text, kind, None)
            value, error, suspect = parsed.value, parsed.error, parsed.suspect
        bad = (
            frame.filter(suspect)
            .select(LINE, text.alias("_text"), error.alias("_error"))
            .filter(pl.col("_error").is_not_null())
        )
        for line, cell, message in bad.iter_rows():
            problems.add(_problem(file, line, source, message, cell))
        if target in required:
            for (line,) in frame.filter(text.is_null()).select(LINE).iter_rows():
                problems.add(_problem(file, line, source, "required value is blank"))
        out.append(value.alias(target))
    typed = frame.select(out)
    for column in ("award_year", "org_id", "service_type"):
        constant = mapping.constant(column)
        if column not in mapping.columns and constant is not None:
            typed = typed.with_columns(pl.lit(constant).alias(column))
    if "award_year" in typed.columns:
        typed = typed.with_columns(pl.col("award_year").cast(pl.Int64))
    return typed


def _with_nulls(
    frame: pl.DataFrame, columns: list[str], dtypes: dict[str, pl.DataType]
) -> pl.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    return frame.with_columns(
        pl.lit(None, dtype=dtypes.get(c, pl.String)).alias(c) for c in missing
    )


_DTYPES: dict[str, pl.DataType] = {
    "birth_date": pl.Date(),
    "status_date": pl.Date(),
    "start_date": pl.Date(),
    "end_date": pl.Date(),
    "delivery_date": pl.Date(),
    "sessions": pl.Int64(),
    "hours": pl.Float64(),
    "quantity": pl.Float64(),
    "award_year": pl.Int64(),
    **{flag: pl.Boolean() for flag in FAFSA_FLAGS},
}


def _candidates(engine: Engine, target: str, rows: pl.DataFrame) -> pl.DataFrame:
    """The students rows may be about: for FAFSA the classes of the file's award years, for
    services every student on record."""
    students = read_table(
        engine,
        table_of(Student),
        ["student_id", "first_name", "last_name", "birth_date", "school_id", "cohort_year"],
    )
    if target == "fafsa":
        years = rows.get_column("award_year").drop_nulls().unique().implode()
        students = students.filter(pl.col("cohort_year").is_in(years))
    return students.drop("cohort_year")


def _rollup_persons(
    typed: pl.DataFrame, mapping: Mapping, gap_days: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(periods per person, each person's identity with the line of their first row)."""
    person = (
        pl.col("source_key")
        if "source_key" in typed.columns
        else pl.concat_str(
            [pl.col(c).cast(pl.String).fill_null("") for c in _IDENTITY if c in typed.columns],
            separator="|",
        )
    )
    typed = _with_nulls(
        typed, ["student_id", *_IDENTITY, "end_date", "quantity", "unit", "attendance"], _DTYPES
    )
    typed = typed.with_columns(person.alias("_person"))
    if mapping.deliveries:
        hours = (
            pl.when(pl.col("unit") == "hours")
            .then(pl.col("quantity"))
            .when(pl.col("unit") == "minutes")
            .then(pl.col("quantity") / 60)
        )
        deliveries = typed.select(
            "_person",
            "org_id",
            "service_type",
            "delivery_date",
            (pl.col("attendance").is_null() | (pl.col("attendance") == "present")).alias("present"),
            hours.cast(pl.Float64).alias("hours"),
            "end_date",
            LINE,
        )
        periods = roll_up(deliveries, gap_days, ends_given="end_date" in mapping.columns)
    else:
        periods = _with_nulls(typed, ["sessions", "hours"], _DTYPES).select(
            "_person", "org_id", "service_type", "start_date", "end_date", "sessions", "hours", LINE
        )
    persons = (
        typed.sort(LINE)
        .group_by("_person", maintain_order=True)
        .agg(pl.col(LINE).first(), *(pl.col(c).first() for c in ["student_id", *_IDENTITY]))
    )
    return periods, persons


def _review_items(
    file: str, mapping: Mapping, who: str, undecided: pl.DataFrame, rows_by: pl.DataFrame, key: str
) -> list[dict[str, object]]:
    """Review items for undecided rows (or persons): identity, candidates, the rows to load."""
    now = datetime.now(UTC)
    grouped = {k: g.drop(key) for (k,), g in rows_by.partition_by(key, as_dict=True).items()}
    items: list[dict[str, object]] = []
    for row in undecided.iter_rows(named=True):
        load = grouped.get(row[key])
        load_rows = [] if load is None else json.loads(load.write_json())
        items.append(
            {
                "target": mapping.target,
                "source_file": file,
                "line": row[LINE],
                "org_id": load_rows[0].get("org_id") if load_rows else None,
                "source_key": row.get("_person") if mapping.target == "services" else None,
                "first_name": row.get("first_name"),
                "last_name": row.get("last_name"),
                "birth_date": row.get("birth_date"),
                "school": row.get("school_id"),
                "candidates": json.dumps(row["candidates"] or []),
                "reason": row["decision"],
                "rows": json.dumps(load_rows, default=str),
                "queued_by": who,
                "queued_at": now,
            }
        )
    return items


def _prepare(
    engine: Engine,
    file: str,
    data: bytes,
    mapping: Mapping,
    *,
    who: str,
    near: float,
    gap_days: int,
    only_org: str | None,
    problems: Problems,
) -> _Prepared | None:
    for message in mapping_problems(mapping):
        problems.add(_problem(file, None, None, f"mapping {mapping.name}: {message}"))
    if problems:
        return None
    raw = _read(file, data, problems)
    if raw is None:
        return None
    for column, message in header_problems(mapping, raw.header):
        problems.add(_problem(file, 1, column, message))
    if problems:
        return None
    text = _text_columns(raw, mapping, problems)
    if text is None:
        return None
    typed = _typed(file, text, mapping, problems)
    if only_org is not None and "org_id" in typed.columns:
        source = mapping.columns.get("org_id", "org_id")
        other = typed.filter(pl.col("org_id").is_not_null() & (pl.col("org_id") != only_org))
        for line, org in other.select(LINE, "org_id").iter_rows():
            problems.add(
                _problem(
                    file, line, source, "you may import only your organisation's services", org
                )
            )
    if problems:
        return None
    source_rows = typed.height
    if mapping.target == "fafsa":
        units = _with_nulls(typed, ["student_id", *_IDENTITY, "status_date", *FAFSA_FLAGS], _DTYPES)
        units = units.with_columns(pl.col(LINE).cast(pl.String).alias("_unit"))
        loads = units.select("_unit", LINE, *[c for c in _NATIVE["fafsa"] if c != "student_id"])
        people = units.select("_unit", LINE, "student_id", *_IDENTITY)
    else:
        periods, persons = _rollup_persons(typed, mapping, gap_days)
        loads = periods.rename({"_person": "_unit"})
        people = persons.rename({"_person": "_unit"})
    if mapping.matches_records:
        decided = match_records(
            people.rename({LINE: "_source_line"})
            .with_row_index("_row")
            .with_columns(pl.col("_row").cast(pl.Int64)),
            _candidates(engine, mapping.target, typed),
            near,
        )
        people = people.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
        people = people.drop("student_id").join(decided, on="_row").drop("_row")
    else:
        people = people.with_columns(
            pl.lit(MATCHED).alias("decision"),
            pl.lit(
                None, dtype=pl.List(pl.Struct({"student_id": pl.String, "score": pl.Float64}))
            ).alias("candidates"),
        )
    counts = people.get_column("decision").value_counts()
    count = dict(zip(counts["decision"].to_list(), counts["count"].to_list(), strict=True))
    matched = people.filter(pl.col("decision") == MATCHED).select("_unit", "student_id")
    rows = loads.join(matched, on="_unit").select(LINE, *_NATIVE[mapping.target]).sort(LINE)
    undecided = people.filter(pl.col("decision") != MATCHED).rename(
        {"_unit": "_person"} if mapping.target == "services" else {}
    )
    unit_key = "_person" if mapping.target == "services" else "_unit"
    review = _review_items(
        file,
        mapping,
        who,
        undecided,
        loads.drop(LINE).rename({"_unit": unit_key}),
        unit_key,
    )
    _check_rows(engine, file, mapping, rows, problems)
    return _Prepared(
        rows,
        review,
        count.get(MATCHED, 0),
        count.get(AMBIGUOUS, 0),
        count.get(UNMATCHED, 0),
        source_rows,
    )


def _check_rows(
    engine: Engine, file: str, mapping: Mapping, rows: pl.DataFrame, problems: Problems
) -> None:
    """The native file's checks on the rows to load: duplicate keys, unknown references."""
    key = _KEYS[mapping.target]
    label = "+".join(key)
    duplicated = rows.with_columns(pl.col(LINE).min().over(key).alias("_first")).filter(
        pl.col(LINE) != pl.col("_first")
    )
    for values in duplicated.iter_rows(named=True):
        shown = ", ".join(str(values[k]) for k in key)
        problems.add(
            _problem(
                file, values[LINE], label, f"duplicate key, first on line {values['_first']}", shown
            )
        )
    references = {"student_id": table_of(Student), "org_id": table_of(Organization)}
    for column, table in references.items():
        if column not in rows.columns:
            continue
        known = read_table(engine, table, [column]).get_column(column).implode()
        for line, value in (
            rows.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(known))
            .select(LINE, column)
            .iter_rows()
        ):
            source = mapping.columns.get(column, column)
            noun = "student" if column == "student_id" else "organization"
            problems.add(
                _problem(file, line, source, f"no {noun} with this {column} in the database", value)
            )
    _ = School  # schools are compared by id inside matching only


def import_mapped(
    engine: Engine,
    file: str,
    data: bytes,
    mapping: Mapping,
    *,
    principal: Principal,
    near: float,
    gap_days: int,
    dry_run: bool = False,
    only_org: str | None = None,
    progress: Progress = no_progress,
    after_import: Callable[[Engine], object] | None = None,
) -> MappedResult:
    """Check, match and (unless `dry_run`) load one mapped file in one transaction.
    Raises `ImportRejected` with every problem (nothing written)."""
    started = datetime.now(UTC)
    who = principal.email if principal.os_user is None else (principal.os_user or principal.email)
    problems = Problems()
    problems.note_file(file)
    if read_meta(engine).get(DEMO_KEY) is not None:
        from data_access.importing.api import ImportRefused

        raise ImportRefused(
            "this database holds the demo district, whose demo sign-in must never reach "
            "real data; import into a database without the demo"
        )
    progress(0, 3, f"checking {file}")
    prepared = _prepare(
        engine,
        file,
        data,
        mapping,
        who=who,
        near=near,
        gap_days=gap_days,
        only_org=only_org,
        problems=problems,
    )
    table = TABLES[mapping.target]

    def rejected() -> ImportRejected:
        return ImportRejected(
            ImportResult(
                files=(FileResult(file, mapping.target, table.name, 0, sha256=sha256(data)),),
                problems=problems.first(),
                problem_count=len(problems),
                dry_run=dry_run,
                imported_by=who,
            )
        )

    if prepared is None or problems:
        raise rejected()
    progress(1, 3, f"matched {file}")
    native = prepared.rows.drop(LINE)
    stored = stored_keys(engine, table)
    updated = int(existing_mask(stored, native.select(_KEYS[mapping.target])).sum())
    inserted = native.height - updated
    result = MappedResult(
        file,
        mapping.target,
        mapping.name,
        prepared.source_rows,
        inserted,
        updated,
        prepared.matched,
        prepared.ambiguous,
        prepared.unmatched,
        len(prepared.review),
        dry_run,
    )
    if dry_run:
        progress(3, 3, "done")
        return result
    # The refresh too, under the import lock: a refresh that read the tables before another
    # import committed must not write after that import's own (importing/lock.py).
    with import_lock(engine, who):
        with engine.begin() as connection:
            upsert_frame(connection, table, native)
            if prepared.review:
                connection.execute(insert(REVIEW_TABLE), prepared.review)
            record = FileRecord(
                file, mapping.target, sha256(data), native.height, inserted, updated
            )
            import_id = record_import(connection, [record], who, started)
            detail = {
                "import_id": import_id,
                "files": [file],
                "mapping": mapping.name,
                "matched": prepared.matched,
                "ambiguous": prepared.ambiguous,
                "unmatched": prepared.unmatched,
                "queued": len(prepared.review),
            }
            record_event(connection, principal, "import", detail=detail)
            if mapping.matches_records:
                students = native.get_column("student_id").unique().sort().to_list()
                record_event(
                    connection,
                    principal,
                    "match records",
                    students=dict.fromkeys(students, "matched on name, birth date and school"),
                    detail=detail,
                )
        progress(3, 3, "done")
        if after_import is not None:
            after_import(engine)
    return MappedResult(**{**result.__dict__, "import_id": import_id})


def open_reviews(engine: Engine) -> pl.DataFrame:
    """The review items not yet resolved, oldest first (callers check the principal)."""
    with engine.connect() as connection:
        rows = (
            connection.execute(
                select(REVIEW_TABLE)
                .where(REVIEW_TABLE.c.resolution.is_(None))
                .order_by(REVIEW_TABLE.c.review_id)
            )
            .mappings()
            .all()
        )
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        c.name: pl.String for c in REVIEW_TABLE.columns
    }
    schema.update(
        {
            "review_id": pl.Int64,
            "line": pl.Int64,
            "birth_date": pl.Date,
            "queued_at": pl.Datetime,
            "resolved_at": pl.Datetime,
        }
    )
    return pl.DataFrame([dict(r) for r in rows], schema=schema, orient="row")
