"""Open slots: what a partner's capacity leaves after the students it serves now."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.capacity import ANY_SCHOOL, open_slots
from tests.indicators.test_coverage_protection import World, assert_nothing_pinned, worlds

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


def test_a_protected_viewer_sees_the_slots_offered_and_no_served_count() -> None:
    """Even 12 students served (over min_cell) stay hidden: "28 open of 40" would say
    12 are served, a bound on the coverage page's protected counts at HS01."""
    capacity = _capacity(("FRC", "HS02", "family_support", 25), ("YTN", "HS01", "academic", 40))
    served = _served(("FRC", "HS02", "family_support", 3), ("YTN", "HS01", "academic", 12))
    shown = open_slots(capacity, served, exact=False, min_cell=10)
    assert _by_row(shown, "served") == {("FRC", "HS02"): None, ("YTN", "HS01"): None}
    assert _by_row(shown, "open_display") == {
        ("FRC", "HS02"): "up to 25",
        ("YTN", "HS01"): "up to 40",
    }
    assert _by_row(shown, "open_low") == {("FRC", "HS02"): 0, ("YTN", "HS01"): 0}
    assert _by_row(shown, "open_high") == {("FRC", "HS02"): 25, ("YTN", "HS01"): 40}


def test_a_protected_viewer_cannot_tell_nobody_served_from_many() -> None:
    capacity = _capacity(("FRC", "HS02", "family_support", 25))
    nobody = open_slots(capacity, _served(), exact=False, min_cell=10)
    many = open_slots(
        capacity, _served(("FRC", "HS02", "family_support", 40)), exact=False, min_cell=10
    )
    assert nobody.equals(many)


ORGS = ("FRC", "YTN")
SCHOOLS = ("HS01", "HS02", ANY_SCHOOL)
TYPES = ("family_support", "academic")


@st.composite
def capacity_and_two_served(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Capacity rows, and two arbitrary tables of students served now over the same keys."""
    keys = [(o, s, t) for o in ORGS for s in SCHOOLS for t in TYPES]
    chosen = draw(st.lists(st.sampled_from(keys), unique=True))
    capacity = _capacity(*((*key, draw(st.integers(0, 60))) for key in chosen))
    served_keys = [(o, s, t) for o in ORGS for s in SCHOOLS[:2] for t in TYPES]

    def served() -> pl.DataFrame:
        picked = draw(st.lists(st.sampled_from(served_keys), unique=True))
        return _served(*((*key, draw(st.integers(0, 80))) for key in picked))

    return capacity, served(), served()


@settings(max_examples=200, deadline=None)
@given(capacity_and_two_served(), st.integers(2, 12))
def test_a_protected_viewers_open_slots_are_the_same_whatever_the_served_counts(
    drawn: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], min_cell: int
) -> None:
    """docs/access-rules.md, "Need and coverage", rule 6: nothing a protected viewer gets
    from `open_slots` depends on how many students a partner serves."""
    capacity, one, other = drawn
    first = open_slots(capacity, one, exact=False, min_cell=min_cell)
    assert first.equals(open_slots(capacity, other, exact=False, min_cell=min_cell))
    assert first["served"].null_count() == first.height
    assert (first["open_high"] == first["slots"]).all() and (first["open_low"] == 0).all()


# ---------------------------------------------------------------------------------------
# The attacker of tests/indicators/test_coverage_protection.py reads the protected open
# slots beside the coverage page. The worst case: one partner (FRC) is the only one to
# serve the need at each school, so the students it serves there ARE served_addressing.
# ---------------------------------------------------------------------------------------


def open_slot_constraint(shown: pl.DataFrame, school: str, candidates: np.ndarray) -> np.ndarray:
    """The candidates (flagged, served, served_addressing) of `school` that agree with
    every figure of its open-slots row: a shown `served`, and open slots (slots -
    served_addressing, never below 0) within open_low..open_high, as `open_display` says
    them."""
    (row,) = shown.filter(pl.col("school_id") == school).iter_rows(named=True)
    served = candidates[:, 2]
    open_now = np.maximum(row["slots"] - served, 0)
    keep = (open_now >= row["open_low"]) & (open_now <= row["open_high"])
    if row["served"] is not None:
        keep &= served == row["served"]
    if row["open_display"].isdigit():
        keep &= open_now == int(row["open_display"])
    return keep


@settings(max_examples=150, deadline=None)
@given(worlds, st.integers(2, 3), st.tuples(st.integers(0, 12), st.integers(0, 12)))
def test_open_slots_beside_the_coverage_page_pin_no_hidden_coverage_count(
    world: World, min_cell: int, slots: tuple[int, int]
) -> None:
    """The issue 14 leak: coverage shows HS1 `<10` and HS2 `*`; "20 open of 60 at HS2"
    would say FRC serves 40 there, a bound that pins both. With every protected
    open-slots figure (served, open_low, open_high, open_display) read as a constraint,
    no hidden count is pinned nor a small group lost between two counts of a funnel."""
    truth = [world.truth(i)[2] for i in range(2)]
    capacity = _capacity(
        ("FRC", "HS1", "family_support", slots[0]), ("FRC", "HS2", "family_support", slots[1])
    )
    served = _served(*(("FRC", f"HS{i + 1}", "family_support", truth[i]) for i in range(2)))
    shown = open_slots(capacity, served, exact=False, min_cell=min_cell)

    def also(school: int, candidates: np.ndarray) -> np.ndarray:
        return open_slot_constraint(shown, f"HS{school + 1}", candidates)

    assert_nothing_pinned(world, min_cell, also)
