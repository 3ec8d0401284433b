"""Uploading files from the administration page: admins only, every problem, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_access import api, schema
from data_access.engine import make_engine
from data_access.meta import loaded_counts
from tests.worlds import TODAY, build_small_world


@pytest.fixture
def world_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'world.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    build_small_world(engine)
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    return url


GOOD = b"school_id,school_name,low_grade,high_grade\nHS9,Ninth High,9,12\n"
BAD = b"school_id,school_name,low_grade,high_grade\nHS9,Ninth High,nine,12\nHS8,,9,12\n"


def test_only_stewards_upload(world_url: str) -> None:
    with pytest.raises(api.AccessDenied):
        api.admin_import(
            api.sign_in("counselor@d.org", TODAY), {"schools.csv": GOOD}, dry_run=False
        )


def test_a_bad_upload_lists_every_problem_and_writes_nothing(world_url: str) -> None:
    steward = api.sign_in("admin@d.org", TODAY)
    with pytest.raises(api.ImportRejected) as rejected:
        api.admin_import(steward, {"schools.csv": BAD}, dry_run=False)
    problems = [str(p) for p in rejected.value.problems]
    assert any(p.startswith("schools.csv:2:low_grade:") and "(nine)" in p for p in problems)
    assert any(p.startswith("schools.csv:3:school_name:") for p in problems)
    assert loaded_counts(make_engine(world_url)).schools == 2


def test_a_good_upload_is_written_audited_and_checked_first_by_default(world_url: str) -> None:
    steward = api.sign_in("admin@d.org", TODAY)
    checked = api.admin_import(steward, {"schools.csv": GOOD})
    assert checked.dry_run and checked.inserted == 1
    assert loaded_counts(make_engine(world_url)).schools == 2
    done = api.admin_import(steward, {"schools.csv": GOOD}, dry_run=False)
    assert done.inserted == 1 and loaded_counts(make_engine(world_url)).schools == 3
    assert "import" in api.audit_events(steward)["action"].to_list()
