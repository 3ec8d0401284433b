"""Subgroup figures of program outcomes (docs/outcomes.md, "Subgroup rows"): each group is
matched again from the overall strata, and its sums are taken from per-stratum totals
(`indicators.outcomes_results.group_moments`) rather than from a copy of its rows. These
tests hold them against the group's rows weighted one by one, on random matched rows."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.vocabulary import GROUP_FIELDS
from indicators.outcomes_matching import ALL, BALANCE_COVARIATES, smd_frame, smd_of_moments
from indicators.outcomes_results import GROUP_KEYS, group_moments

RACES = ("asian", "black", "hispanic", "white")


@st.composite
def matched_rows(draw: st.DrawFn) -> pl.DataFrame:
    """Overall matched rows of two program-year/measure keys: strata with at least one
    served and one comparison student, CEM weights, values with gaps. School and the need
    flags are fixed per stratum (they are part of the exact cell); race and gender vary
    within a stratum (they are not matched on)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows: list[dict[str, object]] = []
    for key in range(2):
        for stratum in range(draw(st.integers(1, 5))):
            code = key * 100 + stratum
            flags = {f: str(rng.choice(["Y", "N"])) for f in GROUP_FIELDS[3:]}
            school = str(rng.choice(["S1", "S2"]))
            sizes = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
            for served, size in zip((True, False), sizes, strict=True):
                for _ in range(size):
                    value = rng.normal(0.1, 0.05)
                    rows.append(
                        {
                            "pyid": key,
                            "measure": "absence_rate",
                            "_key": key,
                            "_stratum": code,
                            "served": served,
                            "student_id": len(rows),
                            "before": value,
                            "after": None if rng.random() < 0.1 else value + rng.normal(0, 0.02),
                            "baseline_absence": value,
                            "baseline_core_fails": float(rng.integers(0, 3)),
                            "prior_proficiency": None if rng.random() < 0.2 else 0.5,
                            "school_id": school,
                            "race_ethnicity": str(rng.choice(RACES)),
                            "gender": str(rng.choice(["F", "M"])),
                            **flags,
                            **{f"_{f}": 1.0 if v == "Y" else 0.0 for f, v in flags.items()},
                            "sessions": int(rng.integers(1, 20)) if served else None,
                            "hours": None,
                        }
                    )
    frame = pl.DataFrame(rows, infer_schema_length=None)
    side = pl.col("served")
    counts = [side.sum().over("_stratum"), (~side).sum().over("_stratum")]
    totals = [(~side).sum().over("_key"), side.sum().over("_key").cast(pl.Float64)]
    weight = counts[0] / counts[1] * totals[0] / totals[1]
    return frame.with_columns(pl.when(side).then(1.0).otherwise(weight).alias("weight"))


def rows_of_group(matched: pl.DataFrame, field: str, value: str) -> pl.DataFrame:
    """The group's rows matched again on their own, weighted row by row: strata keep the
    group's students, strata without both sides are dropped, weights as CEM's."""
    served = pl.col("served")
    rows = matched.filter(pl.col(field) == value).with_columns(
        served.sum().over("_stratum").alias("_s"), (~served).sum().over("_stratum").alias("_c")
    )
    rows = rows.filter((pl.col("_s") > 0) & (pl.col("_c") > 0))
    ratio = (~served).sum().over("_key") / served.sum().over("_key").cast(pl.Float64)
    weight = pl.col("_s") / pl.col("_c") * ratio
    return rows.with_columns(pl.when(served).then(1.0).otherwise(weight).alias("weight"))


def close(a: float | None, b: float | None) -> bool:
    """Equal to rounding (the sums are added in another order); both unknown, or equal."""
    if a == b:  # also the same infinity (a constant covariate on both sides)
        return True
    if a is None or b is None or np.isnan(a) or np.isnan(b):
        return (a is None or np.isnan(a)) == (b is None or np.isnan(b))
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))


@settings(max_examples=40, deadline=None)
@given(matched_rows())
def test_subgroup_sums_from_stratum_totals_equal_the_groups_own_weighted_rows(
    matched: pl.DataFrame,
) -> None:
    sums, _ = group_moments(matched)
    for key, field in ((k, f) for k in (0, 1) for f in GROUP_FIELDS):
        for value in matched[field].unique().to_list():
            rows = rows_of_group(matched.filter(pl.col("pyid") == key), field, value)
            mine = sums.filter(
                (pl.col("pyid") == key)
                & (pl.col("group_by") == field)
                & (pl.col("group_value") == value)
            )
            assert_same_means(rows, mine)
            if rows.height:
                assert_same_smd(rows, mine)


def assert_same_means(rows: pl.DataFrame, mine: pl.DataFrame) -> None:
    """Row counts and the weighted after-mean of each side, against the rows."""
    for served in (True, False):
        side = rows.filter(pl.col("served") == served)
        got = mine.filter(pl.col("served") == served)
        assert got.height == (1 if side.height else 0)
        if not side.height:
            continue
        assert got["_rows"].item() == side.height
        w, after = side["weight"].to_numpy(), side["after"].to_numpy().astype(float)
        known = ~np.isnan(after)
        total = float(w[known].sum())
        expected = float(w[known] @ after[known]) / total if total else float("nan")
        assert close(got.select(pl.col("after:s1") / pl.col("after:n")).item(), expected)


def assert_same_smd(rows: pl.DataFrame, mine: pl.DataFrame) -> None:
    """Every balance covariate's SMD, against `smd_frame` of the weighted rows."""
    numeric = rows.with_columns(
        pl.col(f"_{c}").alias(c) for c in ("english_learner", "disability", "econ_disadvantaged")
    )
    reference = smd_frame(numeric, ["pyid"], pl.col("weight"), BALANCE_COVARIATES)
    ours = smd_of_moments(mine, list(GROUP_KEYS), BALANCE_COVARIATES)
    both = ours.join(reference, on=["pyid", "covariate"], how="full", coalesce=True)
    assert both.height == len(BALANCE_COVARIATES)
    for a, b in both.select("smd", "smd_right").iter_rows():
        assert close(a, b)


@settings(max_examples=20, deadline=None)
@given(matched_rows())
def test_the_overall_group_keeps_every_matched_row_with_its_own_weight(
    matched: pl.DataFrame,
) -> None:
    sums, weights = group_moments(matched)
    overall = sums.filter(pl.col("group_by") == ALL)
    assert overall["_rows"].sum() == matched.height
    for served in (True, False):
        side = matched.filter(pl.col("served") == served)
        got = overall.filter(pl.col("served") == served)["sessions:s1"].sum()
        assert got == (side["sessions"].sum() or 0)
    # The overall weights are those of the matching itself, to the last bit.
    assert (
        weights[0]
        .join(matched.select("_stratum", "served", "weight").unique(), on=["_stratum", "served"])
        .filter(pl.col("weight") != pl.col("weight_right"))
        .is_empty()
    )
