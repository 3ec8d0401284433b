"""Student profile: how is this student doing, why are they flagged, and what is next?"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from data_access import api
from domain import vocabulary
from indicators.definitions import definitions, explain, flag_title
from indicators.referral_loop import referral_paths
from indicators.settings import load_settings
from indicators.suggestions import ALREADY_SERVING, SUGGESTED
from ui.college_timeline import college_timeline
from ui.components import (
    TIER_COLOURS,
    indicators_lag_notice,
    next_step,
    page_header,
    plain_text,
    releases_table,
)
from ui.navigation import chosen_student
from ui.record_view import (
    attendance_section,
    fafsa_section,
    identity_line,
    marks_section,
    services_section,
    tests_section,
)
from ui.release_requests import release_section
from ui.session import require_principal
from ui.text import md

FAFSA_NEXT_STEP = {
    "not_started": "Book a FAFSA session with the student and a parent; bring the FSA ID checklist.",
    "submitted": "The FAFSA is submitted but not processed: check for missing signatures or corrections.",
    "incomplete": "The FAFSA needs action: look up the ISIR comment codes with the student this week.",
    "completed": "FAFSA complete: compare award letters with the student when they arrive.",
}


def student_page() -> None:
    principal = require_principal()
    printable = st.query_params.get("view") == "print"
    student_id = chosen_student()
    if not printable:
        typed = st.text_input(
            "Student id", value=student_id or "", placeholder="e.g. S1000123"
        ).strip()
        student_id = typed or student_id
    if not student_id:
        page_header("How is this student doing, and what is the next step?")
        st.info("Choose a student from **Who needs help**, or type a student id above.")
        return
    try:
        record = api.student_record(principal, student_id)
    except api.AccessDenied as denied:
        page_header("How is this student doing, and what is the next step?")
        st.warning(md(denied.reason), icon=":material/lock:")
        return
    page_header(
        f"How is {md(record.identity['first_name'])} doing, and what is the next step?",
        identity_line(record),
    )
    indicators_lag_notice()
    _tier_and_flags(record)
    attendance_section(record)
    left, right = st.columns(2)
    with left:
        marks_section(record)
    with right:
        tests_section(record)
        fafsa_section(record)
        _fafsa_next_step(record)
    services_section(record)
    college_timeline(record)
    _why_visible(record)
    if printable:
        st.caption(
            f"Printed from Pathwise on {principal.today:%B %d, %Y} by {md(principal.display_name)}. "
            "Contains student education records protected by FERPA; do not leave unattended."
        )
        return
    _notes(principal, student_id)
    existing = (
        api.referrals_for(principal, student_id)
        if principal.can(api.Action.READ_REFERRALS)
        else None
    )
    partners = _who_could_help(principal, record, existing)
    _referrals(principal, student_id, record, existing)
    release_section(principal, student_id, existing)
    next_step(_suggestion(record, partners))


def _tier_and_flags(record: api.StudentRecord) -> None:
    row = record.indicators
    if row is None:
        st.info(
            "No indicators for this student in the current school year (not enrolled now, or no data yet)."
        )
        return
    tier = int(row["tier"])
    colour = TIER_COLOURS[tier]
    count = int(row["flag_count"])
    st.markdown(
        f"<div style='font-size:1.6rem'><span style='background:{colour};color:white;padding:.2rem .7rem;"
        f"border-radius:.4rem'>Tier {tier}</span> &nbsp; {count} flag{'' if count == 1 else 's'}</div>",
        unsafe_allow_html=True,
    )
    settings = load_settings()
    cards = definitions(settings)
    for flag in vocabulary.FLAGS:
        value = row.get(flag)
        title = flag_title(flag)
        if value is None:
            state, icon = "not shown (no data, or not shared with you)", ":material/help_outline:"
        elif value:
            state, icon = "flagged", ":material/flag:"
        else:
            state, icon = "not flagged", ":material/check_circle:"
        # Material icons ship with Streamlit; emoji need a font many machines lack.
        with st.expander(f"{title}: {state}", expanded=bool(value), icon=icon):
            card = cards.get(flag)
            if card is None:  # a flag added to the vocabulary before its definition card
                st.caption("No definition has been written for this flag yet.")
                continue
            st.markdown(f"**This student:** {md(explain(flag, row, settings))}")
            st.markdown(f"**The rule:** {card.rule}")
            st.caption(f"Source: {card.source}")


def _fafsa_next_step(record: api.StudentRecord) -> None:
    row = record.indicators or {}
    status = row.get("fafsa_status")
    if status in FAFSA_NEXT_STEP and row.get("grade_level") == 12:
        st.info(f"**Next step for the FAFSA.** {FAFSA_NEXT_STEP[status]}")


def _why_visible(record: api.StudentRecord) -> None:
    reason = record.reason
    with st.expander("Why can I see this student?"):
        st.markdown(md(reason.explanation))
        if reason.consent_id:
            expiry = (
                f"expires {reason.consent_expires:%B %d, %Y}"
                if reason.consent_expires
                else "has no expiry date"
            )
            st.markdown(
                f"Release **{md(reason.consent_id)}** {expiry}; "
                f"agreement **{md(reason.agreement_id)}**."
            )
        if record.consents.height:
            releases_table(record.consents)


def _notes(principal: api.Principal, student_id: str) -> None:
    st.subheader("Notes")
    try:
        thread = api.notes_for(principal, student_id)
    except api.AccessDenied:
        st.caption("Notes are not shared with you for this student.")
        return
    if thread.height == 0:
        st.caption("No notes yet.")
    for note in thread.iter_rows(named=True):
        with st.container(border=True):
            who = md(note["author_email"])
            role = md(note["author_role"].replace("_", " "))
            shared = " · shared with the family" if note["shared_with_family"] else ""
            st.caption(f"{note['created_at']:%b %d, %Y %H:%M} · {who} ({role}){shared}")
            plain_text(note["body"])
    if principal.can(api.Action.WRITE_NOTE):
        with st.form("new_note", clear_on_submit=True):
            body = st.text_area(
                "Write a note",
                max_chars=4000,
                placeholder="What happened, and what is the next step?",
            )
            family = st.checkbox("Share with the family")
            if st.form_submit_button("Add note", type="primary"):
                try:
                    api.add_note(principal, student_id, body, shared_with_family=family)
                    st.rerun()
                except (api.InvalidNote, api.AccessDenied) as problem:
                    st.error(md(problem))


def _referrals(
    principal: api.Principal,
    student_id: str,
    record: api.StudentRecord | None = None,
    existing: pl.DataFrame | None = None,
) -> None:
    if existing is None:
        return
    st.subheader("Referrals")
    if existing.height:
        st.dataframe(
            existing.with_columns(status=_status_words(), path=_paths(existing, record)).select(
                "org_name", "status", "path", "reason", "referred_by", "created_at", "response"
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "org_name": st.column_config.TextColumn("Partner"),
                "status": st.column_config.TextColumn("Status"),
                "path": st.column_config.TextColumn("What happened since", width="large"),
                "reason": st.column_config.TextColumn("Why"),
                "referred_by": st.column_config.TextColumn("Referred by"),
                "created_at": st.column_config.DatetimeColumn("Referred", format="MMM D, YYYY"),
                "response": st.column_config.TextColumn("Partner's answer"),
            },
        )
        if principal.can(api.Action.RESPOND_TO_REFERRAL):
            _respond(principal, existing)
    else:
        st.caption("No referrals.")
    if principal.can(api.Action.REFER):
        partners = api.partner_organisations(principal)
        with st.form("refer"):
            names = dict(zip(partners["org_id"], partners["org_name"], strict=True))
            org = st.selectbox("Refer to", list(names), format_func=lambda o: names.get(o, o))
            reason = st.text_area("Why", max_chars=2000)
            if st.form_submit_button("Send referral", type="primary"):
                try:
                    api.create_referral(principal, student_id, str(org), reason)
                    st.success(
                        "Referral sent. The partner sees it once the family's release naming it is active."
                    )
                except (api.InvalidReferral, api.AccessDenied) as problem:
                    st.error(md(problem))


def _paths(existing: pl.DataFrame, record: api.StudentRecord | None) -> pl.Series:
    """Each referral's path in words: referred -> answered (days) -> service started (a
    service of that partner the viewer may see, within 30 days) -> the student's
    indicators now (those the viewer may see). indicators/referral_loop.py has the rule."""
    services = record.services if record is not None else pl.DataFrame()
    if services.height == 0:
        services = pl.DataFrame(
            schema={"org_id": pl.String, "service_type": pl.String, "start_date": pl.Date}
        )
    released = existing.filter(~pl.col("waiting_for_release").fill_null(False)).select(
        "student_id", "org_id"
    )
    paths = referral_paths(
        existing.with_columns(
            pl.col("created_at", "updated_at").cast(pl.Datetime("us")).dt.replace_time_zone(None)
        ),
        released,
        services.select("org_id", "service_type", "start_date").with_columns(
            student_id=pl.lit(existing["student_id"][0])
        ),
    )
    row: dict[str, Any] = (record.indicators if record is not None else None) or {}
    now = []
    if row.get("absence_rate") is not None:
        now.append(f"absent {row['absence_rate'] * 100:.1f}% of days")
    if row.get("core_fails") is not None:
        now.append(f"{row['core_fails']} failing core course(s)")
    texts = []
    for path in paths.iter_rows(named=True):
        steps = [f"referred {path['referred_on']:%b %d}"]
        if path["answered_on"] is not None:
            days = path["days_to_response"]
            steps.append(
                f"{path['status']} {path['answered_on']:%b %d} "
                f"({days} day{'' if days == 1 else 's'})"
            )
        elif path["waiting_for_release"]:
            steps.append("waiting for a release")
        if path["service_started"] is not None:
            steps.append(f"service started {path['service_started']:%b %d}")
        if now:
            steps.append("now " + ", ".join(now))
        texts.append(" → ".join(steps))
    return pl.Series("path", texts, dtype=pl.String)


def _status_words() -> pl.Expr:
    """A referral's status as the school reads it: an open one to a partner without an
    active release naming it is "waiting for a release" (the partner learns nothing yet)."""
    return (
        pl.when(pl.col("waiting_for_release").fill_null(False))
        .then(pl.lit(WAITING))
        .otherwise(pl.col("status"))
    )


#: How an open referral to a partner without an active release reads (data_access/referrals.py).
WAITING = "waiting for a release"


def _reason(row: dict[str, Any]) -> str:
    """The referral's reason, prefilled from the flags the suggestion addresses."""
    needs = ", ".join(flag_title(n) for n in row["needs"])
    kind = str(row["service_type"]).replace("_", " ")
    return (
        f"Suggested by Pathwise: {needs}. {row['org_name']} offers {kind} with open slots "
        f"({row['open_display']}) at {'any school' if not row['school_id'] else row['school_id']}."
    )


