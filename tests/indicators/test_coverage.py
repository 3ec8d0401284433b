"""Need and coverage by school, duplication and tier against support (issue 14 part 1)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from domain.vocabulary import FLAGS
from indicators.coverage import (
    COVERAGE_COLUMNS,
    SERVED_NOW_COLUMNS,
    duplication,
    need_coverage,
    served_now,
    tier_support,
)
from indicators.settings import load_settings

AS_OF = date(2026, 3, 2)
SETTINGS = load_settings()


def kid(sid: str, school: str = "HS1", tier: int = 2, *flags: str) -> dict[str, Any]:
    return {"student_id": sid, "school_id": school, "tier": tier} | {
        flag: flag in flags for flag in FLAGS
    }


def indicators(*rows: dict[str, Any]) -> pl.DataFrame:
    schema = {"student_id": pl.String, "school_id": pl.String, "tier": pl.Int64}
    return pl.DataFrame(list(rows), schema=schema | dict.fromkeys(FLAGS, pl.Boolean))


def service(
    sid: str, org: str, kind: str, start: date = date(2025, 9, 1), end: date | None = None
) -> dict[str, Any]:
    return {
        "student_id": sid,
        "org_id": org,
        "service_type": kind,
        "start_date": start,
        "end_date": end,
    }


def services(*rows: dict[str, Any]) -> pl.DataFrame:
    schema = {
        "student_id": pl.String,
        "org_id": pl.String,
        "service_type": pl.String,
        "start_date": pl.Date,
        "end_date": pl.Date,
    }
    return pl.DataFrame(list(rows), schema=schema)


def release(
    sid: str,
    org: str,
    signed: date = date(2025, 8, 1),
    expires: date | None = None,
    revoked: date | None = None,
) -> dict[str, Any]:
    return {
        "student_id": sid,
        "org_id": org,
        "signed_date": signed,
        "expires_date": expires,
        "revoked_date": revoked,
    }


def consents(*rows: dict[str, Any]) -> pl.DataFrame:
    schema = {
        "student_id": pl.String,
        "org_id": pl.String,
        "signed_date": pl.Date,
        "expires_date": pl.Date,
        "revoked_date": pl.Date,
    }
    return pl.DataFrame(list(rows), schema=schema)


def row(table: pl.DataFrame, school: str, need: str) -> dict[str, Any]:
    found = table.filter((pl.col("school_id") == school) & (pl.col("need") == need))
    assert found.height == 1
    return found.row(0, named=True)


def test_flagged_students_split_into_addressing_other_and_unserved() -> None:
    world = indicators(
        kid("a", "HS1", 2, "chronic_absence"),  # attendance: addresses absence
        kid("b", "HS1", 2, "chronic_absence"),  # academic only: something else
        kid("c", "HS1", 2, "chronic_absence"),  # nothing
        kid("d", "HS1", 1),  # not flagged, served
    )
    served = services(
        service("a", "ORG1", "attendance"),
        service("b", "ORG1", "academic"),
        service("d", "ORG1", "attendance"),
    )
    result = need_coverage(world, served, consents(), AS_OF, SETTINGS)
    absence = row(result, "HS1", "chronic_absence")
    assert (
        absence["flagged"],
        absence["served_addressing"],
        absence["served_other"],
        absence["unserved"],
    ) == (3, 1, 1, 1)
    failing = row(result, "HS1", "course_failure")
    assert failing["flagged"] == 0 and failing["served_addressing"] == 0


def test_the_same_service_addresses_one_need_and_not_another() -> None:
    world = indicators(kid("a", "HS1", 3, "course_failure", "fafsa_not_completed"))
    result = need_coverage(
        world, services(service("a", "ORG1", "academic")), consents(), AS_OF, SETTINGS
    )
    assert row(result, "HS1", "course_failure")["served_addressing"] == 1
    fafsa = row(result, "HS1", "fafsa_not_completed")
    assert (fafsa["served_addressing"], fafsa["served_other"]) == (0, 1)


def test_only_a_release_active_on_the_date_and_naming_the_serving_partner_counts() -> None:
    world = indicators(*(kid(s, "HS1", 2, "chronic_absence") for s in "abcdef"))
    served = services(*(service(s, "ORG1", "mentoring") for s in "abcdef"))
    released = consents(
        release("a", "ORG1"),  # active
        release("b", "ORG2"),  # names another partner
        release("c", "ORG1", expires=date(2026, 3, 1)),  # expired the day before
        release("d", "ORG1", revoked=AS_OF),  # revoked that day
        release("e", "ORG1", signed=date(2026, 3, 3)),  # not signed yet
        release("f", "ORG1", expires=AS_OF),  # expires that day: still active
    )
    absence = row(need_coverage(world, served, released, AS_OF, SETTINGS), "HS1", "chronic_absence")
    assert absence["served_addressing"] == 6
    assert absence["served_addressing_with_release"] == 2


def test_ended_and_future_services_are_not_counted() -> None:
    world = indicators(*(kid(s, "HS1", 2, "chronic_absence") for s in "abc"))
    served = services(
        service("a", "ORG1", "attendance", end=date(2026, 3, 1)),  # ended the day before
        service("b", "ORG1", "attendance", start=date(2026, 3, 3)),  # not started
        service("c", "ORG1", "attendance", end=AS_OF),  # ends that day: active
    )
    absence = row(
        need_coverage(world, served, consents(), AS_OF, SETTINGS), "HS1", "chronic_absence"
    )
    assert (absence["served_addressing"], absence["unserved"]) == (1, 2)


def test_groups_add_up_to_the_flagged_students_for_every_school_and_need() -> None:
    world = indicators(
        kid("a", "HS1", 3, "chronic_absence", "course_failure"),
        kid("b", "HS2", 2, "below_proficient"),
        kid("c", "HS2", 3, "fafsa_not_completed", "chronic_absence"),
        kid("d", "HS1", 1),
    )
    served = services(
        service("a", "ORG1", "academic"),
        service("c", "ORG2", "college_access"),
        service("c", "ORG3", "college_access"),
    )
    result = need_coverage(world, served, consents(), AS_OF, SETTINGS)
    assert tuple(result.columns) == COVERAGE_COLUMNS
    assert result.height == 2 * len(FLAGS)
    assert result["school_id"].to_list() == ["HS1"] * 4 + ["HS2"] * 4
    total = result["served_addressing"] + result["served_other"] + result["unserved"]
    assert total.to_list() == result["flagged"].to_list()
    assert result["flagged"].sum() == 5  # a: 2 flags, b: 1, c: 2


def test_duplicated_counts_two_partners_with_the_same_addressing_type() -> None:
    world = indicators(
        kid("a", "HS1", 2, "fafsa_not_completed"), kid("b", "HS1", 2, "fafsa_not_completed")
    )
    served = services(
        service("a", "ORG1", "college_access"),
        service("a", "ORG2", "college_access"),
        service("b", "ORG1", "college_access"),
        service("b", "ORG2", "mentoring"),
    )
    fafsa = row(
        need_coverage(world, served, consents(), AS_OF, SETTINGS), "HS1", "fafsa_not_completed"
    )
    assert fafsa["duplicated"] == 1


def test_duplication_needs_the_same_type_in_overlapping_periods() -> None:
    world = indicators(kid("a", "HS1"), kid("b", "HS1"), kid("c", "HS2"), kid("d", "HS2"))
    served = services(
        # a: overlapping tutoring by two partners, listed in either order
        service("a", "YTN", "academic", date(2025, 9, 1), date(2025, 12, 1)),
        service("a", "BGC", "academic", date(2025, 12, 1)),
        # b: one ends the day before the other starts: no overlap
        service("b", "YTN", "academic", date(2025, 9, 1), date(2025, 11, 30)),
        service("b", "BGC", "academic", date(2025, 12, 1)),
        # c: two partners, different service types
        service("c", "YTN", "academic"),
        service("c", "BGC", "mentoring"),
        # d: the second starts after the as-of date: not known yet
        service("d", "YTN", "academic"),
        service("d", "BGC", "academic", date(2026, 4, 1)),
    )
    result = duplication(served, world, AS_OF)
    assert result.to_dicts() == [
        {
            "school_id": "HS1",
            "service_type": "academic",
            "org_a": "BGC",
            "org_b": "YTN",
            "students": 1,
        }
    ]


def test_tier_support_counts_students_with_none_one_or_more_services() -> None:
    world = indicators(kid("a", tier=3), kid("b", tier=3), kid("c", tier=3), kid("d", tier=1))
    served = services(
        service("b", "ORG1", "academic"),
        service("c", "ORG1", "academic"),
        service("c", "ORG2", "mentoring"),
        service("d", "ORG1", "academic", end=date(2026, 1, 1)),  # ended: no support now
    )
    result = tier_support(world, served, AS_OF)
    assert result.to_dicts() == [
        {"tier": 1, "students": 1, "no_service": 1, "one_service": 0, "two_or_more": 0},
        {"tier": 3, "students": 3, "no_service": 1, "one_service": 1, "two_or_more": 1},
    ]


def test_tier_support_by_school_splits_each_tier_by_the_students_school() -> None:
    world = indicators(kid("a", "HS1", 3), kid("b", "HS2", 3), kid("c", "HS2", 3))
    served = services(service("b", "ORG1", "academic"))
    result = tier_support(world, served, AS_OF, by_school=True)
    assert result.to_dicts() == [
        {"school_id": "HS1", "tier": 3, "students": 1, "no_service": 1, "one_service": 0,
         "two_or_more": 0},
        {"school_id": "HS2", "tier": 3, "students": 2, "no_service": 1, "one_service": 1,
         "two_or_more": 0},
    ]  # fmt: skip


def test_served_now_counts_students_per_partner_school_of_record_and_type() -> None:
    world = indicators(kid("a", "HS1"), kid("b", "HS1"), kid("c", "HS2"))
    served = services(
        service("a", "ORG1", "academic"),
        service("a", "ORG1", "academic", date(2025, 10, 1)),  # the same student twice: once
        service("b", "ORG1", "academic"),
        service("c", "ORG1", "academic"),
        service("c", "ORG2", "mentoring", end=date(2026, 1, 1)),  # ended: not served now
        service("z", "ORG1", "academic"),  # not enrolled this year: holds no slot
    )
    released = consents(release("a", "ORG1"), release("b", "ORG2"), release("c", "ORG1"))
    result = served_now(world, served, released, AS_OF)
    assert tuple(result.columns) == SERVED_NOW_COLUMNS
    assert result.to_dicts() == [
        {"org_id": "ORG1", "school_id": "HS1", "service_type": "academic", "students": 2,
         "students_with_release": 1},
        {"org_id": "ORG1", "school_id": "HS2", "service_type": "academic", "students": 1,
         "students_with_release": 1},
    ]  # fmt: skip
