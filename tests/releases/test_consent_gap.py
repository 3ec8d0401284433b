"""The consent gap, computed from frames (indicators/consent_gap.py): students an
organisation serves or was referred, without an active release naming it."""

from __future__ import annotations

import polars as pl

from indicators.consent_gap import GAP_COLUMNS, consent_gap

STUDENTS = pl.DataFrame(
    {
        "student_id": ["S1", "S2", "S3"],
        "first_name": ["Ana", "Ben", "Caro"],
        "last_name": ["Lopez", "Ng", "Ortiz"],
        "school_id": ["HS1", "HS1", "HS2"],
        "school_name": ["First High", "First High", "Second High"],
    }
)
ORGS = pl.DataFrame({"org_id": ["A", "B"], "org_name": ["Mentors", "Bridge"]})
AGREEMENTS = pl.DataFrame({"org_id": ["A", "A"], "categories": ["attendance;notes", "notes;tests"]})


def pairs(*rows: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"student_id": [s for s, _ in rows], "org_id": [o for _, o in rows]},
        schema={"student_id": pl.String, "org_id": pl.String},
    )


def gap(services: pl.DataFrame, referrals: pl.DataFrame, consents: pl.DataFrame) -> pl.DataFrame:
    return consent_gap(services, referrals, consents, AGREEMENTS, STUDENTS, ORGS)


def test_a_served_student_without_a_release_is_in_the_gap_with_the_agreements_categories() -> None:
    result = gap(pairs(("S1", "A")), pairs(), pairs())
    assert result.columns == list(GAP_COLUMNS)
    row = result.row(0, named=True)
    assert (row["student_id"], row["org_name"], row["school_name"], row["why"]) == (
        "S1",
        "Mentors",
        "First High",
        "served",
    )
    assert row["categories"] == ["attendance", "notes", "tests"]


def test_a_release_naming_the_organisation_closes_the_gap() -> None:
    assert gap(pairs(("S1", "A")), pairs(("S1", "A")), pairs(("S1", "A"))).height == 0


def test_a_release_naming_another_organisation_does_not() -> None:
    result = gap(pairs(("S1", "A")), pairs(), pairs(("S1", "B")))
    assert result["student_id"].to_list() == ["S1"]


def test_served_and_referred_is_both_and_one_row_per_student_and_organisation() -> None:
    result = gap(
        pairs(("S1", "A"), ("S1", "A"), ("S3", "A")),
        pairs(("S1", "A"), ("S2", "A"), ("S2", "A")),
        pairs(),
    )
    assert dict(zip(result["student_id"], result["why"], strict=True)) == {
        "S1": "both",
        "S2": "referred",
        "S3": "served",
    }
    assert result.height == 3


def test_an_organisation_without_an_active_agreement_has_no_categories_to_ask_for() -> None:
    result = gap(pairs(("S2", "B")), pairs(), pairs())
    assert result["categories"].to_list() == [[]]


def test_the_gap_is_sorted_by_organisation_school_and_student() -> None:
    result = gap(pairs(("S3", "A"), ("S2", "B"), ("S1", "A")), pairs(), pairs())
    assert result.select("org_name", "student_id").rows() == [
        ("Bridge", "S2"),
        ("Mentors", "S1"),
        ("Mentors", "S3"),
    ]
