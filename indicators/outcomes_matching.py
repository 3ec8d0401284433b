"""Program outcomes, step 3: coarsened exact matching and baseline balance.

Coarsened exact matching (CEM; Iacus, King & Porro 2012, "Causal Inference without Balance
Checking: Coarsened Exact Matching", Political Analysis 20(1)): every student falls in a
*stratum*, the same values of the exact cell (school, grade, english_learner, disability,
econ_disadvantaged) and of the coarsened baseline covariates: the baseline absence rate cut
at `outcomes_absence_bins` (the Attendance Works bands), the baseline failing core marks
cut at `outcomes_core_fails_bins` (0, 1, 2 or more) and prior proficiency (none, one or
both of ela and math proficient); a missing value is a bin of its own. A stratum holding
both served and comparison students is *matched*; the rest are dropped. CEM weights (the
ATT weights of the paper, section 3.2, and of the `cem` software): 1 for a matched served
student, (served in stratum / comparison in stratum) x (comparison matched / served
matched) for a matched comparison student, so the comparison weights add up to the number
of matched comparison students and each stratum's comparison students stand for its
served ones. To keep the refresh fast, a stratum keeps at most
`outcomes_max_comparisons` comparison students per served student (a seeded random
subset; the `cem` software's k2k option is the 1-per-served special case).

Balance: for each baseline covariate, the standardised mean difference (SMD) of served and
comparison students, in the form of Hedges' g of the WWC Procedures Handbook (pooled
within-group standard deviation, small-sample correction; CEM weights on the comparison
side after matching). The band of the largest |SMD| after matching follows the WWC
baseline-equivalence rule: at most 0.05 `ok`, at most 0.25 `adjusted` (the regression
adjustment is required, and applied), above 0.25 `not_comparable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from domain.vocabulary import OUTCOME_BALANCE_BANDS
from indicators.outcomes_exposure import CELL, CELL_CODE
from indicators.settings import Settings

BALANCE_COVARIATES: Final = (
    "baseline_absence",
    "baseline_core_fails",
    "prior_proficiency",
    "english_learner",
    "disability",
    "econ_disadvantaged",
)
BINS: Final = ("_absence_bin", "_fails_bin", "_proficiency_bin")
STRATUM: Final = (*CELL, *BINS)
WWC_OK: Final = 0.05
WWC_ADJUSTED: Final = 0.25
#: The group_value (and group_by) of the overall estimate, every matched student.
ALL: Final = "all"


def _bin(column: str, cuts: Sequence[float]) -> pl.Expr:
    value = pl.col(column)
    index = pl.sum_horizontal([(value >= cut).cast(pl.Int8) for cut in cuts])
    return pl.when(value.is_null()).then(pl.lit(-1, dtype=pl.Int8)).otherwise(index)


def coarsened(settings: Settings) -> list[pl.Expr]:
    """The three coarsened covariates of the stratum (`BINS`)."""
    return [
        _bin("baseline_absence", settings.outcomes_absence_bins).alias(BINS[0]),
        _bin("baseline_core_fails", settings.outcomes_core_fails_bins).alias(BINS[1]),
        pl.when(pl.col("prior_proficiency").is_null())
        .then(pl.lit(-1, dtype=pl.Int8))
        .otherwise((pl.col("prior_proficiency") * 2).round().cast(pl.Int8))
        .alias(BINS[2]),
    ]


#: Bits of each part of `_stratum_code`: a coarsened bin (+ 1, for the missing bin -1),
#: the exact cell's code, the keys' number.
BIN_BITS: Final = 6
CELL_BITS: Final = 24
KEY_BITS: Final = 63 - CELL_BITS - len(BINS) * BIN_BITS


def _stratum_code(frame: pl.DataFrame) -> pl.Expr:
    """`_stratum`: one integer per combination of `_key` and `STRATUM`, packed from `_key`,
    the exact cell's code (`CELL_CODE`, one per combination of `CELL`) and the bins, so
    that no join is needed to number the strata. ValueError if a part does not fit (a
    bin beyond 62, more than 2**24 cells)."""
    parts = [("_key", KEY_BITS), (CELL_CODE, CELL_BITS)] + [(b, BIN_BITS) for b in BINS]
    values = [pl.col(c).cast(pl.Int64) + (1 if c in BINS else 0) for c, _ in parts]
    # Every part's range in one pass over the frame.
    bounds = frame.select(
        *(v.min().alias(f"{i}:low") for i, v in enumerate(values)),
        *(v.max().alias(f"{i}:high") for i, v in enumerate(values)),
    ).row(0, named=True)
    code = pl.lit(0, dtype=pl.Int64)
    for index, ((column, bits), value) in enumerate(zip(parts, values, strict=True)):
        low, high = bounds[f"{index}:low"], bounds[f"{index}:high"]
        if frame.height and (low < 0 or high >= 1 << bits):
            raise ValueError(f"{column} ranges {low}..{high}, beyond {bits} bits")
        code = code * (1 << bits) + value
    return code.alias("_stratum")


def cem_weights(frame: pl.DataFrame, key: str, max_comparisons: int | None = None) -> pl.DataFrame:
    """The rows of `frame` in matched strata, with `weight` (CEM ATT weights) and, for
    `group_cells`, `_key` (the integer column `key`: one number per matching, a
    program-year and measure; which number a matching gets changes no figure),
    `_stratum` (one per stratum) and the stratum's served and comparison counts `_s` and
    `_c`. Strata are `STRATUM` within each value of `key`; `served` tells the groups
    apart. With `max_comparisons`, a stratum keeps at most that many comparison students
    per served student: those first in the seeded `draw` order."""
    numbered = frame.with_columns(pl.col(key).cast(pl.Int64).alias("_key"))
    numbered = numbered.with_columns(_stratum_code(numbered))
    served = pl.col("served")
    if max_comparisons is not None:
        # The comparison students' rank in their stratum (served students: null, kept);
        # one window key for both windows, so their groups are found once. Worked out on
        # the three columns it reads, then the wide frame is filtered once.
        rank = pl.when(~served).then(pl.col("draw")).rank("ordinal").over("_stratum")
        kept = numbered.select("_stratum", "served", "draw").select(
            served | (rank <= max_comparisons * served.sum().over("_stratum"))
        )
        numbered = numbered.filter(kept.to_series())
    counted = numbered.with_columns(
        served.sum().over("_stratum").alias("_s"), (~served).sum().over("_stratum").alias("_c")
    ).filter((pl.col("_s") > 0) & (pl.col("_c") > 0))
    return counted.with_columns(
        pl.when(served)
        .then(1.0)
        .otherwise(
            pl.col("_s")
            / pl.col("_c")
            * (~served).sum().over("_key")
            / served.sum().over("_key").cast(pl.Float64)
        )
        .alias("weight")
    )


def group_cells(cells: pl.DataFrame, group: str | None, summed: Sequence[str]) -> pl.DataFrame:
    """Every group's matched strata, from the overall matched rows summed by stratum
    (`cells`: one row per pyid, measure, `_key`, `_stratum`, served and value of every
    group field, with `_rows`, its number of rows, and the columns `summed`): one row per
    pyid, measure, `_key`, `_stratum`, `group_value` (`ALL` when `group` is None) and
    served, with `_rows` and `summed` summed and the CEM `weight` of its rows. The group is matched again from the overall
    strata: a stratum keeps only its students of the group, a stratum without a served
    or without a comparison student of the group is dropped, and the weight is the one
    `cem_weights` gives those rows on their own (the same expression of the same counts,
    so the same weight to the last bit): 1 for a served student, (served in the stratum
    of the group / comparison in it) x (comparison / served in the group's matched strata
    of the key) for a comparison student. Every row of a cell has the cell's weight, so a
    weighted sum over a group's rows is the sum over its cells of weight x the cell's sum
    (docs/outcomes.md, "Subgroup rows")."""
    served = pl.col("served")
    value = pl.lit(ALL) if group is None else pl.col(group)
    within = cells.group_by(
        "pyid", "measure", "_key", "_stratum", value.alias("group_value"), "served"
    ).agg(pl.col("_rows", *summed).sum())
    rows = pl.col("_rows")
    by_group = ["_key", "group_value"]
    counted = within.with_columns(
        pl.when(served).then(rows).otherwise(0).sum().over("_stratum", "group_value").alias("_s"),
        pl.when(served).then(0).otherwise(rows).sum().over("_stratum", "group_value").alias("_c"),
    ).filter((pl.col("_s") > 0) & (pl.col("_c") > 0))
    # Fixed row order: the sums over a group's cells add in this order (reproducible).
    counted = counted.sort("_key", "_stratum", "group_value", "served")
    return counted.with_columns(
        pl.when(served)
        .then(1.0)
        .otherwise(
            pl.col("_s")
            / pl.col("_c")
            * pl.when(served).then(0).otherwise(rows).sum().over(by_group)
            / pl.when(served).then(rows).otherwise(0).sum().over(by_group).cast(pl.Float64)
        )
        .alias("weight")
    ).drop("_s", "_c")


def correction(n: pl.Expr) -> pl.Expr:
    """The WWC small-sample correction omega = 1 - 3 / (4N - 9)."""
    return 1 - 3 / (4 * n - 9)


def _moments(column: str, weight: pl.Expr) -> list[pl.Expr]:
    present = pl.col(column).is_not_null()
    x = pl.col(column).cast(pl.Float64)
    w = pl.when(present).then(weight)
    return [
        w.sum().alias(f"{column}:n"),
        (w * x).sum().alias(f"{column}:s1"),
        (w * x * x).sum().alias(f"{column}:s2"),
    ]


def smd_frame(
    frame: pl.DataFrame, keys: Sequence[str], weight: pl.Expr, covariates: Sequence[str]
) -> pl.DataFrame:
    """Per combination of `keys` and covariate: served_mean, other_mean and smd (Hedges'
    g form, `weight` applied to both sides; 1 for served students in practice)."""
    stats = frame.group_by(*keys, "served").agg(
        [e for c in covariates for e in _moments(c, weight)]
    )
    return smd_of_moments(stats, keys, covariates)


def smd_of_moments(
    stats: pl.DataFrame, keys: Sequence[str], covariates: Sequence[str]
) -> pl.DataFrame:
    """`smd_frame` from the weighted moments of each side: `stats` holds one row per
    combination of `keys` and served, with `c:n` (the weights of the rows where the
    covariate `c` is known), `c:s1` (the weighted sum of `c`) and `c:s2` (of its square)
    for every covariate."""
    long = pl.concat(
        [
            stats.select(
                *keys,
                "served",
                pl.lit(c).alias("covariate"),
                *(pl.col(f"{c}:{m}").alias(m) for m in ("n", "s1", "s2")),
            )
            for c in covariates
        ]
    ).with_columns(
        (pl.col("s1") / pl.col("n")).alias("mean"),
        ((pl.col("s2") - pl.col("s1") ** 2 / pl.col("n")) / (pl.col("n") - 1)).alias("var"),
    )
    side = ["n", "mean", "var"]
    treated = long.filter(pl.col("served")).select(*keys, "covariate", *side)
    other = long.filter(~pl.col("served")).select(*keys, "covariate", *side)
    both = treated.join(other, on=[*keys, "covariate"], how="full", coalesce=True, suffix="_c")
    total = pl.col("n") + pl.col("n_c")
    pooled = (
        ((pl.col("n") - 1) * pl.col("var") + (pl.col("n_c") - 1) * pl.col("var_c")) / (total - 2)
    ).sqrt()
    smd = correction(total) * (pl.col("mean") - pl.col("mean_c")) / pooled
    return both.select(
        *keys,
        "covariate",
        pl.col("mean").alias("served_mean"),
        pl.col("mean_c").alias("other_mean"),
        pl.when(total > 2).then(smd.fill_nan(0.0)).alias("smd"),
    )


def balance_band(max_smd: pl.Expr) -> pl.Expr:
    """The WWC band of the largest |SMD| after matching (null when it is unknown)."""
    ok, adjusted, not_comparable = OUTCOME_BALANCE_BANDS
    return (
        pl.when(max_smd.is_null())
        .then(None)
        .when(max_smd <= WWC_OK)
        .then(pl.lit(ok))
        .when(max_smd <= WWC_ADJUSTED)
        .then(pl.lit(adjusted))
        .otherwise(pl.lit(not_comparable))
    )
