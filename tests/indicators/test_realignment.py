"""Realignment (indicators/realignment.py): unmet need at one school against open partner
capacity at another, worked by hand on a tiny district of two schools.

HS05 has 140 chronically absent students no attendance-type service reaches (120 nobody
serves, 20 served only for something else); HS02 has 3. Family Resource Center (FRC) has
25 open family-support slots at HS02; Clinic has capacity at HS05 but takes no referrals.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from indicators.capacity import ANY_SCHOOL, open_slots
from indicators.realignment import REALIGNMENT_COLUMNS, realignment

ADDRESSING = {
    "chronic_absence": ("attendance", "mentoring", "family_support", "behavioral_health"),
    "course_failure": ("academic", "mentoring"),
}
NAMES = {"HS02": "HS02", "HS05": "HS05"}
NAMES_OF_ORGS = {"FRC": "Family Resource Center", "CLN": "Clinic", "YTN": "Youth Tutoring"}


def _need(*rows: tuple[str, str, int, int]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["school_id", "need", "unserved", "served_other"], orient="row"
    )


def _capacity(*rows: tuple[str, str, str, int, bool]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "org_id": pl.String,
            "school_id": pl.String,
            "service_type": pl.String,
            "slots": pl.Int64,
            "accepting_referrals": pl.Boolean,
        },
        orient="row",
    )


def _served(*rows: tuple[str, str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "org_id": pl.String,
            "school_id": pl.String,
            "service_type": pl.String,
            "students": pl.Int64,
        },
        orient="row",
    )


def _open(capacity: pl.DataFrame, served: pl.DataFrame, *, exact: bool) -> pl.DataFrame:
    rows = open_slots(capacity, served, exact=exact, min_cell=10)
    return rows.with_columns(org_name=pl.col("org_id").replace(NAMES_OF_ORGS))


NEED = _need(
    ("HS05", "chronic_absence", 120, 20),
    ("HS02", "chronic_absence", 3, 0),
    ("HS05", "course_failure", 0, 0),
)
CAPACITY = _capacity(
    ("FRC", "HS02", "family_support", 40, True),
    ("CLN", "HS05", "behavioral_health", 30, False),
)
SERVED = _served(("FRC", "HS02", "family_support", 15))


def test_need_at_one_school_is_paired_with_open_slots_at_another_in_words() -> None:
    result = realignment(
        NEED, _open(CAPACITY, SERVED, exact=True), ADDRESSING, NAMES, exact=True, min_cell=10
    )
    assert result.columns == list(REALIGNMENT_COLUMNS)
    assert result.select("school_id", "need", "unmet", "org_id", "open_display").rows() == [
        ("HS05", "chronic_absence", 140, "FRC", "25")
    ]
    assert result["sentence"][0] == (
        "Family Resource Center has 25 open family-support slots at HS02; HS05 has 140 "
        "chronically absent students with no attendance, mentoring, family support or "
        "behavioral health support and no partner with open slots there."
    )


def test_a_partner_not_accepting_referrals_is_no_open_capacity() -> None:
    """The clinic's 30 slots at HS05 would cover HS05 if it took referrals."""
    accepting = CAPACITY.with_columns(accepting_referrals=pl.lit(True))
    result = realignment(
        NEED, _open(accepting, SERVED, exact=True), ADDRESSING, NAMES, exact=True, min_cell=10
    )
    (row,) = result.to_dicts()
    assert row["open_here_display"] == "30"
    assert row["sentence"].endswith("and only 30 open slots there.")


def test_any_school_capacity_counts_as_open_slots_at_every_school() -> None:
    capacity = pl.concat([CAPACITY, _capacity(("YTN", ANY_SCHOOL, "mentoring", 200, True))])
    result = realignment(
        NEED, _open(capacity, SERVED, exact=True), ADDRESSING, NAMES, exact=True, min_cell=10
    )
    assert result.height == 0  # 200 open mentoring slots anywhere cover HS05's 140


def test_capacity_of_a_type_not_addressing_the_need_does_not_count() -> None:
    capacity = _capacity(("YTN", "HS02", "academic", 50, True))
    result = realignment(
        NEED, _open(capacity, _served(), exact=True), ADDRESSING, NAMES, exact=True, min_cell=10
    )
    assert result.height == 0  # tutoring does not address chronic absence; no failing need


def test_rows_are_sorted_by_unmet_need() -> None:
    need = _need(("HS02", "chronic_absence", 30, 0), ("HS05", "chronic_absence", 90, 5))
    capacity = _capacity(
        ("FRC", "HS02", "family_support", 40, True), ("CLN", "HS05", "attendance", 50, True)
    )
    result = realignment(
        need, _open(capacity, _served(), exact=True), ADDRESSING, NAMES, exact=True, min_cell=10
    )
    assert result.select("school_id", "unmet", "partner_school_id").rows() == [
        ("HS05", 95, "HS02"),
    ]  # HS02's 30 fit in HS02's own 40 open slots: not uncovered


def test_a_protected_viewer_sees_a_small_unmet_need_as_under_ten_and_a_range_of_slots() -> None:
    need = _need(("HS05", "chronic_absence", 4, 1), ("HS02", "chronic_absence", 0, 0))
    served = _served(("FRC", "HS02", "family_support", 6))
    result = realignment(
        need, _open(CAPACITY, served, exact=False), ADDRESSING, NAMES, exact=False, min_cell=10
    )
    (row,) = result.to_dicts()
    assert (row["unmet"], row["unmet_display"], row["open_display"]) == (None, "<10", "31 to 40")
    assert "HS05 has <10 chronically absent students" in row["sentence"]
    assert " 5 " not in row["sentence"] and " 34 " not in row["sentence"]


@given(
    unserved=st.integers(0, 40),
    served_other=st.integers(0, 40),
    slots=st.integers(0, 60),
    taken=st.integers(0, 60),
)
def test_a_protected_viewers_realignment_depends_only_on_what_is_shown(
    unserved: int, served_other: int, slots: int, taken: int
) -> None:
    """Two districts whose hidden figures differ but whose shown figures agree give a
    protected viewer the same rows and sentences (docs/access-rules.md rule 1: a count under
    min_cell is never learnt, not even from which rows appear)."""
    need = _need(("HS05", "chronic_absence", unserved, served_other))
    capacity = _capacity(("FRC", "HS02", "family_support", slots, True))
    result = realignment(
        need,
        _open(capacity, _served(("FRC", "HS02", "family_support", taken)), exact=False),
        ADDRESSING,
        NAMES,
        exact=False,
        min_cell=10,
    )
    unmet = unserved + served_other
    if unmet >= 10 and taken >= 10:
        return  # everything shown exactly: nothing to hide
    # Change only the hidden figures (each under min_cell stays under it).
    other_unmet = (9 - unserved - served_other) if unmet < 10 else unmet
    other_taken = (9 - taken) if taken < 10 else taken
    twin = realignment(
        _need(("HS05", "chronic_absence", other_unmet, 0)),
        _open(capacity, _served(("FRC", "HS02", "family_support", other_taken)), exact=False),
        ADDRESSING,
        NAMES,
        exact=False,
        min_cell=10,
    )
    assert result.rows() == twin.rows()
    if unmet < 10:
        assert result["unmet"].null_count() == result.height
