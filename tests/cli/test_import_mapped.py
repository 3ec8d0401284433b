"""`pathwise import fafsa FILE --mapping PATH.toml` (issue 15) on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from cli.main import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from data_access.importing import import_files
from domain.mapping import to_toml
from tests.mapped.test_mapped_files import FAFSA_MAPPING, STATE_FILE, WORLD


def test_import_fafsa_with_a_toml_mapping_prints_the_matching_counts(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import_files(engine, WORLD)
    monkeypatch.setenv("PATHWISE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    (tmp_path / "state.csv").write_bytes(STATE_FILE)
    (tmp_path / "state.toml").write_text(to_toml(FAFSA_MAPPING))
    args = [
        "import",
        "fafsa",
        str(tmp_path / "state.csv"),
        "--mapping",
        str(tmp_path / "state.toml"),
    ]
    assert main([*args, "--dry-run"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "matched 1, ambiguous 2, unmatched 0 (2 to the review queue)" in out
    assert "Dry run, nothing written." in out
    assert (
        main(
            [
                "import",
                "services",
                str(tmp_path / "state.csv"),
                "--mapping",
                str(tmp_path / "state.toml"),
            ]
        )
        == EXIT_USAGE
    )
    (tmp_path / "state.csv").write_bytes(STATE_FILE.replace(b"Complete", b"Done"))
    assert main(args) == EXIT_INVALID
    assert (
        "state.csv:2:Status: value not listed for status in mapping state (Done)"
        in capsys.readouterr().err
    )
