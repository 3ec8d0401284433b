"""Need and coverage as protected viewers see it (indicators/coverage_protection.py,
docs/access-rules.md rules 1-5): worked examples, then properties over random schools against an
attacker who enumerates every table consistent with what is shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from indicators.coverage_protection import (
    DISTRICT,
    exact_coverage,
    protect_coverage,
    protect_duplication,
    protect_tier_support,
)

COUNTS = ("flagged", "served_addressing", "served_addressing_with_release", "served_other",
          "unserved", "duplicated")  # fmt: skip


def school(sid: str, flagged: int, addressing: int, release: int, other: int, dup: int,
           need: str = "chronic_absence") -> dict[str, Any]:  # fmt: skip
    return {
        "school_id": sid, "need": need, "flagged": flagged, "served_addressing": addressing,
        "served_addressing_with_release": release, "served_other": other,
        "unserved": flagged - addressing - other, "duplicated": dup,
    }  # fmt: skip


def table(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={"school_id": pl.String, "need": pl.String} | dict.fromkeys(COUNTS, pl.Int64))  # fmt: skip


def by_school(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["school_id"]: r for r in frame.iter_rows(named=True)}


def test_a_school_with_few_flagged_students_shows_less_than_ten_and_no_share() -> None:
    shown = protect_coverage(
        table(school("HS1", 140, 20, 15, 7, 0), school("HS2", 8, 3, 1, 1, 0),
              school("HS3", 60, 35, 30, 10, 3)), 10,
    )  # fmt: skip
    hs2 = by_school(shown.schools)["HS2"]
    assert hs2["flagged_display"] == "<10" and hs2["flagged"] is None
    assert hs2["unserved_share"] is None


def test_unserved_and_its_share_are_shown_beside_exact_flagged_and_served_counts() -> None:
    shown = protect_coverage(
        table(school("HS1", 140, 30, 25, 25, 0), school("HS2", 90, 40, 30, 20, 0)), 10
    )
    hs1 = by_school(shown.schools)["HS1"]
    assert (hs1["flagged_display"], hs1["unserved_display"]) == ("140", "85")
    assert hs1["unserved_share"] == 60.7  # 85 / 140


def test_a_small_school_hides_another_schools_count_so_it_is_not_the_total_less_the_rest() -> None:
    shown = protect_coverage(
        table(school("HS1", 140, 30, 25, 25, 0), school("HS2", 8, 3, 1, 1, 0),
              school("HS3", 90, 40, 30, 20, 0)), 10,
    )  # fmt: skip
    rows = by_school(shown.schools)
    assert shown.district["flagged_display"].to_list() == ["238"]
    assert rows["HS2"]["flagged_display"] == "<10"
    assert rows["HS3"]["flagged_display"] == "*"  # 90 < 140: the smallest exact count
    assert rows["HS3"]["unserved_share"] is None  # no share beside a hidden count


def test_served_with_a_release_within_ten_of_served_addressing_is_hidden() -> None:
    shown = protect_coverage(
        table(school("HS1", 140, 40, 35, 25, 0), school("HS2", 140, 40, 35, 25, 0)), 10
    )
    for row in shown.schools.iter_rows(named=True):
        assert row["served_addressing_display"] == "40"
        assert row["served_addressing_with_release_display"] == "*"


def test_exact_viewers_see_every_count_and_the_district_sums() -> None:
    shown = exact_coverage(table(school("HS1", 8, 3, 1, 1, 0), school("HS2", 140, 30, 25, 25, 2)))
    assert by_school(shown.schools)["HS1"]["unserved_display"] == "4"
    district = shown.district.row(0, named=True)
    assert (district["school_id"], district["flagged"], district["duplicated"]) == (
        DISTRICT,
        148,
        2,
    )
    assert district["unserved_share"] == 60.1  # (4 + 85) / 148


def test_a_part_of_a_hidden_served_addressing_count_is_hidden_too() -> None:
    shown = protect_coverage(TWO_BRANCHES.frame(), 2)
    for row in shown.schools.iter_rows(named=True):
        assert row["served_addressing_display"] == "*"
        assert row["duplicated_display"] == row["served_addressing_with_release_display"] == "*"
        assert row["duplicated"] is None and row["served_addressing_with_release"] is None


def test_duplication_pairs_under_the_minimum_show_less_than_ten() -> None:
    pairs = pl.DataFrame(
        {"school_id": ["HS2", "HS2"], "service_type": ["academic", "mentoring"],
         "org_a": ["BGC", "BGC"], "org_b": ["YTN", "YTN"], "students": [23, 4]}
    )  # fmt: skip
    shown = protect_duplication(pairs, 10)
    assert shown["students_display"].to_list() == ["23", "<10"]
    assert shown["students"].to_list() == [23, None]


def test_tier_three_students_with_no_support_are_shown_only_as_an_exact_difference() -> None:
    tiers = pl.DataFrame(
        {"school_id": ["HS1", "HS2"], "tier": [3, 3], "students": [40, 52],
         "no_service": [25, 30], "one_service": [10, 12], "two_or_more": [5, 10]}
    )  # fmt: skip
    shown = protect_tier_support(tiers, 10)
    rows = by_school(shown.schools)
    assert rows["HS1"]["two_or_more_display"] == "<10"
    assert rows["HS2"]["no_service_display"] == "30"  # 52 - 22, both exact
    assert rows["HS1"]["no_service_display"] == "25"  # 40 - 15 supported, both exact
    # two_or_more: HS1's 5 is hidden, so HS2's 10 is too (not the district's 15 less 5),
    # and one_service (supported - two_or_more) with it.
    assert rows["HS2"]["two_or_more_display"] == "*"
    assert rows["HS1"]["one_service_display"] == rows["HS2"]["one_service_display"] == "*"
    assert shown.district["students_display"].to_list() == ["92"]


# ---------------------------------------------------------------------------------------
# Properties: random flagged students at two schools; the attacker enumerates every
# table consistent with the display (nesting, sums over the schools, `<m` as 0..m-1,
# `*` as any count) and must never pin a hidden count, nor a small group between two
# counts of a funnel.
# ---------------------------------------------------------------------------------------

#: A flagged student: served for that need (addr), for something else (other) or not
#: at all (none); with a release naming the partner; served by two partners of one type.
Kid = tuple[str, bool, bool]


@dataclass(frozen=True)
class World:
    schools: list[list[Kid]]

    def truth(self, i: int) -> tuple[int, ...]:
        """School i's (flagged, served by anyone, served_addressing, with_release,
        duplicated)."""
        kids = self.schools[i]
        addr = [k for k in kids if k[0] == "addr"]
        return (len(kids), sum(1 for k in kids if k[0] != "none"), len(addr),
                sum(1 for k in addr if k[1]), sum(1 for k in addr if k[2]))  # fmt: skip

    def frame(self) -> pl.DataFrame:
        rows = []
        for i in range(len(self.schools)):
            f, a, s, w, d = self.truth(i)
            rows.append(school(f"HS{i + 1}", f, s, w, a - s, d))
        return table(*rows)


kids = st.tuples(st.sampled_from(["addr", "other", "none"]), st.booleans(), st.booleans())
worlds = st.lists(st.lists(kids, max_size=9), min_size=2, max_size=2).map(World)


def domain(display: str, cap: int, min_cell: int) -> list[int]:
    if display == "*":
        return list(range(cap + 1))
    if display.startswith("<"):
        return list(range(min_cell))
    return [int(display)]


def feasible(row: dict[str, Any], cap: int, min_cell: int) -> np.ndarray:
    """Every (flagged, served, served_addressing) the row's display allows, for which
    each part of the branch (with_release, duplicated) can take some value."""
    found = []
    unserved, other = row["unserved_display"], row["served_other_display"]
    for f in domain(row["flagged_display"], cap, min_cell):
        for s in domain(row["served_addressing_display"], f, min_cell):
            if s > f:
                continue
            for a in range(s, f + 1):
                if unserved != "*" and f - a != int(unserved):
                    continue
                if other != "*" and a - s != int(other):
                    continue
                found.append((f, a, s))
    core = np.array(found, dtype=np.int64).reshape(-1, 3)
    keep = np.ones(len(core), dtype=bool)
    for part in PARTS:
        low, high = part_range(row[f"{part}_display"], core[:, 2], min_cell)
        keep &= low <= high
    return core[keep]


#: The parts of the branch: each is at most served_addressing, and nothing else binds it.
PARTS = ("served_addressing_with_release", "duplicated")


def part_range(display: str, whole: np.ndarray, min_cell: int) -> tuple[np.ndarray, np.ndarray]:
    """The values a part shown as `display` can take under each `whole`
    (served_addressing): always an interval, empty where low > high."""
    if display == "*":
        return np.zeros_like(whole), whole
    if display.startswith("<"):
        return np.zeros_like(whole), np.minimum(whole, min_cell - 1)
    value = np.full_like(whole, int(display))
    return value, np.where(value <= whole, value, -1)


#: What another view shown beside the coverage page tells about school i: a mask over
#: that school's candidate (flagged, served, served_addressing).
AlsoShown = Callable[[int, np.ndarray], np.ndarray]


def assert_nothing_pinned(world: World, min_cell: int, also: AlsoShown | None = None) -> None:
    """The attacker: every table consistent with the coverage display (and with `also`,
    what another view shows beside it) leaves each hidden count two values or more, and
    pins no small group between two counts of a funnel.

    The tables are enumerated in two steps, which is exact: the shared stages (flagged,
    served, served_addressing) of both schools with their district sums, then, for each
    such pair, each part of the branch, whose shown values bind it only through
    `part <= served_addressing` and the district sum: intervals, solved in closed form
    (enumerating the parts too took the memory of the machine once `*` became common)."""
    shown = protect_coverage(world.frame(), min_cell)
    rows = [by_school(shown.schools)[f"HS{i + 1}"] for i in range(2)]
    district = shown.district.row(0, named=True)
    cap = world.truth(0)[0] + world.truth(1)[0] + min_cell
    one, two = feasible(rows[0], cap, min_cell), feasible(rows[1], cap, min_cell)
    if also is not None:
        one, two = one[also(0, one)], two[also(1, two)]
    allowed = feasible(district, 2 * cap, min_cell)
    base = 2 * cap + 2
    weights = base ** np.arange(3, dtype=np.int64)
    sums = one[:, None, :] + two[None, :, :]
    keep = np.isin(sums @ weights, allowed @ weights)
    pairs = np.argwhere(keep)
    cores = [one[pairs[:, 0]], two[pairs[:, 1]], sums[pairs[:, 0], pairs[:, 1]]]

    # Each part: the interval each row allows it under its served_addressing, narrowed by
    # the district sum; a pair of shared stages stays only if every part fits.
    ranges: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    fits = np.ones(len(pairs), dtype=bool)
    for part in PARTS:
        (l1, h1), (l2, h2), (ld, hd) = (
            part_range(row[f"{part}_display"], core[:, 2], min_cell)
            for row, core in zip([*rows, district], cores, strict=True)
        )
        fits &= (l1 <= h1) & (l2 <= h2) & (np.maximum(l1 + l2, ld) <= np.minimum(h1 + h2, hd))
        ranges[part] = [
            (np.maximum(l1, ld - h2), np.minimum(h1, hd - l2)),
            (np.maximum(l2, ld - h1), np.minimum(h2, hd - l1)),
            (np.maximum(ld, l1 + l2), np.minimum(hd, h1 + h2)),
        ]
    cores = [core[fits] for core in cores]
    truths = [world.truth(0), world.truth(1),
              tuple(a + b for a, b in zip(world.truth(0), world.truth(1), strict=True))]  # fmt: skip

    def values(low: np.ndarray, high: np.ndarray) -> set[int]:
        return {v for lo, hi in zip(low.tolist(), high.tolist(), strict=True)
                for v in range(lo, hi + 1)}  # fmt: skip

    for index, (core, truth, row) in enumerate(zip(cores, truths, [*rows, district], strict=True)):
        assert len(core) > 0
        f, a, s = core[:, 0], core[:, 1], core[:, 2]
        parts = {p: tuple(b[fits] for b in ranges[p][index]) for p in PARTS}
        # Every count that may be shown to a reader, as the values it can take.
        quantity = {
            "flagged": set(f.tolist()), "served_addressing": set(s.tolist()),
            "unserved": set((f - a).tolist()), "served_other": set((a - s).tolist()),
            **{p: values(*parts[p]) for p in PARTS},
        }  # fmt: skip
        f0, a0, s0, w0, d0 = truth
        actual = {"flagged": f0, "served_addressing": s0, "unserved": f0 - a0,
                  "served_other": a0 - s0, PARTS[0]: w0, PARTS[1]: d0}  # fmt: skip
        for name, found in quantity.items():
            assert actual[name] in found
            if row[name] is None:
                assert len(found) >= 2, (name, row, world)
            else:
                assert row[name] == actual[name] and row[f"{name}_display"] == str(row[name])
        # No small group between two counts of a funnel is pinned (rule 2's purpose).
        stages = {0: f, 1: a, 2: s}
        lost = [(stages[h] - stages[lo]).tolist() for h, lo in ((0, 1), (0, 2), (1, 2))]
        for low, high in parts.values():
            lost += [values(stages[h] - high, stages[h] - low) for h in (0, 1, 2)]
        for gaps in lost:
            gap = set(gaps)
            assert len(gap) > 1 or min(gap) >= min_cell, (gap, row, world)


#: Found by this test: served_addressing hidden at both schools; HS1's duplicated (3) and
#: HS2's with_release (forced to 2 or more by the district's 3 and HS1's `<2`) pinned
#: HS1's served_addressing at 3 of the district's 5 (each funnel alone was safe).
TWO_BRANCHES = World(
    [[("addr", False, True), ("addr", False, True), ("addr", True, True),
      ("other", False, False), ("other", False, False)],
     [("addr", True, False), ("addr", True, True)]]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(worlds, st.integers(2, 3))
@example(TWO_BRANCHES, 2)
def test_no_hidden_coverage_count_can_be_worked_out(world: World, min_cell: int) -> None:
    assert_nothing_pinned(world, min_cell)


@settings(max_examples=200, deadline=None)
@given(worlds, st.integers(2, 12))
def test_every_shown_count_is_exact_and_every_share_sits_beside_exact_counts(
    world: World, min_cell: int
) -> None:
    shown = protect_coverage(world.frame(), min_cell)
    exact = by_school(exact_coverage(world.frame()).schools)
    for row in shown.schools.iter_rows(named=True):
        truth = exact[row["school_id"]]
        for name in COUNTS:
            if row[name] is None:
                assert row[f"{name}_display"] in ("*", f"<{min_cell}")
                assert row[f"{name}_display"] == "*" or truth[name] < min_cell
            else:
                assert row[name] == truth[name] >= min_cell
        if row["unserved_share"] is not None:
            assert row["unserved"] is not None and row["flagged"] is not None


#: A student of one tier at one school: how many services they have now (0, 1 or 2+).
tier_worlds = st.lists(st.lists(st.integers(0, 2), max_size=12), min_size=2, max_size=2)


def tier_frame(schools: list[list[int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"school_id": f"HS{i + 1}", "tier": 3, "students": len(kids),
          "no_service": kids.count(0), "one_service": kids.count(1),
          "two_or_more": kids.count(2)} for i, kids in enumerate(schools)]
    )  # fmt: skip


def tier_feasible(row: dict[str, Any], cap: int, min_cell: int) -> np.ndarray:
    """Every (students, supported, two_or_more) the row's display allows."""
    found = []
    none, one = row["no_service_display"], row["one_service_display"]
    for n in domain(row["students_display"], cap, min_cell):
        for t in domain(row["two_or_more_display"], n, min_cell):
            for p in range(t, n + 1):
                if (none == "*" or n - p == int(none)) and (one == "*" or p - t == int(one)):
                    found.append((n, p, t))
    return np.array(found, dtype=np.int64).reshape(-1, 3)


