"""Pathwise: the Streamlit entry point. Sign-in, then the pages each role may use.

Nothing here reads student data; the pages do, through `data_access.api`, each re-checking
its principal. Run with `make run` (or `streamlit run app.py`).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from data_access.api import Action, lands_on_figures
from domain.release_tokens import TOKEN_PARAMETER
from pages import (
    account,
    administration,
    at_risk,
    coverage,
    mapped_files,
    my_record,
    outcomes,
    pipeline,
    release_ask,
    release_sign,
    student,
)
from ui.components import demo_banner, meeting_banner
from ui.guard import guarded
from ui.i18n import N_, _, activate_for
from ui.navigation import register
from ui.notifications import notifications_panel, unread_count
from ui.session import (
    MEETING_KEY,
    DemoRefused,
    SessionState,
    SignInMisconfigured,
    current_session,
)
from ui.text import md

PageFunction = Callable[[], None]


def _page(
    function: PageFunction, title: str, url: str, icon: str, *, default: bool = False
) -> st.Page:
    return st.Page(guarded(function), title=_(title), url_path=url, icon=icon, default=default)


Spec = tuple[PageFunction, str, str, str]  # function, title, url path, icon
PIPELINE: Spec = (pipeline.pipeline_page, "Pipeline", "pipeline", ":material/filter_alt:")
AT_RISK: Spec = (at_risk.at_risk_page, "Who needs help", "at-risk", ":material/priority_high:")
OUTCOMES: Spec = (
    outcomes.outcomes_page,
    "Is it working?",
    outcomes.LIST_URL,
    ":material/insights:",
)
COVERAGE: Spec = (
    coverage.coverage_page,
    "Where is help missing?",
    coverage.URL,
    ":material/grid_view:",
)
#: Opened from "Is it working?" (a program of its list), never from the sidebar.
OUTCOMES_PROGRAM: Spec = (
    outcomes.program_page,
    "Is it working? A program",
    outcomes.PROGRAM_URL,
    ":material/insights:",
)
PROFILE: Spec = (student.student_page, "Student profile", "student", ":material/person:")
MY_RECORD: Spec = (
    my_record.my_record_page,
    N_("My record"),
    "my-record",
    ":material/family_restroom:",
)
#: Partner staff load their own organisation's service export (the steward's uploads are
#: in Administration).
LOAD_SERVICES: Spec = (
    mapped_files.partner_upload_page,
    "Load our services",
    mapped_files.PARTNER_UPLOAD_URL,
    ":material/upload_file:",
)
#: Partner staff ask the district to request a release for a student they cannot see yet.
ASK_RELEASE: Spec = (
    release_ask.ask_page,
    "Ask for a release",
    release_ask.URL,
    ":material/forward_to_inbox:",
)
ADMIN: Spec = (
    administration.administration_page,
    "Administration",
    "admin",
    ":material/admin_panel_settings:",
)
NO_ACCESS: Spec = (account.no_access_page, N_("No access yet"), "no-access", ":material/lock:")
MEETING_EMPTY: Spec = (
    account.meeting_mode_empty_page,
    "Meeting mode",
    "meeting",
    ":material/groups:",
)


def role_pages(state: SessionState) -> list[Spec]:
    """The pages of the signed-in principal, the landing page first."""
    principal = state.principal
    if principal is None:
        return []
    if principal.meeting_mode:  # only protected figures, and only for roles that have them
        figures = [PIPELINE] if principal.sees_aggregates else []
        if principal.can(Action.SEE_OUTCOMES):
            figures.append(OUTCOMES)
        if principal.can(Action.SEE_COVERAGE):
            figures.append(COVERAGE)
        return figures or [MEETING_EMPTY]
    pages: list[Spec] = []
    if lands_on_figures(principal):
        pages.append(PIPELINE)
    if principal.can(Action.LIST_STUDENTS):
        pages += [AT_RISK, PROFILE]
    if principal.can(Action.SEE_AGGREGATES) and PIPELINE not in pages:
        pages.append(PIPELINE)
    if principal.can(Action.SEE_OUTCOMES):
        pages.append(OUTCOMES)
    if principal.can(Action.SEE_COVERAGE):
        pages.append(COVERAGE)
    if principal.can(Action.READ_OWN_RECORD):
        pages.append(MY_RECORD)
    if principal.can(Action.IMPORT_SERVICES) and not principal.can(Action.ADMINISTER_USERS):
        pages.append(LOAD_SERVICES)
    if principal.can(Action.ASK_FOR_RELEASE):
        pages.append(ASK_RELEASE)
    if principal.can(Action.ADMINISTER_USERS):
        pages.append(ADMIN)
    return pages or [NO_ACCESS]


#: Every page a signed-in user can have, by URL: opened before signing in (a deep link, a
#: reload), each asks to sign in instead of "Page not found".
KNOWN_PAGES: list[Spec] = [
    PIPELINE,
    OUTCOMES,
    OUTCOMES_PROGRAM,
    COVERAGE,
    AT_RISK,
    PROFILE,
    MY_RECORD,
    LOAD_SERVICES,
    ASK_RELEASE,
    ADMIN,
    MEETING_EMPTY,
]
SIGN_OUT: Spec = (account.sign_out_page, N_("Sign out"), "sign-out", ":material/logout:")


def _waiting_pages(door_url: str, state: SessionState) -> list[st.Page]:
    """Hidden stand-ins for the known pages while nobody is signed in: the sign-in page
    (saying which page was asked for), or the no-access page for a refused account."""

    def stand_in(spec: Spec) -> PageFunction:
        if state.denied is not None:
            return account.no_access_page
        if spec not in KNOWN_PAGES:
            return account.sign_in_page
        return lambda: account.sign_in_page(opened=_(spec[1]))

    return [
        st.Page(guarded(stand_in(spec)), title=_(spec[1]), url_path=spec[2], visibility="hidden")
        for spec in [*KNOWN_PAGES, NO_ACCESS, SIGN_OUT]
        if spec[2] != door_url
    ]


def pages_for(state: SessionState) -> list[st.Page] | dict[str, list[st.Page]]:
    """The navigation for this session: sign-in, no-access, or the role's pages.

    Every visible page keeps its own URL; the default page ("/") is a hidden one that
    forwards to the role's landing page (Streamlit serves a default page only at "/").
    """
    if state.principal is None:
        door: Spec = NO_ACCESS
        if state.denied is None:
            door = (account.sign_in_page, N_("Sign in"), "sign-in", ":material/login:")
        return [_page(*door, default=True), *_waiting_pages(door[2], state)]
    specs = role_pages(state)
    work = [_page(*spec) for spec in specs]
    landing = work[0]
    if OUTCOMES in specs:
        function, title, url, icon = OUTCOMES_PROGRAM
        work.append(
            st.Page(guarded(function), title=title, url_path=url, icon=icon, visibility="hidden")
        )

    def home() -> None:
        st.switch_page(landing)

    start = st.Page(home, title="Start", url_path="start", default=True, visibility="hidden")
    account_pages = [_page(*SIGN_OUT)]
    return {"Pathwise": [start, *work], _("Account"): account_pages}


def sidebar(state: SessionState) -> None:
    principal = state.principal
    if principal is None:
        return
    with st.sidebar:
        if principal.family:
            st.caption(_("Signed in as **{name}**").format(name=md(principal.display_name)))
        else:
            st.caption(
                f"Signed in as **{md(principal.display_name)}** ({principal.role.value.replace('_', ' ')})"
            )
        unread = unread_count(principal)
        if unread:
            st.caption(
                f":material/notifications: {unread} unread notification{'' if unread == 1 else 's'}"
            )
        if principal.sees_aggregates or principal.meeting_mode:
            st.toggle(
                "Meeting mode",
                key=MEETING_KEY,
                help="For projecting in work-group meetings: only privacy-protected totals, never a name or a small group.",
            )


def release_link_page() -> bool:
    """The release page alone, for anyone whose address carries a release link's token
    (issue 16 part 1): a family signs without signing in, and a signed-in user who opens
    such a link gets that page too, without the sidebar of their own pages. True when it
    ran."""
    if TOKEN_PARAMETER not in st.query_params:
        return False
    page = st.Page(
        guarded(release_sign.release_page),
        title=_("Permission to share school records"),
        url_path="release",
        icon=":material/draw:",
        default=True,
    )
    st.navigation([page], position="hidden").run()
    return True


def main() -> None:
    st.set_page_config(page_title="Pathwise", page_icon=":material/route:", layout="wide")
    if release_link_page():  # before sign-in: the link is the family's only credential
        return
    try:
        state = current_session()
    except (DemoRefused, SignInMisconfigured) as refused:
        st.error(str(refused), icon=":material/block:")
        st.stop()
        return
    activate_for(state.principal)
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
    specs = role_pages(state)
    if state.principal is not None and specs and navigation.url_path == specs[0][2]:
        notifications_panel(state.principal)  # the landing page's top; never in meeting mode
    navigation.run()


main()
