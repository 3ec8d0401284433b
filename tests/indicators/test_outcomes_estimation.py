"""Program outcomes: the estimate against known truths and against statsmodels itself,
and the WWC effect sizes against worked examples."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from indicators.outcomes import matched_students, program_outcomes
from indicators.outcomes_estimation import (
    cox_index,
    design,
    fit_effect,
    fit_effects,
    hedges_g,
    pooled_sd,
    small_sample_correction,
    verdict,
)
from indicators.settings import Settings
from indicators.tables import RawTables
from tests.indicators.outcome_worlds import AS_OF, attendance_world

TRUE_EFFECT = -4.0  # percentage points of days absent


def overall(estimates: pl.DataFrame, measure: str = "absence_rate") -> dict[str, Any]:
    return estimates.filter((pl.col("measure") == measure) & (pl.col("group_by") == "all")).row(
        0, named=True
    )


@pytest.fixture(scope="module")
def effective() -> tuple[RawTables, pl.DataFrame]:
    return attendance_world(3000, effect=0.04)


def test_the_matched_estimate_recovers_a_known_effect_the_naive_one_has_the_wrong_sign(
    effective: tuple[RawTables, pl.DataFrame],
) -> None:
    tables, services = effective
    row = overall(program_outcomes(tables, services, AS_OF, Settings()).estimates)
    assert row["ci_low"] <= TRUE_EFFECT <= row["ci_high"]
    assert row["verdict"] == "better"
    assert row["naive_effect"] > 0  # served students were absent more to begin with
    assert row["effect_size_kind"] == "hedges_g"
    assert row["effect_size"] < 0


def test_in_a_world_without_an_effect_the_interval_contains_zero() -> None:
    tables, services = attendance_world(3000, effect=0.0)
    row = overall(program_outcomes(tables, services, AS_OF, Settings()).estimates)
    assert row["ci_low"] <= 0 <= row["ci_high"]
    assert row["verdict"] == "no_difference"
    assert row["naive_effect"] > 0


def test_the_estimate_and_interval_are_statsmodels_own_on_the_matched_students(
    effective: tuple[RawTables, pl.DataFrame],
) -> None:
    tables, services = effective
    row = overall(program_outcomes(tables, services, AS_OF, Settings()).estimates)
    data = (
        matched_students(tables, services, AS_OF, Settings())
        .filter(pl.col("measure") == "absence_rate")
        .with_columns(
            (pl.col("after") - pl.col("before")).alias("change"),
            pl.col("served").cast(pl.Float64),
        )
        .to_pandas()
    )
    # The world has no marks or tests: baseline absence is the only covariate that varies.
    formula = smf.wls("change ~ served + baseline_absence", data=data, weights=data["weight"])
    fitted = formula.fit(cov_type="HC1")
    low, high = fitted.conf_int().loc["served"]
    assert row["effect"] == pytest.approx(100 * fitted.params["served"], rel=1e-9)
    assert row["ci_low"] == pytest.approx(100 * low, rel=1e-9)
    assert row["ci_high"] == pytest.approx(100 * high, rel=1e-9)


def test_fit_effect_equals_statsmodels_wls_with_hc1_and_a_missing_indicator() -> None:
    rng = np.random.default_rng(3)
    n = 200
    served = (rng.random(n) < 0.4).astype(float)
    x = rng.normal(size=n)
    proficiency = np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 3, n) / 2)
    y = 0.5 * served + 0.8 * x + rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    fit = fit_effect(y, served, np.column_stack([x, proficiency]), w)
    assert fit is not None
    missing = np.isnan(proficiency)
    design = np.column_stack(
        [np.ones(n), served, x, np.where(missing, 0, proficiency), missing.astype(float)]
    )
    reference = sm.WLS(y, design, weights=w).fit(cov_type="HC1")
    assert fit.effect == pytest.approx(reference.params[1], rel=1e-12)
    assert (fit.ci_low, fit.ci_high) == pytest.approx(tuple(reference.conf_int()[1]), rel=1e-12)


def test_duplicate_and_constant_columns_are_dropped_before_the_fit() -> None:
    # Two covariates missing for the same students give two identical indicators; a third
    # covariate is constant. The fit is statsmodels' on the design without them.
    rng = np.random.default_rng(5)
    n = 150
    served = (rng.random(n) < 0.5).astype(float)
    missing = rng.random(n) < 0.3
    a = np.where(missing, np.nan, rng.normal(size=n))
    b = np.where(missing, np.nan, rng.integers(0, 3, n).astype(float))
    constant = np.full(n, 2.0)
    y = -0.3 * served + rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_effect(y, served, np.column_stack([a, b, constant]), w)
    assert fit is not None
    design = np.column_stack(
        [np.ones(n), served, np.nan_to_num(a), missing.astype(float), np.nan_to_num(b)]
    )
    reference = sm.WLS(y, design, weights=w).fit(cov_type="HC1")
    assert fit.effect == pytest.approx(reference.params[1], rel=1e-12)
    assert (fit.ci_low, fit.ci_high) == pytest.approx(tuple(reference.conf_int()[1]), rel=1e-12)


@pytest.mark.parametrize("served", [np.ones(40), np.zeros(40)])
def test_no_estimate_when_served_is_constant(served: np.ndarray) -> None:
    rng = np.random.default_rng(7)
    fit = fit_effect(rng.normal(size=40), served, rng.normal(size=(40, 1)), np.ones(40))
    assert fit is None


def _statsmodels_fit(
    y: np.ndarray, served: np.ndarray, covariates: np.ndarray, w: np.ndarray
) -> tuple[float, float, float] | None:
    """statsmodels' own WLS with HC1 on `design`'s columns: (effect, ci_low, ci_high)."""
    columns = design(served, covariates)
    if columns is None:
        return None
    reference = sm.WLS(y, columns, weights=w).fit(cov_type="HC1")
    low, high = reference.conf_int()[1]
    return float(reference.params[1]), float(low), float(high)


def _slices(seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Regressions like the refresh's: a baseline that predicts the outcome (so the
    adjustment matters), covariates missing at random, CEM-like weights, and the
    awkward designs (an all-missing covariate, identical missing indicators, a constant
    covariate, served constant)."""
    rng = np.random.default_rng(seed)
    slices = []
    for n in (31, 60, 200, 450, 1200):
        served = (rng.random(n) < 0.3).astype(float)
        absence = rng.beta(2, 12, n) + 0.05 * served
        fails = rng.integers(0, 4, n).astype(float)
        proficiency = rng.integers(0, 3, n) / 2
        y = -0.03 * served + 0.6 * absence + 0.01 * fails + rng.normal(0, 0.05, n)
        covariates = np.column_stack([absence, fails, proficiency])
        covariates[rng.random((n, 3)) < 0.15] = np.nan
        w = np.where(served == 1, 1.0, rng.uniform(0.2, 3.0, n))
        slices.append((y, served, covariates, w))
    n = 80
    served = (rng.random(n) < 0.5).astype(float)
    missing = rng.random(n) < 0.25
    awkward = np.column_stack(
        [
            np.where(missing, np.nan, rng.normal(size=n)),
            np.where(missing, np.nan, rng.integers(0, 3, n).astype(float)),
            np.full(n, np.nan),
        ]
    )
    slices.append((rng.normal(size=n), served, awkward, rng.uniform(0.5, 2.0, n)))
    constant = np.column_stack([rng.normal(size=n), np.full(n, 1.0), rng.normal(size=n)])
    slices.append((rng.normal(size=n), served, constant, np.ones(n)))
    slices.append((rng.normal(size=n), np.ones(n), rng.normal(size=(n, 3)), np.ones(n)))
    return slices


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_the_batched_fits_equal_statsmodels_wls_hc1_on_every_slice(seed: int) -> None:
    slices = _slices(seed)
    y, served, covariates, w = (np.concatenate([s[i] for s in slices]) for i in range(4))
    ends = np.cumsum([len(s[0]) for s in slices])
    fits = fit_effects(y, served, covariates, w, ends)
    assert len(fits) == len(slices)
    for fit, (y, served, covariates, w) in zip(fits, slices, strict=True):
        reference = _statsmodels_fit(y, served, covariates, w)
        if reference is None:
            assert fit is None
            continue
        assert fit is not None
        assert (fit.effect, fit.ci_low, fit.ci_high) == pytest.approx(reference, rel=1e-9)


