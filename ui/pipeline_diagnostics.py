"""The college-going diagnostic on the pipeline page: four questions, one function each
(docs/indicators.md, "The college-going diagnostic"; Strategic Data Project, College-Going
Pathways). Every figure is read from the stored cube through `data_access.api`, exact
for leaders and protected for everyone else; a hidden share is never drawn, only named.
"""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from data_access import api
from domain.vocabulary import PIPELINE_STAGES, RACE_ETHNICITIES, UNKNOWN_GROUP
from indicators.diagnostics import (
    COLLEGE_TIMING_GROUPING,
    NO_SCORE,
    NOT_ENROLLED,
    NOT_OBSERVED,
    NOT_YET,
    PAIR_SEPARATOR,
    PRIOR_ACHIEVEMENT_GROUPING,
    PRIOR_ACHIEVEMENT_RACE_GROUPING,
    QUARTILES,
    delayed_deadline,
    school_rates,
    seamless_deadline,
)
from indicators.observable import NOT_OBSERVED_WORDS
from indicators.on_track import ON_TRACK_GROUPING
from ui.components import PALETTE, STAGE_LABELS, VALUE_HEADROOM, figure_layout
from ui.figure_memo import memo_figure
from ui.text import md, plain_html

#: Marks this module's figures in their JSON (layout.meta), for tests and tooling.
FIGURE_META = "college-going-diagnostic"
SDP = "Strategic Data Project (Harvard CEPR), College-Going Pathways"
LOWEST, HIGHEST, OTHER = "#D55E00", "#009E73", "#0072B2"  # Okabe-Ito
QUARTILE_LABELS = {
    "q1": "Lowest quarter",
    "q2": "Second quarter",
    "q3": "Third quarter",
    "q4": "Highest quarter",
    NO_SCORE: "No test score",
}
RACE_LABELS = {
    "hispanic": "Hispanic",
    "black": "Black",
    "white": "White",
    "asian": "Asian",
    "native_american": "Native American",
    "pacific_islander": "Pacific Islander",
    "two_or_more": "Two or more",
    UNKNOWN_GROUP: "Unknown",
}
ON_TRACK_LABELS = {"on_track": "On track", "off_track": "Off track", UNKNOWN_GROUP: "Unknown"}
LEVEL_LABELS = {"4yr": "4-year", "2yr": "2-year", "less_than_2yr": "less than 2-year"}


def diagnostics_section(principal: api.Principal, cohort: int) -> None:
    """The four views for one cohort (called from pages/pipeline.py)."""
    st.header("The college-going diagnostic")
    which_schools_leak(principal, cohort)
    does_prior_achievement_explain(principal, cohort)
    seamless_or_delayed(principal, cohort)
    on_track_and_after(principal, cohort)


def _tagged(fig: go.Figure) -> go.Figure:
    return fig.update_layout(meta=FIGURE_META)


def _hidden_note(names: list[str]) -> None:
    if names:
        st.caption("Not shown to protect privacy (too few students): " + md(", ".join(names)) + ".")


#: Displays that are no privacy suppression: the stage has no figure yet, or no data.
_UNOBSERVED = (NOT_YET, NOT_OBSERVED)


def _not_observed_note(rows: pl.DataFrame) -> None:
    """Says that the college stages of the class are not observed, when they are."""
    if "display" in rows.columns and (rows["display"] == NOT_OBSERVED).any():
        st.caption(f"College stages: {NOT_OBSERVED_WORDS}.")


