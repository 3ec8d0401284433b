"""Open slots: what a partner's capacity leaves after the students it serves now."""

from __future__ import annotations

import polars as pl

from indicators.capacity import ANY_SCHOOL, open_slots

CAPACITY_SCHEMA = {
    "org_id": pl.String,
    "school_id": pl.String,
    "service_type": pl.String,
    "slots": pl.Int64,
    "accepting_referrals": pl.Boolean,
}
SERVED_SCHEMA = {
    "org_id": pl.String,
    "school_id": pl.String,
    "service_type": pl.String,
    "students": pl.Int64,
}


def _capacity(*rows: tuple[str, str, str, int]) -> pl.DataFrame:
    return pl.DataFrame([(*row, True) for row in rows], schema=CAPACITY_SCHEMA, orient="row")


def _served(*rows: tuple[str, str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SERVED_SCHEMA, orient="row")


def _by_row(frame: pl.DataFrame, column: str) -> dict[tuple[str, str], object]:
    return {(r["org_id"], r["school_id"]): r[column] for r in frame.iter_rows(named=True)}


def test_a_schools_capacity_subtracts_the_students_served_at_that_school() -> None:
    capacity = _capacity(("FRC", "HS02", "family_support", 40))
    served = _served(("FRC", "HS02", "family_support", 15), ("FRC", "HS05", "family_support", 12))
    shown = open_slots(capacity, served, exact=True, min_cell=10)
    assert _by_row(shown, "served") == {("FRC", "HS02"): 15}
    assert _by_row(shown, "open_display") == {("FRC", "HS02"): "25"}


def test_any_school_capacity_subtracts_only_schools_without_their_own_row() -> None:
    capacity = _capacity(
        ("FRC", "HS02", "family_support", 40), ("FRC", ANY_SCHOOL, "family_support", 30)
    )
    served = _served(
        ("FRC", "HS02", "family_support", 15),
        ("FRC", "HS05", "family_support", 12),
        ("FRC", "HS07", "family_support", 3),
        ("FRC", "HS07", "mentoring", 50),
    )
    shown = open_slots(capacity, served, exact=True, min_cell=10)
    assert _by_row(shown, "served") == {("FRC", "HS02"): 15, ("FRC", ANY_SCHOOL): 15}
    assert _by_row(shown, "open_low") == {("FRC", "HS02"): 25, ("FRC", ANY_SCHOOL): 15}


def test_an_over_full_partner_has_no_open_slot() -> None:
    shown = open_slots(
        _capacity(("YTN", "HS01", "academic", 20)),
        _served(("YTN", "HS01", "academic", 26)),
        exact=True,
        min_cell=10,
    )
    assert shown["open_low"].to_list() == [0]
    assert shown["open_display"].to_list() == ["0"]


def test_a_protected_viewer_gets_a_range_where_few_students_are_served() -> None:
    capacity = _capacity(("FRC", "HS02", "family_support", 25), ("YTN", "HS01", "academic", 40))
    served = _served(("FRC", "HS02", "family_support", 3), ("YTN", "HS01", "academic", 12))
    shown = open_slots(capacity, served, exact=False, min_cell=10)
    assert _by_row(shown, "served") == {("FRC", "HS02"): None, ("YTN", "HS01"): 12}
    assert _by_row(shown, "open_display") == {("FRC", "HS02"): "16 to 25", ("YTN", "HS01"): "28"}


def test_a_protected_viewer_cannot_tell_nobody_served_from_a_few() -> None:
    capacity = _capacity(("FRC", "HS02", "family_support", 25))
    nobody = open_slots(capacity, _served(), exact=False, min_cell=10)
    few = open_slots(
        capacity, _served(("FRC", "HS02", "family_support", 9)), exact=False, min_cell=10
    )
    assert nobody.equals(few)
