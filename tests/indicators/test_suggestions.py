"""Suggested partners: who addresses a student's flags and has room at their school.

The world: Ana at HS1 is chronically absent and failing a course; Ben at HS1 has no flag;
Caro at HS2 has not completed the FAFSA. Partners: Family Resource Center (family_support,
25 open at HS1), Mentors (mentoring, 5 open at any school), Tutors (academic, 12 open at
HS1, not accepting referrals at HS2), College Bridge (college_access, full at HS2, 8 open
at any school).
"""

from __future__ import annotations

import polars as pl

from indicators.capacity import ANY_SCHOOL, open_slots
from indicators.settings import Settings
from indicators.suggestions import ALREADY_SERVING, SUGGESTED, suggest_partners, summaries

NEEDS = Settings().coverage_need_service_types
NAMES = pl.DataFrame(
    {
        "org_id": ["FRC", "MEN", "TUT", "BRI"],
        "org_name": ["Family Resource Center", "Mentors", "Tutors", "College Bridge"],
    }
)
STUDENT_SCHEMA = {
    "student_id": pl.String,
    "school_id": pl.String,
    "chronic_absence": pl.Boolean,
    "course_failure": pl.Boolean,
    "below_proficient": pl.Boolean,
    "fafsa_not_completed": pl.Boolean,
}


def _students(
    *rows: tuple[str, str, bool | None, bool | None, bool | None, bool | None],
) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=STUDENT_SCHEMA, orient="row")


ANA = ("ANA", "HS1", True, True, False, None)
BEN = ("BEN", "HS1", False, False, False, False)
CARO = ("CARO", "HS2", False, None, None, True)


def _services(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        list(rows),
        schema={"student_id": pl.String, "org_id": pl.String, "service_type": pl.String},
        orient="row",
    )


def _capacity(*rows: tuple[str, str, str, int, bool]) -> pl.DataFrame:
    """Capacity with nobody served, so open slots = slots (exact)."""
    capacity = pl.DataFrame(
        list(rows),
        schema={
            "org_id": pl.String,
            "school_id": pl.String,
            "service_type": pl.String,
            "slots": pl.Int64,
            "accepting_referrals": pl.Boolean,
        },
        orient="row",
    )
    served = pl.DataFrame(
        schema={
            "org_id": pl.String,
            "school_id": pl.String,
            "service_type": pl.String,
            "students": pl.Int64,
        }
    )
    return open_slots(capacity, served, exact=True, min_cell=10)


CAPACITY = _capacity(
    ("FRC", "HS1", "family_support", 25, True),
    ("MEN", ANY_SCHOOL, "mentoring", 5, True),
    ("TUT", "HS1", "academic", 12, True),
    ("TUT", "HS2", "academic", 30, False),
    ("BRI", "HS2", "college_access", 0, True),
    ("BRI", ANY_SCHOOL, "college_access", 8, True),
)


