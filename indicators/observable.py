"""When a stage of the cohort pipeline can be observed (issue 12, "Observed stages only").

A stage of cohort C (the class expected to graduate in C) is *observable* as of a date D
when D is on or after the date below; before it, the stage has not happened yet for that
class, and a count of it is no figure at all (showing it as 0, `<10` or `*` would say that
the class collapsed). The dates follow the conventions the stages are defined by:

| stage | observable from | why |
|---|---|---|
| `entered_grade_9` | Aug 1 of C-4 | the first day of school year C-3, the class's grade-9 year |
| `reached_grade_12` | Aug 1 of C-1 | the first day of school year C, its senior year |
| `graduated` | Sep 1 of C | the federal four-year adjusted cohort graduation rate (ACGR, 34 CFR 200.19(b)(1)) counts graduates "in four years", summer graduates included, through Aug 31 |
| `fafsa_completed` | Jul 1 of C | NCAN's FAFSA Tracker benchmark: completions by June 30 of the senior year |
| `enrolled_postsecondary` | Nov 1 of C | the National Student Clearinghouse's first-fall ("immediate enrollment") window ends Oct 31 |
| `persisted` | Nov 1 of C+1 | the same window a year later (enrolled in a second fall) |

The funnel is nested (a student counts at a stage only after reaching every earlier one:
"FAFSA completed" counts graduates who completed the FAFSA), so in a funnel a stage is
shown only once it *and every earlier stage of that funnel* are observable
(`funnel_observable_from`): "FAFSA completed" appears with "Graduated", on Sep 1 of C.
The not-yet stages of a funnel are therefore always its last ones.

Who applies it where (docs/indicators.md, "Stages not observed yet"):
- the refresh stores the protected cube as of its as-of date: a not-yet stage is stored
  as `not_yet` (no number) and the small-cell rules 2 and 3 run over the observable
  stages only (`suppress_observed_cube`);
- every read (page, export) shows a stage only when it is observable both as of the
  reader's "today" and as of the last refresh (`mark_not_yet` with the earlier of the two
  dates), for exact and protected views alike, so the two views always agree. A stage
  whose date passes between two refreshes says "not yet" until the next refresh.

Pure Polars and dates: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import PIPELINE_STAGES
from indicators.suppression import suppress_cube

#: How an unobservable stage is displayed and exported (docs/command-line.md, `export pipeline` count).
NOT_YET: Final = "not_yet"

#: stage -> (year relative to the cohort year C, month, day) from which it is observable.
OBSERVABLE_FROM: Final[dict[str, tuple[int, int, int]]] = {
    "entered_grade_9": (-4, 8, 1),  # first day of school year C-3 (grade 9)
    "reached_grade_12": (-1, 8, 1),  # first day of school year C (grade 12)
    "graduated": (0, 9, 1),  # ACGR: summer graduates count through Aug 31 of C
    "fafsa_completed": (0, 7, 1),  # NCAN FAFSA Tracker: completions by June 30 of C
    "enrolled_postsecondary": (0, 11, 1),  # NSC first-fall window ends Oct 31 of C
    "persisted": (1, 11, 1),  # NSC: enrolled again in the second fall, C+1
}
assert set(OBSERVABLE_FROM) == set(PIPELINE_STAGES)


def observable_from(stage: str, cohort: int) -> date:
    """The first date on which `stage` of the class of `cohort` is observable (the table
    of this module: ACGR summer graduates, NCAN's June 30 benchmark, the Clearinghouse's
    first-fall window)."""
    try:
        years, month, day = OBSERVABLE_FROM[stage]
    except KeyError:
        raise ValueError(f"unknown pipeline stage {stage!r}") from None
    return date(cohort + years, month, day)


def observable(stage: str, cohort: int, as_of: date) -> bool:
    """True when `stage` of the class of `cohort` is observable as of `as_of` (on or after
    `observable_from`)."""
    return as_of >= observable_from(stage, cohort)


def funnel_observable_from(stage: str, cohort: int, stages: Sequence[str]) -> date:
    """The first date on which `stage` may be shown in a nested funnel of `stages` (in
    funnel order): the latest `observable_from` of the stage and every stage before it."""
    if stage not in stages:
        raise ValueError(f"stage {stage!r} is not one of the funnel's {list(stages)}")
    prefix = stages[: list(stages).index(stage) + 1]
    return max(observable_from(s, cohort) for s in prefix)


def not_yet_words(stage: str, cohort: int, stages: Sequence[str], as_of: date) -> str:
    """What a stage not shown yet says: "not yet (from Sep 1, 2027)". When that date has
    passed but the stored figures were refreshed before it, it says they come with the
    next refresh (the page and the PDF report print the same words)."""
    start = funnel_observable_from(stage, cohort, stages)
    day = f"{start:%b} {start.day}, {start.year}"
    if start <= as_of:
        return f"not yet (from {day}; figures refreshed before then)"
    return f"not yet (from {day})"


def observed_stages(cohort: int, stages: Sequence[str], as_of: date) -> list[str]:
    """The stages of a nested funnel that may be shown as of `as_of` (always a prefix)."""
    return [s for s in stages if as_of >= funnel_observable_from(s, cohort, stages)]


def _funnel_stages(stage_names: Iterable[str]) -> list[str]:
    present = set(stage_names)
    return [s for s in PIPELINE_STAGES if s in present]


def observed_mask(frame: pl.DataFrame, as_of: date) -> pl.Series:
    """Per row of a frame with `cohort` and `stage` columns: may the stage of that cohort
    be shown as of `as_of`? The funnel is made of the stages present in the frame."""
    stages = _funnel_stages(frame["stage"].unique().to_list())
    pairs = frame.select("cohort", "stage").unique()
    allowed = pairs.with_columns(
        pl.Series(
            "_observed",
            [
                as_of >= funnel_observable_from(stage, int(cohort), stages)
                for cohort, stage in pairs.iter_rows()
            ],
            dtype=pl.Boolean,
        )
    )
    return frame.select("cohort", "stage").join(
        allowed, on=["cohort", "stage"], how="left", maintain_order="left"
    )["_observed"]


def mark_not_yet(rows: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Rows of a shown funnel (`cohort, stage, display, shown, share`, any other columns
    kept) with every stage not observable as of `as_of` turned into `display = not_yet`,
    `shown` and `share` null: never a number, never `<10` or `*`."""
    if rows.height == 0:
        return rows
    observed = observed_mask(rows, as_of)
    return rows.with_columns(
        pl.when(observed).then(pl.col("display")).otherwise(pl.lit(NOT_YET)).alias("display"),
        pl.when(observed).then(pl.col("shown")).otherwise(None).alias("shown"),
        pl.when(observed).then(pl.col("share")).otherwise(None).alias("share"),
    )


