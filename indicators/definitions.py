"""Definition cards: every indicator, flag, band, tier and stage in plain words, with the
thresholds of the deployment's settings filled in and the published source it follows,
and `explain`, which states a student's own figures against the rule.

Sources are cited as a reader would look them up; ../shared/research/anchors-mission.md,
section (b), holds the quotations and links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from domain import vocabulary
from domain.vocabulary import Category
from indicators.settings import Settings

ATTENDANCE_SOURCE: Final = (
    'Attendance Works, "The Attendance Imperative" (2013): missing 10% of school days for '
    "any reason; U.S. Department of Education, EDFacts file FS195 (chronic absenteeism: "
    "absent 10% or more of the days enrolled, at least 10 days enrolled)"
)
BANDS_SOURCE: Final = (
    "Attendance Works tiers of chronic absence (satisfactory, at risk, moderate, severe), "
    "as codified in New Mexico's Attendance for Success Act, NMSA 1978 22-12A-2"
)
ABC_SOURCE: Final = (
    "Everyone Graduates Center, Johns Hopkins University: the ABC early-warning indicators "
    '(Balfanz, Herzog & Mac Iver 2007, "Preventing Student Disengagement and Keeping '
    'Students on the Graduation Path", Educational Psychologist 42(4))'
)
ON_TRACK_SOURCE: Final = (
    "UChicago Consortium on School Research, Freshman On-Track (Allensworth & Easton 2005, "
    '"The On-Track Indicator as a Predictor of High School Graduation")'
)
TESTS_SOURCE: Final = (
    "The state's academic achievement standards (ESSA, 34 CFR 200.1), read as in the "
    "Everyone Graduates Center ABC indicators"
)
FAFSA_SOURCE: Final = (
    'NCAN FAFSA Tracker; Federal Student Aid FAFSA completion data ("completed" '
    "applications are the submitted ones not rejected)"
)
TIERS_SOURCE: Final = (
    "Multi-tiered system of supports (Center on Multi-Tiered System of Supports, American "
    "Institutes for Research): universal, targeted and intensive support"
)
COHORT_SOURCE: Final = (
    "Federal four-year adjusted cohort graduation rate, 34 CFR 200.19(b) (documented "
    "transfers out leave the cohort)"
)
POSTSECONDARY_SOURCE: Final = (
    "National Student Clearinghouse StudentTracker for High Schools (enrollment and persistence)"
)
SUPPRESSION_SOURCE: Final = (
    'NCES SLDS Technical Brief 3, "Statistical Methods for Protecting Personally '
    'Identifiable Information in Aggregate Reporting" (NCES 2011-603)'
)
TRAJECTORY_SOURCE: Final = (
    'Pathwise\'s own arithmetic on the attendance snapshots, after the "approaching" '
    "indicator of MTSS attendance dashboards; not a published measure"
)

BAND_TITLES: Final = {
    "satisfactory": "Satisfactory attendance",
    "at_risk": "At risk of chronic absence",
    "moderate_chronic": "Moderate chronic absence",
    "severe_chronic": "Severe chronic absence",
}
#: The one place flag names are written (pages, cards and explanations read them through
#: `flag_title`); the flags themselves are domain/vocabulary.py's FLAGS.
FLAG_TITLES: Final = {
    "chronic_absence": "chronic absence",
    "course_failure": "course failure",
    "below_proficient": "below proficient",
    "fafsa_not_completed": "FAFSA not completed",
}
#: The level of support of each tier (TIERS_SOURCE: universal, targeted, intensive).
TIER_NAMES: Final = {1: "universal", 2: "targeted", 3: "intensive"}


def flag_name(key: str) -> str:
    """A flag as written in a sentence ("chronic absence"). A flag added to the vocabulary
    before its title is written here shows as its key in words, so no page fails on it."""
    return FLAG_TITLES.get(key, key.replace("_", " "))


def flag_title(key: str) -> str:
    """A flag as a label ("Chronic absence", "FAFSA not completed")."""
    name = flag_name(key)
    return name[:1].upper() + name[1:]


def tier_label(tier: int, *, short: bool = False) -> str:
    """The label of a tier: "Tier 3 · intensive", or "3 · intensive" with `short`."""
    name = TIER_NAMES.get(tier)
    label = f"{tier} · {name}" if name else str(tier)
    return label if short else f"Tier {label}"


def chronic_line_label(settings: Settings) -> str:
    """The label of the chronic-absence line on attendance figures: "chronic absence (10%)"
    with the default `attendance.chronic_threshold`."""
    return f"{flag_name('chronic_absence')} ({pct(settings.chronic_threshold)})"


def small_counts_rule(settings: Settings) -> str:
    """How protected figures are shown (docs/access-rules.md rule 1, `suppression.min_cell`), in the
    words of a caption."""
    return (
        f"a count under {settings.min_cell} shows as “{settings.suppressed_label}”, and a count "
        "that would reveal a small group by subtraction shows as “*”"
    )


@dataclass(frozen=True)
class Definition:
    """One card: what the figure is, the rule with this deployment's thresholds, and the
    published source the rule follows."""

    key: str
    title: str
    category: str
    rule: str
    source: str


def pct(fraction: float) -> str:
    """A threshold as people write it: 0.1 -> "10%", 0.075 -> "7.5%"."""
    return f"{fraction * 100:g}%"


def _number(value: float) -> str:
    return f"{value:g}"


def _any_of(parts: list[str]) -> str:
    """Alternatives in words: "a", "a or b", "a, b, or c"."""
    if len(parts) < 3:
        return " or ".join(parts)
    return f"{', '.join(parts[:-1])}, or {parts[-1]}"


def _tier3_reasons(settings: Settings, *, flags: bool = True) -> str:
    """What puts a student in tier 3 under `settings` (indicators/tiers.py `tier`), e.g.
    "2 or more flags, severe chronic absence, or 2 or more core failures"; without the
    flags when `flags` is false."""
    reasons = [f"{settings.tier3_min_flags} or more flags"] if flags else []
    if settings.tier3_on_severe_chronic:
        reasons.append("severe chronic absence")
    reasons.append(f"{settings.tier3_min_core_fails} or more core failures")
    return _any_of(reasons)


def _tier2_flags(settings: Settings) -> str:
    """How many flags make tier 2: from tier2_min_flags to one under tier3_min_flags."""
    low, high = settings.tier2_min_flags, settings.tier3_min_flags - 1
    if low == high:
        return f"{low} flag" if low == 1 else f"{low} flags"
    return f"{low} to {high} flags"


def definitions(settings: Settings) -> dict[str, Definition]:
    """Every definition card, keyed by indicator, flag, band, tier or stage name."""
    low, moderate, severe = settings.band_thresholds
    core = ", ".join(s.replace("_", " ") for s in settings.core_subjects)
    failing = " or ".join(settings.failing_letters)
    att, grades, tests = Category.ATTENDANCE.value, Category.GRADES.value, Category.TESTS.value
    fafsa, outcomes = Category.FAFSA.value, Category.OUTCOMES.value
    cards = [
        Definition(
            "absence_rate",
            "Absence rate",
            att,
            "Days absent divided by days enrolled this school year, from the latest "
            "attendance count at each school the student attended, added up. Judged only "
            f"from {settings.min_days_enrolled} days enrolled.",
            ATTENDANCE_SOURCE,
        ),
        Definition(
            "not_enough_days",
            "Not enough days enrolled",
            att,
            f"Fewer than {settings.min_days_enrolled} days enrolled this year: attendance is "
            "not judged yet, and this is never a flag.",
            ATTENDANCE_SOURCE,
        ),
        Definition(
            "chronic_absence",
            "Chronic absence (flag)",
            att,
            f"Absent {pct(settings.chronic_threshold)} or more of the days enrolled, for any "
            "reason: excused, unexcused and suspensions all count.",
            ATTENDANCE_SOURCE,
        ),
        Definition(
            "satisfactory",
            BAND_TITLES["satisfactory"],
            att,
            f"Absent under {pct(low)} of the days enrolled.",
            BANDS_SOURCE,
        ),
        Definition(
            "at_risk",
            BAND_TITLES["at_risk"],
            att,
            f"Absent {pct(low)} to under {pct(moderate)} of the days enrolled.",
            BANDS_SOURCE,
        ),
        Definition(
            "moderate_chronic",
            BAND_TITLES["moderate_chronic"],
            att,
            f"Absent {pct(moderate)} to under {pct(severe)} of the days enrolled.",
            BANDS_SOURCE,
        ),
        Definition(
            "severe_chronic",
            BAND_TITLES["severe_chronic"],
            att,
            f"Absent {pct(severe)} or more of the days enrolled; on its own this puts the "
            "student in tier 3.",
            BANDS_SOURCE,
        ),
        Definition(
            "core_fails",
            "Core course failures",
            grades,
            f"Final failing marks this school year in core subjects ({core}). A failing mark "
            f"is {failing}, or a number below {_number(settings.failing_mark_below)}; a "
            "full-year mark counts once.",
            ABC_SOURCE,
        ),
        Definition(
            "course_failure",
            "Course failure (flag)",
            grades,
            "At least one final failing mark in a core subject this school year.",
            ABC_SOURCE,
        ),
        Definition(
            "on_track",
            "Freshman on-track",
            grades,
            f"A ninth grader who ends the year with at least "
            f"{_number(settings.on_track_min_credits)} credits and no more than "
            f"{settings.on_track_max_core_semester_fs} semester F in a core subject (a failed "
            "full-year course counts as two). Known once the year's final marks are in "
            "(S2, Y, Q4 or T3). Not a flag.",
            ON_TRACK_SOURCE,
        ),
        Definition(
            "below_proficient",
            "Below proficient (flag)",
            tests,
            "The student's most recent state test result in ELA or in math (latest school "
            "year, then latest date) is not proficient. No result is not a flag.",
            TESTS_SOURCE,
        ),
        Definition(
            "fafsa_status",
            "FAFSA status",
            fafsa,
            "For a senior, the latest status of the FAFSA for the award year that starts as "
            "they graduate: not started (also when there is no record), submitted, "
            "incomplete or completed.",
            FAFSA_SOURCE,
        ),
        Definition(
            "fafsa_not_completed",
            "FAFSA not completed (flag)",
            fafsa,
            "A senior whose FAFSA is not completed: submitted and incomplete applications "
            "are not completed yet.",
            FAFSA_SOURCE,
        ),
        Definition(
            "flag_count",
            "Flags",
            "tier",
            f"How many of the {len(vocabulary.FLAGS)} flags are raised: "
            f"{', '.join(flag_name(f) for f in vocabulary.FLAGS)}. Missing data never raises one.",
            TIERS_SOURCE,
        ),
        Definition(
            "tier",
            "Tier of support",
            "tier",
            f"Tier 3 with {_tier3_reasons(settings)}; tier 2 with "
            f"{_tier2_flags(settings)}; tier 1 otherwise. Only the categories you may see "
            "count.",
            TIERS_SOURCE,
        ),
        Definition(
            "tier_1",
            f"Tier 1 ({TIER_NAMES[1]})",
            "tier",
            "No flag: the support every student gets.",
            TIERS_SOURCE,
        ),
        Definition(
            "tier_2",
            f"Tier 2 ({TIER_NAMES[2]})",
            "tier",
            f"{_tier2_flags(settings)}, without {_tier3_reasons(settings, flags=False)}.",
            TIERS_SOURCE,
        ),
        Definition(
            "tier_3",
            f"Tier 3 ({TIER_NAMES[3]})",
            "tier",
            f"{_tier3_reasons(settings)}.",
            TIERS_SOURCE,
        ),
        Definition(
            "projected_absence_rate",
            "Projected year-end absence rate",
            att,
            "Where the year ends if the recent pace (the absence rate between the last two "
            "attendance counts) holds for the rest of a "
            f"{settings.instructional_days}-day year.",
            TRAJECTORY_SOURCE,
        ),
        Definition(
            "approaching",
            "Approaching the next band",
            att,
            "Not yet in the next attendance band, but within one percentage point of it, or "
            "one more absence would reach it.",
            TRAJECTORY_SOURCE,
        ),
        Definition(
            "days_to_recover",
            "Days to recover",
            att,
            "Consecutive days present needed to bring the absence rate back under "
            f"{pct(settings.chronic_threshold)}.",
            TRAJECTORY_SOURCE,
        ),
        Definition(
            "days_until_chronic",
            "Days until chronic at this pace",
            att,
            f"School days until the rate reaches {pct(settings.chronic_threshold)} if the "
            "recent pace holds.",
            TRAJECTORY_SOURCE,
        ),
        Definition(
            "cohort",
            "Cohort",
            outcomes,
            "The students expected to graduate in a year, less those whose last enrollment "
            "ended in a transfer out of the district.",
            COHORT_SOURCE,
        ),
        Definition(
            "entered_grade_9",
            "Entered grade 9",
            outcomes,
            "Enrolled in grade 9 in the district four school years before the cohort's year.",
            COHORT_SOURCE,
        ),
        Definition(
            "reached_grade_12",
            "Reached grade 12",
            outcomes,
            "Entered grade 9 with the cohort and enrolled in grade 12 in the cohort's year.",
            COHORT_SOURCE,
        ),
        Definition(
            "graduated",
            "Graduated on time",
            outcomes,
            "Reached grade 12 and graduated by August 31 of the cohort's year.",
            COHORT_SOURCE,
        ),
        Definition(
            "fafsa_completed",
            "Completed the FAFSA",
            fafsa,
            "Graduated on time and completed the FAFSA for the award year starting that fall.",
            FAFSA_SOURCE,
        ),
        Definition(
            "enrolled_postsecondary",
            "Enrolled in college",
            outcomes,
            "Completed the FAFSA and enrolled in a postsecondary institution.",
            POSTSECONDARY_SOURCE,
        ),
        Definition(
            "persisted",
            "Persisted to a second year",
            outcomes,
            "Enrolled in college and was still enrolled in the second year.",
            POSTSECONDARY_SOURCE,
        ),
        Definition(
            "leak",
            "Leak",
            outcomes,
            "Students who reached one stage but not the next, as a number and as a share of "
            "the earlier stage; the biggest leak is the largest share lost.",
            COHORT_SOURCE,
        ),
        Definition(
            "subgroup_gap",
            "Subgroup gap",
            outcomes,
            "A group's stage-to-stage conversion minus that of the rest of its cohort, in "
            "percentage points.",
            COHORT_SOURCE,
        ),
        Definition(
            "on_track_split",
            "Graduation by freshman on-track",
            outcomes,
            "Graduation rates of the cohort's students who were on track at the end of "
            "grade 9 against those who were not.",
            ON_TRACK_SOURCE,
        ),
        Definition(
            "small_cell",
            "Small counts",
            "privacy",
            f"Counts under {settings.min_cell} are shown as {settings.suppressed_label}, and "
            "counts that would let someone work one out are shown as *.",
            SUPPRESSION_SOURCE,
        ),
    ]
    return {card.key: card for card in cards}


# ---------------------------------------------------------------------------------------
# A student's own figures
# ---------------------------------------------------------------------------------------


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _flag_words(flag: bool) -> str:
    return "flagged" if flag else "not flagged"


def _attendance(row: Mapping[str, Any], settings: Settings, chronic_only: bool) -> str:
    state = row.get("attendance_state")
    if state == "no_data" or row.get("days_enrolled") is None:
        return "no attendance record this school year: not flagged (no data is never a flag)"
    enrolled, absent = int(row["days_enrolled"]), int(row["days_absent"])
    if state == "not_enough_days":
        return (
            f"enrolled {_days(enrolled)} so far; attendance is judged from "
            f"{settings.min_days_enrolled} days enrolled: not flagged yet"
        )
    rate = absent / enrolled
    figures = f"absent {absent} of {enrolled} days enrolled ({rate * 100:.1f}%)"
    if chronic_only:
        threshold = pct(settings.chronic_threshold)
        if row.get("chronic_absence"):
            return f"{figures}; {threshold} or more is chronic absence: flagged"
        return f"{figures}; under {threshold} is not chronic absence: not flagged"
    low, moderate, severe = settings.band_thresholds
    band = row.get("attendance_band")
    rule = {
        "satisfactory": f"under {pct(low)} is satisfactory attendance",
        "at_risk": f"{pct(low)} to under {pct(moderate)} is at risk of chronic absence",
        "moderate_chronic": f"{pct(moderate)} to under {pct(severe)} is moderate chronic absence",
        "severe_chronic": f"{pct(severe)} or more is severe chronic absence",
    }.get(str(band), "")
    return f"{figures}, {rule}" if rule else figures


def _course_failure(row: Mapping[str, Any], settings: Settings) -> str:
    fails = row.get("core_fails")
    if fails is None:
        return "no final course marks this school year: not flagged (no data is never a flag)"
    if fails == 0:
        return "no failing final mark in a core subject this school year: not flagged"
    marks = "mark" if fails == 1 else "marks"
    rule = "one or more is a course failure"
    if fails >= settings.tier3_min_core_fails:
        rule += f", {settings.tier3_min_core_fails} or more mean tier 3"
    return f"{fails} failing final {marks} in core subjects this school year; {rule}: flagged"


def _on_track(row: Mapping[str, Any], settings: Settings) -> str:
    if row.get("grade_level") != 9:
        return "freshman on-track applies to ninth graders only"
    credits, fs = row.get("credits_earned"), row.get("core_semester_fs")
    if credits is None:
        return "no final course marks this year yet: on-track is not known"
    so_far = f"{_number(float(credits))} credits and {fs} semester F(s) in core subjects"
    if row.get("on_track") is None:
        return f"not known until the year's final marks are in; so far {so_far}"
    verdict = "on track" if row["on_track"] else "off track"
    return (
        f"earned {_number(float(credits))} credits ({_number(settings.on_track_min_credits)} "
        f"needed) and {fs} semester F(s) in core subjects (at most "
        f"{settings.on_track_max_core_semester_fs} allowed): {verdict}"
    )


def _test_words(row: Mapping[str, Any], subject: str, label: str) -> str | None:
    proficient = row.get(f"{subject}_proficient")
    if proficient is None:
        return None
    name, year = row.get(f"{subject}_test_name"), row.get(f"{subject}_test_year")
    return f"latest {label}: {name} {year}, {'proficient' if proficient else 'not proficient'}"


def _below_proficient(row: Mapping[str, Any]) -> str:
    parts = [
        words
        for words in (_test_words(row, "ela", "ELA"), _test_words(row, "math", "math"))
        if words
    ]
    if not parts:
        return "no ELA or math test result: not flagged (no data is never a flag)"
    return f"{'; '.join(parts)}: {_flag_words(bool(row.get('below_proficient')))}"


def _fafsa(row: Mapping[str, Any]) -> str:
    status = row.get("fafsa_status")
    if row.get("grade_level") != 12 or status is None:
        return "FAFSA completion applies to seniors only"
    when = row.get("fafsa_status_date")
    dated = f" on {when}" if when else ""
    words = {
        "not_started": "not started (no record of an application)",
        "submitted": f"submitted{dated}, not completed yet",
        "incomplete": f"incomplete{dated} (often a missing signature)",
        "completed": f"completed{dated}",
    }.get(str(status), str(status))
    return f"FAFSA {words}: {_flag_words(status != 'completed')}"


def _tier(row: Mapping[str, Any], settings: Settings) -> str:
    raised = [flag_name(f) for f in vocabulary.FLAGS if row.get(f)]
    count = len(raised)
    flags = f"{count} flag{'s' if count != 1 else ''}" + (
        f" ({', '.join(raised)})" if raised else ""
    )
    tier = row.get("tier")
    reasons = []
    if count >= settings.tier3_min_flags:
        reasons.append(f"{settings.tier3_min_flags} or more flags")
    if settings.tier3_on_severe_chronic and row.get("attendance_band") == "severe_chronic":
        reasons.append("severe chronic absence")
    if (row.get("core_fails") or 0) >= settings.tier3_min_core_fails:
        reasons.append(f"{settings.tier3_min_core_fails} or more core failures")
    if tier == 3:
        return f"{flags}: tier 3 ({', '.join(reasons)})"
    if tier == 2:
        return f"{flags}: tier 2 (targeted support)"
    return f"{flags}: tier 1 (universal support)"


def _trajectory(key: str, row: Mapping[str, Any], settings: Settings) -> str:
    if row.get("days_to_recover") is None and row.get("approaching") is None:
        return "not enough attendance data for a trajectory"
    if key == "days_to_recover":
        days = int(row["days_to_recover"])
        if days == 0:
            return f"already under {pct(settings.chronic_threshold)}: nothing to recover"
        remaining = row.get("remaining_days")
        left = f" ({remaining} school days remain this year)" if remaining is not None else ""
        return (
            f"needs {_days(days)} present in a row to get back under "
            f"{pct(settings.chronic_threshold)}{left}"
        )
    if key == "approaching":
        nxt = row.get("next_band")
        if nxt is None:
            return "already in the highest band"
        verdict = "approaching" if row.get("approaching") else "not approaching"
        return f"{verdict} {BAND_TITLES[str(nxt)].lower()}"
    if key == "days_until_chronic":
        until = row.get("days_until_chronic")
        if until is None:
            return f"not heading to {pct(settings.chronic_threshold)} at the recent pace"
        return (
            f"at the recent pace, {pct(settings.chronic_threshold)} would be reached in "
            f"about {_days(int(until))}"
        )
    rate, pace = row.get("projected_absence_rate"), row.get("pace_rate")
    pe, pa = row.get("pace_days_enrolled"), row.get("pace_days_absent")
    if rate is None or pace is None:
        return "not enough attendance data for a projection"
    return (
        f"at the recent pace ({pa} absences in {pe} days, {float(pace) * 100:.1f}%) the year "
        f"would end at {float(rate) * 100:.1f}% absent"
    )


_EXPLAINERS: Final = {
    "absence_rate": lambda row, s: _attendance(row, s, chronic_only=False),
    "attendance_band": lambda row, s: _attendance(row, s, chronic_only=False),
    "chronic_absence": lambda row, s: _attendance(row, s, chronic_only=True),
    "core_fails": _course_failure,
    "course_failure": _course_failure,
    "on_track": _on_track,
    "below_proficient": lambda row, s: _below_proficient(row),
    "fafsa_status": lambda row, s: _fafsa(row),
    "fafsa_not_completed": lambda row, s: _fafsa(row),
    "tier": _tier,
    "flag_count": _tier,
    "projected_absence_rate": lambda row, s: _trajectory("projected_absence_rate", row, s),
    "approaching": lambda row, s: _trajectory("approaching", row, s),
    "days_to_recover": lambda row, s: _trajectory("days_to_recover", row, s),
    "days_until_chronic": lambda row, s: _trajectory("days_until_chronic", row, s),
}


def explain(key: str, student_row: Mapping[str, Any], settings: Settings) -> str:
    """The student's own figures against the rule of `key`, in one line, e.g.
    "absent 14 of 62 days enrolled (22.6%), 20% or more is severe chronic absence".

    `student_row` is a row of `compute_student_indicators` (joined with
    `attendance_trajectory` for the trajectory keys), as a dict. A value the viewer may not
    see is null in that row and is explained as missing, never guessed. Keys without
    per-student figures (bands, stages, tiers as such) return their card's rule.
    """
    if key in _EXPLAINERS:
        return str(_EXPLAINERS[key](student_row, settings))
    cards = definitions(settings)
    if key not in cards:
        raise KeyError(f"no definition for {key!r}; known: {', '.join(sorted(cards))}")
    return cards[key].rule
