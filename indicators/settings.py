"""Indicator settings: every threshold of docs/indicators.md, in one frozen value.

The defaults live in `defaults.toml` next to this module and follow the published
definitions (Attendance Works and U.S. ED for attendance, the UChicago Consortium for
freshman on-track, NCES SLDS Technical Brief 3 for the minimum cell). A deployment changes
them in its own TOML file, named by the environment variable `PATHWISE_SETTINGS` (or passed
to `load_settings`), which overrides only the keys it names.

Every file is validated on load: an unknown section or key, a value of the wrong type, band
thresholds that do not increase, a chronic threshold that is not the moderate band's lower
bound, a `min_cell` below 1 and the like raise `SettingsError`, naming the file and the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any, Final

from domain.oneroster import ID_FIELDS as ONEROSTER_ID_FIELDS
from domain.vocabulary import (
    FLAGS,
    NSC_STUDENT_KEYS,
    OUTCOME_MEASURES,
    PIPELINE_STAGES,
    SERVICE_TYPES,
    SUBJECTS,
    TERMS,
)

DEFAULTS_PATH: Final = Path(__file__).with_name("defaults.toml")
ENV_VAR: Final = "PATHWISE_SETTINGS"


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    """The thresholds every indicator reads. Hashable, so it can key a cache."""

    #: Lower bounds of at_risk, moderate_chronic and severe_chronic (fractions of days).
    band_thresholds: tuple[float, float, float] = (0.05, 0.10, 0.20)
    chronic_threshold: float = 0.10
    min_days_enrolled: int = 10
    instructional_days: int = 180
    core_subjects: tuple[str, ...] = ("ela", "math", "science", "social_studies")
    failing_mark_below: float = 60.0
    failing_letters: tuple[str, ...] = ("F", "NP")
    on_track_min_credits: float = 5.0
    on_track_max_core_semester_fs: int = 1
    tier3_min_flags: int = 2
    tier3_on_severe_chronic: bool = True
    tier3_min_core_fails: int = 2
    tier2_min_flags: int = 1
    funnel_stages: tuple[str, ...] = PIPELINE_STAGES
    min_cell: int = 10
    #: Program outcomes (docs/outcomes.md): days a service must cover to count as served.
    outcomes_min_days_served: int = 30
    #: Fewest matched served students for an estimate ("too few students to tell" below).
    outcomes_min_matched: int = 30
    #: Fewest days enrolled in each attendance window for absence_rate.
    outcomes_min_window_days: int = 10
    #: Most comparison students kept per served student in a matching stratum.
    outcomes_max_comparisons: int = 10
    #: Most comparison-pool students kept per served student of an exact cell, sampled.
    outcomes_pool_per_served: int = 40
    #: Seed of the generator that gives comparison students a served student's windows.
    outcomes_match_seed: int = 20260113
    #: Cut points of the coarsened baseline absence rate (fractions) and core fails.
    outcomes_absence_bins: tuple[float, ...] = (
        0.025,
        0.05,
        0.075,
        0.10,
        0.15,
        0.20,
        0.25,
        0.30,
        0.40,
        0.50,
    )
    outcomes_core_fails_bins: tuple[int, ...] = (1, 2)
    #: (term, month, day) on which each term of course_marks ends (Aug..Dec: the year
    #: before the school_year; Jan..Jul: the school_year itself).
    outcomes_term_ends: tuple[tuple[str, int, int], ...] = (
        ("Q1", 10, 31),
        ("T1", 11, 30),
        ("S1", 1, 31),
        ("Q2", 1, 31),
        ("T2", 3, 15),
        ("Q3", 3, 31),
        ("S2", 6, 30),
        ("Q4", 6, 30),
        ("T3", 6, 30),
        ("Y", 6, 30),
    )
    #: Measures that apply to some service types only (a measure not named: every type).
    outcomes_measure_service_types: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("fafsa_completed", ("college_access", "mentoring", "career")),
    )
    #: Need and coverage (docs/indicators.md): the service types that address each flag.
    coverage_need_service_types: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("chronic_absence", ("attendance", "mentoring", "family_support", "behavioral_health")),
        ("course_failure", ("academic", "mentoring")),
        ("below_proficient", ("academic", "mentoring")),
        ("fafsa_not_completed", ("college_access", "mentoring")),
    )
    #: Partners' service exports (docs/import-format.md): a new service period starts after
    #: a gap of more than this many days between two sessions.
    service_period_gap_days: int = 30
    #: Record matching: a student whose names score at least this (0..1, Jaro-Winkler) is
    #: offered as a candidate for review; only exact matches are ever loaded.
    near_match_score: float = 0.85
    #: The detail-report column that holds the district's student id: the request's
    #: `Your Unique Identifier` (default) or `Requester Return Field` (docs/import-format.md).
    nsc_student_key: str = "your_unique_identifier"
    #: OneRoster rosters (docs/import-format.md): the column that gives a student's and a
    #: school's id, `identifier` (when the row has one, else `sourcedId`) or `sourcedId`.
    oneroster_id_field: str = "identifier"
    #: OneRoster rosters: fill teachers' caseloads from their class enrollments.
    oneroster_teacher_caseloads: bool = False
    #: Release requests (docs/access-rules.md, "Release links"): days a link stays valid.
    release_link_days: int = 14

    def service_types_addressing(self, need: str) -> tuple[str, ...]:
        """The service types that address `need` (one of FLAGS), from [coverage]."""
        return dict(self.coverage_need_service_types)[need]

    @property
    def suppressed_label(self) -> str:
        """How a small count is shown (docs/access-rules.md rule 1): `<10` with the default."""
        return f"<{self.min_cell}"


# ---------------------------------------------------------------------------------------
# The file layout: (section, key) -> (field, parser)
# ---------------------------------------------------------------------------------------

_Parser = Callable[[Any], Any]
_MARKS_LETTERS: Final = ("A", "B", "C", "D", "F", "P", "NP")


class _Invalid(Exception):
    """Raised by a parser with the reason; turned into a SettingsError with file and key."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fraction(value: Any) -> float:
    if not _is_number(value):
        raise _Invalid(f"must be a number, got {value!r}")
    if not 0 < value < 1:
        raise _Invalid(f"must be a fraction between 0 and 1 (0.10 means 10%), got {value!r}")
    return float(value)


