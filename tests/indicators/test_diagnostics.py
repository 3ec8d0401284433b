"""The college-going diagnostic (indicators.diagnostics): worked examples on small
worlds, and an exhaustive attacker against the protection of the new tables."""

from __future__ import annotations

import itertools
from datetime import date

import polars as pl
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from indicators.diagnostics import (
    NOT_ENROLLED,
    NOT_YET,
    TwoWay,
    college_timing,
    funnel_hidden,
    prior_achievement_quartiles,
    protect_timing,
    protect_two_way,
    school_rates,
    two_way_rows,
)
from indicators.suppression import suppress_cube, suppress_funnel
from tests.indicators.builders import frame

C = 2026


def score(sid: str, subject: str, year: int, value: float, on: date | None = None) -> dict:
    return {"student_id": sid, "school_year": year, "test_name": "State", "subject": subject,
            "proficient": True, "scale_score": value, "test_date": on}  # fmt: skip


def quartiles(rows: list[dict]) -> dict[str, str]:
    ids = sorted({row["student_id"] for row in rows})
    members = pl.DataFrame({"student_id": ids, "cohort": [C] * len(ids)})
    scores = frame("test_scores", rows).lazy()
    result = prior_achievement_quartiles(scores, members.lazy()).collect()
    return dict(result.select("student_id", "prior_achievement").rows())


def test_the_earliest_high_school_math_score_is_used_and_ela_only_without_math() -> None:
    rows = [
        score("A", "math", C - 3, 400.0),  # grade 9: used
        score("A", "math", C - 2, 900.0),  # later: ignored
        score("A", "math", C - 4, 990.0),  # grade 8: not high school
        score("B", "math", C - 3, 500.0),
        score("C", "math", C - 3, 600.0),
        score("D", "math", C - 3, 700.0),
        score("E", "ela", C - 3, 100.0),  # no math: ELA, ranked among ELA scores only
    ]
    assert quartiles(rows) == {"A": "q1", "B": "q2", "C": "q3", "D": "q4", "E": "q1"}


def test_tied_scores_share_a_quartile_and_students_without_a_score_have_no_row() -> None:
    rows = [score(s, "math", C - 3, v) for s, v in [("A", 1.0), ("B", 1.0), ("C", 1.0), ("D", 9.0)]]
    rows.append(score("E", "science", C - 3, 5.0))
    assert quartiles(rows) == {"A": "q1", "B": "q1", "C": "q1", "D": "q4"}


def graduate(sid: str, start: date | None, level: str | None = "4yr") -> dict:
    return {"cohort": C, "student_id": sid, "postsecondary_enrolled": start is not None,
            "postsecondary_start_date": start, "institution_level": level}  # fmt: skip


GRADUATES = pl.DataFrame(
    [
        graduate("A", date(C, 8, 26)),
        graduate("B", date(C, 10, 31), "2yr"),
        graduate("C", date(C + 1, 1, 20), "2yr"),
        graduate("D", date(C + 2, 10, 31), None),
        graduate("E", date(C + 2, 11, 1)),
        graduate("F", None, None),
    ]
)


def timing(as_of: date) -> dict[str, int]:
    return {g: c for g, c in college_timing(GRADUATES, as_of).select("group", "count").rows() if c}


def test_graduates_are_seamless_delayed_or_not_enrolled_once_the_window_closed() -> None:
    assert timing(date(C + 2, 11, 1)) == {
        "seamless_4yr": 1, "seamless_2yr": 1, "delayed_2yr": 1, "delayed_unknown": 1,
        NOT_ENROLLED: 2,
    }  # fmt: skip


def test_delayed_enrollment_is_not_yet_while_its_window_is_open() -> None:
    assert timing(date(C + 1, 6, 1)) == {"seamless_4yr": 1, "seamless_2yr": 1, NOT_YET: 4}
    groups = college_timing(GRADUATES, date(C + 1, 6, 1))["group"].to_list()
    assert NOT_ENROLLED not in groups and not any(g.startswith("delayed") for g in groups)


def test_nothing_is_known_before_the_first_fall_window_closes() -> None:
    assert timing(date(C, 10, 31)) == {NOT_YET: 6}


