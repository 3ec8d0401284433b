"""What an import gives back: an `ImportResult`, or `ImportRejected` carrying one.

A leaf of the importing package: it needs only `problems.py`, and nothing in the package
needs `api.py` (the order of work) to name a result, so no import cycle runs through it
(tests/test_architecture.py checks this).
"""

from __future__ import annotations

from dataclasses import dataclass

from data_access.importing.problems import PRINT_CAP, Problem, report_lines


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


class ImportRejected(Exception):
    """The files have problems (or the database refused them); nothing was written.

    `result` holds the per-file row counts and the first problems; `result.problem_count`
    counts them all.
    """

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        super().__init__(
            f"{result.problem_count:,} problem{'s' if result.problem_count != 1 else ''}; "
            "nothing was written"
        )

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.result.problems

    def report_lines(self, cap: int = PRINT_CAP) -> list[str]:
        return report_lines(self.result.problems, self.result.problem_count, cap)
