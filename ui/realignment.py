"""The realignment section: where unmet need and open partner capacity sit at different
schools (issue 14 part 2), for the end of the coverage page.

The figures come from `api.realignment` (indicators/realignment.py): exact for leaders and
the steward, protected for everyone else and in meeting mode (the unmet need exactly as
the coverage table shows it, `<10` or `*` where hidden; other partners' slots offered,
not their open slots, which would tell how many students they serve); the sentences are
built there from shown figures only, and every name from the data is escaped here (`ui.text.md`). The section ends in an action: the steward edits
capacity in Administration, everyone else takes the pairs to the partners.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_access import api
from ui.components import section_action
from ui.text import md

TITLE = "Where could open capacity meet unmet need?"
#: Sentences shown above the table: the largest unmet needs, one partner each.
TOP_SENTENCES = 3


def render_realignment(principal: api.Principal, *, meeting: bool) -> None:
    """Draw the section for `principal` (protected in meeting mode)."""
    st.subheader(TITLE)
    if not principal.sees_aggregates:
        st.info("Your role does not see district figures.")
        return
    rows = api.realignment(principal, meeting=meeting)
    if rows.height == 0:
        st.caption(
            "No school has more unmet need than open slots there while a partner has open "
            "slots of a matching service at another school (or no capacity is recorded)."
        )
    else:
        st.caption(
            "Unmet need: the school's flagged students no partner serves for that need "
            "(flagged less served for this need, as in the table above; `<10` fewer than "
            "10, `*` hidden to protect another count). Open slots: the slots partners "
            "accepting referrals offer in the capacity file, less the students they serve "
            "now; where you may not see how many students a partner serves, only the slots "
            'it offers ("up to 40"). Source: the last refresh and the capacity file.'
        )
        top = rows.unique(["school_id", "need"], keep="first", maintain_order=True)
        for sentence in top["sentence"].head(TOP_SENTENCES):
            st.markdown(f"- {md(sentence)}")
        st.dataframe(
            rows.select(
                "school_name",
                pl.col("need").str.replace_all("_", " "),
                "unmet_display",
                "open_here_display",
                "org_name",
                "partner_school_name",
                pl.col("service_type").str.replace_all("_", " "),
                "open_display",
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "school_name": "School",
                "need": "Need",
                "unmet_display": "Unmet need",
                "open_here_display": "Open slots there",
                "org_name": "Partner",
                "partner_school_name": "Its open slots at",
                "service_type": "Service",
                "open_display": "Open slots",
            },
        )
    if not meeting and principal.can(api.Action.EDIT_CAPACITY):
        section_action(
            "Edit capacity: in Administration, section Capacity, record the slots a partner "
            "agrees to move to the schools at the top of this list."
        )
    else:
        section_action(
            "Ask the partners at the top of this list whether they would take referrals at "
            "the schools where the need is."
        )
