"""Problems found in import files, and how they are reported.

Every problem names its file, line, column and the offending value (docs/command-line.md:
`FILE:LINE:COLUMN: message (value)`). `LINE` and `COLUMN` are `-` where they do not apply
(an unknown file name, an empty file); the ` (value)` part is left out where there is no
value to show (a missing column, a blank required cell). Values are shown on one line
(newlines as `\\n`) and at most `VALUE_WIDTH` characters long.

Checks produce problems as Polars frames (`PROBLEM_SCHEMA`) so that a file with a million
bad cells costs no million Python objects; `Problems` gathers them and hands back the
first ones in file, line and column order together with the total count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

#: How many problems the command line prints before "... and N more problems".
PRINT_CAP = 200
#: How many problems an `ImportResult` keeps as objects (the total is always counted).
KEEP_CAP = 10_000
VALUE_WIDTH = 120

PROBLEM_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "file": pl.String,
    "line": pl.Int64,
    "column": pl.String,
    "message": pl.String,
    "value": pl.String,
    #: Sort position of the column inside its file (its place in the header; -1 for none).
    "rank": pl.Int64,
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{'-' if self.line is None else self.line}:{self.column or '-'}"
        shown = "" if self.value is None else f" ({shown_value(self.value)})"
        return f"{where}: {self.message}{shown}"


def shown_value(value: str) -> str:
    """A value as printed: on one line and at most `VALUE_WIDTH` characters."""
    one_line = value.replace("\r", "\\r").replace("\n", "\\n")
    if len(one_line) > VALUE_WIDTH:
        return one_line[: VALUE_WIDTH - 3] + "..."
    return one_line


def problem_frame(problems: Iterable[Problem], rank: int = -1) -> pl.DataFrame:
    rows = [(p.file, p.line, p.column, p.message, p.value, rank) for p in problems]
    return pl.DataFrame(rows, schema=PROBLEM_SCHEMA, orient="row")


class Problems:
    """Problems gathered over a whole import, in the order of the files."""

    def __init__(self) -> None:
        self._frames: list[pl.DataFrame] = []
        self._file_order: dict[str, int] = {}

    def note_file(self, name: str) -> None:
        """Fix the position of `name` in the report (files are reported in import order)."""
        self._file_order.setdefault(name, len(self._file_order))

    def add(self, *problems: Problem, rank: int = -1) -> None:
        if problems:
            self._frames.append(problem_frame(problems, rank))

    def add_frame(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self._frames.append(frame.select(list(PROBLEM_SCHEMA)).cast(PROBLEM_SCHEMA))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return sum(f.height for f in self._frames)

    def __bool__(self) -> bool:
        return any(f.height for f in self._frames)

    def first(self, limit: int = KEEP_CAP) -> tuple[Problem, ...]:
        """The first `limit` problems by file (import order), line, then column."""
        if not self:
            return ()
        for frame in self._frames:
            for name in frame.get_column("file").unique().sort().to_list():
                self.note_file(name)
        order = pl.DataFrame(
            {"file": list(self._file_order), "file_rank": list(self._file_order.values())},
            schema={"file": pl.String, "file_rank": pl.Int64},
        )
        frame = (
            pl.concat(self._frames)
            .join(order, on="file", how="left")
            .sort(["file_rank", "line", "rank", "message"], nulls_last=False)
            .head(limit)
        )
        return tuple(
            Problem(r["file"], r["line"], r["column"], r["message"], r["value"])
            for r in frame.iter_rows(named=True)
        )


def report_lines(problems: Sequence[Problem], total: int, cap: int = PRINT_CAP) -> list[str]:
    """The lines printed for a rejected import: at most `cap` problems, then the rest counted."""
    lines = [str(p) for p in problems[:cap]]
    if total > len(lines):
        more = total - len(lines)
        lines.append(f"... and {more:,} more problem{'s' if more != 1 else ''}")
    return lines
