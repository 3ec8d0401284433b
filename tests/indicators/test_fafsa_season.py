"""The FAFSA season week by week (indicators/fafsa_season.py): worked examples with pinned
dates, and the small-cell protection against an attacker who enumerates every world
consistent with what is published."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.fafsa_season import (
    ALL,
    completed_by,
    district_shown,
    gaps_at_week,
    in_season,
    last_full_week,
    line_shown,
    protect_series,
    same_day,
    season_class,
    season_counts,
    week_ends,
    week_of,
    weekly_series,
)

MIN_CELL = 10


def _seniors(rows: list[tuple[int, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["class_of", "school_id", "seniors"], orient="row")


def _completions(rows: list[tuple[int, str, date, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "class_of": pl.Int64,
            "school_id": pl.String,
            "status_date": pl.Date,
            "completed": pl.Int64,
        },
        orient="row",
    )


# --- The calendar --------------------------------------------------------------------------


def test_the_season_of_the_class_of_2027_runs_from_october_2026_to_june_2027() -> None:
    assert season_class(date(2026, 11, 30)) == 2027
    assert season_class(date(2027, 6, 30)) == 2027
    assert season_class(date(2026, 10, 1)) == 2027
    assert season_class(date(2026, 9, 30)) == 2026  # the last season, ended on June 30
    assert in_season(date(2026, 10, 1)) and in_season(date(2027, 6, 30))
    assert not in_season(date(2026, 7, 1)) and not in_season(date(2026, 9, 30))


def test_weeks_start_on_october_first_and_the_last_ends_on_june_thirtieth() -> None:
    ends = week_ends(2027)
    assert ends[0] == date(2026, 10, 7)
    assert ends[1] == date(2026, 10, 14)
    assert ends[-1] == date(2027, 6, 30)
    assert len(ends) == 39
    assert week_of(date(2026, 10, 7)) == 0 and week_of(date(2026, 10, 8)) == 1
    assert last_full_week(date(2026, 10, 6)) is None
    assert last_full_week(date(2026, 11, 30)) == 7  # the week of Nov 19-25 has ended


def test_the_same_day_of_an_earlier_season_is_the_same_calendar_date() -> None:
    assert same_day(date(2026, 11, 30), 2026) == date(2025, 11, 30)
    assert same_day(date(2027, 3, 1), 2025) == date(2025, 3, 1)
    assert same_day(date(2028, 2, 29), 2027) == date(2027, 2, 28)  # no Feb 29 in 2027


# --- The exact series ----------------------------------------------------------------------


def test_the_weekly_series_counts_completions_by_the_end_of_each_week() -> None:
    seniors = _seniors([(2027, "HS01", 20), (2027, "HS02", 30)])
    completions = _completions(
        [
            (2027, "HS01", date(2026, 9, 20), 2),  # before the season: counts from week 0
            (2027, "HS01", date(2026, 10, 7), 3),  # last day of week 0
            (2027, "HS02", date(2026, 10, 8), 6),  # first day of week 1
            (2027, "HS02", date(2026, 10, 20), 4),  # week 2, after "today"
        ]
    )
    series = weekly_series(seniors, completions, [2027], date(2026, 10, 15))
    assert series.select("group", "week", "seniors", "completed", "share").rows() == [
        (ALL, 0, 50, 5, 10.0),
        (ALL, 1, 50, 11, 22.0),
        ("HS01", 0, 20, 5, 25.0),
        ("HS01", 1, 20, 5, 25.0),
        ("HS02", 0, 30, 0, 0.0),
        ("HS02", 1, 30, 6, 20.0),
    ]


def test_completions_after_june_thirtieth_are_outside_the_season() -> None:
    seniors = _seniors([(2026, "HS01", 10)])
    completions = _completions(
        [(2026, "HS01", date(2026, 6, 30), 4), (2026, "HS01", date(2026, 7, 1), 5)]
    )
    series = weekly_series(seniors, completions, [2026], date(2026, 11, 30))
    assert series["completed"][-1] == 4
    assert series["week_end"][-1] == date(2026, 6, 30)


def test_completed_by_a_day_compares_this_class_with_the_last_at_the_same_date() -> None:
    seniors = _seniors([(2027, "HS01", 100), (2026, "HS01", 100)])
    completions = _completions(
        [
            (2027, "HS01", date(2026, 11, 10), 18),
            (2027, "HS01", date(2026, 12, 5), 30),  # after today
            (2026, "HS01", date(2025, 11, 30), 15),
            (2026, "HS01", date(2025, 12, 1), 40),  # a day too late
        ]
    )
    today = date(2026, 11, 30)
    this_year = completed_by(seniors, completions, 2027, today)
    last_year = completed_by(seniors, completions, 2026, same_day(today, 2026))
    assert this_year.filter(pl.col("group") == ALL)["share"].item() == 18.0
    assert last_year.filter(pl.col("group") == ALL)["share"].item() == 15.0
    assert last_year["day"][0] == date(2025, 11, 30)


def test_gaps_name_the_school_furthest_behind_last_year_at_the_same_week() -> None:
    series = pl.DataFrame(
        {
            "class_of": [2027, 2027, 2026, 2026],
            "group": ["HS01", "HS03", "HS01", "HS03"],
            "week": [8, 8, 8, 8],
            "share": [30.0, 21.0, 28.0, 30.0],
        }
    )
    gaps = gaps_at_week(series, 2027, 8)
    assert gaps.row(0, named=True) == {
        "group": "HS03",
        "share": 21.0,
        "last_year": 30.0,
        "gap_points": -9.0,
    }


# --- Protection: worked examples -----------------------------------------------------------


def test_a_line_carries_its_value_until_ten_more_students_complete() -> None:
    counts = [4, 10, 15, 19, 20, 31, 31, 60, 65]
    assert line_shown(counts, 70, MIN_CELL) == [None, 10, 10, 10, 20, 31, 31, 60, 60]


def test_a_line_is_not_published_when_few_seniors_are_left_to_complete() -> None:
    assert line_shown([10, 20, 25], 30, MIN_CELL) == [10, 20, 20]  # 5 left at week 2
    assert line_shown([3, 5], 9, MIN_CELL) == [None, None]  # fewer than 10 seniors


def test_the_district_line_adds_up_what_the_schools_show() -> None:
    # HS01 is published every week; HS02 gains 4 in week 1 and is carried. A district
    # figure of 54 in week 1 would give HS02's 24 by subtraction: the district shows 50.
    hs01 = [20, 30]
    hs02 = [20, 24]
    shown = [line_shown(hs01, 100, MIN_CELL), line_shown(hs02, 100, MIN_CELL)]
    assert shown == [[20, 30], [20, 20]]
    assert district_shown(shown) == [40, 50]


def test_the_district_line_starts_with_the_first_school_shown() -> None:
    shown = [line_shown(c, 100, MIN_CELL) for c in ([5, 12], [9, 9], [3, 4])]
    assert district_shown(shown) == [None, 12]


def test_protected_series_holds_no_count_and_marks_the_weeks_it_updated() -> None:
    seniors = _seniors([(2027, "HS01", 40), (2027, "HS02", 40)])
    completions = _completions(
        [
            (2027, "HS01", date(2026, 10, 2), 12),
            (2027, "HS02", date(2026, 10, 3), 12),
            (2027, "HS01", date(2026, 10, 9), 3),
            (2027, "HS02", date(2026, 10, 10), 4),
        ]
    )
    series = weekly_series(seniors, completions, [2027], date(2026, 10, 15))
    protected = protect_series(series, MIN_CELL)
    assert set(protected.columns) == {"class_of", "group", "week", "week_end", "share", "updated"}
    assert protected.select("group", "week", "share", "updated").rows() == [
        (ALL, 0, 30.0, True),
        (ALL, 1, 30.0, False),  # 7 more: not yet
        ("HS01", 0, 30.0, True),
        ("HS01", 1, 30.0, False),
        ("HS02", 0, 30.0, True),
        ("HS02", 1, 30.0, False),
    ]


# --- Protection: the attacker ---------------------------------------------------------------

ATTACK_MIN_CELL = 3


def _sequences(seniors: int, weeks: int) -> list[tuple[int, ...]]:
    """Every cumulative series of `weeks` counts between 0 and `seniors`."""
    return [
        s
        for s in itertools.combinations_with_replacement(range(seniors + 1), weeks)
        if list(s) == sorted(s)
    ]


def _published(
    worlds: Sequence[Sequence[int]], seniors: Sequence[int], m: int
) -> tuple[list[int | None], list[list[int | None]]]:
    schools = [line_shown(c, n, m) for c, n in zip(worlds, seniors, strict=True)]
    return district_shown(schools), schools


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_nothing_published_pins_a_hidden_count_or_a_weekly_increase(data: st.DataObject) -> None:
    """Everything a protected viewer sees (each line's carried values; the seniors too, to
    be safe) is consistent with many worlds: no count that is not published, no weekly
    increase and no number of seniors not yet completed is pinned to 1..min_cell-1 (a
    count not published is not pinned at all, unless to 0 where nothing is shown)."""
    m = ATTACK_MIN_CELL
    n_schools = data.draw(st.integers(1, 3), label="schools")
    weeks = data.draw(st.integers(1, 3), label="weeks")
    seniors = [data.draw(st.integers(0, 7), label="seniors") for _ in range(n_schools)]
    truth = [data.draw(st.sampled_from(_sequences(n, weeks)), label="counts") for n in seniors]
    district, schools = _published(truth, seniors, m)

    # Every world consistent with what is published.
    candidates = [
        [c for c in _sequences(n, weeks) if line_shown(c, n, m) == shown]
        for n, shown in zip(seniors, schools, strict=True)
    ]
    accepted: dict[tuple[int, ...], bool] = {}
    consistent = []
    for world in itertools.product(*candidates):
        totals = tuple(sum(week) for week in zip(*world, strict=True))
        if totals not in accepted:
            accepted[totals] = district_shown(schools) == district
        if accepted[totals]:
            consistent.append(world)
    assert tuple(truth) in consistent

    lines: list[tuple[int, list[list[int]], list[int | None], list[int]]] = [
        (n, [list(w[g]) for w in consistent], schools[g], list(truth[g]))
        for g, n in enumerate(seniors)
    ]
    lines.append(
        (
            sum(seniors),
            [[sum(week) for week in zip(*w, strict=True)] for w in consistent],
            district,
            [sum(week) for week in zip(*truth, strict=True)],
        )
    )
    for n, possible, shown, true in lines:
        for week in range(weeks):
            values = {p[week] for p in possible}
            if shown[week] != true[week] and len(values) == 1:
                assert values == {0} and shown[week] is None, (week, values, shown, true)
            increases = {p[week] - (p[week - 1] if week else 0) for p in possible}
            if len(increases) == 1:
                assert not 0 < next(iter(increases)) < m, (week, increases, shown, true)
            left = {n - p[week] for p in possible}
            if len(left) == 1:
                assert not 0 < next(iter(left)) < m, (week, left, shown, true)


def test_season_counts_are_the_cohort_less_transfers_out_and_its_dated_completions() -> None:
    students = pl.DataFrame(
        {
            "student_id": ["A", "B", "C", "D", "E"],
            "school_id": ["HS1", "HS1", "HS1", "HS2", "HS2"],
            "cohort_year": [2027, 2027, 2027, 2027, 2026],
        }
    )
    # B transferred out (its last enrollment); D transferred between schools and came back.
    enrollments = pl.DataFrame(
        {
            "student_id": ["B", "D", "D"],
            "school_year": [2027, 2026, 2027],
            "school_id": ["HS1", "HS1", "HS2"],
            "entry_date": [date(2026, 8, 27), date(2025, 8, 27), date(2026, 8, 27)],
            "exit_date": [date(2026, 10, 20), date(2026, 1, 10), None],
            "exit_code": ["transferred", "transferred", None],
        }
    )
    fafsa = pl.DataFrame(
        {
            "student_id": ["A", "B", "C", "D", "E", "A"],
            "award_year": [2027, 2027, 2027, 2027, 2026, 2026],
            "status": ["completed", "completed", "completed", "submitted", "completed",
                       "completed"],
            "status_date": [date(2026, 10, 2), date(2026, 10, 2), None, date(2026, 10, 9),
                            date(2025, 11, 1), date(2025, 12, 1)],
        }
    )  # fmt: skip
    seniors, completions = season_counts(students, enrollments, fafsa)
    assert seniors.rows() == [(2026, "HS2", 1), (2027, "HS1", 2), (2027, "HS2", 1)]
    # C's completion has no date, D's FAFSA is not completed, A's 2026 record is for
    # another award year than A's class, B left the cohort.
    assert completions.rows() == [(2026, "HS2", date(2025, 11, 1), 1),
                                  (2027, "HS1", date(2026, 10, 2), 1)]  # fmt: skip
