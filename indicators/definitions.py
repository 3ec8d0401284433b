"""Definition cards: every indicator with its rule in plain words and its published source,
so a page can answer "why is this student flagged?" with the rule and the student's figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from indicators.settings import Settings, load_settings


@dataclass(frozen=True)
class Definition:
    key: str
    title: str
    category: str
    rule: str
    source: str


def definitions(settings: Settings | None = None) -> dict[str, Definition]:
    """Every card, with the deployment's thresholds filled in."""
    s = settings or load_settings()
    low, moderate, severe = (round(t * 100, 2) for t in s.band_thresholds)
    chronic = round(s.chronic_threshold * 100, 2)
    cards = [
        Definition(
            "chronic_absence", "Chronic absence", "attendance",
            f"Absent {chronic:g}% or more of the days enrolled this school year, for any reason "
            f"(excused, unexcused, suspension), counted over every school attended this year; "
            f"judged from {s.min_days_enrolled} days enrolled.",
            "U.S. Department of Education (EDFacts FS195); Attendance Works.",
        ),
        Definition(
            "attendance_band", "Attendance band", "attendance",
            f"Satisfactory under {low:g}%, at risk {low:g}% to under {moderate:g}%, moderate chronic "
            f"{moderate:g}% to under {severe:g}%, severe chronic {severe:g}% or more.",
            "Attendance Works tiers.",
        ),
        Definition(
            "course_failure", "Course failure", "grades",
            "One or more final failing marks (F, NP, or a number under "
            f"{s.failing_mark_below:g}) in a core subject ({', '.join(s.core_subjects)}) this school year.",
            "Everyone Graduates Center, the ABCs (Attendance, Behavior, Course performance).",
        ),
        Definition(
            "on_track", "Freshman on-track", "grades",
            f"A ninth grader is on track at the end of the year with at least {s.on_track_min_credits:g} "
            f"credits earned and no more than {s.on_track_max_core_semester_fs} semester F in a core "
            "subject (a failed full-year mark counts as two).",
            "University of Chicago Consortium on School Research.",
        ),
        Definition(
            "below_proficient", "Below proficient", "tests",
            "The most recent result (latest school year, then latest test date) in English language "
            "arts or in math is not proficient.",
            "State assessment performance levels.",
        ),
        Definition(
            "fafsa_not_completed", "FAFSA not completed", "fafsa",
            "A senior whose FAFSA for the coming aid year is not completed; submitted and incomplete "
            "applications still count as not completed.",
            "National College Attainment Network (NCAN) FAFSA Tracker.",
        ),
        Definition(
            "tier", "Tier", "all",
            f"Tier 3 (intensive): {s.tier3_min_flags} or more flags, severe chronic absence, or "
            f"{s.tier3_min_core_fails} or more core fails. Tier 2 (targeted): one flag. Tier 1: none.",
            "Multi-tiered system of supports (Center on MTSS at AIR).",
        ),
        Definition(
            "pipeline", "Cohort pipeline", "outcomes",
            "The students expected to graduate in a year, less documented transfers out; each stage "
            "counts only students who reached every earlier one.",
            "Federal adjusted cohort graduation rate (34 CFR 200.19); StriveTogether cradle-to-career outcomes.",
        ),
        Definition(
            "suppression", "Protected figures", "all",
            f"Counts under {s.min_cell} show as <{s.min_cell}; counts that would reveal a small group "
            "by subtraction show as *.",
            "NCES SLDS Technical Brief 3 (NCES 2011-603).",
        ),
    ]  # fmt: skip
    return {card.key: card for card in cards}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def student_figures(flag: str, row: Mapping[str, Any]) -> str:
    """The student's own figures behind one flag, in words."""
    if flag == "chronic_absence":
        if row.get("attendance_state") == "not_enough_days":
            return f"Only {row.get('days_enrolled')} days enrolled so far: not enough to judge."
        if row.get("days_enrolled") is None:
            return "No attendance recorded this year."
        text = (
            f"Absent {row['days_absent']} of {row['days_enrolled']} days enrolled ({_pct(row.get('absence_rate'))}), "
            f"band: {str(row.get('attendance_band') or '').replace('_', ' ')}."
        )
        if row.get("days_to_recover"):
            text += f" {row['days_to_recover']} days in a row present would bring it under the threshold."
        if row.get("projected_absence_rate") is not None:
            text += f" At the recent pace the year ends near {_pct(row['projected_absence_rate'])}."
        return text
    if flag == "course_failure":
        if row.get("core_fails") is None:
            return "No final marks recorded this year yet."
        return f"{row['core_fails']} failing final mark(s) in core subjects this year."
    if flag == "below_proficient":
        parts = []
        for subject, name in (("ela", "English"), ("math", "Math")):
            if row.get(f"{subject}_proficient") is not None:
                status = "proficient" if row[f"{subject}_proficient"] else "not proficient"
                parts.append(
                    f"{name}: {status} ({row.get(f'{subject}_test_name')}, {row.get(f'{subject}_test_year')})"
                )
        return "; ".join(parts) + "." if parts else "No English or math results recorded."
    if flag == "fafsa_not_completed":
        fafsa_status = row.get("fafsa_status")
        if fafsa_status is None:
            return "Applies to seniors only."
        return f"FAFSA status: {str(fafsa_status).replace('_', ' ')}."
    return ""


def explain_flag(flag: str, row: Mapping[str, Any], settings: Settings | None = None) -> str:
    """The rule, its source and the student's figures, as one paragraph of markdown-free text."""
    card = definitions(settings)[flag]
    return f"{card.rule} Source: {card.source} This student: {student_figures(flag, row)}"
