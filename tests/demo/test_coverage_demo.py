"""The default demo district holds what issue 14's views need (docs/demo-district.md,
"Capacity, duplication and referrals"): capacity rows of several kinds, services that
duplicate, and referrals in every state of the loop. Every figure is computed here from
the generated district; the tests assert structure and presence, never a hard-coded count.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import polars as pl

from demo_district import calendar as cal
from demo_district.capacity import served_now
from demo_district.generate import DEFAULT_SEED, DEFAULT_STUDENTS, DemoSpec, district_frames
from indicators.capacity import ANY_SCHOOL, served_against_capacity

TODAY = date(2026, 12, 1)
DEFAULT = DemoSpec(students=DEFAULT_STUDENTS, seed=DEFAULT_SEED, today=TODAY)


@cache
def _tables() -> dict[str, pl.DataFrame]:
    return district_frames(DEFAULT)


def _school_of_record() -> pl.DataFrame:
    """Current students' school: the enrollment of the current year with the latest entry."""
    year = cal.current_school_year(TODAY)
    return (
        _tables()["enrollments"]
        .filter(pl.col("school_year") == year)
        .sort("entry_date")
        .group_by("student_id")
        .agg(pl.col("school_id").last())
    )


def _capacity_served() -> pl.DataFrame:
    capacity = _tables()["capacity"]
    served = served_now(_tables()["services"], _school_of_record(), TODAY)
    return served_against_capacity(capacity.drop("school_year"), served)


def test_capacity_has_school_and_any_school_rows_for_several_partners_this_year() -> None:
    capacity = _tables()["capacity"]
    assert capacity["school_year"].unique().to_list() == [cal.current_school_year(TODAY)]
    assert capacity["org_id"].n_unique() >= 4
    assert (capacity["school_id"] == ANY_SCHOOL).any()
    assert (capacity["school_id"] != ANY_SCHOOL).any()
    assert capacity.filter(~pl.col("accepting_referrals")).height >= 1
    assert capacity.filter(pl.col("accepting_referrals")).height >= 1


def test_one_partner_is_over_full_and_family_resource_center_has_open_slots_at_riverside() -> None:
    rows = _capacity_served()
    assert rows.filter(pl.col("served") > pl.col("slots")).height >= 1
    frc = rows.filter(
        (pl.col("org_id") == "ORG04")
        & (pl.col("school_id") == "HS02")
        & (pl.col("service_type") == "family_support")
    )
    assert frc.height == 1 and frc["slots"][0] > frc["served"][0]
    assert rows.filter(pl.col("slots") > pl.col("served")).height >= 3


def test_services_duplicate_two_organisations_of_one_type_at_two_or_more_schools() -> None:
    services = _tables()["services"].join(_school_of_record(), on="student_id")
    open_end = pl.lit(date(9999, 12, 31))
    pairs = (
        services.join(services, on=["student_id", "service_type"], suffix="_b")
        .filter(pl.col("org_id") < pl.col("org_id_b"))
        .filter(
            (pl.col("start_date") <= pl.col("end_date_b").fill_null(open_end))
            & (pl.col("start_date_b") <= pl.col("end_date").fill_null(open_end))
        )
    )
    assert pairs.select("org_id", "org_id_b", "service_type").unique().height >= 2
    assert pairs["school_id"].n_unique() >= 2


def _referrals_with_state() -> pl.DataFrame:
    referrals = _tables()["_referrals"]
    consents = _tables()["consents"]
    active = consents.filter(
        (pl.col("signed_date") <= TODAY)
        & (pl.col("expires_date").is_null() | (pl.col("expires_date") >= TODAY))
        & (pl.col("revoked_date").is_null() | (pl.col("revoked_date") > TODAY))
    ).select("student_id", "org_id", pl.lit(True).alias("released"))
    services = (
        _tables()["services"]
        .group_by("student_id", "org_id")
        .agg(pl.col("start_date").min().alias("first_start"))
    )
    return (
        referrals.join(active.unique(), on=["student_id", "org_id"], how="left")
        .join(services, on=["student_id", "org_id"], how="left")
        .with_columns(
            pl.col("released").fill_null(False),
            days_to_service=(
                pl.col("first_start") - pl.col("created_at").dt.date()
            ).dt.total_days(),
        )
    )


def test_referrals_come_in_every_state_of_the_loop() -> None:
    referrals = _referrals_with_state()
    open_ = referrals.filter(pl.col("status") == "open")
    assert open_.filter(~pl.col("released")).height >= 1, "open, waiting for a release"
    assert open_.filter(pl.col("released")).height >= 1, "open with a release"
    assert (referrals["status"] == "declined").any()
    accepted = referrals.filter(pl.col("status") == "accepted")
    started = accepted.filter(pl.col("days_to_service") >= 0)
    assert started.filter(pl.col("days_to_service") <= 30).height >= 1, "service within 30 days"
    assert started.filter(pl.col("days_to_service") > 30).height >= 1, "service after 30 days"


def test_every_referral_was_made_before_today_for_a_current_student() -> None:
    referrals = _tables()["_referrals"]
    assert (referrals["created_at"].dt.date() <= TODAY).all()
    assert (referrals["updated_at"] >= referrals["created_at"]).all()
    assert referrals.join(_school_of_record(), on="student_id", how="anti").height == 0
    assert (referrals["created_at"].dt.date() >= TODAY - timedelta(days=3 * 366)).all()


def _documented_capacity() -> set[tuple[str, str, str, bool]]:
    """The capacity rows of docs/demo-district.md's table (org id, school, type, referrals)."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "demo-district.md").read_text("utf-8")
    rows = set()
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].endswith(")") and "(ORG" in cells[0]:
            org = cells[0].rsplit("(", 1)[1].rstrip(")")
            school = ANY_SCHOOL if cells[1] == "any school" else cells[1]
            rows.add((org, school, cells[2], cells[3] == "yes"))
    return rows


def test_the_capacity_rows_are_those_docs_demo_district_lists() -> None:
    """Every documented row is generated as documented, but the over-full one, whose
    slots (not its key) the build sets from the busiest partner, school and type."""
    capacity = _tables()["capacity"]
    generated = {
        (r["org_id"], r["school_id"], r["service_type"], r["accepting_referrals"])
        for r in capacity.iter_rows(named=True)
    }
    documented = _documented_capacity()
    assert len(documented) >= 8
    over_full = _capacity_served().filter(pl.col("served") > pl.col("slots"))
    over_keys = {
        (r["org_id"], r["school_id"], r["service_type"], True)
        for r in over_full.iter_rows(named=True)
    }
    assert generated - over_keys <= documented
    assert documented - generated == set()