def which_schools_leak(principal: api.Principal, cohort: int) -> None:
    """SDP chart A1: each school's share at the chosen step, district average marked."""
    st.subheader("Which schools leak most?")
    rows = api.pipeline(principal, cohort, "school_id").rows
    if rows.height == 0:
        st.caption("No school figures for this class yet.")
        return
    stages = [s for s in PIPELINE_STAGES[1:] if s in set(rows["stage"].to_list())]
    stage = st.selectbox(
        "Sort schools by the share that reached",
        stages,
        index=stages.index("graduated") if "graduated" in stages else 0,
        format_func=lambda s: STAGE_LABELS.get(s, s),
        key="diagnostic_school_step",
    )
    district = api.pipeline(principal, cohort).rows
    names = api.school_names()
    rates = school_rates(rows, district, str(stage))
    shown = rates.filter(pl.col("share").is_not_null())
    labels = [plain_html(str(names.get(g, g))) for g in shown["group"].to_list()]
    average = rates["district_share"][0] if rates.height else None
    st.plotly_chart(
        _leak_figure(shown, labels, average, str(stage), meeting=principal.meeting_mode),
        width="stretch",
    )
    _hidden_note(
        [f"{names.get(g, g)} ({d})" for g, d in rates.filter(pl.col("share").is_null()
         & ~pl.col("display").is_in(_UNOBSERVED)).select("group", "display").rows()]
    )  # fmt: skip
    _not_observed_note(rates)
    st.caption(
        "Counts students of the class who entered grade 9, by their current or last school; "
        "each bar is the share who reached the chosen step (nested: every earlier step too). "
        f"Lowest school in vermillion, highest in green. Source: {SDP}, "
        "“Overall Progression” by high school (chart A1)."
    )


@memo_figure
def _leak_figure(
    shown: pl.DataFrame, labels: list[str], average: float | None, stage: str, *, meeting: bool
) -> go.Figure:
    """Chart A1: one bar per school at `stage`, lowest and highest marked, the district
    average as a dashed line."""
    colours = [
        LOWEST if mark == "lowest" else HIGHEST if mark == "highest" else OTHER
        for mark in shown["mark"].to_list()
    ]
    fig = go.Figure(
        go.Bar(
            y=labels, x=shown["share"].to_list(), orientation="h", marker_color=colours,
            text=[f"{v:.1f}%" + (f" ({m})" if m else "") for v, m in shown.select("share", "mark").rows()],
            textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
        )
    )  # fmt: skip
    if average is not None:
        fig.add_vline(x=average, line_dash="dash", line_color="#000000", line_width=2)
        fig.add_annotation(
            x=average, y=1.02, yref="paper", text=f"District {average:.1f}%", showarrow=False,
            yanchor="bottom",
        )  # fmt: skip
    fig.update_xaxes(title=f"% of grade-9 entrants who {STAGE_LABELS[stage].lower()}",
                     range=[0, 100 / (1 - VALUE_HEADROOM)], ticksuffix="%")  # fmt: skip
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=labels)
    return _tagged(
        figure_layout(fig, height=max(320, 60 * len(labels) + 120), meeting=meeting).update_layout(
            margin={"t": 80}  # room for the district average's label
        )
    )


@memo_figure
def _bars_figure(
    rows: pl.DataFrame,
    groups: list[str],
    labels: dict[str, str],
    x_of: str,
    categories: list[str],
    x_label: dict[str, str],
    *,
    y_title: str,
    height: int,
    meeting: bool,
    title: str | None = None,
) -> go.Figure:
    """Grouped bars (`_grouped_bars`) framed for the page."""
    fig = _grouped_bars(rows, groups, labels, x_of, categories, x_label)
    fig.update_yaxes(title=y_title)
    return _tagged(figure_layout(fig, height=height, title=title, meeting=meeting))