def test_the_batched_fits_equal_statsmodels_on_the_regression_adjusted_estimates() -> None:
    tables, services = attendance_world(1500, effect=0.03)
    data = matched_students(tables, services, AS_OF, Settings()).filter(
        pl.col("measure") == "absence_rate"
    )
    y = (data["after"] - data["before"]).to_numpy()
    served = data["served"].cast(pl.Float64).to_numpy()
    covariates = data.select(
        pl.col(c).cast(pl.Float64).fill_null(float("nan"))
        for c in ("baseline_absence", "baseline_core_fails", "prior_proficiency")
    ).to_numpy()
    w = data["weight"].to_numpy()
    reference = _statsmodels_fit(y, served, covariates, w)
    assert reference is not None
    (fit,) = fit_effects(y, served, covariates, w, np.array([len(y)]))
    assert fit is not None
    assert (fit.effect, fit.ci_low, fit.ci_high) == pytest.approx(reference, rel=1e-9)


def test_below_min_matched_the_verdict_is_too_few_and_there_is_no_effect(
    effective: tuple[RawTables, pl.DataFrame],
) -> None:
    tables, services = effective
    matched = overall(program_outcomes(tables, services, AS_OF, Settings()).estimates)["matched"]
    assert isinstance(matched, int)
    settings = replace(Settings(), outcomes_min_matched=matched + 1)
    row = overall(program_outcomes(tables, services, AS_OF, settings).estimates)
    assert (row["verdict"], row["effect"], row["ci_low"], row["balance"]) == (
        "too_few",
        None,
        None,
        None,
    )
    at_the_limit = replace(Settings(), outcomes_min_matched=matched)
    assert (
        overall(program_outcomes(tables, services, AS_OF, at_the_limit).estimates)["verdict"]
        == "better"
    )


