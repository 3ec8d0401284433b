"""`pathwise import PATH [--dry-run]` and `pathwise demo --csv DIR` from the command line."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from cli.main import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from data_access.engine import get_engine
from data_access.meta import loaded_counts
from tests.importing.conftest import WORLD


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    return url


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    files = tmp_path / "export"
    files.mkdir()
    for name, data in WORLD.items():
        (files / name).write_bytes(data)
    (files / ".DS_Store").write_bytes(b"\x00\x01")  # hidden files are not looked at
    return files


def test_import_a_folder_dry_run_then_for_real(
    database: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(folder), "--dry-run"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "Dry run, nothing written: 15 files would insert 22 and update 0 rows" in out
    assert loaded_counts(get_engine()).students == 0
    assert main(["import", str(folder)]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "students.csv" in out and "Imported 15 files" in out and "22 rows inserted" in out
    assert "100%" in err and "done" in err
    assert loaded_counts(get_engine()).students == 2


def test_import_one_file_with_problems_exits_with_one(
    database: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = folder / "schools.csv"
    bad.write_text("school_id,school_name,low_grade,high_grade\nHS1,First,9,13\nHS2,,9,12\n")
    assert main(["import", str(bad)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert (
        "schools.csv:2:high_grade: not a grade level (-1 pre-K, 0 kindergarten, 1..12) (13)\n"
        "schools.csv:3:school_name: required value is blank\n"
        "pathwise import: 2 problems; nothing was written\n"
    ) in err
    assert loaded_counts(get_engine()).schools == 0


def test_an_unknown_file_in_the_folder_is_an_error(
    database: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "notes.txt").write_text("hello\n")
    assert main(["import", str(folder)]) == EXIT_INVALID
    assert "notes.txt:-:-: not an import file name" in capsys.readouterr().err


def test_wrong_usage_exits_with_two(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "/no/such/folder"]) == EXIT_USAGE
    assert "no such file or folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["import"])
    assert exit_info.value.code == EXIT_USAGE


def test_the_refresh_hook_runs_when_the_derived_module_exists(
    database: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    derived = types.ModuleType("data_access.derived")
    derived.refresh_derived = calls.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "data_access.derived", derived)
    assert main(["import", str(folder), "--dry-run"]) == EXIT_OK
    assert calls == []
    assert main(["import", str(folder)]) == EXIT_OK
    assert calls == [get_engine()]


def test_demo_csv_writes_every_import_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "demo"
    assert main(["demo", "--csv", str(out_dir), "--students", "120", "--as-of", "2026-11-22"]) == 0
    out = capsys.readouterr().out
    assert "students.csv" in out and "attendance_daily.csv" in out
    assert (out_dir / "attendance_daily.csv").read_text() == "student_id,school_id,date,status\n"
    header = (out_dir / "users.csv").read_text().splitlines()[0]
    assert header == (
        "email,display_name,role,org_id,school_id,student_id,confidentiality_signed_date,active"
    )


def test_an_import_while_another_runs_says_so_and_exits_with_one(
    database: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from data_access.importing.lock import import_lock

    with import_lock(get_engine(), "ana"):
        assert main(["import", str(folder)]) == EXIT_INVALID
    out, err = capsys.readouterr()
    assert err.startswith("pathwise import: another import is running (pathwise import by ana,")
    assert "Traceback" not in err and loaded_counts(get_engine()).students == 0
    assert main(["import", str(folder)]) == EXIT_OK


def test_a_command_that_meets_a_locked_database_says_an_import_is_running(
    database: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from data_access.busy import BUSY_MESSAGE

    assert main(["users", "add", "ana@d.org", "--role", "admin"]) == EXIT_OK
    writer = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with get_engine().connect() as connection:  # the pool's connections wait briefly
            connection.exec_driver_sql("PRAGMA busy_timeout=200")
        assert main(["import", str(folder)]) == EXIT_INVALID
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    err = capsys.readouterr().err
    assert BUSY_MESSAGE in err and "Traceback" not in err
