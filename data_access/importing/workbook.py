"""Looking inside a workbook before its cells are read: how large it unpacks, and its formulas.

An `.xlsx` file is a zip archive of XML parts. Its cells are read by calamine (through
fastexcel), which holds every cell of the sheet in memory: a 12 MB workbook holding 1 GB
of sheet XML took an import to 2.6 GB (security review, issue 10). So before calamine
sees a workbook, every part is unpacked here as a stream, a megabyte at a time, and the
workbook is refused when one part, or all of them together, unpack to more than the
limit (`PATHWISE_IMPORT_MAX_MB`, default 500 MB; Streamlit's `server.maxUploadSize` in
`.streamlit/config.toml` is the same number). The sizes the archive declares are checked
first; then every part is inflated from its compressed bytes and counted, because a
declared size can lie.

While the first sheet streams past, its formula cells are found (docs/import-format.md): a
formula's saved result is whatever Excel last computed, which may be stale (a formula
copied from another workbook, a file saved without recalculation), so each formula cell
is a problem naming its line and column, never a value silently loaded.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast
from xml.etree import ElementTree

from data_access.importing.problems import Problem

#: The setting naming the limit in megabytes (docs/import-format.md, "Large files").
LIMIT_SETTING = "PATHWISE_IMPORT_MAX_MB"
DEFAULT_LIMIT_MB = 500
MB = 1_000_000
_CHUNK = 1 << 20
#: An element named `f` (a formula), with or without a namespace prefix.
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
#: What the end of such a tag must hold: a cheap first look (`f` is rare in sheet XML).
_FORMULA_END = re.compile(rb"f[\s/>]")
_CELL_REFERENCE = re.compile(r"^([A-Z]+)([0-9]+)$")
_OFFICE_DOCUMENT = "/officeDocument"


def limit_bytes() -> int:
    """The largest a workbook may unpack to, in bytes (`PATHWISE_IMPORT_MAX_MB`)."""
    written = os.environ.get(LIMIT_SETTING, "").strip()
    if not written:
        return DEFAULT_LIMIT_MB * MB
    try:
        megabytes = int(written)
    except ValueError:
        megabytes = 0
    if megabytes < 1:
        raise ValueError(f"{LIMIT_SETTING} must be a whole number of megabytes, not {written!r}")
    return megabytes * MB


@dataclass(frozen=True)
class FormulaCell:
    """One formula cell of the first sheet: Excel's row (1-based), column (0-based) and text."""

    row: int
    column: int
    formula: str


@dataclass(frozen=True)
class WorkbookFacts:
    #: Formula cells of the first sheet, in sheet order.
    formulas: tuple[FormulaCell, ...] = ()
    #: The first row and column (Excel row 1-based, column 0-based) holding a cell.
    first_row: int = 1
    first_column: int = 0


