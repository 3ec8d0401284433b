"""My record (parents and students): the record, notes shared with the family, and who saw it.

In the family's language (ui/i18n.py: the switch, else the guardian's language on file,
else the browser's), dates and numbers formatted for it."""

from __future__ import annotations

import streamlit as st

from data_access.api import (
    AccessDenied,
    Action,
    disclosure_log,
    my_students,
    notes_for,
    student_record,
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
    next_step(
        _(
            "If something here is wrong, or you want to change or withdraw a release you "
            "signed, contact your school's counselor: a withdrawn release takes effect "
            "immediately."
        )
    )
