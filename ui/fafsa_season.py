"""The pipeline page's FAFSA season section: are this year's seniors completing the FAFSA
as fast as earlier classes did by the same week? (NCAN FAFSA Tracker practice;
docs/indicators.md, "The FAFSA season".)

The figures come from `api.fafsa_season`, exact for leaders and protected (shares only,
carried forward until enough more students complete) for everyone else; nothing here
sees a count a protected viewer may not see.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from data_access import api
from indicators.fafsa_season import ALL, gaps_at_week, season_end
from ui.components import PALETTE, figure_layout
from ui.figure_memo import memo_figure
from ui.text import md, plain_html

DISTRICT_LABEL = "District (all schools)"


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"


def _percent(share: float | None) -> str:
    return "not shown" if share is None else f"{share:.0f}%"


def _standing_sentence(view: api.FafsaSeason) -> str | None:
    """'FAFSA completed by Nov 30: 18% this year, 15% last year at the same date.'"""
    district = view.standing.filter(pl.col("group") == ALL)
    now = district.filter(pl.col("class_of") == view.class_of)
    if now.height == 0:
        return None
    before = district.filter(pl.col("class_of") == view.class_of - 1)
    row = now.row(0, named=True)
    words = f"FAFSA completed by {_day(row['day'])}: {_percent(row['share'])} this year"
    if before.height:
        words += f", {_percent(before['share'][0])} last year at the same date"
    return words + "."


def _gap_sentence(view: api.FafsaSeason, week: int, names: dict[str, str]) -> str | None:
    """The school furthest from last year at this week, in words."""
    gaps = gaps_at_week(view.series, view.class_of, week)
    schools = gaps.filter(pl.col("group") != ALL)
    if schools.height == 0:
        return None
    worst = schools.row(0, named=True)
    name = names.get(worst["group"], worst["group"])
    points = worst["gap_points"]
    if points < 0:
        how = f"**{-points:.0f} points behind** last year"
    elif points > 0:
        how = f"{points:.0f} points ahead of last year (every school is ahead or level)"
    else:
        how = "level with last year (no school is behind)"
    return f"{md(name)} is {how} at this week ({worst['share']:.0f}% against {worst['last_year']:.0f}%)."


@memo_figure
def _figure(view: api.FafsaSeason, group: str, title: str, *, meeting: bool = False) -> go.Figure:
    rows = view.series.filter(pl.col("group") == group)
    # The x axis is this season's calendar: week k of every class sits at this class's
    # week k (the same point of the season).
    this_season = season_end(view.class_of)
    fig = go.Figure()
    classes = sorted(rows["class_of"].unique().to_list(), reverse=True)
    for i, class_of in enumerate(classes):
        part = rows.filter(pl.col("class_of") == class_of).sort("week")
        shift = view.class_of - class_of
        x = [_same_day(d, d.year + shift) for d in part["week_end"].to_list()]
        current = class_of == view.class_of
        fig.add_scatter(
            x=x,
            y=part["share"].to_list(),
            mode="lines+markers" if current else "lines",
            line_shape="linear" if view.exact else "hv",
            name=f"Class of {class_of}" + (" (this year)" if current else ""),
            line={
                "width": 5 if current else 2.5,
                "color": PALETTE[i % len(PALETTE)],
                "dash": "solid" if current else ("dot", "dash", "dashdot", "longdash")[i % 4],
            },
            marker={"size": 9},
            connectgaps=False,
            hovertemplate=(
                f"Class of {class_of}, week ending %{{x|%b %d}}: %{{y:.1f}}%<extra></extra>"
            ),
        )
    fig.update_yaxes(
        title="% of seniors with a completed FAFSA", ticksuffix="%", rangemode="tozero"
    )
    fig.update_xaxes(
        title=f"Week of the season (dates of the class of {view.class_of})",
        tickformat="%b %d",
        range=[date(this_season.year - 1, 9, 28), this_season],
    )
    fig = figure_layout(fig, height=460, title=plain_html(title), meeting=meeting)
    fig.update_layout(margin={"l": 10, "r": 20, "t": 110, "b": 10})
    return fig


def _same_day(day: date, year: int) -> date:
    """`day` in another year (Feb 29 becomes Feb 28)."""
    if (day.month, day.day) == (2, 29):
        return day.replace(year=year, day=28)
    return day.replace(year=year)


def fafsa_season_section(principal: api.Principal) -> None:
    """Draw the section (called by the pipeline page)."""
    view = api.fafsa_season(principal)
    st.subheader("Are this year's seniors completing the FAFSA on pace?")
    if view.series.height == 0:
        st.caption("No seniors with FAFSA records yet.")
        return
    if not view.in_season:
        st.info(
            f"The FAFSA season runs from October 1 to June 30. This is the last season, the "
            f"class of {view.class_of}'s, which ended on June 30, {view.class_of}."
        )
    sentence = _standing_sentence(view)
    if sentence:
        st.markdown(f"#### {sentence}")
    names = api.school_names()
    groups = [ALL, *sorted(g for g in view.series["group"].unique().to_list() if g != ALL)]
    labels = {g: DISTRICT_LABEL if g == ALL else names.get(g, g) for g in groups}
    group = st.selectbox(
        "FAFSA season for", groups, format_func=lambda g: labels[g], key="fafsa_season_group"
    )
    current = view.series.filter(pl.col("class_of") == view.class_of)
    week = current["week"].max()
    title = f"{labels[group]}: seniors with a completed FAFSA"
    st.plotly_chart(_figure(view, group, title, meeting=principal.meeting_mode), width="stretch")
    if week is not None:
        gap = _gap_sentence(view, int(week), names)  # type: ignore[arg-type]
        if gap:
            st.markdown(gap)
    if not view.exact:
        st.caption(
            f"Protected for privacy: a line shows a share only where at least "
            f"{view.min_cell} seniors are counted on each side, and is updated when at least "
            f"{view.min_cell} more students complete (until then it keeps its last value); "
            "the district line adds up what the school lines show."
        )
    st.caption(
        "Seniors: the class's cohort, less documented transfers out; a senior counts from "
        "the date their FAFSA status became “completed” (the latest status on file)."
    )
