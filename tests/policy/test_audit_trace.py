"""The audit log says under which date's rules a request was served, and who ran it from the
command line (docs/access-rules.md, "The audit log"; issue 10, item 5).

`--as-of` applies the rules of another date (a release revoked since still counts), which
whoever holds the database URL may do; the log must say so, and the family's disclosure
log must show such a read as an export run by the district's operator.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from data_access.audit import AUDIT_EVENT
from data_access.disclosures import disclosure_log
from data_access.identity import sign_in
from data_access.policy import AccessDenied
from data_access.records import student_record
from tests.worlds import TODAY, YESTERDAY, build_small_world


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    return engine


def _events(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(select(AUDIT_EVENT).order_by(AUDIT_EVENT.c.event_id)).all()
    return [row._asdict() for row in rows]


def test_a_read_under_the_rules_of_the_real_date_records_no_other_date(world: Engine) -> None:
    student_record(world, sign_in(world, "admin@d.org", date.today()), "S1")
    (event,) = _events(world)
    assert (event["rules_as_of"], event["via"], event["os_user"]) == (None, "app", None)


def test_a_read_under_the_rules_of_another_date_records_that_date(world: Engine) -> None:
    assert date.today() != TODAY  # the small world lies in the past
    student_record(world, sign_in(world, "a@orga.org", TODAY), "S1")
    (event,) = _events(world)
    assert event["rules_as_of"] == TODAY


def test_a_command_line_request_records_the_operating_system_user(world: Engine) -> None:
    before_revocation = YESTERDAY - timedelta(days=1)  # S2's release was revoked yesterday
    partner = sign_in(world, "a@orga.org", before_revocation, os_user="operator1")
    student_record(world, partner, "S2", action="student.export")
    (event,) = _events(world)
    assert (event["action"], event["outcome"]) == ("student.export", "allowed")
    assert (event["rules_as_of"], event["via"], event["os_user"]) == (
        before_revocation,
        "cli",
        "operator1",
    )


def test_a_refused_command_line_sign_in_records_the_operating_system_user_and_date(
    world: Engine,
) -> None:
    with pytest.raises(AccessDenied):
        sign_in(world, "gone@d.org", TODAY, os_user="operator1")
    (event,) = _events(world)
    assert (event["action"], event["outcome"]) == ("sign_in", "denied")
    assert (event["rules_as_of"], event["via"], event["os_user"]) == (TODAY, "cli", "operator1")


def test_the_family_sees_an_export_run_by_the_operator_on_behalf_of_a_partner_with_the_date(
    world: Engine,
) -> None:
    student_record(world, sign_in(world, "a@orga.org", TODAY), "S1")
    operator = sign_in(world, "a@orga.org", YESTERDAY, os_user="operator1")
    student_record(world, operator, "S1", action="student.export")
    log = disclosure_log(world, sign_in(world, "mom@family.org", date.today()), "S1")
    assert log["action"].to_list() == ["student.export", "student.read"]
    assert log["via"].to_list() == ["cli", "app"]
    assert log["os_user"].to_list() == ["operator1", None]
    assert log["rules_as_of"].to_list() == [YESTERDAY, TODAY]
    exported, read = log["how"].to_list()
    assert exported == (
        "exported from the command line by the district's operator (operating-system user "
        f"operator1) on behalf of a@orga.org, under the rules as of {YESTERDAY.isoformat()}"
    )
    assert read == f"under the rules as of {TODAY.isoformat()}"


def test_the_family_sees_an_ordinary_partner_read_without_a_note(world: Engine) -> None:
    student_record(world, sign_in(world, "a@orga.org", date.today()), "S1")
    log = disclosure_log(world, sign_in(world, "mom@family.org", date.today()), "S1")
    assert log["how"].to_list() == [None]