def _who_could_help(
    principal: api.Principal, record: api.StudentRecord, existing: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Suggested partners (indicators/suggestions.py) with a one-click referral each; a
    partner the student already has an open referral to says so instead of offering a
    second one (`existing`: the student's referrals the viewer may read). The rows shown
    are returned for the next step."""
    student_id = str(record.identity["student_id"])
    st.subheader("Who could help")
    try:
        partners = api.suggested_partners(principal, [student_id]).for_student(student_id)
    except api.AccessDenied:
        return pl.DataFrame()
    sent = st.session_state.pop("referral_sent", None)
    if sent:
        st.success(md(sent), icon=":material/send:")
    if partners.height == 0:
        st.caption(
            "No partner with open slots offers a service for this student's flags "
            "(or the student has no flag you may see)."
        )
        return partners
    may_refer = principal.can(api.Action.REFER)
    pending = (
        {r["org_id"]: r for r in existing.filter(pl.col("status") == "open").iter_rows(named=True)}
        if existing is not None
        else {}
    )
    for row in partners.iter_rows(named=True):
        needs = ", ".join(flag_title(n) for n in row["needs"])
        kind = str(row["service_type"]).replace("_", " ")
        # A suggestion's capacity is at the student's own school or at any school.
        where = (
            "any school"
            if not row["school_id"]
            else str(record.identity.get("school_name") or row["school_id"])
        )
        with st.container(border=True):
            text, action = st.columns([3, 1], vertical_alignment="center")
            if row["status"] == ALREADY_SERVING:
                text.markdown(f"**{md(row['org_name'])}** already serves this student ({kind}).")
                text.caption(f"Addresses: {md(needs)}. Coordinate with them before adding anyone.")
                continue
            slots = f"{row['open_display']} open {kind} slots at {md(where)}"
            text.markdown(f"**{md(row['org_name'])}**: {slots}")
            text.caption(f"Addresses: {md(needs)}")
            referred = pending.get(row["org_id"])
            if referred is not None:
                state = WAITING if referred["waiting_for_release"] else "open, not answered yet"
                action.caption(f"Referred {referred['created_at']:%b %d}: {state}")
            elif may_refer and action.button(
                f"Refer to {md(row['org_name'])}",
                key=f"refer_{row['org_id']}_{row['service_type']}",
                type="primary",
            ):
                _refer(principal, record, row)
    return partners


def _refer(principal: api.Principal, record: api.StudentRecord, row: dict[str, Any]) -> None:
    """One click: the referral through the existing flow, then the page again."""
    student_id = str(record.identity["student_id"])
    try:
        api.create_referral(principal, student_id, str(row["org_id"]), _reason(row))
    except (api.InvalidReferral, api.AccessDenied) as problem:
        st.error(md(problem))
        return
    made = api.referrals_for(principal, student_id)
    waiting = made.filter(pl.col("org_id") == row["org_id"])["waiting_for_release"].head(1)
    st.session_state["referral_sent"] = f"Referral sent to {row['org_name']}. " + (
        "It is waiting for a release: the partner learns nothing about the student until "
        "the family signs a release naming it."
        if waiting.len() and waiting[0]
        else "The partner sees it now."
    )
    st.rerun()


def _respond(principal: api.Principal, existing: pl.DataFrame) -> None:
    open_ones = existing.filter(pl.col("status") == "open")
    if open_ones.height == 0:
        return
    with st.form("respond"):
        referral = st.selectbox("Respond to referral", open_ones["referral_id"].to_list())
        status = st.radio("Answer", ["accepted", "declined"], horizontal=True)
        response = st.text_input("Message to the school")
        if st.form_submit_button("Send answer", type="primary"):
            api.respond_to_referral(principal, int(referral), str(status), response)
            st.rerun()


def _suggestion(record: api.StudentRecord, partners: pl.DataFrame | None = None) -> str:
    """The next step: for a tier 3 student without a partner, the first suggested partner
    (most open slots) from "Who could help", else the step for the first flag."""
    row: dict[str, Any] = record.indicators or {}
    if row.get("tier") == 3 and record.services.height == 0:
        offered = (
            partners.filter(pl.col("status") == SUGGESTED)
            if partners is not None and partners.height
            else None
        )
        if offered is not None and offered.height:
            best = offered.row(0, named=True)
            return (
                f"Tier 3 and no partner yet: refer the student to {md(best['org_name'])} "
                f"({best['open_display']} open slots) under Who could help, or bring them to "
                "the student support team."
            )
        return "Tier 3 and no partner yet: refer the student to an organisation above, or bring them to the student support team."
    if row.get("chronic_absence"):
        return "Call home this week about attendance and agree on a daily check-in; note the plan above so partners see it."
    if row.get("fafsa_not_completed"):
        return "Schedule FAFSA help before the priority deadline."
    if row.get("course_failure"):
        return "Set up tutoring for the failing course and check the grade again in two weeks."
    return "Keep the regular check-ins; write a note after the next one."
