"""Closing the loop on referrals: paths, figures per organisation and school, protection.

The world: Mentors (MEN) got four referrals at HS1 on Oct 1: Ana's, accepted after 3 days
and a mentoring service started Oct 10; Ben's, accepted after 5 days and a service only
in December (too late to count); Caro's, declined after 7 days; Dev's, still open with no
release (waiting). Eli's referral at HS2, open, has a release naming Mentors.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.referral_loop import LOOP_STAGES, loop_figures, referral_paths, shown_figures
from indicators.suppression import ALL

OCT1 = datetime(2026, 10, 1, 9, tzinfo=UTC)


def _referrals(*rows: tuple[int, str, str, str, int]) -> pl.DataFrame:
    """(id, student, org, status, days until the answer)."""
    return pl.DataFrame(
        [
            {"referral_id": i, "student_id": s, "org_id": o, "status": st_,
             "created_at": OCT1, "updated_at": OCT1 + timedelta(days=d)}
            for i, s, o, st_, d in rows
        ]
    )  # fmt: skip


REFERRALS = _referrals(
    (1, "ANA", "MEN", "accepted", 3),
    (2, "BEN", "MEN", "accepted", 5),
    (3, "CARO", "MEN", "declined", 7),
    (4, "DEV", "MEN", "open", 0),
    (5, "ELI", "MEN", "open", 0),
)
RELEASED = pl.DataFrame({"student_id": ["ELI", "ANA"], "org_id": ["MEN", "MEN"]})
SERVICES = pl.DataFrame(
    {
        "student_id": ["ANA", "BEN"],
        "org_id": ["MEN", "MEN"],
        "service_type": ["mentoring", "mentoring"],
        "start_date": [date(2026, 10, 10), date(2026, 12, 1)],
    }
)
SCHOOLS = pl.DataFrame(
    {"student_id": ["ANA", "BEN", "CARO", "DEV", "ELI"], "school_id": ["HS1"] * 4 + ["HS2"]}
)


def test_each_referral_has_its_path_from_referred_to_service_started() -> None:
    paths = referral_paths(REFERRALS, RELEASED, SERVICES)
    got = paths.select(
        "student_id", "status", "days_to_response", "service_started", "waiting_for_release"
    )
    assert got.rows() == [
        ("ANA", "accepted", 3, date(2026, 10, 10), False),
        ("BEN", "accepted", 5, None, False),
        ("CARO", "declined", 7, None, False),
        ("DEV", "open", None, None, True),
        ("ELI", "open", None, None, False),
    ]


def test_figures_per_organisation_and_school_count_each_step_of_the_loop() -> None:
    figures = loop_figures(referral_paths(REFERRALS, RELEASED, SERVICES), SCHOOLS)
    hs1 = figures.filter(pl.col("school_id") == "HS1").row(0, named=True)
    assert {k: hs1[k] for k in (*LOOP_STAGES, "declined", "waiting", "median_days")} == {
        "made": 4, "not_waiting": 3, "answered": 3, "accepted": 2, "became_service": 1,
        "declined": 1, "waiting": 1, "median_days": 5.0,
    }  # fmt: skip
    assert figures.filter(pl.col("school_id") == "HS2")["made"].to_list() == [1]


def test_exact_viewers_see_every_count_and_the_organisation_total() -> None:
    figures = loop_figures(referral_paths(REFERRALS, RELEASED, SERVICES), SCHOOLS)
    shown = shown_figures(figures, exact=True, min_cell=10)
    total = shown.filter(pl.col("school_id") == ALL).row(0, named=True)
    assert (total["made"], total["waiting"], total["declined"], total["median_days"]) == (
        "5",
        "1",
        "1",
        5.0,
    )


def test_protected_viewers_see_no_small_count_and_no_median_of_few() -> None:
    figures = loop_figures(referral_paths(REFERRALS, RELEASED, SERVICES), SCHOOLS)
    shown = shown_figures(figures, exact=False, min_cell=10)
    assert set(shown["made"]) == {"<10"}
    assert shown["median_days"].null_count() == shown.height
    assert set(shown["waiting"]) == {"*"}


counts = st.integers(min_value=0, max_value=40)


@st.composite
def funnels(draw: st.DrawFn) -> pl.DataFrame:
    """An organisation's loop at 1-4 schools: nested stage counts."""
    rows = []
    for school in range(draw(st.integers(min_value=1, max_value=4))):
        made = draw(counts)
        values = [made]
        for _ in LOOP_STAGES[1:]:
            values.append(draw(st.integers(min_value=0, max_value=values[-1])))
        rows.append({"org_id": "ORG", "school_id": f"HS{school}", **dict(zip(LOOP_STAGES, values, strict=True)),
                     "declined": values[2] - values[3], "waiting": values[0] - values[1],
                     "median_days": 4.0, "org_median_days": 4.0})  # fmt: skip
    return pl.DataFrame(rows)


@settings(max_examples=200, deadline=None)
@given(figures=funnels(), min_cell=st.integers(min_value=2, max_value=11))
def test_an_attacker_reading_the_protected_loop_learns_no_small_count(
    figures: pl.DataFrame, min_cell: int
) -> None:
    """Every number a protected viewer reads, shown or derived by subtraction (two stages
    of a row; a total less the schools shown), is zero-free and at least `min_cell`."""
    shown = shown_figures(figures, exact=False, min_cell=min_cell)

    def number(text: str) -> int | None:
        return int(text) if text.isdigit() else None

    for row in shown.iter_rows(named=True):
        values = [number(row[s]) for s in LOOP_STAGES]
        readable = [v for v in values if v is not None] + [
            v for v in (number(row["waiting"]), number(row["declined"])) if v is not None
        ]
        assert all(v >= min_cell for v in readable), row
        exact = [v for v in values if v is not None]
        assert all(a - b >= min_cell for a, b in zip(exact, exact[1:], strict=False)), row
    schools = shown.filter(pl.col("school_id") != ALL)
    total = shown.filter(pl.col("school_id") == ALL).row(0, named=True)
    for stage in LOOP_STAGES:
        whole = number(total[stage])
        hidden = [s for s in schools[stage] if number(s) is None]
        if whole is None or not hidden:
            continue
        left = whole - sum(number(s) or 0 for s in schools[stage])
        assert len(hidden) >= 2 and left >= min_cell, (stage, shown)
