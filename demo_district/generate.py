"""Generate the demo district as Polars frames in the import format.

The model, in one paragraph: every student has a latent risk `z` (higher with economic
disadvantage, disability, English learning and a weaker school, plus noise). Each year's
absence rate, chance of failing a course, test proficiency, dropping out, graduating,
completing the FAFSA and enrolling in and persisting at college all follow from `z`, the
student's grade-9 on-track status and their FAFSA, with the signs and rough sizes that the
research reports (chronic absence near 25%, four-year graduation near 80%, FAFSA
completion near 55%, on-track ninth graders graduating far more often). Some data is
missing on purpose: a few students without attendance, without test scores or without
demographics, late enrollees with fewer than ten days.

Partner programs choose their students in the last complete school year and the current
one on the record before each start (selection on risk), and three of them have true
effects on what follows the start (`world.DemoOrg`; docs/demo-district.md, "Programs
and their true effects"). Services and effects draw from a random stream of their own.

Everything is deterministic for a given (students, seed, today). Students are generated
by cohort in chunks of at most `CHUNK` so that memory stays flat at a million students.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import polars as pl

from demo_district import calendar as cal
from demo_district.capacity import capacity_table, loop_referrals
from demo_district.names import FIRST_NAMES, LAST_NAMES, NOTE_TEMPLATES, REFERRAL_REASONS
from demo_district.world import (
    DEMO_EMAIL_DOMAIN,
    DISTRICT_ORG_ID,
    ORGS,
    SCHOOLS,
    agreement_dates,
)
from domain.vocabulary import CATEGORIES, RACE_ETHNICITIES

CHUNK = 50_000
DEFAULT_STUDENTS = 8_000
DEFAULT_SEED = 2026

RACE_SHARES = np.array([0.64, 0.15, 0.10, 0.055, 0.01, 0.005, 0.04])
#: Extra latent risk by race/ethnicity, reflecting the opportunity gaps districts report.
RACE_EFFECT = np.array([0.12, 0.15, -0.15, -0.3, 0.2, 0.1, 0.0])
#: The season of absence, September first: percentage points added to every student's
#: rate in each month (the same for all, so that trajectories are parallel whatever the
#: risk, as a difference in differences assumes).
SEASON = np.array([-1.2, -0.8, 0.0, 1.2, 0.4, 0.8, 0.0, 0.4, 0.8, 2.4]) / 100
LETTERS = ("A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D")
LETTER_POINTS = np.array([4.0, 3.7, 3.3, 3.0, 2.7, 2.3, 2.0, 1.7, 1.3, 1.0])
CORE_COURSES = (
    (
        "ela",
        ("ENG9", "ENG10", "ENG11", "ENG12"),
        ("English 9", "English 10", "English 11", "English 12"),
    ),
    (
        "math",
        ("ALG1", "GEOM", "ALG2", "PRECALC"),
        ("Algebra I", "Geometry", "Algebra II", "Precalculus"),
    ),
    (
        "science",
        ("BIO", "CHEM", "PHYS", "ENVSCI"),
        ("Biology", "Chemistry", "Physics", "Environmental Science"),
    ),
    (
        "social_studies",
        ("WHIST", "USHIST", "CIVICS", "ECON"),
        ("World History", "U.S. History", "Civics", "Economics"),
    ),
)
ELECTIVES = (
    (("ART1", "Art I"), ("PE9", "Physical Education")),
    (("SPAN1", "Spanish I"), ("HLTH", "Health")),
    (("SPAN2", "Spanish II"), ("CS1", "Computer Science")),
    (("CAP", "Senior Capstone"), ("FINLIT", "Financial Literacy")),
)
GUARDIAN_RELATIONSHIPS = ("mother", "father", "grandmother", "aunt", "guardian")


@dataclass(frozen=True)
class DemoSpec:
    """What to build: `students` current students (grades 9-12), a seed and a reference date."""

    students: int = DEFAULT_STUDENTS
    seed: int = DEFAULT_SEED
    today: date = field(default_factory=date.today)
    #: Whether the programs' true effects (`world.DemoOrg`) change the outcomes. Only the
    #: tests switch them off, to compare the same district with and without them: every
    #: random draw is the same either way, so only what the effects touch differs.
    program_effects: bool = True

    @property
    def current_year(self) -> int:
        return cal.current_school_year(self.today)

    @property
    def cohorts(self) -> tuple[int, ...]:
        """Current grades 12..9, then the four cohorts that have already left."""
        y = self.current_year
        return (y, y + 1, y + 2, y + 3, y - 1, y - 2, y - 3, y - 4)


@dataclass
class DemoPart:
    """One batch of import-format frames (file name -> frame) plus app records."""

    label: str
    tables: dict[str, pl.DataFrame]
    students: int = 0


_NULL = np.array(None, dtype=object)  # a typed "no value" for np.where


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _days(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype("datetime64[D]"))


def _date_array(d: date, n: int) -> np.ndarray:
    return np.full(n, np.datetime64(d, "D"))


def entrants_per_cohort(students: int) -> int:
    """Grade-9 entrants per cohort so that about `students` are enrolled now."""
    return max(1, int(round(students / 3.65)))


# ---------------------------------------------------------------------------------------
# Fixed tables
# ---------------------------------------------------------------------------------------


def fixed_part() -> DemoPart:
    """Schools, organisations (the district itself included) and agreements."""
    schools = pl.DataFrame(
        {
            "school_id": [s.school_id for s in SCHOOLS],
            "school_name": [s.name for s in SCHOOLS],
            "low_grade": [9] * len(SCHOOLS),
            "high_grade": [12] * len(SCHOOLS),
        }
    )
    organizations = pl.DataFrame(
        {
            "org_id": [DISTRICT_ORG_ID] + [o.org_id for o in ORGS],
            "org_name": ["Demo Unified School District"] + [o.name for o in ORGS],
            "org_type": ["district"] + [o.org_type for o in ORGS],
            "service_types": [""] + [";".join(sorted(o.service_types)) for o in ORGS],
        }
    )
    rows = []
    for number, org in enumerate(ORGS, start=1):
        effective, expires = agreement_dates(org)
        rows.append(
            {
                "agreement_id": f"DSA-{effective.year}-{number:02d}",
                "org_id": org.org_id,
                "categories": ";".join(sorted(org.agreement_categories)),
                "effective_date": effective,
                "expires_date": expires,
            }
        )
    agreements = pl.DataFrame(
        rows,
        schema={
            "agreement_id": pl.String,
            "org_id": pl.String,
            "categories": pl.String,
            "effective_date": pl.Date,
            "expires_date": pl.Date,
        },
    )
    return DemoPart(
        "schools, organisations and agreements",
        {"schools": schools, "organizations": organizations, "agreements": agreements},
    )


# ---------------------------------------------------------------------------------------
# Students by cohort
# ---------------------------------------------------------------------------------------


@dataclass
class _Rows:
    """Column arrays collected for one output file, concatenated at the end of a chunk."""

    columns: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, **cols: np.ndarray) -> None:
        for name, values in cols.items():
            self.columns.setdefault(name, []).append(values)

    def frame(self, schema: dict[str, pl.DataType | type[pl.DataType]]) -> pl.DataFrame:
        data = {}
        for name, dtype in schema.items():
            parts = self.columns.get(name, [])
            if not parts:
                data[name] = pl.Series(name, [], dtype=dtype)
                continue
            values = np.concatenate(parts)
            if dtype == pl.Date:
                data[name] = _days(values).alias(name)
            elif values.dtype == object:
                data[name] = pl.Series(name, values.tolist(), dtype=dtype)
            else:
                data[name] = pl.Series(name, values, dtype=dtype, strict=False)
        return pl.DataFrame(data)


def _cohort_chunks(spec: DemoSpec) -> Iterator[tuple[int, int, int]]:
    """(cohort, first index, size) for every chunk, with ids numbered across cohorts."""
    per_cohort = entrants_per_cohort(spec.students)
    start = 0
    for cohort in spec.cohorts:
        done = 0
        while done < per_cohort:
            size = min(CHUNK, per_cohort - done)
            yield cohort, start + done, size
            done += size
        start += per_cohort


def _student_ids(first: int, size: int) -> np.ndarray:
    return np.char.add(
        "S", np.char.zfill((np.arange(first, first + size) + 1_000_001).astype(str), 7)
    )


def _marks(
    rng: np.random.Generator,
    grade_index: int,
    p_fail: np.ndarray,
    z: np.ndarray,
) -> tuple[list[tuple[str, str, str, bool]], np.ndarray, np.ndarray]:
    """Course list for a grade and, per course, fail draws for two periods and grade points."""
    courses = [
        (subject, ids[grade_index], titles[grade_index], True)
        for subject, ids, titles in CORE_COURSES
    ]
    courses += [(("other"), cid, title, False) for cid, title in ELECTIVES[grade_index]]
    n = len(z)
    u_course = rng.random((n, len(courses)))
    u_period = rng.random((n, len(courses)))
    fails = np.empty((n, len(courses), 2), dtype=bool)
    for c, (_, _, _, core) in enumerate(courses):
        p = p_fail if core else p_fail * 0.5
        fails[:, c, 0] = u_course[:, c] < p
        fails[:, c, 1] = (0.65 * u_course[:, c] + 0.35 * u_period[:, c]) < p * 1.1
    points = np.clip(
        3.0 - 0.65 * z[:, None, None] + rng.normal(0, 0.6, (n, len(courses), 2)), 1.0, 4.2
    )
    return courses, fails, points


def _mark_text(
    fail: np.ndarray, points: np.ndarray, numeric: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    letter_index = np.searchsorted(-LETTER_POINTS, -points, side="left").clip(0, len(LETTERS) - 1)
    letters = np.array(LETTERS)[letter_index]
    numbers = np.clip(np.round(60 + (points - 1.0) * 12.5), 60, 100).astype(int).astype(str)
    failing_numbers = rng.integers(35, 60, len(fail)).astype(str)
    text = np.where(numeric, numbers, letters)
    return np.where(fail, np.where(numeric, failing_numbers, "F"), text)


def _simulate_chunk(spec: DemoSpec, cohort: int, first: int, size: int) -> DemoPart:
    rng = np.random.default_rng([spec.seed, cohort, first])
    y_now = spec.current_year
    today = spec.today
    n = size
    ids = _student_ids(first, n)

    # --- who they are ------------------------------------------------------------------
    weights = np.array([s.weight for s in SCHOOLS])
    school = rng.choice(len(SCHOOLS), n, p=weights / weights.sum())
    school_effect = np.array([s.risk_effect for s in SCHOOLS])
    econ_share = np.array([s.econ_share for s in SCHOOLS])
    numeric_school = np.array([s.numeric_marks for s in SCHOOLS])
    race = rng.choice(len(RACE_ETHNICITIES), n, p=RACE_SHARES / RACE_SHARES.sum())
    econ = rng.random(n) < econ_share[school]
    disability = rng.random(n) < 0.16
    el = rng.random(n) < np.where(race == 0, 0.32, 0.09)
    gender = rng.choice(np.array(["F", "M", "X"]), n, p=[0.49, 0.49, 0.02])
    z = (
        rng.normal(0, 1, n)
        + 0.35 * econ
        + 0.35 * disability
        + 0.2 * el
        + school_effect[school]
        + RACE_EFFECT[race]
    )
    z_year = z[:, None] + rng.normal(0, 0.35, (n, 4))
    first_names = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)]
    last_names = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)]
    birth = np.datetime64(date(cohort - 19, 9, 1), "D") + rng.integers(0, 365, n).astype(
        "timedelta64[D]"
    )

    # --- their four high-school years ----------------------------------------------------
    entry_year = np.where(rng.random(n) < 0.06, rng.integers(1, 3, n), 0)  # move-ins skip grade 9
    active = np.ones(n, dtype=bool)
    left_code = np.full(n, "", dtype=object)  # dropped_out / transferred
    cur_school = school.copy()
    last_grade = np.full(n, 9)
    last_school = school.copy()
    enrolled_now = np.zeros(n, dtype=bool)
    reached_12 = np.zeros(n, dtype=bool)
    completed_12 = np.zeros(n, dtype=bool)
    on_track9 = np.full(n, np.nan)
    abs_rate_year = np.full((n, 4), np.nan)
    graduate = np.zeros(n, dtype=bool)
    grad_late = np.zeros(n, dtype=bool)
    no_attendance = rng.random(n) < 0.004
    # The record a program sees before choosing a student, carried from year to year.
    prev_term_fails = np.full(n, np.nan)  # failing core marks in the last term of last year
    last_proficient = np.full(n, np.nan)  # proficient on the latest state ELA test
    served_before = np.zeros((n, len(ORGS)), dtype=bool)
    fafsa_points = np.zeros(n)  # true FAFSA effect of the program serving a senior
    fafsa_start = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    # Services and their effects draw from a stream of their own, so that every other
    # draw is the same whoever is served and whether the effects are on.
    rng_svc = np.random.default_rng([spec.seed, cohort, first, 1])

    enrollments, attendance, marks, tests, svc = _Rows(), _Rows(), _Rows(), _Rows(), _Rows()

    for t in range(4):
        year = cohort - 3 + t
        if year > y_now:
            break
        prog = (
            cal.progress(year, today)
            if year == y_now
            else cal.progress(year, cal.year_end(year) + timedelta(days=1))
        )
        months = prog.months_with_data
        days_m = np.array([prog.days_in_month(m) for m in range(10)])
        present = active & (entry_year <= t)
        idx = np.nonzero(present)[0]
        k = len(idx)
        if k == 0 or months == 0:
            continue
        zt = z_year[idx, t]
        last_grade[idx] = 9 + t
        if t == 3:
            reached_12[idx] = True

        # Entry and exit within the year.
        late = (rng.random(k) < 0.03) | ((entry_year[idx] == t) & (t > 0) & (rng.random(k) < 0.3))
        start_m = np.where(late, rng.integers(1, 6, k), 0)
        base_logit = -3.2 + 0.85 * zt + 0.1 * t
        base_rate = _sigmoid(base_logit)
        hazard = _sigmoid(-5.6 + 0.9 * zt + 1.4 * (base_rate > 0.2) + 0.2 * t)
        event_m = rng.integers(1, 9, k)
        happened = (event_m < months) & (event_m > start_m)
        drop = (rng.random(k) < hazard) & happened
        tout = (rng.random(k) < 0.022) & happened & ~drop
        exited = drop | tout
        switch_m = rng.integers(1, 9, k)
        internal = (rng.random(k) < 0.03) & (switch_m < months) & (switch_m > start_m) & ~exited
        other_school = (cur_school[idx] + rng.integers(1, len(SCHOOLS), k)) % len(SCHOOLS)
        last_m = np.where(exited, event_m, 9)

        # Daily attendance by month: enrolled days and absences.
        slope = rng.normal(0, 0.35, k)
        enrolled_days = np.zeros((k, 10), dtype=np.int64)
        absent_days = np.zeros((k, 10), dtype=np.int64)
        rates = np.zeros((k, 10))
        for m in range(10):
            in_month = (m >= start_m) & (m <= last_m)
            d = np.where(in_month, days_m[m], 0)
            d = np.where(in_month & late & (m == start_m), d // 2, d)
            d = np.where(in_month & exited & (m == last_m), d // 2, d)
            # A student's own drift over the year (mean zero), then the season.
            drift = slope * (m - 4.5) / 4.5 * base_rate * (1 - base_rate)
            rate = np.clip(base_rate + drift + SEASON[m], 0.0, 1.0)
            enrolled_days[:, m] = d
            absent_days[:, m] = rng.binomial(d, rate)
            rates[:, m] = rate

        # Marks are drawn before the year's services are chosen: the term before a start
        # is part of the record a program chooses on.
        year_done = year < y_now or prog.complete
        if t == 0 or year >= y_now - 2:
            p_fail = _sigmoid(-3.2 + 0.95 * zt + 5.0 * (base_rate - 0.09))
            courses, fails, points = _marks(rng, t, p_fail, zt)
        in_jan = (start_m <= 4) & (last_m >= 4)

        # Services of the last complete school year and the current one, chosen on the
        # record before each start; then their true effects.
        pass_chance = np.zeros(k)
        helped_after = np.full(k, np.datetime64("NaT"), dtype="datetime64[D]")
        u_pass = np.ones((k, 6, 2))
        if year >= y_now - 1:
            # The first-semester draw is this year's first term: `S1` (ends in January)
            # once the year has it, the current year's `Q1` (ends in October) before.
            core_s1 = np.array([c for c, course in enumerate(courses) if course[3]])
            if year_done or prog.full_months >= 5:
                first_term, has_first = "S1", in_jan
            elif prog.full_months >= 2:
                first_term, has_first = "Q1", start_m <= 1
            else:
                first_term, has_first = "", np.zeros(k, dtype=bool)
            first_fails = np.where(has_first, fails[:, core_s1, 0].sum(axis=1), np.nan)
            chosen = _serve(
                rng_svc,
                spec,
                year,
                t,
                start_m,
                last_m,
                enrolled_days,
                absent_days,
                prev_term_fails[idx],
                first_fails,
                _term_end(year, first_term) if first_term else None,
                last_proficient[idx],
                0.3 * econ[idx] + 0.3 * disability[idx] + 0.2 * el[idx],
                served_before[idx],
            )
            absence_cut = np.zeros((k, 10))
            for o, org in enumerate(ORGS):
                rows = chosen.org == o
                who = chosen.local[rows]
                served_before[idx[who], o] = True
                if org.absence_points:
                    after = np.arange(10)[None, :] >= chosen.start_month[rows][:, None]
                    absence_cut[who] = np.where(after, org.absence_points / 100, 0.0)
                if org.failing_mark_pass_chance:
                    pass_chance[who] = org.failing_mark_pass_chance
                    helped_after[who] = chosen.start[rows]
                if org.fafsa_points and t == 3:
                    fafsa_points[idx[who]] = org.fafsa_points
                    fafsa_start[idx[who]] = chosen.start[rows]
            svc.add(
                row=idx[chosen.local],
                org=chosen.org,
                service_type=chosen.service_type,
                start_date=chosen.start,
                end_date=chosen.end,
                sessions=chosen.sessions,
                hours=chosen.hours,
            )
            # Each absent day of a month at or after the start is forgiven with the chance
            # cut/rate, so the expected rate falls by the cut (by the whole rate if lower).
            forgive = np.divide(absence_cut, rates, out=np.zeros_like(rates), where=rates > 0).clip(
                0.0, 1.0
            )
            forgiven = rng_svc.binomial(absent_days, forgive)
            u_pass = rng_svc.random((k, len(courses), 2))
            if spec.program_effects:
                absent_days = absent_days - forgiven
        total_enrolled = enrolled_days.sum(axis=1)
        abs_rate_year[idx, t] = np.divide(
            absent_days.sum(axis=1),
            total_enrolled,
            out=np.full(k, np.nan),
            where=total_enrolled > 0,
        )

        # Enrollment rows: segment A (the start school), segment B after an internal move.
        seg_a_school = cur_school[idx]
        entry_a = np.array(
            [cal.month_middle(year, m) if m else cal.year_start(year) for m in start_m],
            dtype="datetime64[D]",
        )
        exit_a = np.full(k, np.datetime64("NaT"), dtype="datetime64[D]")
        code_a = np.full(k, None, dtype=object)
        if t == 3 and year_done:
            completes = ~exited
            p_grad = _sigmoid(3.6 - 1.1 * zt - 1.7 * (np.nan_to_num(on_track9[idx], nan=0.6) < 0.5))
            grad = completes & (rng.random(k) < p_grad)
            late_grad = completes & ~grad & (rng.random(k) < 0.18)
            graduate[idx] = grad | late_grad
            grad_late[idx] = late_grad
            completed_12[idx] = completes
            end_code = np.where(grad, "graduated", "other")
        else:
            end_code = np.full(k, None, dtype=object)
        normal_end = (
            _date_array(cal.year_end(year), k)
            if year_done
            else np.full(k, np.datetime64("NaT"), dtype="datetime64[D]")
        )
        exit_dates = np.array([cal.month_middle(year, m) for m in event_m], dtype="datetime64[D]")
        exit_a = np.where(exited, exit_dates, normal_end)
        code_a = np.where(drop, "dropped_out", np.where(tout, "transferred", end_code))
        switch_dates = np.array([cal.month_start(year, m) for m in switch_m], dtype="datetime64[D]")
        exit_a = np.where(internal, switch_dates - np.timedelta64(1, "D"), exit_a)
        code_a = np.where(internal, "transferred", code_a)
        enrollments.add(
            student_id=ids[idx],
            school_id=seg_a_school,
            school_year=np.full(k, year),
            grade_level=np.full(k, 9 + t),
            entry_date=entry_a,
            exit_date=exit_a,
            exit_code=code_a,
        )
        bi = np.nonzero(internal)[0]
        if len(bi):
            enrollments.add(
                student_id=ids[idx[bi]],
                school_id=other_school[bi],
                school_year=np.full(len(bi), year),
                grade_level=np.full(len(bi), 9 + t),
                entry_date=switch_dates[bi],
                exit_date=normal_end[bi],
                exit_code=end_code[bi],
            )
            cur_school[idx[bi]] = other_school[bi]
        last_school[idx] = cur_school[idx]

        # Attendance snapshots: monthly for the current and the last complete year, at the
        # end of each stint before.
        seg_of_month = np.where(
            internal[:, None] & (np.arange(10)[None, :] >= switch_m[:, None]), 1, 0
        )
        seg_school = np.where(seg_of_month == 1, other_school[:, None], seg_a_school[:, None])
        cum_enrolled = np.zeros((k, 10), dtype=np.int64)
        cum_absent = np.zeros((k, 10), dtype=np.int64)
        for seg in (0, 1):
            mask = seg_of_month == seg
            cum_enrolled += np.where(mask, np.cumsum(enrolled_days * mask, axis=1), 0)
            cum_absent += np.where(mask, np.cumsum(absent_days * mask, axis=1), 0)
        seg_exit = np.where(seg_of_month == 0, exit_a[:, None], normal_end[:, None])
        for m in range(months):
            snap = _date_array(cal.month_end(year, m) if m < prog.full_months else prog.latest, k)
            is_last_of_seg = (m == last_m) | (internal & (m == switch_m - 1)) | (m == months - 1)
            emit = (m >= start_m) & (m <= last_m) & (cum_enrolled[:, m] > 0) & ~no_attendance[idx]
            if year < y_now - 1:
                emit &= is_last_of_seg
            snap = np.where(~np.isnat(seg_exit[:, m]), np.minimum(snap, seg_exit[:, m]), snap)
            e = np.nonzero(emit)[0]
            attendance.add(
                student_id=ids[idx[e]],
                school_id=seg_school[e, m],
                school_year=np.full(len(e), year),
                as_of_date=snap[e],
                days_enrolled=cum_enrolled[e, m],
                days_absent=cum_absent[e, m],
            )

        # Course marks: the grade-9 year (for on-track) and the last three school years.
        if t == 0 or year >= y_now - 2:
            numeric = numeric_school[seg_a_school]
            in_june = last_m == 9
            if year_done:
                periods = [("S1", 0, in_jan, True), ("S2", 1, in_june, True)]
            else:
                periods = []
                if prog.full_months >= 5:
                    periods.append(("S1", 0, in_jan, True))
                elif prog.full_months >= 2:
                    periods.append(("Q1", 0, start_m <= 1, True))
                if 7 <= prog.full_months < 10:
                    periods.append(("Q3", 1, (start_m <= 6) & (last_m >= 6), True))
            semester_fs = np.zeros(k, dtype=np.int64)
            last_fails = np.zeros(k)
            credits = np.zeros(k)
            has_year_end = np.zeros(k, dtype=bool)
            for c, (subject, course_id, title, core) in enumerate(courses):
                if core:
                    course_periods = periods
                else:  # electives are full-year courses with one `Y` mark
                    course_periods = [("Y", 1, in_june & (start_m <= 4), True)] if year_done else []
                for term, p, who, _ in course_periods:
                    w = np.nonzero(who)[0]
                    if not len(w):
                        continue
                    fail = fails[w, c, p]
                    if core and spec.program_effects:
                        # Tutoring: a failing core mark of a term ending after the start
                        # passes with the program's chance.
                        helped = (u_pass[w, c, p] < pass_chance[w]) & (
                            helped_after[w] < np.datetime64(_term_end(year, term), "D")
                        )
                        fail = fail & ~helped
                    text = _mark_text(fail, points[w, c, p], numeric[w], rng)
                    semester = term in ("S1", "S2", "Y")
                    attempted = (1.0 if term == "Y" else 0.5) if semester else np.nan
                    earned = np.where(fail, 0.0, attempted) if semester else np.full(len(w), np.nan)
                    marks.add(
                        student_id=ids[idx[w]],
                        school_year=np.full(len(w), year),
                        term=np.full(len(w), term),
                        course_id=np.full(len(w), course_id),
                        course_title=np.full(len(w), title),
                        subject=np.full(len(w), subject),
                        mark=text,
                        credits_attempted=np.full(len(w), attempted),
                        credits_earned=earned,
                        final=np.full(len(w), True),
                    )
                    if semester:
                        credits[w] += np.nan_to_num(earned)
                        if term in ("S2", "Y"):
                            has_year_end[w] = True
                        if core and term in ("S1", "S2"):
                            semester_fs[w] += fail
                        if core and term == "S2":
                            last_fails[w] += fail
            if year_done:
                prev_term_fails[idx] = np.where(in_june, last_fails, np.nan)
            if t == 0 and year_done:
                on_track9[idx] = np.where(
                    has_year_end, (credits >= 5.0) & (semester_fs <= 1), np.nan
                )

        # State tests in the spring of grades 9 and 10; the SAT School Day in grade 11.
        if t <= 2 and (year < y_now or prog.full_months >= 8):
            takes = (start_m <= 7) & (last_m >= 7) & (rng.random(k) >= 0.04)
            w = np.nonzero(takes)[0]
            test_name = "SAT School Day" if t == 2 else "State Assessment"
            test_day = np.datetime64(date(year, 4, 8) if t == 2 else date(year, 4, 22), "D")
            for subject, shift in (("ela", 0.55), ("math", 0.2)):
                ability = -zt[w] + shift - 0.45 * el[idx[w]] + rng.normal(0, 0.8, len(w))
                level = np.clip(np.digitize(ability, [-1.1, -0.1, 1.1]) + 1, 1, 4)
                if subject == "ela":
                    last_proficient[idx[w]] = level >= 3
                if t == 2:
                    scale = np.clip(np.round(500 + 95 * ability / 1.2, -1), 200, 800)
                else:
                    scale = np.clip(np.round(500 + 30 * ability), 420, 580)
                tests.add(
                    student_id=ids[idx[w]],
                    school_year=np.full(len(w), year),
                    test_name=np.full(len(w), test_name),
                    subject=np.full(len(w), subject),
                    proficient=level >= 3,
                    performance_level=level,
                    scale_score=scale,
                    test_date=np.full(len(w), test_day)
                    + rng.integers(0, 3, len(w)).astype("timedelta64[D]"),
                )

        # Bookkeeping for the next year.
        active[idx[exited]] = False
        left_code[idx[drop]] = "dropped_out"
        left_code[idx[tout]] = "transferred"
        if year == y_now:
            enrolled_now[idx[~exited]] = not year_done or t < 3
        if t == 3 and year_done:
            active[idx] = False

    # --- FAFSA (award year = cohort, filed in the senior year) ---------------------------
    fafsa_completed = np.zeros(n, dtype=bool)
    fafsa = _Rows()
    seniors = np.nonzero(reached_12)[0]
    if len(seniors):
        opens = date(cohort - 1, 10, 1)
        closes = date(cohort, 6, 30)
        horizon = min(today - timedelta(days=1), closes)
        elapsed = max(0.0, min(1.0, (horizon - opens).days / (closes - opens).days))
        zs = z[seniors]
        otrack = np.nan_to_num(on_track9[seniors], nan=0.6)
        p_complete = _sigmoid(
            0.55 - 0.95 * zs + 0.5 * otrack - 0.9 * (left_code[seniors] == "dropped_out")
        )
        u = rng.random(len(seniors))
        if spec.program_effects:
            p_complete = np.minimum(1.0, p_complete + fafsa_points[seniors] / 100)
        completed = u < p_complete * elapsed**0.7
        submitted = ~completed & (u < p_complete * elapsed**0.4)
        incomplete = ~completed & ~submitted & (rng.random(len(seniors)) < 0.08 * elapsed)
        not_started = ~(completed | submitted | incomplete)
        recorded = ~not_started | (rng.random(len(seniors)) < 0.4)
        if elapsed <= 0:
            recorded &= False
        status = np.where(
            completed,
            "completed",
            np.where(submitted, "submitted", np.where(incomplete, "incomplete", "not_started")),
        )
        span = max(1, (horizon - opens).days)
        when = np.datetime64(opens, "D") + rng.integers(0, span + 1, len(seniors)).astype(
            "timedelta64[D]"
        )
        # A served senior's FAFSA is dated after the program started.
        served_on = fafsa_start[seniors]
        when = np.where(~np.isnat(served_on) & (when < served_on), served_on, when)
        r = np.nonzero(recorded)[0]
        fafsa.add(
            student_id=ids[seniors[r]],
            award_year=np.full(len(r), cohort),
            status=status[r],
            status_date=when[r],
        )
        fafsa_completed[seniors] = completed

    # --- Outcomes: graduation, college enrollment and persistence -------------------------
    outcomes = _Rows()
    if cohort < y_now or (cohort == y_now and today > date(cohort, 8, 31)):
        known = np.nonzero(
            (completed_12 | (left_code == "dropped_out")) & (left_code != "transferred")
        )[0]
        grad = graduate[known]
        late = grad_late[known]
        grad_date = np.where(
            late,
            np.datetime64(date(cohort, 12, 18), "D"),
            np.where(
                rng.random(len(known)) < 0.06,
                np.datetime64(date(cohort, 8, 14), "D"),
                np.datetime64(date(cohort, 6, 12), "D"),
            ),
        )
        grad_date = np.where(grad, grad_date, np.datetime64("NaT"))
        late_known = today > date(cohort, 12, 31)
        grad_col = np.where(late & ~late_known, False, grad)
        grad_date = np.where(late & ~late_known, np.datetime64("NaT"), grad_date)
        enrolled_known = today >= date(cohort, 10, 15)
        zk = z[known]
        p_enroll = _sigmoid(-0.35 - 0.7 * zk + 1.7 * fafsa_completed[known] - 0.25 * econ[known])
        enrolled = grad_col & (rng.random(len(known)) < p_enroll)
        level_draw = rng.random(len(known)) + 0.25 * zk
        level = np.where(
            level_draw < 0.55, "4yr", np.where(level_draw < 1.17, "2yr", "less_than_2yr")
        )
        persist_known = today >= date(cohort + 1, 10, 15)
        p_persist = _sigmoid(
            0.75 - 0.6 * zk + 0.6 * (level == "4yr") + 0.4 * fafsa_completed[known]
        )
        persisted = enrolled & (rng.random(len(known)) < p_persist)
        start = np.where(
            rng.random(len(known)) < 0.9,
            np.datetime64(date(cohort, 8, 26), "D"),
            np.datetime64(date(cohort + 1, 1, 20), "D"),
        )
        nat = np.datetime64("NaT")
        outcomes.add(
            student_id=ids[known],
            graduated=grad_col,
            graduation_date=grad_date,
            postsecondary_enrolled=np.where(enrolled_known & grad_col, enrolled, _NULL)
            if enrolled_known
            else np.full(len(known), None),
            postsecondary_start_date=np.where(enrolled_known & enrolled, start, nat),
            institution_level=np.where(enrolled_known & enrolled, level, _NULL),
            persisted_second_year=np.where(persist_known & enrolled, persisted, _NULL)
            if persist_known
            else np.full(len(known), None),
        )

    # --- The students file -----------------------------------------------------------------
    seen = np.zeros(n, dtype=bool)
    for chunk in enrollments.columns.get("student_id", []):
        seen |= np.isin(ids, chunk)
    missing_demo = rng.random(n) < 0.02
    race_text = np.where(missing_demo, _NULL, np.array(RACE_ETHNICITIES, dtype=object)[race])
    students = pl.DataFrame(
        {
            "student_id": ids,
            "first_name": first_names,
            "last_name": last_names,
            "school_id": np.array([s.school_id for s in SCHOOLS])[last_school],
            "grade_level": last_grade,
            "cohort_year": np.full(n, cohort),
            "birth_date": _days(birth),
            "gender": pl.Series(
                np.where(rng.random(n) < 0.01, _NULL, gender).tolist(), dtype=pl.String
            ),
            "race_ethnicity": pl.Series(race_text.tolist(), dtype=pl.String),
            "english_learner": pl.Series(el),
            "disability": pl.Series(disability),
            "econ_disadvantaged": pl.Series(econ),
        },
        schema_overrides={"gender": pl.String, "race_ethnicity": pl.String},
    ).filter(pl.Series(seen))

    school_ids = np.array([s.school_id for s in SCHOOLS], dtype=object)
    tables: dict[str, pl.DataFrame] = {
        "students": students,
        "guardians": _guardians(rng, ids[seen], last_names[seen], (el & (race == 0))[seen]),
        "enrollments": _map_school(
            enrollments.frame(
                {
                    "student_id": pl.String,
                    "school_id": pl.Int64,
                    "school_year": pl.Int64,
                    "grade_level": pl.Int64,
                    "entry_date": pl.Date,
                    "exit_date": pl.Date,
                    "exit_code": pl.String,
                }
            ),
            school_ids,
        ),
        "attendance": _map_school(
            attendance.frame(
                {
                    "student_id": pl.String,
                    "school_id": pl.Int64,
                    "school_year": pl.Int64,
                    "as_of_date": pl.Date,
                    "days_enrolled": pl.Int64,
                    "days_absent": pl.Int64,
                }
            ),
            school_ids,
        ),
        "course_marks": marks.frame(
            {
                "student_id": pl.String,
                "school_year": pl.Int64,
                "term": pl.String,
                "course_id": pl.String,
                "course_title": pl.String,
                "subject": pl.String,
                "mark": pl.String,
                "credits_attempted": pl.Float64,
                "credits_earned": pl.Float64,
                "final": pl.Boolean,
            }
        ),
        "test_scores": tests.frame(
            {
                "student_id": pl.String,
                "school_year": pl.Int64,
                "test_name": pl.String,
                "subject": pl.String,
                "proficient": pl.Boolean,
                "performance_level": pl.Int64,
                "scale_score": pl.Float64,
                "test_date": pl.Date,
            }
        ),
        "fafsa": fafsa.frame(
            {
                "student_id": pl.String,
                "award_year": pl.Int64,
                "status": pl.String,
                "status_date": pl.Date,
            }
        ),
        "outcomes": outcomes.frame(
            {
                "student_id": pl.String,
                "graduated": pl.Boolean,
                "graduation_date": pl.Date,
                "postsecondary_enrolled": pl.Boolean,
                "postsecondary_start_date": pl.Date,
                "institution_level": pl.String,
                "persisted_second_year": pl.Boolean,
            }
        ),
    }
    tables["course_marks"] = tables["course_marks"].with_columns(
        pl.col("credits_attempted").fill_nan(None), pl.col("credits_earned").fill_nan(None)
    )
    current = np.nonzero(enrolled_now)[0]
    services, consents = _services_and_consents(rng_svc, spec, svc, ids, birth, last_names)
    tables["services"] = services
    tables["consents"] = consents
    tables["_roster"] = pl.DataFrame(
        {
            "student_id": ids[current],
            "school_id": school_ids[last_school[current]].astype(str),
            "grade_level": last_grade[current],
            "first_name": first_names[current],
            "last_name": last_names[current],
            "risk": z[current],
            "pick": rng.random(len(current)),
        }
    )
    return DemoPart(f"cohort {cohort}", tables, students=students.height)


def _map_school(frame: pl.DataFrame, school_ids: np.ndarray) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("school_id").replace_strict(
            list(range(len(school_ids))), [str(s) for s in school_ids], return_dtype=pl.String
        )
    )


def _guardians(
    rng: np.random.Generator, ids: np.ndarray, last_names: np.ndarray, spanish: np.ndarray
) -> pl.DataFrame:
    """One or two guardians per student. The family of a Hispanic English learner reads
    Spanish (`language` `es`), every other family English: drawn from the student, not
    from `rng`, so the rest of the district is the same as before languages existed."""
    n = len(ids)
    two = rng.random(n) < 0.4
    rows_id = np.concatenate([ids, ids[two]])
    same_last = rng.random(len(rows_id)) < 0.8
    lasts = np.where(
        same_last,
        np.concatenate([last_names, last_names[two]]),
        np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), len(rows_id))],
    )
    firsts = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), len(rows_id))]
    order = np.concatenate([np.zeros(n, dtype=int), np.ones(int(two.sum()), dtype=int)])
    relationship = np.where(
        order == 0,
        rng.choice(np.array(GUARDIAN_RELATIONSHIPS), len(rows_id), p=[0.62, 0.2, 0.08, 0.04, 0.06]),
        rng.choice(np.array(["father", "mother", "grandmother"]), len(rows_id)),
    )
    emails = np.char.lower(
        np.char.add(
            np.char.add(
                np.char.add(np.char.add(firsts.astype(str), "."), lasts.astype(str)),
                np.char.add(".", np.char.add(rows_id.astype(str), order.astype(str))),
            ),
            "@family.example",
        )
    )
    return pl.DataFrame(
        {
            "student_id": rows_id,
            "guardian_email": emails,
            "guardian_name": np.char.add(np.char.add(firsts.astype(str), " "), lasts.astype(str)),
            "relationship": relationship,
            "language": np.where(np.concatenate([spanish, spanish[two]]), "es", "en"),
        }
    ).sort("student_id", "guardian_email")


def _term_end(school_year: int, term: str) -> date:
    """The last day of a term of the demo's calendar: Q1 October, S1 January, Q3 March,
    S2 and full-year marks the year's last day."""
    month_index = {"Q1": 1, "S1": 4, "Q3": 6}.get(term)
    if month_index is None:
        return cal.year_end(school_year)
    return cal.month_end(school_year, month_index)


