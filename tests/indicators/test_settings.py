"""Settings: packaged defaults, overrides by file or environment, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.vocabulary import CORE_SUBJECTS, PIPELINE_STAGES
from indicators.settings import ENV_VAR, Settings, SettingsError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pathwise.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_defaults_are_the_published_thresholds(monkeypatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    settings = load_settings()
    assert settings == Settings()
    assert settings.band_thresholds == (0.05, 0.10, 0.20)
    assert settings.chronic_threshold == 0.10
    assert settings.min_days_enrolled == 10
    assert settings.core_subjects == CORE_SUBJECTS
    assert settings.failing_mark_below == 60
    assert settings.failing_letters == ("F", "NP")
    assert settings.on_track_min_credits == 5.0
    assert settings.on_track_max_core_semester_fs == 1
    assert settings.funnel_stages == PIPELINE_STAGES
    assert settings.min_cell == 10
    assert settings.instructional_days == 180
    assert settings.suppressed_label == "<10"


def test_a_file_overrides_only_the_keys_it_names(tmp_path) -> None:
    path = write(tmp_path, "[suppression]\nmin_cell = 15\n[attendance]\nmin_days_enrolled = 45\n")
    settings = load_settings(path)
    assert settings.min_cell == 15
    assert settings.suppressed_label == "<15"
    assert settings.min_days_enrolled == 45
    assert settings.band_thresholds == (0.05, 0.10, 0.20)


def test_the_environment_variable_names_the_override_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(write(tmp_path, "[suppression]\nmin_cell = 11\n")))
    assert load_settings().min_cell == 11


def test_settings_are_hashable_so_they_can_key_a_cache() -> None:
    assert hash(Settings()) == hash(Settings())


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[attendance]\nchronic_treshold = 0.1\n", "attendance.chronic_treshold"),
        ("[attendence]\nmin_days_enrolled = 5\n", "[attendence]"),
        ("[suppression]\nmin_cell = 0\n", "suppression.min_cell"),
        ("[suppression]\nmin_cell = 2.5\n", "suppression.min_cell"),
        ("[suppression]\nmin_cell = true\n", "suppression.min_cell"),
        ("[attendance]\nmin_days_enrolled = '10'\n", "attendance.min_days_enrolled"),
        (
            "[attendance]\nband_thresholds = [0.05, 0.20, 0.10]\nchronic_threshold = 0.2\n",
            "attendance.band_thresholds",
        ),
        ("[attendance]\nband_thresholds = [0.05, 0.1]\n", "attendance.band_thresholds"),
        ("[attendance]\nchronic_threshold = 10\n", "attendance.chronic_threshold"),
        ("[attendance]\nchronic_threshold = 0.12\n", "attendance.chronic_threshold"),
        ("[grades]\ncore_subjects = ['ela', 'art']\n", "grades.core_subjects"),
        ("[grades]\nfailing_letters = ['E']\n", "grades.failing_letters"),
        ("[on_track]\nmin_credits = -1\n", "on_track.min_credits"),
        ("[tiers]\ntier3_on_severe_chronic = 'yes'\n", "tiers.tier3_on_severe_chronic"),
        ("[tiers]\ntier3_min_flags = 1\n", "tiers.tier3_min_flags"),
        ("[pipeline]\nstages = ['graduated', 'entered_grade_9']\n", "pipeline.stages"),
        ("[pipeline]\nstages = ['entered_grade_9', 'dropped']\n", "pipeline.stages"),
        ("[pipeline]\nstages = []\n", "pipeline.stages"),
    ],
)
def test_an_unusable_value_is_refused_naming_the_file_and_key(tmp_path, text, names) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    assert str(path) in str(error.value)
    assert names in str(error.value)


def test_bands_and_chronic_threshold_move_together(tmp_path) -> None:
    path = write(
        tmp_path,
        "[attendance]\nband_thresholds = [0.06, 0.12, 0.25]\nchronic_threshold = 0.12\n",
    )
    settings = load_settings(path)
    assert settings.band_thresholds == (0.06, 0.12, 0.25)
    assert settings.chronic_threshold == 0.12


def test_a_missing_or_broken_file_is_reported(tmp_path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path, "[suppression\nmin_cell = 3"))


def test_coverage_defaults_are_the_published_practice() -> None:
    settings = load_settings()
    assert settings.service_types_addressing("chronic_absence") == (
        "attendance",
        "mentoring",
        "family_support",
        "behavioral_health",
    )
    assert settings.service_types_addressing("course_failure") == ("academic", "mentoring")
    assert settings.service_types_addressing("below_proficient") == ("academic", "mentoring")
    assert settings.service_types_addressing("fafsa_not_completed") == (
        "college_access",
        "mentoring",
    )


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ('{ absenteeism = ["attendance"] }', "unknown need(s) ['absenteeism']"),
        ('{ chronic_absence = ["tutoring"] }', "unknown value(s) ['tutoring']"),
        ('{ chronic_absence = ["attendance"] }', "missing course_failure"),
    ],
)
def test_an_unknown_need_or_service_type_is_refused(tmp_path, table, names) -> None:
    path = tmp_path / "site.toml"
    path.write_text(f"[coverage]\nneed_service_types = {table}\n")
    with pytest.raises(SettingsError, match="coverage.need_service_types") as error:
        load_settings(path)
    assert names in str(error.value)
