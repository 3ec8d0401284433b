"""Streamlit helpers shared by the pages: sign-in state and the widgets and charts."""
