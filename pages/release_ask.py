"""Partner staff: "Ask for a release" (issue 16 part 1, "Who asks").

A partner serves a student it cannot see yet (no active release names its organisation):
it asks the district to request a release, giving the name, the school and, when known,
the birth date and a note (data_access/release_asks.py, ASK_FOR_RELEASE). The district
contacts the family; the partner learns nothing until the family signs: its list of asks
says only what it typed, when, and "waiting" or "a release was signed".

Staff page: in English (DEVELOPERS.md, "Languages"); what the partner typed is shown as
text.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from data_access import api
from domain.releases import ASK_SIGNED
from ui.components import next_step, page_header
from ui.session import require_principal
from ui.text import md

URL = "ask-for-release"
#: The form's button (stable for tests and the browser walk).
SEND_ASK = "Ask the district"
PROMISE = (
    "The district will contact the family and ask for a release naming your organisation. "
    "You learn nothing about the student until the family signs: then the student appears "
    "in your Pathwise like any student you may see."
)


def ask_page() -> None:
    principal = require_principal()
    page_header(
        "Which student do you serve but cannot see yet?",
        "Ask the district to request a release from the family.",
    )
    if not principal.can(api.Action.ASK_FOR_RELEASE):
        st.error("Only partner staff ask the district for a release here.")
        return
    st.info(PROMISE, icon=":material/lock:")
    said = st.session_state.pop("ask_sent", None)
    if said:
        st.success(md(said), icon=":material/send:")
    schools = api.school_names()
    with st.form("release_ask", clear_on_submit=True):
        first, last = st.columns(2)
        first_name = first.text_input("First name", max_chars=100)
        last_name = last.text_input("Last name", max_chars=100)
        school = st.selectbox("School", list(schools), format_func=lambda s: schools.get(s, s))
        birth = st.date_input(
            "Birth date (if you know it)",
            value=None,
            min_value=date(principal.today.year - 30, 1, 1),
            max_value=principal.today,
        )
        note = st.text_area(
            "Note for the district (optional)",
            max_chars=1000,
            placeholder="e.g. enrolled in our after-school program since September",
        )
        if st.form_submit_button(SEND_ASK, type="primary", icon=":material/send:"):
            try:
                api.ask_for_release(
                    principal,
                    first_name=str(first_name or ""),
                    last_name=str(last_name or ""),
                    school_id=str(school or ""),
                    birth_date=birth if isinstance(birth, date) else None,
                    note=str(note or "") or None,
                )
            except (api.InvalidAsk, api.AccessDenied) as problem:
                st.error(md(problem))
            else:
                st.session_state["ask_sent"] = (
                    f"Asked about {first_name} {last_name}. The district will contact the family."
                )
                st.rerun()
    _my_asks(principal)


def _my_asks(principal: api.Principal) -> None:
    st.subheader("Your organisation's asks")
    asks = api.my_asks(principal)
    if asks.height == 0:
        st.caption("No ask yet.")
        next_step("Ask about a student you serve but cannot see, with the form above.")
        return
    for ask in asks.iter_rows(named=True):
        state = (
            "a release was signed: the student is in your Pathwise"
            if ask["state"] == ASK_SIGNED
            else "waiting"
        )
        born = f", born {ask['birth_date']:%b %d, %Y}" if ask["birth_date"] else ""
        with st.container(border=True):
            st.markdown(
                md(
                    f"{ask['first_name']} {ask['last_name']} "
                    f"({ask['school_name'] or ask['school_id']}{born}): {state}"
                )
            )
            st.caption(
                md(f"Asked {ask['asked_at']:%b %d, %Y} by {ask['asked_by']}")
                + (f" · {md(ask['note'])}" if ask["note"] else "")
            )
    signed = int((asks["state"] == ASK_SIGNED).sum())
    next_step(
        f"Open Who needs help: {signed} student{'' if signed == 1 else 's'} you asked about "
        "now appear there."
        if signed
        else "Nothing to do until a family signs; ask about any other student you serve."
    )
