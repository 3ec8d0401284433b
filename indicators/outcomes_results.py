"""Program outcomes, step 5: the four frames of the contract from the matched rows.

`indicators.outcomes` builds the study (exposure, measures, matching); this module turns
its sample (every study row of every measure) and its matched rows (every grouping, CEM
weights) into the frames the refresh stores (docs/outcomes.md, "The estimate", "The other
figures"): `estimates` (counts, means, the naive comparison, balance band, the
regression-adjusted effect and its interval, effect size and verdict per program-year,
measure and group), `balance` (the balance table), `trajectory` (absence by month from
the start) and `served_list` (the served students). Program-years are numbered (`pyid`)
while the method runs; `programs` maps them back to school_year, org_id and service_type.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from domain.vocabulary import GROUP_FIELDS, OUTCOME_CHANGE_MEASURES, OUTCOME_MEASURES
from indicators import outcomes_estimation as estimation
from indicators.outcomes_exposure import CELL, PROGRAM_KEYS
from indicators.outcomes_matching import (
    ALL,
    BALANCE_COVARIATES,
    balance_band,
    group_cells,
    smd_frame,
    smd_of_moments,
)
from indicators.outcomes_measures import COVARIATES
from indicators.settings import Settings

SCALE: Final = dict.fromkeys(OUTCOME_MEASURES, 100.0) | {"core_fails": 1.0}
GROUP_KEYS: Final = ("pyid", "measure", "group_by", "group_value")
#: The groupings, in their order: every matched student (`ALL`), then each group field.
GROUPINGS: Final = (None, *GROUP_FIELDS)
#: The columns whose weighted moments (`c:n`, `c:s1`, `c:s2`) every group's figures read.
MOMENTS: Final = ("before", "after", *BALANCE_COVARIATES)
#: The dose columns: their sums and counts (`c:s1`, `c:n`), unweighted.
DOSES: Final = ("sessions", "hours")

ESTIMATE_SCHEMA: Final = {
    "school_year": pl.Int64,
    "org_id": pl.String,
    "service_type": pl.String,
    "measure": pl.String,
    "group_by": pl.String,
    "group_value": pl.String,
    "served": pl.Int64,
    "excluded": pl.Int64,
    "matched": pl.Int64,
    "comparison": pl.Int64,
    "unserved": pl.Int64,
    "served_before": pl.Float64,
    "served_after": pl.Float64,
    "comparison_before": pl.Float64,
    "comparison_after": pl.Float64,
    "effect": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "effect_size": pl.Float64,
    "effect_size_kind": pl.String,
    "max_smd": pl.Float64,
    "balance": pl.String,
    "naive_effect": pl.Float64,
    "verdict": pl.String,
    "mean_sessions": pl.Float64,
    "mean_hours": pl.Float64,
}
BALANCE_SCHEMA: Final = {
    "school_year": pl.Int64,
    "org_id": pl.String,
    "service_type": pl.String,
    "measure": pl.String,
    "covariate": pl.String,
    "served_mean": pl.Float64,
    "pool_mean": pl.Float64,
    "comparison_mean": pl.Float64,
    "smd_before": pl.Float64,
    "smd_after": pl.Float64,
}
TRAJECTORY_SCHEMA: Final = {
    "school_year": pl.Int64,
    "org_id": pl.String,
    "service_type": pl.String,
    "group": pl.String,
    "month_offset": pl.Int64,
    "absence_rate": pl.Float64,
    "students": pl.Int64,
}
SERVED_SCHEMA: Final = {
    "school_year": pl.Int64,
    "org_id": pl.String,
    "service_type": pl.String,
    "student_id": pl.String,
    "start_date": pl.Date,
    "matched": pl.Boolean,
    "sessions": pl.Int64,
    "hours": pl.Float64,
}


def _balance_input(frame: pl.DataFrame) -> pl.DataFrame:
    """The covariates of the balance table, numeric (the need flags as 1/0, unknown null)."""
    keys = [k for k in GROUP_KEYS if k in frame.columns]
    weight = [pl.col("weight")] if "weight" in frame.columns else []
    return frame.select(
        *keys,
        "served",
        *weight,
        *(
            pl.col(f"_{c}").alias(c) if f"_{c}" in frame.columns else pl.col(c)
            for c in BALANCE_COVARIATES
        ),
    )


def _group_values(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """`frame` once per grouping, with group_by and group_value columns."""
    out = [frame.with_columns(pl.lit(ALL).alias("group_by"), pl.lit(ALL).alias("group_value"))]
    out += [
        frame.with_columns(pl.lit(f).alias("group_by"), pl.col(f).alias("group_value"))
        for f in GROUP_FIELDS
    ]
    return out


def _counts(sample: pl.DataFrame, unserved: pl.DataFrame) -> pl.DataFrame:
    """Per group: served, excluded, unserved and the naive comparison (in measure units):
    the served students' after-period mean against every unserved student's own figure of
    the year (`indicators.outcomes_naive.unserved_sums`, the `unserved` frame).

    One pass over the served rows, by program-year, measure and every group field at
    once; each grouping then adds up those partial counts and sums (so the means are the
    same sums, added in another order)."""
    valid, after = pl.col("valid"), pl.col("after")
    counted = ("served", "excluded", "_n_t", "_sum_t")
    keys = ["pyid", "measure", *GROUP_FIELDS]
    fine = (
        sample.filter(pl.col("served"))
        .group_by(*keys, maintain_order=True)
        .agg(
            pl.len().cast(pl.Int64).alias("served"),
            (~valid).sum().cast(pl.Int64).alias("excluded"),
            valid.sum().cast(pl.Int64).alias("_n_t"),
            pl.when(valid).then(after).sum().alias("_sum_t"),
        )
    )

    def mean(total: str, n: str) -> pl.Expr:
        return pl.when(pl.col(n) > 0).then(pl.col(total) / pl.col(n))

    served_groups = [
        part.group_by(*GROUP_KEYS, maintain_order=True).agg(pl.col(c).sum() for c in counted)
        for part in _group_values(fine)
    ]
    # The unserved side of a group: every unserved student of the group in the program's
    # grades (also in a school or group no served student of that grade is in).
    other_groups = [
        part.group_by(*GROUP_KEYS, maintain_order=True).agg(
            pl.col("_n_c").sum(), pl.col("_sum_c").sum()
        )
        for part in _group_values(unserved.sort(keys, maintain_order=True))
    ]
    parts = [
        mine.join(other, on=list(GROUP_KEYS), how="left")
        .with_columns(pl.col("_n_c").fill_null(0), pl.col("_sum_c").fill_null(0.0))
        .select(
            *GROUP_KEYS,
            "served",
            "excluded",
            pl.col("_n_c").alias("unserved"),
            (mean("_sum_t", "_n_t") - mean("_sum_c", "_n_c")).alias("naive_effect"),
        )
        for mine, other in zip(served_groups, other_groups, strict=True)
    ]
    return pl.concat(parts).filter(pl.col("served") > 0)


def _cells(matched: pl.DataFrame) -> pl.DataFrame:
    """The overall matched rows summed by cell: one row per program-year, measure,
    stratum, served and value of every group field (the finest split any grouping
    needs; school and the need flags are constant within a stratum), with `_rows`, the
    moments of `MOMENTS` (`c:n` the rows where `c` is known, `c:s1` its sum, `c:s2` the
    sum of its square) and the sums and counts of `DOSES`."""
    aggregations = [pl.len().alias("_rows")]
    for name in MOMENTS:
        numeric = f"_{name}" if f"_{name}" in matched.columns else name
        x = pl.col(numeric).cast(pl.Float64)
        aggregations += [
            x.count().cast(pl.Float64).alias(f"{name}:n"),
            x.sum().alias(f"{name}:s1"),
            (x * x).sum().alias(f"{name}:s2"),
        ]
    for name in DOSES:
        aggregations += [
            pl.col(name).sum().alias(f"{name}:s1"),
            pl.col(name).count().alias(f"{name}:n"),
        ]
    keys = ["pyid", "measure", "_key", "_stratum", "served", *GROUP_FIELDS]
    return matched.group_by(keys, maintain_order=True).agg(aggregations)


def group_moments(matched: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """(per group and side: `_rows`, the weighted moments of `MOMENTS` and the dose sums,
    keyed by GROUP_KEYS and served; per grouping of `GROUPINGS`: the weight of each
    stratum, group value and side, for the regressions' rows). Every group is matched
    again from the overall strata (`indicators.outcomes_matching.group_cells`); its
    weighted sums are the sums over its cells of the cell's weight times the cell's sums
    (the rows of a cell share one weight), so no row is copied per grouping."""
    cells = _cells(matched)
    weighted = [f"{c}:{m}" for c in MOMENTS for m in ("n", "s1", "s2")]
    doses = [f"{c}:{m}" for c in DOSES for m in ("s1", "n")]
    # The cells summed to whole strata once, for the groupings that never split a
    # stratum (all, and the fields of the exact cell): the same sums in the same order.
    within = [f for f in GROUP_FIELDS if f in CELL]
    strata = cells.group_by(
        "pyid", "measure", "_key", "_stratum", "served", *within, maintain_order=True
    ).agg(pl.col("_rows", *weighted, *doses).sum())
    w = pl.col("weight")
    parts, weights = [], []
    for field in GROUPINGS:
        source = strata if field is None or field in CELL else cells
        grouped = group_cells(source, field, [*weighted, *doses])
        weights.append(grouped.select("_stratum", "group_value", "served", "weight"))
        parts.append(
            grouped.group_by("pyid", "measure", "group_value", "served", maintain_order=True)
            .agg(
                pl.col("_rows", *doses).sum(),
                *((w * pl.col(c)).sum().alias(c) for c in weighted),
            )
            .with_columns(pl.lit(field or ALL).alias("group_by"))
        )
    return pl.concat(parts), weights


def _means(moments: pl.DataFrame) -> pl.DataFrame:
    """Per group: matched, comparison, before/after means of both sides (weighted), the
    variance of the after values (for Hedges' g) and the dose of the matched served
    students (unweighted)."""

    def mean(column: str) -> pl.Expr:
        return pl.col(f"{column}:s1") / pl.col(f"{column}:n")

    n = pl.col("after:n")
    sides = moments.select(
        *GROUP_KEYS,
        "served",
        pl.col("_rows").cast(pl.Int64).alias("n"),
        mean("before").alias("before_mean"),
        mean("after").alias("after_mean"),
        ((pl.col("after:s2") - n * mean("after") * mean("after")) / (n - 1)).alias("after_var"),
        *(pl.when(pl.col(f"{c}:n") > 0).then(mean(c)).alias(f"mean_{c}") for c in DOSES),
    )
    treated = sides.filter(pl.col("served")).select(
        *GROUP_KEYS,
        pl.col("n").alias("matched"),
        pl.col("before_mean").alias("served_before"),
        pl.col("after_mean").alias("served_after"),
        pl.col("after_var").alias("_var_t"),
        "mean_sessions",
        "mean_hours",
    )
    other = sides.filter(~pl.col("served")).select(
        *GROUP_KEYS,
        pl.col("n").alias("comparison"),
        pl.col("before_mean").alias("comparison_before"),
        pl.col("after_mean").alias("comparison_after"),
        pl.col("after_var").alias("_var_c"),
    )
    return treated.join(other, on=list(GROUP_KEYS), how="inner")


def _regressions(
    matched: pl.DataFrame, groups: pl.DataFrame, weights: list[pl.DataFrame], settings: Settings
) -> pl.DataFrame:
    """effect, ci_low, ci_high (measure units) of every group (GROUP_KEYS) with enough
    matched served students: the fit of the group's rows of `matched` (the overall
    matched rows) with the group's weights (`weights`, per grouping of `GROUPINGS`)."""
    enough = groups.filter(pl.col("matched") >= settings.outcomes_min_matched).select(GROUP_KEYS)
    # Each fitted group numbered (`_gid`) in the order of its grouping, program-year,
    # measure and value: its rows are found by one integer rather than by four columns.
    numbered = (
        enough.with_columns(
            pl.col("group_by")
            .replace_strict(
                [f or ALL for f in GROUPINGS], list(range(len(GROUPINGS))), return_dtype=pl.Int64
            )
            .alias("_grouping")
        )
        .sort("_grouping", "pyid", "measure", "group_value")
        .with_row_index("_gid")
    )
    indexed = matched.with_row_index("_row")
    parts = []
    for index, field in enumerate(GROUPINGS):
        wanted = numbered.filter(pl.col("_grouping") == index).select(
            "pyid", "measure", "group_value", "_gid"
        )
        if field is None:
            rows = indexed.select(
                "_row", "pyid", "measure", pl.lit(ALL).alias("group_value"), "weight"
            )
        else:
            rows = indexed.select(
                "_row", "pyid", "measure", "_stratum", "served", pl.col(field).alias("group_value")
            ).join(weights[index], on=["_stratum", "group_value", "served"], how="inner")
        parts.append(
            rows.join(wanted, on=["pyid", "measure", "group_value"], how="inner").select(
                "_gid", "_row", "weight"
            )
        )
    # Each group's rows in the overall matched order (student order within a program-
    # year and measure), so that every fit adds its rows in one order (reproducible):
    # sorted by one integer, the group's number then the row's.
    data = pl.concat(parts).sort(
        pl.col("_gid").cast(pl.Int64) * (1 << 32) + pl.col("_row").cast(pl.Int64)
    )
    sizes = (
        data.group_by("_gid", maintain_order=True)
        .len()
        .join(numbered, on="_gid", how="left", maintain_order="left")
    )
    ends = np.cumsum(sizes["len"].to_numpy().astype(np.int64))
    change = pl.col("measure").is_in(list(OUTCOME_CHANGE_MEASURES))
    values = matched.select(
        pl.when(change).then(pl.col("after") - pl.col("before")).otherwise(pl.col("after")),
        *(pl.col(c).cast(pl.Float64).fill_null(float("nan")) for c in COVARIATES),
    ).to_numpy()
    order = data["_row"].to_numpy()
    outcome, covariates = values[order, 0], values[order, 1:]
    served = matched["served"].cast(pl.Float64).to_numpy()[order]
    # Each fit is a few hundred rows: BLAS threads only contend with each other (and with
    # Polars), which made the fits 15 times slower on a busy 2-core machine.
    with threadpool_limits(limits=1, user_api="blas"):
        fits = estimation.fit_effects(outcome, served, covariates, data["weight"].to_numpy(), ends)
    return sizes.select(*GROUP_KEYS).with_columns(
        pl.Series("effect", [f and f.effect for f in fits], dtype=pl.Float64),
        pl.Series("ci_low", [f and f.ci_low for f in fits], dtype=pl.Float64),
        pl.Series("ci_high", [f and f.ci_high for f in fits], dtype=pl.Float64),
    )


def _effect_sizes(frame: pl.DataFrame) -> pl.Series:
    """Hedges' g (change measures) or the Cox index (yes/no), per estimate row."""
    sizes: list[float | None] = []
    for row in frame.select(
        "measure",
        "effect",
        "matched",
        "comparison",
        "served_after",
        "comparison_after",
        "_var_t",
        "_var_c",
    ).iter_rows(named=True):
        size = None
        if row["effect"] is not None and not np.isnan(row["effect"]):
            n_t, n_c = row["matched"], row["comparison"]
            if row["measure"] in OUTCOME_CHANGE_MEASURES:
                if row["_var_t"] is not None and row["_var_c"] is not None and n_t + n_c > 2:
                    sd = estimation.pooled_sd(n_t, row["_var_t"], n_c, row["_var_c"])
                    size = estimation.hedges_g(row["effect"], sd, n_t, n_c)
            else:
                p_c = row["comparison_after"]
                size = estimation.cox_index(p_c + row["effect"], p_c, n_t, n_c)
        sizes.append(size)
    return pl.Series("effect_size", sizes, dtype=pl.Float64)


def estimates(
    sample: pl.DataFrame,
    unserved: pl.DataFrame,
    matched: pl.DataFrame,
    moments: tuple[pl.DataFrame, list[pl.DataFrame]],
    programs: pl.DataFrame,
    settings: Settings,
) -> pl.DataFrame:
    """The estimates frame (ESTIMATE_SCHEMA): per program-year, measure and group, the
    counts, means, naive comparison, balance band, regression-adjusted effect, effect size
    and verdict. `matched` holds the overall matched rows, `moments` their
    `group_moments`."""
    sums, weights = moments
    groups = _means(sums)
    smd = smd_of_moments(sums, list(GROUP_KEYS), BALANCE_COVARIATES)
    worst = smd.group_by(GROUP_KEYS).agg(pl.col("smd").abs().max().alias("max_smd"))
    fits = _regressions(matched, groups, weights, settings)
    keys = list(GROUP_KEYS)
    groups = groups.join(worst, on=keys, how="left").join(fits, on=keys, how="left")
    frame = (
        _counts(sample, unserved)
        .join(groups, on=keys, how="left")
        .with_columns(
            pl.col("matched", "comparison").fill_null(0),
            pl.when(pl.col("matched").fill_null(0) >= settings.outcomes_min_matched)
            .then(balance_band(pl.col("max_smd")))
            .alias("balance"),
        )
    )
    frame = frame.with_columns(_effect_sizes(frame))
    lower_better = pl.col("measure").is_in(list(OUTCOME_CHANGE_MEASURES))
    verdicts = [
        estimation.verdict(m, settings.outcomes_min_matched, b, lo, hi, lb)
        for m, b, lo, hi, lb in frame.select(
            "matched", "balance", "ci_low", "ci_high", lower_better.alias("_lb")
        ).iter_rows()
    ]
    shown = pl.col("verdict").is_in(["better", "worse", "no_difference"])
    scale = pl.col("measure").replace_strict(SCALE, return_dtype=pl.Float64)
    return (
        frame.with_columns(pl.Series("verdict", verdicts, dtype=pl.String))
        .with_columns(
            *(
                (pl.col(c) * scale).alias(c)
                for c in (
                    "served_before",
                    "served_after",
                    "comparison_before",
                    "comparison_after",
                    "naive_effect",
                )
            ),
            *(
                pl.when(shown).then(pl.col(c) * scale).alias(c)
                for c in ("effect", "ci_low", "ci_high")
            ),
            pl.when(shown).then(pl.col("effect_size")).alias("effect_size"),
            pl.when(lower_better)
            .then(pl.lit("hedges_g"))
            .otherwise(pl.lit("cox_index"))
            .alias("effect_size_kind"),
        )
        .join(programs, on="pyid")
        .with_columns(pl.col(pl.Float64).fill_nan(None))
        .select([pl.col(c).cast(t) for c, t in ESTIMATE_SCHEMA.items()])
        .sort(*list(ESTIMATE_SCHEMA)[:6])
    )


def balance(
    sample: pl.DataFrame, moments: tuple[pl.DataFrame, list[pl.DataFrame]], programs: pl.DataFrame
) -> pl.DataFrame:
    """The balance table (group_by `all`): covariate means of served students (matched),
    of the whole pool and of the matched comparison students (weighted); SMD before (every
    served student with the measure against the pool) and after matching (from the
    `group_moments` of the overall matched rows, `moments`: the figures of the estimates'
    max_smd)."""
    keys = ["pyid", "measure"]
    before = smd_frame(
        _balance_input(sample).filter(sample["valid"]),
        keys,
        pl.lit(1.0),
        BALANCE_COVARIATES,
    ).select(
        *keys,
        "covariate",
        pl.col("other_mean").alias("pool_mean"),
        pl.col("smd").alias("smd_before"),
    )
    after = smd_of_moments(
        moments[0].filter(pl.col("group_by") == ALL), keys, BALANCE_COVARIATES
    ).select(
        *keys,
        "covariate",
        "served_mean",
        pl.col("other_mean").alias("comparison_mean"),
        pl.col("smd").alias("smd_after"),
    )
    order = pl.col("covariate").replace_strict(
        list(BALANCE_COVARIATES), list(range(len(BALANCE_COVARIATES))), return_dtype=pl.Int64
    )
    return (
        after.join(before, on=[*keys, "covariate"], how="left")
        .join(programs, on="pyid")
        .with_columns(order.alias("_order"), pl.col(pl.Float64).fill_nan(None))
        .sort("school_year", "org_id", "service_type", "measure", "_order")
        .select([pl.col(c).cast(t) for c, t in BALANCE_SCHEMA.items()])
    )


def trajectory(matched: pl.DataFrame, series: pl.DataFrame, programs: pl.DataFrame) -> pl.DataFrame:
    """Absence rate by month relative to the start month, served (matched) against their
    comparison students (CEM-weighted), from the overall matched rows of absence_rate. Each
    snapshot's days since the previous one count in the snapshot's month; a month's rate is
    weighted days absent / weighted days enrolled, in percent."""
    people = matched.filter(pl.col("measure") == "absence_rate").select(
        "pyid", "school_year", "student_id", "served", "start_date", "weight"
    )
    month = pl.col("as_of_date").dt.year() * 12 + pl.col("as_of_date").dt.month()
    start = pl.col("start_date").dt.year() * 12 + pl.col("start_date").dt.month()
    w = pl.col("weight")
    return (
        people.join(
            series, on=["student_id", "school_year"], how="inner", maintain_order="left_right"
        )
        .with_columns((month - start).cast(pl.Int64).alias("month_offset"))
        .group_by("pyid", "served", "month_offset")
        .agg(
            ((w * pl.col("new_absent")).sum() / (w * pl.col("new_enrolled")).sum() * 100).alias(
                "absence_rate"
            ),
            pl.col("student_id").n_unique().cast(pl.Int64).alias("students"),
        )
        .with_columns(
            pl.when(pl.col("served"))
            .then(pl.lit("served"))
            .otherwise(pl.lit("comparison"))
            .alias("group"),
            pl.col("absence_rate").fill_nan(None),
        )
        .join(programs, on="pyid")
        .sort(
            "school_year",
            "org_id",
            "service_type",
            "group",
            "month_offset",
            descending=[False, False, False, True, False],
        )
        .select([pl.col(c).cast(t) for c, t in TRAJECTORY_SCHEMA.items()])
    )


def served_list(
    served: pl.DataFrame, matched: pl.DataFrame, programs: pl.DataFrame
) -> pl.DataFrame:
    """Every served student of every program-year; `matched` when matched in the overall
    comparison of at least one measure."""
    was_matched = (
        matched.filter(pl.col("served"))
        .join(programs, on="pyid")
        .select(*PROGRAM_KEYS, "student_id")
        .unique()
        .with_columns(pl.lit(True).alias("matched"))
    )
    return (
        served.join(was_matched, on=[*PROGRAM_KEYS, "student_id"], how="left")
        .with_columns(pl.col("matched").fill_null(False))
        .select(  # student_id stays a code: the caller decodes it
            [
                pl.col(c) if c == "student_id" else pl.col(c).cast(t)
                for c, t in SERVED_SCHEMA.items()
            ]
        )
        .sort(*PROGRAM_KEYS, "student_id")
    )
