"""The demo district's FAFSA statuses as a state's FAFSA completion file (issue 15).

States pass districts a student-level file keyed by name, birth date and high school, not
by the district's id (docs/import-format.md, "State FAFSA completion files"). This writes one
for the demo's seniors in the shape those portals use (the columns North Carolina's Finish
the FAFSA report describes: status, student signed, parent signed, selected for
verification), with US dates (MM/DD/YYYY), the portal's own status words and school names,
and the mapping that reads it (`state-fafsa.toml`).

Like a real file it is not clean: a few names are misspelt (two letters swapped) and a few
rows are near-duplicates (a sibling born the same day, unknown to the district). Those
rows are never loaded: record matching sends them to the review queue. `altered_lines`
says which lines were made so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import polars as pl

from demo_district.generate import DemoSpec, district
from domain.mapping import Mapping, to_toml

FILE_NAME: Final = "state-fafsa.csv"
MAPPING_NAME: Final = "state-fafsa"
#: The portal's status words for Pathwise's statuses.
STATUS_WORDS: Final = {
    "not_started": "Not Submitted",
    "submitted": "Submitted - Not Complete",
    "incomplete": "Rejected - Action Needed",
    "completed": "Complete",
}
#: Every this-many rows a name is misspelt; offset by half for the near-duplicates.
EVERY: Final = 40
COLUMNS: Final = {
    "last_name": "Student Last Name",
    "first_name": "Student First Name",
    "birth_date": "Date of Birth",
    "school_id": "High School",
    "award_year": "Award Year",
    "status": "FAFSA Status",
    "status_date": "Status Date",
    "student_signed": "Student Signed",
    "parent_signed": "Parent Signed",
    "selected_for_verification": "Selected for Verification",
}


def demo_tables(spec: DemoSpec, names: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    """The demo's import-format tables `names`, each whole."""
    parts: dict[str, list[pl.DataFrame]] = {n: [] for n in names}
    for part in district(spec):
        for name in names:
            if name in part.tables:
                parts[name].append(part.tables[name])
    return {n: pl.concat(frames, how="vertical_relaxed") for n, frames in parts.items()}


def _draw(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _swapped(name: str) -> str:
    """`name` with its 2nd and 3rd letters swapped (a typing slip), if they differ."""
    if len(name) < 4 or name[1] == name[2]:
        return name + "e"
    return name[0] + name[2] + name[1] + name[3:]


def mapping(schools: pl.DataFrame) -> Mapping:
    """The mapping that reads the state file into `fafsa`."""
    return Mapping(
        name=MAPPING_NAME,
        target="fafsa",
        columns=dict(COLUMNS),
        values={
            "status": {word: status for status, word in STATUS_WORDS.items()},
            "school_id": dict(
                zip(schools["school_name"].to_list(), schools["school_id"].to_list(), strict=True)
            ),
        },
        date_format="%m/%d/%Y",
    )


def state_rows(spec: DemoSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the file's rows with `_kind`: exact, misspelt or sibling; the schools)."""
    tables = demo_tables(spec, ("schools", "students", "fafsa"))
    schools = tables["schools"]
    rows = (
        tables["fafsa"]
        .join(tables["students"], on="student_id")
        .join(schools.select("school_id", "school_name"), on="school_id")
        .sort("award_year", "student_id")
        .with_row_index("_n")
    )
    kind = (
        pl.when(pl.col("_n") % EVERY == EVERY - 1)
        .then(pl.lit("misspelt"))
        .when(pl.col("_n") % EVERY == EVERY // 2)
        .then(pl.lit("sibling"))
        .otherwise(pl.lit("exact"))
    )
    rows = rows.with_columns(kind.alias("_kind"))
    siblings = rows.filter(pl.col("_kind") == "sibling").with_columns(
        (pl.col("first_name") + pl.lit("a")).alias("first_name"),
        pl.lit("sibling").alias("_kind"),
    )
    rows = pl.concat(
        [
            rows.with_columns(pl.lit("exact").alias("_kind")).filter(
                pl.col("_n") % EVERY != EVERY - 1
            ),
            rows.filter(pl.col("_kind") == "misspelt").with_columns(
                pl.col("last_name").map_elements(_swapped, return_dtype=pl.String)
            ),
            siblings,
        ]
    ).sort("_n", "_kind")
    return rows, schools


def _flag(condition: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(pl.lit("Y")).otherwise(pl.lit("N"))


def write_state_fafsa(demo: DemoSpec, directory: Path) -> Path:
    """Write the state FAFSA file of the demo's seniors (and its mapping) into
    `directory`; returns the file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    rows, schools = state_rows(demo)
    started = pl.col("status") != "not_started"
    verification = pl.col("student_id").map_elements(
        lambda s: "Y" if _draw(s) % 5 == 0 else "N", return_dtype=pl.String
    )
    out = rows.select(
        pl.col("last_name").alias(COLUMNS["last_name"]),
        pl.col("first_name").alias(COLUMNS["first_name"]),
        pl.col("birth_date").dt.strftime("%m/%d/%Y").alias(COLUMNS["birth_date"]),
        pl.col("school_name").alias(COLUMNS["school_id"]),
        pl.col("award_year").cast(pl.String).alias(COLUMNS["award_year"]),
        pl.col("status").replace_strict(STATUS_WORDS).alias(COLUMNS["status"]),
        pl.col("status_date").dt.strftime("%m/%d/%Y").alias(COLUMNS["status_date"]),
        pl.when(started).then(_flag(pl.lit(True))).alias(COLUMNS["student_signed"]),
        pl.when(started)
        .then(_flag(pl.col("status") == "completed"))
        .alias(COLUMNS["parent_signed"]),
        pl.when(started).then(verification).alias(COLUMNS["selected_for_verification"]),
    )
    path = directory / FILE_NAME
    out.write_csv(path)
    (directory / f"{MAPPING_NAME}.toml").write_text(to_toml(mapping(schools)), encoding="utf-8")
    return path


def altered_lines(demo: DemoSpec) -> Iterator[tuple[int, str]]:
    """(line in the file, `misspelt` or `sibling`) of the rows made not to match exactly."""
    rows, _ = state_rows(demo)
    for index, kind in enumerate(rows.get_column("_kind").to_list()):
        if kind != "exact":
            yield index + 2, kind
