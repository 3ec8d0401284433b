"""Notifications in the sidebar, on every page (issue 16 part 1): a release was signed,
declined or ended (data_access/notifications.py writes them). In the sidebar, so that each
page still opens with its question.

Shown to roles with READ_NOTIFICATIONS (district staff, partner staff), unread ones only,
each with "Mark as read". Never in meeting mode: a notification names a student, and a
projected screen shows no name (docs/access-rules.md, meeting mode). The texts come from
the data and are shown as text (ui.text.md).
"""

from __future__ import annotations

import streamlit as st

from data_access import api
from ui.text import md

#: The buttons (stable for tests).
MARK_READ = "Mark as read"
MARK_ALL_READ = "Mark all as read"


def shows_notifications(principal: api.Principal | None) -> bool:
    """Whether this principal gets notifications here: READ_NOTIFICATIONS, not in meeting
    mode (`Principal.can` refuses it there too; said again because it is the rule)."""
    return (
        principal is not None
        and not principal.meeting_mode
        and principal.can(api.Action.READ_NOTIFICATIONS)
    )


def notifications_panel(principal: api.Principal | None) -> None:
    """The unread notifications, newest first, each with "Mark as read"; nothing when
    there are none (or the principal gets none)."""
    if not shows_notifications(principal):
        return
    assert principal is not None
    unread = api.notifications(principal, unread_only=True)
    if unread.height == 0:
        return
    count = unread.height
    with st.expander(
        f":material/notifications: {count} new notification{'' if count == 1 else 's'}",
        expanded=True,
    ):
        if count > 1 and st.button(MARK_ALL_READ, key="notifications_all_read"):
            _mark(principal, unread["notification_id"].to_list())
        for row in unread.iter_rows(named=True):
            st.markdown(f"{md(row['text'])}  \n:gray[{row['created_at']:%b %d, %Y %H:%M} UTC]")
            if st.button(MARK_READ, key=f"notification_read_{row['notification_id']}"):
                _mark(principal, [int(row["notification_id"])])


def _mark(principal: api.Principal, ids: list[int]) -> None:
    api.mark_notifications_read(principal, ids)
    st.rerun()