def _number_at_least(low: float) -> _Parser:
    def parse(value: Any) -> float:
        if not _is_number(value):
            raise _Invalid(f"must be a number, got {value!r}")
        if value < low:
            raise _Invalid(f"must be at least {low:g}, got {value!r}")
        return float(value)

    return parse


def _int_at_least(low: int) -> _Parser:
    def parse(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid(f"must be a whole number, got {value!r}")
        if value < low:
            raise _Invalid(f"must be at least {low}, got {value!r}")
        return value

    return parse


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, got {value!r}")
    return value


def _bands(value: Any) -> tuple[float, float, float]:
    if not isinstance(value, list) or len(value) != 3:
        raise _Invalid(f"must be a list of three fractions, got {value!r}")
    bands = tuple(_fraction(v) for v in value)
    if not bands[0] < bands[1] < bands[2]:
        raise _Invalid(f"thresholds must increase, got {value!r}")
    return bands  # type: ignore[return-value]


def _words_from(allowed: tuple[str, ...], *, ordered: bool = False) -> _Parser:
    def parse(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise _Invalid(f"must be a non-empty list of words, got {value!r}")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise _Invalid(f"unknown value(s) {unknown!r}; allowed: {', '.join(allowed)}")
        if len(set(value)) != len(value):
            raise _Invalid(f"values must not repeat, got {value!r}")
        if ordered and [allowed.index(v) for v in value] != sorted(allowed.index(v) for v in value):
            raise _Invalid(f"must keep the order {', '.join(allowed)}, got {value!r}")
        return tuple(value)

    return parse


def _cut_points(low: float, high: float | None, whole: bool) -> _Parser:
    def parse(value: Any) -> tuple[float, ...] | tuple[int, ...]:
        if not isinstance(value, list) or not value:
            raise _Invalid(f"must be a non-empty list of numbers, got {value!r}")
        kind = "whole numbers" if whole else "numbers"
        for v in value:
            if (whole and (not isinstance(v, int) or isinstance(v, bool))) or not _is_number(v):
                raise _Invalid(f"must be a list of {kind}, got {value!r}")
            if v < low or (high is not None and v >= high):
                bound = f"between {low:g} and {high:g}" if high is not None else f"from {low:g}"
                raise _Invalid(f"cut points must be {bound}, got {value!r}")
        if any(a >= b for a, b in zip(value, value[1:], strict=False)):
            raise _Invalid(f"cut points must increase, got {value!r}")
        return tuple(int(v) for v in value) if whole else tuple(float(v) for v in value)

    return parse


def _term_ends(value: Any) -> tuple[tuple[str, int, int], ...]:
    if not isinstance(value, dict) or not value:
        raise _Invalid(f'must be a table of term = "MM-DD", got {value!r}')
    ends = []
    for term, day in value.items():
        if term not in TERMS:
            raise _Invalid(f"unknown term {term!r}; terms: {', '.join(TERMS)}")
        try:
            month, dom = (int(part) for part in str(day).split("-"))
            date(2000, month, dom)  # a leap year, so 02-29 is allowed
        except ValueError:
            raise _Invalid(f'{term} must be a month and day "MM-DD", got {day!r}') from None
        ends.append((term, month, dom))
    missing = [t for t in TERMS if t not in value]
    if missing:
        raise _Invalid(f"every term needs an end; missing {', '.join(missing)}")
    return tuple(ends)


def _measure_service_types(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise _Invalid(f"must be a table of measure = [service types], got {value!r}")
    unknown = [m for m in value if m not in OUTCOME_MEASURES]
    if unknown:
        raise _Invalid(f"unknown measure(s) {unknown!r}; measures: {', '.join(OUTCOME_MEASURES)}")
    parse_types = _words_from(SERVICE_TYPES)
    return tuple((measure, parse_types(types)) for measure, types in value.items())


def _need_service_types(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise _Invalid(f"must be a table of need = [service types], got {value!r}")
    unknown = [n for n in value if n not in FLAGS]
    if unknown:
        raise _Invalid(f"unknown need(s) {unknown!r}; needs: {', '.join(FLAGS)}")
    parse_types = _words_from(SERVICE_TYPES)
    parsed = {need: parse_types(types) for need, types in value.items()}
    missing = [n for n in FLAGS if n not in value]
    if missing:
        raise _Invalid(f"every need needs its service types; missing {', '.join(missing)}")
    return tuple((need, parsed[need]) for need in FLAGS)


def _one_of(allowed: tuple[str, ...]) -> _Parser:
    def parse(value: Any) -> str:
        if value not in allowed:
            raise _Invalid(f"must be one of {', '.join(allowed)}, got {value!r}")
        return str(value)

    return parse


_LAYOUT: Final[dict[tuple[str, str], tuple[str, _Parser]]] = {
    ("attendance", "band_thresholds"): ("band_thresholds", _bands),
    ("attendance", "chronic_threshold"): ("chronic_threshold", _fraction),
    ("attendance", "min_days_enrolled"): ("min_days_enrolled", _int_at_least(1)),
    ("attendance", "instructional_days"): ("instructional_days", _int_at_least(1)),
    ("grades", "core_subjects"): ("core_subjects", _words_from(SUBJECTS)),
    ("grades", "failing_mark_below"): ("failing_mark_below", _number_at_least(0)),
    ("grades", "failing_letters"): ("failing_letters", _words_from(_MARKS_LETTERS)),
    ("on_track", "min_credits"): ("on_track_min_credits", _number_at_least(0)),
    ("on_track", "max_core_semester_fs"): ("on_track_max_core_semester_fs", _int_at_least(0)),
    ("tiers", "tier3_min_flags"): ("tier3_min_flags", _int_at_least(1)),
    ("tiers", "tier3_on_severe_chronic"): ("tier3_on_severe_chronic", _boolean),
    ("tiers", "tier3_min_core_fails"): ("tier3_min_core_fails", _int_at_least(1)),
    ("tiers", "tier2_min_flags"): ("tier2_min_flags", _int_at_least(1)),
    ("pipeline", "stages"): ("funnel_stages", _words_from(PIPELINE_STAGES, ordered=True)),
    ("suppression", "min_cell"): ("min_cell", _int_at_least(1)),
    ("outcomes", "min_days_served"): ("outcomes_min_days_served", _int_at_least(1)),
    ("outcomes", "min_matched"): ("outcomes_min_matched", _int_at_least(2)),
    ("outcomes", "min_window_days"): ("outcomes_min_window_days", _int_at_least(1)),
    ("outcomes", "max_comparisons"): ("outcomes_max_comparisons", _int_at_least(1)),
    ("outcomes", "pool_per_served"): ("outcomes_pool_per_served", _int_at_least(1)),
    ("outcomes", "match_seed"): ("outcomes_match_seed", _int_at_least(0)),
    ("outcomes", "absence_bins"): ("outcomes_absence_bins", _cut_points(0, 1, whole=False)),
    ("outcomes", "core_fails_bins"): ("outcomes_core_fails_bins", _cut_points(1, None, whole=True)),
    ("outcomes", "term_ends"): ("outcomes_term_ends", _term_ends),
    ("outcomes", "measure_service_types"): (
        "outcomes_measure_service_types",
        _measure_service_types,
    ),
    ("coverage", "need_service_types"): ("coverage_need_service_types", _need_service_types),
    ("imports", "service_period_gap_days"): ("service_period_gap_days", _int_at_least(1)),
    ("imports", "near_match_score"): ("near_match_score", _fraction),
    ("nsc", "student_key"): ("nsc_student_key", _one_of(NSC_STUDENT_KEYS)),
    ("oneroster", "id_field"): ("oneroster_id_field", _one_of(ONEROSTER_ID_FIELDS)),
    ("oneroster", "teacher_caseloads"): ("oneroster_teacher_caseloads", _boolean),
    ("releases", "link_days"): ("release_link_days", _int_at_least(1)),
}
_SECTIONS: Final = frozenset(section for section, _ in _LAYOUT)
assert {field for field, _ in _LAYOUT.values()} == {f.name for f in fields(Settings)}


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise SettingsError(f"{path}: settings file not found") from error
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from error


def _values_of(path: Path, document: Mapping[str, Any]) -> dict[str, Any]:
    """The Settings fields a document sets, each parsed and checked on its own."""
    values: dict[str, Any] = {}
    for section, table in document.items():
        if section not in _SECTIONS:
            raise SettingsError(
                f"{path}: unknown section [{section}]; known: {', '.join(sorted(_SECTIONS))}"
            )
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: {section} must be a [section] of keys")
        for key, raw in table.items():
            if (section, key) not in _LAYOUT:
                known = sorted(k for s, k in _LAYOUT if s == section)
                raise SettingsError(
                    f"{path}: unknown key {section}.{key}; known in [{section}]: {', '.join(known)}"
                )
            field, parse = _LAYOUT[(section, key)]
            try:
                values[field] = parse(raw)
            except _Invalid as error:
                raise SettingsError(f"{path}: {section}.{key} {error}") from None
    return values


def _check_together(path: Path, settings: Settings) -> None:
    """Rules that involve more than one key (reported against the file that was loaded last)."""
    if settings.chronic_threshold != settings.band_thresholds[1]:
        raise SettingsError(
            f"{path}: attendance.chronic_threshold ({settings.chronic_threshold:g}) must equal "
            f"the lower bound of moderate_chronic in attendance.band_thresholds "
            f"({settings.band_thresholds[1]:g}); change both together"
        )
    if settings.tier3_min_flags <= settings.tier2_min_flags:
        raise SettingsError(
            f"{path}: tiers.tier3_min_flags ({settings.tier3_min_flags}) must be greater than "
            f"tiers.tier2_min_flags ({settings.tier2_min_flags})"
        )
    if settings.tier3_min_flags > len(FLAGS):
        raise SettingsError(
            f"{path}: tiers.tier3_min_flags ({settings.tier3_min_flags}) is more than the "
            f"{len(FLAGS)} flags there are"
        )


def load_settings(path: Path | None = None) -> Settings:
    """Read the packaged defaults, then overlay `path` (or the file named by PATHWISE_SETTINGS).

    The overlay names only the keys it changes. Raises `SettingsError` with the file and key
    for anything that cannot be used.
    """
    values = _values_of(DEFAULTS_PATH, _read(DEFAULTS_PATH))
    overlay = path if path is not None else os.environ.get(ENV_VAR) or None
    source = DEFAULTS_PATH
    if overlay is not None:
        source = Path(overlay)
        values.update(_values_of(source, _read(source)))
    settings = Settings(**values)
    _check_together(source, settings)
    return settings
