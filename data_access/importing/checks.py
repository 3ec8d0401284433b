"""Checking one file against its format: header, row shape, cells, row rules, duplicate keys.

What is an error (docs/import-format.md, "General rules"; docs/command-line.md for the message shape):

- header: a required column missing, an unknown column (with the nearest known name as a
  hint), a column named twice, values in a column without a name. Header names are
  matched case-insensitively after trimming.
- rows: a row with more or fewer fields than the header (reported alone: its cells cannot
  be matched to columns).
- cells: a blank required cell; a cell its column's kind cannot read (`cells`).
- row rules: a value above the one it may not exceed (`low_grade` over `high_grade`,
  `days_absent` over `days_enrolled`), a negative count or credit, a user without the
  org, school or student their role needs (as `pathwise users add`).
- keys: the same key twice in one file: the second occurrence is reported with the line
  of the first.

References to other files are checked once every file is read (`references`).
All checks are Polars expressions over the whole file; no Python loop runs per row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import polars as pl

from data_access.importing.cells import DTYPES, Parsed, parse
from data_access.importing.problems import PROBLEM_SCHEMA, Problem, problem_frame
from data_access.importing.reading import FIELDS, LINE, RawTable, cell_column
from domain.import_format import NOT_ABOVE, NOT_NEGATIVE, ROLE_REQUIRES, FileFormat

_SUSPECT, _BLANK = "?", "!"  # prefixes of the per-column flag columns


@dataclass(frozen=True)
class CheckedFile:
    """A file's rows as typed values (`_line` + every column of its format) and its problems."""

    file: str
    format: FileFormat
    rows: pl.DataFrame
    problems: list[pl.DataFrame] = field(default_factory=list)
    #: Sort rank of each column (its position in the file's header).
    ranks: dict[str, int] = field(default_factory=dict)

    @property
    def problem_count(self) -> int:
        return sum(p.height for p in self.problems)


def _header(
    file: str, header: tuple[str, ...], fmt: FileFormat
) -> tuple[dict[str, int], list[tuple[Problem, int]]]:
    """Column name -> position in the file (also its sort rank), and the header's problems
    with theirs (a missing column sorts after the columns that are there)."""
    positions: dict[str, int] = {}
    problems: list[tuple[Problem, int]] = []
    for position, written in enumerate(header):
        name = written.strip().lower()
        if not name:
            continue
        if name in positions:
            problems.append(
                (
                    Problem(
                        file,
                        1,
                        written,
                        f"column named twice (first as column {positions[name] + 1})",
                        written,
                    ),
                    position,
                )
            )
            continue
        if name not in fmt.column_names:
            near = difflib.get_close_matches(name, fmt.column_names, n=1)
            hint = f", did you mean {near[0]}?" if near else ""
            problems.append(
                (
                    Problem(
                        file,
                        1,
                        written,
                        f"unknown column{hint}" if near else f"unknown column for {fmt.name}",
                        written,
                    ),
                    position,
                )
            )
            continue
        positions[name] = position
    for index, name in enumerate(fmt.required):
        if name not in positions:
            problems.append(
                (Problem(file, 1, name, "missing required column"), len(header) + index)
            )
    return positions, problems


def _problems_where(
    frame: pl.DataFrame,
    file: str,
    condition: pl.Expr,
    column: str | None,
    message: pl.Expr,
    value: pl.Expr | None,
    rank: int,
) -> pl.DataFrame:
    return frame.filter(condition).select(
        pl.lit(file).alias("file"),
        pl.col(LINE).alias("line"),
        pl.lit(column, dtype=pl.String).alias("column"),
        message.cast(pl.String).alias("message"),
        (pl.lit(None, dtype=pl.String) if value is None else value.cast(pl.String)).alias("value"),
        pl.lit(rank, dtype=pl.Int64).alias("rank"),
    )


def _where(frame: pl.DataFrame, condition: pl.Expr) -> pl.DataFrame:
    """`frame` filtered, without copying it when every row passes."""
    keep = frame.select(condition.alias("keep")).get_column("keep")
    return frame if keep.all() else frame.filter(keep)


class FileChecker:
    """Checks one file part by part (a very large CSV file is read in parts): the header
    once, each part's rows and cells as it comes, duplicate keys over the whole file."""

    def __init__(
        self, file: str, header: tuple[str, ...], fmt: FileFormat, max_lengths: dict[str, int]
    ) -> None:
        self.file, self.header, self.format, self.max_lengths = file, header, fmt, max_lengths
        self.positions, header_problems = _header(file, header, fmt)
        self.problems = [problem_frame([p], rank) for p, rank in header_problems]
        self.parts: list[pl.DataFrame] = []
        self._nameless_reported: set[int] = set()

    def part(self, raw: RawTable) -> None:
        rows, problems = _check_part(raw, self.format, self.positions, self.max_lengths)
        for found in raw.problems:  # formula cells of a workbook
            rank = self.positions.get((found.column or "").lower(), len(self.header))
            problems.append(problem_frame([found], rank))
        for position, written in enumerate(raw.header):
            if written.strip() or position in self._nameless_reported:
                continue
            if raw.cells.get_column(cell_column(position)).null_count() < raw.rows:
                self._nameless_reported.add(position)
                message = "column without a name holds values"
                problems.append(
                    problem_frame([Problem(raw.file, 1, f"#{position + 1}", message)], position)
                )
        self.parts.append(rows)
        self.problems += problems

    def finish(self) -> CheckedFile:
        rows = pl.concat(self.parts) if len(self.parts) != 1 else self.parts[0]
        self.parts = []
        problems = [*self.problems, _duplicates(rows, self.file, self.format, self.positions)]
        return CheckedFile(
            self.file, self.format, rows, [p for p in problems if p.height], {**self.positions}
        )


