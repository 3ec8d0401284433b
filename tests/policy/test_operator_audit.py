"""Two front doors, one audit behaviour (docs/access-rules.md, "The audit log").

`pathwise users add` and `pathwise import` leave the same audit events as the
Administration page's user form and upload: the command line records them as the
district's operator (`policy.operator`) with the operating-system user who ran the
command. And a change is never committed without its audit record: the record is written
in the change's own transaction, so a failure to write it (here a real trigger refusing
the insert) leaves nothing changed.
"""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from cli.main import EXIT_OK, main
from data_access import api
from data_access.administration import save_user_as
from data_access.audit import AUDIT_EVENT
from data_access.identity import sign_in
from data_access.meta import loaded_counts
from data_access.models import User, table_of
from data_access.users import UserRequest
from tests.worlds import TODAY, build_small_world

USER = table_of(User)
SCHOOLS = b"school_id,school_name,low_grade,high_grade\nHS9,Ninth High,9,12\n"


@pytest.fixture
def world(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The small world, also the database of the command line and of `data_access.api`."""
    build_small_world(engine)
    monkeypatch.setenv("PATHWISE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    yield engine
    api.get_engine().dispose()


def events(engine: Engine, action: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AUDIT_EVENT)
            .where(AUDIT_EVENT.c.action == action)
            .order_by(AUDIT_EVENT.c.event_id)
        ).all()
    return [{**row._asdict(), "detail": json.loads(row.detail or "{}")} for row in rows]


def refuse_audit_of(engine: Engine, action: str) -> None:
    """A trigger that makes writing an audit event of `action` fail (a real failure of the
    database, not a mock)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_event FOR EACH ROW "
                    f"WHEN (NEW.action = '{action}') EXECUTE FUNCTION refuse_audit()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_event "
                    f"WHEN NEW.action = '{action}' BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
                )
            )


def stored_user(engine: Engine, email: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(USER).where(USER.c.email == email)).first()


def operating_system_user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def test_users_add_is_audited_as_the_administration_page_saves_are(world: Engine) -> None:
    assert main(["users", "add", "New.One@d.org", "--role", "counselor", "--school", "HS1"]) == (
        EXIT_OK
    )
    steward = sign_in(world, "admin@d.org", TODAY)
    save_user_as(world, steward, UserRequest("new.one@d.org", "counselor", school_id="HS1"))
    cli, page = events(world, "user.save")
    assert (cli["user_email"], cli["role"], cli["via"], cli["os_user"], cli["outcome"]) == (
        "operator",
        "admin",
        "cli",
        operating_system_user(),
        "allowed",
    )
    assert (page["user_email"], page["via"], page["os_user"]) == ("admin@d.org", "app", None)
    assert cli["detail"] == {**page["detail"], "email": "New.One@d.org"}
    assert page["detail"]["school_id"] == "HS1" and page["detail"]["role"] == "counselor"


def test_import_is_audited_as_the_upload_is(world: Engine, tmp_path: Path) -> None:
    (tmp_path / "schools.csv").write_bytes(SCHOOLS)
    assert main(["import", str(tmp_path / "schools.csv")]) == EXIT_OK
    steward = sign_in(world, "admin@d.org", TODAY)
    api.admin_import(steward, {"schools.csv": SCHOOLS}, dry_run=False)
    cli, upload = events(world, "import")
    assert (cli["user_email"], cli["role"], cli["via"], cli["os_user"]) == (
        "operator",
        "admin",
        "cli",
        operating_system_user(),
    )
    assert (upload["user_email"], upload["via"]) == ("admin@d.org", "app")
    assert cli["detail"]["files"] == upload["detail"]["files"] == ["schools.csv"]
    assert upload["detail"]["import_id"] == cli["detail"]["import_id"] + 1


def test_a_dry_run_on_the_command_line_is_not_an_import(world: Engine, tmp_path: Path) -> None:
    (tmp_path / "schools.csv").write_bytes(SCHOOLS)
    assert main(["import", str(tmp_path / "schools.csv"), "--dry-run"]) == EXIT_OK
    assert events(world, "import") == []


def test_a_user_is_not_saved_when_its_audit_record_cannot_be_written(world: Engine) -> None:
    refuse_audit_of(world, "user.save")
    steward = sign_in(world, "admin@d.org", TODAY)
    with pytest.raises(DBAPIError, match="audit refused"):
        save_user_as(world, steward, UserRequest("late@d.org", "viewer"))
    assert stored_user(world, "late@d.org") is None
    with pytest.raises(DBAPIError, match="audit refused"):
        save_user_as(world, steward, UserRequest("viewer@city.org", "viewer", active=False))
    assert stored_user(world, "viewer@city.org").active


def test_an_import_is_not_committed_when_its_audit_record_cannot_be_written(
    world: Engine, tmp_path: Path
) -> None:
    refuse_audit_of(world, "import")
    steward = sign_in(world, "admin@d.org", TODAY)
    with pytest.raises(api.ImportRejected):
        api.admin_import(steward, {"schools.csv": SCHOOLS}, dry_run=False)
    (tmp_path / "schools.csv").write_bytes(SCHOOLS)
    assert main(["import", str(tmp_path / "schools.csv")]) != EXIT_OK
    assert loaded_counts(world).schools == 2
    assert api.admin_import_history(steward).height == 0
