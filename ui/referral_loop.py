"""Did the referrals lead to help? The referral loop per partner and school (issue 14, part 3).

`render_referral_loop(principal, meeting=...)` draws the figures of
`data_access.referral_loop` as this viewer may see them (exact, protected, or a
partner's own), a table and one sentence ending in an action. Called at the end of the
coverage page (the place covcore leaves for it).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_access import api
from indicators.suppression import ALL
from ui.components import section_action
from ui.text import md

TITLE = "Did the referrals lead to help?"


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def _sentence(shown: pl.DataFrame, names: dict[str, str]) -> str:
    """The organisation with the most referrals waiting for a release (where the number is
    shown), or else the one with the most answered but not yet a service, ending in what
    to do next."""
    totals = shown.filter(pl.col("school_id") == ALL).with_columns(
        waiting_n=pl.col("waiting").map_elements(_number, return_dtype=pl.Int64)
    )
    waiting = totals.filter(pl.col("waiting_n") > 0).sort("waiting_n", descending=True)
    if waiting.height:
        row = waiting.row(0, named=True)
        name = names.get(row["org_id"], row["org_id"])
        return (
            f"{row['waiting_n']} referrals to {md(name)} are waiting for a release: ask the "
            "families to sign one naming the partner, or the partner cannot start."
        )
    return (
        "No count of referrals waiting for a release can be shown here: open the referrals "
        "of your students and follow up on those still open."
    )


def render_referral_loop(principal: api.Principal, *, meeting: bool) -> None:
    """The referral-loop table and its sentence, or why there is none."""
    st.subheader(TITLE)
    viewer = principal.in_meeting_mode() if meeting else principal
    try:
        shown = api.referral_loop(viewer)
    except api.AccessDenied as denied:
        st.caption(md(denied.reason))
        return
    if shown.height == 0:
        st.caption("No referrals yet.")
        section_action("Refer a flagged student from their profile (Who could help).")
        return
    try:
        organisations = api.partner_organisations(viewer)
        names = dict(zip(organisations["org_id"], organisations["org_name"], strict=True))
    except api.AccessDenied:
        names = {}
    schools = api.school_names()
    table = shown.with_columns(
        organisation=pl.col("org_id").replace_strict(names, default=pl.col("org_id")),
        school=pl.when(pl.col("school_id") == ALL)
        .then(pl.lit("All schools"))
        .otherwise(pl.col("school_id").replace_strict(schools, default=pl.col("school_id"))),
    ).select(
        "organisation", "school", "made", "waiting", "answered", "accepted", "declined",
        "became_service", "median_days",
    )  # fmt: skip
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "organisation": st.column_config.TextColumn("Partner"),
            "school": st.column_config.TextColumn("School"),
            "made": st.column_config.TextColumn("Referrals"),
            "waiting": st.column_config.TextColumn(
                "Waiting for a release", help="Open, and no active release names the partner."
            ),
            "answered": st.column_config.TextColumn("Answered"),
            "accepted": st.column_config.TextColumn("Accepted"),
            "declined": st.column_config.TextColumn("Declined"),
            "became_service": st.column_config.TextColumn(
                "Service within 30 days", help="Accepted, and a service started within 30 days."
            ),
            "median_days": st.column_config.NumberColumn("Median days to an answer", format="%.1f"),
        },
    )
    if not viewer.exact_aggregates and not viewer.partner:
        st.caption("Counts under 10 are shown as <10, and * hides a count that would reveal one.")
    section_action(_sentence(shown, names))