def _rows(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    return [
        (r["org_id"], r["service_type"], r["needs"], r["school_id"], r["open_display"], r["status"])
        for r in frame.iter_rows(named=True)
    ]


def test_partners_addressing_a_flag_with_open_slots_at_the_school_are_suggested_most_open_first() -> (
    None
):
    result = suggest_partners(_students(ANA), _services(), NEEDS, CAPACITY, NAMES)
    assert _rows(result.for_student("ANA")) == [
        ("FRC", "family_support", ["chronic_absence"], "HS1", "25", SUGGESTED),
        ("TUT", "academic", ["course_failure"], "HS1", "12", SUGGESTED),
        ("MEN", "mentoring", ["chronic_absence", "course_failure"], ANY_SCHOOL, "5", SUGGESTED),
    ]


def test_a_student_without_flags_gets_no_suggestion_and_is_not_without_support() -> None:
    result = suggest_partners(_students(BEN), _services(), NEEDS, CAPACITY, NAMES)
    assert result.partners.height == 0
    assert result.students.row(0, named=True) == {
        "student_id": "BEN",
        "flagged": False,
        "no_support": False,
    }


def test_full_capacity_and_capacity_not_accepting_referrals_are_not_suggested() -> None:
    result = suggest_partners(_students(CARO), _services(), NEEDS, CAPACITY, NAMES)
    # Bridge's HS2 row is full: its any-school row is the one with room.
    assert _rows(result.for_student("CARO")) == [
        ("BRI", "college_access", ["fafsa_not_completed"], ANY_SCHOOL, "8", SUGGESTED),
        ("MEN", "mentoring", ["fafsa_not_completed"], ANY_SCHOOL, "5", SUGGESTED),
    ]
    closed = _capacity(("BRI", ANY_SCHOOL, "college_access", 8, False))
    assert suggest_partners(_students(CARO), _services(), NEEDS, closed, NAMES).partners.height == 0


def test_capacity_at_another_school_is_not_suggested() -> None:
    elsewhere = _capacity(("FRC", "HS2", "family_support", 25, True))
    assert (
        suggest_partners(_students(ANA), _services(), NEEDS, elsewhere, NAMES).partners.height == 0
    )


def test_a_partner_already_serving_the_student_is_shown_as_such_and_not_suggested() -> None:
    serving = _services(("ANA", "MEN", "mentoring"))
    result = suggest_partners(_students(ANA), serving, NEEDS, CAPACITY, NAMES)
    assert _rows(result.for_student("ANA")) == [
        (
            "MEN",
            "mentoring",
            ["chronic_absence", "course_failure"],
            ANY_SCHOOL,
            "5",
            ALREADY_SERVING,
        ),
        ("FRC", "family_support", ["chronic_absence"], "HS1", "25", SUGGESTED),
        ("TUT", "academic", ["course_failure"], "HS1", "12", SUGGESTED),
    ]
    assert result.students.row(0, named=True)["no_support"] is False


def test_an_organisation_serving_one_need_is_not_suggested_for_another_of_its_types() -> None:
    both = CAPACITY.vstack(_capacity(("FRC", "HS1", "attendance", 40, True)))
    serving = _services(("ANA", "FRC", "family_support"))
    result = suggest_partners(_students(ANA), serving, NEEDS, both, NAMES)
    frc = result.for_student("ANA").filter(pl.col("org_id") == "FRC")
    assert frc.select("service_type", "status").rows() == [("family_support", ALREADY_SERVING)]


def test_a_service_for_something_else_leaves_the_student_without_support_for_their_flags() -> None:
    other = _services(("ANA", "BRI", "college_access"))
    result = suggest_partners(_students(ANA, CARO), other, NEEDS, CAPACITY, NAMES)
    assert dict(result.students.select("student_id", "no_support").rows()) == {
        "ANA": True,
        "CARO": True,
    }
    assert ALREADY_SERVING not in result.for_student("ANA")["status"].to_list()


def test_no_support_is_unknown_to_someone_who_does_not_see_every_service() -> None:
    result = suggest_partners(
        _students(ANA), _services(), NEEDS, CAPACITY, NAMES, services_complete=False
    )
    assert result.students["no_support"].to_list() == [None]


def test_a_protected_range_with_room_is_suggested_and_ordered_by_its_low_end() -> None:
    capacity = pl.DataFrame(
        {
            "org_id": ["FRC", "MEN"],
            "school_id": ["HS1", "HS1"],
            "service_type": ["family_support", "mentoring"],
            "slots": [9, 20],
            "accepting_referrals": [True, True],
        }
    )
    served = pl.DataFrame(
        {
            "org_id": ["FRC", "MEN"],
            "school_id": ["HS1", "HS1"],
            "service_type": ["family_support", "mentoring"],
            "students": [3, 4],
        }
    )
    protected = open_slots(capacity, served, exact=False, min_cell=10)
    result = suggest_partners(_students(ANA), _services(), NEEDS, protected, NAMES)
    assert [(r[0], r[4]) for r in _rows(result.for_student("ANA"))] == [
        ("MEN", "up to 20"),
        ("FRC", "up to 9"),
    ]


def test_which_types_address_which_flag_follows_the_setting() -> None:
    only_tutoring = (("chronic_absence", ()), ("course_failure", ("academic",)),
                     ("below_proficient", ()), ("fafsa_not_completed", ()))  # fmt: skip
    result = suggest_partners(_students(ANA), _services(), only_tutoring, CAPACITY, NAMES)
    assert result.for_student("ANA")["org_id"].to_list() == ["TUT"]


def test_the_list_column_names_who_serves_and_the_first_suggestions_with_their_open_slots() -> None:
    serving = _services(("ANA", "MEN", "mentoring"))
    result = suggest_partners(_students(ANA, BEN, CARO), serving, NEEDS, CAPACITY, NAMES)
    assert dict(summaries(result, shown=1).rows()) == {
        "ANA": "Already served by Mentors; could add Family Resource Center (25 open) and 1 more",
        "BEN": None,
        "CARO": "College Bridge (8 open) and 1 more",
    }
