"""Malformed files never crash the importer and never write anything.

Hypothesis takes a valid file of the small world, breaks it in one certain way (a
truncated or overlong row, a bad encoding, an unclosed quote, a huge number, a formula
where a date belongs, a look-alike id, an empty file, a missing or unknown column, a
blank required cell, a reference to nobody), dresses it in harmless variations (byte-order mark, CRLF, formula
strings and line breaks inside text cells, blank lines) and imports it. The import must
raise `ImportRejected` (nothing else) and leave every table's row count unchanged.

Then arbitrary byte mutations of valid files: whatever comes out, the import either is
rejected with every count unchanged, or succeeds and the counts grew by exactly what it
reports (never a half-written import).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from data_access.importing import ImportRejected, import_files
from domain.import_format import FILE_FORMATS, Kind
from tests.importing.conftest import WORLD, counts

FORMULA = '=HYPERLINK("http://evil.example","click")'
BAD_CELLS = {
    Kind.INT: ["99999999999999999999", "1.5", "=1+1", "12abc"],
    Kind.GRADE: ["13", "-2", "K", "99999999999999999999"],
    Kind.NUMBER: ["1e999", "NaN", "=SUM(A1:A9)", "1,5"],
    Kind.DATE: [FORMULA, "2026-02-30", "31/12/2026", "20260101"],
    Kind.YES_NO: ["maybe", "=TRUE()", "2"],
    Kind.CHOICE: [FORMULA, "Unknown"],
    Kind.MARK: ["E", "101", "=A1"],
    Kind.LIST: ["nonsense;attendance"],
    Kind.EMAIL: ["not-an-email"],
    Kind.LANGUAGE: ["Spanish", "xx", "=A1"],
    Kind.ID: ["S1\u200b", "S\u00a01", "\u04211", "S 1"],
}
DEFECTS = [
    "short row",
    "long row",
    "latin-1",
    "utf-16",
    "unclosed quote",
    "empty",
    "bad cell",
    "blank required",
    "unknown column",
    "missing column",
    "unknown reference",
]
KINDS = [name.removesuffix(".csv") for name in WORLD]


def _rows(kind: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(WORLD[f"{kind}.csv"].decode(), newline="")))


def _write(rows: list[list[str]], ending: str) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=ending).writerows(rows)
    return buffer.getvalue()


@st.composite
def broken_files(draw: st.DrawFn) -> tuple[str, bytes, str]:
    kind = draw(st.sampled_from(KINDS))
    defect = draw(st.sampled_from(DEFECTS))
    fmt = FILE_FORMATS[kind]
    rows = _rows(kind)
    header = rows[0]
    target = draw(st.integers(1, len(rows) - 1))
    ending = draw(st.sampled_from(["\n", "\r\n"]))

    # Harmless variations first: they must not hide the defect.
    for row in rows[1:]:
        for i, name in enumerate(header):
            column = fmt.column(name)
            free_text = column.kind == Kind.TEXT and not column.references and name not in fmt.key
            if free_text and draw(st.booleans()):
                row[i] = draw(st.sampled_from([FORMULA, "two\nlines", 'say "hi"', "a, b"]))
    if defect == "bad cell":
        candidates = [i for i, n in enumerate(header) if fmt.column(n).kind in BAD_CELLS]
        assume(candidates)
        i = draw(st.sampled_from(candidates))
        rows[target][i] = draw(st.sampled_from(BAD_CELLS[fmt.column(header[i]).kind]))
    elif defect == "blank required":
        i = draw(st.sampled_from([i for i, n in enumerate(header) if fmt.column(n).required]))
        rows[target][i] = draw(st.sampled_from(["", "   "]))
        assume(any(cell.strip() for cell in rows[target]))  # an all-blank row is ignored
    elif defect == "unknown reference":
        refs = [i for i, n in enumerate(header) if fmt.column(n).references]
        assume(refs)
        i = draw(st.sampled_from(refs))
        rows[target][i] = "NOBODY@NOWHERE"
    elif defect == "short row":
        rows[target] = (
            rows[target][: draw(st.integers(1, len(header) - 1))] if len(header) > 1 else []
        )
        assume(rows[target])
    elif defect == "long row":
        rows[target] = rows[target] + ["extra"] * draw(st.integers(1, 3))
    elif defect == "unknown column":
        header.append("favourite_colour")
        for row in rows[1:]:
            row.append("blue")
    elif defect == "missing column":
        i = draw(st.sampled_from([i for i, n in enumerate(header) if fmt.column(n).required]))
        for row in rows:
            del row[i]

    text = _write(rows, ending)
    if draw(st.booleans()):
        text += ending * draw(st.integers(1, 3))
    if defect == "unclosed quote":
        lines = text.split(ending)
        lines[target] = '"' + lines[target]
        text = ending.join(lines)
        assume(text.count('"') % 2 == 1)
    if defect == "empty":
        text = ""
    if defect == "latin-1":
        data = (text + "Jos\u00e9" + ending).encode("latin-1", errors="replace")
    elif defect == "utf-16":
        data = text.encode("utf-16-le")
        if draw(st.booleans()):
            data = codecs.BOM_UTF16_LE + data
        assume(data)
    else:
        data = text.encode("utf-8")
    if defect not in ("utf-16",) and draw(st.booleans()):
        data = codecs.BOM_UTF8 + data
    name = kind + draw(st.sampled_from([".csv", ".CSV"]))
    return name, data, defect


@pytest.fixture
def world(engine: Engine) -> Iterator[Engine]:
    import_files(engine, WORLD)
    yield engine


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(broken_files())
def test_broken_files_are_rejected_and_write_nothing(
    world: Engine, broken: tuple[str, bytes, str]
) -> None:
    name, data, defect = broken
    before = counts(world)
    with pytest.raises(ImportRejected) as rejection:
        import_files(world, {name: data})
    assert rejection.value.result.problem_count >= 1, defect
    assert counts(world) == before


@st.composite
def mutated_files(draw: st.DrawFn) -> dict[str, bytes]:
    files = {}
    for name in draw(st.lists(st.sampled_from(list(WORLD)), min_size=1, max_size=3, unique=True)):
        data = bytearray(WORLD[name])
        for _ in range(draw(st.integers(0, 4))):
            at = draw(st.integers(0, len(data)))
            action = draw(st.sampled_from(["insert", "delete", "replace"]))
            chunk = draw(
                st.sampled_from(
                    [b'"', b",", b"\n", b"\r", b"\x00", b"\xff", b"\xe9", b" ", b";", b"9" * 25]
                )
                | st.binary(min_size=1, max_size=3)
            )
            if action == "insert":
                data[at:at] = chunk
            elif action == "delete":
                del data[at : at + len(chunk)]
            else:
                data[at : at + len(chunk)] = chunk
        files[name] = bytes(data)
    return files


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mutated_files())
def test_mutated_files_are_rejected_or_imported_whole(
    world: Engine, files: dict[str, bytes]
) -> None:
    before = counts(world)
    try:
        result = import_files(world, files)
    except ImportRejected:
        assert counts(world) == before
        return
    after = counts(world)
    assert after["import_run"] == before["import_run"] + 1
    grown = sum(after.values()) - sum(before.values()) - 1
    assert grown == result.inserted
