"""Administration, "Release requests" (issue 16 part 1): a first, minimal view for the data
steward; the full page comes later. What became of the release requests, by organisation
and school; the consent gap (served or referred without a release naming the
organisation); and the partners' open asks, each matched to a student or set aside.

Staff page: in English (DEVELOPERS.md, "Languages")."""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_access import api
from domain.releases import STATES
from ui.components import next_step
from ui.text import md


def release_requests_section(principal: api.Principal) -> None:
    """The steward's view; each reader re-checks the principal (SEE_RELEASE_REQUESTS)."""
    st.subheader("Release requests by organisation and school")
    counts = api.release_request_counts(principal)
    if counts.height == 0:
        st.caption("No release request yet.")
    else:
        table = counts.pivot(on="state", index=["org_name", "school_name"], values="requests")
        st.dataframe(
            table.select("org_name", "school_name", *STATES),
            hide_index=True,
            width="stretch",
            column_config={
                "org_name": st.column_config.TextColumn("Organisation"),
                "school_name": st.column_config.TextColumn("School"),
            },
        )

    st.subheader("Served or referred without a release (the consent gap)")
    gap = api.consent_gap(principal)
    if gap.height == 0:
        st.caption("Every student served or referred today has a release naming the organisation.")
    else:
        st.dataframe(
            gap.with_columns(pl.col("categories").list.join(", ")).select(
                "org_name", "school_name", "student_id", "first_name", "last_name", "why",
                "categories",
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "org_name": st.column_config.TextColumn("Organisation"),
                "school_name": st.column_config.TextColumn("School"),
                "categories": st.column_config.TextColumn("A request would ask for"),
            },
        )  # fmt: skip
        next_step(
            f"Ask the families of these {gap['student_id'].n_unique()} students for a release "
            "naming the organisation that serves them."
        )

    st.subheader("Partners' asks")
    _asks(principal)


def _asks(principal: api.Principal) -> None:
    said = st.session_state.pop("ask_decided", None)
    if said:
        st.success(said)
    asks = api.open_asks(principal)
    if asks.height == 0:
        st.caption("No open ask from a partner.")
        return
    for ask in asks.iter_rows(named=True):
        with st.container(border=True):
            born = f", born {ask['birth_date']}" if ask["birth_date"] else ""
            st.markdown(
                md(
                    f"{ask['org_name']} asks about {ask['first_name']} {ask['last_name']} "
                    f"({ask['school_name'] or ask['school_id']}{born}), on {ask['asked_at']:%Y-%m-%d}."
                )
            )
            if ask["note"]:
                st.caption(md(ask["note"]))
            candidates = {
                c["student_id"]: (
                    f"{c['first_name']} {c['last_name']} ({c['student_id']}, {c['school_id']}, "
                    f"born {c['birth_date']}), score {c['score']:.2f}"
                )
                for c in ask["candidates"]
            }
            ask_id = ask["ask_id"]
            if candidates:
                chosen = st.selectbox(
                    "Student",
                    list(candidates),
                    format_func=candidates.__getitem__,
                    key=f"ask_student_{ask_id}",
                )
            else:
                st.caption("No candidate student: set it aside, or match it by student id.")
                chosen = st.text_input("Student id", key=f"ask_student_id_{ask_id}").strip()
            match, reject = st.columns(2)
            if match.button("Match", key=f"ask_match_{ask_id}", disabled=not chosen):
                try:
                    matched = api.match_ask(principal, ask_id, str(chosen))
                except (api.InvalidAsk, api.AccessDenied) as problem:
                    st.error(md(str(problem)))
                    return
                st.session_state["ask_decided"] = md(
                    f"Matched to {matched.student_first_name} {matched.student_last_name} "
                    f"({matched.school_name}). Request a release naming {matched.org_name} for "
                    f"{', '.join(matched.categories) or 'no category: it has no active agreement'}."
                )
                st.rerun()
            if reject.button("Set aside", key=f"ask_reject_{ask_id}"):
                try:
                    api.reject_ask(principal, ask_id)
                except api.InvalidAsk as problem:
                    st.error(md(str(problem)))
                    return
                st.session_state["ask_decided"] = "Ask set aside. The partner is not told."
                st.rerun()
