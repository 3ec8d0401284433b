"""My record (parents and students): the record, notes shared with the family, who saw it,
and the family's releases, each of which it may withdraw here (issue 16 part 1).

In the family's language (ui/i18n.py: the switch, else the guardian's language on file,
else the browser's), dates and numbers formatted for it."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from data_access.api import (
    AccessDenied,
    Action,
    Principal,
    WithdrawalRefused,
    disclosure_log,
    family_releases,
    my_students,
    notes_for,
    student_record,
    withdraw_release,
)
from ui.college_timeline import college_timeline
from ui.components import next_step, page_header, plain_text
from ui.i18n import _, activate_for, format_date, language_switch, word
from ui.record_view import (
    attendance_section,
    disclosure_rows,
    fafsa_section,
    identity_line,
    marks_section,
    release_dates,
    release_may_be_withdrawn,
    release_summary,
    services_section,
    tests_section,
)
from ui.session import require_principal
from ui.text import md


def my_record_page() -> None:
    principal = require_principal()
    activate_for(principal)
    language_switch()
    page_header(
        _("What does the school know about us, and who has seen it?"),
        _(
            "Your record as the district holds it, the notes staff chose to share with your "
            "family, and every time a partner organisation looked at it."
        ),
    )
    students = my_students(principal)
    if not students:
        st.info(
            _(
                "No student record is linked to your account. Ask the school to check your "
                "email address in its records."
            )
        )
        return
    labels = {s["student_id"]: md(f"{s['first_name']} {s['last_name']}") for s in students}
    student_id = (
        st.radio(_("Student"), list(labels), format_func=labels.__getitem__, horizontal=True)
        if len(students) > 1
        else students[0]["student_id"]
    )
    try:
        record = student_record(principal, student_id)
    except AccessDenied as denied:
        st.error(md(denied.reason))
        return
    st.subheader(identity_line(record))
    attendance_section(record)
    left, right = st.columns(2)
    with left:
        marks_section(record)
    with right:
        tests_section(record)
        fafsa_section(record)
    services_section(record)
    college_timeline(record)

    st.subheader(_("Notes shared with your family"))
    if principal.can(Action.READ_NOTES):
        shared = notes_for(principal, student_id)
        if shared.height == 0:
            st.caption(_("No notes have been shared with your family yet."))
        for note in shared.iter_rows(named=True):
            st.caption(
                _("{day}, {author}").format(
                    day=format_date(note["created_at"]), author=md(word(note["author_role"]))
                )
            )
            plain_text(note["body"])
    else:
        st.caption(_("Notes are shared with parents and guardians."))

    st.subheader(_("Who has seen this record"))
    st.caption(
        _(
            "Every look by a partner organisation is a disclosure outside the district, "
            "recorded as FERPA requires (34 CFR 99.32)."
        )
    )
    log = disclosure_log(principal, student_id)
    if log.height == 0:
        st.caption(_("No partner organisation has looked at this record."))
    else:
        st.dataframe(
            disclosure_rows(log),
            hide_index=True,
            width="stretch",
            column_config={
                "occurred_at": st.column_config.TextColumn(_("When")),
                "org_name": st.column_config.TextColumn(_("Organisation")),
                "action": st.column_config.TextColumn(_("What they did")),
                "categories": st.column_config.TextColumn(_("Data they saw")),
                "how": st.column_config.TextColumn(
                    _("How"),
                    help=_(
                        "Blank for a read in Pathwise that day. Otherwise: an export the "
                        "district's operator ran from the command line on the partner's "
                        "behalf, and the date whose rules were applied."
                    ),
                ),
            },
        )
    releases_section(principal, student_id)
    next_step(
        _(
            "If something here is wrong, contact your school's counselor. You can withdraw "
            'a release yourself under "Your releases": it takes effect immediately.'
        )
    )


#: Session keys: the release waiting for the family's confirmation, and the message said
#: once it is withdrawn.
PENDING_WITHDRAWAL = "release_to_withdraw"
WITHDRAWN_MESSAGE = "release_withdrawn_message"


def releases_section(principal: Principal, student_id: str) -> None:
    """The "Your releases" section: every release for the student in plain words, each still in effect
    (or yet to start) with a "Withdraw" button and one confirmation. Withdrawing takes
    effect at once: the organisation loses the student on its next request and is told
    that a release ended, never why (docs/access-rules.md, "Withdrawing a release")."""
    st.subheader(_("Your releases"))
    st.caption(
        _(
            "A release lets one partner organisation see part of this record, for the "
            "purpose written on it. You may withdraw a release at any time: the "
            "organisation is told that it ended, not why."
        )
    )
    said = st.session_state.pop(WITHDRAWN_MESSAGE, None)
    if said:
        st.success(said, icon=":material/check_circle:")
    releases = family_releases(principal).filter(pl.col("student_id") == student_id)
    if releases.height == 0:
        st.caption(_("No release has been signed for this student."))
        return
    for release in releases.iter_rows(named=True):
        with st.container(border=True):
            st.markdown(release_summary(release))
            st.caption(release_dates(release, principal.today))
            if release_may_be_withdrawn(release, principal.today):
                _withdraw_controls(principal, release)


def _withdraw_controls(principal: Principal, release: dict[str, Any]) -> None:
    consent_id = release["consent_id"]
    organisation = md(release["org_name"])
    if st.session_state.get(PENDING_WITHDRAWAL) != consent_id:
        if st.button(_("Withdraw"), key=f"withdraw_{consent_id}"):
            st.session_state[PENDING_WITHDRAWAL] = consent_id
            st.rerun()
        return
    st.warning(
        _(
            "Are you sure? {organisation} will no longer see {child}'s {categories} from "
            "now on. You can sign a new release later if you change your mind."
        ).format(
            organisation=organisation,
            child=md(release["first_name"]),
            categories=", ".join(word(c) for c in release["categories"]),
        )
    )
    confirm, keep = st.columns(2)
    if keep.button(_("No, keep it"), key=f"keep_{consent_id}"):
        st.session_state.pop(PENDING_WITHDRAWAL, None)
        st.rerun()
    if confirm.button(_("Yes, withdraw it"), key=f"confirm_{consent_id}", type="primary"):
        st.session_state.pop(PENDING_WITHDRAWAL, None)
        try:
            withdraw_release(principal, consent_id)
        except WithdrawalRefused as refused:
            st.error(_refusal(refused))
            return
        except AccessDenied:
            st.error(_("This release is not on your record, so it cannot be withdrawn here."))
            return
        st.session_state[WITHDRAWN_MESSAGE] = _(
            "The release for {organisation} is withdrawn. {organisation} was told that it "
            "ended, without any reason."
        ).format(organisation=organisation)
        st.rerun()


def _refusal(refused: WithdrawalRefused) -> str:
    if refused.code == "already_withdrawn":
        return _("This release was already withdrawn on {day}.").format(
            day=format_date(refused.day)
        )
    return _("This release ended on {day}; there is nothing to withdraw.").format(
        day=format_date(refused.day)
    )