def test_hedges_g_matches_the_worked_example() -> None:
    # baselinr's documented WWC example: 5, 6, 7 against 4, 5, 6 gives g = 0.8 (pooled SD
    # 1, difference 1, omega = 1 - 3 / (4 x 6 - 9) = 0.8).
    sd = pooled_sd(3, float(np.var([5, 6, 7], ddof=1)), 3, float(np.var([4, 5, 6], ddof=1)))
    assert sd == pytest.approx(1.0)
    assert small_sample_correction(6) == pytest.approx(0.8)
    assert hedges_g(1.0, sd, 3, 3) == pytest.approx(0.8)


def test_the_cox_index_matches_the_worked_example_with_the_small_sample_correction() -> None:
    # Shares 2/3 against 1/3: (ln 2 - ln 0.5) / 1.65 = 0.8401784 (baselinr's WWC example),
    # times omega = 0.8 for 3 + 3 students.
    assert cox_index(2 / 3, 1 / 3, 3, 3) == pytest.approx(0.8 * 0.8401784, rel=1e-6)
    assert cox_index(2 / 3, 1 / 3, 1000, 1000) == pytest.approx(0.8401784, rel=1e-3)
    assert cox_index(1.0, 0.5, 50, 50) is None


@pytest.mark.parametrize(
    ("low", "high", "lower_is_better", "expected"),
    [
        (-3.0, -1.0, True, "better"),
        (-3.0, -1.0, False, "worse"),
        (1.0, 3.0, True, "worse"),
        (1.0, 3.0, False, "better"),
        (-1.0, 1.0, True, "no_difference"),
    ],
)
def test_the_verdict_reads_the_interval_on_the_measures_good_side(
    low: float, high: float, lower_is_better: bool, expected: str
) -> None:
    assert verdict(40, 30, "adjusted", low, high, lower_is_better) == expected


def test_an_imbalanced_comparison_is_not_comparable_whatever_the_interval() -> None:
    assert verdict(40, 30, "not_comparable", -3.0, -1.0, True) == "not_comparable"
