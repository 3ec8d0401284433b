"""The FAFSA season, week by week: completions of the current seniors against earlier
classes at the same point of their season.

Rule (docs/indicators.md, "The FAFSA season"; the NCAN FAFSA Tracker practice of comparing a
class's cumulative completions week by week with the previous class at the same week):
- The season of the class of C runs from October 1 of C-1 (the FAFSA opens) to June 30 of
  C (NCAN's completion benchmark). Its seniors are the cohort of C as the pipeline counts
  it (`cohort_year` C, less documented transfers out; indicators/pipeline.py): students of
  cohort C are seniors in school year C (domain/school_year.py) and file for award year C
  (indicators/fafsa.py).
- A senior counts as completed by a day when their FAFSA record for award year C has
  status `completed` with `status_date` on or before that day. The file holds each
  student's latest status only, so this assumes a student who is `completed` now reached
  that status on `status_date` and kept it (a completed status is not withdrawn). A
  completed status without a date cannot be placed in the season and is not counted; one
  dated before October 1 counts from the first week; one after June 30 is outside the
  season.
- Week k (k = 0, 1, ...) of a season ends on day 7k+6 after October 1 (the last week ends
  on June 30). Classes are compared at the same week of their seasons, and a day at the
  same calendar date of the earlier season (February 29 becomes February 28).
- By school: the student's school of record (`students.school_id`, as the pipeline's
  school grouping); the schools add up to the district.

Protection (docs/access-rules.md, "The FAFSA season, week by week"; `protect_series`):
for a viewer without exact rights, each line (the district, each school) is published week by week only where
its seniors and its completers number at least `min_cell`, its seniors not yet completed
do too, and the increase since the value last published is 0 or at least `min_cell`;
otherwise the last published value is carried forward ("updated when at least N more
students complete"). Because the schools add up to the district, the district's line is
the sum of what the schools publish (so no school's held-back count can be worked out by
subtraction). The weeks are fixed (never "today"), so two visits on
different days cannot be subtracted either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

import polars as pl

from indicators.fafsa import COMPLETED
from indicators.pipeline import transferred_out

ALL: Final = "all"
OPENS: Final = (10, 1)  # October 1: the FAFSA opens (in most years)
CLOSES: Final = (6, 30)  # June 30: NCAN's completion benchmark
WEEK_DAYS: Final = 7
#: The columns of the exact weekly series.
SERIES_COLUMNS: Final = ("class_of", "group", "week", "week_end", "seniors", "completed", "share")
#: The columns of the protected weekly series: no count at all.
PROTECTED_COLUMNS: Final = ("class_of", "group", "week", "week_end", "share", "updated")


def season_counts(
    students: pl.DataFrame, enrollments: pl.DataFrame, fafsa: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the season is computed from, for every class (computed at each refresh and
    stored, so a page view reads a few thousand rows):

    - seniors: class_of, school_id, seniors: the students of `cohort_year` class_of by
      school of record, less documented transfers out (`indicators.pipeline`);
    - completions: class_of, school_id, status_date, completed: how many of those seniors
      have a `completed` FAFSA for award year class_of dated that day (every dated
      completion; a reader keeps those on or before its own day).
    """
    gone = transferred_out(enrollments.lazy()).collect()["student_id"]
    members = students.lazy().filter(pl.col("student_id").is_in(gone.implode()).not_())
    seniors = (
        members.group_by(pl.col("cohort_year").alias("class_of"), "school_id")
        .agg(pl.len().cast(pl.Int64).alias("seniors"))
        .sort("class_of", "school_id")
    )
    completions = (
        fafsa.lazy()
        .filter((pl.col("status") == COMPLETED) & pl.col("status_date").is_not_null())
        .join(members, on="student_id")
        .filter(pl.col("award_year") == pl.col("cohort_year"))
        .group_by(pl.col("cohort_year").alias("class_of"), "school_id", "status_date")
        .agg(pl.len().cast(pl.Int64).alias("completed"))
        .sort("class_of", "school_id", "status_date")
    )
    return (
        seniors.select("class_of", "school_id", "seniors").collect(),
        completions.select("class_of", "school_id", "status_date", "completed").collect(),
    )


def season_start(class_of: int) -> date:
    """October 1 of the year before the class graduates."""
    return date(class_of - 1, *OPENS)


def season_end(class_of: int) -> date:
    """June 30 of the class's year."""
    return date(class_of, *CLOSES)


def season_class(day: date) -> int:
    """The class whose season `day` falls in, or, between July 1 and September 30, the
    class whose season has just ended (the last season)."""
    return day.year + 1 if (day.month, day.day) >= OPENS else day.year


def in_season(day: date) -> bool:
    """True from October 1 to June 30."""
    return (day.month, day.day) >= OPENS or (day.month, day.day) <= CLOSES