class WorkbookRefused(Exception):
    """The workbook must not be read; `problems` say why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(str(problems[0]))
        self.problems = problems


def _megabytes(size: int) -> str:
    return f"{size / MB:,.1f} MB"


def _too_large(file: str, part: str, size: int, limit: int, declared: bool) -> Problem:
    what = "all its parts together unpack" if part == "" else f"its part {part} unpacks"
    says = " (as the archive declares)" if declared else ""
    return Problem(
        file,
        None,
        None,
        f"the workbook is too large to read: {what} to {_megabytes(size)}{says}, more than "
        f"the limit of {_megabytes(limit)} ({LIMIT_SETTING}); save the sheet as CSV UTF-8 "
        "(read part by part, without this limit) or split it into smaller workbooks",
    )


def inspect_workbook(file: str, data: bytes, limit: int | None = None) -> WorkbookFacts:
    """The formula cells of the first sheet of `data`. Raises `WorkbookRefused` when the
    workbook unpacks to more than `limit` bytes (default: the setting), or when its parts
    cannot be unpacked. A file that is not a zip archive at all gives empty facts: the
    reader reports it as not a workbook."""
    limit = limit_bytes() if limit is None else limit
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        return WorkbookFacts()
    with archive:
        parts = [info for info in archive.infolist() if not info.is_dir()]
        for info in parts:
            if info.file_size > limit:
                raise WorkbookRefused(
                    [_too_large(file, info.filename, info.file_size, limit, True)]
                )
        declared = sum(info.file_size for info in parts)
        if declared > limit:
            raise WorkbookRefused([_too_large(file, "", declared, limit, True)])
        sheet = _first_sheet(archive)
    # The declared sizes may lie: every part is unpacked here, its bytes counted.
    unpacked = 0
    has_formulas = False
    for info in parts:
        size = 0
        tail = b""
        for chunk in _inflated(file, data, info):
            size += len(chunk)
            unpacked += len(chunk)
            if size > limit:
                raise WorkbookRefused([_too_large(file, info.filename, size, limit, False)])
            if unpacked > limit:
                raise WorkbookRefused([_too_large(file, "", unpacked, limit, False)])
            if info.filename == sheet and not has_formulas:
                seam = tail[-8:] + chunk[:8]
                if _FORMULA_END.search(chunk) or _FORMULA_END.search(seam):
                    has_formulas = _FORMULA_TAG.search(tail + chunk) is not None
                tail = chunk[-64:]
    if sheet is None or not has_formulas:
        return WorkbookFacts()
    info = next(i for i in parts if i.filename == sheet)
    return _formula_cells(_inflated(file, data, info))


def _damaged(file: str, reason: str) -> WorkbookRefused:
    return WorkbookRefused(
        [Problem(file, None, None, f"not an Excel workbook (.xlsx) that can be read ({reason})")]
    )


def _inflated(file: str, data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's bytes as they unpack, a megabyte at a time, from its compressed bytes
    (not trusting the size the archive declares for it)."""
    start = info.header_offset
    header = data[start : start + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise _damaged(file, f"no local header for {info.filename}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    begin = start + 30 + name_length + extra_length
    compressed = memoryview(data)[begin : begin + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        for offset in range(0, len(compressed), _CHUNK):
            yield bytes(compressed[offset : offset + _CHUNK])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise _damaged(file, f"{info.filename} uses an unsupported compression")
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for offset in range(0, len(compressed), _CHUNK):
            pending = bytes(compressed[offset : offset + _CHUNK])
            while pending:
                chunk = inflate.decompress(pending, _CHUNK)
                pending = inflate.unconsumed_tail
                if chunk:
                    yield chunk
        rest = inflate.flush()
    except zlib.error as error:
        raise _damaged(file, f"{info.filename}: {error}") from error
    if rest:
        yield rest


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, target part) of a part's relationships (`xl/_rels/workbook.xml.rels`)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    try:
        root = ElementTree.fromstring(archive.read(rels))
    except (KeyError, ElementTree.ParseError):
        return {}
    found = {}
    for element in root:
        target = element.get("Target", "")
        if element.get("TargetMode") == "External":
            continue
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found[element.get("Id", "")] = (element.get("Type", ""), posixpath.normpath(resolved))
    return found


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The part holding the workbook's first sheet (the one the importer reads)."""
    documents = [
        t for kind, t in _relationships(archive, "").values() if kind.endswith(_OFFICE_DOCUMENT)
    ]
    if not documents:
        return None
    workbook = documents[0]
    try:
        with archive.open(workbook) as stream:
            first = next(
                (e for _, e in ElementTree.iterparse(stream) if _local(e.tag) == "sheet"), None
            )
    except (KeyError, ElementTree.ParseError):
        return None
    if first is None:
        return None
    rid = next((v for k, v in first.attrib.items() if _local(k) == "id"), None)
    target = _relationships(archive, workbook).get(rid or "")
    return target[1] if target else None


def column_index(letters: str) -> int:
    """`A` -> 0, `Z` -> 25, `AA` -> 26."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _cells(chunks: Iterator[bytes]) -> Iterator[tuple[int, int, bool, str | None]]:
    """(row, column, holds a value, formula text or None) of each cell of a sheet part."""
    parser: ElementTree.XMLPullParser = ElementTree.XMLPullParser(events=("end",))
    row = 0
    column = -1
    for chunk in chunks:
        parser.feed(chunk)
        for event in parser.read_events():
            element = cast("tuple[str, ElementTree.Element]", event)[1]
            name = _local(element.tag)
            if name == "row":
                element.clear()
                continue
            if name != "c":
                continue
            reference = _CELL_REFERENCE.match(element.get("r", ""))
            if reference:
                column, row = column_index(reference.group(1)), int(reference.group(2))
            else:  # references may be left out: the next cell of the row
                column += 1
            formula: str | None = None
            value = False
            for child in element:
                kind = _local(child.tag)
                if kind == "f":
                    formula = child.text or ""
                elif kind in ("v", "is"):
                    value = True
            element.clear()
            yield row, column, value or formula is not None, formula
    parser.close()


def _formula_cells(chunks: Iterator[bytes]) -> WorkbookFacts:
    formulas: list[FormulaCell] = []
    first_row = first_column = None
    for row, column, holds, formula in _cells(chunks):
        if holds:
            first_row = row if first_row is None else min(first_row, row)
            first_column = column if first_column is None else min(first_column, column)
        if formula is not None:
            formulas.append(FormulaCell(row, column, formula))
    return WorkbookFacts(tuple(formulas), first_row or 1, first_column or 0)


def formula_problems(file: str, header: tuple[str, ...], facts: WorkbookFacts) -> list[Problem]:
    """One problem per formula cell, on the line and column the importer reports cells at
    (the line counted from the header row, the column by its header name)."""
    problems = []
    for cell in facts.formulas:
        position = cell.column - facts.first_column
        name = header[position] if 0 <= position < len(header) else ""
        problems.append(
            Problem(
                file,
                cell.row - facts.first_row + 1,
                name.strip() or f"#{position + 1}",
                "a formula: its saved result may be out of date; replace the formulas by "
                "their values (copy, paste values) and save again",
                f"={cell.formula}" if cell.formula else None,
            )
        )
    return problems
