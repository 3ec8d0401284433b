"""Sign-in, "no access yet", and sign-out."""

from __future__ import annotations

import streamlit as st

from data_access.api import demo_users
from ui.components import page_header
from ui.i18n import _, activate_for, language_switch
from ui.session import DEMO_EMAIL_KEY, current_session, sign_in_providers, sign_out
from ui.text import md


def sign_in_page(*, opened: str | None = None) -> None:
    """The sign-in page; `opened` names the page a deep link or a reload asked for."""
    state = current_session()
    activate_for(state.principal)
    language_switch()
    page_header(
        _("Sign in to Pathwise"),
        _(
            "Where do our students leave the path from ninth grade to college, and who needs "
            "help this week?"
        ),
    )
    if opened is not None:
        st.info(_("Sign in to see this page: {page}.").format(page=opened), icon=":material/lock:")
    if state.demo:
        st.subheader(_("Demo sign-in"))
        st.write(
            _(
                "This is the demo district. Choose whom to act as; every person and figure is "
                "synthetic."
            )
        )
        people = demo_users()
        labels = {
            row["email"]: f"{row['role']}: {row['display_name']} ({row['email']})" for row in people
        }
        email = st.selectbox(
            _("Sign in as"), list(labels), format_func=labels.__getitem__, key="demo_choice"
        )
        if st.button(_("Sign in"), type="primary", icon=":material/login:"):
            st.session_state[DEMO_EMAIL_KEY] = email
            st.rerun()
        return
    providers = sign_in_providers()
    if not providers:
        st.error(
            _(
                "Sign-in is not configured. Your administrator sets up your district's "
                "identity provider in `.streamlit/secrets.toml` (see "
                "`.streamlit/secrets.toml.example`)."
            )
        )
        return
    for name in providers:
        if st.button(
            _("Sign in with {provider}").format(provider=name.capitalize()),
            key=f"login_{name}",
            type="primary",
            icon=":material/login:",
        ):
            st.login(name)


def no_access_page() -> None:
    state = current_session()
    activate_for(state.principal)
    language_switch()
    page_header(_("You have no access yet"))
    reason = state.denied.reason if state.denied else _("Pathwise does not know this account.")
    st.warning(md(reason), icon=":material/lock:")
    st.write(_("Ask your district's data steward to add you to Pathwise; then sign in again."))
    if st.button(_("Sign out"), icon=":material/logout:"):
        sign_out()


def meeting_mode_empty_page() -> None:
    """Meeting mode only ever removes rights (access-rules.md): it shows the protected
    pipeline, and a role without pipeline figures (teacher, parent, student) gets nothing."""
    page_header("Meeting mode has nothing for your role")
    st.info(
        "Meeting mode shows only the district's privacy-protected pipeline figures, which your "
        "role does not include. Switch meeting mode off in the sidebar to return to your pages.",
        icon=":material/groups:",
    )


def sign_out_page() -> None:
    sign_out()
