"""Importing files in the import format: `import_path` (a file or folder) and `import_files`
(uploaded bytes), for the command line and the upload page alike.

The order of work (docs/import-format.md): recognise the files by name; then, file by file in
dependency order, read and check it, check its references against the database and the
files before it, and (daily attendance) aggregate it. While no problem has turned up,
each table whose files are all checked is handed to a background writer that writes it
inside one open transaction while the next files are checked. At the end, any problem
anywhere rolls that transaction back and raises `ImportRejected` (every problem counted,
the first ones kept): nothing is committed. Otherwise the import's history record is
added and the transaction commits. `dry_run=True` checks and counts without writing.
After a successful import the optional `after_import(engine)` hook runs (the command line
passes the refresh of the derived tables); the import is committed before it runs. The
optional `record(connection, import_id, files)` hook runs inside the import's transaction
(the audit event of the import is written there). A real
import holds the import lock (`lock`) from its first read to the end of that hook: a
second import at the same time raises `ImportBusy` and reads and writes nothing.

Progress goes from 0 to 100% over the work measured in bytes of the files: once for
checking them and once more for writing them (not for a dry run). It is only ever
reported from the caller's thread.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from data_access.bulk import read_table
from data_access.busy import DatabaseBusy
from data_access.importing.checks import CheckedFile, FileChecker
from data_access.importing.daily_attendance import snapshots
from data_access.importing.lock import import_lock
from data_access.importing.nsc import NSC_KIND, check_report, first_line, is_detail_report
from data_access.importing.nsc_writing import TERMS, replace_rows, rows_to_write
from data_access.importing.oneroster import Stored, check_package
from data_access.importing.oneroster_writing import write_roster
from data_access.importing.problems import Problem, Problems
from data_access.importing.reading import LINE, Unreadable, file_parts
from data_access.importing.references import check_references, referenced_files
from data_access.importing.results import FileResult, ImportRejected, ImportResult
from data_access.importing.sources import ImportFile, files_at, kind_of, recognise, sha256
from data_access.importing.writing import (
    BackgroundWriter,
    CustomWrite,
    FileRecord,
    TableWrite,
    existing_mask,
    import_table,
    key_columns,
    stored_keys,
)
from data_access.meta import DEMO_KEY, read_meta
from data_access.models import Enrollment, Outcome, School, Student, User, table_of
from domain.import_format import FILE_FORMATS
from domain.oneroster import ONEROSTER_KIND
from domain.progress import Progress, no_progress
from indicators.settings import load_settings

AfterImport = Callable[[Engine], object]
#: Called inside the import's own transaction, after its history record is written and
#: before it commits, with the import's id and files: the audit event of the import is
#: written there, so that the import and its audit record commit together or not at all.
RecordImport = Callable[[Connection, int, Sequence[FileRecord]], object]


class ImportRefused(Exception):
    """This database must not receive imports (it holds the demo district); nothing written."""


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
    record: RecordImport | None = None,
    nsc: bool = False,
    oneroster: bool = False,
    today: date | None = None,
) -> ImportResult:
    """Import one file or every file of a folder. Raises `ImportRejected`, `ImportRefused`,
    or FileNotFoundError when `path` does not exist. `nsc=True` (`pathwise import nsc FILE`)
    reads every file as a Clearinghouse detail report, whatever its name; `oneroster=True`
    (`pathwise import oneroster ZIP`) every file as a OneRoster package (a `.zip` always is)."""
    paths = files_at(Path(path))
    return _import(
        engine,
        {name: p.stat().st_size for name, p in paths.items()},
        lambda name: paths[name].read_bytes(),
        dry_run=dry_run,
        progress=progress,
        imported_by=imported_by,
        after_import=after_import,
        record=record,
        nsc=nsc,
        oneroster=oneroster,
        today=today,
    )


def import_files(
    engine: Engine,
    files: Mapping[str, bytes],
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
    imported_by: str | None = None,
    after_import: AfterImport | None = None,
    record: RecordImport | None = None,
    today: date | None = None,
) -> ImportResult:
    """Import uploaded files (name -> bytes), as `import_path` does a folder. `today`: the
    date a Clearinghouse report's outcomes are derived as of (default: the real date)."""
    return _import(
        engine,
        {name: len(data) for name, data in files.items()},
        lambda name: files[name],
        dry_run=dry_run,
        progress=progress,
        imported_by=imported_by,
        after_import=after_import,
        record=record,
        today=today,
    )


