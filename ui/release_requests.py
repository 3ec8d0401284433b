"""Release requests, the staff side (issue 16 part 1): the student profile's "Ask the family
for a release" section and the pieces Administration shares with it.

- `release_section`: for a principal who may REQUEST_RELEASE (a counselor, the steward),
  a request naming one partner with an active agreement: the categories (only that
  agreement's; all of them by default), the purpose (a plain suggestion from what the
  organisation does), the release's expiry (June 30 of the school year by default). After
  "Send the request" it says exactly what happened: emailed to which guardians in which
  language, waiting in the outbox for the data steward (no SMTP settings, or the server
  refused), or no email on file (print the release); with the printout to download. Then
  the student's requests with their state and a Cancel button for the open ones. A
  referral waiting for a release offers "Request a release" with the form filled in.
- `link_base`: the release page's address the emailed links start with: `[app]
  public_url` of the secrets when set (behind a proxy, the address families reach),
  else the address this page was opened at, without its path and query.
- `mail`: the `[smtp]` settings (data_access.mail), None without them.

Staff page: in English (DEVELOPERS.md, "Languages"); values typed by users are shown as
text (ui.text.md, plain_text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import streamlit as st
from babel import Locale

from data_access import api
from domain.release_tokens import default_release_expiry, printed_paper_code
from domain.releases import OPEN_STATES
from domain.vocabulary import parse_list
from ui.release_text import category_name, compose_email, printable_release
from ui.text import md

#: Widget keys of the request form (kept stable: the browser walk drives them by label).
ORG_KEY = "release_org"
CATEGORIES_KEY = "release_categories"
PURPOSE_KEY = "release_purpose"
EXPIRES_KEY = "release_expires"
REFERRAL_KEY = "release_referral_id"
#: What the last request did, shown once after the rerun.
SENT_KEY = "release_sent"
#: Printouts prepared this session, by request id (printing is audited once, not per rerun).
PRINTOUTS_KEY = "release_printouts"
#: The requests whose printout was asked for from the list (the new one has its own).
LISTED_KEY = "release_printouts_listed"

#: The labels (stable: the browser walk finds the widgets by them).
SECTION = "Ask the family for a release"
ORG_LABEL = "Organisation"
CATEGORIES_LABEL = "Categories of records"
PURPOSE_LABEL = "Purpose"
EXPIRES_LABEL = "Release expires"
SEND_LABEL = "Send the request"
PRINT_LABEL = "Print this release"
REQUESTS_HEADING = "Release requests for this student"

#: What a request's state means, for staff.
STATE_WORDS = {
    "sent": "sent, not opened yet",
    "opened": "opened by the family, not answered",
    "signed": "signed",
    "declined": "declined by the family",
    "expired": "expired (the links stopped working)",
    "cancelled": "cancelled",
}


# ---------------------------------------------------------------------------------------
# Settings: the link's address and the mail server
# ---------------------------------------------------------------------------------------


def _secrets() -> Mapping[str, Any]:
    try:
        return st.secrets
    except FileNotFoundError:  # pragma: no cover (depends on the machine's secrets)
        return {}


def link_base() -> str:
    """The address release links start with: `[app] public_url` of the secrets, else this
    app's own address (the page's URL without its path, query and fragment)."""
    try:
        configured = (_secrets().get("app") or {}).get("public_url")
    except FileNotFoundError:
        configured = None
    if configured:
        return str(configured)
    url = str(getattr(st.context, "url", "") or "")
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return "http://localhost:8501/"
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def mail() -> tuple[api.MailSettings | None, str | None]:
    """The SMTP settings, or None, and the reason they are unusable (a key named)."""
    try:
        return api.mail_settings(_secrets()), None
    except FileNotFoundError:
        return None, None
    except api.MailSettingsError as problem:
        return None, str(problem)


def language_name(code: str) -> str:
    """`es` -> `Spanish` (Babel), for staff."""
    try:
        return str(Locale.parse(code).get_display_name("en"))
    except (ValueError, TypeError):
        return code


# ---------------------------------------------------------------------------------------
# What a request did
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one request did, in words, with its printout."""

    request_id: int
    paper_code: str
    emailed: tuple[tuple[str, str], ...]  # (email, language) sent by SMTP
    waiting: tuple[tuple[str, str], ...]  # (email, language) left in the outbox
    smtp_configured: bool


