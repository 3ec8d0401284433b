"""Release requests (issue 16 part 1, FERPA 34 CFR 99.30): a counselor or the steward asks
a family to sign a release naming one organisation; the family signs or declines through a
single-use link (no sign-in), or on paper that the steward types in by its code.

- `create_request` / `create_requests` (REQUEST_RELEASE: admin, counselor, for a student
  they may see): the categories must be within the organisation's active agreement; the
  release expires by default at the end of the school year. One link per recipient: each
  guardian on file, in their language when Pathwise has a catalog for it (else English),
  or, for an eligible student (18 or older on the principal's today, 34 CFR 99.5), the
  student themself (their student account's email) instead. Each email is composed by the
  caller's `compose` (ui.release_text.compose_email) and written to the outbox with the
  request, in one transaction; it is then sent when SMTP settings are given
  (data_access.mail). A failed sending leaves the message in the outbox with its error;
  the request exists either way (it also has a paper code for the printout). A request
  with no recipient on file is made too: it goes out on paper.
- `open_link`, `sign`, `decline`: the family's side, without a principal. A token is
  verified (domain.release_tokens: hash, single use, expiry, request still open, the
  client not slowed down) before anything about the request is read; the request acted
  on is the token's own (the page passes no request id). Every use and every refusal is
  audited, with the recipient's email (or "anonymous") and never the token.
- `record_paper_release` (ADMINISTER_RELEASES): a paper release returned, by its code.
- `requests` (admin every request; a counselor those of students in scope),
  `cancel_request` and `printable_request` (admin or the requester).

A signed release is a `consent` row (`method` electronic or paper, `request_id`) that the
policy honours at once; the organisation and the requester are notified in the same
transaction (data_access.notifications).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import polars as pl
from sqlalchemy import Connection, Engine, delete, insert, literal, select, update

from data_access.audit import record_event, recording_refusals
from data_access.mail import MailSettings, deliver, queue
from data_access.models import (
    Agreement,
    Consent,
    Guardian,
    Organization,
    ReleaseRequest,
    ReleaseToken,
    School,
    Student,
    TokenFailure,
    User,
    table_of,
)
from data_access.notifications import notify
from data_access.policy import (
    AccessDenied,
    Action,
    Principal,
    agreement_active,
    current_school_year,
    require,
    require_student,
    visible_students,
)
from domain.languages import SOURCE_LANGUAGE, catalog_languages
from domain.release_tokens import (
    FAILURE_WINDOW,
    client_key,
    default_release_expiry,
    is_eligible_student,
    link_expires_at,
    link_for,
    new_paper_code,
    new_token,
    normalise_paper_code,
    refusal,
    relationships_for,
    slow_down_seconds,
    token_hash,
)
from domain.releases import (
    CANCELLED,
    DECLINED,
    ELECTRONIC,
    OPEN_STATES,
    OPENED,
    PAPER,
    SENT,
    SIGNED,
    ReleaseEmail,
    state_of,
)
from domain.vocabulary import CATEGORIES, Role, format_list, parse_list
from indicators.settings import load_settings

REQUEST = table_of(ReleaseRequest)
TOKEN = table_of(ReleaseToken)
FAILURE = table_of(TokenFailure)
STUDENT = table_of(Student)
SCHOOL = table_of(School)
ORGANIZATION = table_of(Organization)
AGREEMENT = table_of(Agreement)
GUARDIAN = table_of(Guardian)
USER = table_of(User)
CONSENT = table_of(Consent)

#: Turns what an email carries into (subject, body): ui.release_text.compose_email.
Compose = Callable[[ReleaseEmail], tuple[str, str]]
#: The outbox `kind` of a release request's email.
REQUEST_EMAIL = "release_request"
#: Who a link's events are recorded as when the token names no one.
ANONYMOUS = "anonymous"


class InvalidRequest(ValueError):
    """The request cannot be made or recorded as given; the words say what to change."""


class InvalidSignature(InvalidRequest):
    """A signature without the signer's name or with a relationship the signer may not
    give. `problems` holds `name` and/or `relationship` and `allowed` the relationships
    accepted, so that the release page words it in the family's language (the message is
    English, for staff)."""

    def __init__(self, message: str, problems: tuple[str, ...], allowed: tuple[str, ...]):
        super().__init__(message)
        self.problems = problems
        self.allowed = allowed


@dataclass(frozen=True)
class NewRequest:
    """What a counselor or the steward asks a family to release, and to whom."""

    student_id: str
    org_id: str
    #: Must be within the organisation's active agreement.
    categories: tuple[str, ...]
    purpose: str
    #: None: the end of the school year (June 30).
    release_expires: date | None = None
    referral_id: int | None = None
    ask_id: int | None = None


@dataclass(frozen=True)
class CreatedRequest:
    request_id: int
    paper_code: str
    #: (email, language, sent by SMTP?) for each recipient; empty: no email on file,
    #: the request goes out on paper.
    recipients: tuple[tuple[str, str, bool], ...]


@dataclass(frozen=True)
class LinkView:
    """What the release page may show once the token is verified: nothing about the
    student beyond the first name and the school."""

    request_id: int
    language: str
    recipient_email: str
    signer_is_student: bool
    student_first_name: str
    school_name: str
    org_name: str
    org_type: str
    org_service_types: tuple[str, ...]
    categories: tuple[str, ...]
    purpose: str
    release_expires: date | None


@dataclass(frozen=True)
class LinkRefused:
    """Why a link may not act: `unknown`, `expired`, `used`, `closed` (the request was
    signed, declined or cancelled) or `slow_down` (too many bad links from this client;
    try again in `retry_after` seconds)."""

    reason: Literal["unknown", "expired", "used", "closed", "slow_down"]
    retry_after: int = 0


@dataclass(frozen=True)
class PrintableRelease:
    """The data of the printed release (ui.release_text words it, in both languages)."""

    request_id: int
    paper_code: str
    student_first_name: str
    student_last_name: str
    school_name: str
    org_name: str
    org_type: str
    org_service_types: tuple[str, ...]
    categories: tuple[str, ...]
    purpose: str
    release_expires: date | None
    requested_at: datetime
    #: An eligible student signs their own release.
    signer_is_student: bool
    #: The guardians' (or the eligible student's) names and languages, as on file.
    recipients: tuple[tuple[str, str], ...]
    state: str


# ---------------------------------------------------------------------------------------
# Time and languages
# ---------------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    moment = now or datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _language(code: str | None) -> str:
    cleaned = (code or "").strip().lower()
    return cleaned if cleaned in catalog_languages() else SOURCE_LANGUAGE


# ---------------------------------------------------------------------------------------
# Making requests
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Recipient:
    email: str
    name: str
    language: str


@dataclass(frozen=True)
class _Queued:
    message_id: int
    email: str
    language: str
    secrets: tuple[str, ...]


def _agreement_categories(connection: Connection, org_id: str, today: date) -> frozenset[str]:
    rows = connection.execute(
        select(AGREEMENT.c.categories).where(AGREEMENT.c.org_id == org_id, agreement_active(today))
    ).scalars()
    return frozenset(c for cell in rows for c in parse_list(cell))


def _student_row(connection: Connection, student_id: str) -> Any:
    return connection.execute(
        select(
            STUDENT.c.student_id,
            STUDENT.c.first_name,
            STUDENT.c.last_name,
            STUDENT.c.birth_date,
            SCHOOL.c.school_name,
        )
        .select_from(STUDENT.join(SCHOOL, SCHOOL.c.school_id == STUDENT.c.school_id))
        .where(STUDENT.c.student_id == student_id)
    ).one()


def _recipients(connection: Connection, student: Any, today: date) -> list[_Recipient]:
    """Each guardian on file, or the eligible student themself (their student account)."""
    if is_eligible_student(student.birth_date, today):
        emails = connection.execute(
            select(USER.c.email)
            .where(
                USER.c.student_id == student.student_id,
                USER.c.role == Role.STUDENT.value,
                USER.c.active.is_(True),
            )
            .order_by(USER.c.email)
        ).scalars()
        name = f"{student.first_name} {student.last_name}"
        return [_Recipient(email, name, SOURCE_LANGUAGE) for email in emails]
    rows = connection.execute(
        select(GUARDIAN.c.guardian_email, GUARDIAN.c.guardian_name, GUARDIAN.c.language)
        .where(GUARDIAN.c.student_id == student.student_id)
        .order_by(GUARDIAN.c.guardian_email)
    ).all()
    return [
        _Recipient(row.guardian_email.strip().lower(), row.guardian_name, _language(row.language))
        for row in rows
    ]


def _paper_code(connection: Connection, taken: set[str]) -> str:
    """A code no request has yet (40 bits: a clash is rare, and checked)."""
    while True:
        code = new_paper_code()
        if code in taken:
            continue
        clash = connection.execute(
            select(REQUEST.c.request_id).where(REQUEST.c.paper_code == code)
        ).first()
        if clash is None:
            taken.add(code)
            return code


def _checked(connection: Connection, principal: Principal, new: NewRequest) -> Any:
    """The organisation's row when `new` can be made; otherwise InvalidRequest saying what
    to change (the categories not in the organisation's active agreement by name)."""
    problems: list[str] = []
    org = connection.execute(
        select(ORGANIZATION).where(ORGANIZATION.c.org_id == new.org_id)
    ).first()
    if org is None or org.org_type == "district":
        raise InvalidRequest(f"No partner organisation with id {new.org_id!r}.")
    categories = tuple(dict.fromkeys(c.strip() for c in new.categories if c.strip()))
    unknown = [c for c in categories if c not in CATEGORIES]
    if not categories:
        problems.append("choose the categories of records to release")
    elif unknown:
        problems.append(
            f"unknown categories {', '.join(unknown)} (categories are {', '.join(CATEGORIES)})"
        )
    else:
        allowed = _agreement_categories(connection, new.org_id, principal.today)
        beyond = [c for c in categories if c not in allowed]
        if not allowed:
            problems.append(
                f"{org.org_name} has no active data-sharing agreement, so no release can name it"
            )
        elif beyond:
            problems.append(
                f"{org.org_name}'s active agreement does not cover {', '.join(beyond)} "
                f"(it covers {', '.join(sorted(allowed))})"
            )
    if not (new.purpose or "").strip():
        problems.append("say what the records are for (the purpose)")
    elif len(new.purpose.strip()) > 500:
        problems.append("the purpose is longer than 500 characters")
    if new.release_expires is not None and new.release_expires <= principal.today:
        problems.append(f"the release would expire on {new.release_expires}, not after today")
    if problems:
        raise InvalidRequest("Cannot request this release: " + "; ".join(problems) + ".")
    return org


def _make(
    connection: Connection,
    principal: Principal,
    new: NewRequest,
    *,
    link_base: str,
    compose: Compose,
    now: datetime,
    link_days: int,
    taken: set[str],
) -> tuple[int, str, list[_Queued]]:
    """Write one request, its tokens and its emails (not sent yet); audited."""
    scope = require_student(connection, principal, Action.REQUEST_RELEASE, new.student_id)
    org = _checked(connection, principal, new)
    student = _student_row(connection, new.student_id)
    categories = tuple(sorted({c.strip() for c in new.categories if c.strip()}))
    release_expires = new.release_expires or default_release_expiry(principal.today)
    expires_at = link_expires_at(now, link_days)
    code = _paper_code(connection, taken)
    request_id = int(
        connection.execute(
            insert(REQUEST)
            .values(
                student_id=new.student_id,
                org_id=new.org_id,
                categories=format_list(categories),
                purpose=new.purpose.strip(),
                release_expires=release_expires,
                requested_by=principal.email,
                requested_at=now,
                referral_id=new.referral_id,
                ask_id=new.ask_id,
                status=SENT,
                expires_at=expires_at,
                paper_code=code,
            )
            .returning(REQUEST.c.request_id)
        ).scalar_one()
    )
    queued: list[_Queued] = []
    for recipient in _recipients(connection, student, principal.today):
        token = new_token()
        link = link_for(link_base, token)
        connection.execute(
            insert(TOKEN).values(
                token_hash=token_hash(token),
                request_id=request_id,
                recipient_email=recipient.email,
                language=recipient.language,
                created_at=now,
                expires_at=expires_at,
            )
        )
        subject, body = compose(
            ReleaseEmail(
                language=recipient.language,
                recipient_name=recipient.name,
                student_first_name=student.first_name,
                school_name=student.school_name,
                org_name=org.org_name,
                org_type=org.org_type,
                org_service_types=parse_list(org.service_types),
                categories=categories,
                purpose=new.purpose.strip(),
                release_expires=release_expires,
                link=link,
                link_expires=expires_at.date(),
                paper_code=code,
            )
        )
        message_id = queue(
            connection,
            to_address=recipient.email,
            subject=subject,
            body=body,
            language=recipient.language,
            kind=REQUEST_EMAIL,
            request_id=request_id,
            now=now,
        )
        queued.append(_Queued(message_id, recipient.email, recipient.language, (link, token)))
    record_event(
        connection,
        principal,
        "release_request.create",
        students={new.student_id: str(scope.legal_basis)},
        categories=categories,
        detail={
            "request_id": request_id,
            "org_id": new.org_id,
            "recipients": len(queued),
            "release_expires": release_expires,
        },
    )
    return request_id, code, queued


def create_requests(
    engine: Engine,
    principal: Principal,
    news: Sequence[NewRequest],
    *,
    link_base: str,
    compose: Compose,
    mail: MailSettings | None,
    now: datetime | None = None,
) -> list[CreatedRequest]:
    """Make several requests (the steward's "request releases for these") in one
    transaction: all of them or, when one is refused or invalid, none. Then send their
    emails when `mail` is given (each failure stays in the outbox with its error)."""
    moment = _now(now)
    link_days = load_settings().release_link_days
    asked = [new.student_id for new in news]
    made: list[tuple[int, str, list[_Queued]]] = []
    with recording_refusals(engine, principal, "release_request.create", students=asked):
        require(principal, Action.REQUEST_RELEASE)
        with engine.begin() as connection:
            taken: set[str] = set()
            for new in news:
                made.append(
                    _make(
                        connection,
                        principal,
                        new,
                        link_base=link_base,
                        compose=compose,
                        now=moment,
                        link_days=link_days,
                        taken=taken,
                    )
                )
    created = []
    for request_id, code, queued in made:
        recipients = tuple(
            (
                q.email,
                q.language,
                deliver(engine, q.message_id, mail, secrets=q.secrets) if mail else False,
            )
            for q in queued
        )
        created.append(CreatedRequest(request_id, code, recipients))
    return created


def create_request(
    engine: Engine,
    principal: Principal,
    new: NewRequest,
    *,
    link_base: str,
    compose: Compose,
    mail: MailSettings | None,
    now: datetime | None = None,
) -> CreatedRequest:
    """Make one release request (see the module's docstring); `link_base` is the release
    page's address (the link is `<link_base>?token=<token>`)."""
    return create_requests(
        engine, principal, [new], link_base=link_base, compose=compose, mail=mail, now=now
    )[0]


# ---------------------------------------------------------------------------------------
# The family's side: a link
# ---------------------------------------------------------------------------------------


class _Refused(Exception):
    """Raised inside a link's transaction to undo it; recorded afterwards."""

    def __init__(self, refused: LinkRefused, about: Any | None) -> None:
        super().__init__(refused.reason)
        self.refused = refused
        self.about = about


#: What a request is about: the student, their school, the organisation it names.
_ABOUT = (
    STUDENT.c.first_name,
    STUDENT.c.last_name,
    STUDENT.c.birth_date,
    SCHOOL.c.school_name,
    ORGANIZATION.c.org_name,
    ORGANIZATION.c.org_type,
    ORGANIZATION.c.service_types,
)


def _with_whom(source: Any) -> Any:
    """`source` (holding `release_request`) joined to the columns of `_ABOUT`."""
    return (
        source.join(STUDENT, STUDENT.c.student_id == REQUEST.c.student_id)
        .join(SCHOOL, SCHOOL.c.school_id == STUDENT.c.school_id)
        .join(ORGANIZATION, ORGANIZATION.c.org_id == REQUEST.c.org_id)
    )


def _token_row(connection: Connection, token: str) -> Any | None:
    return connection.execute(
        select(
            TOKEN.c.token_hash,
            TOKEN.c.request_id,
            TOKEN.c.recipient_email,
            TOKEN.c.language,
            TOKEN.c.expires_at,
            TOKEN.c.used_at,
            REQUEST.c.student_id,
            REQUEST.c.org_id,
            REQUEST.c.categories,
            REQUEST.c.purpose,
            REQUEST.c.release_expires,
            REQUEST.c.requested_by,
            REQUEST.c.status,
            REQUEST.c.opened_at,
            *_ABOUT,
        )
        .select_from(_with_whom(TOKEN.join(REQUEST, REQUEST.c.request_id == TOKEN.c.request_id)))
        .where(TOKEN.c.token_hash == token_hash(token))
    ).first()


def _signer_is_student(connection: Connection, row: Any) -> bool:
    return (
        connection.execute(
            select(USER.c.email).where(
                USER.c.email == row.recipient_email,
                USER.c.role == Role.STUDENT.value,
                USER.c.student_id == row.student_id,
            )
        ).first()
        is not None
    )


def _record_link_event(
    connection: Connection,
    action: str,
    row: Any | None,
    *,
    outcome: str = "allowed",
    detail: dict[str, object],
) -> None:
    """A link's event: no principal; the recipient's email, or `anonymous`; never the token."""
    record_event(
        connection,
        None,
        action,
        students={row.student_id: f"request:{row.request_id}"} if row is not None else None,
        categories=parse_list(row.categories) if row is not None and outcome == "allowed" else (),
        outcome=outcome,
        detail=detail,
        email=row.recipient_email if row is not None else ANONYMOUS,
    )


def _verify(connection: Connection, token: str, key: str, now: datetime) -> Any:
    """The token's row when it may act; otherwise `_Refused` (an unknown token counts as
    a failure of the client, written by the caller after the rollback)."""
    failures = connection.execute(
        select(FAILURE.c.at).where(FAILURE.c.client_key == key, FAILURE.c.at > now - FAILURE_WINDOW)
    ).scalars()
    wait = slow_down_seconds([_aware(at) for at in failures], now)
    if wait:
        raise _Refused(LinkRefused("slow_down", wait), None)
    row = _token_row(connection, token)
    reason = refusal(
        found=row is not None,
        used_at=row.used_at if row is not None else None,
        request_status=row.status if row is not None else None,
        expires_at=_aware(row.expires_at) if row is not None else None,
        now=now,
    )
    if reason is not None or row is None:
        raise _Refused(LinkRefused(reason or "unknown"), row)
    if is_eligible_student(row.birth_date, _family_today(now)) and not _signer_is_student(
        connection, row
    ):
        # The student turned 18 since: the rights, and the release, are now theirs
        # (34 CFR 99.5); a guardian's link no longer acts.
        raise _Refused(LinkRefused("closed"), row)
    return row


def _refuse(engine: Engine, action: str, refused: _Refused, key: str, now: datetime) -> LinkRefused:
    """Record a refused link (and an unknown token as the client's failure); committed."""
    with engine.begin() as connection:
        if refused.refused.reason == "unknown":
            # Failures older than the window no longer count: they are not kept either.
            connection.execute(delete(FAILURE).where(FAILURE.c.at <= now - FAILURE_WINDOW))
            connection.execute(insert(FAILURE).values(client_key=key, at=now))
        detail: dict[str, object] = {"reason": refused.refused.reason, "client": key}
        if refused.about is not None:
            detail["request_id"] = refused.about.request_id
        if refused.refused.retry_after:
            detail["retry_after"] = refused.refused.retry_after
        _record_link_event(connection, action, refused.about, outcome="denied", detail=detail)
    return refused.refused


def _view(connection: Connection, row: Any) -> LinkView:
    return LinkView(
        request_id=int(row.request_id),
        language=row.language,
        recipient_email=row.recipient_email,
        signer_is_student=_signer_is_student(connection, row),
        student_first_name=row.first_name,
        school_name=row.school_name,
        org_name=row.org_name,
        org_type=row.org_type,
        org_service_types=parse_list(row.service_types),
        categories=parse_list(row.categories),
        purpose=row.purpose,
        release_expires=row.release_expires,
    )


def open_link(
    engine: Engine, token: str, *, client: str, now: datetime | None = None
) -> LinkView | LinkRefused:
    """What the release page shows for `token`, once verified; the first valid open marks
    the request `opened`. `client` names the browser's client (e.g. a hash of its address)
    for the slow-down of repeated bad links. Audited either way ("release.open")."""
    moment, key = _now(now), client_key(client)
    try:
        with engine.begin() as connection:
            row = _verify(connection, token, key, moment)
            if row.status == SENT:
                connection.execute(
                    update(REQUEST)
                    .where(REQUEST.c.request_id == row.request_id, REQUEST.c.status == SENT)
                    .values(status=OPENED, opened_at=moment)
                )
            _record_link_event(
                connection, "release.open", row, detail={"request_id": row.request_id}
            )
            return _view(connection, row)
    except _Refused as refused:
        return _refuse(engine, "release.open", refused, key, moment)


def _close(
    connection: Connection, row: Any, status: str, now: datetime, consent_id: str | None
) -> None:
    """Close the token's request (still open) and use the token, or `_Refused` when
    another link or the steward closed it first."""
    closed = connection.execute(
        update(REQUEST)
        .where(REQUEST.c.request_id == row.request_id, REQUEST.c.status.in_(OPEN_STATES))
        .values(
            status=status,
            decided_at=now,
            consent_id=consent_id,
            opened_at=row.opened_at or now,
        )
    ).rowcount
    if closed != 1:
        raise _Refused(LinkRefused("closed"), row)
    used = connection.execute(
        update(TOKEN)
        .where(TOKEN.c.token_hash == row.token_hash, TOKEN.c.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if used != 1:
        raise _Refused(LinkRefused("used"), row)


def _release_words(row: Any) -> tuple[str, str]:
    """(to the organisation, to the requester) when a release is signed."""
    who = f"{row.first_name} {row.last_name}"
    return (
        f"A family signed a release for {who} at {row.school_name}.",
        f"A family signed the release you requested for {who} ({row.org_name}).",
    )


def _record_release(
    connection: Connection,
    row: Any,
    *,
    consent_id: str,
    method: str,
    signed_by: str,
    relationship: str,
    signed_date: date,
    language: str,
) -> None:
    """The consent a signed request becomes, and the news of it (same transaction)."""
    connection.execute(
        insert(CONSENT).values(
            consent_id=consent_id,
            student_id=row.student_id,
            org_id=row.org_id,
            categories=row.categories,
            purpose=row.purpose,
            signed_by=signed_by,
            signer_relationship=relationship,
            signed_date=signed_date,
            expires_date=row.release_expires,
            revoked_date=None,
            language=language,
            method=method,
            request_id=row.request_id,
        )
    )
    to_org, to_requester = _release_words(row)
    notify(
        connection,
        kind="release_signed",
        text=to_org,
        recipient_org_id=row.org_id,
        student_id=row.student_id,
        request_id=row.request_id,
    )
    notify(
        connection,
        kind="release_signed",
        text=to_requester,
        recipient_email=row.requested_by,
        student_id=row.student_id,
        request_id=row.request_id,
    )


def _signer(signed_by: str, relationship: str, allowed: tuple[str, ...]) -> str:
    """The signer's name, tidied; InvalidSignature when it is blank or too long or the
    relationship is not one of `allowed`."""
    name = " ".join((signed_by or "").split())
    words, problems = [], []
    if not name or len(name) > 200:
        problems.append("name")
        words.append("type the signer's full name" if not name else "the signer's name is too long")
    if relationship not in allowed:
        problems.append("relationship")
        words.append(f"the signer is one of {', '.join(allowed)} (not {relationship!r})")
    if problems:
        raise InvalidSignature(
            "Cannot record this release: " + "; ".join(words) + ".", tuple(problems), allowed
        )
    return name


def _family_today(now: datetime) -> date:
    """The date a family signs on: the server's local date at `now` (as `date.today()`,
    the date the principals' rules apply on)."""
    return now.astimezone().date()


def sign(
    engine: Engine,
    token: str,
    *,
    client: str,
    signed_by: str,
    relationship: str,
    language: str,
    now: datetime | None = None,
) -> str | LinkRefused:
    """Sign the token's request: re-verified, the token used, the release recorded
    (`E-<request_id>`, method electronic, signed today, expiring as requested), the
    request signed, the organisation and the requester notified, audited ("release.sign"),
    all in one transaction; the consent id. `relationship`: `parent` or `guardian` on a
    guardian's link, `eligible_student` on the student's own. InvalidSignature for a blank
    name or another relationship (nothing written)."""
    moment, key = _now(now), client_key(client)
    try:
        with engine.begin() as connection:
            row = _verify(connection, token, key, moment)
            name = _signer(
                signed_by, relationship, relationships_for(_signer_is_student(connection, row))
            )
            signed_date = _family_today(moment)
            if row.release_expires is not None and row.release_expires < signed_date:
                raise _Refused(LinkRefused("expired"), row)
            consent_id = f"E-{row.request_id}"
            _close(connection, row, SIGNED, moment, consent_id)
            _record_release(
                connection,
                row,
                consent_id=consent_id,
                method=ELECTRONIC,
                signed_by=name,
                relationship=relationship,
                signed_date=signed_date,
                language=_language(language),
            )
            _record_link_event(
                connection,
                "release.sign",
                row,
                detail={"request_id": row.request_id, "consent_id": consent_id},
            )
            return consent_id
    except _Refused as refused:
        return _refuse(engine, "release.sign", refused, key, moment)


def decline(
    engine: Engine, token: str, *, client: str, now: datetime | None = None
) -> None | LinkRefused:
    """Decline the token's request: the token used, the request declined, the requester
    notified (the organisation is told nothing), audited ("release.decline")."""
    moment, key = _now(now), client_key(client)
    try:
        with engine.begin() as connection:
            row = _verify(connection, token, key, moment)
            _close(connection, row, DECLINED, moment, None)
            notify(
                connection,
                kind="release_declined",
                text=(
                    f"A family declined the release you requested for "
                    f"{row.first_name} {row.last_name} ({row.org_name})."
                ),
                recipient_email=row.requested_by,
                student_id=row.student_id,
                request_id=row.request_id,
            )
            _record_link_event(
                connection, "release.decline", row, detail={"request_id": row.request_id}
            )
            return None
    except _Refused as refused:
        return _refuse(engine, "release.decline", refused, key, moment)


# ---------------------------------------------------------------------------------------
# The steward's and the requester's side
# ---------------------------------------------------------------------------------------


def _request_row(connection: Connection, where: Any) -> Any:
    return connection.execute(
        select(REQUEST, *_ABOUT).select_from(_with_whom(REQUEST)).where(where)
    ).first()


def record_paper_release(
    engine: Engine,
    principal: Principal,
    paper_code: str,
    *,
    signed_by: str,
    relationship: str,
    signed_date: date,
    language: str,
) -> str:
    """The steward records a returned paper release by the code printed on it
    (ADMINISTER_RELEASES): the release `P-<request_id>`, method paper, and the same
    closing, notifications and audit ("release.record_paper") as a signature. A request
    whose links have expired can still be answered on paper; a closed one cannot. The
    signer is `parent` or `guardian`, or `eligible_student` when the student was 18 on
    `signed_date` (the rights are then the student's, 34 CFR 99.5)."""
    with recording_refusals(engine, principal, "release.record_paper"):
        require(principal, Action.ADMINISTER_RELEASES)
    code = normalise_paper_code(paper_code)
    with engine.begin() as connection:
        row = _request_row(connection, REQUEST.c.paper_code == code)
        if row is None:
            raise InvalidRequest(f"No release request has the code {paper_code.strip()!r}.")
        if row.status not in OPEN_STATES:
            raise InvalidRequest(
                f"The release request with the code {code} is already {row.status}; "
                "nothing was recorded."
            )
        name = _signer(
            signed_by,
            relationship,
            relationships_for(is_eligible_student(row.birth_date, signed_date)),
        )
        if signed_date > principal.today:
            raise InvalidRequest(f"The release with the code {code} cannot be signed after today.")
        if row.release_expires is not None and row.release_expires < signed_date:
            raise InvalidRequest(
                f"The release with the code {code} expired ({row.release_expires}) "
                "before it was signed."
            )
        consent_id = f"P-{row.request_id}"
        now = datetime.now(UTC)
        connection.execute(
            update(REQUEST)
            .where(REQUEST.c.request_id == row.request_id)
            .values(
                status=SIGNED,
                decided_at=now,
                consent_id=consent_id,
            )
        )
        _record_release(
            connection,
            row,
            consent_id=consent_id,
            method=PAPER,
            signed_by=name,
            relationship=relationship,
            signed_date=signed_date,
            language=_language(language),
        )
        record_event(
            connection,
            principal,
            "release.record_paper",
            students={row.student_id: f"role:{principal.role.value}"},
            categories=parse_list(row.categories),
            detail={"request_id": row.request_id, "consent_id": consent_id},
        )
    return consent_id


def _may_handle(connection: Connection, principal: Principal, row: Any | None) -> Any:
    """The legal basis when the principal may cancel or print this request: the steward,
    or its requester while the student is in their scope."""
    if principal.can(Action.ADMINISTER_RELEASES):
        if row is None:
            raise InvalidRequest("No such release request.")
        return f"role:{principal.role.value}"
    if row is None or row.requested_by != principal.email:
        raise AccessDenied(
            "Only the data steward or the person who requested it handles a release request.",
            code="forbidden",
            students=[row.student_id] if row is not None else [],
        )
    scope = require_student(connection, principal, Action.REQUEST_RELEASE, row.student_id)
    return str(scope.legal_basis)


def cancel_request(engine: Engine, principal: Principal, request_id: int) -> None:
    """Cancel an open request (the steward, or its requester): its links then say
    `closed`. Audited ("release_request.cancel")."""
    with (
        recording_refusals(engine, principal, "release_request.cancel"),
        engine.begin() as connection,
    ):
        row = _request_row(connection, REQUEST.c.request_id == request_id)
        basis = _may_handle(connection, principal, row)
        if row.status not in OPEN_STATES:
            raise InvalidRequest(
                f"The release request {request_id} is already {row.status}; "
                "only a request still waiting for the family can be cancelled."
            )
        connection.execute(
            update(REQUEST)
            .where(REQUEST.c.request_id == request_id)
            .values(status=CANCELLED, decided_at=datetime.now(UTC))
        )
        record_event(
            connection,
            principal,
            "release_request.cancel",
            students={row.student_id: basis},
            detail={"request_id": request_id},
        )


def printable_request(engine: Engine, principal: Principal, request_id: int) -> PrintableRelease:
    """The data of the printed release (the steward, or its requester). Audited
    ("release_request.print")."""
    with (
        recording_refusals(engine, principal, "release_request.print"),
        engine.begin() as connection,
    ):
        row = _request_row(connection, REQUEST.c.request_id == request_id)
        basis = _may_handle(connection, principal, row)
        student = _student_row(connection, row.student_id)
        signer_is_student = is_eligible_student(row.birth_date, principal.today)
        recipients = tuple(
            (r.name, r.language) for r in _recipients(connection, student, principal.today)
        )
        record_event(
            connection,
            principal,
            "release_request.print",
            students={row.student_id: basis},
            categories=parse_list(row.categories),
            detail={"request_id": request_id},
        )
    return PrintableRelease(
        request_id=int(row.request_id),
        paper_code=row.paper_code,
        student_first_name=row.first_name,
        student_last_name=row.last_name,
        school_name=row.school_name,
        org_name=row.org_name,
        org_type=row.org_type,
        org_service_types=parse_list(row.service_types),
        categories=parse_list(row.categories),
        purpose=row.purpose,
        release_expires=row.release_expires,
        requested_at=_aware(row.requested_at),
        signer_is_student=signer_is_student,
        recipients=recipients,
        state=state_of(row.status, _aware(row.expires_at), datetime.now(UTC)),
    )


REQUEST_COLUMNS: dict[str, Any] = {
    "request_id": pl.Int64,
    "student_id": pl.String,
    "org_id": pl.String,
    "org_name": pl.String,
    "categories": pl.String,
    "purpose": pl.String,
    "requested_by": pl.String,
    "requested_at": pl.Datetime("us", "UTC"),
    "state": pl.String,
    "expires_at": pl.Datetime("us", "UTC"),
    "paper_code": pl.String,
    "consent_id": pl.String,
}


def requests(
    engine: Engine,
    principal: Principal,
    *,
    student_id: str | None = None,
    now: datetime | None = None,
) -> pl.DataFrame:
    """Release requests, newest first: the steward every one (SEE_RELEASE_REQUESTS); a
    counselor those of students in their scope (REQUEST_RELEASE). `state` is derived
    (`expired` for an open request past its links' expiry); `paper_code` only for the
    steward. Audited with the students listed ("release_request.read")."""
    moment = _now(now)
    steward = principal.can(Action.SEE_RELEASE_REQUESTS)
    asked = [student_id] if student_id is not None else []
    with recording_refusals(engine, principal, "release_request.read", students=asked):
        if not steward:
            require(principal, Action.REQUEST_RELEASE)
        with engine.begin() as connection:
            if student_id is not None and not steward:
                require_student(connection, principal, Action.REQUEST_RELEASE, student_id)
            source = REQUEST.join(ORGANIZATION, ORGANIZATION.c.org_id == REQUEST.c.org_id)
            basis: Any = literal(f"role:{principal.role.value}")
            if not steward:
                year = current_school_year(connection, principal.today)
                scope = visible_students(principal, year, student_id).subquery("scope")
                source = source.join(scope, scope.c.student_id == REQUEST.c.student_id)
                basis = scope.c.legal_basis
            statement = (
                select(
                    REQUEST.c.request_id,
                    REQUEST.c.student_id,
                    REQUEST.c.org_id,
                    ORGANIZATION.c.org_name,
                    REQUEST.c.categories,
                    REQUEST.c.purpose,
                    REQUEST.c.requested_by,
                    REQUEST.c.requested_at,
                    REQUEST.c.status,
                    REQUEST.c.expires_at,
                    REQUEST.c.paper_code,
                    REQUEST.c.consent_id,
                    basis.label("legal_basis"),
                )
                .select_from(source)
                .order_by(REQUEST.c.requested_at.desc(), REQUEST.c.request_id.desc())
            )
            if student_id is not None:
                statement = statement.where(REQUEST.c.student_id == student_id)
            rows = connection.execute(statement).all()
            if rows:
                record_event(
                    connection,
                    principal,
                    "release_request.read",
                    students={row.student_id: str(row.legal_basis) for row in rows},
                )
    records = [
        {
            "request_id": row.request_id,
            "student_id": row.student_id,
            "org_id": row.org_id,
            "org_name": row.org_name,
            "categories": row.categories,
            "purpose": row.purpose,
            "requested_by": row.requested_by,
            "requested_at": _aware(row.requested_at),
            "state": state_of(row.status, _aware(row.expires_at), moment),
            "expires_at": _aware(row.expires_at),
            "paper_code": row.paper_code if steward else None,
            "consent_id": row.consent_id,
        }
        for row in rows
    ]
    return pl.DataFrame(records, schema=REQUEST_COLUMNS, orient="row")


def request_partners(engine: Engine, principal: Principal) -> pl.DataFrame:
    """The partner organisations a release may name today (REQUEST_RELEASE): those with an
    active data-sharing agreement, each with the categories its active agreements cover
    (a request may ask for no more, `_checked`). Not student data: not audited beyond a
    refusal. Columns org_id, org_name, org_type, service_types (list), categories (list),
    ordered by name."""
    with recording_refusals(engine, principal, "release_request.partners"):
        require(principal, Action.REQUEST_RELEASE)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                ORGANIZATION.c.org_id,
                ORGANIZATION.c.org_name,
                ORGANIZATION.c.org_type,
                ORGANIZATION.c.service_types,
                AGREEMENT.c.categories,
            )
            .select_from(ORGANIZATION.join(AGREEMENT, AGREEMENT.c.org_id == ORGANIZATION.c.org_id))
            .where(ORGANIZATION.c.org_type != "district", agreement_active(principal.today))
            .order_by(ORGANIZATION.c.org_name, ORGANIZATION.c.org_id)
        ).all()
    partners: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = partners.setdefault(
            row.org_id,
            {
                "org_id": row.org_id,
                "org_name": row.org_name,
                "org_type": row.org_type,
                "service_types": list(parse_list(row.service_types)),
                "categories": set(),
            },
        )
        entry["categories"].update(parse_list(row.categories))
    records = [
        {**entry, "categories": [c for c in CATEGORIES if c in entry["categories"]]}
        for entry in partners.values()
    ]
    return pl.DataFrame(
        records,
        schema={
            "org_id": pl.String,
            "org_name": pl.String,
            "org_type": pl.String,
            "service_types": pl.List(pl.String),
            "categories": pl.List(pl.String),
        },
        orient="row",
    )
