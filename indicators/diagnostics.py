"""The college-going diagnostic: four views of the pipeline from the Strategic Data
Project's College-Going Pathways (Harvard CEPR; open source as OpenSDP/college-going-r
and college-going-stata, `docs/college_going_*.md`). Definitions: docs/indicators.md,
"The college-going diagnostic".

- Which schools leak most (SDP pipeline "Overall Progression" by high school, chart A1):
  each stage's share of the students who entered grade 9, per high school, with the
  district average and the lowest and highest school marked. Read from the cube's
  `school_id` grouping (`school_rates`).
- Does prior achievement explain the gaps (SDP "High School Completion Rates by 8th
  Grade Achievement Quartiles" and "College Enrollment Rates by 8th Grade Achievement
  Quartiles", C and D charts): the cube grouped by `prior_achievement` (the quartile of
  the student's earliest high-school state test score, `prior_achievement_quartiles`) and
  by quartile and race together (`prior_achievement_race`, protected by `protect_two_way`).
- Seamless or delayed (SDP "Seamless and Delayed College Enrollment Rates by High
  School", D1/D2): graduates split by when and where they first enrolled
  (`college_timing`).
- On-track in grade 9 and what follows (SDP pipeline "Progression by Students' On-Track
  Status After Ninth Grade", A4): the cube's `on_track_9` grouping at every stage
  (`group_rates`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import INSTITUTION_LEVELS, RACE_ETHNICITIES, UNKNOWN_GROUP
from indicators.suppression import (
    SUPPRESSED,
    show_exact,
    suppress_groups,
    tighten_chain,
    tighten_sum,
)

PRIOR_ACHIEVEMENT_GROUPING: Final = "prior_achievement"
#: Quartile 1 is the lowest quarter of scores; students without a score are their own group.
NO_SCORE: Final = "no_score"
QUARTILES: Final = ("q1", "q2", "q3", "q4")
PRIOR_ACHIEVEMENT_GROUPS: Final = (*QUARTILES, NO_SCORE)
#: The quartile x race two-way table, one group per pair, labelled "q1|hispanic".
PRIOR_ACHIEVEMENT_RACE_GROUPING: Final = "prior_achievement_race"
PAIR_SEPARATOR: Final = "|"
#: Subjects tried in order for the prior-achievement score (math, then ELA).
PRIOR_ACHIEVEMENT_SUBJECTS: Final = ("math", "ela")

COLLEGE_TIMING_GROUPING: Final = "college_timing"
#: Levels in display order (4-year first, as SDP's charts), then a level not reported.
TIMING_LEVELS: Final = ("4yr", "2yr", "less_than_2yr", UNKNOWN_GROUP)
SEAMLESS: Final = "seamless"
DELAYED: Final = "delayed"
NOT_ENROLLED: Final = "not_enrolled"
NOT_YET: Final = "not_yet"
#: Every graduate of a class without college data (indicators.observable.college_not_observed).
NOT_OBSERVED: Final = "not_observed"
TIMING_GROUPS: Final = (
    *(f"{SEAMLESS}_{level}" for level in TIMING_LEVELS),
    *(f"{DELAYED}_{level}" for level in TIMING_LEVELS),
    NOT_ENROLLED,
    NOT_YET,
    NOT_OBSERVED,
)
#: The delayed-enrollment window: two years after the seamless one (SDP
#: `enrl_ever_w2_grad_*`, "enrolled within two years of high-school graduation").
DELAYED_WINDOW_YEARS: Final = 2
assert set(INSTITUTION_LEVELS) <= set(TIMING_LEVELS)


def pair_label(quartile: str, race: str) -> str:
    return f"{quartile}{PAIR_SEPARATOR}{race}"


def two_way_order() -> tuple[str, ...]:
    """Display order of the quartile x race groups: quartile, then race, unknown last."""
    races = (*RACE_ETHNICITIES, UNKNOWN_GROUP)
    return tuple(pair_label(q, r) for q in PRIOR_ACHIEVEMENT_GROUPS for r in races)


# ---------------------------------------------------------------------------------------
# Prior achievement
# ---------------------------------------------------------------------------------------


def prior_achievement_quartiles(test_scores: pl.LazyFrame, members: pl.LazyFrame) -> pl.LazyFrame:
    """(student_id, cohort, prior_achievement) for every cohort member (`members`:
    student_id, cohort, as `pipeline.cohort_members`) with a score.

    Rule (docs/indicators.md): the student's earliest state test score in high school,
    i.e. a `scale_score` of school years C-3 to C for cohort C, earliest by school year,
    then test_date (a blank date last), then test_name; a math score if there is one,
    else an ELA score (SDP uses the grade-8 math score, `qrt_8_math`). Quartiles are
    taken within the cohort among the students whose score is of the same test and
    subject (scale scores are only comparable within one test): with n such scores and
    r the score's rank from the lowest (ties share the lowest rank), the quartile is
    1 + floor(4 (r - 1) / n), so tied scores fall in one quartile. A student without any
    such score has no row; the cube puts them in the group "no_score".
    """
    cohort_of = members.select("student_id", "cohort")
    subject_rank = pl.col("subject").replace_strict(
        list(PRIOR_ACHIEVEMENT_SUBJECTS),
        list(range(len(PRIOR_ACHIEVEMENT_SUBJECTS))),
        return_dtype=pl.Int64,
    )
    scores = (
        test_scores.filter(
            pl.col("subject").is_in(list(PRIOR_ACHIEVEMENT_SUBJECTS))
            & pl.col("scale_score").is_not_null()
        )
        .join(cohort_of, on="student_id")
        .filter(pl.col("school_year").is_between(pl.col("cohort") - 3, pl.col("cohort")))
    )
    order = [subject_rank, pl.col("school_year"), pl.col("test_date"), pl.col("test_name"),
             pl.col("scale_score")]  # fmt: skip
    earliest = scores.group_by("student_id", "cohort").agg(
        pl.col("subject", "test_name", "scale_score").sort_by(order, nulls_last=True).first()
    )
    within = ["cohort", "subject", "test_name"]
    rank = pl.col("scale_score").rank("min").over(within)
    size = pl.len().over(within)
    quartile = (1 + (4 * (rank.cast(pl.Int64) - 1)) // size).cast(pl.Int64)
    return earliest.select(
        "student_id",
        "cohort",
        pl.concat_str(pl.lit("q"), quartile.cast(pl.String)).alias(PRIOR_ACHIEVEMENT_GROUPING),
    )


# ---------------------------------------------------------------------------------------
# Seamless or delayed, two-year or four-year
# ---------------------------------------------------------------------------------------


def seamless_deadline(cohort: int) -> date:
    """A seamless enrollment starts on or before Oct 31 of the graduation year (the
    Clearinghouse's first-fall window; SDP's `enrl_1oct_grad_yr1` uses Oct 1)."""
    return date(cohort, 10, 31)


def delayed_deadline(cohort: int) -> date:
    """A delayed enrollment starts after the seamless window and on or before Oct 31 two
    years later (SDP `enrl_ever_w2_grad`)."""
    return date(cohort + DELAYED_WINDOW_YEARS, 10, 31)


def college_timing(
    graduates: pl.DataFrame, as_of: date, not_observed: Collection[int] = ()
) -> pl.DataFrame:
    """Graduates of each cohort split by when and where they first enrolled.

    `graduates`: one row per graduate (the funnel's `graduated` stage, so the split adds
    up to it) with cohort, postsecondary_enrolled, postsecondary_start_date and
    institution_level. A graduate is seamless when enrolled with a start date on or
    before `seamless_deadline`, delayed when it is after that and on or before
    `delayed_deadline`, otherwise not enrolled (no Clearinghouse record means not
    enrolled); seamless and delayed are split by `institution_level` ("unknown" when
    blank). What is not yet observable as of `as_of` is "not_yet": every graduate before
    Nov 1 of the graduation year, and every graduate not enrolled seamlessly until the
    delayed window closes (delayed and not enrolled are then unknown). A cohort of
    `not_observed` (no college data at all, `observable.college_not_observed`) has one
    group once its first fall has closed, "not_observed": its graduates are neither
    seamless, delayed nor "not enrolled".

    Returns cohort, group (`TIMING_GROUPS` that can occur for that cohort as of `as_of`:
    no delayed or not-enrolled group while the window is open, no "not_yet" after it
    closed), count; every applicable group present, zeros included.
    """
    start = pl.col("postsecondary_start_date")
    enrolled = pl.col("postsecondary_enrolled").fill_null(False) & start.is_not_null()
    seamless_by = pl.date(pl.col("cohort"), 10, 31)
    delayed_by = pl.date(pl.col("cohort") + DELAYED_WINDOW_YEARS, 10, 31)
    level = pl.col("institution_level").fill_null(UNKNOWN_GROUP)
    seamless_known = seamless_by < as_of
    delayed_known = delayed_by < as_of
    unobserved = (
        pl.col("cohort")
        .cast(pl.Int64)
        .is_in(pl.Series(sorted(not_observed), dtype=pl.Int64).implode())
    )
    group = (
        pl.when(seamless_known.not_())
        .then(pl.lit(NOT_YET))
        .when(unobserved)
        .then(pl.lit(NOT_OBSERVED))
        .when(enrolled & (start <= seamless_by))
        .then(pl.lit(f"{SEAMLESS}_") + level)
        .when(delayed_known.not_())
        .then(pl.lit(NOT_YET))
        .when(enrolled & (start <= delayed_by))
        .then(pl.lit(f"{DELAYED}_") + level)
        .otherwise(pl.lit(NOT_ENROLLED))
    )
    counts = graduates.group_by("cohort", group.alias("group")).agg(
        pl.len().cast(pl.Int64).alias("count")
    )
    cohorts = sorted(set(graduates["cohort"].to_list()))
    rows = [(c, g) for c in cohorts for g in timing_groups(c, as_of, c not in not_observed)]
    frame = pl.DataFrame(rows, schema={"cohort": pl.Int64, "group": pl.String}, orient="row")
    return frame.join(counts, on=["cohort", "group"], how="left").with_columns(
        pl.col("count").fill_null(0)
    )


def timing_groups(cohort: int, as_of: date, observed: bool = True) -> tuple[str, ...]:
    """The timing groups a cohort has as of `as_of` (see `college_timing`); `observed`
    false for a cohort without college data."""
    if as_of <= seamless_deadline(cohort):
        return (NOT_YET,)
    if not observed:
        return (NOT_OBSERVED,)
    seamless = tuple(g for g in TIMING_GROUPS if g.startswith(SEAMLESS))
    if as_of <= delayed_deadline(cohort):
        return (*seamless, NOT_YET)
    return tuple(g for g in TIMING_GROUPS if g not in (NOT_YET, NOT_OBSERVED))


def protect_timing(
    timing: pl.DataFrame, graduates_shown_exact: bool, min_cell: int
) -> pl.DataFrame:
    """One cohort's timing split as a protected viewer may see it: the parts of one
    total (the cohort's graduates), so the small-cell rules 1, 3 and 4 (docs/access-rules.md) apply as for a table of
    groups (`suppression.suppress_groups`, share of the graduates). The graduates' count
    is published in the cube's "all" funnel: when it is hidden there
    (`graduates_shown_exact` false), or when the rules would hide it to protect the
    parts, every part is shown as `*`, so the parts never add up to a hidden total and
    only their sum, already published, is known.

    Returns group, display, shown, share."""
    groups = timing.select("group", "count")
    protected = suppress_groups(groups, min_cell=min_cell, share_of="total")
    total_hidden = protected.totals["shown"][0] is None and int(groups["count"].sum()) > 0
    if total_hidden or not graduates_shown_exact:
        return groups.select(
            "group",
            pl.lit(SUPPRESSED).alias("display"),
            pl.lit(None, dtype=pl.Int64).alias("shown"),
            pl.lit(None, dtype=pl.Float64).alias("share"),
        )
    return protected.groups


def exact_timing(timing: pl.DataFrame) -> pl.DataFrame:
    """One cohort's timing split for an exact viewer: group, display, shown, share."""
    return show_exact(timing.select("group", "count"), share_of="total")


# ---------------------------------------------------------------------------------------
# The quartile x race table and its margins
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwoWay:
    """One cohort's quartile x race counts: cells[q][r][s] for quartile groups `rows`,
    races `columns` and `stages` (every (q, r) present, zeros included)."""

    rows: list[str]
    columns: list[str]
    stages: list[str]
    cells: list[list[list[int]]]
    #: How the protected cube shows each quartile's, each race's and the whole cohort's
    #: count of each stage ("exact", "small" or "protected"); None: shown exactly.
    row_states: list[list[str]] | None = None
    column_states: list[list[str]] | None = None
    total_states: list[str] | None = None

    @classmethod
    def of(
        cls, frame: pl.DataFrame, stages: Sequence[str], public: pl.DataFrame | None = None
    ) -> TwoWay:
        """From cube rows (group "q1|hispanic", stage, count) of one cohort, and the
        protected cube's rows of that cohort (`public`: group_by, group, stage, display)
        for the margins."""
        split = frame.with_columns(
            pl.col("group").str.split_exact(PAIR_SEPARATOR, 1).struct.rename_fields(["q", "r"])
        ).unnest("group")
        rows = [g for g in PRIOR_ACHIEVEMENT_GROUPS if g in set(split["q"].to_list())]
        rows += sorted(set(split["q"].to_list()) - set(rows))
        races = (*RACE_ETHNICITIES, UNKNOWN_GROUP)
        columns = [r for r in races if r in set(split["r"].to_list())]
        columns += sorted(set(split["r"].to_list()) - set(columns))
        index = {(q, r, s): c for q, r, s, c in split.select("q", "r", "stage", "count").rows()}
        cells = [[[index.get((q, r, s), 0) for s in stages] for r in columns] for q in rows]
        if public is None:
            return cls(rows, columns, list(stages), cells)
        shown = {
            (b, g, s): _state_of(d)
            for b, g, s, d in public.select("group_by", "group", "stage", "display").rows()
        }

        def states(grouping: str, group: str) -> list[str]:
            return [shown.get((grouping, group, s), "protected") for s in stages]

        return cls(
            rows, columns, list(stages), cells,
            [states(PRIOR_ACHIEVEMENT_GROUPING, q) for q in rows],
            [states("race_ethnicity", r) for r in columns],
            states("all", "all"),
        )  # fmt: skip


def _state_of(display: str) -> str:
    if display.isdigit():
        return "exact"
    return "protected" if display == SUPPRESSED else "small"


_BIG: Final = 10**12
#: Hidden intervals at most this wide are shaved (`_bounds`).
_SHAVE_WIDTH: Final = 2
Cell = tuple[int, int, int]
States = list[list[list[str]]]


def funnel_hidden(counts: Sequence[int], min_cell: int) -> list[str]:
    """the small-cell rules 1 and 2 (docs/access-rules.md) for one funnel, as `suppression.suppress_funnel` applies
    them: "exact", "small" (`<m`) or "protected" (`*`)."""
    states: list[str] = []
    exact: list[int] = []
    for count in counts:
        if count < min_cell:
            states.append("small")
        elif any(abs(count - other) < min_cell for other in exact):
            states.append("protected")
        else:
            states.append("exact")
            exact.append(count)
    return states


def _bounds(
    table: TwoWay, states: list[list[list[str]]], min_cell: int
) -> list[list[list[list[int]]]]:
    """Interval bounds of every cell for a reader who knows the two-way display and the
    display of its margins (every quartile's, every race's and the cohort's funnel;
    shown exactly where `table` has no display for them): row and column sums and
    nesting along stages, propagated until nothing changes, then the ends of narrow intervals
    of hidden counts of 1..m-1 shaved (an end that empties some interval once assumed is removed).
    Sound outer bounds, not exact ones: no integer program is solved."""
    q_n, r_n, s_n = len(table.rows), len(table.columns), len(table.stages)
    x = table.cells
    b = [
        [
            [
                [x[q][r][s], x[q][r][s]]
                if states[q][r][s] == "exact"
                else [0, min_cell - 1]
                if states[q][r][s] == "small"
                else [0, _BIG]
                for s in range(s_n)
            ]
            for r in range(r_n)
        ]
        for q in range(q_n)
    ]
    row_sums = [[sum(x[q][r][s] for r in range(r_n)) for s in range(s_n)] for q in range(q_n)]
    col_sums = [[sum(x[q][r][s] for q in range(q_n)) for s in range(s_n)] for r in range(r_n)]
    totals = [sum(row_sums[q][s] for q in range(q_n)) for s in range(s_n)]

    def interval(value: int, state: str) -> list[int]:
        if state == "exact":
            return [value, value]
        return [0, min_cell - 1] if state == "small" else [0, _BIG]

    exact_rows = [["exact"] * s_n for _ in range(q_n)]
    exact_cols = [["exact"] * s_n for _ in range(r_n)]
    row_m = [
        [interval(row_sums[q][s], (table.row_states or exact_rows)[q][s]) for s in range(s_n)]
        for q in range(q_n)
    ]
    col_m = [
        [interval(col_sums[r][s], (table.column_states or exact_cols)[r][s]) for s in range(s_n)]
        for r in range(r_n)
    ]
    total_m = [interval(totals[s], (table.total_states or ["exact"] * s_n)[s]) for s in range(s_n)]

    Bounds = list[list[list[list[int]]]]
    Margins = list[list[list[int]]]

    def propagate(b: Bounds, row_m: Margins, col_m: Margins, total_m: list[list[int]]) -> bool:
        """Tighten until nothing changes; False when some interval becomes empty."""
        chains = [total_m, *row_m, *col_m, *(b[q][r] for q in range(q_n) for r in range(r_n))]
        for _ in range(500):
            changed = False
            for chain in chains:
                changed |= tighten_chain(chain)
            for s in range(s_n):
                changed |= tighten_sum(total_m[s], [row_m[q][s] for q in range(q_n)])
                changed |= tighten_sum(total_m[s], [col_m[r][s] for r in range(r_n)])
                for q in range(q_n):
                    changed |= tighten_sum(row_m[q][s], [b[q][r][s] for r in range(r_n)])
                for r in range(r_n):
                    changed |= tighten_sum(col_m[r][s], [b[q][r][s] for q in range(q_n)])
            if any(low > high for chain in chains for low, high in chain):
                return False
            if not changed:
                break
        return True

    def copy(m: Margins) -> Margins:
        return [[[*iv] for iv in chain] for chain in m]

    propagate(b, row_m, col_m, total_m)
    # Shaving: an end of a hidden small interval that leads to an empty interval once
    # assumed is not possible (catches pins that need reasoning over several sums).
    # Only cells whose count is 1..m-1 (the pins that matter) and whose interval is
    # already narrow (where several sums together can close it) are shaved: the rest
    # would cost the refresh seconds and close nothing.
    hidden = [
        (q, r, s)
        for q in range(q_n)
        for r in range(r_n)
        for s in range(s_n)
        if states[q][r][s] != "exact" and 0 < x[q][r][s] < min_cell
    ]
    for _ in range(4 * min_cell):
        shaved = False
        for q, r, s in hidden:
            for end in (0, 1):
                low, high = b[q][r][s]
                if low >= high or high - low > _SHAVE_WIDTH:
                    break
                trial = [copy(row) for row in b]
                trial[q][r][s] = [b[q][r][s][end]] * 2
                if not propagate(trial, copy(row_m), copy(col_m), [[*iv] for iv in total_m]):
                    b[q][r][s][end] += 1 if end == 0 else -1
                    propagate(b, row_m, col_m, total_m)
                    shaved = True
        if not shaved:
            break
    return b


def protect_two_way(table: TwoWay, min_cell: int) -> States:
    """The display state of every quartile x race cell for a protected viewer.

    The table is a partition of the cohort whose margins (each quartile's funnel, each
    race's funnel, the cohort's funnel) are published in the protected cube (their
    display is in `table`; without it they are taken as shown exactly). Beyond rules 1
    and 2 for each cell's funnel, rule 3 applies along every row and column whose margin
    is shown exactly (the hidden cells of a quartile or a race at a stage are none, or
    at least two adding up to at least m), and more is hidden until no hidden cell other
    than a 0 is pinned to one value by the interval bounds (`_bounds`: the display, the
    margins' display, the sums and the nesting). The cell hidden next is the
    smallest exact count of the same stage in the offending row, else in its column,
    else the same cell at a neighbouring stage; when none is left, every cell is shown as
    `*` (the table then says nothing its margins do not). Bounding is sound but not complete (no
    integer program is solved); the exhaustive attacker of the tests probes it.
    """
    q_n, r_n, s_n = len(table.rows), len(table.columns), len(table.stages)
    x = table.cells
    forced: set[tuple[int, int, int]] = set()

    def states_now() -> States:
        out = []
        for q in range(q_n):
            row = []
            for r in range(r_n):
                chain = funnel_hidden(x[q][r], min_cell)
                row.append(
                    [
                        "protected" if (q, r, s) in forced and st == "exact" else st
                        for s, st in enumerate(chain)
                    ]
                )
            out.append(row)
        return out

    def smallest(cands: Iterable[Cell], states: States) -> Cell | None:
        exact = [(x[q][r][s], q, r, s) for q, r, s in cands if states[q][r][s] == "exact"]
        if not exact:
            return None
        _, q, r, s = min(exact)
        return q, r, s

    everything_hidden = [[["protected"] * s_n for _ in range(r_n)] for _ in range(q_n)]
    for _ in range(q_n * r_n * s_n + 1):
        states = states_now()
        pick = _rule_three_pick(table, states, min_cell, smallest)
        if pick is not None:
            forced.add(pick)
            continue
        bounds = _bounds(table, states, min_cell)
        pinned = [
            (q, r, s)
            for q in range(q_n)
            for r in range(r_n)
            for s in range(s_n)
            if states[q][r][s] != "exact"
            and bounds[q][r][s][0] == bounds[q][r][s][1]
            and x[q][r][s] > 0
        ]
        if not pinned:
            return states
        for q, r, s in pinned:
            pick = (
                smallest(((q, rr, s) for rr in range(r_n)), states)
                or smallest(((qq, r, s) for qq in range(q_n)), states)
                or smallest(((q, r, ss) for ss in (s - 1, s + 1) if 0 <= ss < s_n), states)
            )
            if pick is not None:
                break
        if pick is None:  # nothing left to hide: the table tells nothing beyond its margins
            return everything_hidden
        forced.add(pick)
    return everything_hidden


def _rule_three_pick(
    table: TwoWay,
    states: States,
    min_cell: int,
    smallest: Callable[[Iterable[Cell], States], Cell | None],
) -> Cell | None:
    """Rule 3 along rows and columns: the cell to hide next, or None."""
    x = table.cells
    q_n, r_n = len(table.rows), len(table.columns)
    rows_shown = table.row_states or [["exact"] * len(table.stages)] * q_n
    cols_shown = table.column_states or [["exact"] * len(table.stages)] * r_n
    lines = [([(q, r) for r in range(r_n)], rows_shown[q]) for q in range(q_n)]
    lines += [([(q, r) for q in range(q_n)], cols_shown[r]) for r in range(r_n)]
    for s in range(len(table.stages)):
        for line, margin in lines:
            if margin[s] != "exact":
                continue
            hidden = [(q, r) for q, r in line if states[q][r][s] != "exact"]
            if hidden and (len(hidden) < 2 or sum(x[q][r][s] for q, r in hidden) < min_cell):
                pick = smallest(((q, r, s) for q, r in line), states)
                if pick is not None:
                    return pick
    return None


def two_way_rows(
    table: TwoWay, states: list[list[list[str]]], cohort: int, min_cell: int
) -> pl.DataFrame:
    """Public cube rows (cohort, group_by, group, stage, display, shown, share) of the
    two-way table; share is of the cell's first stage, where both are shown exactly."""
    records = []
    for q, quartile in enumerate(table.rows):
        for r, race in enumerate(table.columns):
            first, first_state = table.cells[q][r][0], states[q][r][0]
            for s, stage in enumerate(table.stages):
                count, state = table.cells[q][r][s], states[q][r][s]
                exact = state == "exact"
                share = (
                    (2000 * count + first) // (2 * first) / 10
                    if exact and first_state == "exact" and first > 0
                    else None
                )
                display = (
                    str(count) if exact else (f"<{min_cell}" if state == "small" else SUPPRESSED)
                )
                records.append(
                    (cohort, PRIOR_ACHIEVEMENT_RACE_GROUPING, pair_label(quartile, race), stage,
                     display, count if exact else None, share)
                )  # fmt: skip
    return pl.DataFrame(
        records,
        schema={"cohort": pl.Int64, "group_by": pl.String, "group": pl.String, "stage": pl.String,
                "display": pl.String, "shown": pl.Int64, "share": pl.Float64},
        orient="row",
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Views read from the stored rows (pure; exact or protected alike)
# ---------------------------------------------------------------------------------------


def group_rates(rows: pl.DataFrame) -> pl.DataFrame:
    """From one cohort's funnel rows of a grouping (group, stage, display, shown, share;
    share = % of the group's first stage): group, stage, display, share, in row order.
    A hidden share stays null: a view never fills it in."""
    return rows.select("group", "stage", "display", "share")


def school_rates(rows: pl.DataFrame, district: pl.DataFrame, stage: str) -> pl.DataFrame:
    """SDP chart A1 for one stage: per school its share of the students who entered grade
    9 that reached `stage` (null when not shown), sorted from the lowest share to the
    highest (schools without a shown share last, by name), with `mark` "lowest" and
    "highest" on the schools at either end (ties: every school at that share) and the
    district average (the "all" funnel's share) in `district_share`.

    `rows`: the school grouping's rows; `district`: the "all" funnel's rows."""
    part = rows.filter(pl.col("stage") == stage).select("group", "display", "share")
    average = district.filter(pl.col("stage") == stage)["share"]
    district_share = average[0] if average.len() else None
    shown = part["share"].drop_nulls()
    low = shown.min() if shown.len() else None
    high = shown.max() if shown.len() else None
    mark: pl.Expr = pl.lit("")
    if len(shown) >= 2:
        mark = (
            pl.when(pl.col("share") == low)
            .then(pl.lit("lowest"))
            .when(pl.col("share") == high)
            .then(pl.lit("highest"))
            .otherwise(pl.lit(""))
        )
    return (
        part.with_columns(
            mark.alias("mark"), pl.lit(district_share, dtype=pl.Float64).alias("district_share")
        )
        .sort(pl.col("share").is_null(), "share", "group")
        .select("group", "display", "share", "mark", "district_share")
    )


# ---------------------------------------------------------------------------------------
# What the refresh stores
# ---------------------------------------------------------------------------------------

CUBE_COLUMNS: Final = ("cohort", "group_by", "group", "stage", "count")
PUBLIC_COLUMNS: Final = ("cohort", "group_by", "group", "stage", "display", "shown", "share")
GRADUATED: Final = "graduated"


def college_timing_cells(
    plan: pl.DataFrame, outcomes: pl.DataFrame, as_of: date, not_observed: Collection[int] = ()
) -> pl.DataFrame:
    """The timing split as cube rows: group_by "college_timing", the stage "graduated"
    (every row counts graduates), one row per `timing_groups` group. `plan` is a collected
    `pipeline.stage_plan` (cohort, student_id, nested stage columns); empty when the funnel
    has no graduated stage. `not_observed`: the cohorts without college data."""
    if GRADUATED not in plan.columns:
        return pl.DataFrame(schema=dict.fromkeys(CUBE_COLUMNS, pl.String)).cast(
            {"cohort": pl.Int64, "count": pl.Int64}
        )
    graduates = plan.filter(pl.col(GRADUATED)).select("cohort", "student_id")
    enrolment = outcomes.select(
        "student_id", "postsecondary_enrolled", "postsecondary_start_date", "institution_level"
    ).unique("student_id", keep="first")
    joined = graduates.join(enrolment, on="student_id", how="left")
    every_cohort = plan.select(pl.col("cohort").unique())
    timing = college_timing(joined, as_of, not_observed)
    missing = every_cohort.join(timing.select("cohort").unique(), on="cohort", how="anti")
    if missing.height:  # cohorts without a graduate still show their (empty) split
        filler = pl.DataFrame(
            [
                (c, g, 0)
                for c in missing["cohort"].to_list()
                for g in timing_groups(c, as_of, c not in not_observed)
            ],
            schema={"cohort": pl.Int64, "group": pl.String, "count": pl.Int64},
            orient="row",
        )
        timing = pl.concat([timing, filler])
    return timing.sort("cohort").select(
        "cohort",
        pl.lit(COLLEGE_TIMING_GROUPING).alias("group_by"),
        "group",
        pl.lit(GRADUATED).alias("stage"),
        "count",
    )


def protect_diagnostics(
    two_way: pl.DataFrame, timing: pl.DataFrame, public: pl.DataFrame, min_cell: int
) -> pl.DataFrame:
    """The protected rows of the two tables the cube's own suppression does not cover:
    the quartile x race table (`protect_two_way`) and the timing split
    (`protect_timing`, given whether the cohort's graduates are shown exactly in the
    protected cube `public`). Columns `PUBLIC_COLUMNS`."""
    parts: list[pl.DataFrame] = []
    for (cohort,), part in two_way.group_by("cohort", maintain_order=True):
        stages = part["stage"].unique(maintain_order=True).to_list()
        table = TwoWay.of(part, stages, public.filter(pl.col("cohort") == cohort))
        parts.append(two_way_rows(table, protect_two_way(table, min_cell), int(cohort), min_cell))
    graduates = public.filter((pl.col("group_by") == "all") & (pl.col("stage") == GRADUATED))
    exact = dict(graduates.select("cohort", pl.col("shown").is_not_null()).rows())
    for (cohort,), part in timing.group_by("cohort", maintain_order=True):
        shown = protect_timing(part, bool(exact.get(cohort, False)), min_cell)
        parts.append(
            shown.select(
                pl.lit(cohort, dtype=pl.Int64).alias("cohort"),
                pl.lit(COLLEGE_TIMING_GROUPING).alias("group_by"),
                "group",
                pl.lit(GRADUATED).alias("stage"),
                "display",
                "shown",
                "share",
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={"cohort": pl.Int64, "group_by": pl.String, "group": pl.String,
                    "stage": pl.String, "display": pl.String, "shown": pl.Int64,
                    "share": pl.Float64}
        )  # fmt: skip
    return pl.concat(parts, how="vertical_relaxed").select(PUBLIC_COLUMNS)