def _refuse_demo(engine: Engine) -> None:
    if read_meta(engine).get(DEMO_KEY) is not None:
        raise ImportRefused(
            "this database holds the demo district, whose demo sign-in must never reach "
            "real data; import into a database without the demo "
            "(point PATHWISE_DATABASE_URL at an empty database)"
        )


def _table_name(kind: str) -> str:
    return import_table(FILE_FORMATS[kind].stored_as).name


def _max_lengths(kind: str) -> dict[str, int]:
    """Text column lengths of the table a file is stored in (`VARCHAR(n)` on PostgreSQL)."""
    table = import_table(FILE_FORMATS[kind].stored_as)
    lengths = {c.name: getattr(c.type, "length", None) for c in table.columns}
    return {name: int(length) for name, length in lengths.items() if length is not None}


@dataclass
class _Run:
    """The state of one import while its files are checked and written."""

    engine: Engine
    sizes: Mapping[str, int]
    dry_run: bool
    progress: Progress
    problems: Problems = field(default_factory=Problems)
    results: list[FileResult] = field(default_factory=list)
    #: Keys of this import's schools, organizations, students and users files.
    keys: dict[str, pl.Series] = field(default_factory=dict)
    #: Ids stored in the tables other files refer to (schools, ..., users).
    stored_keys: dict[str, pl.Series] = field(default_factory=dict)
    #: Primary keys stored in tables, until the table's inserts and updates are counted.
    stored_table_keys: dict[str, pl.DataFrame] = field(default_factory=dict)
    #: For a Clearinghouse report: students' cohort_year and stored graduation dates (read
    #: before anything is written), with those of this import's students and outcomes files.
    nsc_context: dict[str, pl.DataFrame] = field(default_factory=dict)
    #: Checked rows waiting for their table to be complete (attendance, attendance_daily).
    pending: dict[str, tuple[CheckedFile, pl.DataFrame]] = field(default_factory=dict)
    #: (inserted, updated) per file kind.
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    writer: BackgroundWriter | None = None
    checked_work: int = 0
    #: The date a Clearinghouse report's outcomes are derived as of.
    today: date | None = None

    @property
    def total_work(self) -> int:
        return max(1, sum(self.sizes.values())) * (1 if self.dry_run else 2)

    def report(self, message: str) -> None:
        written = self.writer.work_done if self.writer else 0
        self.progress(min(self.checked_work + written, self.total_work), self.total_work, message)

    def table_keys(self, kind: str) -> pl.DataFrame:
        """The primary keys stored in table `kind`, read once."""
        if kind not in self.stored_table_keys:
            self.stored_table_keys[kind] = stored_keys(self.engine, import_table(kind))
        return self.stored_table_keys[kind]

    def database_keys(self, kind: str) -> pl.Series:
        """The ids stored for a file other files refer to (its one-column key), read once."""
        if kind not in self.stored_keys:
            (key,) = FILE_FORMATS[kind].key
            self.stored_keys[kind] = self.table_keys(kind).get_column(key)
        return self.stored_keys[kind]


