"""An import whose refresh is killed: the pages and the freshness panel say the indicators
are older than the import, and `pathwise refresh` repairs it.

For real: `pathwise import`'s own work (the import, then its refresh) runs in a child
process, which is killed with SIGKILL once the import has committed and the refresh is
computing (its progress says so). Then the warning shows on a page and on the
Administration panel's data; `pathwise refresh` runs; the warning is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from cli.main import EXIT_OK, main
from data_access.derived import indicators_lag, refresh_derived
from data_access.importing import import_files
from data_access.meta import loaded_counts
from tests.importing.conftest import WORLD

CHECKOUT = Path(__file__).resolve().parents[2]
#: Imports the files of a folder as `pathwise import` does, and says when its refresh is
#: computing (then waits to be killed).
IMPORT_THEN_REFRESH = """
import sys, time
from data_access.derived import refresh_derived
from data_access.engine import make_engine
from data_access.importing import import_path

def refresh(engine):
    def progress(done, total, message):
        if message.startswith("computing"):
            print("computing", flush=True)
            time.sleep(120)
    refresh_derived(engine, progress=progress)

import_path(make_engine(sys.argv[1]), sys.argv[2], imported_by="night-job", after_import=refresh)
"""


def _page_with_indicators() -> None:
    from ui.components import indicators_lag_notice

    indicators_lag_notice()


def _notices() -> list[str]:
    at = AppTest.from_function(_page_with_indicators, default_timeout=30)
    at.run()
    assert not at.exception
    return [w.value for w in at.warning]


def test_a_killed_refresh_is_reported_until_pathwise_refresh_repairs_it(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    import_files(engine, WORLD, after_import=refresh_derived)  # yesterday's import, complete
    assert indicators_lag(engine) is None and _notices() == []

    folder = tmp_path / "tonight"
    folder.mkdir()
    (folder / "students.csv").write_bytes(
        WORLD["students.csv"] + b"S3,Cy,Doe,HS1,10,2029,2010-01-02,X,white,N,N,N\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", IMPORT_THEN_REFRESH, url, str(folder)],
        cwd=CHECKOUT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "computing"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    assert loaded_counts(engine).students == 3  # the import committed

    lag = indicators_lag(engine)
    assert lag is not None and lag.imported_by == "night-job" and lag.computed_at is not None
    assert lag.computed_at <= lag.imported_at
    (notice,) = _notices()
    assert notice.startswith("These flags and figures were computed before the latest import")
    assert "pathwise refresh" in notice

    assert main(["refresh"]) == EXIT_OK
    assert indicators_lag(engine) is None and _notices() == []


def test_an_import_whose_refresh_never_ran_is_reported(engine: Engine) -> None:
    import_files(engine, WORLD)  # committed; no refresh hook
    lag = indicators_lag(engine)
    assert lag is not None and lag.computed_at is None
    refresh_derived(engine)
    assert indicators_lag(engine) is None
