"""Definition cards and a student's own figures in words."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.vocabulary import ATTENDANCE_BANDS, FLAGS, PIPELINE_STAGES
from indicators.definitions import (
    FLAG_TITLES,
    chronic_line_label,
    definitions,
    explain,
    flag_title,
    small_counts_rule,
    tier_label,
)
from indicators.settings import load_settings
from indicators.student import compute_student_indicators
from indicators.trajectory import attendance_trajectory
from tests.indicators.builders import AS_OF, YEAR, enrollment, fafsa, mark, score, snapshot, tables


def test_every_flag_band_tier_and_stage_has_a_card_with_a_source(settings) -> None:
    cards = definitions(settings)
    needed = {*FLAGS, *ATTENDANCE_BANDS, *PIPELINE_STAGES, "tier_1", "tier_2", "tier_3"}
    needed |= {"absence_rate", "core_fails", "on_track", "cohort", "small_cell", "tier"}
    assert needed <= set(cards)
    for key, card in cards.items():
        assert card.key == key
        assert card.title and card.rule and card.source


def test_cards_name_their_published_sources(settings) -> None:
    cards = definitions(settings)
    assert "Attendance Works" in cards["chronic_absence"].source
    assert "Consortium on School Research" in cards["on_track"].source
    assert "Everyone Graduates Center" in cards["course_failure"].source
    assert "NCAN" in cards["fafsa_not_completed"].source
    assert "200.19" in cards["cohort"].source
    assert "Technical Brief 3" in cards["small_cell"].source


def test_rules_carry_the_deployments_thresholds(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        "[attendance]\nband_thresholds = [0.06, 0.12, 0.25]\nchronic_threshold = 0.12\n"
        "min_days_enrolled = 20\n[suppression]\nmin_cell = 15\n"
    )
    cards = definitions(load_settings(path))
    assert "12%" in cards["chronic_absence"].rule
    assert "25%" in cards["severe_chronic"].rule
    assert "20 days" in cards["absence_rate"].rule
    assert "<15" in cards["small_cell"].rule


def student_row(settings, **rows) -> dict:
    frame = compute_student_indicators(tables(**rows), YEAR, AS_OF, settings)
    return frame.row(0, named=True)


def test_attendance_is_explained_with_the_students_own_days(settings) -> None:
    row = student_row(settings, enrollments=[enrollment("S1")], attendance=[snapshot("S1", 62, 14)])
    assert explain("attendance_band", row, settings) == (
        "absent 14 of 62 days enrolled (22.6%), 20% or more is severe chronic absence"
    )
    assert explain("chronic_absence", row, settings) == (
        "absent 14 of 62 days enrolled (22.6%); 10% or more is chronic absence: flagged"
    )


def test_missing_attendance_is_explained_as_missing_not_as_a_flag(settings) -> None:
    none = student_row(settings, enrollments=[enrollment("S1")])
    few = student_row(settings, enrollments=[enrollment("S1")], attendance=[snapshot("S1", 7, 2)])
    assert "no attendance record" in explain("chronic_absence", none, settings)
    assert explain("chronic_absence", few, settings) == (
        "enrolled 7 days so far; attendance is judged from 10 days enrolled: not flagged yet"
    )


def test_grades_tests_fafsa_and_tier_are_explained(settings) -> None:
    row = student_row(
        settings,
        enrollments=[enrollment("S1", grade=12)],
        attendance=[snapshot("S1", 100, 12)],
        course_marks=[mark("S1", "F", subject="math"), mark("S1", "52", subject="ela")],
        test_scores=[
            score("S1", "ela", YEAR, False, on=date(2025, 10, 1)),
            score("S1", "math", YEAR - 1, True, on=date(2025, 4, 20)),
        ],
        fafsa=[fafsa("S1", "submitted", on=date(2026, 1, 10))],
    )
    assert explain("course_failure", row, settings) == (
        "2 failing final marks in core subjects this school year; one or more is a course "
        "failure, 2 or more mean tier 3: flagged"
    )
    assert explain("below_proficient", row, settings) == (
        f"latest ELA: State Assessment {YEAR}, not proficient; latest math: State Assessment "
        f"{YEAR - 1}, proficient: flagged"
    )
    assert explain("fafsa_not_completed", row, settings) == (
        "FAFSA submitted on 2026-01-10, not completed yet: flagged"
    )
    assert explain("tier", row, settings) == (
        "4 flags (chronic absence, course failure, below proficient, FAFSA not completed): "
        "tier 3 (2 or more flags, 2 or more core failures)"
    )
    assert explain("on_track", row, settings) == "freshman on-track applies to ninth graders only"


def test_on_track_is_explained_with_credits_and_semester_fs(settings) -> None:
    row = student_row(
        settings,
        enrollments=[enrollment("S1", grade=9)],
        course_marks=[
            mark("S1", "B", term="Y", subject="other", credits=4.5, course="E"),
            mark("S1", "F", term="S2", subject="math"),
        ],
    )
    assert explain("on_track", row, settings) == (
        "earned 4.5 credits (5 needed) and 1 semester F(s) in core subjects (at most 1 "
        "allowed): off track"
    )


def test_the_trajectory_is_explained(settings) -> None:
    row = attendance_trajectory(
        tables(attendance=[snapshot("S1", 62, 14)]).attendance, YEAR, AS_OF, settings
    ).row(0, named=True)
    assert explain("days_to_recover", row, settings) == (
        "needs 79 days present in a row to get back under 10% (118 school days remain this year)"
    )


def test_an_unknown_key_is_refused_and_a_stage_gives_its_rule(settings) -> None:
    with pytest.raises(KeyError, match="no definition"):
        explain("charisma", {}, settings)
    assert explain("graduated", {}, settings) == definitions(settings)["graduated"].rule


# ---------------------------------------------------------------------------------------
# Labels the pages show: one place for flag titles, tier labels and threshold words
# ---------------------------------------------------------------------------------------


def test_flag_titles_come_from_the_definitions_and_an_untitled_flag_gets_its_key_in_words() -> None:
    assert [flag_title(f) for f in FLAGS] == [
        "Chronic absence",
        "Course failure",
        "Below proficient",
        "FAFSA not completed",
    ]
    assert flag_title("attendance_drop") == "Attendance drop"


def test_every_flag_of_the_vocabulary_has_its_title_written() -> None:
    """The fallback above keeps pages up; this keeps a missing title from going unnoticed."""
    assert set(FLAG_TITLES) == set(FLAGS)


def test_tier_labels_name_the_level_of_support() -> None:
    assert [tier_label(t) for t in (1, 2, 3)] == [
        "Tier 1 · universal",
        "Tier 2 · targeted",
        "Tier 3 · intensive",
    ]
    assert tier_label(3, short=True) == "3 · intensive"
    assert tier_label(4) == "Tier 4"


def test_threshold_words_follow_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        "[attendance]\nband_thresholds = [0.05, 0.15, 0.25]\nchronic_threshold = 0.15\n"
        "[suppression]\nmin_cell = 5\n"
    )
    changed = load_settings(path)
    assert chronic_line_label(load_settings()) == "chronic absence (10%)"
    assert chronic_line_label(changed) == "chronic absence (15%)"
    assert small_counts_rule(load_settings()) == (
        "a count under 10 shows as “<10”, and a count that would reveal a small group by "
        "subtraction shows as “*”"
    )
    assert "a count under 5 shows as “<5”" in small_counts_rule(changed)


def test_tier_cards_follow_every_tier_setting(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        "[tiers]\ntier3_min_flags = 3\ntier3_on_severe_chronic = false\n"
        "tier3_min_core_fails = 3\ntier2_min_flags = 2\n"
    )
    cards = definitions(load_settings(path))
    assert cards["tier_3"].rule == "3 or more flags or 3 or more core failures."
    assert cards["tier_2"].rule == "2 flags, without 3 or more core failures."
    assert "severe" not in cards["tier"].rule
    assert "How many of the 4 flags are raised: chronic absence, course failure" in (
        cards["flag_count"].rule
    )
    defaults = definitions(load_settings())
    assert defaults["tier_3"].rule == (
        "2 or more flags, severe chronic absence, or 2 or more core failures."
    )
    assert defaults["tier_2"].rule == (
        "1 flag, without severe chronic absence or 2 or more core failures."
    )