def week_ends(class_of: int) -> list[date]:
    """The last day of every week of the season (the last week ends on June 30)."""
    start, end = season_start(class_of), season_end(class_of)
    ends = []
    day = start
    while day <= end:
        ends.append(min(day + timedelta(days=WEEK_DAYS - 1), end))
        day += timedelta(days=WEEK_DAYS)
    return ends


def week_of(day: date) -> int:
    """The week of its season that `day` falls in (0 for October 1-7; days before the
    season count in week 0)."""
    return max(0, (day - season_start(season_class(day))).days // WEEK_DAYS)


def same_day(day: date, class_of: int) -> date:
    """The date at the same point of the season of `class_of` as `day` is in its own:
    the same calendar date, in the earlier season's year (February 29 -> 28)."""
    shift = season_class(day) - class_of
    try:
        return day.replace(year=day.year - shift)
    except ValueError:
        return date(day.year - shift, 2, 28)


def last_full_week(day: date) -> int | None:
    """The last week of the season of `day` that has ended on or before `day` (None
    before the first week has ended). Outside the season: the last week."""
    ends = week_ends(season_class(day))
    done = [k for k, end in enumerate(ends) if end <= day]
    return done[-1] if done else None


# ---------------------------------------------------------------------------------------
# The exact series
# ---------------------------------------------------------------------------------------


def _with_district(frame: pl.DataFrame, keys: Sequence[str], value: str) -> pl.DataFrame:
    """`frame` (class_of, school_id, *keys, value) with group = the school, plus the
    district's rows (group "all") summed over the schools."""
    by_school = frame.rename({"school_id": "group"})
    district = (
        frame.group_by("class_of", *keys)
        .agg(pl.col(value).sum())
        .with_columns(group=pl.lit(ALL))
        .select(by_school.columns)
    )
    return pl.concat([district, by_school], how="vertical_relaxed")


def weekly_series(
    seniors: pl.DataFrame, completions: pl.DataFrame, classes: Sequence[int], today: date
) -> pl.DataFrame:
    """The exact cumulative series of `classes` (columns of `SERIES_COLUMNS`).

    `seniors`: class_of, school_id, seniors (the cohort's members by school).
    `completions`: class_of, school_id, status_date, completed (how many of those seniors
    have a `completed` status dated that day). One row per class, group (each school
    with seniors, and "all") and week of its season whose end is on or before `today`;
    `completed` counts every completion dated on or before the week's end, `share` is its
    percentage of the seniors (one decimal; null without seniors). Sorted by class, group
    ("all" first, then schools), week.
    """
    weeks = pl.DataFrame(
        [(c, k, end) for c in classes for k, end in enumerate(week_ends(c)) if end <= today],
        schema={"class_of": pl.Int64, "week": pl.Int64, "week_end": pl.Date},
        orient="row",
    )
    groups = _with_district(
        seniors.select("class_of", "school_id", pl.col("seniors").cast(pl.Int64)), [], "seniors"
    ).filter(pl.col("class_of").is_in(list(classes)))
    dated = completions.filter(pl.col("class_of").is_in(list(classes))).with_columns(
        week=pl.max_horizontal(
            pl.lit(0),
            (pl.col("status_date") - pl.date(pl.col("class_of") - 1, *OPENS)).dt.total_days()
            // WEEK_DAYS,
        ).cast(pl.Int64)
    )
    dated = dated.filter(pl.col("status_date") <= pl.date(pl.col("class_of"), *CLOSES))
    per_week = _with_district(
        dated.group_by("class_of", "school_id", "week").agg(
            pl.col("completed").sum().cast(pl.Int64)
        ),
        ["week"],
        "completed",
    )
    return (
        groups.join(weeks, on="class_of")
        .join(per_week, on=["class_of", "group", "week"], how="left")
        .with_columns(pl.col("completed").fill_null(0))
        .sort("class_of", pl.col("group") != ALL, "group", "week")
        .with_columns(pl.col("completed").cum_sum().over("class_of", "group"))
        .with_columns(_share(pl.col("completed"), pl.col("seniors")).alias("share"))
        .select(SERIES_COLUMNS)
    )


def _share(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    return pl.when(whole > 0).then((1000 * part / whole).round(0) / 10).otherwise(None)


def completed_by(
    seniors: pl.DataFrame, completions: pl.DataFrame, class_of: int, day: date
) -> pl.DataFrame:
    """Exact figures on one day: per group ("all" first, then schools) the seniors of
    `class_of`, how many had completed by `day`, and the share. For the comparison at
    the same point: `day` = `same_day(today, class_of)`."""
    counts = completions.filter(
        (pl.col("class_of") == class_of) & (pl.col("status_date") <= min(day, season_end(class_of)))
    )
    done = _with_district(
        counts.group_by("class_of", "school_id").agg(pl.col("completed").sum().cast(pl.Int64)),
        [],
        "completed",
    )
    base = _with_district(
        seniors.filter(pl.col("class_of") == class_of).select(
            "class_of", "school_id", pl.col("seniors").cast(pl.Int64)
        ),
        [],
        "seniors",
    )
    return (
        base.join(done, on=["class_of", "group"], how="left")
        .with_columns(pl.col("completed").fill_null(0), day=pl.lit(day))
        .with_columns(_share(pl.col("completed"), pl.col("seniors")).alias("share"))
        .sort(pl.col("group") != ALL, "group")
        .select("class_of", "group", "day", "seniors", "completed", "share")
    )


# ---------------------------------------------------------------------------------------
# Protection
# ---------------------------------------------------------------------------------------


def _publishable(count: int, last: int | None, seniors: int, min_cell: int) -> bool:
    """One line's own rule: its seniors, its completers and its seniors not completed
    are each at least min_cell, and the increase since the last published value is at
    least min_cell."""
    return (
        count >= min_cell
        and seniors - count >= min_cell
        and (last is None or count - last >= min_cell)
    )


def line_shown(counts: Sequence[int], seniors: int, min_cell: int) -> list[int | None]:
    """One line's published count at every week (the value last published, carried
    forward; None before anything is published), by its own rule alone."""
    last: int | None = None
    shown: list[int | None] = []
    for count in counts:
        if seniors >= min_cell and _publishable(count, last, seniors, min_cell):
            last = count
        shown.append(last)
    return shown


def district_shown(school_shown: Sequence[Sequence[int | None]]) -> list[int | None]:
    """The district's published count at every week: the sum of the counts its schools
    publish that week (None while no school has published anything).

    The schools add up to the district, so a district figure of its own would give away
    by subtraction what the schools hold back (rule 3). Holding the district back only
    when that happens does not work either: whether it is held then depends on the hidden
    counts and gives them away (the attacker test finds such cases). The sum of what the
    schools show tells nothing more than the schools do, and its increases are sums of
    theirs (each 0 or at least min_cell); it trails the true district figure by what the
    schools have not shown yet."""
    weeks = len(school_shown[0]) if school_shown else 0
    shown: list[int | None] = []
    for week in range(weeks):
        values = [line[week] for line in school_shown if line[week] is not None]
        shown.append(sum(values) if values else None)  # type: ignore[arg-type]
    return shown


def protect_series(series: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """The weekly series as a viewer without exact rights may see it (columns of
    `PROTECTED_COLUMNS`): `share` is the share of the value last published (carried
    forward; null before anything is published) and `updated` says whether it was
    published that week. No count leaves this function.

    `series` is a `weekly_series` frame (every week of a class from week 0, the district
    as group "all")."""
    parts: list[pl.DataFrame] = []
    for (_,), part in series.group_by("class_of", maintain_order=True):
        groups = part["group"].unique(maintain_order=True).to_list()
        lines = {
            g: (int(rows["seniors"][0]), [int(c) for c in rows["completed"].to_list()])
            for g in groups
            for rows in [part.filter(pl.col("group") == g).sort("week")]
        }
        schools = [g for g in groups if g != ALL]
        shown_of = {g: line_shown(lines[g][1], lines[g][0], min_cell) for g in schools}
        shown_of[ALL] = district_shown([shown_of[g] for g in schools])
        for g in groups:
            rows = part.filter(pl.col("group") == g).sort("week")
            shown = shown_of[g]
            seniors = lines[g][0]
            share = [None if s is None else round(1000 * s / seniors) / 10 for s in shown]
            updated = [s is not None and (k == 0 or s != shown[k - 1]) for k, s in enumerate(shown)]
            parts.append(
                rows.select("class_of", "group", "week", "week_end").with_columns(
                    pl.Series("share", share, dtype=pl.Float64),
                    pl.Series("updated", updated, dtype=pl.Boolean),
                )
            )
    if not parts:
        return pl.DataFrame(
            schema={
                "class_of": pl.Int64,
                "group": pl.String,
                "week": pl.Int64,
                "week_end": pl.Date,
                "share": pl.Float64,
                "updated": pl.Boolean,
            }
        )
    return pl.concat(parts).select(PROTECTED_COLUMNS)


# ---------------------------------------------------------------------------------------
# What is said about it
# ---------------------------------------------------------------------------------------


def gaps_at_week(series: pl.DataFrame, class_of: int, week: int) -> pl.DataFrame:
    """Per group: this class's share at `week` against the class before at the same
    week, and the gap in percentage points (this class minus last year's); groups where
    either share is not shown are left out. Works on the exact and protected series
    alike (columns class_of, group, week, share). Sorted by gap, the furthest behind
    first."""
    now = series.filter((pl.col("class_of") == class_of) & (pl.col("week") == week))
    before = series.filter((pl.col("class_of") == class_of - 1) & (pl.col("week") == week))
    return (
        now.select("group", "share")
        .join(before.select("group", pl.col("share").alias("last_year")), on="group")
        .filter(pl.col("share").is_not_null() & pl.col("last_year").is_not_null())
        .with_columns(gap_points=(pl.col("share") - pl.col("last_year")).round(1))
        .sort("gap_points", pl.col("group") != ALL, "group")
    )
