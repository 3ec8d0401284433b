"""The rules of release links and paper codes (issue 16 part 1; docs/access-rules.md,
"Release links"). Pure: no database, no clock (the caller passes `now`).

- A link carries a token of `TOKEN_BYTES` random bytes (`secrets.token_urlsafe`: 256 bits,
  the issue asks for at least 128). Only its SHA-256 (`token_hash`) is stored; the token
  itself exists in clear only in the email (and in an outbox message not sent yet).
- A token is refused, in this order, as `unknown` (no such hash), `used` (it signed or
  declined already), `closed` (its request was signed, declined or cancelled, e.g. by
  the other guardian's link) or `expired` (past its `expires_at`): `refusal`.
- A client (the page passes a string naming it, e.g. a hash of the address; only its
  SHA-256 is stored, `client_key`) that presented `MAX_FAILURES` unknown tokens within
  `FAILURE_WINDOW` is slowed down: every link it presents, even a valid one, is refused
  with `slow_down` until `retry_after` seconds after its last failure, a wait that
  doubles with every further failure (`BACKOFF_BASE` x 2^(failures - MAX_FAILURES)),
  capped at the window (`slow_down_seconds`). Only unknown tokens count: a guess is
  always unknown, while a family following an old or already used link is not guessing.
- A paper release carries an 8-character code from an alphabet without 0/O and 1/I
  (`new_paper_code`), typed in by the steward when the paper comes back.
- An eligible student (18 or older, FERPA 34 CFR 99.3 and 99.5(a)) signs their own
  release (99.30 via 99.5); otherwise the guardians on file do (`is_eligible_student`).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final, Literal

from domain.releases import OPEN_STATES
from domain.school_year import school_year_of
from domain.vocabulary import SIGNER_RELATIONSHIPS

#: Random bytes in a link's token: 256 bits (`secrets.token_urlsafe(32)`, 43 characters).
TOKEN_BYTES: Final = 32
#: The query parameter of the release page that carries the token.
TOKEN_PARAMETER: Final = "token"
#: Unknown tokens one client may present within `FAILURE_WINDOW` before it is slowed down.
MAX_FAILURES: Final = 5
FAILURE_WINDOW: Final = timedelta(minutes=15)
#: The first wait once slowed down; it doubles with every further failure.
BACKOFF_BASE: Final = timedelta(seconds=30)
#: Printed on a paper release: no 0/O, no 1/I, so that it is typed back without doubt.
PAPER_CODE_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PAPER_CODE_LENGTH: Final = 8
#: Age from which a student is an eligible student (FERPA 34 CFR 99.3).
ELIGIBLE_AGE: Final = 18
#: Who may sign through a guardian's link, and through an eligible student's own.
GUARDIAN_RELATIONSHIPS: Final = tuple(r for r in SIGNER_RELATIONSHIPS if r != "eligible_student")
STUDENT_RELATIONSHIPS: Final = ("eligible_student",)

Refusal = Literal["unknown", "expired", "used", "closed", "slow_down"]


def new_token() -> str:
    """A fresh link token: 256 bits from the operating system's CSPRNG."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_key(client: str) -> str:
    """What is stored of a client's name (e.g. already a hash of its address): its SHA-256."""
    return hashlib.sha256(client.encode("utf-8")).hexdigest()


def link_for(link_base: str, token: str) -> str:
    """The release page's address carrying `token` (`<link_base>?token=<token>`)."""
    separator = "&" if "?" in link_base else "?"
    return f"{link_base}{separator}{TOKEN_PARAMETER}={token}"


def new_paper_code() -> str:
    """A paper release's code: 8 characters of `PAPER_CODE_ALPHABET` (40 bits)."""
    return "".join(secrets.choice(PAPER_CODE_ALPHABET) for _ in range(PAPER_CODE_LENGTH))


def normalise_paper_code(typed: str) -> str:
    """The code as stored, from what the steward typed: upper case, without spaces or
    dashes (the printout groups it as `ABCD-EFGH`)."""
    return "".join(ch for ch in (typed or "").upper() if ch not in " -\t")


def printed_paper_code(code: str) -> str:
    """`ABCDEFGH` -> `ABCD-EFGH`, as printed."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}" if code else code


def link_expires_at(now: datetime, link_days: int) -> datetime:
    """When links made at `now` stop working (`[releases] link_days`, default 14)."""
    return now + timedelta(days=link_days)


def default_release_expiry(today: date) -> date:
    """A release's expiry when the requester names none: June 30 of the school year
    `today` falls in (domain.school_year), the end of the school year; in July, when
    that day has passed, June 30 of the next one."""
    end = date(school_year_of(today), 6, 30)
    return end if end >= today else date(end.year + 1, 6, 30)


def age_on(birth_date: date, today: date) -> int:
    """Completed years of age on `today`."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def is_eligible_student(birth_date: date | None, today: date) -> bool:
    """18 or older on `today` (34 CFR 99.3): the rights, and the release, are the student's.
    Without a birth date on file the guardians are asked."""
    return birth_date is not None and age_on(birth_date, today) >= ELIGIBLE_AGE


def relationships_for(signer_is_student: bool) -> tuple[str, ...]:
    """The `signer_relationship` values a link's signer may give."""
    return STUDENT_RELATIONSHIPS if signer_is_student else GUARDIAN_RELATIONSHIPS


def refusal(
    *,
    found: bool,
    used_at: datetime | None,
    request_status: str | None,
    expires_at: datetime | None,
    now: datetime,
) -> Refusal | None:
    """Why a presented token may not act (None: it may). The order matters: a used token
    says `used` although its request is closed since; a closed request says `closed`
    whether or not its links have expired."""
    if not found:
        return "unknown"
    if used_at is not None:
        return "used"
    if request_status not in OPEN_STATES:
        return "closed"
    if expires_at is None or now > expires_at:
        return "expired"
    return None


def slow_down_seconds(failures: Sequence[datetime], now: datetime) -> int:
    """Seconds a client must wait before any link it presents is looked at, given the
    times of its unknown tokens (`failures`): 0 below `MAX_FAILURES` within the window
    ending at `now`; else BACKOFF_BASE x 2^(n - MAX_FAILURES), capped at FAILURE_WINDOW,
    counted from its last failure."""
    recent = sorted(at for at in failures if now - FAILURE_WINDOW < at <= now)
    if len(recent) < MAX_FAILURES:
        return 0
    doublings = min(len(recent) - MAX_FAILURES, 16)  # past the cap already; no overflow
    wait = min(BACKOFF_BASE * 2**doublings, FAILURE_WINDOW)
    remaining = (recent[-1] + wait - now).total_seconds()
    return max(0, math.ceil(remaining))
