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
    assert "Imported 16 files" in out and " 0 updated" in out

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
