"""The coverage page ("Where is help missing, and where is it doubled?", issue 14) as each
role sees it (AppTest, the small demo district of tests/app/conftest.py): leaders exact
figures, viewers, partners and meeting mode protected ones with no hidden count anywhere,
and roles without the right no figures.

What the page should show is read from `data_access.api` with the same user, so these
tests hold whatever the demo's figures are at this size.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from data_access import api
from domain.presentation import chart_text
from domain.vocabulary import FLAGS
from pages.coverage import QUESTION, URL
from tests.app.conftest import email
from tests.app.test_charts_readable import figures, font_sizes
from tests.app.test_pages_by_role import texts
from ui.navigation import PAGES_KEY
from ui.realignment import TITLE as REALIGNMENT_TITLE
from ui.referral_loop import TITLE as LOOP_TITLE

COUNTS = ("flagged", "served_addressing", "served_addressing_with_release", "served_other",
          "unserved", "duplicated")  # fmt: skip


def principal(who: str, *, meeting: bool = False) -> api.Principal:
    signed_in = api.sign_in(email(who), date.today())
    return signed_in.in_meeting_mode() if meeting else signed_in


def heatmap_cells(at: AppTest) -> list[str]:
    """Every text drawn in the heat map's cells."""
    (figure,) = figures(at)
    return [t for trace in figure["data"] for row in trace["text"] for t in row if t]


def test_a_leader_sees_the_question_the_exact_shares_and_every_count(
    page_as: Callable[..., AppTest],
) -> None:
    at = page_as("coverage.coverage_page", "leader")
    assert not at.exception, at.exception
    assert at.title[0].value == QUESTION
    view = api.coverage_view(principal("leader"))
    assert view.exact
    cells = heatmap_cells(at)
    shares = [r for r in view.coverage.schools.iter_rows(named=True) if r["flagged"]]
    assert len(cells) == view.coverage.schools.height
    assert {f"{r['unserved_share']:.0f}%" for r in shares} <= set(cells)
    table = next(f.value for f in at.dataframe if "Flagged" in f.value.columns)
    assert len(table) == len(FLAGS) * view.coverage.schools["school_id"].n_unique()
    assert "Download the figures (CSV, as `pathwise export coverage` writes them)" in [
        b.proto.label for b in at.get("download_button")
    ]


@pytest.mark.parametrize(
    ("who", "meeting"), [("viewer", False), ("staff.org02", False), ("leader", True)]
)
def test_protected_views_hold_no_hidden_count_in_any_cell_text_or_table(
    page_as: Callable[..., AppTest], who: str, meeting: bool
) -> None:
    at = page_as("coverage.coverage_page", who, meeting_mode=meeting)
    assert not at.exception, at.exception
    view = api.coverage_view(principal(who, meeting=meeting))
    exact = api.coverage_view(principal("leader"))
    assert not view.exact
    hidden = {
        (r["school_id"], r["need"], c)
        for r in view.coverage.schools.iter_rows(named=True)
        for c in COUNTS
        if r[c] is None
    }
    truth = {(r["school_id"], r["need"]): r for r in exact.coverage.schools.iter_rows(named=True)}
    table = next(f.value for f in at.dataframe if "Flagged" in f.value.columns)
    shown = {str(v) for column in table.columns for v in table[column].tolist()}
    cells = heatmap_cells(at)
    for school, need, count in hidden:
        row = view.coverage.schools.filter(school_id=school, need=need).row(0, named=True)
        assert row[f"{count}_display"] in ("*", f"<{view.min_cell}")
        assert row["unserved_share"] is None or row["unserved"] is not None
    for cell in cells:  # a share, a protection mark, or "none flagged"
        assert cell.endswith("%") or cell in ("*", f"<{view.min_cell}", "none flagged")
    shares = {f"{r['unserved_share']:.0f}%" for r in view.coverage.schools.iter_rows(named=True)
              if r["unserved_share"] is not None}  # fmt: skip
    assert {c for c in cells if c.endswith("%")} == shares
    exact_small = {str(r[c]) for r in truth.values() for c in COUNTS if 0 < r[c] < view.min_cell}
    table_counts = {v for v in shown if v.isdigit()}
    assert not (exact_small & table_counts), exact_small & table_counts
    (figure,) = figures(at)
    assert min(font_sizes(figure)) >= chart_text(meeting).smallest()


