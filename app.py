"""Pathwise: the Streamlit entry point. Sign-in, then the pages each role may use.

Nothing here reads student data; the pages do, through `data_access.api`, each re-checking
its principal. Run with `make run` (or `streamlit run app.py`).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from domain.vocabulary import Role
from pages import account, administration, at_risk, my_record, pipeline, student
from ui.components import demo_banner, meeting_banner
from ui.navigation import register
from ui.session import MEETING_KEY, DemoRefused, SessionState, current_session

PageFunction = Callable[[], None]


def _page(
    function: PageFunction, title: str, url: str, icon: str, *, default: bool = False
) -> st.Page:
    return st.Page(function, title=title, url_path=url, icon=icon, default=default)


PIPELINE_ROLES = {Role.ADMIN, Role.DISTRICT_LEADER, Role.COUNSELOR, Role.ORG_STAFF, Role.VIEWER}
LIST_ROLES = {Role.ADMIN, Role.DISTRICT_LEADER, Role.COUNSELOR, Role.TEACHER, Role.ORG_STAFF}


def pages_for(state: SessionState) -> list[st.Page] | dict[str, list[st.Page]]:
    """The navigation for this session: sign-in, no-access, or the role's pages."""
    if state.principal is None:
        if state.denied is not None:
            return [
                _page(
                    account.no_access_page,
                    "No access yet",
                    "no-access",
                    ":material/lock:",
                    default=True,
                )
            ]
        return [_page(account.sign_in_page, "Sign in", "sign-in", ":material/login:", default=True)]
    principal = state.principal
    pipeline_page = _page(pipeline.pipeline_page, "Pipeline", "pipeline", ":material/filter_alt:")
    work: list[st.Page] = []
    if principal.meeting_mode:
        work.append(
            _page(
                pipeline.pipeline_page,
                "Pipeline",
                "pipeline",
                ":material/filter_alt:",
                default=True,
            )
        )
    else:
        leader_first = principal.role in (Role.DISTRICT_LEADER, Role.VIEWER)
        if principal.role in PIPELINE_ROLES and leader_first:
            work.append(
                _page(
                    pipeline.pipeline_page,
                    "Pipeline",
                    "pipeline",
                    ":material/filter_alt:",
                    default=True,
                )
            )
        if principal.role in LIST_ROLES:
            work.append(
                _page(
                    at_risk.at_risk_page,
                    "Who needs help",
                    "at-risk",
                    ":material/priority_high:",
                    default=not work,
                )
            )
            work.append(
                _page(student.student_page, "Student profile", "student", ":material/person:")
            )
        if principal.role in PIPELINE_ROLES and not leader_first:
            work.append(pipeline_page)
        if principal.role in (Role.PARENT, Role.STUDENT):
            work.append(
                _page(
                    my_record.my_record_page,
                    "My record",
                    "my-record",
                    ":material/family_restroom:",
                    default=True,
                )
            )
        if principal.role == Role.ADMIN:
            work.append(
                _page(
                    administration.administration_page,
                    "Administration",
                    "admin",
                    ":material/admin_panel_settings:",
                )
            )
    if not work:
        work.append(
            _page(
                account.no_access_page,
                "No access yet",
                "no-access",
                ":material/lock:",
                default=True,
            )
        )
    account_pages = [_page(account.sign_out_page, "Sign out", "sign-out", ":material/logout:")]
    return {"Pathwise": work, "Account": account_pages}


def sidebar(state: SessionState) -> None:
    principal = state.principal
    if principal is None:
        return
    with st.sidebar:
        st.caption(
            f"Signed in as **{principal.display_name}** ({principal.role.value.replace('_', ' ')})"
        )
        if principal.sees_aggregates or principal.meeting_mode:
            st.toggle(
                "Meeting mode",
                key=MEETING_KEY,
                help="For projecting in work-group meetings: only privacy-protected totals, never a name or a small group.",
            )


def main() -> None:
    st.set_page_config(page_title="Pathwise", page_icon=":material/route:", layout="wide")
    try:
        state = current_session()
    except DemoRefused as refused:
        st.error(str(refused), icon=":material/block:")
        st.stop()
        return
    if state.demo:
        demo_banner()
    if state.principal is not None and state.principal.meeting_mode:
        meeting_banner()
    pages = pages_for(state)
    register(
        {
            page.url_path: page
            for group in (pages.values() if isinstance(pages, dict) else [pages])
            for page in group
        }
    )
    navigation = st.navigation(pages)
    sidebar(state)
    navigation.run()


main()
