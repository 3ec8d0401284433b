"""Program outcomes, step 4: the regression-adjusted estimate, effect sizes and verdicts.

- Estimate (docs/outcomes.md, "The estimate"): weighted least squares with the CEM
  weights, of the change (after - before) for a change measure, or of the outcome (a
  linear probability model) for a yes/no measure, on an intercept, `served` and the
  baseline covariates (baseline absence rate, baseline failing core marks, prior
  proficiency; a missing value is entered as 0 with a missing-indicator column; columns
  constant in the sample, duplicated or otherwise collinear with the columns before them
  are left out, and there is no estimate when `served` itself is constant or collinear). Standard errors are heteroskedasticity-robust HC1
  (one row per student), and the 95% confidence interval is statsmodels' own (normal
  quantiles, as statsmodels uses for a robust covariance). The estimator is
  statsmodels' `statsmodels.regression.linear_model.WLS(...).fit(cov_type="HC1")`:
  `fit_effect` calls it, and `fit_effects` (the refresh's thousands of small fits)
  computes the same statistics with NumPy, tested against it to 1e-9.
- Effect sizes, What Works Clearinghouse Procedures Handbook, Version 5.0 (2022), chapter
  VI and appendix E: Hedges' g = omega x (adjusted difference) / pooled within-group
  standard deviation of the outcome, omega = 1 - 3 / (4N - 9); the Cox index = omega x
  (ln(p_t / (1 - p_t)) - ln(p_c / (1 - p_c))) / 1.65 with p_c the comparison share and p_t
  = p_c + the adjusted difference (undefined, so null, when a share is 0 or 1).
- Verdict: `too_few` below `outcomes_min_matched` matched served students;
  `not_comparable` when the balance band is; otherwise `better` when the interval excludes
  0 on the good side (lower absence, fewer failing marks, higher shares), `worse` when it
  excludes 0 on the other side, `no_difference` when it contains 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.special import ndtri

#: The WWC constant that puts a log odds ratio on the scale of a standardised difference.
COX_DIVISOR: Final = 1.65
CONFIDENCE: Final = 0.95


@dataclass(frozen=True)
class Fit:
    """The coefficient of `served` and its 95% confidence interval (outcome units)."""

    effect: float
    ci_low: float
    ci_high: float


#: A column whose part not explained by the columns before it is below this share of its
#: own size adds nothing the design does not already hold (floating-point noise only).
COLLINEAR: Final = 1e-9


def _independent_of_gram(gram: np.ndarray) -> list[int]:
    """`_independent` from the columns' Gram matrix (their pairwise dot products). The
    part of column j not explained by the kept columns K has squared size G_jj - c' G_KK^-1
    c (c = G_Kj), computed as G_jj - z'z with z = L^-1 c and L the Cholesky factor of G_KK,
    grown one kept column at a time (the matrices have at most eight columns: plain
    Python is faster than NumPy calls at this size)."""
    g = gram.tolist()
    kept: list[int] = []
    factor: list[list[float]] = []  # the rows of L, one per kept column
    for j in range(len(g)):
        size = g[j][j]
        if size <= 0:
            continue
        z: list[float] = []
        for i, k in enumerate(kept):
            row = factor[i]
            z.append((g[k][j] - sum(row[m] * z[m] for m in range(i))) / row[i])
        residual = size - sum(v * v for v in z)
        if residual > COLLINEAR * size:
            kept.append(j)
            factor.append([*z, math.sqrt(residual)])
    return kept


def _independent(columns: list[np.ndarray]) -> list[int]:
    """The positions of the columns kept in order, each when it is not (up to rounding) a
    linear combination of those kept before it: a constant column after the intercept, a
    duplicate (two identical missing-value indicators), or any other exact collinearity."""
    return _independent_of_gram(np.array([[float(a @ b) for b in columns] for a in columns]))


def _candidate_columns(served: np.ndarray, covariates: np.ndarray) -> np.ndarray:
    """Every candidate column of `design`, in its order: intercept, served, then each
    covariate (missing as 0) beside its missing-indicator column."""
    # Column-major: each column is written in one contiguous pass (np.column_stack of
    # millions of rows writes row-major with a stride, several times slower).
    columns = np.empty((len(served), 2 + 2 * covariates.shape[1]), order="F")
    columns[:, 0] = 1.0
    columns[:, 1] = served
    for j in range(covariates.shape[1]):
        values = covariates[:, j]
        missing = np.isnan(values)
        columns[:, 2 + 2 * j] = np.where(missing, 0.0, values)
        columns[:, 3 + 2 * j] = missing
    return columns


def design(served: np.ndarray, covariates: np.ndarray) -> np.ndarray | None:
    """The regression's columns: intercept, served, then each covariate (a missing value
    entered as 0 beside a missing-indicator column); a column that is constant, a
    duplicate or otherwise a linear combination of the columns before it is left out (a
    rank-deficient design has no unique coefficients). None when `served` itself is
    constant or collinear with the intercept: then there is no estimate."""
    candidates = _candidate_columns(served, covariates)
    kept = _independent([candidates[:, j] for j in range(candidates.shape[1])])
    if kept[:2] != [0, 1]:
        return None
    return candidates[:, kept]


def fit_effect(
    outcome: np.ndarray, served: np.ndarray, covariates: np.ndarray, weights: np.ndarray
) -> Fit | None:
    """statsmodels WLS of `outcome` on served and the covariates, HC1 standard errors;
    None when the design cannot identify the effect of `served`. The reference that
    `fit_effects` is tested against."""
    # Imported here: statsmodels takes over a second to import, which every command and
    # page would pay for a function only the tests and the benchmark call.
    import statsmodels.api as sm

    columns = design(served, covariates)
    if columns is None:
        return None
    result = sm.WLS(outcome, columns, weights=weights).fit(cov_type="HC1")
    low, high = result.conf_int(alpha=1 - CONFIDENCE)[1]
    return Fit(float(result.params[1]), float(low), float(high))


def fit_effects(
    outcome: np.ndarray,
    served: np.ndarray,
    covariates: np.ndarray,
    weights: np.ndarray,
    ends: np.ndarray,
) -> list[Fit | None]:
    """`fit_effect` of every slice of the rows (`ends`: where each slice ends), the same
    statistics computed directly with NumPy rather than through statsmodels' model
    objects (whose set-up cost, not the arithmetic, made thousands of small fits slow).

    The same design (`design`'s columns and rule for dropping them), and the same
    estimator as statsmodels' `WLS(...).fit(cov_type="HC1")`: with X and y whitened by
    the square roots of the weights, the coefficients are P y with P the pseudo-inverse
    of X (here R^-1 Q' from a QR decomposition, X having full column rank once dependent
    columns are dropped); the HC1 covariance is n / (n - k) P diag(e^2) P' with e the
    whitened residuals (statsmodels `_HCCM` with `het_scale`, MacKinnon & White 1985);
    the interval is the coefficient plus or minus the normal quantile times its standard
    error (statsmodels' `conf_int` for a robust covariance). Tested to agree with
    statsmodels to 1e-9 relative (tests/indicators/test_outcomes_estimation.py)."""
    # The normal quantile as scipy.stats.norm.ppf computes it (its ndtri, without the
    # second it takes to import scipy.stats).
    quantile = float(ndtri(1 - (1 - CONFIDENCE) / 2))
    candidates = _candidate_columns(served, covariates)
    fits: list[Fit | None] = []
    start = 0
    for end in ends:
        x = candidates[start:end]
        kept = _independent_of_gram(x.T @ x)
        if kept[:2] != [0, 1]:
            fits.append(None)
            start = end
            continue
        root = np.sqrt(weights[start:end])
        wx = x[:, kept] * root[:, None]
        wy = outcome[start:end] * root
        q, r = np.linalg.qr(wx)
        inverse_r = np.linalg.inv(r)
        params = inverse_r @ (q.T @ wy)
        residuals = wy - wx @ params
        row = q @ inverse_r[1]  # the row of the pseudo-inverse that gives `served`
        n, k = wx.shape
        se = math.sqrt(n / (n - k) * float(row**2 @ residuals**2))
        effect = float(params[1])
        fits.append(Fit(effect, effect - quantile * se, effect + quantile * se))
        start = end
    return fits


def small_sample_correction(n: float) -> float:
    """omega = 1 - 3 / (4N - 9), N the students of both groups (WWC Handbook v5.0)."""
    return 1 - 3 / (4 * n - 9)


def pooled_sd(n_t: float, var_t: float, n_c: float, var_c: float) -> float:
    """The pooled within-group standard deviation of the WWC Handbook."""
    return math.sqrt(((n_t - 1) * var_t + (n_c - 1) * var_c) / (n_t + n_c - 2))


def hedges_g(difference: float, sd: float, n_t: float, n_c: float) -> float | None:
    """Hedges' g of a (regression-adjusted) difference: omega x difference / pooled SD."""
    if not sd > 0 or n_t + n_c <= 2:
        return None
    return small_sample_correction(n_t + n_c) * difference / sd


def cox_index(p_t: float, p_c: float, n_t: float, n_c: float) -> float | None:
    """The WWC Cox index of two shares; null when a share is 0 or 1 (or beyond)."""
    if not (0 < p_t < 1 and 0 < p_c < 1) or n_t + n_c <= 2:
        return None
    log_odds = math.log(p_t / (1 - p_t)) - math.log(p_c / (1 - p_c))
    return small_sample_correction(n_t + n_c) * log_odds / COX_DIVISOR


def verdict(
    matched: int,
    min_matched: int,
    balance: str | None,
    ci_low: float | None,
    ci_high: float | None,
    lower_is_better: bool,
) -> str:
    """`too_few`, `not_comparable`, `better`, `worse` or `no_difference` (see the module)."""
    if matched < min_matched or ci_low is None or ci_high is None:
        return "too_few"
    if balance == "not_comparable":
        return "not_comparable"
    if ci_high < 0:
        return "better" if lower_is_better else "worse"
    if ci_low > 0:
        return "worse" if lower_is_better else "better"
    return "no_difference"
