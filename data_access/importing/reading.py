"""Reading one import file (CSV or XLSX bytes) into a frame of text cells with line numbers.

Every cell is read as text, so that type errors are ours to report with their line and
column (docs/import-format.md). The result is a `RawTable`: the header cells as written, one
String column per header cell (`c0`, `c1`, ...; blank cells are null), the line each row
starts on (`_line`) and, for CSV, its number of fields (`_fields`).

Line numbers: the header is line 1 and the first data row line 2. In a CSV file LINE is
the physical line on which the record starts, so a quoted field holding a line break
pushes every later record down a line, exactly as a text editor counts. In a workbook
LINE is the row number counted from the header row, which is Excel's own row number when
the header is in row 1 (as in any export); a datetime cell at midnight reads as its date.
A workbook is first looked into (`workbook`): one that unpacks to more than the limit is
refused unread, and each formula cell of the sheet read is a problem.

File-level problems (not UTF-8, NUL bytes, not a workbook, empty, a misplaced quote)
are returned instead of a table: such a file has no trustworthy rows to check.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from data_access.importing import csv_layout
from data_access.importing.problems import Problem
from data_access.importing.workbook import (
    WorkbookRefused,
    formula_problems,
    inspect_workbook,
)

LINE, FIELDS = "_line", "_fields"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_SAVE_AS = 'save it as "CSV UTF-8"'
#: A CSV file larger than this is read (and checked) part by part.
PART_BYTES = 1 << 27
_CHUNK = 1 << 24


@dataclass(frozen=True)
class RawTable:
    file: str
    header: tuple[str, ...]
    #: `c0`..`c{n-1}` (String, blank = null, trimmed), `_line` (Int64), `_fields` (Int64).
    cells: pl.DataFrame
    #: Problems found while reading that do not stop the rows being checked (formulas).
    problems: tuple[Problem, ...] = field(default=())

    @property
    def rows(self) -> int:
        return self.cells.height


def cell_column(position: int) -> str:
    return f"c{position}"


def _file_problem(file: str, message: str, line: int | None = None) -> list[Problem]:
    return [Problem(file, line, None, message)]


def _not_utf8(file: str, data: bytes) -> list[Problem] | None:
    """A problem when `data` (BOM already removed) is not UTF-8 text, else None.

    Checked chunk by chunk (no second copy of a large file); only a file that fails is
    decoded whole, to find the line of its first bad byte."""
    if data.isascii():  # plain ASCII is UTF-8; checked far faster than decoding
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for offset in range(0, len(data), _CHUNK):
            decoder.decode(view[offset : offset + _CHUNK], final=offset + _CHUNK >= len(data))
        return None
    except UnicodeDecodeError:
        pass
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        return [
            Problem(
                file,
                line,
                None,
                f"not UTF-8 text (byte 0x{byte}; is it Latin-1 or Windows-1252?); {_SAVE_AS}",
            )
        ]
    return None


def _trimmed(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Spaces and tabs around each cell removed, blank cells (empty, `""`, padding) null.

    Only columns that hold a padded cell are stripped (a clean file costs one cheap look)."""
    if not columns:
        return frame
    padded = frame.select(
        pl.any_horizontal(
            pl.col(c).str.starts_with(edge) | pl.col(c).str.ends_with(edge) for edge in (" ", "\t")
        )
        .any()
        .alias(c)
        for c in columns
    ).row(0, named=True)
    cells = {c: pl.col(c).str.strip_chars(" \t") if padded[c] else pl.col(c) for c in columns}
    return frame.with_columns(
        pl.when(e.str.len_bytes() > 0).then(e).alias(c) for c, e in cells.items()
    )


class Unreadable(Exception):
    """The file cannot be read as a table; `problems` say why (and where)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(str(problems[0]))
        self.problems = problems


def _file_checks(file: str, data: bytes) -> bytes:
    """`data` without its byte-order mark; raises `Unreadable` for a file that is empty,
    UTF-16/32, binary or not UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith(_UTF32_BOMS):
        raise Unreadable(_file_problem(file, f"UTF-32 text, not UTF-8; {_SAVE_AS}", 1))
    elif data.startswith(_UTF16_BOMS):
        raise Unreadable(_file_problem(file, f"UTF-16 text, not UTF-8; {_SAVE_AS}", 1))
    if not data or data.isspace():
        raise Unreadable(_file_problem(file, "the file is empty (not even a header row)", 1))
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        message = (
            f"not a CSV text file (it contains NUL bytes: UTF-16 or a binary file?); {_SAVE_AS}"
        )
        raise Unreadable(_file_problem(file, message, line))
    not_utf8 = _not_utf8(file, data)
    if not_utf8:
        raise Unreadable(not_utf8)
    return data


