"""The FAFSA season reader (data_access/fafsa_season.py) on both databases: the seniors
of a class are its cohort less transfers out, a completion counts from its status date
and not after today, leaders get counts and everyone else shares only, refusals are
recorded.

The world adds to tests/worlds.py (today 2026-11-22, the season of the class of 2027):
class of 2027 at HS1: 12 seniors; 11 completed on 2026-10-02 (week 0), one of whom
transferred out of the district (not a senior any more); one more completed on
2026-11-25 (after today). Class of 2026 at HS1: 10 seniors, 4 completed on 2025-10-03 and
6 on 2025-11-22 (the same date last year).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, insert, select

from data_access.audit import AUDIT_EVENT
from data_access.derived import refresh_derived
from data_access.fafsa_season import fafsa_season
from data_access.models import Enrollment, Fafsa, Student, table_of
from data_access.policy import AccessDenied
from indicators.fafsa_season import ALL
from tests.policy.test_lists_and_figures import who
from tests.worlds import build_small_world


def _senior(sid: str, cohort: int) -> dict[str, Any]:
    return {
        "student_id": sid, "first_name": "F", "last_name": "Testcase", "school_id": "HS1",
        "grade_level": 12, "cohort_year": cohort, "birth_date": date(2008, 1, 1),
        "gender": "M", "race_ethnicity": "white", "english_learner": False,
        "disability": False, "econ_disadvantaged": False,
    }  # fmt: skip


def _fafsa(sid: str, award_year: int, status: str, day: date) -> dict[str, Any]:
    return {"student_id": sid, "award_year": award_year, "status": status, "status_date": day}


@pytest.fixture
def season_world(engine: Engine) -> Engine:
    build_small_world(engine)
    now = [f"N{i:02d}" for i in range(12)]
    last = [f"L{i:02d}" for i in range(10)]
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(Student)),
            [_senior(s, 2027) for s in now] + [_senior(s, 2026) for s in last],
        )
        connection.execute(
            insert(table_of(Enrollment)),
            [
                {"student_id": "N00", "school_id": "HS1", "school_year": 2027, "grade_level": 12,
                 "entry_date": date(2026, 8, 27), "exit_date": date(2026, 10, 20),
                 "exit_code": "transferred"},
            ],
        )  # fmt: skip
        connection.execute(
            insert(table_of(Fafsa)),
            [_fafsa(s, 2027, "completed", date(2026, 10, 2)) for s in now[:11]]
            + [_fafsa(now[11], 2027, "completed", date(2026, 11, 25))]
            + [_fafsa(s, 2026, "completed", date(2025, 10, 3)) for s in last[:4]]
            + [_fafsa(s, 2026, "completed", date(2025, 11, 22)) for s in last[4:]],
        )
    refresh_derived(engine, as_of=date(2026, 11, 22))
    return engine


def test_a_leader_gets_completions_of_the_cohort_by_week_and_at_the_same_date(
    season_world: Engine,
) -> None:
    view = fafsa_season(season_world, who(season_world, "leader@d.org"))
    assert (view.class_of, view.exact, view.in_season) == (2027, True, True)
    hs1 = view.series.filter((pl.col("group") == "HS1") & (pl.col("class_of") == 2027))
    # 11 seniors (N00 transferred out), 10 completed in week 0, the 12th's is not yet.
    assert hs1.select("week", "seniors", "completed").rows()[:2] == [(0, 11, 10), (1, 11, 10)]
    assert hs1["week_end"].max() == date(2026, 11, 18)  # the last week ended by Nov 22
    standing = view.standing.filter(pl.col("group") == "HS1").sort("class_of")
    assert standing.select("class_of", "day", "share").rows() == [
        (2026, date(2025, 11, 22), 100.0),
        (2027, date(2026, 11, 22), 90.9),
    ]


def test_a_viewer_gets_shares_only_where_the_counts_behind_them_are_large_enough(
    season_world: Engine,
) -> None:
    view = fafsa_season(season_world, who(season_world, "viewer@city.org"))
    assert view.exact is False
    assert not {"seniors", "completed"} & set(view.series.columns)
    # HS1's 10 of 11 leaves one senior not completed: never published. Last year's 10
    # seniors all completed: never published either; HS2 has too few seniors.
    assert view.series["share"].drop_nulls().len() == 0
    assert view.standing["share"].drop_nulls().len() == 0
    assert set(view.series["group"].unique()) == {ALL, "HS1", "HS2"}


def test_roles_without_figures_are_refused_and_the_refusal_is_recorded(
    season_world: Engine,
) -> None:
    with pytest.raises(AccessDenied):
        fafsa_season(season_world, who(season_world, "teacher@d.org"))
    with season_world.connect() as connection:
        refused = connection.execute(
            select(AUDIT_EVENT.c.user_email, AUDIT_EVENT.c.action).where(
                AUDIT_EVENT.c.outcome == "denied"
            )
        ).all()
    assert [tuple(r) for r in refused] == [("teacher@d.org", "fafsa_season.read")]