#: The months a program may start in (November..March, in their first week), so that the
#: year has at least two months of attendance before every start and a term after it.
START_MONTHS: tuple[int, ...] = (2, 3, 4, 5, 6)
#: Grade factors of each focus (grades 9..12): how much likelier a grade is to be served.
GRADE_FOCUS: dict[str, tuple[float, float, float, float]] = {
    "seniors": (0.15, 0.15, 4.0, 4.0),
    "grade9": (3.0, 3.0, 0.5, 0.5),
}
#: Per school year, the share of present students an organisation serves, relative to its
#: `share_served`.
YEARLY_SHARE = 0.8


@dataclass(frozen=True)
class _Served:
    """The services of one school year: one row per (student, organisation) chosen."""

    local: np.ndarray  # index into the year's present students
    org: np.ndarray  # index into ORGS
    service_type: np.ndarray
    start_month: np.ndarray
    start: np.ndarray  # datetime64[D]
    end: np.ndarray
    sessions: np.ndarray  # float, NaN when the partner does not report it
    hours: np.ndarray


def record_risk(
    pre_rate: np.ndarray, term_fails: np.ndarray, proficient: np.ndarray, need: np.ndarray
) -> np.ndarray:
    """The risk a program sees in a student's record before the start (higher = struggling).

    Absence rate of the year so far, failing core marks in the term before the start, not
    proficient on the latest state test, and need (economic disadvantage, disability,
    English learning). Unknown parts count as a typical student's.
    """
    return (
        5.0 * np.nan_to_num(pre_rate, nan=0.06)
        + 0.5 * np.nan_to_num(term_fails, nan=0.4)
        + 0.5 * (1.0 - np.nan_to_num(proficient, nan=0.5))
        + need
    )


