"""Small-cell protection of the outcome figures ("Is it working?", issue 13) for every
viewer who may not see the students behind them (docs/access-rules.md, "Is it working?").

The counts go through the same machinery as the pipeline (`indicators.suppression`, NCES
SLDS Technical Brief 3): for each program-year and measure,

- `served` then `matched` are a funnel of two stages (matched served students are some of
  the served), and `comparison` a table of one stage; each is suppressed over the `all`
  row and every grouping at once (`suppress_cube`): rule 1 (a count under `min_cell`,
  zero included, is `<10`), rule 2 (along the funnel, `matched` is shown only when it
  differs from `served` by at least min_cell), rule 3 and its safeguards (the hidden
  groups of a grouping add up to at least min_cell and come from two groups at least, and
  no hidden count can be pinned by subtraction from the `all` row, nesting included).
  A grouping whose groups do not add up to the `all` row cannot be protected that way,
  so none of its rows is published.
- Means, effects, confidence intervals, effect sizes, the naive effect, balance and dose
  are published for a row only beside exactly shown counts of both sides: `served` and
  `comparison` shown exactly and `matched` not under min_cell (rule 4's "a percentage
  appears only next to a count shown exactly", applied to every figure about the
  students). So no figure is ever published about fewer than min_cell students on
  either side, and a hidden count cannot be worked out from a mean and the `all` row's
  mean, whose weights would be hidden. The naive effect needs the unserved side to
  number at least min_cell too. A row whose figures are withheld says `too_few` (too few
  students to tell): the exact verdict would tell which side of zero a hidden effect is.
- The `excluded` and `unserved` counts are not published at all.

The trajectory (absence rate by month relative to the start, served against comparison)
is published only for a program-year whose `absence_rate` estimate is published (`all`
row), and then only its points of at least min_cell students (the others: no rate,
`<10`). The balance table likewise (`publishable_balance`).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from indicators.outcomes_schema import (
    BALANCE_SCHEMA,
    DISPLAYED_COUNTS,
    ESTIMATE_KEYS,
    ESTIMATES_SCHEMA,
    PUBLIC_ESTIMATES_SCHEMA,
    PUBLIC_TRAJECTORY_SCHEMA,
    TOO_FEW,
    TRAJECTORY_SCHEMA,
    conform,
    empty,
)
from indicators.suppression import ALL, suppress_cube

#: One program-year's figure for one measure: what the small-cell rules work over.
PROGRAM_MEASURE: Final = ("school_year", "org_id", "service_type", "measure")
PROGRAM_YEAR: Final = ("school_year", "org_id", "service_type")
#: The figures withheld beside a hidden or small count (the verdict becomes `too_few`).
WITHHELD: Final = (
    "served_before",
    "served_after",
    "comparison_before",
    "comparison_after",
    "effect",
    "ci_low",
    "ci_high",
    "effect_size",
    "max_smd",
    "balance",
    "mean_sessions",
    "mean_hours",
)
_FUNNEL: Final = ("served", "matched")


def _complete_groupings(estimates: pl.DataFrame) -> pl.DataFrame:
    """The rows that can be protected together: program-measures with an `all` row, and of
    them the groupings whose groups add up to it in every count shown (the others are
    withheld whole)."""
    totals = estimates.filter(pl.col("group_by") == ALL).select(
        *PROGRAM_MEASURE, *(pl.col(c).alias(f"_all_{c}") for c in DISPLAYED_COUNTS)
    )
    sums = (
        estimates.filter(pl.col("group_by") != ALL)
        .group_by(*PROGRAM_MEASURE, "group_by")
        .agg(*(pl.col(c).sum().alias(f"_sum_{c}") for c in DISPLAYED_COUNTS))
        .join(totals, on=list(PROGRAM_MEASURE), how="inner")
        .filter(
            pl.all_horizontal(pl.col(f"_sum_{c}") == pl.col(f"_all_{c}") for c in DISPLAYED_COUNTS)
        )
        .select(*PROGRAM_MEASURE, "group_by")
    )
    whole = pl.concat([totals.select(*PROGRAM_MEASURE).with_columns(group_by=pl.lit(ALL)), sums])
    return estimates.join(whole, on=[*PROGRAM_MEASURE, "group_by"], how="semi")


def _suppressed(rows: pl.DataFrame, stages: tuple[str, ...], min_cell: int) -> pl.DataFrame:
    """`suppress_cube` over `rows` with `stages` as the funnel of each group: the keys,
    and `<stage>_display`, `<stage>_shown` per stage."""
    keyed = rows.with_columns(
        cohort=pl.struct(*PROGRAM_MEASURE).rank("dense").cast(pl.Int64),
        _all_first=pl.col("group_by") != ALL,
    ).sort("cohort", "_all_first", "group_by", "group_value")
    cube = keyed.select(
        "cohort", "group_by", pl.col("group_value").alias("group"), *stages
    ).unpivot(index=["cohort", "group_by", "group"], variable_name="stage", value_name="count")
    order = {stage: i for i, stage in enumerate(stages)}
    cube = cube.with_columns(
        _row=pl.int_range(pl.len()).over("stage"),
        _stage=pl.col("stage").replace_strict(order, return_dtype=pl.Int64),
    ).sort("_row", "_stage")
    shown = suppress_cube(cube.drop("_row", "_stage"), min_cell)
    wide = shown.pivot(
        on="stage", index=["cohort", "group_by", "group"], values=["display", "shown"]
    )
    renamed = {
        f"{what}_{stage}": f"{stage}_{what}" for stage in stages for what in ("display", "shown")
    }
    wide = wide.rename({k: v for k, v in renamed.items() if k in wide.columns})
    return (
        keyed.select(*ESTIMATE_KEYS, "cohort")
        .join(wide.rename({"group": "group_value"}), on=["cohort", "group_by", "group_value"])
        .drop("cohort")
    )


def protect_estimates(estimates: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """The estimates as a viewer without exact rights may see them (the module's rules):
    `PUBLIC_ESTIMATES_SCHEMA`'s columns, rows in the keys' order."""
    if min_cell < 1:
        raise ValueError(f"min_cell must be at least 1, got {min_cell}")
    estimates = conform(estimates, ESTIMATES_SCHEMA)
    if estimates.select(ESTIMATE_KEYS).is_duplicated().any():
        raise ValueError("each program-year, measure and group must appear once")
    rows = _complete_groupings(estimates)
    if rows.height == 0:
        return empty(PUBLIC_ESTIMATES_SCHEMA)
    counts = _suppressed(rows, _FUNNEL, min_cell).join(
        _suppressed(rows, ("comparison",), min_cell), on=list(ESTIMATE_KEYS)
    )
    small = f"<{min_cell}"
    publish = (
        pl.col("served_shown").is_not_null()
        & pl.col("comparison_shown").is_not_null()
        & (pl.col("matched_display") != small)
    )
    naive = publish & (pl.col("unserved") >= min_cell)
    public = (
        rows.join(counts, on=list(ESTIMATE_KEYS))
        .with_columns(
            *(pl.when(publish).then(pl.col(c)).otherwise(None).alias(c) for c in WITHHELD),
            naive_effect=pl.when(naive).then(pl.col("naive_effect")).otherwise(None),
            verdict=pl.when(publish).then(pl.col("verdict")).otherwise(pl.lit(TOO_FEW)),
        )
        .drop(*DISPLAYED_COUNTS)
        .rename({f"{c}_shown": c for c in DISPLAYED_COUNTS})
    )
    return conform(public, PUBLIC_ESTIMATES_SCHEMA).sort(ESTIMATE_KEYS)


def _published_programs(public_estimates: pl.DataFrame, measure: str | None) -> pl.DataFrame:
    """The program-years (and measures) whose `all` row has its figures published."""
    rows = public_estimates.filter(
        (pl.col("group_by") == ALL) & pl.col("served_after").is_not_null()
    )
    if measure is not None:
        rows = rows.filter(pl.col("measure") == measure)
    return rows.select(*(PROGRAM_YEAR if measure else PROGRAM_MEASURE)).unique()


def protect_trajectory(
    trajectory: pl.DataFrame, public_estimates: pl.DataFrame, min_cell: int
) -> pl.DataFrame:
    """The trajectory as a viewer without exact rights may see it: only programs whose
    `absence_rate` figures are published; a point of fewer than min_cell students has no
    rate and `students_display` `<min_cell` (`students` null)."""
    trajectory = conform(trajectory, TRAJECTORY_SCHEMA)
    published = _published_programs(public_estimates, "absence_rate")
    kept = trajectory.join(published, on=list(PROGRAM_YEAR), how="semi")
    enough = pl.col("students") >= min_cell
    return conform(
        kept.with_columns(
            absence_rate=pl.when(enough).then(pl.col("absence_rate")).otherwise(None),
            students_display=pl.when(enough)
            .then(pl.col("students").cast(pl.String))
            .otherwise(pl.lit(f"<{min_cell}")),
            students=pl.when(enough).then(pl.col("students")).otherwise(None),
        ),
        PUBLIC_TRAJECTORY_SCHEMA,
    ).sort("school_year", "org_id", "service_type", "group", "month_offset")


def publishable_balance(balance: pl.DataFrame, public_estimates: pl.DataFrame) -> pl.DataFrame:
    """The balance rows a viewer without exact rights may see: those of a program-year's
    measure whose `all` row has its figures published (otherwise the covariate means
    would be figures about fewer than min_cell students)."""
    balance = conform(balance, BALANCE_SCHEMA)
    published = _published_programs(public_estimates, None)
    return balance.join(published, on=list(PROGRAM_MEASURE), how="semi")