def test_school_rates_mark_the_lowest_and_highest_school_and_the_district_average() -> None:
    rows = pl.DataFrame(
        {"group": ["HS1", "HS2", "HS3"], "stage": ["graduated"] * 3,
         "display": ["50", "*", "80"], "share": [50.0, None, 80.0]}
    )  # fmt: skip
    district = pl.DataFrame({"stage": ["graduated"], "share": [66.0]})
    rates = school_rates(rows, district, "graduated")
    assert rates["group"].to_list() == ["HS1", "HS3", "HS2"]
    assert rates["mark"].to_list() == ["lowest", "highest", ""]
    assert rates["district_share"].to_list() == [66.0] * 3


def test_the_cell_rules_are_those_of_suppress_funnel() -> None:
    for counts in ([40, 35, 20, 3], [12, 12, 0], [100, 50, 45, 9]):
        expected = suppress_funnel(pl.DataFrame({"count": counts}), 10)["display"].to_list()
        got = funnel_hidden(counts, 10)
        assert [
            "exact" if d.isdigit() else ("small" if d.startswith("<") else "protected")
            for d in expected
        ] == got


def test_a_timing_split_is_hidden_whole_when_the_graduates_are_hidden_in_the_cube() -> None:
    split = pl.DataFrame({"group": ["seamless_4yr", NOT_YET], "count": [40, 30]})
    assert protect_timing(split, False, 10)["display"].to_list() == ["*", "*"]
    shown = protect_timing(split, True, 10)
    assert shown["display"].to_list() == ["40", "30"]
    assert shown["share"].to_list() == [57.1, 42.9]


# ---------------------------------------------------------------------------------------
# The attacker: every hidden two-way cell keeps two values or more
# ---------------------------------------------------------------------------------------


@st.composite
def two_way_tables(draw: st.DrawFn) -> tuple[list[list[list[int]]], int]:
    """A small quartile x race table: 2 quartile groups, 2 races, 2 stages."""
    min_cell = draw(st.integers(2, 3))
    races = 2
    cells = []
    for _ in range(2):
        row = []
        for _ in range(races):
            first = draw(st.integers(0, 2 * min_cell + 1))
            second = draw(st.integers(0, first))
            row.append([first, second])
        cells.append(row)
    return cells, min_cell


def _allowed(state: str, shown: int, value: int, min_cell: int) -> bool:
    if state == "exact":
        return value == shown
    return value < min_cell if state == "small" else value >= 0


def published_table(cells: list[list[list[int]]], min_cell: int) -> TwoWay:
    """The table with its margins as the protected cube shows them (suppress_cube over
    the cohort's funnel, the quartile grouping and the race grouping)."""
    r_n, s_n = len(cells[0]), len(cells[0][0])
    stages = ["a", "b", "c"][:s_n]
    rows = []
    for s, stage in enumerate(stages):
        rows.append(
            (C, "all", "all", stage, sum(cells[q][r][s] for q in range(2) for r in range(r_n)))
        )
    for q in range(2):
        for s, stage in enumerate(stages):
            rows.append(
                (
                    C,
                    "prior_achievement",
                    f"q{q + 1}",
                    stage,
                    sum(cells[q][r][s] for r in range(r_n)),
                )
            )
    for r in range(r_n):
        for s, stage in enumerate(stages):
            rows.append(
                (C, "race_ethnicity", f"r{r}", stage, sum(cells[q][r][s] for q in range(2)))
            )
    cube = pl.DataFrame(
        rows, schema=["cohort", "group_by", "group", "stage", "count"], orient="row"
    )
    public = suppress_cube(cube, min_cell)
    pairs = pl.DataFrame(
        [(f"q{q + 1}|r{r}", stage, cells[q][r][s]) for q in range(2) for r in range(r_n)
         for s, stage in enumerate(stages)],
        schema=["group", "stage", "count"], orient="row",
    )  # fmt: skip
    return TwoWay.of(pairs, stages, public)


