"""Realignment (indicators/realignment.py): unmet need at one school against open partner
capacity at another, worked by hand on a tiny district of two schools; then the unmet need
as protected viewers get it, from the coverage page's own protected figures, against an
attacker who reads both views together.

HS05 has 140 chronically absent students no attendance-type service reaches (120 nobody
serves, 20 served only for something else); HS02 has 3. Family Resource Center (FRC) has
25 open family-support slots at HS02; Clinic has capacity at HS05 but takes no referrals.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.capacity import ANY_SCHOOL, open_slots
from indicators.coverage_protection import exact_coverage, protect_coverage
from indicators.realignment import REALIGNMENT_COLUMNS, UNMET_COLUMNS, realignment, unmet_need
from tests.indicators.test_capacity import open_slot_constraint
from tests.indicators.test_coverage_protection import World, assert_nothing_pinned, worlds

ADDRESSING = {
    "chronic_absence": ("attendance", "mentoring", "family_support", "behavioral_health"),
    "course_failure": ("academic", "mentoring"),
}
NAMES = {"HS02": "HS02", "HS05": "HS05"}
NAMES_OF_ORGS = {"FRC": "Family Resource Center", "CLN": "Clinic", "YTN": "Youth Tutoring"}


def _need(*rows: tuple[str, str, int, int] | tuple[str, str, int, int, int]) -> pl.DataFrame:
    """Stored coverage rows from (school, need, unserved, served_other[, served_addressing])."""
    full = [(*r, 0)[:5] for r in rows]
    return pl.DataFrame(
        [
            {"school_id": school, "need": need, "flagged": unserved + other + addressing,
             "served_addressing": addressing, "served_addressing_with_release": addressing,
             "served_other": other, "unserved": unserved, "duplicated": 0}
            for school, need, unserved, other, addressing in full
        ],
        schema={"school_id": pl.String, "need": pl.String, "flagged": pl.Int64,
                "served_addressing": pl.Int64, "served_addressing_with_release": pl.Int64,
                "served_other": pl.Int64, "unserved": pl.Int64, "duplicated": pl.Int64},
    )  # fmt: skip


def _unmet(need: pl.DataFrame, *, exact: bool, min_cell: int = 10) -> pl.DataFrame:
    """The unmet need as the coverage page's viewer sees it (exact or protected)."""
    shown = exact_coverage(need) if exact else protect_coverage(need, min_cell)
    return unmet_need(shown.schools)


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
        _unmet(NEED, exact=True), _open(CAPACITY, SERVED, exact=True), ADDRESSING, NAMES, exact=True
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
        _unmet(NEED, exact=True),
        _open(accepting, SERVED, exact=True),
        ADDRESSING,
        NAMES,
        exact=True,
    )
    (row,) = result.to_dicts()
    assert row["open_here_display"] == "30"
    assert row["sentence"].endswith("and only 30 open slots there.")


def test_any_school_capacity_counts_as_open_slots_at_every_school() -> None:
    capacity = pl.concat([CAPACITY, _capacity(("YTN", ANY_SCHOOL, "mentoring", 200, True))])
    result = realignment(
        _unmet(NEED, exact=True), _open(capacity, SERVED, exact=True), ADDRESSING, NAMES, exact=True
    )
    assert result.height == 0  # 200 open mentoring slots anywhere cover HS05's 140


def test_capacity_of_a_type_not_addressing_the_need_does_not_count() -> None:
    capacity = _capacity(("YTN", "HS02", "academic", 50, True))
    result = realignment(
        _unmet(NEED, exact=True),
        _open(capacity, _served(), exact=True),
        ADDRESSING,
        NAMES,
        exact=True,
    )
    assert result.height == 0  # tutoring does not address chronic absence; no failing need


def test_rows_are_sorted_by_unmet_need() -> None:
    need = _need(("HS02", "chronic_absence", 30, 0), ("HS05", "chronic_absence", 90, 5))
    capacity = _capacity(
        ("FRC", "HS02", "family_support", 40, True), ("CLN", "HS05", "attendance", 50, True)
    )
    result = realignment(
        _unmet(need, exact=True),
        _open(capacity, _served(), exact=True),
        ADDRESSING,
        NAMES,
        exact=True,
    )
    assert result.select("school_id", "unmet", "partner_school_id").rows() == [
        ("HS05", 95, "HS02"),
    ]  # HS02's 30 fit in HS02's own 40 open slots: not uncovered


def test_a_protected_viewer_reads_the_slots_a_partner_offers_and_a_small_need_as_under_ten() -> (
    None
):
    need = _need(("HS05", "chronic_absence", 4, 1), ("HS02", "chronic_absence", 0, 0))
    served = _served(("FRC", "HS02", "family_support", 6))
    result = realignment(
        _unmet(need, exact=False),
        _open(CAPACITY, served, exact=False),
        ADDRESSING,
        NAMES,
        exact=False,
    )
    (row,) = result.to_dicts()
    assert (row["unmet"], row["unmet_display"], row["open_display"]) == (None, "<10", "up to 40")
    assert row["sentence"] == (
        "Family Resource Center offers up to 40 family-support slots at HS02; HS05 has <10 "
        "chronically absent students with no attendance, mentoring, family support or "
        "behavioral health support and no partner offering slots there."
    )
    assert " 5 " not in row["sentence"] and " 34 " not in row["sentence"]


