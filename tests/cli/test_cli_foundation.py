"""`pathwise db upgrade`, `pathwise demo` and `pathwise users add` from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main, outcomes_line
from data_access.engine import get_engine
from data_access.meta import is_demo, loaded_counts, read_meta


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    return url


def test_the_console_script_is_installed_and_upgrades_the_schema(database: str) -> None:
    script = Path(sys.executable).with_name("pathwise")
    result = subprocess.run(
        [str(script), "db", "upgrade"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "schema upgraded from empty to" in result.stdout
    again = subprocess.run(
        [str(script), "db", "upgrade"], capture_output=True, text=True, check=False
    )
    assert "up to date" in again.stdout


def test_demo_builds_prints_users_and_refuses_a_second_build(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--students", "300", "--seed", "4", "--as-of", "2026-11-22"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "steward@demo.pathwise.example" in out and "org_staff" in out
    assert "100%" in err  # the progress bar reached the end
    assert is_demo(get_engine())
    assert main(["demo", "--students", "300"]) == EXIT_INVALID
    assert "--replace" in capsys.readouterr().err
    assert main(["demo", "--if-empty"]) == EXIT_OK


def test_users_add_creates_then_updates_and_checks_references(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--students", "200", "--as-of", "2026-11-22"]) == EXIT_OK
    capsys.readouterr()
    args = [
        "users",
        "add",
        "Pat@Partner.org",
        "--role",
        "org_staff",
        "--org",
        "ORG03",
        "--confidentiality-signed",
        "2026-09-01",
    ]
    assert main(args) == EXIT_OK
    assert "added pat@partner.org" in capsys.readouterr().out
    assert main(args) == EXIT_OK
    assert "updated" in capsys.readouterr().out
    assert main(["users", "add", "x@y.org", "--role", "wizard"]) == EXIT_INVALID
    assert "unknown role 'wizard'" in capsys.readouterr().err
    assert main(["users", "add", "x@y.org", "--role", "org_staff", "--org", "NOPE"]) == EXIT_INVALID
    assert "no organisation with org_id 'NOPE'" in capsys.readouterr().err
    counts = loaded_counts(get_engine())
    assert counts.users >= 26


def test_wrong_usage_exits_with_two() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--students", "zero"])
    assert exit_info.value.code == EXIT_USAGE


def test_refresh_recomputes_the_indicators_as_of_the_date_given(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["refresh"]) == EXIT_INVALID  # nothing loaded yet
    assert "no data" in capsys.readouterr().err
    assert main(["demo", "--students", "200", "--as-of", "2026-11-22"]) == EXIT_OK
    assert read_meta(get_engine())["indicators_as_of"] == "2026-11-22"

    assert main(["refresh", "--as-of", "2027-01-15"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "recomputed as of 2027-01-15 (school year 2026-27)" in out
    meta = read_meta(get_engine())
    assert (meta["indicators_as_of"], meta["indicators_school_year"]) == ("2027-01-15", "2027")


def test_refresh_says_which_program_outcomes_were_computed_again_and_can_force_it(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--students", "200", "--as-of", "2026-11-22"]) == EXIT_OK
    capsys.readouterr()
    assert main(["refresh", "--as-of", "2026-11-22"]) == EXIT_OK
    assert "Program outcomes: kept (nothing they read changed" in capsys.readouterr().out
    assert main(["refresh", "--as-of", "2026-11-22", "--recompute-outcomes"]) == EXIT_OK
    assert "Program outcomes: computed again." in capsys.readouterr().out
    # A new day: 2025-26 is settled, and no 2026-27 service has run its 30 days yet.
    assert main(["refresh", "--as-of", "2026-11-23"]) == EXIT_OK
    assert "Program outcomes: kept (nothing they read changed" in capsys.readouterr().out
    # By January the current year's services count: that year alone is computed.
    assert main(["refresh", "--as-of", "2027-01-15"]) == EXIT_OK
    assert (
        "Program outcomes: computed again for 2026-27; the other school years kept."
        in capsys.readouterr().out
    )


def test_the_refresh_line_names_a_year_computed_whole_and_measures_computed_elsewhere() -> None:
    assert outcomes_line(
        frozenset({"absence_rate"}), frozenset({2027}), frozenset({"fafsa_completed"})
    ) == (
        "Program outcomes: computed again for 2026-27, and fafsa_completed for the other "
        "school years; the rest kept."
    )


def test_refresh_waits_for_a_running_import_and_says_so(database: str) -> None:
    """A refresh that read the tables before an import committed would otherwise write its
    figures after the import's own refresh (data_access/importing/lock.py)."""
    from data_access.importing.lock import import_lock

    assert main(["demo", "--students", "200", "--as-of", "2026-11-22"]) == EXIT_OK
    script = Path(sys.executable).with_name("pathwise")
    with import_lock(get_engine(), "ana"):
        refresh = subprocess.Popen(
            [str(script), "refresh", "--as-of", "2026-11-23"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert refresh.stderr is not None
        first = refresh.stderr.readline()  # written before it waits: the lock is still held
        assert first.startswith("pathwise refresh: the database is taken (pathwise import by ana,")
        assert first.rstrip().endswith("waiting for it to finish")
        assert refresh.poll() is None
    out, rest = refresh.communicate(timeout=300)
    assert refresh.returncode == EXIT_OK, rest
    assert "recomputed as of 2026-11-23" in out
    assert read_meta(get_engine())["indicators_as_of"] == "2026-11-23"