def _parse(file: str, data: bytes, records: int) -> pl.DataFrame:
    """`data` (a header record and `records` more) parsed into text cells."""
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            infer_schema=False,
            truncate_ragged_lines=True,
            empty_string_is_null=True,
            raise_if_empty=True,
        )
    except Exception as error:  # Polars' own reader: anything it refuses is a file problem
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Unreadable(_file_problem(file, f"not readable as CSV ({first})")) from error
    if frame.height != records + 1:
        raise Unreadable(
            _file_problem(
                file,
                f"not readable as CSV (found {frame.height - 1} records where "
                f"{records} were expected)",
            )
        )
    return frame


def csv_parts(file: str, data: bytes, part_bytes: int | None = None) -> Iterator[RawTable]:
    """The cells of a CSV file, in parts of about `part_bytes` of the file each.

    Most files are one part; a very large one is read part by part so that only one part's
    text cells are in memory at a time. Raises `Unreadable` (on the first part) for a file
    that cannot be read as a table."""
    part_bytes = part_bytes or PART_BYTES
    data = _file_checks(file, data)
    layout = csv_layout.scan(data)
    if layout.quote_problem is not None:
        line, message = layout.quote_problem
        raise Unreadable(
            _file_problem(file, f"{message}; the rest of the file cannot be read", line)
        )
    starts = layout.starts.tolist() + [len(data)]
    records = len(layout.lines)
    header_end = starts[1] if records > 1 else len(data)
    header_bytes = data[:header_end]
    if not header_bytes.endswith(b"\n"):
        header_bytes += b"\n"
    header: tuple[str, ...] | None = None
    first = 1
    while first < records or header is None:
        last = first
        while last < records and (last == first or starts[last] - starts[first] < part_bytes):
            last += 1
        frame = _parse(file, header_bytes + data[starts[first] : starts[last]], last - first)
        if header is None:
            header = tuple((v or "").strip() for v in frame.row(0))
        columns = [cell_column(i) for i in range(frame.width)]
        frame = frame.rename(dict(zip(frame.columns, columns, strict=True))).slice(1)
        frame = _trimmed(frame, columns).with_columns(
            pl.Series(LINE, layout.lines[first:last], dtype=pl.Int64),
            pl.Series(FIELDS, layout.fields[first:last], dtype=pl.Int64),
        )
        yield RawTable(file, header, _drop_blank_rows(frame, columns, len(header)))
        first = last


def read_csv(file: str, data: bytes) -> RawTable | list[Problem]:
    """The cells of a whole CSV file, or the file-level problems that stop it being read."""
    try:
        (raw,) = csv_parts(file, data, part_bytes=len(data) + 1)
    except Unreadable as unreadable:
        return unreadable.problems
    return raw


def _drop_blank_rows(frame: pl.DataFrame, columns: list[str], width: int) -> pl.DataFrame:
    """Rows with every cell blank are ignored (as are blank lines), if they have the header's
    number of fields or a single one; a blank row of another width is still a problem."""
    if not columns:
        return frame
    blank = pl.all_horizontal(pl.col(c).is_null() for c in columns) & (
        (pl.col(FIELDS) == width) | (pl.col(FIELDS) == 1)
    )
    mask = frame.select(blank.alias("blank")).get_column("blank")
    return frame.filter(~mask) if mask.any() else frame


def read_xlsx(file: str, data: bytes) -> RawTable | list[Problem]:
    """The cells of the first sheet of a workbook, or the problems that stop it being read
    (one that unpacks to more than the limit is refused before it is read: `workbook`).
    Its formula cells come with the table as problems."""
    import fastexcel

    try:
        facts = inspect_workbook(file, data)
    except WorkbookRefused as refused:
        return refused.problems
    try:
        reader = fastexcel.read_excel(data)
        if not reader.sheet_names:
            return _file_problem(file, "the workbook has no sheet")
        sheet = reader.load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception as error:  # calamine refuses anything that is not a readable workbook
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return _file_problem(file, f"not an Excel workbook (.xlsx) that can be read ({first})")
    if frame.height == 0 or frame.width == 0:
        return _file_problem(file, "the file is empty (not even a header row)", 1)
    columns = [cell_column(i) for i in range(frame.width)]
    frame = frame.rename(dict(zip(frame.columns, columns, strict=True))).with_columns(
        pl.col(c).cast(pl.String) for c in columns
    )
    frame = _trimmed(frame, columns).with_columns(
        pl.col(c).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1") for c in columns
    )
    header = tuple((v or "").strip() for v in frame.row(0))
    frame = frame.with_columns(
        pl.Series(LINE, np.arange(1, frame.height + 1), dtype=pl.Int64),
        pl.lit(len(header), dtype=pl.Int64).alias(FIELDS),
    )
    return RawTable(
        file,
        header,
        _drop_blank_rows(frame.slice(1), columns, len(header)),
        tuple(formula_problems(file, header, facts)),
    )


def file_parts(file: str, data: bytes, workbook: bool) -> Iterator[RawTable]:
    """The cells of a file in parts (a workbook is one part). Raises `Unreadable`."""
    if not workbook:
        yield from csv_parts(file, data)
        return
    raw = read_xlsx(file, data)
    if isinstance(raw, list):
        raise Unreadable(raw)
    yield raw
