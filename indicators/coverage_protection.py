"""Small-cell protection of the need-and-coverage figures ("Where is help missing, and
where is it doubled?", issue 14) for every viewer who may not see the students behind
them (docs/access-rules.md, rules 1-5; NCES SLDS Technical Brief 3).

The counts go through the pipeline's machinery (`indicators.suppression.suppress_cube`),
as indicators/outcomes_protection.py does. For each need the schools are the groups and
the district total is the `all` row; within a school x need the counts nest

    flagged >= served (by anyone) >= served_addressing >= served_addressing_with_release
                                     served_addressing >= duplicated

and flagged = served_addressing + served_other + unserved. So:

- Two funnels per school x need are suppressed over the schools and the district row at
  once (rules 1-3 with their safeguards): `flagged, served, served_addressing,
  served_addressing_with_release` and `flagged, served, served_addressing, duplicated`.
  A count the two share is shown exactly only where both show it (hiding more never lets
  a reader work out more: every `*` is read as any count).
- A part of the branch (`served_addressing_with_release`, `duplicated`) is shown, exactly
  or as `<m`, only where `served_addressing` is shown exactly, else `*`: each funnel alone
  is safe, but one branch's parts bound a hidden `served_addressing` from below while the
  other's bound the rest, and together they could pin it.
- `served` (served by anyone) is not shown; `unserved` (= flagged - served) and
  `served_other` (= served - served_addressing) are shown exactly only where both counts
  they are the difference of are shown exactly (rule 2 then makes them at least
  min_cell), and as `*` otherwise: they tell nothing the exact counts do not.
- The share served by nobody (the heat map) is shown only beside an exactly shown
  `unserved` over an exactly shown `flagged` (rule 4).

Tier against support is protected the same way, the tiers taking the place of the needs:
the funnel `students >= supported (one or more) >= two_or_more`, with `no_service` (=
students - supported) and `one_service` (= supported - two_or_more) shown only as exact
differences. Duplication pairs (students served by two organisations with one service
type) overlap one another and add up to no shown total, so rule 1 is theirs: a pair of
fewer than min_cell students, zero included, is `<10`.

Rule 5: the frames returned carry no hidden value (hidden counts are null, with their
`_display` text), so nothing downstream can leak one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from domain.vocabulary import FLAGS
from indicators.coverage import COVERAGE_COLUMNS
from indicators.suppression import ALL, SUPPRESSED, suppress_cube

#: The counts of a coverage row, in the order of the CLI contract.
COVERAGE_COUNTS: Final = COVERAGE_COLUMNS[2:]
#: The counts of a tier-support row.
TIER_COUNTS: Final = ("students", "no_service", "one_service", "two_or_more")
#: `school_id` of the district row (every school of the district together).
DISTRICT: Final = ALL
_SERVED: Final = "served"
_SUPPORTED: Final = "supported"


@dataclass(frozen=True)
class ProtectedCoverage:
    """What a viewer may see of need and coverage: one row per school x need and the
    district rows (`school_id` == DISTRICT), each count `c` as `c` (the number where
    shown exactly, else null) and `c_display` ("140", "<10" or "*"), and
    `unserved_share` (percent, one decimal; null unless both counts are exact)."""

    schools: pl.DataFrame
    district: pl.DataFrame


def _share(count: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """count / whole as a percentage with one decimal, rounded half up (integer maths, as
    `indicators.suppression` does)."""
    return ((2000 * count + whole) // (2 * whole) / 10).cast(pl.Float64)


def _funnel_states(
    rows: pl.DataFrame, cohort: str, stages: Sequence[str], min_cell: int
) -> pl.DataFrame:
    """`suppress_cube` over `rows` (one row per cohort x school_id, DISTRICT rows
    included): cohort, school_id, and per stage `<stage>_shown` (null when hidden) and
    `<stage>_display`."""
    ordered = rows.with_columns(
        _all=pl.col("school_id") != DISTRICT, _cohort=pl.col(cohort).rank("dense")
    ).sort("_cohort", "_all", "school_id")
    ordered = ordered.with_columns(
        _row=pl.int_range(pl.len()),
        group_by=pl.when(pl.col("_all")).then(pl.lit("school")).otherwise(pl.lit(ALL)),
    )
    long = (
        pl.concat(
            ordered.select(
                pl.col("_cohort").cast(pl.Int64).alias("cohort"),
                "group_by",
                pl.col("school_id").alias("group"),
                pl.lit(stage).alias("stage"),
                pl.col(stage).cast(pl.Int64).alias("count"),
                "_row",
                pl.lit(index).alias("_stage"),
            )
            for index, stage in enumerate(stages)
        )
        .sort("_row", "_stage")
        .drop("_row", "_stage")
    )
    shown = suppress_cube(long, min_cell)
    wide = shown.pivot(on="stage", index=["cohort", "group"], values=["display", "shown"])
    renamed = {f"{what}_{s}": f"{s}_{what}" for s in stages for what in ("display", "shown")}
    wide = wide.rename({k: v for k, v in renamed.items() if k in wide.columns})
    keys = ordered.select(cohort, "school_id", pl.col("_cohort").cast(pl.Int64).alias("cohort"))
    return keys.join(wide.rename({"group": "school_id"}), on=["cohort", "school_id"]).drop("cohort")


def _merge(
    first: pl.DataFrame, second: pl.DataFrame, keys: list[str], shared: Sequence[str]
) -> pl.DataFrame:
    """The two funnels' states together: a count both hold is shown exactly only where
    both show it exactly (else the other funnel's `*`)."""
    joined = first.join(second, on=keys, suffix="_2")
    return joined.with_columns(
        *(
            pl.when(pl.col(f"{s}_shown").is_not_null() & pl.col(f"{s}_shown_2").is_not_null())
            .then(pl.col(f"{s}_shown"))
            .otherwise(None)
            .alias(f"{s}_shown")
            for s in shared
        ),
        *(
            pl.when(pl.col(f"{s}_shown_2").is_null())
            .then(pl.col(f"{s}_display_2"))
            .otherwise(pl.col(f"{s}_display"))
            .alias(f"{s}_display")
            for s in shared
        ),
    ).drop(*(c for c in joined.columns if c.endswith("_2")))


def _difference(name: str, high: str, low: str) -> list[pl.Expr]:
    """`name` = high - low, shown exactly only where both are (else `*`)."""
    both = pl.col(f"{high}_shown").is_not_null() & pl.col(f"{low}_shown").is_not_null()
    value = pl.when(both).then(pl.col(f"{high}_shown") - pl.col(f"{low}_shown")).otherwise(None)
    return [
        value.alias(name),
        pl.when(both)
        .then(value.cast(pl.String))
        .otherwise(pl.lit(SUPPRESSED))
        .alias(f"{name}_display"),
    ]


def _parts_under_their_whole(
    states: pl.DataFrame, whole: str, parts: Sequence[str]
) -> pl.DataFrame:
    """A part of a branching funnel is shown (exactly or as `<m`) only where its whole is
    shown exactly; elsewhere it is `*`.

    Each funnel was checked alone, but a reader combines them: a part bounds its hidden
    whole from below, and the other branch's parts (through the totals) bound the other
    schools' hidden wholes, so together they can pin it (served_addressing hidden at two
    schools, one school's duplicated = 3 and the other's with_release forced to at least 2
    by the district total left 3 of the 5 served_addressing; found by the property test).
    With the parts of a hidden whole hidden too, the branches say nothing about one hidden
    whole beyond what the sum of them says, which the shared stages already show."""
    hidden = pl.col(f"{whole}_shown").is_null()
    return states.with_columns(
        *(
            pl.when(hidden).then(None).otherwise(pl.col(f"{p}_shown")).alias(f"{p}_shown")
            for p in parts
        ),
        *(
            pl.when(hidden)
            .then(pl.lit(SUPPRESSED))
            .otherwise(pl.col(f"{p}_display"))
            .alias(f"{p}_display")
            for p in parts
        ),
    )


def _with_district(frame: pl.DataFrame, keys: list[str], counts: Sequence[str]) -> pl.DataFrame:
    district = (
        frame.group_by(keys)
        .agg(pl.col(c).sum() for c in counts)
        .with_columns(school_id=pl.lit(DISTRICT))
    )
    return pl.concat(
        [frame.select("school_id", *keys, *counts), district.select("school_id", *keys, *counts)]
    )


def _split(frame: pl.DataFrame, order: list[str]) -> ProtectedCoverage:
    district = frame.filter(pl.col("school_id") == DISTRICT).sort(order)
    return ProtectedCoverage(
        schools=frame.filter(pl.col("school_id") != DISTRICT).sort(["school_id", *order]),
        district=district,
    )


def _need_order(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        _order=pl.col("need").replace_strict(
            list(FLAGS), list(range(len(FLAGS))), return_dtype=pl.Int64
        )
    )


def _finish_coverage(frame: pl.DataFrame) -> ProtectedCoverage:
    columns = [
        "school_id",
        "need",
        *(x for c in COVERAGE_COUNTS for x in (c, f"{c}_display")),
        "unserved_share",
    ]
    done = _need_order(frame)
    result = _split(done, ["_order"])
    return ProtectedCoverage(result.schools.select(columns), result.district.select(columns))


def protect_coverage(need: pl.DataFrame, min_cell: int) -> ProtectedCoverage:
    """The need-and-coverage rows (`indicators.coverage.need_coverage`'s) as a viewer
    without exact rights may see them (the module's rules)."""
    if min_cell < 1:
        raise ValueError(f"min_cell must be at least 1, got {min_cell}")
    rows = _with_district(
        need.with_columns(**{_SERVED: pl.col("served_addressing") + pl.col("served_other")}),
        ["need"],
        [*COVERAGE_COUNTS, _SERVED],
    )
    if rows.height == 0:
        return _finish_coverage(_exact_coverage_frame(rows))
    release = ("flagged", _SERVED, "served_addressing", "served_addressing_with_release")
    doubled = ("flagged", _SERVED, "served_addressing", "duplicated")
    states = _merge(
        _funnel_states(rows, "need", release, min_cell),
        _funnel_states(rows, "need", doubled, min_cell),
        ["need", "school_id"],
        ("flagged", _SERVED, "served_addressing"),
    )
    public = (
        _parts_under_their_whole(
            states, "served_addressing", ("served_addressing_with_release", "duplicated")
        )
        .with_columns(
            *_difference("unserved", "flagged", _SERVED),
            *_difference("served_other", _SERVED, "served_addressing"),
            *(
                pl.col(f"{c}_shown").alias(c)
                for c in (
                    "flagged",
                    "served_addressing",
                    "served_addressing_with_release",
                    "duplicated",
                )
            ),
        )
        .with_columns(
            unserved_share=pl.when(pl.col("unserved").is_not_null() & (pl.col("flagged") > 0))
            .then(_share(pl.col("unserved"), pl.col("flagged")))
            .otherwise(None)
        )
    )
    return _finish_coverage(public)


def _exact_coverage_frame(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        *(pl.col(c).cast(pl.String).alias(f"{c}_display") for c in COVERAGE_COUNTS),
        unserved_share=pl.when(pl.col("flagged") > 0)
        .then(_share(pl.col("unserved"), pl.col("flagged")))
        .otherwise(None),
    )


def exact_coverage(need: pl.DataFrame) -> ProtectedCoverage:
    """The same shape for a viewer entitled to exact figures: every count shown."""
    return _finish_coverage(_exact_coverage_frame(_with_district(need, ["need"], COVERAGE_COUNTS)))


def _finish_tiers(frame: pl.DataFrame) -> ProtectedCoverage:
    columns = ["school_id", "tier", *(x for c in TIER_COUNTS for x in (c, f"{c}_display"))]
    result = _split(frame, ["tier"])
    return ProtectedCoverage(result.schools.select(columns), result.district.select(columns))


def protect_tier_support(tiers: pl.DataFrame, min_cell: int) -> ProtectedCoverage:
    """Tier against support per school (`tier_support(..., by_school=True)`) as a viewer
    without exact rights may see it; `district` holds one row per tier."""
    if min_cell < 1:
        raise ValueError(f"min_cell must be at least 1, got {min_cell}")
    rows = _with_district(
        tiers.with_columns(**{_SUPPORTED: pl.col("one_service") + pl.col("two_or_more")}),
        ["tier"],
        [*TIER_COUNTS, _SUPPORTED],
    )
    if rows.height == 0:
        return exact_tier_support(tiers)
    states = _funnel_states(rows, "tier", ("students", _SUPPORTED, "two_or_more"), min_cell)
    public = states.with_columns(
        *_difference("no_service", "students", _SUPPORTED),
        *_difference("one_service", _SUPPORTED, "two_or_more"),
        pl.col("students_shown").alias("students"),
        pl.col("two_or_more_shown").alias("two_or_more"),
    )
    return _finish_tiers(public)


def exact_tier_support(tiers: pl.DataFrame) -> ProtectedCoverage:
    """Tier against support with every count shown (leaders, stewards)."""
    rows = _with_district(tiers, ["tier"], TIER_COUNTS)
    return _finish_tiers(
        rows.with_columns(pl.col(c).cast(pl.String).alias(f"{c}_display") for c in TIER_COUNTS)
    )


def protect_duplication(pairs: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """Duplication pairs as a viewer without exact rights may see them (rule 1): `students`
    null and `students_display` `<min_cell` under min_cell, else the count."""
    if min_cell < 1:
        raise ValueError(f"min_cell must be at least 1, got {min_cell}")
    enough = pl.col("students") >= min_cell
    return pairs.with_columns(
        students_display=pl.when(enough)
        .then(pl.col("students").cast(pl.String))
        .otherwise(pl.lit(f"<{min_cell}")),
        students=pl.when(enough).then(pl.col("students")).otherwise(None).cast(pl.Int64),
    )


def exact_duplication(pairs: pl.DataFrame) -> pl.DataFrame:
    """Duplication pairs with every count shown."""
    return pairs.with_columns(students_display=pl.col("students").cast(pl.String))
