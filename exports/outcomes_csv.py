"""`pathwise export outcomes`: the CSV of issue 13's "Command line" section (an exact
contract: a partner's analyst and the tests read it; docs/command-line.md).

- One row per program-year and measure (the `all` group), sorted by org_id, service_type,
  measure (then school year), under exactly `OUTCOMES_HEADER`.
- `served`, `matched`: the integer, or `<10` / `*` as the viewer's protection shows it.
- Group means in the measure's unit: the absence rate as a percentage with two decimals
  (`12.40`), failing core marks per student with three, shares as percentages with one;
  the `_before` columns are empty for yes/no measures.
- `effect`, `ci_low`, `ci_high`, `naive_effect`: two decimals, in the measure's unit
  (percentage points for rates and shares); `effect_size` three decimals; a figure with no
  value (no estimate, or withheld) is an empty cell.
- Identifiers (ids from the imports) are made formula-safe as every export's text is
  (`exports.formats.neutralise`); numbers are written as numbers, a leading minus included.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from exports.formats import neutralise_frame
from indicators.outcomes_schema import YES_NO_MEASURES

OUTCOMES_HEADER: Final = (
    "org_id,service_type,school_year,measure,served,matched,served_before,served_after,"
    "comparison_before,comparison_after,effect,ci_low,ci_high,effect_size,balance,"
    "naive_effect,verdict"
)
MEANS: Final = ("served_before", "served_after", "comparison_before", "comparison_after")
#: Decimals of a group mean, by measure (yes/no measures: shares, one decimal).
MEAN_DECIMALS: Final = {"absence_rate": 2, "core_fails": 3}
EFFECT_DECIMALS: Final = 2
EFFECT_SIZE_DECIMALS: Final = 3


def _fixed(column: str, decimals: pl.Expr | int) -> pl.Expr:
    """The value with `decimals` decimals as text (no `-0.00`); empty when null."""
    places = decimals if isinstance(decimals, pl.Expr) else pl.lit(decimals)
    return pl.struct(pl.col(column), places.alias("_places")).map_elements(
        lambda row: _format(row[column], row["_places"]), return_dtype=pl.String
    )


def _format(value: float | None, places: int) -> str | None:
    if value is None:
        return None
    text = f"{value:.{places}f}"
    return text.lstrip("-") if float(text) == 0 else text


def outcomes_table(rows: pl.DataFrame) -> pl.DataFrame:
    """The export's columns, formatted, from `OutcomesView.rows` (exact or protected)."""
    rows = rows.filter(pl.col("group_by") == "all").sort(
        "org_id", "service_type", "measure", "school_year"
    )
    yes_no = pl.col("measure").is_in(YES_NO_MEASURES)
    decimals = (
        pl.col("measure")
        .replace_strict(MEAN_DECIMALS, default=1, return_dtype=pl.Int64)
        .alias("_decimals")
    )
    rows = rows.with_columns(decimals)
    table = rows.select(
        pl.col("org_id"),
        pl.col("service_type"),
        pl.col("school_year").cast(pl.String),
        pl.col("measure"),
        pl.col("served_display").alias("served"),
        pl.col("matched_display").alias("matched"),
        *(
            pl.when(yes_no & pl.lit(mean.endswith("_before")))
            .then(None)
            .otherwise(_fixed(mean, pl.col("_decimals")))
            .alias(mean)
            for mean in MEANS
        ),
        *(
            _fixed(column, EFFECT_DECIMALS).alias(column)
            for column in ("effect", "ci_low", "ci_high")
        ),
        _fixed("effect_size", EFFECT_SIZE_DECIMALS).alias("effect_size"),
        pl.col("balance"),
        _fixed("naive_effect", EFFECT_DECIMALS).alias("naive_effect"),
        pl.col("verdict"),
    )
    return table


def outcomes_csv(rows: pl.DataFrame) -> str:
    """The CSV text: `outcomes_table`, its identifiers formula-safe."""
    table = outcomes_table(rows)
    text_columns = ["org_id", "service_type", "measure", "balance", "verdict"]
    safe = neutralise_frame(table.select(text_columns))
    return table.with_columns(safe).write_csv(line_terminator="\n", null_value="")
