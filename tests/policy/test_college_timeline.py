"""The college timeline is read under the `outcomes` category and audited with the record.

Small world (tests/worlds.py): teachers see attendance, grades and tests only, so the
teacher (caseload S1, S4) gets no timeline for S4; the district leader sees every
category. S4 has two Clearinghouse terms, S5 was searched and not found, S6 never searched.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from data_access.bulk import insert_frame
from data_access.identity import sign_in
from data_access.models import AuditEvent, NscSearch, PostsecondaryEnrollment, table_of
from data_access.records import student_record
from tests.worlds import TODAY, build_small_world
from ui.college_timeline import timeline_rows


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    terms = pl.DataFrame(
        {
            "student_id": ["S4", "S4"],
            "seq": [1, 2],
            "college_name": ["STATE UNIVERSITY", "STATE UNIVERSITY"],
            "level": ["4yr", "4yr"],
            "control": ["public", "public"],
            "college_state": ["CA", "CA"],
            "enrollment_begin": [date(2027, 8, 26), date(2028, 1, 20)],
            "enrollment_end": [date(2027, 12, 15), date(2028, 5, 10)],
            "enrollment_status": ["F", None],
        }
    )
    searches = pl.DataFrame({"student_id": ["S4", "S5"], "record_found": [True, False]})
    with engine.begin() as connection:
        insert_frame(connection, table_of(PostsecondaryEnrollment), terms)
        insert_frame(connection, table_of(NscSearch), searches)
    return engine


def events(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(table_of(AuditEvent))
        ).scalar_one()


def test_a_leader_sees_the_terms_in_words_and_the_read_is_audited(world: Engine) -> None:
    leader = sign_in(world, "leader@d.org", TODAY)
    before = events(world)
    record = student_record(world, leader, "S4")
    assert events(world) == before + 1
    assert record.college is not None and record.college.height == 2
    rows = timeline_rows(record.college)
    assert rows["what"].to_list() == ["full-time", "enrolled (status not released)"]
    assert rows["kind"].to_list()[0] == "4-year, public, CA"


def test_searched_and_not_found_differs_from_never_searched(world: Engine) -> None:
    leader = sign_in(world, "leader@d.org", TODAY)
    assert student_record(world, leader, "S5").college_search == {
        "record_found": False,
        "high_school_code": None,
        "high_school_grad_date": None,
        "seamless_enrolled": None,
        "degree_completed": None,
    }
    assert student_record(world, leader, "S6").college_search is None


def test_a_teacher_gets_no_timeline(world: Engine) -> None:
    teacher = sign_in(world, "teacher@d.org", TODAY)
    record = student_record(world, teacher, "S4")
    assert record.college is None and record.college_search is None