def test_a_protected_viewer_reads_the_slots_offered_where_the_need_is() -> None:
    """HS05's 120 unmet are shown on the coverage page; the clinic takes referrals at HS05
    and offers 30 slots there: a protected viewer reads "up to 30" (how many of them are
    taken would tell how many students it serves)."""
    need = _need(("HS05", "chronic_absence", 100, 20, 20), ("HS02", "chronic_absence", 30, 15, 15))
    accepting = CAPACITY.with_columns(accepting_referrals=pl.lit(True))
    served = _served(
        ("FRC", "HS02", "family_support", 15), ("CLN", "HS05", "behavioral_health", 12)
    )
    rows = realignment(
        _unmet(need, exact=False), _open(accepting, served, exact=False), ADDRESSING, NAMES,
        exact=False,
    )  # fmt: skip
    (row,) = rows.filter(school_id="HS05").to_dicts()
    assert (row["unmet_display"], row["open_here_display"]) == ("120", "up to 30")
    assert row["sentence"] == (
        "Family Resource Center offers up to 40 family-support slots at HS02; HS05 has 120 "
        "chronically absent students with no attendance, mentoring, family support or "
        "behavioral health support and only up to 30 open slots there."
    )


def test_a_partner_offering_slots_elsewhere_is_paired_even_when_they_are_all_taken() -> None:
    """FRC serves 40 at HS02, all its slots: an exact viewer sees no open slot there (no
    row), a protected viewer only that it offers 40 (a row), whatever it serves."""
    full = _served(("FRC", "HS02", "family_support", 40))
    exact = realignment(
        _unmet(NEED, exact=True), _open(CAPACITY, full, exact=True), ADDRESSING, NAMES,
        exact=True,
    )  # fmt: skip
    assert exact.height == 0
    protected = [
        realignment(
            _unmet(NEED, exact=False),
            _open(CAPACITY, served, exact=False),
            ADDRESSING,
            NAMES,
            exact=False,
        ).rows()  # fmt: skip
        for served in (full, _served())
    ]
    assert protected[0] == protected[1] and len(protected[0]) == 1


