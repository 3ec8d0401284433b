"""Definition cards say the rule, its source and the student's own figures."""

from __future__ import annotations

from dataclasses import replace

from indicators.definitions import definitions, explain_flag
from indicators.settings import Settings


def test_every_flag_tier_and_stage_has_a_card_with_a_source() -> None:
    cards = definitions(Settings())
    for key in (
        "chronic_absence",
        "course_failure",
        "below_proficient",
        "fafsa_not_completed",
        "on_track",
        "tier",
        "pipeline",
    ):
        assert cards[key].rule and cards[key].source


def test_cards_follow_the_deployments_thresholds() -> None:
    cards = definitions(
        replace(Settings(), chronic_threshold=0.15, band_thresholds=(0.05, 0.15, 0.25))
    )
    assert "15% or more" in cards["chronic_absence"].rule


def test_the_explanation_gives_the_students_figures() -> None:
    row = {"attendance_state": "ok", "days_enrolled": 62, "days_absent": 14, "absence_rate": 14 / 62,
           "attendance_band": "severe_chronic", "days_to_recover": 79, "projected_absence_rate": 0.2}  # fmt: skip
    text = explain_flag("chronic_absence", row, Settings())
    assert "Absent 14 of 62 days enrolled (22.6%)" in text and "severe chronic" in text
    assert "79 days in a row" in text
    assert "Only 9 days" in explain_flag(
        "chronic_absence", {"attendance_state": "not_enough_days", "days_enrolled": 9}, Settings()
    )
