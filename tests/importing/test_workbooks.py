"""Workbooks are looked into before they are read: their unpacked size, and their formulas.

A small `.xlsx` file can unpack to gigabytes of sheet XML, which the workbook reader holds
in memory cell by cell; past the limit (`PATHWISE_IMPORT_MAX_MB`, default 500 MB, the same
as Streamlit's upload limit) the workbook is refused unread, saying which file, which
part, how large, the limit and what to do. A formula cell's saved result may be stale, so
each formula cell is a problem on its line and column. Every workbook here is written by
xlsxwriter (the library of the lock file that writes workbooks); the one that lies about
its size is such a workbook with its size fields changed.
"""

from __future__ import annotations

import io
import struct
import tomllib
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import Engine

from data_access.importing import ImportRejected, import_files
from data_access.importing.workbook import DEFAULT_LIMIT_MB, LIMIT_SETTING
from tests.importing.conftest import counts

SCHOOLS: list[object] = ["school_id", "school_name", "low_grade", "high_grade"]
CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
SHEET = "xl/worksheets/sheet1.xml"


def workbook(rows: list[list[object]], formulas: dict[tuple[int, int], str] | None = None) -> bytes:
    """A workbook with `rows` in its first sheet (header first) and formula cells at
    (row, column), each saved with a result that looks valid."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("schools")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if (r, c) in (formulas or {}):
                sheet.write_formula(r, c, (formulas or {})[(r, c)], None, value)
            elif value is not None:
                sheet.write(r, c, value)
    book.add_worksheet("notes").write_formula(0, 0, "=1+1")  # not the sheet read
    book.close()
    return buffer.getvalue()


def many_schools(count: int) -> bytes:
    return workbook([SCHOOLS, *([f"HS{i}", f"School number {i}", 9, 12] for i in range(count))])


def rejected(engine: Engine, files: dict[str, bytes]) -> list[str]:
    before = counts(engine)
    with pytest.raises(ImportRejected) as rejection:
        import_files(engine, files)
    assert counts(engine) == before
    return rejection.value.report_lines()


def test_a_workbook_that_unpacks_past_the_limit_is_refused_unread(
    shared_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = many_schools(20_000)
    size = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET).file_size
    assert len(data) < 1_000_000 < size  # small on disk, larger than the limit unpacked
    monkeypatch.setenv(LIMIT_SETTING, "1")
    assert rejected(shared_engine, {"schools.xlsx": data}) == [
        f"schools.xlsx:-:-: the workbook is too large to read: its part {SHEET} unpacks to "
        f"{size / 1_000_000:,.1f} MB (as the archive declares), more than the limit of 1.0 MB "
        f"({LIMIT_SETTING}); save the sheet as CSV UTF-8 (read part by part, without this "
        "limit) or split it into smaller workbooks"
    ]
    monkeypatch.setenv(LIMIT_SETTING, "50")
    result = import_files(shared_engine, {"schools.xlsx": data}, dry_run=True)
    assert result.ok and result.files[0].rows == 20_000


def _declaring(data: bytes, size: int) -> bytes:
    """`data` with every part's uncompressed size declared as `size` in its local header and
    in its entry of the central directory (zip format: offsets 22 and 24 of each)."""
    changed = bytearray(data)
    for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
        struct.pack_into("<I", changed, info.header_offset + 22, size)
    end = data.rindex(b"PK\x05\x06")
    entry = struct.unpack_from("<I", data, end + 16)[0]
    while data[entry : entry + 4] == b"PK\x01\x02":
        name, extra, comment = struct.unpack_from("<HHH", data, entry + 28)
        struct.pack_into("<I", changed, entry + 24, size)
        entry += 46 + name + extra + comment
    return bytes(changed)


def test_a_workbook_whose_archive_understates_a_part_is_measured_unpacked(
    shared_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    lying = _declaring(many_schools(20_000), 1000)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo(SHEET).file_size == 1000
    monkeypatch.setenv(LIMIT_SETTING, "1")
    (line,) = rejected(shared_engine, {"schools.xlsx": lying})
    assert line.startswith(
        f"schools.xlsx:-:-: the workbook is too large to read: its part {SHEET} unpacks to "
    )
    assert "more than the limit of 1.0 MB" in line
    assert "(as the archive declares)" not in line


def test_streamlit_accepts_uploads_up_to_the_import_limit() -> None:
    server = tomllib.loads(CONFIG.read_text())["server"]
    assert server["maxUploadSize"] == DEFAULT_LIMIT_MB


def test_the_limit_setting_must_be_a_number_of_megabytes(
    shared_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LIMIT_SETTING, "lots")
    with pytest.raises(ValueError, match=f"{LIMIT_SETTING} must be a whole number of megabytes"):
        import_files(shared_engine, {"schools.xlsx": many_schools(1)}, dry_run=True)


def test_formula_cells_are_problems_on_their_line_and_column(shared_engine: Engine) -> None:
    data = workbook(
        [SCHOOLS, ["HS7", "Seventh", 9, 12], ["HS8", "Eighth", 9, 12]],
        formulas={(1, 3): "=C2+3", (2, 1): '="Eigh"&"th"'},
    )
    message = (
        "a formula: its saved result may be out of date; replace the formulas by their "
        "values (copy, paste values) and save again"
    )
    assert rejected(shared_engine, {"schools.xlsx": data}) == [
        f"schools.xlsx:2:high_grade: {message} (=C2+3)",
        f'schools.xlsx:3:school_name: {message} (="Eigh"&"th")',
    ]


def test_formula_lines_count_from_the_header_row_wherever_it_starts(
    shared_engine: Engine,
) -> None:
    rows: list[list[object]] = [[], [], [None, *SCHOOLS], [None, "HS7", "Seventh", 9, 12]]
    data = workbook(rows, formulas={(3, 4): "=12"})
    (line,) = rejected(shared_engine, {"schools.xlsx": data})
    assert line.startswith("schools.xlsx:2:high_grade: a formula:")


def test_a_workbook_without_formulas_in_its_first_sheet_loads(shared_engine: Engine) -> None:
    data = workbook([SCHOOLS, ["HS7", "Seventh", 9, 12]])
    result = import_files(shared_engine, {"schools.xlsx": data}, dry_run=True)
    assert result.ok and result.files[0].rows == 1
