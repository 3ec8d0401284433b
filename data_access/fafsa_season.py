"""The FAFSA season, week by week: the figures behind the pipeline page's season chart.

What it computes is `indicators.fafsa_season` (docs/indicators.md, "The FAFSA season"); this
module only reads the counts behind it, which every refresh stores
(`indicators.fafsa_season.season_counts`: the seniors of each class by school, less
documented transfers out as in the pipeline, and their `completed` FAFSA records by school
and status date), so a few thousand rows reach Python however many students there are.

Like every figure about groups (docs/access-rules.md, "Figures about groups"), it covers
the whole district and is read by the roles with aggregate rights only (a refusal is recorded);
`admin` and `district_leader` get the exact series, everyone else (and everyone in
meeting mode) the protected one, which holds no count. Not student-level data: viewing
it is not audited.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date
from typing import Final

import polars as pl
from sqlalchemy import Engine, select

from data_access.aggregates import require_aggregates
from data_access.derived import REFRESHED_AT_KEY
from data_access.meta import read_meta
from data_access.models import FafsaSeasonCompletions, FafsaSeasonSeniors, table_of
from data_access.policy import Principal
from data_access.reading import frame
from indicators import fafsa_season as season
from indicators.settings import load_settings

SENIORS = table_of(FafsaSeasonSeniors)
COMPLETIONS = table_of(FafsaSeasonCompletions)
#: How many classes are drawn: this one and the ones before it.
CLASSES_SHOWN: Final = 5
ACTION: Final = "fafsa_season.read"


@dataclass(frozen=True)
class FafsaSeason:
    """The season of `class_of` (the current one, or the last one between July 1 and
    September 30) and the classes before it.

    `series`: exact (`indicators.fafsa_season.SERIES_COLUMNS`) or protected
    (`PROTECTED_COLUMNS`, no count), every week of every class that has ended by
    `today`. `standing`: this class and the earlier ones at the same point of their
    seasons (class_of, group, day, share; `day` is `today` and the same date of the
    earlier seasons for exact figures, the end of the last full week for protected ones).
    """

    class_of: int
    today: date
    in_season: bool
    exact: bool
    min_cell: int
    series: pl.DataFrame
    standing: pl.DataFrame


def season_counts(
    engine: Engine, classes: list[int], today: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(seniors, completions) of `classes` as `indicators.fafsa_season` takes them, from the
    counts the last refresh stored (`indicators.fafsa_season.season_counts`), completions
    dated on or before `today`: a system read of counts (no viewer; callers check access
    first)."""
    with engine.connect() as connection:
        seniors = frame(
            connection,
            select(SENIORS.c.class_of, SENIORS.c.school_id, SENIORS.c.seniors)
            .where(SENIORS.c.class_of.in_(classes))
            .order_by(SENIORS.c.class_of, SENIORS.c.school_id),
            schema={"class_of": pl.Int64, "school_id": pl.String, "seniors": pl.Int64},
        )
        completions = frame(
            connection,
            select(COMPLETIONS.c.class_of, COMPLETIONS.c.school_id, COMPLETIONS.c.status_date,
                   COMPLETIONS.c.completed)
            .where(COMPLETIONS.c.class_of.in_(classes), COMPLETIONS.c.status_date <= today)
            .order_by(COMPLETIONS.c.class_of, COMPLETIONS.c.school_id,
                      COMPLETIONS.c.status_date),
            schema={"class_of": pl.Int64, "school_id": pl.String, "status_date": pl.Date,
                    "completed": pl.Int64},
        )  # fmt: skip
    return seniors, completions


#: Per engine: (refresh stamp, today, exact, min_cell) -> the season, computed once per
#: data change and day (the counts are a scan of the students and FAFSA tables; a page
#: rerun must not repeat it). Without a refresh stamp nothing is kept.
_COMPUTED: weakref.WeakKeyDictionary[Engine, dict[tuple[str, date, bool, int], FafsaSeason]] = (
    weakref.WeakKeyDictionary()
)


def fafsa_season(engine: Engine, principal: Principal) -> FafsaSeason:
    """The season as of `principal.today`, exact or protected by who is asking.

    Kept in this process per refresh of the derived figures (`REFRESHED_AT_KEY`, set by
    every import and demo build), per day and per kind (exact or protected): a protected
    viewer only ever receives the protected frames."""
    require_aggregates(engine, principal, ACTION)
    stamp = read_meta(engine).get(REFRESHED_AT_KEY)
    key = (stamp or "", principal.today, principal.exact_aggregates, load_settings().min_cell)
    kept = _COMPUTED.setdefault(engine, {})
    if stamp and key in kept:
        return kept[key]
    computed = _compute(engine, principal.today, principal.exact_aggregates)
    if stamp:
        if len(kept) > 8:
            kept.clear()
        kept[key] = computed
    return computed


def _compute(engine: Engine, today: date, exact: bool) -> FafsaSeason:
    class_of = season.season_class(today)
    classes = list(range(class_of - CLASSES_SHOWN + 1, class_of + 1))
    min_cell = load_settings().min_cell
    seniors, completions = season_counts(engine, classes, today)
    series = season.weekly_series(seniors, completions, classes, today)
    if exact:
        standing = pl.concat(
            [
                season.completed_by(seniors, completions, c, season.same_day(today, c))
                for c in classes
            ]
        ).select("class_of", "group", "day", "share")
        return FafsaSeason(
            class_of, today, season.in_season(today), True, min_cell, series, standing
        )
    protected = season.protect_series(series, min_cell)
    week = season.last_full_week(today)
    standing = (
        protected.filter(pl.col("week") == week).select(
            "class_of", "group", pl.col("week_end").alias("day"), "share"
        )
        if week is not None
        else pl.DataFrame(
            schema={"class_of": pl.Int64, "group": pl.String, "day": pl.Date, "share": pl.Float64}
        )  # fmt: skip
    )
    return FafsaSeason(
        class_of, today, season.in_season(today), False, min_cell, protected, standing
    )