@given(
    taken=st.tuples(st.integers(0, 60), st.integers(0, 60)),
    slots=st.integers(0, 60),
    unserved=st.integers(0, 40),
)
def test_a_protected_viewers_realignment_does_not_tell_a_served_count(
    taken: tuple[int, int], slots: int, unserved: int
) -> None:
    """Two districts whose partner serves different numbers of students, small or not,
    give a protected viewer the same rows and sentences (docs/access-rules.md, "Need and
    coverage", rule 6: open slots would tell how many students a partner serves)."""
    need = _unmet(_need(("HS05", "chronic_absence", unserved, 0), ("HS02", "chronic_absence",
                                                                   40, 0)), exact=False)  # fmt: skip
    capacity = _capacity(
        ("FRC", "HS02", "family_support", slots, True),
        ("CLN", "HS05", "attendance", slots // 2, True),
    )

    def shown(served: int) -> list[tuple[object, ...]]:
        rows = _open(
            capacity,
            _served(
                ("FRC", "HS02", "family_support", served), ("CLN", "HS05", "attendance", served)
            ),
            exact=False,
        )
        return realignment(need, rows, ADDRESSING, NAMES, exact=False).rows()

    assert shown(taken[0]) == shown(taken[1])


# ---------------------------------------------------------------------------------------
# The unmet need against the coverage page (issue 14 privacy fix): the realignment shows
# `flagged - served_addressing` only where the coverage page shows both exactly.
# ---------------------------------------------------------------------------------------


def test_unmet_need_is_flagged_less_served_addressing_where_the_page_shows_both() -> None:
    need = _need(("HS05", "chronic_absence", 120, 20, 30), ("HS02", "chronic_absence", 60, 10, 40))
    unmet = _unmet(need, exact=False)
    assert unmet.columns == list(UNMET_COLUMNS)
    shown = protect_coverage(need, 10).schools
    assert shown["served_addressing_display"].to_list() == ["40", "30"]  # both exact here
    assert unmet.sort("school_id").select("unmet", "unmet_display").rows() == [
        (70, "70"),
        (140, "140"),
    ]


def test_a_hidden_served_addressing_hides_the_unmet_need_beside_an_exact_flagged_count() -> None:
    """HS02's 40 students served for absence are `*` on the coverage page (HS05's 5 are
    `<10` and the district total is shown), while HS02's 120 flagged are shown. Showing
    its unmet need of 80 would give 120 - 80 = 40 away; it is `*`."""
    need = _need(("HS05", "chronic_absence", 100, 35, 5), ("HS02", "chronic_absence", 70, 10, 40))
    page = {r["school_id"]: r for r in protect_coverage(need, 10).schools.iter_rows(named=True)}
    assert page["HS02"]["flagged_display"] == "120"
    assert page["HS02"]["served_addressing_display"] == "*"
    unmet = {r["school_id"]: r for r in _unmet(need, exact=False).iter_rows(named=True)}
    assert (unmet["HS02"]["unmet"], unmet["HS02"]["unmet_display"]) == (None, "*")
    assert (unmet["HS05"]["unmet"], unmet["HS05"]["unmet_display"]) == (None, "*")
    # No open slot at HS05 or HS02 is recorded, so both (hidden) appear, from shown figures.
    capacity = _capacity(("CLN", "HS09", "attendance", 30, True))
    rows = realignment(
        _unmet(need, exact=False),
        _open(capacity, _served(), exact=False),
        ADDRESSING,
        NAMES,
        exact=False,
    )
    assert rows["unmet_display"].to_list() == ["*", "*"]
    assert all("a protected number (*) of chronically absent" in s for s in rows["sentence"])
    assert not any("80" in s or "130" in s for s in rows["sentence"])


def test_a_small_flagged_count_makes_the_unmet_need_under_ten() -> None:
    need = _need(("HS05", "chronic_absence", 4, 1, 2), ("HS02", "chronic_absence", 60, 10, 40))
    unmet = {r["school_id"]: r for r in _unmet(need, exact=False).iter_rows(named=True)}
    assert (unmet["HS05"]["unmet"], unmet["HS05"]["unmet_display"]) == (None, "<10")


def test_an_exact_viewer_reads_every_unmet_need() -> None:
    need = _need(("HS05", "chronic_absence", 4, 1, 2), ("HS02", "chronic_absence", 70, 10, 40))
    assert _unmet(need, exact=True).sort("school_id")["unmet_display"].to_list() == ["80", "5"]


#: Open slots the attacker sees beside the coverage page: none at HS1 (so a hidden unmet
#: need there appears) or some, and a partner with open slots at another school.
slot_choices = st.tuples(st.integers(0, 3), st.integers(0, 3))


def _attacked(
    world: World, min_cell: int, slots: tuple[int, int]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The realignment rows and the open slots a protected viewer reads."""
    frame = world.frame()
    capacity = _capacity(
        ("FRC", "HS1", "family_support", slots[0], True),
        ("FRC", "HS2", "family_support", slots[1], True),
        ("YTN", "HS9", "mentoring", 50, True),
    )
    # FRC is the only partner serving the need at HS1 and HS2: its students there are
    # served_addressing (the worst case: a served count bounds nothing more tightly).
    served = _served(
        *(("FRC", f"HS{i + 1}", "family_support", world.truth(i)[2]) for i in range(2))
    )
    rows = open_slots(capacity, served, exact=False, min_cell=min_cell).with_columns(
        org_name=pl.col("org_id")
    )
    return realignment(
        unmet_need(protect_coverage(frame, min_cell).schools),
        rows,
        ADDRESSING,
        {"HS1": "HS1", "HS2": "HS2", "HS9": "HS9"},
        exact=False,
    ), rows


@settings(max_examples=150, deadline=None)
@given(worlds, st.integers(2, 3), slot_choices)
def test_the_realignment_beside_the_coverage_page_pins_no_hidden_coverage_count(
    world: World, min_cell: int, slots: tuple[int, int]
) -> None:
    """The attacker of tests/indicators/test_coverage_protection.py, who enumerates every
    table consistent with the coverage page, also reads the realignment rows: a row's
    unmet need (`X`: flagged - served_addressing = X; `<m`: under m), that a row with an
    exact unmet need appears only above the open slots there, and that no row at a school
    with no open slot there means an unmet need of 0 (the rules of
    indicators/realignment.py), and every figure of FRC's protected open slots at each
    school, FRC being the only partner serving the need there (its served count would be
    served_addressing). No hidden count may be pinned, nor a small group lost between two
    counts of a funnel."""
    rows, open_rows = _attacked(world, min_cell, slots)
    assert all(u >= min_cell for u in rows["unmet"].drop_nulls())  # rule 2

    def also(school: int, candidates: np.ndarray) -> np.ndarray:
        return realigned(school, candidates) & open_slot_constraint(
            open_rows, f"HS{school + 1}", candidates
        )

    def realigned(school: int, candidates: np.ndarray) -> np.ndarray:
        unmet = candidates[:, 0] - candidates[:, 2]  # flagged - served_addressing
        mine = rows.filter(pl.col("school_id") == f"HS{school + 1}")
        if mine.height == 0:
            return np.ones(len(candidates), dtype=bool) if slots[school] > 0 else unmet == 0
        shown = mine["unmet_display"][0]
        if shown.isdigit():
            return (unmet == int(shown)) & (unmet > slots[school])
        if shown.startswith("<"):
            return unmet < min_cell
        return np.ones(len(candidates), dtype=bool)

    assert_nothing_pinned(world, min_cell, also)
