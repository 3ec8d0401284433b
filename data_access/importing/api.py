"""Importing files in the import format: `import_path` (a file or folder) and `import_files`
(uploaded bytes), for the command line and the upload page alike.

The order of work (import-format.md): recognise the files by name; read and check each
file in dependency order; check references against the database and the other files;
aggregate daily attendance; then, only if no problem was found anywhere, count which keys
exist already and write everything in one transaction with the import's history record.
Any problem raises `ImportRejected` (every problem counted, the first ones kept) before
anything is written; `dry_run=True` stops after counting. After a successful import the
optional `after_import(engine)` hook runs (the command line passes the refresh of the
derived tables); the import is committed before it runs.

Progress is reported twice from 0 to 100%: while checking (in bytes of the files) and
while writing (in rows), each with a message naming the file or table.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from data_access.bulk import read_table
from data_access.importing.checks import CheckedFile, check_file
from data_access.importing.daily_attendance import snapshots
from data_access.importing.problems import ImportRejected, Problem, Problems
from data_access.importing.reading import LINE, read_file
from data_access.importing.references import check_references, referenced_files
from data_access.importing.sources import ImportFile, files_at, recognise, sha256
from data_access.importing.writing import (
    FileRecord,
    TableWrite,
    existing_mask,
    import_table,
    key_columns,
    write_import,
)
from data_access.meta import DEMO_KEY, read_meta
from data_access.models import IMPORT_TABLES
from data_access.progress import Progress, no_progress
from domain.import_format import FILE_FORMATS

AfterImport = Callable[[Engine], object]


class ImportRefused(Exception):
    """This database must not receive imports (it holds the demo district); nothing written."""


@dataclass(frozen=True)
class FileResult:
    """One file: its data rows, the table rows it inserts and updates, its checksum."""

    name: str
    kind: str
    table: str
    rows: int
    inserted: int = 0
    updated: int = 0
    sha256: str = ""


@dataclass(frozen=True)
class ImportResult:
    files: tuple[FileResult, ...]
    #: The first problems (file, line, column order); empty when the import is valid.
    problems: tuple[Problem, ...] = ()
    #: Every problem found, counted (`problems` keeps at most `problems.KEEP_CAP`).
    problem_count: int = 0
    dry_run: bool = False
    #: The `import_run` row written (None for a dry run or a rejected import).
    import_id: int | None = None
    imported_by: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.files)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return "unknown"


def import_path(
    engine: Engine,
    path: Path | str,
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
    imported_by: str | None = None,
    after_import: AfterImport | None = None,
) -> ImportResult:
    """Import one file or every file of a folder. Raises `ImportRejected`, `ImportRefused`,
    or FileNotFoundError when `path` does not exist."""
    paths = files_at(Path(path))
    return _import(
        engine,
        {name: p.stat().st_size for name, p in paths.items()},
        lambda name: paths[name].read_bytes(),
        dry_run=dry_run,
        progress=progress,
        imported_by=imported_by,
        after_import=after_import,
    )


def import_files(
    engine: Engine,
    files: Mapping[str, bytes],
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
    imported_by: str | None = None,
    after_import: AfterImport | None = None,
) -> ImportResult:
    """Import uploaded files (name -> bytes), as `import_path` does a folder."""
    return _import(
        engine,
        {name: len(data) for name, data in files.items()},
        lambda name: files[name],
        dry_run=dry_run,
        progress=progress,
        imported_by=imported_by,
        after_import=after_import,
    )


def _refuse_demo(engine: Engine) -> None:
    if read_meta(engine).get(DEMO_KEY) is not None:
        raise ImportRefused(
            "this database holds the demo district, whose demo sign-in must never reach "
            "real data; import into a database without the demo "
            "(point PATHWISE_DATABASE_URL at an empty database)"
        )


def _import(
    engine: Engine,
    sizes: Mapping[str, int],
    load: Callable[[str], bytes],
    *,
    dry_run: bool,
    progress: Progress,
    imported_by: str | None,
    after_import: AfterImport | None,
) -> ImportResult:
    started = datetime.now(UTC)
    who = imported_by or os_user()
    _refuse_demo(engine)
    problems = Problems()
    files, name_problems = recognise(sizes)
    for file in files:
        problems.note_file(file.name)
    problems.add(*name_problems)
    if not files and not name_problems:
        problems.add(Problem("-", None, None, "no files to import"))

    checked, results = _check_files(files, sizes, load, problems, progress)
    _check_across(engine, checked, problems)
    snapshot_rows = _attendance_snapshots(checked, problems)

    def result(
        per_file: dict[str, tuple[int, int]] | None = None, import_id: int | None = None
    ) -> ImportResult:
        counts = per_file or {}
        return ImportResult(
            files=tuple(
                FileResult(
                    r.name,
                    r.kind,
                    r.table,
                    r.rows,
                    *counts.get(r.kind, (0, 0)),
                    sha256=r.sha256,
                )
                for r in results
            ),
            problems=problems.first(),
            problem_count=len(problems),
            dry_run=dry_run,
            import_id=import_id,
            imported_by=who,
            seconds=(datetime.now(UTC) - started).total_seconds(),
        )

    if problems:
        raise ImportRejected(result())

    writes, per_file = _plan_writes(engine, checked, snapshot_rows)
    if dry_run:
        progress(1, 1, "done")
        return result(per_file)
    records = [
        FileRecord(r.name, r.kind, r.sha256, r.rows, *per_file.get(r.kind, (0, 0))) for r in results
    ]
    try:
        import_id = write_import(engine, writes, records, who, started, progress)
    except DBAPIError as error:  # a rule the checks missed; the transaction was rolled back
        first = str(error.orig or error).strip().splitlines()[0]
        problems.add(Problem("-", None, None, f"the database refused the import: {first}"))
        raise ImportRejected(result()) from error
    progress(1, 1, "done")
    if after_import is not None:
        after_import(engine)
    return result(per_file, import_id)


def _check_files(
    files: list[ImportFile],
    sizes: Mapping[str, int],
    load: Callable[[str], bytes],
    problems: Problems,
    progress: Progress,
) -> tuple[dict[str, CheckedFile], list[FileResult]]:
    """Read and check each file; returns the checked files by kind and their results."""
    checked: dict[str, CheckedFile] = {}
    results: list[FileResult] = []
    total = max(1, sum(sizes[f.name] for f in files))
    done = 0
    for file in files:
        progress(done, total, f"checking {file.name}")
        data = load(file.name)
        checksum = sha256(data)
        fmt = FILE_FORMATS[file.kind]
        raw = read_file(file.name, data, file.workbook)
        del data
        if isinstance(raw, list):
            problems.add(*raw)
            results.append(
                FileResult(file.name, file.kind, _table_name(file.kind), 0, sha256=checksum)
            )
        else:
            one = check_file(raw, fmt, _max_lengths(file.kind))
            del raw
            for frame in one.problems:
                problems.add_frame(frame)
            checked[file.kind] = one
            results.append(
                FileResult(
                    file.name, file.kind, _table_name(file.kind), one.rows.height, sha256=checksum
                )
            )
        done += sizes[file.name]
        progress(done, total, f"checked {file.name}")
    return checked, results


def _table_name(kind: str) -> str:
    return import_table(FILE_FORMATS[kind].stored_as).name


def _max_lengths(kind: str) -> dict[str, int]:
    """Text column lengths of the table a file is stored in (`VARCHAR(n)` on PostgreSQL)."""
    table = import_table(FILE_FORMATS[kind].stored_as)
    lengths = {c.name: getattr(c.type, "length", None) for c in table.columns}
    return {name: int(length) for name, length in lengths.items() if length is not None}


def _check_across(engine: Engine, checked: dict[str, CheckedFile], problems: Problems) -> None:
    """References that resolve neither in the database nor in this import."""
    in_database = {}
    for kind in referenced_files(checked):
        (key,) = FILE_FORMATS[kind].key
        in_database[kind] = read_table(engine, import_table(kind), [key]).get_column(key)
    for frame in check_references(checked, in_database):
        problems.add_frame(frame)


def _attendance_snapshots(
    checked: dict[str, CheckedFile], problems: Problems
) -> pl.DataFrame | None:
    """Snapshots from attendance_daily; a snapshot also given in attendance is a problem."""
    daily = checked.get("attendance_daily")
    if daily is None:
        return None
    computed = snapshots(daily.rows)
    given = checked.get("attendance")
    if given is not None:
        key = list(FILE_FORMATS["attendance"].key)
        clash = given.rows.join(computed.select(key), on=key, how="semi")
        problems.add_frame(
            clash.select(
                pl.lit(given.file).alias("file"),
                pl.col(LINE).alias("line"),
                pl.lit("+".join(key)).alias("column"),
                pl.lit(f"this snapshot is also computed from {daily.file}").alias("message"),
                pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=", ").alias(
                    "value"
                ),
                pl.lit(given.ranks.get(key[0], -1), dtype=pl.Int64).alias("rank"),
            )
        )
    return computed


def _plan_writes(
    engine: Engine, checked: dict[str, CheckedFile], snapshot_rows: pl.DataFrame | None
) -> tuple[list[TableWrite], dict[str, tuple[int, int]]]:
    """The rows for each table in dependency order, and (inserted, updated) per file kind."""
    writes: list[TableWrite] = []
    per_file: dict[str, tuple[int, int]] = {}
    for kind in IMPORT_TABLES:
        table = import_table(kind)
        columns = [c.name for c in table.columns]
        sources: list[tuple[str, pl.DataFrame]] = []
        if kind in checked:
            sources.append((kind, checked[kind].rows.select(columns)))
        if kind == "attendance" and snapshot_rows is not None:
            sources.append(("attendance_daily", snapshot_rows.select(columns)))
        if not sources:
            continue
        rows = pl.concat([frame for _, frame in sources])
        exists = existing_mask(engine, table, rows.select(key_columns(table)))
        offset = 0
        for source, frame in sources:
            updated = int(exists.slice(offset, frame.height).sum())
            per_file[source] = (frame.height - updated, updated)
            offset += frame.height
        writes.append(TableWrite(kind, rows, int(exists.sum())))
    return writes, per_file
