"""The input of every indicator: the import-format tables as Polars frames.

`RawTables` holds one frame per import file (docs/import-format.md), with the
columns of that file; the demo generator and the data layer both produce exactly these.
On construction each frame is conformed: a required column that is missing raises
`ValueError`, a column of another dtype is cast to the canonical one, an optional column
that is missing is added as nulls (`final` defaults to true, as in the import format).
Columns the indicators do not read are kept as they are. A table that is not given is
empty, so a test builds only the tables it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Final

import polars as pl

_Schema = dict[str, tuple[pl.DataType, bool]]

#: Canonical columns per table: name -> (dtype, required).
SCHEMAS: Final[dict[str, _Schema]] = {
    "students": {
        "student_id": (pl.String(), True),
        "school_id": (pl.String(), True),
        "grade_level": (pl.Int64(), True),
        "cohort_year": (pl.Int64(), True),
        "gender": (pl.String(), False),
        "race_ethnicity": (pl.String(), False),
        "english_learner": (pl.Boolean(), False),
        "disability": (pl.Boolean(), False),
        "econ_disadvantaged": (pl.Boolean(), False),
    },
    "enrollments": {
        "student_id": (pl.String(), True),
        "school_id": (pl.String(), True),
        "school_year": (pl.Int64(), True),
        "grade_level": (pl.Int64(), True),
        "entry_date": (pl.Date(), True),
        "exit_date": (pl.Date(), False),
        "exit_code": (pl.String(), False),
    },
    "attendance": {
        "student_id": (pl.String(), True),
        "school_id": (pl.String(), True),
        "school_year": (pl.Int64(), True),
        "as_of_date": (pl.Date(), True),
        "days_enrolled": (pl.Int64(), True),
        "days_absent": (pl.Int64(), True),
    },
    "course_marks": {
        "student_id": (pl.String(), True),
        "school_year": (pl.Int64(), True),
        "term": (pl.String(), True),
        "course_id": (pl.String(), True),
        "subject": (pl.String(), True),
        "mark": (pl.String(), True),
        "credits_attempted": (pl.Float64(), False),
        "credits_earned": (pl.Float64(), False),
        "final": (pl.Boolean(), False),
    },
    "test_scores": {
        "student_id": (pl.String(), True),
        "school_year": (pl.Int64(), True),
        "test_name": (pl.String(), True),
        "subject": (pl.String(), True),
        "proficient": (pl.Boolean(), True),
        "performance_level": (pl.Int64(), False),
        "scale_score": (pl.Float64(), False),
        "test_date": (pl.Date(), False),
    },
    "fafsa": {
        "student_id": (pl.String(), True),
        "award_year": (pl.Int64(), True),
        "status": (pl.String(), True),
        "status_date": (pl.Date(), False),
    },
    "outcomes": {
        "student_id": (pl.String(), True),
        "graduated": (pl.Boolean(), False),
        "graduation_date": (pl.Date(), False),
        "postsecondary_enrolled": (pl.Boolean(), False),
        "postsecondary_start_date": (pl.Date(), False),
        "institution_level": (pl.String(), False),
        "persisted_second_year": (pl.Boolean(), False),
    },
}


def empty_table(name: str) -> pl.DataFrame:
    """An empty frame with the canonical columns of import file `name`."""
    return pl.DataFrame(schema={column: dtype for column, (dtype, _) in SCHEMAS[name].items()})


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the canonical dtypes of import file `name` (see the module docstring)."""
    schema = SCHEMAS[name]
    missing = [c for c, (_, required) in schema.items() if required and c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing required column(s) {', '.join(missing)}")
    changes: list[pl.Expr] = []
    for column, (dtype, _) in schema.items():
        if column not in frame.columns:
            default = True if column == "final" else None
            changes.append(pl.lit(default, dtype=dtype).alias(column))
        elif column == "final" and (frame.schema[column] != dtype or frame[column].has_nulls()):
            changes.append(pl.col(column).cast(dtype).fill_null(True))
        elif frame.schema[column] != dtype:
            changes.append(pl.col(column).cast(dtype))
    return frame.with_columns(changes) if changes else frame


def _empty(name: str) -> pl.DataFrame:
    return field(default_factory=lambda: empty_table(name))


@dataclass(frozen=True)
class RawTables:
    """The import-format frames the indicators read (each conformed on construction)."""

    students: pl.DataFrame = _empty("students")
    enrollments: pl.DataFrame = _empty("enrollments")
    attendance: pl.DataFrame = _empty("attendance")
    course_marks: pl.DataFrame = _empty("course_marks")
    test_scores: pl.DataFrame = _empty("test_scores")
    fafsa: pl.DataFrame = _empty("fafsa")
    outcomes: pl.DataFrame = _empty("outcomes")

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, conform(f.name, getattr(self, f.name)))

    @classmethod
    def from_mapping(cls, tables: Mapping[str, pl.DataFrame]) -> RawTables:
        """Pick the tables this class holds from a mapping of import file name -> frame."""
        names = {f.name for f in fields(cls)}
        return cls(**{name: frame for name, frame in tables.items() if name in names})
