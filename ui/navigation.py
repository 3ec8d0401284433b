"""Moving between pages: the pages registered this run, and opening a student's profile.

The page objects are kept in the session (never shared across users); a student id is
handed to the profile through the session too, not the URL, so ids do not end up in
browser history or in screenshots of the address bar.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

PAGES_KEY = "_registered_pages"
PROFILE_KEY = "profile_student"


def register(pages: dict[str, Any]) -> None:
    st.session_state[PAGES_KEY] = pages


def open_student(student_id: str) -> None:
    st.session_state[PROFILE_KEY] = student_id
    page = st.session_state.get(PAGES_KEY, {}).get("student")  # keyed by url path
    if page is not None:
        st.switch_page(page)


def chosen_student() -> str | None:
    value = st.session_state.get(PROFILE_KEY)
    return str(value) if value else None