def _import(
    engine: Engine,
    sizes: Mapping[str, int],
    load: Callable[[str], bytes],
    *,
    dry_run: bool,
    progress: Progress,
    imported_by: str | None,
    after_import: AfterImport | None,
    record: RecordImport | None,
    nsc: bool = False,
    oneroster: bool = False,
    today: date | None = None,
) -> ImportResult:
    """A dry run as it is; a real import (and its refresh) while holding the import lock,
    so that a second one at the same time raises `ImportBusy` (`lock`)."""
    who = imported_by or os_user()
    if dry_run:
        return _import_files(
            engine, sizes, load, True, progress, who, after_import, record, nsc, oneroster, today
        )
    with import_lock(engine, who):
        return _import_files(
            engine, sizes, load, False, progress, who, after_import, record, nsc, oneroster, today
        )


def _detail_reports(
    sizes: Mapping[str, int], load: Callable[[str], bytes], forced: bool
) -> list[str]:
    """The files read as Clearinghouse detail reports: all of them when `forced`, else the
    CSV files without an import-file name whose header is a detail report's."""
    if forced:
        return list(sizes)
    return [
        name
        for name in sizes
        if kind_of(name) is None
        and name.lower().endswith(".csv")
        and is_detail_report(first_line(load(name)))
    ]


def _import_files(
    engine: Engine,
    sizes: Mapping[str, int],
    load: Callable[[str], bytes],
    dry_run: bool,
    progress: Progress,
    who: str,
    after_import: AfterImport | None,
    record: RecordImport | None,
    nsc: bool = False,
    oneroster: bool = False,
    today: date | None = None,
) -> ImportResult:
    started = datetime.now(UTC)
    _refuse_demo(engine)
    run = _Run(engine, sizes, dry_run, progress)
    run.today = today or started.date()
    packages = [n for n in sizes if oneroster or n.lower().endswith(".zip")]
    reports = _detail_reports({n: s for n, s in sizes.items() if n not in packages}, load, nsc)
    files, name_problems = recognise(n for n in sizes if n not in reports and n not in packages)
    for file in files:
        run.problems.note_file(file.name)
    for name in reports:
        run.problems.note_file(name)
    run.problems.add(*name_problems)
    if reports:
        _read_nsc_context(run)
    stored_roster = _read_roster_context(run) if packages else None
    if not files and not name_problems and not reports and not packages:
        run.problems.add(Problem("-", None, None, "no files to import"))
    # Read the ids of the tables other tables refer to before anything is written: on
    # PostgreSQL the writer may lock those tables exclusively until it commits.
    for kind in sorted(referenced_files()):
        run.database_keys(kind)
    if not dry_run and not run.problems:
        run.writer = BackgroundWriter(engine, record)

    def result(import_id: int | None = None) -> ImportResult:
        rejected = bool(run.problems)
        return ImportResult(
            files=tuple(
                FileResult(
                    r.name,
                    r.kind,
                    r.table,
                    r.rows,
                    *((0, 0) if rejected else run.counts.get(_count_key(r), (0, 0))),
                    sha256=r.sha256,
                )
                for r in run.results
            ),
            problems=run.problems.first(),
            problem_count=len(run.problems),
            dry_run=dry_run,
            import_id=import_id,
            imported_by=who,
            seconds=(datetime.now(UTC) - started).total_seconds(),
        )

    try:
        for index, file in enumerate(files):
            following = files[index + 1].kind if index + 1 < len(files) else None
            _check_one(run, file, load)
            stored_as = FILE_FORMATS[file.kind].stored_as
            if following is None or FILE_FORMATS[following].stored_as != stored_as:
                _table_complete(run, stored_as)
            if run.writer is not None and run.writer.failed():
                break
        for name in reports:
            _check_nsc(run, name, load)
        for name in packages:
            assert stored_roster is not None
            _check_oneroster(run, name, load, stored_roster)
        if run.problems or (run.writer is not None and run.writer.failed()):
            raise _Rejected
        if run.writer is None:
            progress(run.total_work, run.total_work, "done")
            return result()
        records = [
            FileRecord(r.name, r.kind, r.sha256, r.rows, *run.counts.get(_count_key(r), (0, 0)))
            for r in run.results
        ]
        writer = run.writer
        import_id = writer.commit(
            records, who, started, lambda: run.report(f"writing {writer.current}")
        )
        if import_id is None:
            raise _Rejected
    except _Rejected:
        _abort(run)
        raise ImportRejected(result()) from None
    except (DBAPIError, DatabaseBusy) as error:  # a rule the checks missed, a locked
        # database: the transaction is rolled back
        _abort(run)
        if not run.problems:
            run.problems.add(_refused(error))
        raise ImportRejected(result()) from error
    except BaseException:
        _abort(run)
        raise
    progress(run.total_work, run.total_work, "done")
    if after_import is not None:
        after_import(engine)
    return result(import_id)


