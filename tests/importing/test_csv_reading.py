"""CSV reading agrees with Python's csv module on every table Hypothesis can write.

Python's `csv` (the reference RFC 4180 reader) gives each record's fields and the line it
ends on; `csv_layout.scan` must give the same start lines and field counts, and `read_csv`
the same trimmed cells (blank = null), with blank rows dropped, whatever the quoting,
embedded line breaks, line endings or ragged rows.
"""

from __future__ import annotations

import csv
import io

import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from data_access.importing import csv_layout
from data_access.importing.reading import (
    FIELDS,
    LINE,
    RawTable,
    cell_column,
    csv_parts,
    read_csv,
)

# A carriage return appears only as part of CRLF: a bare CR is not a line end here (nor for
# Polars), while the csv module would end a record there.
cells = st.text(
    alphabet=st.sampled_from(list('ab ,"\n\tZé€;=+-0¶'))
    | st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r"),
    max_size=8,
).map(lambda cell: cell.replace("¶", "\r\n"))
rows = st.lists(st.lists(cells, min_size=1, max_size=5), min_size=1, max_size=12)


def written(table: list[list[str]], ending: str) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=ending).writerows(table)
    return buffer.getvalue()


def reference(text: str) -> list[tuple[int, list[str]]]:
    """(start line, fields) of every record, by Python's csv module."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records, line = [], 1
    for fields in reader:
        records.append((line, fields))
        line = reader.line_num + 1
    return records


@settings(max_examples=300, deadline=None)
@given(rows, st.sampled_from(["\n", "\r\n"]))
def test_the_layout_scan_matches_the_csv_module(table: list[list[str]], ending: str) -> None:
    text = written(table, ending)
    layout = csv_layout.scan(text.encode("utf-8"))
    assert layout.quote_problem is None
    expected = reference(text)
    assert layout.lines.tolist() == [line for line, _ in expected]
    assert layout.fields.tolist() == [len(fields) for _, fields in expected]


def _trim(value: str) -> str | None:
    return value.strip(" \t") or None


@settings(max_examples=300, deadline=None)
@given(rows, st.sampled_from(["\n", "\r\n"]))
def test_read_cells_match_the_csv_module(table: list[list[str]], ending: str) -> None:
    text = written(table, ending)
    assume(not text.encode("utf-8").isspace())  # only white space: an empty file
    raw = read_csv("t.csv", text.encode("utf-8"))
    assert isinstance(raw, RawTable)
    (_, header), *records = reference(text)
    width = len(header)
    assert raw.header == tuple(h.strip() for h in header)
    expected = []
    for line, fields in records:
        values = [_trim(v) for v in fields[:width]] + [None] * (width - len(fields))
        if all(v is None for v in values) and len(fields) in (width, 1):
            continue  # a blank row is ignored
        expected.append((*values, line, len(fields)))
    columns = [cell_column(i) for i in range(width)]
    assert raw.cells.select(*columns, LINE, FIELDS).rows() == expected


@settings(max_examples=200, deadline=None)
@given(rows, st.integers(min_value=0, max_value=10_000))
def test_a_stray_quote_is_found_or_the_file_still_reads(table: list[list[str]], at: int) -> None:
    """Inserting one quote anywhere either breaks the quoting rules (reported on a line) or
    leaves a file whose layout still matches the csv module."""
    text = written(table, "\n")
    position = at % (len(text) + 1)
    broken = text[:position] + '"' + text[position:]
    layout = csv_layout.scan(broken.encode("utf-8"))
    if layout.quote_problem is not None:
        line, _ = layout.quote_problem
        assert 1 <= line <= broken.count("\n") + 1
    else:
        expected = reference(broken)
        assert layout.fields.tolist() == [len(fields) for _, fields in expected]


@settings(max_examples=150, deadline=None)
@given(rows, st.sampled_from(["\n", "\r\n"]), st.integers(min_value=1, max_value=64))
def test_reading_in_parts_gives_the_same_cells(
    table: list[list[str]], ending: str, part_bytes: int
) -> None:
    data = written(table, ending).encode("utf-8")
    assume(not data.isspace())
    whole = read_csv("t.csv", data)
    assert isinstance(whole, RawTable)
    parts = list(csv_parts("t.csv", data, part_bytes=part_bytes))
    assert all(p.header == whole.header for p in parts)
    assert pl.concat([p.cells for p in parts]).equals(whole.cells)
