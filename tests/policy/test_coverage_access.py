"""Who sees which need-and-coverage figures (issue 14; docs/access-rules.md): every user
of the small world, with and without meeting mode, against an oracle written from the
issue's words, on stored counts large enough that some are shown and some hidden."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, insert, select

from data_access.audit import AUDIT_EVENT
from data_access.coverage import EXPORT_COLUMNS, coverage_export, coverage_view
from data_access.identity import sign_in
from data_access.meta import set_meta
from data_access.models import (
    Capacity,
    CoverageDuplication,
    CoverageNeed,
    CoverageServedNow,
    CoverageTierSupport,
    table_of,
)
from data_access.policy import AccessDenied, Principal
from domain.vocabulary import FLAGS
from indicators.settings import load_settings
from tests.worlds import TODAY, USERS, YEAR, build_small_world

MIN_CELL = load_settings().min_cell
#: Written from the issue: who sees need and coverage, and how.
EXACT_ROLES = {"admin", "district_leader"}
PROTECTED_ROLES = {"viewer", "counselor", "org_staff"}
SIGNED_IN = [u for u in USERS if u["active"] and (u["confidentiality_signed_date"] or u["role"] in ("parent", "student"))]  # fmt: skip

NEED = [  # school, need, flagged, addressing, with release, other, unserved, duplicated
    ("HS1", "chronic_absence", 140, 30, 25, 25, 85, 12),
    ("HS2", "chronic_absence", 8, 3, 1, 1, 4, 0),
    ("HS1", "course_failure", 60, 35, 30, 10, 15, 3),
    ("HS2", "course_failure", 45, 20, 10, 10, 15, 2),
]
PAIRS = [  # school, type, org_a, org_b, students
    ("HS1", "mentoring", "ORGA", "ORGB", 23),
    ("HS1", "college_access", "ORGB", "ORGC", 4),
    ("HS2", "college_access", "ORGB", "ORGC", 15),
]


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    need_columns = ("school_id", "need", "flagged", "served_addressing",
                    "served_addressing_with_release", "served_other", "unserved", "duplicated")  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(CoverageNeed)), [dict(zip(need_columns, r, strict=True)) for r in NEED]
        )
        connection.execute(
            insert(table_of(CoverageDuplication)),
            [dict(zip(("school_id", "service_type", "org_a", "org_b", "students"), r, strict=True))
             for r in PAIRS],
        )  # fmt: skip
        connection.execute(
            insert(table_of(CoverageTierSupport)),
            [{"school_id": s, "tier": 3, "students": n, "no_service": a, "one_service": b,
              "two_or_more": c} for s, n, a, b, c in (("HS1", 40, 25, 10, 5), ("HS2", 52, 30, 12, 10))],
        )  # fmt: skip
        connection.execute(
            insert(table_of(CoverageServedNow)),
            [{"org_id": "ORGA", "school_id": "HS1", "service_type": "mentoring", "students": 30,
              "students_with_release": 25}],
        )  # fmt: skip
        connection.execute(
            insert(table_of(Capacity)),
            [{"org_id": "ORGA", "school_id": "HS1", "service_type": "mentoring",
              "school_year": YEAR, "slots": 40, "accepting_referrals": True},
             {"org_id": "ORGC", "school_id": "", "service_type": "college_access",
              "school_year": YEAR, "slots": 12, "accepting_referrals": True}],
        )  # fmt: skip
        set_meta(connection, {"indicators_as_of": TODAY.isoformat(),
                              "indicators_school_year": str(YEAR)})  # fmt: skip
    return engine


def who(engine: Engine, email: str) -> Principal:
    return sign_in(engine, email, TODAY)


def exact_counts() -> dict[tuple[str, str], dict[str, int]]:
    names = ("flagged", "served_addressing", "served_addressing_with_release", "served_other",
             "unserved", "duplicated")  # fmt: skip
    return {(r[0], r[1]): dict(zip(names, r[2:], strict=True)) for r in NEED}


def refusals(engine: Engine, action: str) -> list[str]:
    query = select(AUDIT_EVENT.c.user_email).where(
        AUDIT_EVENT.c.action == action, AUDIT_EVENT.c.outcome == "denied"
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


@pytest.mark.parametrize("meeting", [False, True])
@pytest.mark.parametrize("user", SIGNED_IN, ids=lambda u: u["email"])
def test_every_user_sees_coverage_exactly_as_the_issue_says(
    world: Engine, user: dict[str, Any], meeting: bool
) -> None:
    principal = who(world, user["email"])
    role = user["role"]
    if role not in EXACT_ROLES | PROTECTED_ROLES:
        with pytest.raises(AccessDenied):
            coverage_view(world, principal=principal, meeting=meeting)
        assert user["email"] in refusals(world, "coverage.read")
        return
    view = coverage_view(world, principal=principal, meeting=meeting)
    assert view.exact == (role in EXACT_ROLES and not meeting)
    truth = exact_counts()
    for row in view.coverage.schools.iter_rows(named=True):
        exact = truth[(row["school_id"], row["need"])]
        for name, value in exact.items():
            if view.exact:
                assert row[name] == value and row[f"{name}_display"] == str(value)
            elif row[name] is None:  # hidden: never its number, anywhere in the row
                assert row[f"{name}_display"] in ("*", f"<{MIN_CELL}")
            else:
                assert row[name] == value >= MIN_CELL
    pairs = view.duplication
    if role == "org_staff":
        own = user["org_id"]
        assert all(own in (a, b) for a, b in pairs.select("org_a", "org_b").iter_rows())
        assert pairs.height == sum(1 for p in PAIRS if own in (p[2], p[3]))
    else:
        assert pairs.height == len(PAIRS)
    if not view.exact:
        assert pairs.filter(pl.col("students_display") == f"<{MIN_CELL}")[
            "students"
        ].null_count() == (pairs.filter(pl.col("students_display") == f"<{MIN_CELL}").height)
        assert all(v is None or v >= MIN_CELL for v in pairs["students"].to_list())
        assert all(
            v is None or v >= MIN_CELL
            for c in ("students", "no_service", "one_service", "two_or_more")
            for v in view.tiers.schools[c].to_list()
        )


def test_the_small_school_is_less_than_ten_for_a_work_group_and_eight_for_a_leader(
    world: Engine,
) -> None:
    viewer = coverage_view(world, principal=who(world, "viewer@city.org"))
    leader = coverage_view(world, principal=who(world, "leader@d.org"))
    small = {"school_id": "HS2", "need": "chronic_absence"}
    assert viewer.coverage.schools.filter(**small)["flagged_display"].to_list() == ["<10"]
    assert leader.coverage.schools.filter(**small)["flagged_display"].to_list() == ["8"]
    assert leader.as_of == TODAY and leader.school_year == YEAR
    assert leader.school_names["HS1"] == "First High" and leader.org_names["ORGA"] == "Mentors A"


@pytest.mark.parametrize("user", SIGNED_IN, ids=lambda u: u["email"])
def test_the_export_has_the_contracts_rows_for_every_user_with_coverage_rights(
    world: Engine, user: dict[str, Any]
) -> None:
    principal = who(world, user["email"])
    if user["role"] not in EXACT_ROLES | PROTECTED_ROLES:
        with pytest.raises(AccessDenied):
            coverage_export(world, principal=principal)
        assert user["email"] in refusals(world, "coverage.export")
        return
    rows = coverage_export(world, principal=principal)
    assert tuple(rows.columns) == EXPORT_COLUMNS
    assert rows.select("school_id", "need").rows() == sorted(
        ((s, n) for s, n, *_ in NEED), key=lambda k: (k[0], FLAGS.index(k[1]))
    )
    with world.connect() as connection:
        exports = connection.execute(
            select(AUDIT_EVENT.c.user_email).where(AUDIT_EVENT.c.action == "coverage.export")
        ).scalars()
        assert user["email"] in list(exports)


def test_open_slots_sum_partners_addressing_the_need_at_the_school_and_anywhere(
    world: Engine,
) -> None:
    rows = coverage_export(world, principal=who(world, "leader@d.org"))
    slots = {(r["school_id"], r["need"]): r["open_slots"] for r in rows.iter_rows(named=True)}
    # ORGA mentors at HS1: 40 slots - 30 served = 10; mentoring addresses absence and
    # course failure. ORGC's college access at any school addresses neither of them.
    assert slots[("HS1", "chronic_absence")] == "10"
    assert slots[("HS1", "course_failure")] == "10"
    assert slots[("HS2", "chronic_absence")] == "0"


def test_a_partner_counts_its_own_released_students_and_others_give_a_range(
    world: Engine,
) -> None:
    mine = coverage_export(world, principal=who(world, "a@orga.org"))
    slots = {(r["school_id"], r["need"]): r["open_slots"] for r in mine.iter_rows(named=True)}
    assert slots[("HS1", "chronic_absence")] == "15"  # 40 - its 25 released students
    with world.begin() as connection:
        connection.execute(
            insert(table_of(CoverageServedNow)),
            [{"org_id": "ORGB", "school_id": "HS2", "service_type": "mentoring", "students": 3,
              "students_with_release": 3}],
        )  # fmt: skip
        connection.execute(
            insert(table_of(Capacity)),
            [{"org_id": "ORGB", "school_id": "HS2", "service_type": "mentoring",
              "school_year": YEAR, "slots": 20, "accepting_referrals": True}],
        )  # fmt: skip
    for email in ("a@orga.org", "viewer@city.org"):
        rows = coverage_export(world, principal=who(world, email))
        hs2 = rows.filter(school_id="HS2", need="chronic_absence")["open_slots"].to_list()
        assert hs2 == ["*"]  # ORGB's 17 open would tell its 3 students
    leader = coverage_export(world, principal=who(world, "leader@d.org"))
    assert leader.filter(school_id="HS2", need="chronic_absence")["open_slots"].to_list() == ["17"]


def test_another_partners_open_slots_are_a_star_for_protected_viewers_however_many_it_serves(
    world: Engine,
) -> None:
    """ORGA serves 30 at HS1 (over min_cell): "10 open of 40" would still bound HS1's
    served_addressing on the coverage page (docs/access-rules.md, "Need and coverage",
    rule 6), so only exact viewers and ORGA's own staff read a number."""
    for email, expected in (
        ("leader@d.org", "10"),
        ("viewer@city.org", "*"),
        ("counselor@d.org", "*"),
        ("c@orgc.org", "*"),
        ("a@orga.org", "15"),
    ):
        rows = coverage_export(world, principal=who(world, email))
        hs1 = rows.filter(school_id="HS1", need="chronic_absence")["open_slots"].to_list()
        assert hs1 == [expected], email


def test_an_other_date_is_computed_from_the_raw_tables(world: Engine) -> None:
    rows = coverage_export(world, principal=who(world, "leader@d.org"), as_of=date(2026, 11, 21))
    absence = rows.filter(school_id="HS1", need="chronic_absence").row(0, named=True)
    # The small world's HS1: Ana and Caro chronically absent, Ana mentored.
    assert (absence["flagged"], absence["served_addressing"], absence["unserved"]) == (
        "2",
        "1",
        "1",
    )