def _count_key(result: FileResult) -> str:
    """Counts are kept per file kind, and per file for Clearinghouse reports and OneRoster
    packages (one result per table a package writes)."""
    return result.name if result.kind in (NSC_KIND, ONEROSTER_KIND) else result.kind


class _Rejected(Exception):
    """Problems were found: roll back and report them."""


def _abort(run: _Run) -> None:
    """Roll the writer back; a database error it met becomes the reason (if none other)."""
    if run.writer is None:
        return
    run.writer.abort()
    error = run.writer.error
    run.writer = None
    if error is not None and not run.problems:
        # COPY runs on the driver's own connection: its errors arrive unwrapped.
        driver_error = getattr(run.engine.dialect.loaded_dbapi, "Error", DBAPIError)
        if not isinstance(error, DBAPIError | DatabaseBusy | driver_error):
            raise error
        run.problems.add(_refused(error))


def _refused(error: BaseException) -> Problem:
    cause = error.orig if isinstance(error, DBAPIError) else error
    first = (str(cause or error).strip().splitlines() or [type(error).__name__])[0]
    return Problem("-", None, None, f"the database refused the import: {first}")


def _check_one(run: _Run, file: ImportFile, load: Callable[[str], bytes]) -> None:
    """Read and check one file and its references; keep what later steps need."""
    run.report(f"checking {file.name}")
    data = load(file.name)
    checksum = sha256(data)
    fmt = FILE_FORMATS[file.kind]
    checker: FileChecker | None = None
    try:
        for raw in file_parts(file.name, data, file.workbook):
            if checker is None:
                checker = FileChecker(raw.file, raw.header, fmt, _max_lengths(file.kind))
            checker.part(raw)
            del raw
            run.report(f"checking {file.name}")
    except Unreadable as unreadable:
        run.problems.add(*unreadable.problems)
        checker = None
    del data
    checked = checker.finish() if checker is not None else None
    if checked is None:
        run.results.append(
            FileResult(file.name, file.kind, _table_name(file.kind), 0, sha256=checksum)
        )
    else:
        for frame in checked.problems:
            run.problems.add_frame(frame)
        for frame in check_references(checked, run.keys, run.database_keys):
            run.problems.add_frame(frame)
        if file.kind in referenced_files():
            (key,) = fmt.key
            run.keys[file.kind] = checked.rows.get_column(key)
        if run.nsc_context and file.kind in _NSC_CONTEXT:
            columns = _NSC_CONTEXT[file.kind]
            run.nsc_context[file.kind] = pl.concat(
                [checked.rows.select(columns), run.nsc_context[file.kind]]
            ).unique("student_id", keep="first")
        run.results.append(
            FileResult(
                file.name, file.kind, _table_name(file.kind), checked.rows.height, sha256=checksum
            )
        )
    run.checked_work += run.sizes[file.name]
    run.report(f"checked {file.name}")
    if checked is None or run.problems:
        return  # nothing more will be written; only the problems matter now
    table = import_table(fmt.stored_as)
    # A table may hold columns its import file does not (fafsa's flags, filled by a
    # state's file through a mapping): those are left as they are.
    columns = [c.name for c in table.columns]
    if file.kind == "attendance_daily":
        computed = snapshots(checked.rows)
        given = run.pending.get("attendance")
        if given is not None:
            _snapshot_clashes(run, given[0], checked.file, computed)
        run.pending[file.kind] = (checked, computed.select(columns))
    else:
        present = [c for c in columns if c in checked.rows.columns]
        run.pending[file.kind] = (checked, checked.rows.select(present))


