"""Record matching: which student a row of a state FAFSA file or a partner's export is about,
when the file does not carry the district's student id (docs/import-format.md, "Record
matching").

The rule (issue 15: "exact and single candidate -> loaded; ambiguous or unmatched -> never
guessed"):

- Names are normalised: accents removed (Unicode NFKD), lower case, and everything but the
  letters a-z dropped, so `José`, `JOSE` and `jose` agree, and so do `O'Brien`, `OBrien`
  and `o brien`, `Smith-Jones` and `Smith Jones`.
- A row matches a student **exactly** when the normalised last and first names and the
  birth date are equal and, if the row names a school, the school is the student's. A row
  with exactly one exact match is **matched**: it is loaded under that student's id.
- Every other row is never guessed. It is **ambiguous** when more than one student matches
  exactly, or when only near matches exist: a student with the same birth date whose names
  score at least `near` (the mean Jaro-Winkler similarity of last and first names, also
  tried with the two swapped), or with the same names and another birth date, or the same
  names and birth date at another school. It is **unmatched** when there is no candidate.
  Both go to the review queue with their candidates (best first, at most `MAX_CANDIDATES`).

Jaro-Winkler similarity is computed with RapidFuzz (`rapidfuzz.process.cpdist`), chosen in
docs/import-format.md. Candidates are blocked on birth date, so each row is compared with
the few dozen students born the same day, not with every student. Pure: frames in, frames out.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

MATCHED, AMBIGUOUS, UNMATCHED = "matched", "ambiguous", "unmatched"
#: Candidates kept for the steward per row, best first.
MAX_CANDIDATES: Final = 5
#: The score of a candidate with the same names but another birth date, or another school.
NAMES_ONLY_SCORE: Final = 0.9

ROW, STUDENT = "_row", "student_id"
_L, _F = "_last", "_first"

CANDIDATE = pl.Struct({"student_id": pl.String, "score": pl.Float64})


def normalised(column: str) -> pl.Expr:
    """A name as compared: NFKD, lower case, letters a-z only (blank when none remain)."""
    cleaned = pl.col(column).str.normalize("NFKD").str.to_lowercase().str.replace_all(r"[^a-z]", "")
    return pl.when(cleaned.str.len_chars() > 0).then(cleaned)


def _prepared(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(normalised("last_name").alias(_L), normalised("first_name").alias(_F))


def _similarity(left: pl.Series, right: pl.Series) -> pl.Series:
    """Jaro-Winkler similarity of each pair (0..1)."""
    scores = cpdist(
        left.fill_null("").to_list(),
        right.fill_null("").to_list(),
        scorer=JaroWinkler.normalized_similarity,
        dtype="float64",
    )
    return pl.Series(scores, dtype=pl.Float64)


def match_records(rows: pl.DataFrame, students: pl.DataFrame, near: float) -> pl.DataFrame:
    """For each row of `rows` (`_row`, first_name, last_name, birth_date, school_id) among
    `students` (student_id, first_name, last_name, birth_date, school_id): `_row`,
    `decision` (matched, ambiguous, unmatched), `student_id` (matched rows only) and
    `candidates` (list of {student_id, score}, best first)."""
    left = _prepared(rows.select(ROW, "first_name", "last_name", "birth_date", "school_id"))
    right = _prepared(
        students.select(STUDENT, "first_name", "last_name", "birth_date", "school_id")
    ).rename({"school_id": "_student_school", "first_name": "_sf", "last_name": "_sl"})
    same_names = left.join(right.drop("birth_date"), on=[_L, _F], how="inner").with_columns(
        pl.col("birth_date").alias("_row_birth")
    )
    same_names = same_names.join(
        right.select(STUDENT, pl.col("birth_date").alias("_student_birth")), on=STUDENT
    )
    exact_pairs = same_names.filter(
        (pl.col("_row_birth") == pl.col("_student_birth"))
        & (pl.col("school_id").is_null() | (pl.col("school_id") == pl.col("_student_school")))
    )
    exact = exact_pairs.group_by(ROW).agg(pl.col(STUDENT).sort().alias("_exact"))
    single = exact.filter(pl.col("_exact").list.len() == 1).select(
        ROW, pl.col("_exact").list.first().alias(STUDENT)
    )
    names_only = same_names.join(exact_pairs.select(ROW, STUDENT), on=[ROW, STUDENT], how="anti")
    scored = [
        exact_pairs.select(ROW, STUDENT, pl.lit(1.0).alias("score")),
        names_only.select(ROW, STUDENT, pl.lit(NAMES_ONLY_SCORE).alias("score")),
    ]
    rest = left.join(single, on=ROW, how="anti")
    pairs = rest.join(
        right.select(STUDENT, "birth_date", pl.col(_L).alias("_l2"), pl.col(_F).alias("_f2")),
        on="birth_date",
        how="inner",
    )
    if pairs.height:
        last = _similarity(pairs[_L], pairs["_l2"])
        first = _similarity(pairs[_F], pairs["_f2"])
        last_swapped = _similarity(pairs[_L], pairs["_f2"])
        first_swapped = _similarity(pairs[_F], pairs["_l2"])
        straight = ((last + first) / 2).to_numpy()
        swapped = ((last_swapped + first_swapped) / 2).to_numpy()
        score = pl.Series("score", np.maximum(straight, swapped), dtype=pl.Float64)
        near_pairs = pairs.select(ROW, STUDENT).with_columns(score).filter(pl.col("score") >= near)
        scored.append(near_pairs.with_columns(pl.col("score").round(3)))
    candidates = (
        pl.concat(scored)
        .group_by(ROW, STUDENT)
        .agg(pl.col("score").max())
        .sort([ROW, "score", STUDENT], descending=[False, True, False])
        .group_by(ROW, maintain_order=True)
        .agg(pl.struct(STUDENT, "score").head(MAX_CANDIDATES).alias("candidates"))
    )
    decided = (
        left.select(ROW)
        .join(single, on=ROW, how="left")
        .join(candidates, on=ROW, how="left")
        .with_columns(
            pl.when(pl.col(STUDENT).is_not_null())
            .then(pl.lit(MATCHED))
            .when(pl.col("candidates").list.len() > 0)
            .then(pl.lit(AMBIGUOUS))
            .otherwise(pl.lit(UNMATCHED))
            .alias("decision"),
            pl.col("candidates").fill_null(pl.lit([], dtype=pl.List(CANDIDATE))),
        )
    )
    return decided.select(ROW, "decision", STUDENT, "candidates")