def _check_part(
    raw: RawTable, fmt: FileFormat, positions: dict[str, int], max_lengths: dict[str, int]
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """One part's typed rows and the problems of its rows and cells."""
    ranks = positions
    problems: list[pl.DataFrame] = []
    width = len(raw.header)
    shaped = pl.col(FIELDS) == width
    problems.append(
        _problems_where(
            raw.cells,
            raw.file,
            ~shaped,
            None,
            pl.format("{} fields where the header has {}", pl.col(FIELDS), pl.lit(width)),
            None,
            -1,
        )
    )
    cells = _where(raw.cells, shaped)

    text: dict[str, pl.Expr] = {}
    parsed: dict[str, Parsed] = {}
    columns: list[pl.Expr] = []
    for column in fmt.columns:
        if column.name in positions:
            text[column.name] = pl.col(cell_column(positions[column.name]))
        else:
            text[column.name] = pl.lit(None, dtype=pl.String)
        parsed[column.name] = parse(text[column.name], column, max_lengths.get(column.name))
        value = parsed[column.name].value
        if column.default is not None:
            value = value.fill_null(pl.lit(column.default, dtype=DTYPES[column.kind]))
        columns += [
            value.alias(column.name),
            parsed[column.name].suspect.alias(_SUSPECT + column.name),
        ]
    # Lazy, so that an expression used twice within a column is computed once.
    checked = cells.lazy().with_columns(columns).collect()

    present = [c for c in fmt.columns if c.name in positions]
    flagged = (
        checked.select(
            *(pl.col(_SUSPECT + c.name).any().alias(c.name) for c in present),
            *(
                pl.col(cell_column(positions[c.name])).is_null().any().alias(_BLANK + c.name)
                for c in present
                if c.required
            ),
        ).row(0, named=True)
        if present
        else {}
    )
    for column in present:
        name = column.name
        if column.required and flagged[_BLANK + name]:
            problems.append(
                _problems_where(
                    checked,
                    raw.file,
                    text[name].is_null(),
                    name,
                    pl.lit("required value is blank"),
                    None,
                    ranks[name],
                )
            )
        if flagged[name]:
            suspects = checked.filter(pl.col(_SUSPECT + name))
            problems.append(
                _problems_where(
                    suspects.with_columns(parsed[name].error.alias("_error")),
                    raw.file,
                    pl.col("_error").is_not_null(),
                    name,
                    pl.col("_error"),
                    text[name],
                    ranks[name],
                )
            )
    problems += _row_rules(checked, raw.file, fmt, ranks, text)
    return checked.select(LINE, *fmt.column_names), [p for p in problems if p.height]


def _row_rules(
    checked: pl.DataFrame,
    file: str,
    fmt: FileFormat,
    ranks: dict[str, int],
    text: dict[str, pl.Expr],
) -> list[pl.DataFrame]:
    found = []
    for name, low, high in NOT_ABOVE:
        if name == fmt.name and low in ranks and high in ranks:
            # A negative count is reported as such; comparing it too would only add noise.
            counted = pl.lit(True)
            if high in NOT_NEGATIVE.get(name, ()):
                counted = pl.col(high) >= 0
            found.append(
                _problems_where(
                    checked,
                    file,
                    (counted & (pl.col(low) > pl.col(high))).fill_null(False),
                    low,
                    pl.format("greater than {} {}", pl.lit(high), pl.col(high)),
                    text[low],
                    ranks[low],
                )
            )
    for column in NOT_NEGATIVE.get(fmt.name, ()):
        if column in ranks:
            found.append(
                _problems_where(
                    checked,
                    file,
                    (pl.col(column) < 0).fill_null(False),
                    column,
                    pl.lit("negative"),
                    text[column],
                    ranks[column],
                )
            )
    if fmt.name == "users":
        for role, column in ROLE_REQUIRES.items():
            found.append(
                _problems_where(
                    checked,
                    file,
                    (pl.col("role") == role) & text[column].is_null(),
                    column,
                    pl.lit(f"required for role {role}"),
                    None,
                    ranks.get(column, ranks.get("role", -1)),
                )
            )
    return found


def _duplicates(
    rows: pl.DataFrame, file: str, fmt: FileFormat, ranks: dict[str, int]
) -> pl.DataFrame:
    """The second and later occurrences of each key, with the line of the first."""
    key = list(fmt.key)
    if not all(k in ranks for k in key):
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    keyed = rows.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in key))
    # A hash per key first (cheap); only rows whose hash repeats are compared exactly.
    repeated = keyed.select(pl.struct(key).hash().is_duplicated()).to_series()
    if not repeated.any():
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    first = keyed.filter(repeated).with_columns(pl.col(LINE).min().over(key).alias("_first"))
    return _problems_where(
        first,
        file,
        pl.col(LINE) != pl.col("_first"),
        "+".join(key),
        pl.format("duplicate key, first on line {}", pl.col("_first")),
        pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=", "),
        ranks[key[0]],
    )
