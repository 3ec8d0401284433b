"""below_proficient (latest ELA or math result) and FAFSA completion for seniors."""

from __future__ import annotations

from datetime import date

from tests.indicators.builders import AS_OF, YEAR, enrollment, fafsa, score, tables


def results_of(rows, scores: list[dict]) -> dict:
    return rows(tables(enrollments=[enrollment("S1", grade=11)], test_scores=scores))["S1"]


def test_the_latest_result_is_by_school_year_then_test_date(rows) -> None:
    row = results_of(
        rows,
        [
            score("S1", "ela", YEAR - 1, False, on=date(2025, 5, 30)),
            score("S1", "ela", YEAR, True, on=date(2025, 10, 2), name="Fall Benchmark"),
            score("S1", "math", YEAR, True, on=date(2025, 10, 1), name="Fall Benchmark"),
            score("S1", "math", YEAR, False, on=date(2026, 1, 20), name="Winter Benchmark"),
        ],
    )
    assert (row["ela_test_year"], row["ela_proficient"]) == (YEAR, True)
    assert (row["math_test_name"], row["math_proficient"]) == ("Winter Benchmark", False)
    assert row["below_proficient"] is True


def test_a_later_year_wins_over_a_later_date_in_an_earlier_year(rows) -> None:
    row = results_of(
        rows,
        [
            score("S1", "ela", YEAR - 1, False, on=date(2025, 12, 1), name="Late Retest"),
            score("S1", "ela", YEAR, True, on=None),
        ],
    )
    assert row["ela_test_year"] == YEAR
    assert row["below_proficient"] is False


def test_a_dated_result_is_later_than_an_undated_one_of_the_same_year(rows) -> None:
    row = results_of(
        rows,
        [
            score("S1", "math", YEAR, True, on=None, name="A Undated"),
            score("S1", "math", YEAR, False, on=date(2025, 9, 20), name="B Dated"),
        ],
    )
    assert row["math_test_name"] == "B Dated"
    assert row["below_proficient"] is True


def test_results_after_the_as_of_date_or_the_year_viewed_are_not_known_yet(rows) -> None:
    row = results_of(
        rows,
        [
            score("S1", "ela", YEAR, True, on=date(2025, 10, 1)),
            score("S1", "ela", YEAR, False, on=date(2026, 4, 20), name="Spring"),
            score("S1", "math", YEAR + 1, False, on=None),
        ],
    )
    assert row["ela_proficient"] is True
    assert row["math_proficient"] is None
    assert row["below_proficient"] is False


def test_no_ela_or_math_result_is_not_a_flag(rows) -> None:
    row = results_of(rows, [score("S1", "science", YEAR, False, on=date(2025, 10, 1))])
    assert row["below_proficient"] is None
    assert row["flag_count"] == 0


def seniors(rows, records: list[dict], grade: int = 12) -> dict:
    world = tables(
        enrollments=[enrollment(sid, grade=grade) for sid in ("S1", "S2", "S3", "S4")],
        fafsa=records,
    )
    return rows(world)


def test_a_submitted_fafsa_is_flagged_and_shown_as_submitted(rows) -> None:
    found = seniors(
        rows,
        [
            fafsa("S1", "submitted", on=date(2026, 1, 10)),
            fafsa("S2", "completed", on=date(2026, 2, 1)),
            fafsa("S3", "incomplete", on=date(2026, 2, 1)),
        ],
    )
    assert (found["S1"]["fafsa_status"], found["S1"]["fafsa_not_completed"]) == ("submitted", True)
    assert (found["S2"]["fafsa_status"], found["S2"]["fafsa_not_completed"]) == ("completed", False)
    assert (found["S3"]["fafsa_status"], found["S3"]["fafsa_not_completed"]) == ("incomplete", True)
    assert found["S1"]["fafsa_status_date"] == date(2026, 1, 10)


def test_a_senior_without_a_record_has_not_started(rows) -> None:
    found = seniors(rows, [fafsa("S1", "completed", award_year=YEAR - 1)])
    for sid in ("S1", "S4"):
        assert found[sid]["fafsa_status"] == "not_started"
        assert found[sid]["fafsa_not_completed"] is True
        assert found[sid]["tier"] == 2


def test_fafsa_applies_to_seniors_only(rows) -> None:
    found = seniors(rows, [fafsa("S1", "submitted")], grade=11)
    assert found["S1"]["fafsa_status"] is None
    assert found["S1"]["fafsa_not_completed"] is None
    assert found["S4"]["fafsa_not_completed"] is None


def test_a_status_dated_after_the_as_of_date_is_not_known_yet(rows) -> None:
    found = seniors(rows, [fafsa("S1", "completed", on=AS_OF.replace(month=AS_OF.month + 1))])
    assert found["S1"]["fafsa_status"] == "not_started"