def _grouped_bars(rows: pl.DataFrame, groups: list[str], labels: dict[str, str], x_of: str,
                  categories: list[str], x_label: dict[str, str]) -> go.Figure:  # fmt: skip
    fig = go.Figure()
    for i, group in enumerate(groups):
        part = rows.filter(pl.col("group") == group)
        values = dict(part.select(x_of, "share").rows())
        if not any(values.get(c) is not None for c in categories):
            continue
        fig.add_bar(
            name=labels.get(group, group), x=[x_label.get(c, c) for c in categories],
            y=[values.get(c) for c in categories], marker_color=PALETTE[i % len(PALETTE)],
            text=[f"{v:.1f}%" if v is not None else "" for v in (values.get(c) for c in categories)],
            textposition="outside", cliponaxis=False,
        )  # fmt: skip
    # 100% is the longest bar: the axis leaves VALUE_HEADROOM past it for the label.
    fig.update_yaxes(range=[0, 100 / (1 - VALUE_HEADROOM)], ticksuffix="%", automargin=True)
    fig.update_xaxes(automargin=True)
    fig.update_layout(barmode="group")
    return fig


def does_prior_achievement_explain(principal: api.Principal, cohort: int) -> None:
    """SDP C and D charts: the pipeline by prior-achievement quartile, then graduation and
    college enrollment by quartile and race."""
    st.subheader("Does prior achievement explain the gaps?")
    rows = api.pipeline(principal, cohort, PRIOR_ACHIEVEMENT_GROUPING).rows
    if rows.height == 0:
        return
    stages = rows["stage"].unique(maintain_order=True).to_list()
    groups = rows["group"].unique(maintain_order=True).to_list()
    fig = _bars_figure(rows, groups, QUARTILE_LABELS, "stage", stages, STAGE_LABELS,
                       y_title="% of grade-9 entrants", height=480,
                       meeting=principal.meeting_mode)  # fmt: skip
    st.plotly_chart(fig, width="stretch")
    hidden = rows.filter(
        pl.col("share").is_null()
        & (pl.col("stage") != stages[0])
        & ~pl.col("display").is_in(_UNOBSERVED)
    )
    _not_observed_note(rows)
    _hidden_note(
        [f"{QUARTILE_LABELS.get(g, g)}, {STAGE_LABELS.get(s, s).lower()}"
         for g, s in hidden.select("group", "stage").unique(maintain_order=True).rows()]
    )  # fmt: skip
    pairs = api.pipeline(principal, cohort, PRIOR_ACHIEVEMENT_RACE_GROUPING).rows
    if not principal.exact_aggregates:
        st.caption(
            "Graduation and college enrollment by prior achievement *and* race are shown "
            "with exact figures only (district leaders): the table adds up to figures "
            "published above, and its small cells cannot yet be protected with certainty."
        )
    if pairs.height:
        split = pairs.with_columns(
            pl.col("group").str.split_exact(PAIR_SEPARATOR, 1).struct.rename_fields(["q", "r"])
        ).unnest("group")
        quartiles = [q for q in (*QUARTILES, NO_SCORE) if q in set(split["q"].to_list())]
        races = [r for r in (*RACE_ETHNICITIES, UNKNOWN_GROUP) if r in set(split["r"].to_list())]
        for stage in ("graduated", "enrolled_postsecondary"):
            part = split.filter(pl.col("stage") == stage).rename({"r": "group"})
            if part.height == 0:
                continue
            fig = _bars_figure(part, races, RACE_LABELS, "q", quartiles, QUARTILE_LABELS,
                               y_title=f"% {STAGE_LABELS[stage].lower()}", height=480,
                               meeting=principal.meeting_mode,
                               title=f"{STAGE_LABELS[stage]} by prior achievement and race")  # fmt: skip
            st.plotly_chart(fig, width="stretch")
    st.caption(
        "Quarters of the class by the student's earliest state test score in high school "
        "(math, or ELA without a math score), ranked within the class and test; students "
        "without a score are their own group. Shares are of the group's grade-9 entrants; a "
        f"bar missing was too few students to show. Source: {SDP}, graduation and "
        "college enrollment rates by achievement quartile (C and D charts)."
    )


def _timing_label(group: str, cohort: int) -> str:
    if group == NOT_YET:
        known_from = delayed_deadline(cohort) + timedelta(days=1)
        return f"Not yet known (from {known_from:%b %-d, %Y})"
    if group == NOT_ENROLLED:
        return "Not enrolled within two years"
    when, _, level = group.partition("_")
    return f"{when.capitalize()}, {LEVEL_LABELS.get(level, 'level not reported')}"


