"""The Streamlit pages. Each module defines functions only: nothing renders at import.

`app.py` registers the functions with `st.navigation` by role, so a direct request for a
page path before sign-in finds no page (and running a module by itself renders nothing).
Every page function starts with `ui.session.require_principal()`.
"""