def test_a_partner_sees_only_duplications_naming_its_own_organisation(
    page_as: Callable[..., AppTest],
) -> None:
    at = page_as("coverage.coverage_page", "staff.org02")
    assert not at.exception, at.exception
    view = api.coverage_view(principal("staff.org02"))
    own = view.org_names["ORG02"]
    for frame in at.dataframe:
        if "Students served by both" in frame.value.columns:
            for _, row in frame.value.iterrows():
                assert own in (row["Organisation"], row["and organisation"])


@pytest.mark.parametrize("who", ["teacher.hs01", "student"])
def test_roles_without_the_right_get_no_figures(page_as: Callable[..., AppTest], who: str) -> None:
    at = page_as("coverage.coverage_page", who)
    assert not at.exception
    assert not figures(at) and not at.dataframe
    assert "need and coverage" in texts(at).lower()


@pytest.mark.parametrize(
    ("who", "meeting", "offered"),
    [("leader", False, True), ("viewer", False, True), ("counselor.hs01", False, True),
     ("staff.org02", False, True), ("teacher.hs01", False, False), ("leader", True, True),
     ("teacher.hs01", True, False)],
)  # fmt: skip
def test_the_navigation_offers_the_page_to_roles_with_coverage_and_in_meeting_mode(
    app_as: Callable[..., AppTest], who: str, meeting: bool, offered: bool
) -> None:
    at = app_as(who, meeting_mode=meeting)
    assert not at.exception, at.exception
    assert (URL in at.session_state[PAGES_KEY]) == offered


LOOP_COUNTS = ("made", "waiting", "answered", "accepted", "declined", "became_service")


def test_a_leader_sees_realignment_and_the_referral_loop_before_the_pages_action(
    page_as: Callable[..., AppTest],
) -> None:
    """The demo's capacity and referrals give both sections figures: the realignment's
    rows as `api.realignment` hands them to the leader, and the referral loop's."""
    at = page_as("coverage.coverage_page", "leader")
    assert not at.exception, at.exception
    headings = [s.value for s in at.subheader]
    assert headings.index(REALIGNMENT_TITLE) < headings.index(LOOP_TITLE)
    expected = api.realignment(principal("leader"))
    assert expected.height > 0, "the demo district has a realignment example"
    realigned = next(f.value for f in at.dataframe if "unmet_display" in f.value.columns)
    assert realigned["unmet_display"].tolist() == expected["unmet_display"].to_list()
    assert realigned["open_display"].tolist() == expected["open_display"].to_list()
    loop = api.referral_loop(principal("leader"))
    assert loop.height > 0, "the demo district has referrals in every state"
    table = next(f.value for f in at.dataframe if "became_service" in f.value.columns)
    assert table["made"].astype(str).tolist() == [str(v) for v in loop["made"].to_list()]
    # The page's own action comes last, after the sections' own.
    assert at.success[-1].value.startswith("**Next step.** Take the biggest gap")
    steps = [s.value for s in at.success if s.value.startswith("**Next step.**")]
    assert len(steps) == 1, steps


@pytest.mark.parametrize("who", ["leader", "viewer"])
def test_in_meeting_mode_realignment_and_the_referral_loop_show_nothing_exact_below_min_cell(
    page_as: Callable[..., AppTest], who: str
) -> None:
    at = page_as("coverage.coverage_page", who, meeting_mode=True)
    assert not at.exception, at.exception
    min_cell = api.coverage_view(principal(who, meeting=True)).min_cell
    marks = ("*", f"<{min_cell}")
    expected = api.realignment(principal(who), meeting=True)
    realigned = next((f.value for f in at.dataframe if "unmet_display" in f.value.columns), None)
    if expected.height == 0:  # at this size every uncovered need may be hidden and covered
        assert realigned is None and any("No school has more" in c.value for c in at.caption)
        shown_unmet: list[str] = []
    else:
        assert realigned is not None
        shown_unmet = realigned["unmet_display"].tolist()
    for shown in shown_unmet:
        assert shown in marks or int(shown) >= min_cell, shown
    page = api.coverage_view(principal(who, meeting=True)).coverage.schools
    cells = {(r["school_id"], r["need"]): r for r in page.iter_rows(named=True)}
    for row in expected.iter_rows(named=True):  # the coverage page's figures, nothing more
        cell = cells[(row["school_id"], row["need"])]
        if row["unmet"] is not None:
            assert row["unmet"] == cell["flagged"] - cell["served_addressing"]
    table = next(f.value for f in at.dataframe if "became_service" in f.value.columns)
    assert len(table) > 0
    for column in LOOP_COUNTS:
        for shown in table[column].astype(str).tolist():
            assert shown in marks or int(shown) >= min_cell, (column, shown)
