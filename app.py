"""Pathwise: the Streamlit entry point.

For now it shows what is loaded and whether this is the demo district; sign-in, role
navigation and the pages arrive with the app issue. Nothing here reads student-level data.
"""

from __future__ import annotations

import streamlit as st

from data_access.engine import get_engine
from data_access.meta import is_demo, loaded_counts

st.set_page_config(page_title="Pathwise", page_icon=":material/route:", layout="wide")

engine = get_engine()
if is_demo(engine):
    st.warning(
        "**DEMO DATA.** Every student, school and organisation here is synthetic "
        "(built by `pathwise demo`). Do not enter real student information.",
        icon=":material/science:",
    )
st.title("Pathwise")
st.caption(
    "Where do our students leave the path from ninth grade to college, and who needs help this week?"
)

counts = loaded_counts(engine)
columns = st.columns(4)
columns[0].metric("Schools", f"{counts.schools:,}")
columns[1].metric("Organisations", f"{counts.organizations:,}")
columns[2].metric("Students", f"{counts.students:,}")
columns[3].metric("Users", f"{counts.users:,}")
if counts.empty:
    st.info(
        "The database is empty. Load your district's files with `pathwise import PATH`, or build the demo with `pathwise demo`."
    )
