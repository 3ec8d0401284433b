"""Synthetic districts for the program-outcome tests, with a known true effect.

One school year (2025-26), monthly attendance snapshots from September to May (20 school
days a month), one attendance program. Each student has a latent risk z; their monthly
absence probability is 4% + 8% x z (z >= 0). After the first two months, the program
serves students with a probability rising steeply with their absence rate so far
(selection on risk, as referrals work), from a start date between Nov 1 and Dec 15; while
served, a student's absence probability falls by `effect` (a fraction of days: 0.03 is 3
percentage points). The truth is therefore known, and the naive comparison (served against
all unserved) is biased upward by the selection.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from indicators.tables import RawTables

YEAR = 2026
AS_OF = date(2026, 6, 15)
MONTH_ENDS = [date(2025, m, 28) for m in range(9, 13)] + [date(2026, m, 28) for m in range(1, 6)]
DAYS_A_MONTH = 20


def attendance_world(
    n: int, effect: float, seed: int = 7, schools: int = 2
) -> tuple[RawTables, pl.DataFrame]:
    """(tables, services) of `n` students in grades 9 and 10 of `schools` schools."""
    rng = np.random.default_rng(seed)
    ids = [f"S{i:05d}" for i in range(n)]
    z = np.abs(rng.normal(0, 1, n))
    school = np.array([f"HS{1 + i % schools}" for i in range(n)])
    grade = 9 + rng.integers(0, 2, n)
    econ = rng.random(n) < 0.3 + 0.2 * np.minimum(z, 2)
    start = np.array([date(2025, 11, 1) + timedelta(days=int(d)) for d in rng.integers(0, 45, n)])
    base = 0.04 + 0.08 * z
    students = pl.DataFrame(
        {
            "student_id": ids,
            "school_id": school,
            "grade_level": grade,
            "cohort_year": YEAR + 12 - grade,
            "gender": rng.choice(["F", "M"], n),
            "race_ethnicity": rng.choice(["hispanic", "white", "black"], n),
            "english_learner": rng.random(n) < 0.15,
            "disability": rng.random(n) < 0.12,
            "econ_disadvantaged": econ,
        }
    )
    enrollments = pl.DataFrame(
        {
            "student_id": ids,
            "school_id": school,
            "school_year": [YEAR] * n,
            "grade_level": grade,
            "entry_date": [date(2025, 8, 20)] * n,
        }
    )
    enrolled = np.zeros(n, dtype=np.int64)
    absent = np.zeros(n, dtype=np.int64)
    snapshots = []
    served = np.zeros(n, dtype=bool)
    for month, day in enumerate(MONTH_ENDS):
        if month == 2:  # referrals on the absence rate of September and October
            rate = absent / enrolled
            served = rng.random(n) < 1 / (1 + np.exp(-(-3.5 + 35.0 * rate)))
        treated = served & (start < day)
        p = np.clip(base - np.where(treated, effect, 0.0), 0.0, 0.95)
        enrolled += DAYS_A_MONTH
        absent += rng.binomial(DAYS_A_MONTH, p)
        snapshots.append(
            pl.DataFrame(
                {
                    "student_id": ids,
                    "school_id": school,
                    "school_year": [YEAR] * n,
                    "as_of_date": [day] * n,
                    "days_enrolled": enrolled.copy(),
                    "days_absent": absent.copy(),
                }
            )
        )
    tables = RawTables(students=students, enrollments=enrollments, attendance=pl.concat(snapshots))
    who = np.nonzero(served)[0]
    services = pl.DataFrame(
        {
            "student_id": [ids[i] for i in who],
            "org_id": ["ORG1"] * len(who),
            "service_type": ["attendance"] * len(who),
            "start_date": [start[i] for i in who],
            "end_date": [None] * len(who),
            "sessions": [20] * len(who),
            "hours": [15.0] * len(who),
        },
        schema_overrides={"end_date": pl.Date},
    )
    return tables, services
