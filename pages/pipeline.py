"""Pipeline: where do our students leave the path from ninth grade to college?"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from data_access import api
from domain.presentation import LINE_STYLES, SHORT_STAGE_LABELS, chart_text
from domain.vocabulary import GROUP_FIELDS, PIPELINE_STAGES
from indicators.definitions import small_counts_rule
from indicators.observable import NOT_OBSERVED, NOT_OBSERVED_WORDS, NOT_YET, not_yet_words
from indicators.settings import load_settings
from indicators.shown import biggest_leak_shown, gaps_shown
from ui.components import (
    PALETTE,
    STAGE_LABELS,
    figure_layout,
    funnel_figure,
    indicators_lag_notice,
    next_step,
    page_header,
)
from ui.fafsa_season import fafsa_season_section
from ui.figure_memo import memo_figure
from ui.pipeline_diagnostics import diagnostics_section
from ui.session import require_principal
from ui.text import md, plain_html

GROUP_LABELS = {
    None: "All students",
    "school_id": "School",
    "race_ethnicity": "Race/ethnicity",
    "gender": "Gender",
    "english_learner": "English learner",
    "disability": "Disability",
    "econ_disadvantaged": "Economically disadvantaged",
}


def _in_progress(trend: pl.DataFrame) -> set[int]:
    """Classes with a stage not observed yet (indicators.observable)."""
    return set(trend.filter(pl.col("display") == NOT_YET)["cohort"].to_list())


def _default_cohort(trend: pl.DataFrame, cohorts: list[int]) -> int:
    """The newest class with every stage observed (not yet, nor without college data);
    without one, the class with the most stages observed (the newest on a tie)."""
    observed = {
        int(cohort): int(count)
        for cohort, count in trend.group_by("cohort")
        .agg((~pl.col("display").is_in([NOT_YET, NOT_OBSERVED])).sum())
        .iter_rows()
    }
    return max(cohorts, key=lambda c: (observed.get(c, 0), c))


def _cohort_label(cohort: int, in_progress: set[int]) -> str:
    return f"Class of {cohort} — in progress" if cohort in in_progress else f"Class of {cohort}"


def _labels(stages: list[str], labels: dict[str, str] = STAGE_LABELS) -> list[str]:
    return [labels.get(s, s) for s in stages]


@memo_figure
def _funnel(
    rows: pl.DataFrame,
    today: date,
    title: str | None = None,
    *,
    meeting: bool = False,
    compact: bool = False,
) -> go.Figure:
    """The funnel of one group; `compact` for the small multiples (short stage names)."""
    stages = rows["stage"].to_list()
    return funnel_figure(
        stages,
        _labels(stages, SHORT_STAGE_LABELS if compact else STAGE_LABELS),
        rows["shown"].to_list(),
        rows["display"].to_list(),
        rows["share"].to_list(),
        title=title,
        not_yet=[
            not_yet_words(stage, int(cohort), stages, today)
            if display == NOT_YET
            else NOT_OBSERVED_WORDS
            if display == NOT_OBSERVED
            else None
            for stage, cohort, display in rows.select("stage", "cohort", "display").iter_rows()
        ],
        meeting=meeting,
        compact=compact,
        height=360 if compact else None,
    )


def pipeline_page() -> None:
    principal = require_principal()
    page_header(
        "Where do our students leave the path?",
        "Each cohort from entering grade 9 to a second year of college; every stage counts only "
        "students who reached all the earlier ones.",
    )
    indicators_lag_notice()
    if not principal.exact_aggregates:
        st.caption(f"Figures are protected for privacy: {small_counts_rule(load_settings())}.")
    cohorts = api.pipeline_cohorts(principal)
    if not cohorts:
        st.info("No pipeline yet: load enrollments and outcomes, or build the demo district.")
        return
    trend = api.pipeline_trend(principal)
    left, right = st.columns(2)
    default = _default_cohort(trend, cohorts)
    in_progress = _in_progress(trend)
    cohort = left.selectbox(
        "Cohort",
        cohorts,
        index=cohorts.index(default),
        format_func=lambda c: _cohort_label(int(c), in_progress),
    )
    by = right.selectbox(
        "Compare by", [None, *GROUP_FIELDS], format_func=lambda f: GROUP_LABELS.get(f, str(f))
    )

    view = api.pipeline(principal, int(cohort))
    all_rows = view.rows
    meeting = principal.meeting_mode
    st.plotly_chart(
        _funnel(
            all_rows, principal.today, title=f"Class of {cohort}: all students", meeting=meeting
        ),
        width="stretch",
    )
    st.download_button(
        "Download a one-page report (PDF)",
        lambda: api.pipeline_report(principal, int(cohort), by, GROUP_LABELS.get(by)),
        file_name=f"pathwise-pipeline-class-of-{cohort}.pdf",
        mime="application/pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
    )

    leak = biggest_leak_shown(all_rows)
    if leak is not None and leak["lost"]:
        st.markdown(
            f"### Biggest leak: **{leak['lost']:,} students, {leak['share_lost']:.0f}%**, left between "
            f"“{STAGE_LABELS[str(leak['from_stage'])]}” and “{STAGE_LABELS[str(leak['to_stage'])]}”."
        )

    if by is not None:
        _groups(principal, int(cohort), by, all_rows)

    _trend(trend, meeting=meeting)
    fafsa_season_section(principal)
    _on_track(principal, int(cohort))
    diagnostics_section(principal, int(cohort))
    _coverage(principal)
    next_step(
        "Take the biggest leak to your work group: which partners act at that step, and which "
        "students are at it now? The “Who needs help” list shows them, filtered by flag."
    )


def _groups(principal: api.Principal, cohort: int, by: str, totals: pl.DataFrame) -> None:
    view = api.pipeline(principal, cohort, by)
    rows = view.rows
    if rows.height == 0:
        return
    names = api.school_names() if by == "school_id" else {}
    groups = rows["group"].unique(maintain_order=True).to_list()
    st.subheader(f"By {GROUP_LABELS[by].lower()}")
    # Two panels a row: at 1280x720 a third of the page is too narrow for a stage name,
    # a bar and its value label at projector text sizes.
    columns = st.columns(min(2, len(groups)))
    for i, group in enumerate(groups):
        part = rows.filter(pl.col("group") == group)
        title = plain_html(names.get(group, group))
        with columns[i % len(columns)]:
            fig = _funnel(
                part, principal.today, title=title, meeting=principal.meeting_mode, compact=True
            )
            st.plotly_chart(fig, width="stretch")
    gaps = gaps_shown(rows.select("group", "stage", "shown"), totals.select("stage", "shown"))
    if gaps.height:
        worst = (
            gaps.sort("gap_points")
            .head(5)
            .with_columns(
                pl.col("group").replace(names),
                step=pl.col("from_stage").replace(STAGE_LABELS)
                + " → "
                + pl.col("to_stage").replace(STAGE_LABELS),
            )
        )
        st.markdown(
            "**Largest equity gaps** (a group's step-to-step rate against the rest of the cohort)"
        )
        st.dataframe(
            worst.select("group", "step", "group_rate", "rest_rate", "gap_points"),
            hide_index=True,
            width="stretch",
            column_config={
                "group": st.column_config.TextColumn("Group"),
                "step": st.column_config.TextColumn("Step"),
                "group_rate": st.column_config.NumberColumn("Group rate", format="%.1f%%"),
                "rest_rate": st.column_config.NumberColumn("Rest of cohort", format="%.1f%%"),
                "gap_points": st.column_config.NumberColumn("Gap (points)", format="%+.1f"),
            },
        )


def _trend(trend: pl.DataFrame, *, meeting: bool = False) -> None:
    st.subheader("Cohort over cohort")
    shares = trend.filter(pl.col("share").is_not_null() & (pl.col("stage") != PIPELINE_STAGES[0]))
    if shares.height == 0:
        st.caption("Not enough figures can be shown.")
        return
    st.plotly_chart(_trend_figure(shares, meeting=meeting), width="stretch")


@memo_figure
def _trend_figure(shares: pl.DataFrame, *, meeting: bool) -> go.Figure:
    """Each stage's share of the entering class, one line per stage across cohorts."""
    fig = go.Figure()
    for i, stage in enumerate(PIPELINE_STAGES[1:]):
        part = shares.filter(pl.col("stage") == stage).sort("cohort")
        if part.height:
            fig.add_scatter(
                x=part["cohort"], y=part["share"], mode="lines+markers", name=STAGE_LABELS[stage],
                line={"width": 4, "color": PALETTE[i % len(PALETTE)], "dash": LINE_STYLES[i][0]},
                marker={"size": 12, "symbol": LINE_STYLES[i][1]},
                hovertemplate="Class of %{x}: %{y:.1f}%<extra>" + STAGE_LABELS[stage] + "</extra>",
            )  # fmt: skip
    fig.update_yaxes(title="% of entering class", ticksuffix="%", rangemode="tozero")
    fig.update_xaxes(title="Class of", dtick=1)
    return figure_layout(fig, height=460 + 2 * chart_text(meeting).legend, meeting=meeting)


