"""Notifications at the top of the landing page (issue 16 part 1): a release was signed,
declined or ended (data_access/notifications.py writes them).

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


def unread_count(principal: api.Principal | None) -> int:
    """How many unread notifications the principal has (0 when none are shown)."""
    if not shows_notifications(principal):
        return 0
    assert principal is not None
    return api.notifications(principal, unread_only=True).height


def notifications_panel(principal: api.Principal | None) -> None:
    """The unread notifications, newest first, each with "Mark as read"; nothing when
    there are none (or the principal gets none)."""
    if not shows_notifications(principal):
        return
    assert principal is not None
    unread = api.notifications(principal, unread_only=True)
    if unread.height == 0:
        return
    with st.container(border=True):
        heading, everything = st.columns([3, 1], vertical_alignment="center")
        count = unread.height
        heading.markdown(f"**{count} new notification{'' if count == 1 else 's'}**")
        if count > 1 and everything.button(MARK_ALL_READ, key="notifications_all_read"):
            _mark(principal, unread["notification_id"].to_list())
        for row in unread.iter_rows(named=True):
            text, action = st.columns([3, 1], vertical_alignment="center")
            text.markdown(
                f":material/notifications: {md(row['text'])}  \n"
                f":gray[{row['created_at']:%b %d, %Y %H:%M} UTC]"
            )
            if action.button(MARK_READ, key=f"notification_read_{row['notification_id']}"):
                _mark(principal, [int(row["notification_id"])])


def _mark(principal: api.Principal, ids: list[int]) -> None:
    api.mark_notifications_read(principal, ids)
    st.rerun()
