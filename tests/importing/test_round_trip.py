"""`pathwise demo --csv DIR` then `pathwise import DIR` gives the demo district, row for row.

The files are a complete valid example of every import file: imported into an empty
database they reproduce every import table of the demo built directly by `build_demo`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cli.main import EXIT_OK, main
from data_access.bulk import read_table
from data_access.demo_build import build_demo
from data_access.engine import make_engine
from data_access.models import IMPORT_TABLES, table_of
from demo_district.generate import DemoSpec
from domain.import_format import FILE_FORMATS

SPEC = DemoSpec(students=300, seed=2026, today=date(2026, 11, 22))


def test_demo_files_import_into_the_same_district(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = tmp_path / "files"
    args = ["--students", str(SPEC.students), "--seed", str(SPEC.seed), "--as-of", "2026-11-22"]
    assert main(["demo", "--csv", str(files), *args]) == EXIT_OK
    assert sorted(p.name for p in files.iterdir()) == sorted(f"{n}.csv" for n in FILE_FORMATS)

    monkeypatch.setenv("PATHWISE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    capsys.readouterr()
    assert main(["import", str(files)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"Imported {len(FILE_FORMATS)} files" in out and " 0 updated" in out

    demo = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    build_demo(demo, SPEC)
    for name, model in IMPORT_TABLES.items():
        table = table_of(model)
        key = [c.name for c in table.primary_key.columns]
        expected = read_table(demo, table).sort(key)
        imported = read_table(engine, table).sort(key)
        assert expected.height > 0, name
        assert imported.equals(expected), name
    demo.dispose()


EXPORTS = [
    ["export", "flags", "--as", "steward@demo.pathwise.example", "--as-of", "2026-11-22"],
    ["export", "flags", "--as", "staff.org02@demo.pathwise.example", "--as-of", "2026-11-22"],
    [
        "export",
        "pipeline",
        "--as",
        "leader@demo.pathwise.example",
        "--cohort",
        "2025",
        "--by",
        "race_ethnicity",
        "--as-of",
        "2026-11-22",
    ],
    [
        "export",
        "pipeline",
        "--as",
        "counselor.hs01@demo.pathwise.example",
        "--cohort",
        "2024",
        "--by",
        "school_id",
        "--as-of",
        "2026-11-22",
    ],
]


def test_the_imported_district_exports_exactly_what_the_demo_exports(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The round trip of issue 5: flags and pipeline exports of the imported district equal
    those of the demo built directly (same as-of date, same users, same rules)."""
    files = tmp_path / "files"
    args = ["--students", str(SPEC.students), "--seed", str(SPEC.seed), "--as-of", "2026-11-22"]
    assert main(["demo", "--csv", str(files), *args]) == EXIT_OK
    monkeypatch.setenv("PATHWISE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["import", str(files)]) == EXIT_OK
    imported = []
    for command in EXPORTS:
        capsys.readouterr()
        assert main(command) == EXIT_OK
        imported.append(capsys.readouterr().out)

    demo_url = f"sqlite:///{tmp_path / 'demo.db'}"
    build_demo(make_engine(demo_url), SPEC)
    monkeypatch.setenv("PATHWISE_DATABASE_URL", demo_url)
    for command, expected in zip(EXPORTS, imported, strict=True):
        capsys.readouterr()
        assert main(command) == EXIT_OK
        assert capsys.readouterr().out == expected, command
        assert expected.count("\n") > 2