def _on_track(principal: api.Principal, cohort: int) -> None:
    view = (
        api.pipeline(principal, cohort, "on_track_9")
        if "on_track_9" in api.PIPELINE_GROUPINGS
        else None
    )
    if view is None or view.rows.height == 0:
        return
    st.subheader("On track in grade 9, and graduation")
    stages = view.rows["stage"].unique(maintain_order=True).to_list()
    rows = view.rows.filter(pl.col("stage").is_in(["entered_grade_9", "graduated"]))
    cells = []
    for group, label in (
        ("on_track", "On track at the end of grade 9"),
        ("off_track", "Not on track"),
    ):
        part = rows.filter(pl.col("group") == group)
        graduated = part.filter(pl.col("stage") == "graduated")
        if graduated.height:
            row = graduated.row(0, named=True)
            display = row["display"]
            if display == NOT_YET:
                display = not_yet_words("graduated", cohort, stages, principal.today)
            cells.append((label, row["share"], display))
    columns = st.columns(len(cells) or 1)
    for column, (label, share, display) in zip(columns, cells, strict=False):
        column.metric(label, f"{share:.0f}% graduated" if share is not None else display)


def _coverage(principal: api.Principal) -> None:
    coverage = api.consent_coverage(principal)
    total = coverage.filter(pl.col("group") == "all")
    if total.height < 2:
        return
    flagged = total.filter(pl.col("stage") == "flagged").row(0, named=True)
    covered = total.filter(pl.col("stage") == "covered").row(0, named=True)
    st.subheader("Are partners able to help the students who need it?")
    if covered["share"] is not None:
        st.metric(
            "Flagged students with a partner serving them under an active release",
            f"{covered['display']} of {flagged['display']}",
            help="Students enrolled now with at least one early-warning flag, and how many have an active "
            "parent release with an organisation that is serving them.",
        )
        st.progress(min(1.0, covered["share"] / 100), text=f"{covered['share']:.1f}% covered")
    else:
        st.caption(
            f"Flagged students: {md(flagged['display'])}; covered: {md(covered['display'])}."
        )