def _serve(
    rng: np.random.Generator,
    spec: DemoSpec,
    year: int,
    grade_index: int,
    start_m: np.ndarray,
    last_m: np.ndarray,
    enrolled_days: np.ndarray,
    absent_days: np.ndarray,
    prev_term_fails: np.ndarray,
    first_fails: np.ndarray,
    first_term_end: date | None,
    proficient: np.ndarray,
    need: np.ndarray,
    served_before: np.ndarray,
) -> _Served:
    """Which of a year's present students each organisation serves, from when, how much.

    Selection on risk: the chance grows with `record_risk` (exp(risk) for the
    attendance and risk programs, exp(0.7 x risk) for the others but the hub, which takes
    anyone) and, for attendance programs, four times for a student already missing 10% of
    the year before the start (half for the others). Only the record before the start
    date counts, as the outcome method reads it (docs/outcomes.md): the absence rate at
    the last month-end snapshot on or before the start, the failing core marks of the
    last term ended on or before it (this year's first term, `first_fails` ending
    `first_term_end`, once it has ended; else the last term of last year) and the latest
    ELA test. So a
    comparison that sees the same record can undo the selection. A start moved before
    the school year by an expiring agreement is chosen on last year's record alone. A
    student is served only if enrolled before the start month and still there in it (from
    the first day, for a start before the year), and at most once by an organisation over
    the years. Every draw is made for every student and organisation, so the stream does
    not depend on who is chosen.
    """
    k, orgs = len(start_m), len(ORGS)
    today = np.datetime64(spec.today, "D")
    month = rng.integers(START_MONTHS[0], START_MONTHS[-1] + 1, (k, orgs))
    day = rng.integers(0, 7, (k, orgs)).astype("timedelta64[D]")
    pick = rng.random((k, orgs))
    type_draw = rng.integers(0, 1_000_000, (k, orgs))
    ended = rng.random((k, orgs)) < 0.3
    length = rng.integers(60, 300, (k, orgs)).astype("timedelta64[D]")
    attended = 0.55 + 0.45 * rng.random((k, orgs))
    dose_blank = rng.random((k, orgs)) < 0.1
    firsts = np.array([cal.month_start(year, m) for m in range(10)], dtype="datetime64[D]")
    month_ends = np.array([cal.month_end(year, m) for m in range(10)], dtype="datetime64[D]")
    first_end = np.datetime64(first_term_end, "D") if first_term_end else None
    cum_enrolled = np.cumsum(enrolled_days, axis=1)
    cum_absent = np.cumsum(absent_days, axis=1)
    rows = np.arange(k)
    parts: list[tuple[np.ndarray, ...]] = []
    for o, org in enumerate(ORGS):
        effective, expires = agreement_dates(org)
        if expires is not None and expires < cal.year_start(year):
            continue
        s = month[:, o]
        start = firsts[s] + day[:, o]
        end = np.where(ended[:, o], start + length[:, o], np.datetime64("NaT"))
        end = np.where(end < today, end, np.datetime64("NaT"))
        if expires is not None:
            start = np.minimum(start, np.datetime64(expires, "D") - np.timedelta64(40, "D"))
            end = np.where(np.isnat(end), np.datetime64(expires, "D"), end)
        # The record the program sees: months whose snapshot is on or before the start.
        seen = (month_ends[None, :] <= start[:, None]).sum(axis=1)
        last_seen = np.maximum(seen - 1, 0)
        enrolled_before = np.where(seen > 0, cum_enrolled[rows, last_seen], 0)
        pre_rate = np.divide(
            cum_absent[rows, last_seen],
            enrolled_before,
            out=np.full(k, np.nan),
            where=enrolled_before > 0,
        )
        term_fails = prev_term_fails
        if first_end is not None:
            term_fails = np.where(first_end <= start, first_fails, prev_term_fails)
        risk = record_risk(pre_rate, term_fails, proficient, need)
        if org.focus == "any":
            weight = np.ones(k)
        elif org.focus in ("risk", "attendance"):
            weight = np.exp(1.0 * risk)
        else:
            weight = np.exp(0.7 * risk)
        if org.focus == "attendance":
            weight *= np.where(np.nan_to_num(pre_rate) >= 0.1, 4.0, 0.5)
        grades = GRADE_FOCUS.get(org.focus, (1.0, 1.0, 1.0, 1.0))
        grade_factor = grades[grade_index] / np.mean(grades)
        chance = np.minimum(
            0.9, org.share_served * YEARLY_SHARE * grade_factor * weight / weight.mean()
        )
        chosen = (
            (pick[:, o] < chance)
            & (start_m < np.maximum(seen, 1))
            & (last_m >= seen)
            & ~served_before[:, o]
            & (start <= today - np.timedelta64(14, "D"))
            & (start >= np.datetime64(effective, "D"))
        )
        w = np.nonzero(chosen)[0]
        until = np.where(np.isnat(end[w]), today, np.minimum(end[w], today))
        weeks = (until - start[w]).astype(int) / 7.0
        sessions = np.round(weeks * org.sessions_per_week * attended[w, o])
        hours = np.round(sessions * org.session_hours * 4) / 4
        blank = dose_blank[w, o] | (not org.reports_dose)
        types = np.array(org.service_types)[type_draw[w, o] % len(org.service_types)]
        parts.append(
            (
                w,
                np.full(len(w), o),
                types.astype(object),
                s[w],
                start[w],
                end[w],
                np.where(blank, np.nan, sessions),
                np.where(blank, np.nan, hours),
            )
        )
    if not parts:
        empty = np.array([], dtype=int)
        no_days = np.array([], dtype="datetime64[D]")
        return _Served(
            empty,
            empty,
            np.array([], dtype=object),
            empty,
            no_days,
            no_days,
            np.array([]),
            np.array([]),
        )
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    return _Served(*columns)