@settings(max_examples=150, deadline=None)
@given(tier_worlds, st.integers(2, 4))
def test_no_hidden_tier_support_count_can_be_worked_out(
    schools: list[list[int]], min_cell: int
) -> None:
    shown = protect_tier_support(tier_frame(schools), min_cell)
    rows = [by_school(shown.schools)[f"HS{i + 1}"] for i in range(2)]
    cap = sum(len(k) for k in schools) + min_cell
    one, two = (tier_feasible(r, cap, min_cell) for r in rows)
    allowed = tier_feasible(shown.district.row(0, named=True), 2 * cap, min_cell)
    weights = (2 * cap + 2) ** np.arange(3, dtype=np.int64)
    sums = one[:, None, :] + two[None, :, :]
    pairs = np.argwhere(np.isin(sums @ weights, allowed @ weights))
    district = shown.district.row(0, named=True)
    for values, row in ((one[pairs[:, 0]], rows[0]), (two[pairs[:, 1]], rows[1]),
                        (sums[pairs[:, 0], pairs[:, 1]], district)):  # fmt: skip
        quantity = {"students": values[:, 0], "no_service": values[:, 0] - values[:, 1],
                    "one_service": values[:, 1] - values[:, 2], "two_or_more": values[:, 2]}  # fmt: skip
        for name, found in quantity.items():
            if row[name] is None:
                assert len(set(found.tolist())) >= 2, (name, row, schools)
        for high, low in ((0, 1), (1, 2), (0, 2)):
            lost = set((values[:, high] - values[:, low]).tolist())
            assert len(lost) > 1 or min(lost) >= min_cell, (high, low, row, schools)
