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

Stages not observed for want of data (issue 15, the Clearinghouse): the college stages
(`COLLEGE_STAGES`: enrolled_postsecondary, persisted, the last of the funnel) of a class
are *not observed* when none of its students has college data from any source: no
Clearinghouse search (`nsc_search`) and no college value in `outcomes` (a district's own
`outcomes.csv` or the columns a report derives). Counting such a class as "not enrolled"
would say that nobody went to college when nobody looked (`college_not_observed`). A class
with college data for at least one student is observed, and its students without any are
counted as not enrolled, as a blank in `outcomes.csv` always was: the Clearinghouse
searches the whole graduating class a district submits (docs/indicators.md, "Stages not
observed yet"). The refresh works the list out and stores it with its as-of date; a stage
that is not observable yet by its date stays `not_yet` (the date comes first), and an
observable college stage of such a class is `not_observed`, marked the same way (stored
as no number, left out of rules 2 and 3, marked again at every read).

Pure Polars and dates: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import COLLEGE_STAGES, PIPELINE_STAGES
from indicators.suppression import suppress_cube

#: How an unobservable stage is displayed and exported (docs/command-line.md, `export pipeline` count).
NOT_YET: Final = "not_yet"
#: How a college stage of a class without college data is displayed and exported.
NOT_OBSERVED: Final = "not_observed"
#: What such a stage says on the page and in the PDF report.
NOT_OBSERVED_WORDS: Final = "not observed (no college data loaded for this class)"
#: The columns of `outcomes` that carry college data (a value in any of them counts).
COLLEGE_COLUMNS: Final = (
    "postsecondary_enrolled",
    "postsecondary_start_date",
    "institution_level",
    "persisted_second_year",
)

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


def college_not_observed(
    members: pl.DataFrame, outcomes: pl.DataFrame, searched: pl.Series | None = None
) -> list[int]:
    """The cohorts whose college stages are not observed: none of their members has college
    data, neither a Clearinghouse search (`searched`: the student ids of `nsc_search`)
    nor a value in any of `COLLEGE_COLUMNS` of `outcomes` (module docstring). `members`:
    `cohort, student_id` of every cohort member (the pipeline's `stage_plan`). Sorted."""
    if members.height == 0:
        return []
    present = [c for c in COLLEGE_COLUMNS if c in outcomes.columns]
    known = outcomes.filter(
        pl.any_horizontal(pl.col(c).is_not_null() for c in present) if present else pl.lit(False)
    ).get_column("student_id")
    if searched is not None:
        known = pl.concat([known, searched.cast(pl.String).rename("student_id")])
    marked = members.select(
        "cohort", pl.col("student_id").is_in(known.unique().implode()).alias("_data")
    )
    return sorted(
        marked.group_by("cohort")
        .agg(pl.col("_data").any())
        .filter(~pl.col("_data") & pl.col("cohort").is_not_null())
        .get_column("cohort")
        .to_list()
    )


def not_observed_mask(frame: pl.DataFrame, not_observed: Collection[int]) -> pl.Series:
    """Per row of a frame with `cohort` and `stage` columns: is it a college stage of a
    cohort without college data (`college_not_observed`)?"""
    cohorts = pl.Series(sorted(not_observed), dtype=pl.Int64)
    return frame.select(
        (
            pl.col("cohort").cast(pl.Int64).is_in(cohorts.implode())
            & pl.col("stage").is_in(list(COLLEGE_STAGES))
        ).alias("_not_observed")
    ).get_column("_not_observed")


def mark_not_yet(
    rows: pl.DataFrame, as_of: date, not_observed: Collection[int] = ()
) -> pl.DataFrame:
    """Rows of a shown funnel (`cohort, stage, display, shown, share`, any other columns
    kept) with every stage not observable as of `as_of` turned into `display = not_yet`,
    and every other college stage of a cohort of `not_observed` into `not_observed`;
    `shown` and `share` null for both: never a number, never `<10` or `*`."""
    if rows.height == 0:
        return rows
    observed = observed_mask(rows, as_of)
    missing = not_observed_mask(rows, not_observed) & observed
    kept = observed & ~missing
    return rows.with_columns(
        pl.when(kept)
        .then(pl.col("display"))
        .when(missing)
        .then(pl.lit(NOT_OBSERVED))
        .otherwise(pl.lit(NOT_YET))
        .alias("display"),
        pl.when(kept).then(pl.col("shown")).otherwise(None).alias("shown"),
        pl.when(kept).then(pl.col("share")).otherwise(None).alias("share"),
    )


def suppress_observed_cube(
    cube: pl.DataFrame, min_cell: int, as_of: date, not_observed: Collection[int] = ()
) -> pl.DataFrame:
    """The protected cube as of `as_of`: `suppress_cube` (docs/access-rules.md rules 1-5) over the
    observed stages of each cohort only, every stage not observable yet `not_yet` and every
    other college stage of a cohort of `not_observed` `not_observed` (no number, so no
    hidden value is stored for either). Rows keep the cube's order.

    Rules 2 and 3 thus never compare an observed count with an unobserved one, and a
    cohort with no observable stage holds only `not_yet` rows."""
    if cube.height == 0:
        return suppress_cube(cube, min_cell)
    on_time = observed_mask(cube, as_of)
    missing = not_observed_mask(cube, not_observed) & on_time
    observed = on_time & ~missing
    numbered = cube.with_row_index("_row")
    keys = ["cohort", "group_by", "group", "stage"]
    later = (
        numbered.with_columns(missing.alias("_missing"))
        .filter(~observed)
        .drop("count")
        .with_columns(
            pl.when(pl.col("_missing"))
            .then(pl.lit(NOT_OBSERVED))
            .otherwise(pl.lit(NOT_YET))
            .alias("display"),
            pl.lit(None, dtype=pl.Int64).alias("shown"),
            pl.lit(None, dtype=pl.Float64).alias("share"),
        )
        .drop("_missing")
    )
    if not observed.any():
        return later.drop("_row")
    shown = suppress_cube(numbered.filter(observed).drop("_row"), min_cell).join(
        numbered.select(*keys, "_row"), on=keys, how="left"
    )
    return pl.concat([shown, later.select(shown.columns)]).sort("_row").drop("_row")