def _services_and_consents(
    rng: np.random.Generator,
    spec: DemoSpec,
    svc: _Rows,
    ids: np.ndarray,
    birth: np.ndarray,
    last_names: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The services chosen year by year (`svc`, by student row) and the releases behind them."""
    today = spec.today
    y_now = spec.current_year
    con = _Rows()
    if not svc.columns:
        return _empty_services(), _empty_consents()
    rows = np.concatenate(svc.columns["row"])
    org_of = np.concatenate(svc.columns["org"])
    starts = np.concatenate(svc.columns["start_date"]).astype("datetime64[D]")
    detail = {name: dtype for name, dtype in _SERVICE_SCHEMA.items() if name in svc.columns}
    services = (
        svc.frame(detail)
        .with_columns(
            student_id=pl.Series(ids[rows]),
            org_id=pl.Series(np.array([o.org_id for o in ORGS])[org_of]),
        )
        .select(list(_SERVICE_SCHEMA))
    )
    services = services.with_columns(pl.col("hours").fill_nan(None))
    for number, org in enumerate(ORGS, start=1):
        mine = np.nonzero(org_of == number - 1)[0]
        chosen = rows[mine]
        start = starts[mine]
        count = len(chosen)
        if count == 0:
            continue

        # Parent releases: most served students have one; some expired, some revoked, some
        # narrower than the agreement, a few broader (the intersection rule then applies).
        has = rng.random(count) < 0.82
        c = chosen[has]
        m = len(c)
        if m == 0:
            continue
        signed = start[has] - rng.integers(0, 30, m).astype("timedelta64[D]")
        signed = np.minimum(signed, np.datetime64(today, "D") - np.timedelta64(1, "D"))
        state = rng.choice(
            4, m, p=[0.77, 0.1, 0.08, 0.05]
        )  # active, expired, revoked, expiring soon
        one_year = signed + np.timedelta64(365, "D")
        expires = np.where(
            state == 1,
            np.minimum(
                one_year,
                np.datetime64(today, "D")
                - np.timedelta64(1, "D")
                - rng.integers(0, 60, m).astype("timedelta64[D]"),
            ),
            np.datetime64("NaT"),
        )
        expires = np.where(
            state == 3,
            np.datetime64(today, "D") + rng.integers(1, 30, m).astype("timedelta64[D]"),
            expires,
        )
        expires = np.where(
            state == 0,
            np.where(
                rng.random(m) < 0.5, np.datetime64(date(y_now, 6, 30), "D"), np.datetime64("NaT")
            ),
            expires,
        )
        revoked = np.where(
            state == 2,
            np.datetime64(today, "D") - rng.integers(1, 90, m).astype("timedelta64[D]"),
            np.datetime64("NaT"),
        )
        revoked = np.where(
            state == 2, np.maximum(revoked, signed + np.timedelta64(1, "D")), revoked
        )
        agreed = list(org.agreement_categories)
        kinds = rng.choice(3, m, p=[0.6, 0.25, 0.15])  # same, narrower, broader
        categories = np.empty(m, dtype=object)
        for i in range(m):
            if kinds[i] == 1 and len(agreed) > 1:
                keep = [cat for cat in agreed if rng.random() < 0.6] or [agreed[0]]
                categories[i] = ";".join(sorted(keep))
            elif kinds[i] == 2:
                extra = [cat for cat in CATEGORIES if cat not in agreed]
                categories[i] = (
                    ";".join(sorted(agreed + [extra[rng.integers(0, len(extra))]]))
                    if extra
                    else ";".join(sorted(agreed))
                )
            else:
                categories[i] = ";".join(sorted(agreed))
        age_days = (np.datetime64(today, "D") - birth[c]).astype(int)
        adult = age_days >= 18 * 365.25
        rel = np.where(
            adult, "eligible_student", np.where(rng.random(m) < 0.85, "parent", "guardian")
        )
        signer_first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), m)]
        signer = np.char.add(np.char.add(signer_first.astype(str), " "), last_names[c].astype(str))
        language = rng.choice(np.array(["en", "es", "pt", "vi"]), m, p=[0.66, 0.28, 0.04, 0.02])
        con.add(
            # One release per (organisation, student) at most, so this id is unique across
            # chunks and cohorts however large the district.
            consent_id=np.char.add(f"R{number:02d}-", np.char.lstrip(ids[c].astype(str), "S")),
            student_id=ids[c],
            org_id=np.full(m, org.org_id),
            categories=categories,
            purpose=np.full(
                m,
                f"{', '.join(s.replace('_', ' ') for s in org.service_types)} services from {org.name}",
            ),
            signed_by=signer,
            signer_relationship=rel,
            signed_date=signed,
            expires_date=expires,
            revoked_date=revoked,
            language=language,
        )
    return services, con.frame(_CONSENT_SCHEMA)


_SERVICE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "student_id": pl.String,
    "org_id": pl.String,
    "service_type": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "sessions": pl.Int64,
    "hours": pl.Float64,
}
_CONSENT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "consent_id": pl.String,
    "student_id": pl.String,
    "org_id": pl.String,
    "categories": pl.String,
    "purpose": pl.String,
    "signed_by": pl.String,
    "signer_relationship": pl.String,
    "signed_date": pl.Date,
    "expires_date": pl.Date,
    "revoked_date": pl.Date,
    "language": pl.String,
}


def _empty_services() -> pl.DataFrame:
    return pl.DataFrame(schema=_SERVICE_SCHEMA)


def _empty_consents() -> pl.DataFrame:
    return pl.DataFrame(schema=_CONSENT_SCHEMA)


# ---------------------------------------------------------------------------------------
# People: users of every role, caseloads, notes and referrals
# ---------------------------------------------------------------------------------------


def demo_email(local: str) -> str:
    return f"{local}@{DEMO_EMAIL_DOMAIN}"


def people_part(
    spec: DemoSpec, roster: pl.DataFrame, consents: pl.DataFrame, guardians: pl.DataFrame
) -> DemoPart:
    """Users for every role of docs/access-rules.md, their caseloads, and some notes and referrals.

    `roster` holds the current students; `consents` the releases of served students;
    `guardians` the guardians of the students in `consents` and of the chosen family.
    """
    rng = np.random.default_rng([spec.seed, 7])
    y_now = spec.current_year
    signed = date(y_now - 1, 8, 20)
    users: list[dict[str, object]] = [
        {
            "email": demo_email("steward"),
            "display_name": "Dana Steward (data steward)",
            "role": "admin",
            "org_id": DISTRICT_ORG_ID,
        },
        {
            "email": demo_email("leader"),
            "display_name": "Lee Okafor (chief academic officer)",
            "role": "district_leader",
            "org_id": DISTRICT_ORG_ID,
        },
        {
            "email": demo_email("viewer"),
            "display_name": "Vic Alvarez (work-group member)",
            "role": "viewer",
        },
    ]
    counselor_names = (
        "Casey Rivera",
        "Morgan Chen",
        "Jamie Mensah",
        "Robin Silva",
        "Alex Tran",
        "Sam Patel",
    )
    for school, name in zip(SCHOOLS, counselor_names, strict=True):
        users.append(
            {
                "email": demo_email(f"counselor.{school.school_id.lower()}"),
                "display_name": f"{name} (counselor, {school.name})",
                "role": "counselor",
                "school_id": school.school_id,
                "org_id": DISTRICT_ORG_ID,
            }
        )
    for school, name in zip(SCHOOLS[:2], ("Terry Brooks", "Pat Diallo"), strict=True):
        users.append(
            {
                "email": demo_email(f"teacher.{school.school_id.lower()}"),
                "display_name": f"{name} (grade 9 teacher, {school.name})",
                "role": "teacher",
                "school_id": school.school_id,
                "org_id": DISTRICT_ORG_ID,
            }
        )
    for org in ORGS:
        users.append(
            {
                "email": demo_email(f"staff.{org.org_id.lower()}"),
                "display_name": f"Staff member, {org.name}",
                "role": "org_staff",
                "org_id": org.org_id,
            }
        )
    for user in users:
        user["confidentiality_signed_date"] = signed
        user["active"] = True
    users.append(
        {
            "email": demo_email("former.counselor"),
            "display_name": "Former counselor (deactivated)",
            "role": "counselor",
            "school_id": SCHOOLS[0].school_id,
            "confidentiality_signed_date": signed,
            "active": False,
        }
    )
    users.append(
        {
            "email": demo_email("new.staff"),
            "display_name": "New partner staff (no confidentiality agreement yet)",
            "role": "org_staff",
            "org_id": ORGS[0].org_id,
            "active": True,
        }
    )

    # A family: the guardian of a served senior with an active release, and a student user.
    active = _active_consents(consents, spec.today)
    family_pool = roster.join(active.select("student_id").unique(), on="student_id").sort(
        "grade_level", "student_id", descending=[True, False]
    )
    if family_pool.height:
        child = family_pool.row(0, named=True)
        guardian = (
            guardians.filter(pl.col("student_id") == child["student_id"])
            .sort("guardian_email")
            .row(0, named=True)
        )
        users.append(
            {
                "email": guardian["guardian_email"],
                "display_name": f"{guardian['guardian_name']} (parent of {child['first_name']})",
                "role": "parent",
                "active": True,
            }
        )
        pupil = family_pool.row(min(1, family_pool.height - 1), named=True)
        users.append(
            {
                "email": demo_email("student"),
                "display_name": f"{pupil['first_name']} {pupil['last_name']} (student)",
                "role": "student",
                "student_id": pupil["student_id"],
                "active": True,
            }
        )
    user_frame = pl.DataFrame(
        users,
        schema={
            "email": pl.String,
            "display_name": pl.String,
            "role": pl.String,
            "org_id": pl.String,
            "school_id": pl.String,
            "student_id": pl.String,
            "confidentiality_signed_date": pl.Date,
            "active": pl.Boolean,
        },
    )

    # Caseloads: about 300 students per counselor, 120 ninth graders per teacher.
    caseload_parts = []
    school_sizes = roster.group_by("school_id").len()
    for school in SCHOOLS:
        size = school_sizes.filter(pl.col("school_id") == school.school_id)["len"].sum() or 1
        mine = roster.filter(
            (pl.col("school_id") == school.school_id) & (pl.col("pick") < 300 / size)
        )
        caseload_parts.append(
            mine.select(
                pl.lit(demo_email(f"counselor.{school.school_id.lower()}")).alias("user_email"),
                "student_id",
            )
        )
    for school in SCHOOLS[:2]:
        ninth = roster.filter(
            (pl.col("school_id") == school.school_id) & (pl.col("grade_level") == 9)
        )
        share = 120 / max(1, ninth.height)
        mine = ninth.filter(((pl.col("pick") * 7.31) % 1.0) < share)
        caseload_parts.append(
            mine.select(
                pl.lit(demo_email(f"teacher.{school.school_id.lower()}")).alias("user_email"),
                "student_id",
            )
        )
    caseloads = pl.concat(caseload_parts).sort("user_email", "student_id")

    notes, referrals = _notes_and_referrals(rng, spec, roster, active, caseloads)
    return DemoPart(
        "users, caseloads, notes and referrals",
        {"users": user_frame, "caseloads": caseloads, "_notes": notes, "_referrals": referrals},
    )


def _active_consents(consents: pl.DataFrame, today: date) -> pl.DataFrame:
    return consents.filter(
        (pl.col("signed_date") <= today)
        & (pl.col("expires_date").is_null() | (pl.col("expires_date") >= today))
        & (pl.col("revoked_date").is_null() | (pl.col("revoked_date") > today))
    )


def _notes_and_referrals(
    rng: np.random.Generator,
    spec: DemoSpec,
    roster: pl.DataFrame,
    active: pl.DataFrame,
    caseloads: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    today = spec.today
    agreements = {o.org_id: set(o.agreement_categories) for o in ORGS if not o.agreement_expires}
    with_notes = active.filter(
        pl.col("categories").str.contains("notes") & pl.col("org_id").is_in(list(agreements))
    )
    notes_orgs = [org for org, cats in agreements.items() if "notes" in cats]
    with_notes = with_notes.filter(pl.col("org_id").is_in(notes_orgs))
    counselor_of = caseloads.filter(pl.col("user_email").str.starts_with("counselor")).unique(
        "student_id", keep="first"
    )
    sample = with_notes.join(
        roster.select("student_id", "first_name", "school_id"), on="student_id"
    ).sort("consent_id")
    sample = sample.head(max(40, min(600, sample.height // 20)))
    rows = []
    subjects = ("math", "English", "biology", "history")
    for row in sample.iter_rows(named=True):
        count = int(rng.integers(1, 4))
        for i in range(count):
            partner = i % 2 == 0
            author = (
                demo_email(f"staff.{row['org_id'].lower()}")
                if partner
                else demo_email(f"counselor.{row['school_id'].lower()}")
            )
            body = NOTE_TEMPLATES[int(rng.integers(0, len(NOTE_TEMPLATES)))].format(
                first=row["first_name"], subject=subjects[int(rng.integers(0, 4))]
            )
            rows.append(
                {
                    "student_id": row["student_id"],
                    "author_email": author,
                    "author_role": "org_staff" if partner else "counselor",
                    "author_org_id": row["org_id"] if partner else DISTRICT_ORG_ID,
                    "created_at": datetime.combine(
                        today - timedelta(days=int(rng.integers(1, 70))),
                        time(15, int(rng.integers(0, 60))),
                        tzinfo=UTC,
                    ),
                    "body": body,
                    "shared_with_family": bool(rng.random() < 0.3),
                }
            )
    notes = pl.DataFrame(
        rows,
        schema={
            "student_id": pl.String,
            "author_email": pl.String,
            "author_role": pl.String,
            "author_org_id": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
            "body": pl.String,
            "shared_with_family": pl.Boolean,
        },
    ).sort("created_at", "student_id")

    candidates = (
        counselor_of.join(roster.select("student_id", "risk"), on="student_id")
        .filter(pl.col("risk") > 1.0)
        .sort("student_id")
    )
    candidates = candidates.head(max(10, min(300, candidates.height // 10)))
    referral_rows = []
    open_orgs = [o for o in ORGS if not o.agreement_expires]
    for row in candidates.iter_rows(named=True):
        org = open_orgs[int(rng.integers(0, len(open_orgs)))]
        status = str(
            rng.choice(["open", "accepted", "declined", "closed"], p=[0.45, 0.35, 0.1, 0.1])
        )
        created = datetime.combine(
            today - timedelta(days=int(rng.integers(2, 60))), time(10, 0), tzinfo=UTC
        )
        referral_rows.append(
            {
                "student_id": row["student_id"],
                "org_id": org.org_id,
                "referred_by": row["user_email"],
                "reason": REFERRAL_REASONS[int(rng.integers(0, len(REFERRAL_REASONS)))],
                "status": status,
                "created_at": created,
                "updated_at": created
                + timedelta(days=0 if status == "open" else int(rng.integers(1, 10))),
                "response": None
                if status == "open"
                else {
                    "accepted": "We will reach out to the family this week.",
                    "declined": "Our program is full until January.",
                    "closed": "Services completed.",
                }[status],
            }
        )
    referrals = pl.DataFrame(
        referral_rows,
        schema={
            "student_id": pl.String,
            "org_id": pl.String,
            "referred_by": pl.String,
            "reason": pl.String,
            "status": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
            "updated_at": pl.Datetime("us", "UTC"),
            "response": pl.String,
        },
    )
    return notes, referrals


# ---------------------------------------------------------------------------------------
# The whole district
# ---------------------------------------------------------------------------------------


def district(spec: DemoSpec) -> Iterator[DemoPart]:
    """The demo district, part by part: fixed tables, student chunks, then people.

    Frames whose name starts with `_` are not import files (the roster used to build
    caseloads, notes and referrals, which are the application's own records).
    """
    yield fixed_part()
    rosters, consents, family_guardians, services = [], [], [], []
    for cohort, first, size in _cohort_chunks(spec):
        part = _simulate_chunk(spec, cohort, first, size)
        roster = part.tables.pop("_roster")
        rosters.append(roster)
        consents.append(part.tables["consents"])
        services.append(part.tables["services"])
        served = part.tables["consents"].select("student_id").unique()
        family_guardians.append(part.tables["guardians"].join(served, on="student_id"))
        yield part
    people = people_part(
        spec,
        pl.concat(rosters),
        pl.concat(consents),
        pl.concat(family_guardians),
    )
    # Issue 14: capacity, and referrals in every state of the loop (demo_district/capacity.py).
    all_services = pl.concat(services)
    current = pl.concat(rosters)
    people.tables["capacity"] = capacity_table(
        spec.seed, spec.current_year, all_services, current, spec.today
    )
    people.tables["_referrals"] = pl.concat(
        [
            people.tables["_referrals"],
            loop_referrals(
                spec.seed,
                spec.today,
                current,
                all_services,
                _active_consents(pl.concat(consents), spec.today),
                cal.year_start(spec.current_year - 1),
            ),
        ]
    )
    yield people


def district_frames(spec: DemoSpec) -> dict[str, pl.DataFrame]:
    """The demo district whole: each frame of `district`'s parts, concatenated (the
    `_`-named frames included). For tests and benchmarks that hold it in memory."""
    parts: dict[str, list[pl.DataFrame]] = {}
    for part in district(spec):
        for name, frame in part.tables.items():
            parts.setdefault(name, []).append(frame)
    return {name: pl.concat(frames) for name, frames in parts.items()}
