"""The outcome figures as protected viewers see them (indicators/outcomes_protection.py,
docs/access-rules.md "Is it working?"): worked examples, then properties over random
programs against an attacker who enumerates every table consistent with what is shown
(the attacker of tests/indicators/test_suppression.py)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.outcomes_protection import (
    protect_estimates,
    protect_trajectory,
    publishable_balance,
)
from indicators.outcomes_schema import PUBLIC_ESTIMATES_SCHEMA
from tests.indicators.test_suppression import attack, derived_values
from tests.outcome_rows import balance, estimate, estimates, grouped, trajectory

FIGURES = ("served_before", "served_after", "comparison_before", "comparison_after", "effect",
           "ci_low", "ci_high", "effect_size", "max_smd", "balance", "mean_sessions", "mean_hours")  # fmt: skip


def by_group(public: pl.DataFrame) -> dict[str, dict[str, object]]:
    return {r["group_value"]: r for r in public.iter_rows(named=True)}


def test_a_group_under_the_minimum_shows_less_than_ten_and_no_figure() -> None:
    public = protect_estimates(
        estimates(grouped({"HS1": (30, 28, 60), "HS2": (8, 8, 16), "HS3": (25, 12, 50)})), 10
    )
    rows = by_group(public)
    assert rows["HS2"]["served_display"] == "<10" and rows["HS2"]["served"] is None
    assert all(rows["HS2"][f] is None for f in FIGURES)
    assert rows["HS2"]["verdict"] == "too_few"


def test_the_smallest_other_group_is_hidden_so_the_small_one_is_not_the_all_row_less_the_rest() -> (
    None
):
    public = protect_estimates(
        estimates(grouped({"HS1": (30, 28, 60), "HS2": (8, 8, 16), "HS3": (25, 12, 50)})), 10
    )
    rows = by_group(public)
    assert rows["all"]["served_display"] == "63"
    assert rows["HS3"]["served_display"] == "*"  # 25 < 30: the smallest exact count
    assert rows["HS1"]["served_display"] == "30"
    assert rows["HS3"]["effect"] is None  # beside a hidden count, no figure


def test_matched_within_the_minimum_of_served_is_hidden_but_the_effect_stays() -> None:
    public = protect_estimates(estimates([estimate(served=45, matched=41, comparison=80)]), 10)
    row = public.row(0, named=True)
    assert (row["served_display"], row["matched_display"]) == ("45", "*")
    assert row["effect"] == -2.8 and row["verdict"] == "better"


@pytest.mark.parametrize(
    ("served", "matched", "comparison"), [(45, 9, 80), (45, 30, 9), (9, 9, 80)]
)
def test_no_effect_from_fewer_than_the_minimum_on_either_side(
    served: int, matched: int, comparison: int
) -> None:
    row = protect_estimates(
        estimates([estimate(served=served, matched=matched, comparison=comparison)]), 10
    ).row(0, named=True)
    assert all(row[f] is None for f in FIGURES) and row["verdict"] == "too_few"


def test_the_naive_effect_needs_ten_unserved_students_too() -> None:
    few = protect_estimates(estimates([estimate(unserved=7)]), 10).row(0, named=True)
    many = protect_estimates(estimates([estimate(unserved=70)]), 10).row(0, named=True)
    assert few["naive_effect"] is None and many["naive_effect"] == 3.1


def test_the_public_rows_carry_no_excluded_or_unserved_count_and_the_contracts_columns() -> None:
    public = protect_estimates(estimates([estimate()]), 10)
    assert public.schema == pl.Schema(PUBLIC_ESTIMATES_SCHEMA)


def test_a_grouping_that_does_not_add_up_to_the_all_row_is_withheld() -> None:
    rows = grouped({"F": (30, 30, 60), "M": (25, 25, 50)}, group_by="gender")
    rows[2]["served"] = 20  # 30 + 20 != 55
    public = protect_estimates(estimates(rows), 10)
    assert public["group_by"].to_list() == ["all"]


def test_a_program_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="appear once"):
        protect_estimates(estimates([estimate(), estimate()]), 10)


def test_trajectory_points_under_the_minimum_lose_their_rate() -> None:
    public_estimates = protect_estimates(estimates([estimate()]), 10)
    points = protect_trajectory(trajectory(students={-1: 9, 0: 40}), public_estimates, 10)
    served = {r["month_offset"]: r for r in points.filter(group="served").iter_rows(named=True)}
    assert served[-1]["absence_rate"] is None and served[-1]["students_display"] == "<10"
    assert served[-1]["students"] is None
    assert served[0]["absence_rate"] == 12.0 and served[0]["students_display"] == "40"


def test_no_trajectory_or_balance_beside_a_withheld_estimate() -> None:
    public_estimates = protect_estimates(estimates([estimate(served=8)]), 10)
    assert protect_trajectory(trajectory(), public_estimates, 10).height == 0
    assert publishable_balance(balance(), public_estimates).height == 0
    shown = protect_estimates(estimates([estimate()]), 10)
    assert publishable_balance(balance(), shown).height == balance().height


# ---------------------------------------------------------------------------------------
# Properties: random programs built from students, two groupings of them
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Program:
    """Served students as (group a, group b, matched) and comparison students as (a, b)."""

    served: list[tuple[str, str, bool]]
    comparison: list[tuple[str, str]]
    unserved: int

    def table(self, grouping: int, what: str) -> dict[str, list[int]]:
        """Per group: [served, matched] (what="funnel") or [comparison]."""
        names = sorted(
            {str(s[grouping]) for s in self.served} | {c[grouping] for c in self.comparison}
        )
        if what == "funnel":
            return {
                g: [sum(1 for s in self.served if s[grouping] == g),
                    sum(1 for s in self.served if s[grouping] == g and s[2])]
                for g in names
            }  # fmt: skip
        return {g: [sum(1 for c in self.comparison if c[grouping] == g)] for g in names}

    def rows(self) -> list[dict[str, object]]:
        funnel_all = [len(self.served), sum(1 for s in self.served if s[2])]
        rows = [estimate(served=funnel_all[0], matched=funnel_all[1],
                         comparison=len(self.comparison), unserved=self.unserved)]  # fmt: skip
        for k, name in enumerate(("school_id", "gender")):
            funnel, comparison = self.table(k, "funnel"), self.table(k, "comparison")
            for g in funnel:
                rows.append(
                    estimate(
                        group_by=name,
                        group_value=g,
                        served=funnel[g][0],
                        matched=funnel[g][1],
                        comparison=comparison[g][0],
                        unserved=self.unserved,
                    )  # fmt: skip
                )
        return rows


@st.composite
def programs(draw: st.DrawFn, most: int = 16) -> Program:
    a, b = st.sampled_from(["A1", "A2", "A3"]), st.sampled_from(["B1", "B2"])
    served = draw(st.lists(st.tuples(a, b, st.booleans()), min_size=1, max_size=most))
    comparison = draw(st.lists(st.tuples(a, b), max_size=most))
    return Program(served, comparison, draw(st.integers(0, 20)))


def frames_of(
    public: pl.DataFrame, stages: tuple[str, ...]
) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """The public rows as the attacker reads a funnel: per grouping (group, stage,
    display, shown), and the `all` row as the totals."""
    long = pl.concat(
        [
            public.select(
                "group_by", pl.col("group_value").alias("group"), pl.lit(stage).alias("stage"),
                pl.col(f"{stage}_display").alias("display"), pl.col(stage).alias("shown"),
            )
            for stage in stages
        ]
    ).with_columns(order=pl.col("stage").replace_strict({s: i for i, s in enumerate(stages)}))  # fmt: skip
    long = long.sort("group_by", "group", "order").drop("order")
    totals = long.filter(group_by="all")
    return [long.filter(group_by=name) for name in ("school_id", "gender")], totals


def assert_nothing_pinned(program: Program, public: pl.DataFrame, min_cell: int) -> None:
    for stages, what in ((("served", "matched"), "funnel"), (("comparison",), "comparison")):
        truth = [program.table(0, what), program.table(1, what)]
        groupings, totals = frames_of(public, stages)
        cap = max(len(program.served), len(program.comparison)) + min_cell
        cells, total_values = attack(groupings, totals, min_cell, cap)
        for k, frame in enumerate(groupings):
            for r in frame.iter_rows(named=True):
                values = cells[(k, r["group"], stages.index(r["stage"]))]
                assert truth[k][r["group"]][stages.index(r["stage"])] in values
                if r["shown"] is None:
                    assert len(values) >= 2, (what, k, r, sorted(values))
        for s, r in enumerate(totals.iter_rows(named=True)):
            if r["shown"] is None:
                assert len(total_values[s]) >= 2
        for (k, mask, s, t), values in derived_values(groupings, totals, min_cell, cap).items():
            names = [g for i, g in enumerate(truth[k]) if mask >> i & 1]
            actual = sum(truth[k][g][s] - (truth[k][g][t] if s < t else 0) for g in names)
            assert actual in values
            assert len(values) > 1 or actual >= min_cell, (what, k, names, s, t, actual)


@settings(max_examples=120, deadline=None)
@given(programs(), st.integers(2, 4))
def test_no_hidden_count_can_be_worked_out_from_the_all_row_and_the_groups(
    program: Program, min_cell: int
) -> None:
    public = protect_estimates(estimates(program.rows()), min_cell)
    assert_nothing_pinned(program, public, min_cell)


@settings(max_examples=300, deadline=None)
@given(programs(most=40), st.integers(2, 12))
def test_no_figure_is_published_about_fewer_than_the_minimum_on_either_side(
    program: Program, min_cell: int
) -> None:
    exact = {
        (r["group_by"], r["group_value"]): r
        for r in estimates(program.rows()).iter_rows(named=True)
    }
    public = protect_estimates(estimates(program.rows()), min_cell)
    for row in public.iter_rows(named=True):
        truth = exact[(row["group_by"], row["group_value"])]
        for count in ("served", "matched", "comparison"):
            assert row[count] is None or row[count] == truth[count] >= min_cell
            display = row[f"{count}_display"]
            assert display == (str(truth[count]) if row[count] is not None else display)
            assert display in ("*", f"<{min_cell}") or row[count] is not None
        sides = min(truth["served"], truth["matched"], truth["comparison"])
        published = [f for f in (*FIGURES, "naive_effect") if row[f] is not None]
        if sides < min_cell or row["served"] is None or row["comparison"] is None:
            assert published == [] and row["verdict"] == "too_few"
        if row["naive_effect"] is not None:
            assert truth["unserved"] >= min_cell and truth["served"] >= min_cell