def consistent_values(
    table: TwoWay, states: list[list[list[str]]], min_cell: int
) -> dict[tuple[int, int, int], set[int]]:
    """Every 2-row table consistent with everything published about it: the two-way
    display, the displays of every quartile's, every race's and the cohort's funnel, the
    sums and the nesting; the values each hidden cell takes in them."""
    cells = table.cells
    r_n, s_n = len(cells[0]), len(cells[0][0])
    assert table.row_states and table.column_states and table.total_states
    row_states, column_states, total_states = (
        table.row_states,
        table.column_states,
        table.total_states,
    )
    row_sums = [[sum(cells[q][r][s] for r in range(r_n)) for s in range(s_n)] for q in range(2)]
    col_sums = [[sum(cells[q][r][s] for q in range(2)) for s in range(s_n)] for r in range(r_n)]
    # Cells and totals are capped to keep the enumeration finite; the cap is well above
    # the true size, so it takes away only tables the display allows anyway (a cap at the
    # true size would hand the reader a hidden total).
    cap = sum(row_sums[q][0] for q in range(2)) + 3 * min_cell

    def stage_tables(s: int) -> list[tuple[tuple[int, ...], ...]]:
        def row_options(q: int) -> list[tuple[int, ...]]:
            domains = [
                [
                    v
                    for v in range(cap + 1)
                    if _allowed(states[q][r][s], cells[q][r][s], v, min_cell)
                ]
                for r in range(r_n)
            ]
            return [
                row
                for row in itertools.product(*domains)
                if _allowed(row_states[q][s], row_sums[q][s], sum(row), min_cell)
            ]

        total_shown = sum(row_sums[q][s] for q in range(2))
        found: list[tuple[tuple[int, ...], ...]] = []
        for table_s in itertools.product(row_options(0), row_options(1)):
            total = sum(map(sum, table_s))
            if total > cap or not _allowed(total_states[s], total_shown, total, min_cell):
                continue
            if all(
                _allowed(
                    column_states[r][s],
                    col_sums[r][s],
                    table_s[0][r] + table_s[1][r],
                    min_cell,
                )
                for r in range(r_n)
            ):
                found.append(table_s)
        return found

    seen: dict[tuple[int, int, int], set[int]] = {}
    per_stage = [stage_tables(s) for s in range(s_n)]
    for choice in itertools.product(*per_stage):
        nested = all(
            choice[s + 1][q][r] <= choice[s][q][r]
            for s in range(s_n - 1) for q in range(2) for r in range(r_n)
        )  # fmt: skip
        if not nested:
            continue
        for s, table_s in enumerate(choice):
            for q in range(2):
                for r in range(r_n):
                    if states[q][r][s] != "exact":
                        seen.setdefault((q, r, s), set()).add(table_s[q][r])
    return seen


@hypothesis_settings(max_examples=80, deadline=None)
@given(two_way_tables())
def test_no_hidden_two_way_cell_is_pinned_by_its_published_margins(case) -> None:
    """Every hidden count of 1..m-1 keeps at least two values consistent with every
    number published about the table (docs/access-rules.md, "Figures about groups")."""
    cells, min_cell = case
    table = published_table(cells, min_cell)
    states = protect_two_way(table, min_cell)
    for (q, r, s), values in consistent_values(table, states, min_cell).items():
        assert cells[q][r][s] in values
        pinned = len(values) == 1
        assert not (pinned and 1 <= cells[q][r][s] < min_cell), (q, r, s, values, states)


@hypothesis_settings(max_examples=60, deadline=None)
@given(two_way_tables())
def test_the_protected_two_way_rows_hold_no_hidden_count(case) -> None:
    cells, min_cell = case
    table = TwoWay(["q1", "q2"], [f"r{i}" for i in range(len(cells[0]))], ["a", "b"], cells)
    states = protect_two_way(table, min_cell)
    rows = two_way_rows(table, states, C, min_cell)
    for (display, shown, share), state in zip(
        rows.select("display", "shown", "share").rows(),
        [states[q][r][s] for q in range(2) for r in range(len(cells[0])) for s in range(2)],
        strict=True,
    ):
        if state != "exact":
            assert shown is None and share is None and not display.isdigit()
        else:
            assert int(display) == shown and shown >= min_cell


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=2, max_size=5),
    st.integers(2, 10),
    st.booleans(),
)
def test_no_hidden_timing_part_is_pinned_by_the_graduates(counts, min_cell, total_shown) -> None:
    """The reader knows the graduates exactly (more than the cube may show) and the
    display: every hidden part keeps at least two values."""
    split = pl.DataFrame({"group": [f"g{i}" for i in range(len(counts))], "count": counts})
    shown = protect_timing(split, total_shown, min_cell)
    total = sum(counts)
    boxes = []
    for display, value in shown.select("display", "shown").rows():
        if value is not None:
            boxes.append((value, value))
        else:
            boxes.append((0, min_cell - 1) if display.startswith("<") else (0, total))
    low, high = sum(b[0] for b in boxes), sum(b[1] for b in boxes)
    for i, (lo, hi) in enumerate(boxes):
        # One sum over boxes: the exact range of each part (an integer interval).
        least, most = max(lo, total - (high - hi)), min(hi, total - (low - lo))
        if shown["shown"][i] is None and total:
            assert least < most, (counts, shown)
    if not total_shown:
        assert shown["shown"].null_count() == shown.height
