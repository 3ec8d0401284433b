"""Administration, the data steward's release requests (issue 16 part 1).

"Release requests": what became of the requests, by organisation and school; the consent
gap (served or referred without a release naming the organisation) with "Request releases
for these" for the rows chosen, in one step (each organisation's agreement categories, a
plain purpose); and the partners' open asks, each matched to a student (then one click
requests the release) or set aside.

"Outbox and paper releases": a paper release that came back, by its code; and every
message Pathwise wrote, the ones not sent (no SMTP settings, or refused) marked and shown
whole so that the steward can deliver them by hand.

Staff page: in English (DEVELOPERS.md, "Languages"); values from the data are shown as text.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from data_access import api
from domain.releases import OPEN_STATES, STATES
from domain.vocabulary import SIGNER_RELATIONSHIPS
from ui.components import next_step, section_action
from ui.i18n import catalog_languages
from ui.release_requests import (
    language_name,
    outcome_sentences,
    send_requests,
    suggested_purpose,
    summary,
)
from ui.release_text import relationship_words
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

    _consent_gap(principal)

    st.subheader("Partners' asks")
    _asks(principal)
    next_step(
        "Request releases for the students in the consent gap, and match each partner's ask "
        "to a student; then deliver what waits in the outbox (Outbox and paper releases)."
    )


#: The consent gap's row selection (st.dataframe's selection state).
GAP_ROWS_KEY = "consent_gap_rows"
REQUEST_THESE = "Request releases for these"


def _consent_gap(principal: api.Principal) -> None:
    """The gap, each row marked when a request for it is already open; the rows chosen
    in the table are requested in one step."""
    st.subheader("Served or referred without a release (the consent gap)")
    made = st.session_state.pop("gap_requested", None)
    if made:
        st.success(md(made), icon=":material/send:")
    gap = api.consent_gap(principal)
    if gap.height == 0:
        st.caption("Every student served or referred today has a release naming the organisation.")
        return
    asked = api.release_requests(principal).filter(pl.col("state").is_in(list(OPEN_STATES)))
    gap = gap.join(
        asked.select("student_id", "org_id", pl.col("state").alias("open_request")).unique(
            subset=["student_id", "org_id"]
        ),
        on=["student_id", "org_id"],
        how="left",
    ).with_columns(
        pl.col("categories").list.join(", ").alias("asks_for"),
        pl.when(pl.col("open_request").is_not_null())
        .then(pl.lit("already requested"))
        .when(pl.col("categories").list.len() == 0)
        .then(pl.lit("no active agreement"))
        .otherwise(pl.lit(""))
        .alias("request"),
    )
    st.caption(
        "Choose rows in the table (the box at the left of each row), then request releases "
        "for them in one step: each names the organisation, asks for its agreement's "
        "categories, and goes to the family by email (or on paper when no email is on file)."
    )
    selection = st.dataframe(
        gap.select(
            "org_name", "school_name", "student_id", "first_name", "last_name", "why",
            "asks_for", "request",
        ),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="multi-row",
        key=GAP_ROWS_KEY,
        column_config={
            "org_name": st.column_config.TextColumn("Organisation"),
            "school_name": st.column_config.TextColumn("School"),
            "student_id": st.column_config.TextColumn("Student id"),
            "first_name": st.column_config.TextColumn("First name"),
            "last_name": st.column_config.TextColumn("Last name"),
            "why": st.column_config.TextColumn("Why"),
            "asks_for": st.column_config.TextColumn("A request would ask for"),
            "request": st.column_config.TextColumn("Request"),
        },
    )  # fmt: skip
    rows = [i for i in selection.selection.rows if 0 <= i < gap.height]
    chosen = gap[rows] if rows else gap.clear()
    ready = chosen.filter(pl.col("request") == "")
    skipped = chosen.height - ready.height
    if skipped:
        st.caption(
            f"{skipped} chosen row{'' if skipped == 1 else 's'} already requested or without "
            "an active agreement: left out."
        )
    if st.button(
        f"{REQUEST_THESE} ({ready.height})",
        type="primary",
        disabled=ready.height == 0,
        key="gap_request",
        icon=":material/send:",
    ):
        _request_gap(principal, ready)
    section_action(
        f"Ask the families of these {gap['student_id'].n_unique()} students for a release "
        "naming the organisation that serves them."
    )


def _request_gap(principal: api.Principal, rows: pl.DataFrame) -> None:
    partners = api.release_partners(principal)
    services = dict(zip(partners["org_id"], partners["service_types"].to_list(), strict=True))
    news = [
        api.NewRequest(
            student_id=row["student_id"],
            org_id=row["org_id"],
            categories=tuple(row["categories"]),
            purpose=suggested_purpose(row["org_name"], services.get(row["org_id"]) or []),
        )
        for row in rows.iter_rows(named=True)
    ]
    done = send_requests(principal, news)
    if done is None:
        return
    st.session_state["gap_requested"] = summary(done)
    st.session_state.pop(GAP_ROWS_KEY, None)
    st.rerun()


#: A matched ask waiting for its one-click request.
MATCHED_KEY = "ask_matched"


def _asks(principal: api.Principal) -> None:
    said = st.session_state.pop("ask_decided", None)
    if said:
        st.success(said)
    _request_for_matched(principal)
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
                if matched.categories:
                    st.session_state[MATCHED_KEY] = matched
                st.rerun()
            if reject.button("Set aside", key=f"ask_reject_{ask_id}"):
                try:
                    api.reject_ask(principal, ask_id)
                except api.InvalidAsk as problem:
                    st.error(md(str(problem)))
                    return
                st.session_state["ask_decided"] = "Ask set aside. The partner is not told."
                st.rerun()


def _request_for_matched(principal: api.Principal) -> None:
    """The ask just matched: one click requests the release (the organisation's agreement
    categories, a plain purpose), tied to the ask."""
    made = st.session_state.pop("ask_requested", None)
    if made:
        st.success(md(made), icon=":material/send:")
    matched = st.session_state.get(MATCHED_KEY)
    if not isinstance(matched, api.MatchedAsk):
        return
    with st.container(border=True):
        st.markdown(
            md(
                f"Request a release from the family of {matched.student_first_name} "
                f"{matched.student_last_name} naming {matched.org_name}, for "
                f"{', '.join(matched.categories)}?"
            )
        )
        ask, later = st.columns(2)
        if ask.button(
            "Request the release", type="primary", key="ask_request", icon=":material/send:"
        ):
            partners = api.release_partners(principal)
            services = dict(
                zip(partners["org_id"], partners["service_types"].to_list(), strict=True)
            )
            done = send_requests(
                principal,
                [
                    api.NewRequest(
                        student_id=matched.student_id,
                        org_id=matched.org_id,
                        categories=matched.categories,
                        purpose=suggested_purpose(
                            matched.org_name, services.get(matched.org_id) or []
                        ),
                        ask_id=matched.ask_id,
                    )
                ],
            )
            if done is not None:
                del st.session_state[MATCHED_KEY]
                st.session_state["ask_requested"] = (
                    f"For {matched.student_first_name} {matched.student_last_name}: "
                    + " ".join(outcome_sentences(done[0]))
                )
                st.rerun()
        if later.button("Not now", key="ask_request_later"):
            del st.session_state[MATCHED_KEY]
            st.rerun()


# ---------------------------------------------------------------------------------------
# Outbox and paper releases
# ---------------------------------------------------------------------------------------

#: The paper release form's labels (stable for the browser walk).
PAPER_CODE_LABEL = "Paper code"
RECORD_PAPER = "Record the paper release"


def outbox_section(principal: api.Principal) -> None:
    """A paper release that came back, then the outbox."""
    st.subheader("A paper release came back")
    _paper_release(principal)
    st.subheader("The outbox")
    waiting = _outbox(principal)
    next_step(
        f"Deliver the {waiting} message{'' if waiting == 1 else 's'} not sent by hand (copy "
        "each to the family's email address), or set up `[smtp]` so that Pathwise sends them."
        if waiting
        else "Type in each paper release as it comes back, by the code printed on it."
    )


def _paper_release(principal: api.Principal) -> None:
    said = st.session_state.pop("paper_recorded", None)
    if said:
        st.success(md(said), icon=":material/task_alt:")
    languages = catalog_languages()
    with st.form("paper_release", clear_on_submit=False):
        code = st.text_input(
            PAPER_CODE_LABEL, max_chars=20, placeholder="ABCD-EFGH", key="paper_code"
        )
        signed_by = st.text_input("Signer's name", max_chars=200, key="paper_signed_by")
        relationship = st.selectbox(
            "Relationship to the student",
            SIGNER_RELATIONSHIPS,
            format_func=lambda r: relationship_words(r, "en"),
            key="paper_relationship",
        )
        signed = st.date_input(
            "Signed on", value=principal.today, max_value=principal.today, key="paper_signed_date"
        )
        language = st.selectbox(
            "Language of the signed page",
            languages,
            format_func=language_name,
            key="paper_language",
        )
        if st.form_submit_button(RECORD_PAPER, type="primary"):
            try:
                consent_id = api.admin_record_paper_release(
                    principal,
                    str(code or ""),
                    signed_by=str(signed_by or ""),
                    relationship=str(relationship),
                    signed_date=signed if isinstance(signed, date) else principal.today,
                    language=str(language),
                )
            except (api.InvalidRequest, api.AccessDenied) as problem:
                st.error(md(problem))
                return
            st.session_state["paper_recorded"] = (
                f"Paper release recorded as {consent_id}, signed by {signed_by} on "
                f"{signed:%B %d, %Y}. The organisation and the requester are told in Pathwise."
            )
            for key in ("paper_code", "paper_signed_by"):
                st.session_state.pop(key, None)
            st.rerun()


def _outbox(principal: api.Principal) -> int:
    """The outbox, the messages not sent first and whole; returns how many wait."""
    messages = api.admin_outbox(principal)
    if messages.height == 0:
        st.caption("No message yet.")
        return 0
    unsent = messages.filter(~pl.col("sent"))
    sent = messages.filter(pl.col("sent"))
    if unsent.height:
        st.warning(
            f"{unsent.height} message{'' if unsent.height == 1 else 's'} NOT SENT: deliver "
            "each by hand (its single-use link is below; only you can read it here).",
            icon=":material/outbox:",
        )
    for row in unsent.iter_rows(named=True):
        with st.container(border=True):
            why = f" ({row['error']})" if row["error"] else " (no SMTP settings)"
            st.markdown(
                f":red[**NOT SENT**]{md(why)} · to **{md(row['to_address'])}** · "
                f"{md(language_name(row['language']))} · written {row['created_at']:%b %d, %Y %H:%M} UTC"
            )
            st.markdown(f"Subject: {md(row['subject'])}")
            with st.expander("The message, to copy"):
                st.code(row["body"], language=None, wrap_lines=True)
    if sent.height:
        st.markdown(f"**Sent** ({sent.height})")
        st.dataframe(
            sent.select("to_address", "subject", "language", "created_at", "sent_at"),
            hide_index=True,
            width="stretch",
            column_config={
                "to_address": st.column_config.TextColumn("To"),
                "subject": st.column_config.TextColumn("Subject"),
                "language": st.column_config.TextColumn("Language"),
                "created_at": st.column_config.DatetimeColumn(
                    "Written", format="MMM D, YYYY HH:mm"
                ),
                "sent_at": st.column_config.DatetimeColumn("Sent", format="MMM D, YYYY HH:mm"),
            },
        )
    return unsent.height