def outcome(created: api.CreatedRequest, *, smtp_configured: bool) -> Outcome:
    return Outcome(
        request_id=created.request_id,
        paper_code=created.paper_code,
        emailed=tuple((e, lang) for e, lang, sent in created.recipients if sent),
        waiting=tuple((e, lang) for e, lang, sent in created.recipients if not sent),
        smtp_configured=smtp_configured,
    )


def _addresses(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{email} ({language_name(lang)})" for email, lang in pairs)


def outcome_sentences(done: Outcome) -> list[str]:
    """What happened, in plain sentences (values not escaped: the caller does)."""
    said = []
    if done.emailed:
        said.append(f"Emailed to {_addresses(done.emailed)}.")
    if done.waiting:
        why = (
            "the mail server did not accept it"
            if done.smtp_configured
            else "SMTP is not configured"
        )
        said.append(
            f"Not sent ({why}): waiting in the outbox for the data steward, for "
            f"{_addresses(done.waiting)}."
        )
    if not done.emailed and not done.waiting:
        said.append("No email on file — print the release and send it home.")
    said.append(f"Paper code {printed_paper_code(done.paper_code)}.")
    return said


def show_outcome(principal: api.Principal, done: Outcome, *, student_label: str = "") -> None:
    """The sentences, then the printout's download."""
    text = " ".join(outcome_sentences(done))
    prefix = f"Release request made{' for ' + student_label if student_label else ''}. "
    if done.emailed:
        st.success(md(prefix + text), icon=":material/send:")
    else:
        st.warning(md(prefix + text), icon=":material/outbox:")
    print_button(principal, done.request_id, key=f"release_print_new_{done.request_id}")


def _printout(principal: api.Principal, request_id: int) -> tuple[str, str] | None:
    """(file name, HTML) of a request's printout, made once per session (the reading is
    audited, "release_request.print")."""
    made: dict[int, tuple[str, str]] = st.session_state.setdefault(PRINTOUTS_KEY, {})
    if request_id not in made:
        try:
            facts = api.printable_release(principal, request_id)
        except (api.InvalidRequest, api.AccessDenied) as problem:
            st.error(md(problem))
            return None
        html = printable_release(
            facts,
            facts.paper_code,
            student_name=f"{facts.student_first_name} {facts.student_last_name}",
        )
        made[request_id] = (f"release-{printed_paper_code(facts.paper_code)}.html", html)
    return made[request_id]


def print_button(principal: api.Principal, request_id: int, *, key: str) -> None:
    """ "Print this release": the printable page (both languages, the paper code)."""
    printout = _printout(principal, request_id)
    if printout is None:
        return
    name, html = printout
    st.download_button(
        PRINT_LABEL,
        data=html,
        file_name=name,
        mime="text/html",
        key=key,
        icon=":material/print:",
        on_click="ignore",
    )


def send_requests(principal: api.Principal, news: list[api.NewRequest]) -> list[Outcome] | None:
    """Make `news` in one step (all or none), sent by SMTP when configured; None (the
    problem shown) when refused."""
    settings, problem = mail()
    if problem:
        st.error(md(f"The [smtp] settings cannot be used ({problem}); emails wait in the outbox."))
    try:
        created = api.request_releases(
            principal, news, link_base=link_base(), compose=compose_email, mail=settings
        )
    except (api.InvalidRequest, api.AccessDenied) as refused:
        st.error(md(refused))
        return None
    return [outcome(c, smtp_configured=settings is not None) for c in created]


def summary(done: list[Outcome]) -> str:
    """ "3 release requests made: 1 emailed, 1 waiting in the outbox, 1 on paper only"."""
    emailed = sum(1 for d in done if d.emailed)
    waiting = sum(1 for d in done if d.waiting and not d.emailed)
    paper = sum(1 for d in done if not d.emailed and not d.waiting)
    made = f"{len(done)} release request{'' if len(done) == 1 else 's'} made"
    return (
        f"{made}: {emailed} emailed to the family, {waiting} waiting in the outbox for the "
        f"data steward, {paper} on paper only (no email on file: print them)."
    )


# ---------------------------------------------------------------------------------------
# The request form
# ---------------------------------------------------------------------------------------


def suggested_purpose(org_name: str, service_types: list[str] | tuple[str, ...]) -> str:
    """A plain purpose from what the organisation does."""
    services = [s.replace("_", " ") for s in service_types]
    if not services:
        return f"So that {org_name} can support the student and coordinate that support with the school."
    listed = (
        services[0] if len(services) == 1 else ", ".join(services[:-1]) + " and " + services[-1]
    )
    return (
        f"So that {org_name} can provide {listed} to the student and coordinate that "
        "support with the school."
    )


def _partner(partners: pl.DataFrame, org_id: str | None) -> dict[str, Any] | None:
    if org_id is None:
        return None
    rows = partners.filter(pl.col("org_id") == org_id)
    return rows.row(0, named=True) if rows.height else None


def prefill(
    org_id: str,
    *,
    partners: pl.DataFrame,
    purpose: str | None = None,
    referral_id: int | None = None,
) -> None:
    """Fill the form in for `org_id` (its agreement's categories, a purpose): before the
    widgets are drawn, as a referral's "Request a release" does."""
    partner = _partner(partners, org_id)
    if partner is None:
        return
    st.session_state[ORG_KEY] = org_id
    st.session_state[CATEGORIES_KEY] = list(partner["categories"])
    st.session_state[PURPOSE_KEY] = purpose or suggested_purpose(
        partner["org_name"], partner["service_types"]
    )
    st.session_state[REFERRAL_KEY] = referral_id


def _organisation_changed(partners: pl.DataFrame) -> None:
    partner = _partner(partners, st.session_state.get(ORG_KEY))
    if partner is not None:
        st.session_state[CATEGORIES_KEY] = list(partner["categories"])
        st.session_state[PURPOSE_KEY] = suggested_purpose(
            partner["org_name"], partner["service_types"]
        )
    st.session_state[REFERRAL_KEY] = None


def request_form(
    principal: api.Principal, student_id: str, partners: pl.DataFrame, asked: pl.DataFrame
) -> None:
    """The form; on "Send the request", the request, then the page again saying what
    happened. An open request to the chosen organisation is pointed out (the family would
    get a second email)."""
    names = dict(zip(partners["org_id"], partners["org_name"], strict=True))
    if st.session_state.get(ORG_KEY) not in names:
        prefill(str(partners["org_id"][0]), partners=partners)
    with st.container(border=True):
        org_id = st.selectbox(
            ORG_LABEL,
            list(names),
            format_func=lambda o: names.get(o, o),
            key=ORG_KEY,
            on_change=_organisation_changed,
            args=(partners,),
            help="Only partners with an active data-sharing agreement can be named in a release.",
        )
        pending = asked.filter(
            (pl.col("org_id") == org_id) & pl.col("state").is_in(list(OPEN_STATES))
        )
        if pending.height:
            st.warning(
                md(
                    f"A request naming {names.get(org_id, org_id)} is already open (made "
                    f"{pending['requested_at'][0]:%b %d, %Y}): sending another emails the "
                    "family again. Cancel the open one below first, or wait for the family."
                ),
                icon=":material/warning:",
            )
        partner = _partner(partners, org_id) or {"categories": []}
        allowed = list(partner["categories"])
        chosen = [c for c in st.session_state.get(CATEGORIES_KEY, allowed) if c in allowed]
        st.session_state[CATEGORIES_KEY] = chosen
        categories = st.multiselect(
            CATEGORIES_LABEL,
            allowed,
            format_func=lambda c: category_name(c, "en"),
            key=CATEGORIES_KEY,
            help="Limited to what the organisation's active agreement covers.",
        )
        purpose = st.text_area(PURPOSE_LABEL, key=PURPOSE_KEY, max_chars=500)
        default_expiry = default_release_expiry(principal.today)
        if EXPIRES_KEY not in st.session_state:
            st.session_state[EXPIRES_KEY] = default_expiry
        expires = st.date_input(
            EXPIRES_LABEL,
            key=EXPIRES_KEY,
            min_value=principal.today,
            help=f"Default: the end of the school year ({default_expiry:%B %d, %Y}).",
        )
        referral_id = st.session_state.get(REFERRAL_KEY)
        if referral_id is not None:
            st.caption(f"For referral {int(referral_id)}, waiting for this release.")
        if st.button(SEND_LABEL, type="primary", key="release_send", icon=":material/send:"):
            _send(
                principal,
                api.NewRequest(
                    student_id=student_id,
                    org_id=str(org_id),
                    categories=tuple(categories),
                    purpose=str(purpose or ""),
                    release_expires=expires if isinstance(expires, date) else None,
                    referral_id=int(referral_id) if referral_id is not None else None,
                ),
            )


def _send(principal: api.Principal, new: api.NewRequest) -> None:
    done = send_requests(principal, [new])
    if done is None:
        return
    st.session_state[SENT_KEY] = done[0]
    st.session_state[REFERRAL_KEY] = None
    st.rerun()


# ---------------------------------------------------------------------------------------
# The student's requests
# ---------------------------------------------------------------------------------------


def requests_list(principal: api.Principal, asked: pl.DataFrame) -> None:
    """The student's requests (`asked`, newest first) with their state; Cancel and Print
    for the open ones."""
    st.markdown(f"**{REQUESTS_HEADING}**")
    said = st.session_state.pop("release_cancelled", None)
    if said:
        st.info(md(said), icon=":material/cancel:")
    if asked.height == 0:
        st.caption("No release request for this student yet.")
        return
    for row in asked.iter_rows(named=True):
        with st.container(border=True):
            text, action = st.columns([3, 1], vertical_alignment="center")
            state = row["state"]
            categories = ", ".join(category_name(c, "en") for c in parse_list(row["categories"]))
            text.markdown(
                f"**{md(row['org_name'])}**: {md(STATE_WORDS.get(state, state))}"
                + (f" (release {md(row['consent_id'])})" if row["consent_id"] else "")
            )
            text.caption(
                md(
                    f"Requested {row['requested_at']:%b %d, %Y} by {row['requested_by']}; "
                    f"links work until {row['expires_at']:%b %d, %Y}. Records: {categories}. "
                    f"Purpose: {row['purpose']}"
                )
            )
            if state in OPEN_STATES:
                request_id = int(row["request_id"])
                if action.button("Cancel", key=f"release_cancel_{request_id}"):
                    _cancel(principal, request_id, str(row["org_name"]))
                listed: set[int] = st.session_state.setdefault(LISTED_KEY, set())
                with action:
                    if request_id in listed or st.button(
                        "Printout", key=f"release_printout_{request_id}"
                    ):
                        listed.add(request_id)
                        print_button(principal, request_id, key=f"release_print_{request_id}")


def _cancel(principal: api.Principal, request_id: int, org_name: str) -> None:
    try:
        api.cancel_release_request(principal, request_id)
    except (api.InvalidRequest, api.AccessDenied) as refused:
        st.error(md(refused))
        return
    st.session_state["release_cancelled"] = (
        f"Release request to {org_name} cancelled: its links no longer work."
    )
    st.rerun()


# ---------------------------------------------------------------------------------------
# The section of the profile
# ---------------------------------------------------------------------------------------


def waiting_referrals(referrals: pl.DataFrame | None, partners: pl.DataFrame) -> None:
    """Each open referral waiting for a release, with "Request a release" filling the form
    in (the organisation, its agreement's categories, the referral's reason as purpose)."""
    if referrals is None or referrals.height == 0:
        return
    waiting = referrals.filter(
        (pl.col("status") == "open") & pl.col("waiting_for_release").fill_null(False)
    )
    for row in waiting.iter_rows(named=True):
        known = _partner(partners, row["org_id"]) is not None
        text, action = st.columns([3, 1], vertical_alignment="center")
        text.markdown(
            f"Referral to **{md(row['org_name'])}** ({row['created_at']:%b %d}) is waiting "
            "for a release."
            + (
                ""
                if known
                else " It has no active data-sharing agreement, so no release can name it yet."
            )
        )
        if known and action.button(
            "Request a release", key=f"release_for_referral_{row['referral_id']}"
        ):
            prefill(
                str(row["org_id"]),
                partners=partners,
                purpose=_purpose_from_reason(str(row["reason"] or ""), row["org_name"]),
                referral_id=int(row["referral_id"]),
            )
            st.rerun()


def _purpose_from_reason(reason: str, org_name: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        return suggested_purpose(org_name, [])
    return f"Referral to {org_name}: {reason}"[:500]


def release_section(
    principal: api.Principal, student_id: str, referrals: pl.DataFrame | None = None
) -> None:
    """The profile's section, for a principal who may request releases (else nothing)."""
    if not principal.can(api.Action.REQUEST_RELEASE):
        return
    st.subheader(SECTION)
    done = st.session_state.pop(SENT_KEY, None)
    if isinstance(done, Outcome):
        show_outcome(principal, done)
    try:
        partners = api.release_partners(principal)
        asked = api.release_requests(principal, student_id=student_id)
    except api.AccessDenied as denied:
        st.caption(md(denied.reason))
        return
    if partners.height == 0:
        st.caption(
            "No partner organisation has an active data-sharing agreement, so no release can "
            "be requested. Record an agreement in Administration first."
        )
    else:
        waiting_referrals(referrals, partners)
        request_form(principal, student_id, partners, asked)
    requests_list(principal, asked)