def _snapshot_clashes(
    run: _Run, given: CheckedFile, daily_file: str, computed: pl.DataFrame
) -> None:
    """A snapshot both given in attendance and computed from attendance_daily is a problem."""
    key = list(FILE_FORMATS["attendance"].key)
    clash = given.rows.join(computed.select(key), on=key, how="semi")
    run.problems.add_frame(
        clash.select(
            pl.lit(given.file).alias("file"),
            pl.col(LINE).alias("line"),
            pl.lit("+".join(key)).alias("column"),
            pl.lit(f"this snapshot is also computed from {daily_file}").alias("message"),
            pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=", ").alias("value"),
            pl.lit(given.ranks.get(key[0], -1), dtype=pl.Int64).alias("rank"),
        )
    )


def _table_complete(run: _Run, kind: str) -> None:
    """Every file of table `kind` is checked: count its inserts and updates, hand it to the
    writer (unless a problem has turned up or this is a dry run), and let its rows go."""
    sources = [k for k in run.pending if FILE_FORMATS[k].stored_as == kind]
    if run.problems or not sources:
        run.pending.clear()
        return
    frames = [run.pending.pop(k)[1] for k in sources]
    rows = pl.concat(frames) if len(frames) > 1 else frames[0]
    table = import_table(kind)
    stored = run.table_keys(kind)
    exists = existing_mask(stored, rows.select(key_columns(table)))
    del run.stored_table_keys[kind]
    offset = 0
    for source, frame in zip(sources, frames, strict=True):
        updated = int(exists.slice(offset, frame.height).sum())
        run.counts[source] = (frame.height - updated, updated)
        offset += frame.height
    if run.writer is not None:
        work = sum(run.sizes[r.name] for r in run.results if r.kind in sources)
        write = TableWrite(kind, rows, int(exists.sum()), work, stored.height == 0)
        writer = run.writer
        writer.submit(write, lambda: run.report(f"writing {writer.current}"))


#: What a Clearinghouse report's derivations read of other files: file kind -> columns.
_NSC_CONTEXT = {
    "students": ["student_id", "cohort_year"],
    "outcomes": ["student_id", "graduation_date"],
}


def _read_nsc_context(run: _Run) -> None:
    """Read what a detail report needs from the database before anything is written (on
    PostgreSQL the writer may lock these tables until it commits)."""
    run.nsc_context["students"] = read_table(
        run.engine, table_of(Student), _NSC_CONTEXT["students"]
    )
    run.nsc_context["outcomes"] = read_table(
        run.engine, table_of(Outcome), _NSC_CONTEXT["outcomes"]
    )
    run.nsc_context["terms"] = read_table(run.engine, TERMS, ["student_id"])
    run.database_keys("students")


def started_today() -> date:
    return datetime.now(UTC).date()


