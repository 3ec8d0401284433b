"""The frames of "Is it working?" (issue 13): their columns and dtypes, in one place.

The pure method (`indicators.outcomes.program_outcomes`) returns frames of exactly these
schemas, the protection (`indicators.outcomes_protection`) reads and writes them, and the
data layer stores them (`data_access.models`, migration 0006). The source of every column
is the issue-13 design contract; docs/outcomes.md says what each figure means.
"""

from __future__ import annotations

from typing import Final

import polars as pl

#: The measures, in the order the pages and the export list them.
CHANGE_MEASURES: Final = ("absence_rate", "core_fails")
YES_NO_MEASURES: Final = (
    "on_track",
    "fafsa_completed",
    "graduated",
    "enrolled_postsecondary",
    "persisted",
)
MEASURES: Final = (*CHANGE_MEASURES, *YES_NO_MEASURES)
#: WWC bands on the largest |SMD| after matching.
BALANCE_BANDS: Final = ("ok", "adjusted", "not_comparable")
VERDICTS: Final = ("better", "worse", "no_difference", "too_few", "not_comparable")
EFFECT_SIZE_KINDS: Final = ("hedges_g", "cox_index")
TRAJECTORY_GROUPS: Final = ("served", "comparison")
#: The verdict of a row that has no effect (too few students to tell).
TOO_FEW: Final = "too_few"

#: What identifies one program-year's figure for one measure and one group.
ESTIMATE_KEYS: Final = (
    "school_year",
    "org_id",
    "service_type",
    "measure",
    "group_by",
    "group_value",
)
#: The counts of an estimate row.
ESTIMATE_COUNTS: Final = ("served", "excluded", "matched", "comparison", "unserved")
#: The group means (display units).
ESTIMATE_MEANS: Final = ("served_before", "served_after", "comparison_before", "comparison_after")

ESTIMATES_SCHEMA: Final[dict[str, pl.DataType]] = {
    "school_year": pl.Int64(),
    "org_id": pl.String(),
    "service_type": pl.String(),
    "measure": pl.String(),
    "group_by": pl.String(),
    "group_value": pl.String(),
    "served": pl.Int64(),
    "excluded": pl.Int64(),
    "matched": pl.Int64(),
    "comparison": pl.Int64(),
    "unserved": pl.Int64(),
    "served_before": pl.Float64(),
    "served_after": pl.Float64(),
    "comparison_before": pl.Float64(),
    "comparison_after": pl.Float64(),
    "effect": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "effect_size": pl.Float64(),
    "effect_size_kind": pl.String(),
    "max_smd": pl.Float64(),
    "balance": pl.String(),
    "naive_effect": pl.Float64(),
    "verdict": pl.String(),
    "mean_sessions": pl.Float64(),
    "mean_hours": pl.Float64(),
}

BALANCE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "school_year": pl.Int64(),
    "org_id": pl.String(),
    "service_type": pl.String(),
    "measure": pl.String(),
    "covariate": pl.String(),
    "served_mean": pl.Float64(),
    "pool_mean": pl.Float64(),
    "comparison_mean": pl.Float64(),
    "smd_before": pl.Float64(),
    "smd_after": pl.Float64(),
}

TRAJECTORY_SCHEMA: Final[dict[str, pl.DataType]] = {
    "school_year": pl.Int64(),
    "org_id": pl.String(),
    "service_type": pl.String(),
    "group": pl.String(),
    "month_offset": pl.Int64(),
    "absence_rate": pl.Float64(),
    "students": pl.Int64(),
}

SERVED_STUDENTS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "school_year": pl.Int64(),
    "org_id": pl.String(),
    "service_type": pl.String(),
    "student_id": pl.String(),
    "start_date": pl.Date(),
    "matched": pl.Boolean(),
    "sessions": pl.Int64(),
    "hours": pl.Float64(),
}

#: The counts a protected viewer sees as text (`"123"`, `"<10"`, `"*"`), each beside its
#: integer column (null when hidden). Exact rows carry the same `_display` columns.
DISPLAYED_COUNTS: Final = ("served", "matched", "comparison")

#: `program_estimate_public`: what a viewer without exact rights may see of an estimate.
#: No `excluded` or `unserved` count, the shown counts nullable, their text beside them.
PUBLIC_ESTIMATES_SCHEMA: Final[dict[str, pl.DataType]] = {
    **{k: ESTIMATES_SCHEMA[k] for k in ESTIMATE_KEYS},
    **{
        column: dtype
        for count in DISPLAYED_COUNTS
        for column, dtype in ((count, pl.Int64()), (f"{count}_display", pl.String()))
    },
    **{
        k: v
        for k, v in ESTIMATES_SCHEMA.items()
        if k not in ESTIMATE_KEYS and k not in ESTIMATE_COUNTS
    },
}

#: `program_trajectory_public`: a point of fewer than min_cell students has no rate, and
#: its student count is shown as `<10` (`students` null).
PUBLIC_TRAJECTORY_SCHEMA: Final[dict[str, pl.DataType]] = {
    **TRAJECTORY_SCHEMA,
    "students_display": pl.String(),
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame with no rows and exactly `schema`'s columns."""
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """`frame` with exactly `schema`'s columns, in its order and dtypes (`ValueError`
    naming a missing column)."""
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}")
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()])
