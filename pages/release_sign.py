"""The release page (issue 16 part 1): a family reads a release request and signs or declines
it through the single-use link of its email, without signing in.

Reached as `/?token=<token>` (`domain.release_tokens.TOKEN_PARAMETER`); `app.main` runs only
this page for any visitor, signed in or not, whose address carries the parameter.

- Nothing about a student is shown before the token is verified (`open_link`): a refused
  link (unknown, expired, used, closed, or a client slowed down after repeated bad links)
  is said in plain words that never tell whether a student or a request exists.
- Once verified, the page shows what 34 CFR 99.30 requires (`ui.release_text`: which
  records, the purpose, the party) and the family's rights, in the link's language unless
  the family chose another with the switch (remembered for the session).
- "Sign": the signer's full name, the relationship (an eligible student signs as the
  student), a confirmation, one button. "Say no": one confirmation. Either ends with a
  message and no way back to the form (the link is used; the session remembers the answer).
- The client, for the data layer's slow-down of repeated bad links, is a SHA-256 of the
  visitor's address when Streamlit knows it, else a random value kept for the session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import streamlit as st

from data_access.api import (
    InvalidSignature,
    LinkRefused,
    LinkView,
    decline_release,
    is_demo_database,
    open_release_link,
    sign_release,
)
from domain.release_tokens import TOKEN_PARAMETER, relationships_for
from ui.components import demo_banner
from ui.i18n import (
    CHOICE_KEY,
    _,
    activate,
    activate_for,
    catalog_languages,
    format_decimal,
    language,
    language_switch,
)
from ui.release_text import (
    category_name,
    printable_release,
    relationship_words,
    release_elements,
    word_list,
)
from ui.text import md

#: The session's record of verified links and answers, by a hash of the token.
_VIEWS_KEY = "release_views"
_ANSWERS_KEY = "release_answers"
_CONFIRM_DECLINE_KEY = "release_confirm_decline"
_CLIENT_KEY = "release_client"


@dataclass(frozen=True)
class _Answer:
    """What the family answered on this session (shown instead of the form afterwards)."""

    signed: bool
    org_name: str
    student_first_name: str
    categories: tuple[str, ...]
    signer_is_student: bool


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_name() -> str:
    """Who is knocking, for the slow-down of bad links: the SHA-256 of the visitor's
    address (Streamlit's `st.context.ip_address`, else the first `X-Forwarded-For`
    address), else a random value kept for this session. Never the address itself."""
    address: object = None
    try:
        address = st.context.ip_address
        if not isinstance(address, str) or not address:
            forwarded = st.context.headers.get("X-Forwarded-For")
            address = forwarded.split(",")[0].strip() if isinstance(forwarded, str) else None
    except Exception:  # noqa: BLE001  (no browser behind this run: AppTest, bare mode)
        address = None
    if isinstance(address, str) and address:
        return hashlib.sha256(address.encode("utf-8")).hexdigest()
    if _CLIENT_KEY not in st.session_state:
        st.session_state[_CLIENT_KEY] = secrets.token_hex(16)
    return str(st.session_state[_CLIENT_KEY])


def _refusal_text(refused: LinkRefused) -> str:
    """A refused link in plain words; none says whether a student or request exists."""
    if refused.reason == "expired":
        return _(
            "This link has expired. Please ask the school for a new one, or for a paper copy "
            "to sign."
        )
    if refused.reason == "used":
        return _(
            "This link has already been used: each link works only once. If you gave your "
            "permission and want to withdraw it, you can do so in My record or by telling "
            "the school."
        )
    if refused.reason == "closed":
        return _(
            "This request is closed: it was already answered or the school withdrew it. "
            "There is nothing more to do here."
        )
    if refused.reason == "slow_down":
        minutes = max(1, -(-refused.retry_after // 60))
        return _(
            "Too many links that do not work were tried from here. Please wait about "
            "{minutes} min and try again."
        ).format(minutes=format_decimal(minutes))
    return _(
        "This link does not work. Please check that you opened the whole link from the "
        "email, or ask the school for a new one."
    )


def _refuse(refused: LinkRefused) -> None:
    st.title(_("Permission to share school records"))
    st.warning(_refusal_text(refused), icon=":material/link_off:")


def _choose_language(view: LinkView | None) -> None:
    """The family's choice for this session, else the link's language, else English."""
    chosen = st.session_state.get(CHOICE_KEY)
    if chosen in catalog_languages():
        activate(str(chosen))
    elif view is not None:
        activate(view.language)
    else:
        activate_for(None)  # the switch's or the browser's language before a link is known


def _show_elements(view: LinkView) -> None:
    code = language()
    elements = release_elements(view, code, signer_is_student=view.signer_is_student)
    st.title(elements.title)
    st.markdown(md(elements.asks))
    st.subheader(elements.records_heading)
    st.markdown("\n".join(f"- {md(item)}" for item in elements.records))
    st.subheader(elements.purpose_heading)
    st.text(elements.purpose)  # the request's own words, never markup
    st.subheader(elements.party_heading)
    st.markdown(md(elements.party))
    st.subheader(elements.rights_heading)
    st.markdown(
        "\n".join(f"- {md(item)}" for item in (elements.refuse, elements.withdraw, elements.lasts))
    )
    st.download_button(
        _("Print this release"),
        data=printable_release(view, None),
        file_name="release.html",
        mime="text/html",
        icon=":material/print:",
    )


def _sign_form(token: str, view: LinkView) -> None:
    st.subheader(_("Your answer"))
    options = relationships_for(view.signer_is_student)
    code = language()
    with st.form("release_sign"):
        name = st.text_input(_("Full name of the person signing"), max_chars=200)
        relationship = st.radio(
            _("Relationship to the student"),
            options,
            format_func=lambda value: relationship_words(value, code),
            horizontal=True,
        )
        agreed = st.checkbox(
            _("I have read this permission and I agree that the school shares these records.")
        )
        submitted = st.form_submit_button(_("Sign"), type="primary", icon=":material/draw:")
    if submitted:
        if not name.strip():
            st.error(_("Please type the full name of the person signing."))
        elif not agreed:
            st.error(_("Please tick the box to confirm that you have read and agree."))
        else:
            _sign(token, view, name, str(relationship))
    _decline_part(token, view)


def _sign(token: str, view: LinkView, name: str, relationship: str) -> None:
    try:
        result = sign_release(
            token,
            client=client_name(),
            signed_by=name,
            relationship=relationship,
            language=language(),
        )
    except InvalidSignature as invalid:
        if "name" in invalid.problems:
            st.error(_("Please type the full name of the person signing."))
        if "relationship" in invalid.problems:
            st.error(_("Please choose how the person signing is related to the student."))
        return
    if isinstance(result, LinkRefused):
        _forget(token)
        st.rerun()
    _remember(token, view, signed=True)
    st.rerun()


def _decline_part(token: str, view: LinkView) -> None:
    st.divider()
    if not st.session_state.get(_CONFIRM_DECLINE_KEY):
        if st.button(_("Say no (decline)"), icon=":material/block:"):
            st.session_state[_CONFIRM_DECLINE_KEY] = True
            st.rerun()
        return
    st.warning(
        _("Are you sure? Nothing will be shared with {org}. This link will stop working.").format(
            org=md(view.org_name)
        )
    )
    yes, back = st.columns(2)
    if yes.button(_("Yes, say no"), type="primary"):
        result = decline_release(token, client=client_name())
        st.session_state[_CONFIRM_DECLINE_KEY] = False
        if isinstance(result, LinkRefused):
            _forget(token)
            st.rerun()
        _remember(token, view, signed=False)
        st.rerun()
    if back.button(_("Go back")):
        st.session_state[_CONFIRM_DECLINE_KEY] = False
        st.rerun()


def _remember(token: str, view: LinkView, *, signed: bool) -> None:
    answers = st.session_state.setdefault(_ANSWERS_KEY, {})
    answers[_token_key(token)] = _Answer(
        signed=signed,
        org_name=view.org_name,
        student_first_name=view.student_first_name,
        categories=view.categories,
        signer_is_student=view.signer_is_student,
    )


def _forget(token: str) -> None:
    """The link no longer works (used, expired meanwhile): the next run asks again."""
    st.session_state.get(_VIEWS_KEY, {}).pop(_token_key(token), None)


def _end_message(answer: _Answer) -> None:
    st.title(_("Permission to share school records"))
    if not answer.signed:
        st.success(
            _(
                "Thank you for your answer. Nothing will be shared with {org}. Nothing changes "
                "at school."
            ).format(org=md(answer.org_name)),
            icon=":material/check_circle:",
        )
        return
    records = word_list([category_name(c, language()) for c in answer.categories], language())
    if answer.signer_is_student:
        text = _(
            "Thank you. From today, {org} can see these records of yours: {records}. You can "
            "withdraw this permission at any time in My record, or by telling the school."
        ).format(org=md(answer.org_name), records=md(records))
    else:
        text = _(
            "Thank you. From today, {org} can see these records of {student}: {records}. You "
            "can withdraw this permission at any time in My record, or by telling the school."
        ).format(
            org=md(answer.org_name), student=md(answer.student_first_name), records=md(records)
        )
    st.success(text, icon=":material/check_circle:")


def release_page() -> None:
    """The public release page (see the module's docstring)."""
    token = st.query_params.get(TOKEN_PARAMETER, "")
    key = _token_key(token)
    answer = st.session_state.get(_ANSWERS_KEY, {}).get(key)
    views = st.session_state.setdefault(_VIEWS_KEY, {})
    view = views.get(key)
    if answer is None and view is None:
        opened = open_release_link(token, client=client_name())
        if isinstance(opened, LinkRefused):
            _choose_language(None)
            language_switch()
            _refuse(opened)
            return
        view = views[key] = opened
    _choose_language(view)
    if is_demo_database():  # said once the link is verified: a refusal says nothing more
        demo_banner()
    language_switch()
    if answer is not None:
        _end_message(answer)
        return
    assert view is not None
    _show_elements(view)
    _sign_form(token, view)
