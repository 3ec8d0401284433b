"""The cohort pipeline: ninth grade to a second year of college, as a nested funnel.

Rules (docs/indicators.md, "Cohort pipeline"):
- The cohort of year C is the students whose `cohort_year` is C, less those whose LAST
  enrollment record (by school_year, then entry_date; ties by exit_date, a blank exit
  being the latest, then school_id) has `exit_code = transferred`. This is the
  adjustment of the federal four-year adjusted cohort graduation rate (ACGR, 34 CFR
  200.19(b)), which removes documented transfers out; a student who transferred between
  two of the district's schools and enrolled again stays in the cohort.
- Stages, each counted among the cohort and nested (a student counts at a stage only if
  they reached every earlier stage):
  1. entered_grade_9: an enrollment in grade 9 in school year C-3;
  2. reached_grade_12: an enrollment in grade 12 in school year C;
  3. graduated: `graduated = Y` with graduation_date on or before August 31 of C (a
     graduation without a date cannot be shown to be on time and does not count);
  4. fafsa_completed: the latest FAFSA status for award year C is `completed` (NCAN);
  5. enrolled_postsecondary: `postsecondary_enrolled = Y` (National Student
     Clearinghouse StudentTracker convention);
  6. persisted: `persisted_second_year = Y`.
- Leaks: for each consecutive pair of stages, the number that did not reach the later
  stage and its share of the earlier one; the biggest leak is the pair with the largest
  share lost. Subgroup gaps: a group's stage-to-stage conversion minus that of the rest of
  the cohort, in percentage points. On-track split: graduation rates of students who were
  on track at the end of grade 9 (UChicago Consortium freshman on-track, computed from
  the marks of school year C-3 with the rule of `indicators.marks`) against those who
  were not.

Group fields (docs/command-line.md, `export pipeline --by`): school_id (the student's current or last
school), race_ethnicity, gender, english_learner, disability, econ_disadvantaged; a blank
value is the group "unknown" and booleans are "Y"/"N".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Final

import polars as pl

from domain.vocabulary import (
    GENDERS,
    GROUP_FIELDS,
    PIPELINE_STAGES,
    RACE_ETHNICITIES,
    UNKNOWN_GROUP,
)
from indicators import fafsa, marks
from indicators.diagnostics import (
    COLLEGE_TIMING_GROUPING,
    NO_SCORE,
    PAIR_SEPARATOR,
    PRIOR_ACHIEVEMENT_GROUPING,
    PRIOR_ACHIEVEMENT_GROUPS,
    PRIOR_ACHIEVEMENT_RACE_GROUPING,
    TIMING_GROUPS,
    prior_achievement_quartiles,
    two_way_order,
)
from indicators.on_track import ON_TRACK_GROUPING, ON_TRACK_GROUPS
from indicators.settings import Settings
from indicators.tables import RawTables

ALL: Final = "all"
TRANSFERRED: Final = "transferred"
YES_NO: Final = ("Y", "N")
#: Display (and tie-break) order of the values of each group field; other values sort
#: after these, "unknown" always last.
GROUP_VALUE_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "race_ethnicity": RACE_ETHNICITIES,
    "gender": GENDERS,
    "english_learner": YES_NO,
    "disability": YES_NO,
    "econ_disadvantaged": YES_NO,
    PRIOR_ACHIEVEMENT_GROUPING: PRIOR_ACHIEVEMENT_GROUPS,
    PRIOR_ACHIEVEMENT_RACE_GROUPING: two_way_order(),
    COLLEGE_TIMING_GROUPING: TIMING_GROUPS,
}
#: Groupings of the cube beyond `export pipeline --by`'s fields: grade-9 on-track status, the quartile of
#: prior achievement and quartile x race (indicators.diagnostics).
EXTRA_GROUPINGS: Final = (
    ON_TRACK_GROUPING,
    PRIOR_ACHIEVEMENT_GROUPING,
    PRIOR_ACHIEVEMENT_RACE_GROUPING,
)
NINTH_GRADE: Final = 9
TWELFTH_GRADE: Final = 12
BOOLEAN_FIELDS: Final = ("english_learner", "disability", "econ_disadvantaged")
FUNNEL_COLUMNS: Final = ("cohort", "group_by", "group", "stage", "count")
_DAY_BITS: Final = 17  # days since 1900-01-01 fit in 17 bits until 2258
_EPOCH_SHIFT: Final = (date(1970, 1, 1) - date(1900, 1, 1)).days


def _days(column: str, null_as_latest: bool = False) -> pl.Expr:
    days = pl.col(column).cast(pl.Int64) + _EPOCH_SHIFT
    return days.fill_null((1 << _DAY_BITS) - 1 if null_as_latest else 0)


def last_enrollment_exit(enrollments: pl.LazyFrame) -> pl.LazyFrame:
    """Per student: the exit_code of their last enrollment record (by school_year, then
    entry_date, then exit_date with a blank exit latest, then school_id)."""
    order = (
        pl.col("school_year").cast(pl.Int64) * (1 << (2 * _DAY_BITS))
        + _days("entry_date") * (1 << _DAY_BITS)
        + _days("exit_date", null_as_latest=True)
    )
    return enrollments.group_by("student_id").agg(
        pl.col("exit_code").sort_by(order, pl.col("school_id")).last().alias("last_exit_code")
    )


def transferred_out(enrollments: pl.LazyFrame) -> pl.LazyFrame:
    """student_id of the students whose last enrollment record has exit_code transferred.

    Only students with some `transferred` record can qualify, so the last record is looked
    up for those few (the result is the same as filtering `last_enrollment_exit`); they
    are found first (one eager pass) and matched by a hash set rather than a join."""
    candidates = (
        enrollments.filter(pl.col("exit_code") == TRANSFERRED)
        .select(pl.col("student_id").unique())
        .collect()["student_id"]
    )
    return (
        last_enrollment_exit(enrollments.filter(pl.col("student_id").is_in(candidates.implode())))
        .filter(pl.col("last_exit_code") == TRANSFERRED)
        .select("student_id")
    )


def group_label(field: str, dtype: pl.DataType | None = None) -> pl.Expr:
    """The group a student's `field` value falls in: "Y"/"N" for a Boolean, the value as
    text otherwise, "unknown" when blank. Labels are left as they are."""
    boolean = dtype == pl.Boolean if dtype is not None else field in BOOLEAN_FIELDS
    value: pl.Expr
    if boolean:
        value = (
            pl.when(pl.col(field)).then(pl.lit("Y")).when(pl.col(field).not_()).then(pl.lit("N"))
        )
    else:
        value = pl.col(field).cast(pl.String)
    return value.fill_null(UNKNOWN_GROUP).alias(field)


def cohort_members(tables: RawTables, cohorts: Iterable[int] | None = None) -> pl.LazyFrame:
    """cohort, student_id and the raw group fields of every cohort member."""
    students = tables.students.lazy()
    if cohorts is not None:
        students = students.filter(pl.col("cohort_year").is_in(list(cohorts)))
    transferred = transferred_out(tables.enrollments.lazy())
    return students.join(transferred, on="student_id", how="anti").select(
        pl.col("cohort_year").alias("cohort"),
        "student_id",
        *GROUP_FIELDS,
    )


def _grade_milestones(enrollments: pl.LazyFrame) -> pl.LazyFrame:
    """(student_id, cohort) -> entered_grade_9 (a grade-9 enrollment in school year
    cohort - 3) and reached_grade_12 (a grade-12 enrollment in school year cohort)."""
    ninth = pl.col("grade_level") == NINTH_GRADE
    return (
        enrollments.filter(ninth | (pl.col("grade_level") == TWELFTH_GRADE))
        .select(
            "student_id",
            (pl.col("school_year") + pl.when(ninth).then(3).otherwise(0)).alias("cohort"),
            ninth.alias("entered_grade_9"),
            ninth.not_().alias("reached_grade_12"),
        )
        .group_by("student_id", "cohort")
        .agg(pl.col("entered_grade_9").any(), pl.col("reached_grade_12").any())
    )


def _ninth_grade_on_track(tables: RawTables, years: list[int], settings: Settings) -> pl.LazyFrame:
    """(student_id, cohort, on_track) from the marks of each grade-9 year (cohort - 3)."""
    course_marks = tables.course_marks.lazy().filter(pl.col("school_year").is_in(years))
    failing = marks.failing_marks(course_marks, settings)
    return marks.course_summary(course_marks, years, failing, settings).select(
        "student_id",
        (pl.col("school_year") + 3).alias("cohort"),
        marks.on_track(settings).alias("on_track"),
    )


def _stages(tables: RawTables, cohorts: Iterable[int] | None, settings: Settings) -> pl.LazyFrame:
    """The unsorted plan behind `cohort_stages`."""
    years = (
        sorted(set(cohorts))
        if cohorts is not None
        else tables.students["cohort_year"].unique().drop_nulls().to_list()
    )
    completed = fafsa.latest_status_by_year(tables.fafsa.lazy(), years).select(
        "student_id",
        pl.col("award_year").alias("cohort"),
        (pl.col("status") == fafsa.COMPLETED).alias("fafsa_completed"),
    )
    outcomes = tables.outcomes.lazy().select(
        "student_id",
        "graduated",
        "graduation_date",
        pl.col("postsecondary_enrolled").alias("enrolled_postsecondary"),
        pl.col("persisted_second_year").alias("persisted"),
    )
    keys = ["student_id", "cohort"]
    members = cohort_members(tables, years)
    raw = (
        members.join(_grade_milestones(tables.enrollments.lazy()), on=keys, how="left")
        .join(completed, on=keys, how="left")
        .join(_ninth_grade_on_track(tables, [y - 3 for y in years], settings), on=keys, how="left")
        .join(
            prior_achievement_quartiles(tables.test_scores.lazy(), members),
            on=keys,
            how="left",
        )
        .join(outcomes, on="student_id", how="left")
        .with_columns(
            (
                pl.col("graduated")
                & (pl.col("graduation_date") <= pl.date(pl.col("cohort"), 8, 31))
            ).alias("graduated")
        )
    )
    nested = []
    so_far: pl.Expr = pl.lit(True)
    for stage in settings.funnel_stages:
        so_far = so_far & pl.col(stage).fill_null(False)
        nested.append(so_far.alias(stage))
    on_track_known = pl.when(pl.col("entered_grade_9").fill_null(False)).then(pl.col("on_track"))
    return raw.select(
        "cohort",
        "student_id",
        *GROUP_FIELDS,
        on_track_known.alias("on_track"),
        pl.col(PRIOR_ACHIEVEMENT_GROUPING).fill_null(NO_SCORE),
        *nested,
    )


def _labelled(stages: pl.LazyFrame) -> pl.LazyFrame:
    return stages.with_columns(group_label(field) for field in GROUP_FIELDS).drop(
        PRIOR_ACHIEVEMENT_GROUPING, strict=False
    )


def cohort_stages(
    tables: RawTables, cohorts: Iterable[int] | None, settings: Settings
) -> pl.DataFrame:
    """One row per cohort member: cohort, student_id, the group fields (strings, "unknown"
    for a blank, "Y"/"N" for booleans), on_track (from the grade-9 year's marks; null when
    the student did not enter grade 9 in year C-3 or that year has no end-of-year mark) and
    one Boolean column per stage of `settings.funnel_stages`, already nested. Sorted by
    cohort, student_id. `cohorts=None` means every cohort_year present in `students`.
    """
    return _labelled(_stages(tables, cohorts, settings)).sort("cohort", "student_id").collect()


# ---------------------------------------------------------------------------------------
# Funnels and what is read from them
# ---------------------------------------------------------------------------------------


def _stages_of(frame: pl.DataFrame) -> list[str]:
    return [stage for stage in PIPELINE_STAGES if stage in frame.columns]


def _group_rank(field: str) -> pl.Expr:
    """A sort key for the values of `field`: vocabulary order, then others, unknown last."""
    known = GROUP_VALUE_ORDER.get(field, ())
    rank = pl.col("group").replace_strict(
        list(known), list(range(len(known))), default=len(known), return_dtype=pl.Int64
    )
    return pl.when(pl.col("group") == UNKNOWN_GROUP).then(len(known) + 1).otherwise(rank)


def funnel(stages: pl.DataFrame, by: str | None) -> pl.DataFrame:
    """Stage counts per cohort (and group of `by`): columns cohort, group_by, group, stage,
    count. Without `by`, group_by and group are "all". Rows are ordered by cohort, group
    (vocabulary order, "unknown" last) and stage (spec order); zero counts are present.

    `stages` is a `cohort_stages` frame (Boolean stage columns, one row per student) or a
    frame of partial counts with the same columns (integer stage columns), summed alike.
    """
    if by is not None and by not in GROUP_FIELDS:
        raise ValueError(f"cannot group a funnel by {by!r}; fields: {', '.join(GROUP_FIELDS)}")
    return _funnel(stages.lazy(), _stages_of(stages), by).collect()


def _funnel(stages: pl.LazyFrame, stage_names: Sequence[str], by: str | None) -> pl.LazyFrame:
    group = pl.col(by) if by is not None else pl.lit(ALL)
    counts = [pl.col(stage).sum().cast(pl.Int64) for stage in stage_names]
    return (
        stages.group_by("cohort", group.alias("group"))
        .agg(counts)
        .unpivot(
            list(stage_names), index=["cohort", "group"], variable_name="stage", value_name="count"
        )
        .with_columns(
            pl.lit(by or ALL).alias("group_by"),
            _group_rank(by or ALL).alias("_group_rank"),
            pl.col("stage")
            .replace_strict(list(stage_names), list(range(len(stage_names))), return_dtype=pl.Int64)
            .alias("_stage_rank"),
        )
        .sort("cohort", "_group_rank", "group", "_stage_rank")
        .select(FUNNEL_COLUMNS)
    )


def pipeline_cube(
    tables: RawTables, cohorts: Iterable[int] | None, settings: Settings
) -> pl.DataFrame:
    """Exact stage counts for every cohort: for all students, for every group field and by
    grade-9 on-track status (`indicators.on_track`): columns cohort, group_by, group,
    stage, count; rows ordered by cohort, then group_by ("all" first, then the fields of
    docs/command-line.md in order, then "on_track_9"), group, stage. This is the frame that is stored and
    read by pages (suppressed per viewer with `indicators.suppression`).
    """
    return _cube(_stages(tables, cohorts, settings))


def stage_plan(
    tables: RawTables, cohorts: Iterable[int] | None, settings: Settings
) -> pl.LazyFrame:
    """The per-student plan behind `pipeline_cube` (raw group fields, on_track,
    prior_achievement and the nested stages), for the refresh to collect once and hand to
    `cube_of` and to the diagnostic views that need student rows."""
    return _stages(tables, cohorts, settings)


def cube_of(stages: pl.LazyFrame) -> pl.DataFrame:
    """`pipeline_cube` from a `stage_plan` (collected or not)."""
    return _cube(stages)


def _cube(stages: pl.LazyFrame) -> pl.DataFrame:
    """Count the students once per combination of all group fields and on-track status,
    label that small frame, then sum it for every grouping at once (one unpivot, one
    group-by, one sort): the cost hardly grows with the fields, and a handful of small
    operations replaces one plan per funnel."""
    schema = stages.collect_schema()
    stage_names = [s for s in PIPELINE_STAGES if s in schema.names()]
    groupings = [ALL, *GROUP_FIELDS, *EXTRA_GROUPINGS]
    status = (
        pl.when(pl.col("on_track"))
        .then(pl.lit(ON_TRACK_GROUPS[0]))
        .when(pl.col("on_track").not_())
        .then(pl.lit(ON_TRACK_GROUPS[1]))
        .otherwise(pl.lit(UNKNOWN_GROUP))
    )
    cells = (
        stages.group_by("cohort", "on_track", PRIOR_ACHIEVEMENT_GROUPING, *GROUP_FIELDS)
        .agg(pl.col(stage_names).sum().cast(pl.Int64))
        .select(
            "cohort",
            *stage_names,
            pl.lit(ALL).alias(ALL),
            *(group_label(field, schema[field]) for field in GROUP_FIELDS),
            status.alias(ON_TRACK_GROUPING),
            PRIOR_ACHIEVEMENT_GROUPING,
        )
        .with_columns(
            pl.concat_str(
                PRIOR_ACHIEVEMENT_GROUPING, "race_ethnicity", separator=PAIR_SEPARATOR
            ).alias(PRIOR_ACHIEVEMENT_RACE_GROUPING)
        )
        .unpivot(
            groupings, index=["cohort", *stage_names], variable_name="group_by", value_name="group"
        )
        .group_by("cohort", "group_by", "group")
        .agg(pl.col(stage_names).sum())
        .collect()
    )
    # The on-track split shows its three groups in every cohort, a zero count included.
    every_status = pl.DataFrame(
        {"group_by": ON_TRACK_GROUPING, "group": list(ON_TRACK_GROUPS)}
    ).join(cells.select(pl.col("cohort").unique()), how="cross")
    complete = every_status.join(
        cells, on=["cohort", "group_by", "group"], how="left"
    ).with_columns(pl.col(stage_names).fill_null(0))
    counts = pl.concat(
        [cells.filter(pl.col("group_by") != ON_TRACK_GROUPING), complete.select(cells.columns)]
    )
    return (
        counts.unpivot(
            stage_names,
            index=["cohort", "group_by", "group"],
            variable_name="stage",
            value_name="count",
        )
        .join(_GROUP_RANKS, on=["group_by", "group"], how="left")
        .join(_KNOWN_COUNTS, on="group_by", how="left")
        .with_columns(
            pl.col("group_by").replace_strict(groupings, list(range(len(groupings)))).alias("_p"),
            pl.when(pl.col("group") == UNKNOWN_GROUP)
            .then(pl.col("_known") + 1)
            .otherwise(pl.col("_rank").fill_null(pl.col("_known")))
            .alias("_g"),
            pl.col("stage").replace_strict(stage_names, list(range(len(stage_names)))).alias("_s"),
        )
        .sort("cohort", "_p", "_g", "group", "_s")
        .select(FUNNEL_COLUMNS)
    )


def _rank_tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    """(group_by, group) -> display rank of the known values, and group_by -> how many
    values are known (the rank of any other value; "unknown" comes after it)."""
    order = {**GROUP_VALUE_ORDER, ON_TRACK_GROUPING: ON_TRACK_GROUPS}
    every = (ALL, *GROUP_FIELDS, *EXTRA_GROUPINGS)
    ranks = pl.DataFrame(
        [
            (field, value, rank)
            for field, values in order.items()
            for rank, value in enumerate(values)
        ],
        schema={"group_by": pl.String, "group": pl.String, "_rank": pl.Int64},
        orient="row",
    )
    known = pl.DataFrame(
        {
            "group_by": list(every),
            "_known": [len(order.get(f, ())) for f in every],
        },
        schema={"group_by": pl.String, "_known": pl.Int64},
    )
    return ranks, known


_GROUP_RANKS, _KNOWN_COUNTS = _rank_tables()


def _pairs(stage_names: Sequence[str]) -> list[tuple[str, str]]:
    return list(zip(stage_names[:-1], stage_names[1:], strict=True))


def _percent(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    return pl.when(whole > 0).then(100.0 * part / whole).otherwise(None)


def leaks(funnel_frame: pl.DataFrame) -> pl.DataFrame:
    """For every funnel and consecutive stage pair: from_stage, to_stage, from_count,
    to_count, lost (= from_count - to_count) and lost_pct (lost as a percentage of
    from_count; null when from_count is 0)."""
    stage_names = [s for s in PIPELINE_STAGES if s in set(funnel_frame["stage"].to_list())]
    keys = ["cohort", "group_by", "group"]
    pairs = pl.DataFrame(
        _pairs(stage_names), schema=["from_stage", "to_stage"], orient="row"
    ).with_row_index("_pair")
    counts = funnel_frame.with_row_index("_row")
    return (
        counts.join(pairs, left_on="stage", right_on="from_stage")
        .rename({"stage": "from_stage", "count": "from_count"})
        .join(
            funnel_frame.rename({"stage": "to_stage", "count": "to_count"}),
            on=[*keys, "to_stage"],
        )
        .with_columns((pl.col("from_count") - pl.col("to_count")).alias("lost"))
        .with_columns(_percent(pl.col("lost"), pl.col("from_count")).alias("lost_pct"))
        .sort("_row")
        .select(*keys, "from_stage", "to_stage", "from_count", "to_count", "lost", "lost_pct")
    )


def biggest_leak(funnel_frame: pl.DataFrame) -> pl.DataFrame:
    """Per funnel (cohort, group_by, group): the consecutive stage pair with the largest
    share lost (the earliest pair on a tie); funnels whose every earlier stage is zero have
    no row. Columns as in `leaks`."""
    all_leaks = leaks(funnel_frame).with_row_index("_row")
    keys = ["cohort", "group_by", "group"]
    return (
        all_leaks.filter(pl.col("lost_pct").is_not_null())
        .filter(pl.col("lost_pct") == pl.col("lost_pct").max().over(keys))
        .filter(pl.col("_row") == pl.col("_row").min().over(keys))
        .sort("_row")
        .drop("_row")
    )


def subgroup_gaps(stages: pl.DataFrame, by: str) -> pl.DataFrame:
    """Each group's stage-to-stage conversion against the rest of its cohort.

    Columns: cohort, group_by, group, from_stage, to_stage, group_from, group_to,
    group_pct (group_to / group_from, %), rest_from, rest_to, rest_pct (the same for the
    cohort's other students), gap_pp = group_pct - rest_pct (percentage points; null when
    either side has nobody at the earlier stage).
    """
    groups = leaks(funnel(stages, by)).with_row_index("_row")
    totals = leaks(funnel(stages, None)).select(
        "cohort", "from_stage", "to_stage", "from_count", "to_count"
    )
    return (
        groups.join(totals, on=["cohort", "from_stage", "to_stage"], suffix="_all")
        .sort("_row")
        .select(
            "cohort",
            "group_by",
            "group",
            "from_stage",
            "to_stage",
            pl.col("from_count").alias("group_from"),
            pl.col("to_count").alias("group_to"),
            _percent(pl.col("to_count"), pl.col("from_count")).alias("group_pct"),
            (pl.col("from_count_all") - pl.col("from_count")).alias("rest_from"),
            (pl.col("to_count_all") - pl.col("to_count")).alias("rest_to"),
        )
        .with_columns(_percent(pl.col("rest_to"), pl.col("rest_from")).alias("rest_pct"))
        .with_columns((pl.col("group_pct") - pl.col("rest_pct")).alias("gap_pp"))
    )


def on_track_split(stages: pl.DataFrame) -> pl.DataFrame:
    """Per cohort, graduation of students on track at the end of grade 9 against those who
    were not: columns cohort, on_track ("Y", "N", or "unknown" when there is no grade-9
    end-of-year record), students, graduated (the funnel's nested stage count, so the
    split adds up to the funnel; it needs the `graduated` stage), graduation_pct."""
    status = (
        pl.when(pl.col("on_track"))
        .then(pl.lit("Y"))
        .when(pl.col("on_track").not_())
        .then(pl.lit("N"))
        .otherwise(pl.lit(UNKNOWN_GROUP))
    )
    order = {"Y": 0, "N": 1, UNKNOWN_GROUP: 2}
    return (
        stages.group_by("cohort", status.alias("on_track"))
        .agg(
            pl.len().cast(pl.Int64).alias("students"),
            pl.col("graduated").sum().cast(pl.Int64).alias("graduated"),
        )
        .with_columns(_percent(pl.col("graduated"), pl.col("students")).alias("graduation_pct"))
        .sort("cohort", pl.col("on_track").replace_strict(order, return_dtype=pl.Int64))
    )