@memo_figure
def _timing_figure(shown: pl.DataFrame, labels: list[str], *, meeting: bool) -> go.Figure:
    """Charts D1/D2: graduates by when and where they first enrolled."""
    fig = go.Figure(
        go.Bar(
            y=labels, x=shown["share"].to_list(), orientation="h", marker_color=OTHER,
            text=[f"{v:.1f}% ({d})" for v, d in shown.select("share", "display").rows()],
            textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(title="% of graduates", range=[0, 125], ticksuffix="%")
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=labels[::-1])
    return _tagged(figure_layout(fig, height=max(300, 50 * len(labels) + 120), meeting=meeting))


def seamless_or_delayed(principal: api.Principal, cohort: int) -> None:
    """SDP D1/D2: graduates by when (seamless, delayed) and where they first enrolled."""
    st.subheader("Seamless or delayed, two-year or four-year?")
    rows = api.pipeline(principal, cohort, COLLEGE_TIMING_GROUPING).rows
    if rows.height == 0:
        return
    first_fall = seamless_deadline(cohort)
    if rows["group"].to_list() == [NOT_YET]:
        st.info(f"Not yet: the first fall after graduation ends {first_fall:%b %-d, %Y}.")
        return
    if rows["group"].to_list() == [NOT_OBSERVED]:
        st.info(f"College enrollment: {NOT_OBSERVED_WORDS}.")
        return
    shown = rows.filter(pl.col("share").is_not_null())
    labels = [_timing_label(g, cohort) for g in shown["group"].to_list()]
    st.plotly_chart(_timing_figure(shown, labels, meeting=principal.meeting_mode), width="stretch")
    _hidden_note(
        [f"{_timing_label(g, cohort)} ({d})"
         for g, d in rows.filter(pl.col("share").is_null()).select("group", "display").rows()]
    )  # fmt: skip
    st.caption(
        f"Counts the class's on-time graduates: seamless if their first college enrollment "
        f"started by {first_fall:%b %-d, %Y}, delayed if later but within two years "
        f"(by {delayed_deadline(cohort):%b %-d, %Y}), by the college's level; delayed "
        f"enrollment is not yet known before then. Source: "
        f"National Student Clearinghouse records in the outcomes file; {SDP}, “Seamless and "
        "Delayed College Enrollment Rates” (D1/D2)."
    )


def on_track_and_after(principal: api.Principal, cohort: int) -> None:
    """SDP A4: every later stage for students on track at the end of grade 9 and not."""
    st.subheader("On track in grade 9, and what follows")
    rows = api.pipeline(principal, cohort, ON_TRACK_GROUPING).rows
    if rows.height == 0:
        return
    stages = rows["stage"].unique(maintain_order=True).to_list()[1:]
    groups = rows["group"].unique(maintain_order=True).to_list()
    fig = _bars_figure(rows, groups, ON_TRACK_LABELS, "stage", stages, STAGE_LABELS,
                       y_title="% of grade-9 entrants", height=460,
                       meeting=principal.meeting_mode)  # fmt: skip
    st.plotly_chart(fig, width="stretch")
    hidden = rows.filter(pl.col("share").is_null() & pl.col("stage").is_in(stages))
    _hidden_note(
        [f"{ON_TRACK_LABELS.get(g, g)}, {STAGE_LABELS.get(s, s).lower()}"
         for g, s in hidden.select("group", "stage").rows()]
    )  # fmt: skip
    st.caption(
        "Students who entered grade 9, by whether they were on track at the end of it "
        "(the UChicago Consortium freshman on-track rule, as in the on-track split above), and "
        "the share who reached each later step. Source: "
        f"{SDP}, “Progression by Students' On-Track Status After Ninth Grade” (A4)."
    )
