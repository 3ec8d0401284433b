"""Where is help missing, and where is it doubled? Need and coverage by school (issue 14).

The biggest gap in words, the heat map of schools x needs (the share of flagged students
served by nobody) and the table behind it, where open partner capacity could meet unmet
need (ui/realignment.py), the students two partners serve with the same service type,
tier against support, whether referrals led to help (ui/referral_loop.py), and an action.
Each section's heading is the question it answers. The figures come from
`api.coverage_view`, which applies the policy: exact for leaders and stewards; protected
for work-group members, counselors and partner staff (their own organisation's
duplications only), and for everyone in meeting mode.
"""

from __future__ import annotations

import streamlit as st

from data_access import api
from domain.school_year import label as school_year_label
from indicators.definitions import flag_name, small_counts_rule
from indicators.settings import load_settings
from ui.components import indicators_lag_notice, next_step, page_header
from ui.coverage import (
    biggest_gap,
    coverage_table,
    duplication_sentences,
    duplication_table,
    heatmap_figure,
    service_words,
    tier_sentence,
    tier_table,
)
from ui.navigation import PAGES_KEY
from ui.realignment import render_realignment
from ui.referral_loop import render_referral_loop
from ui.session import require_principal
from ui.text import md

QUESTION = "Where is help missing, and where is it doubled?"
HEATMAP_TITLE = "What share of flagged students does nobody serve?"
URL = "coverage"
#: The url path of the at-risk list (app.py), where the action leads.
AT_RISK_URL = "at-risk"
SOURCE = (
    "Source: the district's enrolment, attendance, marks, tests and FAFSA files (the flags) "
    "and the partners' service and release files"
)


def _counted(view: api.CoverageView) -> str:
    """What every figure counts, and when it was computed."""
    if view.as_of is None or view.school_year is None:
        return SOURCE + "."
    return (
        f"Students enrolled in {school_year_label(view.school_year)}, with services and "
        f"releases active on {view.as_of:%B %d, %Y} (the last refresh). {SOURCE}."
    )


def coverage_page() -> None:
    """The coverage page (see the module's docstring)."""
    principal = require_principal()
    page_header(
        QUESTION,
        "For each school and need: how many flagged students a partner serves for that "
        "need, for something else, or nobody serves; and where two partners serve the same "
        "students with the same kind of help, so they can coordinate.",
    )
    indicators_lag_notice()
    view = api.coverage_view(principal, meeting=principal.meeting_mode)
    settings = load_settings()
    if not view.exact:
        st.caption(
            f"Figures are protected for privacy: {small_counts_rule(settings).rstrip('.')}. "
            "A share is shown only beside an exact count."
        )
    if view.coverage.schools.height == 0:
        st.info(
            "No coverage figures yet: they are computed in the refresh from the flags and "
            "the services partners report. Run `pathwise refresh`, or build the demo district."
        )
        return
    counted = _counted(view)
    addressing = dict(settings.coverage_need_service_types)
    gap = biggest_gap(view.coverage.schools, addressing)
    if gap:
        st.subheader("Where is the biggest gap?")
        st.markdown(f"**{md(gap)}.**")
    st.subheader(HEATMAP_TITLE)
    st.plotly_chart(
        heatmap_figure(view.coverage.schools, view.school_names, principal.meeting_mode),
        width="stretch",
        config={"displayModeBar": False},
    )
    st.caption(
        "Each cell: the school's students with that flag who have no active service from "
        "any partner, as a share of its flagged students. Grey: a count hidden for privacy "
        f"(`<{view.min_cell}` fewer than {view.min_cell}; `*` hidden to protect another). "
        + counted
    )
    with st.expander("The table: every school and need", expanded=not principal.meeting_mode):
        st.dataframe(
            coverage_table(view.coverage.schools, view.school_names),
            hide_index=True,
            width="stretch",
        )
        st.caption(
            "Served for this need: by a partner whose service type addresses it "
            f"({_addressing_words(addressing)}); "
            "with a release: by a partner named in an active release (the rest are a "
            "consent gap the data steward can close). " + counted
        )
    # Where open capacity could meet the gap comes right after the gap; then doubled help
    # and tiers; whether referrals led to help last, before the page's action.
    render_realignment(principal, meeting=principal.meeting_mode)
    _duplication(view)
    _tiers(view, counted)
    render_referral_loop(principal, meeting=principal.meeting_mode)
    _action(principal, view)


def _addressing_words(addressing: dict[str, tuple[str, ...]]) -> str:
    """The deployment's need -> service types setting, in words."""
    return "; ".join(
        f"{flag_name(need)}: {', '.join(service_words(t) for t in types)}"
        for need, types in addressing.items()
    )


def _duplication(view: api.CoverageView) -> None:
    st.subheader("Where is help doubled?")
    pairs = view.duplication
    if pairs.height == 0:
        st.write("No two partners serve the same students with the same kind of help.")
        return
    for sentence in duplication_sentences(pairs, view.org_names):
        st.markdown(f"- {md(sentence)}.")
    st.dataframe(duplication_table(pairs, view.org_names), hide_index=True, width="stretch")
    st.caption(
        "Students served by both organisations with the same service type in overlapping "
        "periods (up to the refresh), by the student's school. Source: the partners' "
        "service files."
    )


def _tiers(view: api.CoverageView, counted: str) -> None:
    st.subheader("Do the students with the most flags have support?")
    sentence = tier_sentence(view.tiers.district)
    if sentence:
        st.markdown(f"**{md(sentence)}**: the first students to act on.")
    st.dataframe(tier_table(view.tiers.district), hide_index=True, width="stretch")
    st.caption(
        "Students by tier (the number of flags: tier 3 has the most), and how many "
        "distinct partner services each has now. " + counted
    )


def _action(principal: api.Principal, view: api.CoverageView) -> None:
    at_risk = st.session_state.get(PAGES_KEY, {}).get(AT_RISK_URL)
    if principal.can(api.Action.LIST_STUDENTS) and at_risk is not None:
        st.page_link(
            at_risk,
            label="Open the list of students who need help, and filter it by school and flag",
            icon=":material/priority_high:",
        )
    if principal.can(api.Action.EXPORT_COVERAGE):
        st.download_button(
            "Download the figures (CSV, as `pathwise export coverage` writes them)",
            lambda: api.export_coverage(principal, as_of=view.as_of),
            file_name="pathwise-coverage.csv",
            mime="text/csv",
            on_click="ignore",
            icon=":material/download:",
        )
    next_step(
        "Take the biggest gap to the work group: which partner could reach those students, "
        "and which doubled services could be coordinated."
    )
