"""The demo district's guardians read English or Spanish (docs/demo-district.md): Spanish
for the families of Hispanic English learners, English for everyone else, the same for
the same seed."""

from __future__ import annotations

from datetime import date

import polars as pl

from demo_district.generate import DemoSpec, district

SPEC = DemoSpec(students=400, seed=5, today=date(2026, 11, 22))


def guardians_and_students(spec: DemoSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
    parts = list(district(spec))
    return (
        pl.concat(p.tables["guardians"] for p in parts if "guardians" in p.tables),
        pl.concat(p.tables["students"] for p in parts if "students" in p.tables),
    )


def test_spanish_for_hispanic_english_learners_english_for_the_others() -> None:
    guardians, students = guardians_and_students(SPEC)
    joined = guardians.join(students, on="student_id")
    expected = (
        pl.when(pl.col("english_learner") & (pl.col("race_ethnicity") == "hispanic"))
        .then(pl.lit("es"))
        .otherwise(pl.lit("en"))
    )
    assert joined.height == guardians.height
    # (a student whose race/ethnicity the file leaves blank may be either)
    known = joined.filter(pl.col("race_ethnicity").is_not_null())
    assert known.filter(pl.col("language") != expected).height == 0
    counts = dict(guardians["language"].value_counts().iter_rows())
    assert set(counts) == {"en", "es"} and counts["es"] > 0


def test_the_languages_are_the_same_for_the_same_seed() -> None:
    first, _ = guardians_and_students(SPEC)
    again, _ = guardians_and_students(SPEC)
    assert first.equals(again)
