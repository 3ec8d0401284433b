"""One import at a time, on both databases, and a killed import never leaves the lock held.

Two real imports overlap: the first is held inside its run (its progress callback waits)
while the second starts; the second says another import is running and writes nothing,
instead of colliding with the first on a key. Then a process that holds the lock is
killed (SIGKILL, no clean-up): the next import goes through.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine

from data_access.importing import ImportBusy, ImportResult, import_files
from tests.importing.conftest import WORLD, counts

CHECKOUT = Path(__file__).resolve().parents[2]


def test_a_second_import_at_the_same_time_says_another_import_is_running(
    engine: Engine,
) -> None:
    inside, release = threading.Event(), threading.Event()
    outcome: dict[str, ImportResult | BaseException] = {}

    def hold(_done: int, _total: int, _message: str) -> None:
        inside.set()
        release.wait(60)

    def first() -> None:
        try:
            outcome["first"] = import_files(engine, WORLD, imported_by="first", progress=hold)
        except BaseException as error:  # noqa: BLE001  (checked below)
            outcome["first"] = error

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(60)
        before = counts(engine)
        with pytest.raises(ImportBusy) as busy:
            import_files(engine, WORLD, imported_by="second")
        assert counts(engine) == before
        assert str(busy.value).startswith("another import is running (")
        assert "first" in str(busy.value)
        assert str(busy.value).endswith(
            "; nothing was written: wait for it to finish, then run this import again"
        )
        # A dry run takes no lock: checking files never waits for an import.
        assert import_files(engine, {"schools.csv": WORLD["schools.csv"]}, dry_run=True).ok
    finally:
        release.set()
        thread.join(60)
    first_result = outcome["first"]
    assert isinstance(first_result, ImportResult) and first_result.import_id is not None
    again = import_files(engine, WORLD, imported_by="second")
    assert again.inserted == 0 and again.updated == first_result.inserted


HOLDER = """
import sys, time
from data_access.engine import make_engine
from data_access.importing.lock import import_lock
with import_lock(make_engine(sys.argv[1]), "killed-holder"):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_killed_import_leaves_no_lock_behind(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url],
        cwd=CHECKOUT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(ImportBusy, match="killed-holder"):
            import_files(engine, WORLD)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(30)
    result = import_files(engine, WORLD)
    assert result.import_id is not None and result.inserted > 0


def test_an_import_that_meets_a_running_refresh_says_a_refresh_is_running(
    engine: Engine,
) -> None:
    from data_access.importing.lock import import_lock

    with import_lock(engine, "ana", work="refresh"), pytest.raises(ImportBusy) as busy:
        import_files(engine, WORLD, imported_by="second")
    assert str(busy.value).startswith("a refresh is running (pathwise refresh by ana")
    assert set(counts(engine).values()) == {0}


def test_a_refresh_that_meets_a_running_import_is_told_who_and_waits_for_it(
    engine: Engine,
) -> None:
    from data_access.importing.lock import import_lock

    held, release = threading.Event(), threading.Event()
    order: list[str] = []

    def importing() -> None:
        with import_lock(engine, "ana"):
            held.set()
            release.wait(60)
            order.append("import done")

    thread = threading.Thread(target=importing)
    thread.start()
    told: list[str] = []

    def waiting(holder: str) -> None:
        told.append(holder)
        release.set()  # the import ends while the refresh waits

    try:
        assert held.wait(60)
        with import_lock(engine, "bob", work="refresh", wait=waiting):
            order.append("refresh")
    finally:
        release.set()
        thread.join(60)
    assert len(told) == 1 and told[0].startswith("pathwise import by ana")
    assert order == ["import done", "refresh"]