def _check_nsc(run: _Run, name: str, load: Callable[[str], bytes]) -> None:
    """Read and check one Clearinghouse detail report (`nsc`); when nothing is wrong, hand
    its replacement of its students' rows to the writer (`nsc_writing`)."""
    run.report(f"checking {name}")
    data = load(name)
    checksum = sha256(data)
    parts = []
    try:
        for raw in file_parts(name, data, name.lower().endswith(".xlsx")):
            run.problems.add(*raw.problems)
            parts.append(raw)
            run.report(f"checking {name}")
    except Unreadable as unreadable:
        run.problems.add(*unreadable.problems)
        parts = []
    del data
    rows = 0
    if parts:
        raw = parts[0]
        if len(parts) > 1:
            raw = type(raw)(raw.file, raw.header, pl.concat([p.cells for p in parts]))
        known = run.database_keys("students")
        if "students" in run.keys:
            known = pl.concat([known, run.keys["students"]])
        checked = check_report(raw, load_settings().nsc_student_key, known)
        for frame in checked.problems:
            run.problems.add_frame(frame)
        rows = raw.rows
        if not run.problems:
            students = checked.searches.get_column("student_id")
            replaced = (
                run.nsc_context["terms"]
                .filter(pl.col("student_id").is_in(students.implode()))
                .height
            )
            run.counts[name] = (checked.terms.height, replaced)
            write = rows_to_write(
                checked.terms,
                checked.searches,
                run.nsc_context["students"],
                run.nsc_context["outcomes"],
                run.today or started_today(),
            )
            if run.writer is not None:
                writer = run.writer
                writer.submit(
                    CustomWrite(TERMS.name, replace_rows(write), run.sizes[name]),
                    lambda: run.report(f"writing {writer.current}"),
                )
    run.results.append(FileResult(name, NSC_KIND, TERMS.name, rows, sha256=checksum))
    run.checked_work += run.sizes[name]
    run.report(f"checked {name}")


def _read_roster_context(run: _Run) -> Stored:
    """What a OneRoster package is checked against, read before anything is written."""
    return Stored(
        schools=read_table(run.engine, table_of(School)),
        students=read_table(run.engine, table_of(Student)),
        enrollments=read_table(run.engine, table_of(Enrollment)),
        users=read_table(run.engine, table_of(User), ["email", "role"]).with_columns(
            pl.col("email").str.to_lowercase()
        ),
    )


#: The tables a OneRoster package writes, as named in its results.
_ROSTER_TABLES = (("schools", "school"), ("students", "student"), ("enrollments", "enrollment"))


def _check_oneroster(run: _Run, name: str, load: Callable[[str], bytes], stored: Stored) -> None:
    """Read and check one OneRoster package (`oneroster`); when nothing is wrong, hand its
    rows to the writer (`oneroster_writing`). One result per table it writes."""
    run.report(f"checking {name}")
    run.problems.note_file(name)
    data = load(name)
    checksum = sha256(data)
    settings = load_settings()
    roster = check_package(
        name,
        data,
        stored,
        id_field=settings.oneroster_id_field,
        caseloads=settings.oneroster_teacher_caseloads,
        today=run.today or started_today(),
    )
    del data
    for file in roster.rows:
        run.problems.note_file(file)
    run.problems.add(*roster.problems)
    keys = {
        "schools": (stored.schools, ["school_id"]),
        "students": (stored.students, ["student_id"]),
        "enrollments": (stored.enrollments, ["student_id", "school_year", "school_id"]),
    }
    for label, table in _ROSTER_TABLES:
        frame = getattr(roster, label)
        rows = frame.height if frame is not None else 0
        result_name = f"{name} ({label})"
        if frame is not None and not roster.problems:
            known, key = keys[label]
            updated = int(existing_mask(known.select(key), frame.select(key)).sum())
            run.counts[result_name] = (rows - updated, updated)
        run.results.append(FileResult(result_name, ONEROSTER_KIND, table, rows, sha256=checksum))
    if roster.caseloads is not None:
        result_name = f"{name} (caseloads)"
        run.counts[result_name] = (roster.caseloads.height, 0)
        run.results.append(
            FileResult(
                result_name, ONEROSTER_KIND, "caseload", roster.caseloads.height, sha256=checksum
            )
        )
    if not roster.problems and run.writer is not None:
        writer = run.writer
        writer.submit(
            CustomWrite("roster", write_roster(roster), run.sizes[name]),
            lambda: run.report(f"writing {writer.current}"),
        )
    run.checked_work += run.sizes[name]
    run.report(f"checked {name}")