def suppress_observed_cube(cube: pl.DataFrame, min_cell: int, as_of: date) -> pl.DataFrame:
    """The protected cube as of `as_of`: `suppress_cube` (docs/access-rules.md rules 1-5) over the
    observable stages of each cohort only, and every other stage `not_yet` (no number, so
    no hidden value is stored for it). Rows keep the cube's order.

    Rules 2 and 3 thus never compare an observable count with a not-yet one, and a cohort
    with no observable stage holds only `not_yet` rows."""
    if cube.height == 0:
        return suppress_cube(cube, min_cell)
    numbered = cube.with_row_index("_row")
    observed = observed_mask(cube, as_of)
    keys = ["cohort", "group_by", "group", "stage"]
    later = (
        numbered.filter(~observed)
        .drop("count")
        .with_columns(
            pl.lit(NOT_YET).alias("display"),
            pl.lit(None, dtype=pl.Int64).alias("shown"),
            pl.lit(None, dtype=pl.Float64).alias("share"),
        )
    )
    if not observed.any():
        return later.drop("_row")
    shown = suppress_cube(numbered.filter(observed).drop("_row"), min_cell).join(
        numbered.select(*keys, "_row"), on=keys, how="left"
    )
    return pl.concat([shown, later.select(shown.columns)]).sort("_row").drop("_row")
