"""The refresh stores need and coverage by school (issue 14 part 1) with everything else,
in its transaction, on the small world of tests/worlds.py (TODAY 2026-11-22):

- HS1: Ana (S1) misses 6 of 40 days, fails Algebra I and is below proficient; Caro (S3)
  misses 9 of 40. Ana is mentored by ORGA (release C1 names ORGA) and gets college access
  from ORGC (no release names ORGC for her). Caro has releases but no service.
- HS2: Dev (S4) and Eli (S5) are seniors; Eli gets college access from ORGC (release C5).
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Engine, insert

from data_access.bulk import read_table
from data_access.derived import COVERAGE_TABLES, refresh_derived
from data_access.models import Service, table_of
from tests.worlds import TODAY, build_small_world


def stored(engine: Engine, name: str) -> pl.DataFrame:
    return read_table(engine, COVERAGE_TABLES[name])


def need_row(engine: Engine, school: str, need: str) -> dict[str, object]:
    rows = stored(engine, "need").filter(school_id=school, need=need)
    assert rows.height == 1
    return rows.row(0, named=True)


def test_the_refresh_stores_coverage_by_school_and_need(engine: Engine) -> None:
    build_small_world(engine)
    refresh_derived(engine, as_of=TODAY)
    absence = need_row(engine, "HS1", "chronic_absence")
    # Ana is mentored (mentoring addresses absence) under ORGA's release; Caro, nobody.
    assert (absence["flagged"], absence["served_addressing"]) == (2, 1)
    assert (absence["served_addressing_with_release"], absence["unserved"]) == (1, 1)
    failing = need_row(engine, "HS1", "course_failure")
    assert (failing["flagged"], failing["served_addressing"], failing["served_other"]) == (1, 1, 0)
    need = stored(engine, "need")
    assert set(need["school_id"]) == {"HS1", "HS2"} and need.height == 8
    parts = need["served_addressing"] + need["served_other"] + need["unserved"]
    assert parts.to_list() == need["flagged"].to_list()


def test_the_refresh_stores_students_served_now_with_and_without_a_release(
    engine: Engine,
) -> None:
    build_small_world(engine)
    refresh_derived(engine, as_of=TODAY)
    served = stored(engine, "served_now").sort("org_id", "school_id", "service_type")
    assert served.to_dicts() == [
        {"org_id": "ORGA", "school_id": "HS1", "service_type": "mentoring", "students": 1,
         "students_with_release": 1},
        {"org_id": "ORGC", "school_id": "HS1", "service_type": "college_access", "students": 1,
         "students_with_release": 0},  # Ana: no release names ORGC
        {"org_id": "ORGC", "school_id": "HS2", "service_type": "college_access", "students": 1,
         "students_with_release": 1},
    ]  # fmt: skip


def test_the_refresh_stores_tier_support_per_school(engine: Engine) -> None:
    build_small_world(engine)
    refresh_derived(engine, as_of=TODAY)
    tiers = stored(engine, "tier_support")
    hs1 = tiers.filter(school_id="HS1")
    assert hs1["students"].sum() == 3  # Ana, Ben, Caro
    with_two = hs1.filter(pl.col("two_or_more") > 0)
    assert with_two["two_or_more"].to_list() == [1]  # Ana: ORGA and ORGC
    assert (tiers["no_service"] + tiers["one_service"] + tiers["two_or_more"]).to_list() == tiers[
        "students"
    ].to_list()
    assert tiers["students"].sum() == 5  # Fay left last year


def test_a_second_refresh_replaces_the_coverage_tables(engine: Engine) -> None:
    build_small_world(engine)
    refresh_derived(engine, as_of=TODAY)
    assert stored(engine, "duplication").height == 0
    with engine.begin() as connection:  # a second mentor for Ana, in overlapping periods
        connection.execute(
            insert(table_of(Service)),
            [{"student_id": "S1", "org_id": "ORGB", "service_type": "mentoring",
              "start_date": date(2026, 10, 1), "end_date": None}],
        )  # fmt: skip
    refresh_derived(engine, as_of=TODAY)
    assert stored(engine, "duplication").to_dicts() == [
        {"school_id": "HS1", "service_type": "mentoring", "org_a": "ORGA", "org_b": "ORGB",
         "students": 1}
    ]  # fmt: skip
    assert need_row(engine, "HS1", "chronic_absence")["duplicated"] == 1
    served = stored(engine, "served_now")
    assert served.height == 4 and served["students"].sum() == 4  # replaced, not appended
