"""Record matching on small worlds (indicators/record_matching.py): exact and single is
matched; twins, misspellings, swapped names and strangers are never guessed."""

from __future__ import annotations

from datetime import date

import polars as pl

from indicators.record_matching import AMBIGUOUS, MATCHED, UNMATCHED, match_records

BORN = date(2008, 3, 14)
STUDENTS = pl.DataFrame(
    {
        "student_id": ["S1", "S2", "S3", "S4", "S5"],
        "first_name": ["José", "Ana", "Maria", "Mario", "Lee"],
        "last_name": ["O'Brien", "Smith-Jones", "Diaz", "Diaz", "Kim"],
        "birth_date": [BORN, BORN, BORN, BORN, date(2008, 1, 2)],
        "school_id": ["HS1", "HS1", "HS2", "HS2", "HS1"],
    }
)


def _match(first: str, last: str, born: date = BORN, school: str | None = None) -> dict:
    rows = pl.DataFrame(
        {
            "_row": [0],
            "first_name": [first],
            "last_name": [last],
            "birth_date": [born],
            "school_id": [school],
        },
        schema_overrides={"school_id": pl.String},
    )
    return match_records(rows, STUDENTS, 0.85).row(0, named=True)


def test_accents_case_and_punctuation_do_not_stop_an_exact_match() -> None:
    found = _match("JOSE", "obrien", school="HS1")
    assert (found["decision"], found["student_id"]) == (MATCHED, "S1")
    assert _match("ana", "Smith Jones")["student_id"] == "S2"


def test_a_misspelt_name_is_offered_for_review_never_loaded() -> None:
    found = _match("Ana", "Simth-Jones")
    assert found["decision"] == AMBIGUOUS and found["student_id"] is None
    assert found["candidates"][0]["student_id"] == "S2"
    assert 0.85 <= found["candidates"][0]["score"] < 1


def test_twins_with_near_names_are_ambiguous_with_both_candidates() -> None:
    found = _match("Marie", "Diaz")
    assert found["decision"] == AMBIGUOUS
    assert {c["student_id"] for c in found["candidates"]} == {"S3", "S4"}


def test_another_school_or_another_birth_date_is_not_exact() -> None:
    assert _match("Maria", "Diaz", school="HS1")["decision"] == AMBIGUOUS
    other_day = _match("Lee", "Kim", born=date(2008, 1, 3))
    assert other_day["decision"] == AMBIGUOUS
    assert other_day["candidates"][0]["student_id"] == "S5"


def test_first_and_last_names_swapped_are_offered_not_loaded() -> None:
    found = _match("Diaz", "Maria")
    assert found["decision"] == AMBIGUOUS
    assert found["candidates"][0]["student_id"] == "S3"


def test_a_stranger_is_unmatched_without_candidates() -> None:
    found = _match("Zed", "Quux")
    assert (found["decision"], found["candidates"]) == (UNMATCHED, [])


def test_two_identical_students_make_an_exact_row_ambiguous() -> None:
    doubled = pl.concat([STUDENTS, STUDENTS.head(1).with_columns(pl.lit("S9").alias("student_id"))])
    rows = pl.DataFrame(
        {"_row": [0], "first_name": ["José"], "last_name": ["O'Brien"], "birth_date": [BORN]}
    ).with_columns(pl.lit(None, dtype=pl.String).alias("school_id"))
    found = match_records(rows, doubled, 0.85).row(0, named=True)
    assert found["decision"] == AMBIGUOUS
    assert [c["score"] for c in found["candidates"]] == [1.0, 1.0]
