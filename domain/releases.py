"""Release requests (issue 16 part 1): their states and what an email about one carries.

A request is `sent` when made (its email and printout exist), `opened` when a family first
opens a valid link, and closes as `signed`, `declined` or `cancelled`. A `sent` or `opened`
request past its `expires_at` is `expired` (`state_of`): nothing needs to run at midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

SENT: Final = "sent"
OPENED: Final = "opened"
SIGNED: Final = "signed"
DECLINED: Final = "declined"
CANCELLED: Final = "cancelled"
EXPIRED: Final = "expired"
#: Stored states; `expired` is derived.
STORED_STATES: Final = (SENT, OPENED, SIGNED, DECLINED, CANCELLED)
#: Every state the steward's view counts, in the order a request moves through them.
STATES: Final = (SENT, OPENED, SIGNED, DECLINED, EXPIRED, CANCELLED)
OPEN_STATES: Final = frozenset({SENT, OPENED})

#: How a release was given (`consent.method`).
ELECTRONIC: Final = "electronic"
PAPER: Final = "paper"


def state_of(status: str, expires_at: datetime, now: datetime) -> str:
    """The request's state at `now`: an open request whose links have expired is `expired`."""
    if status in OPEN_STATES and now > expires_at:
        return EXPIRED
    return status


@dataclass(frozen=True)
class ReleaseEmail:
    """What the email asking one recipient to sign carries; `ui.release_text` words it in
    `language`. `link` is the single-use link (the only place the token appears in clear)."""

    language: str
    recipient_name: str
    student_first_name: str
    school_name: str
    org_name: str
    #: What the organisation does, worded by `ui.release_text` from its type and the
    #: service types it offers (the "party" element of 99.30).
    org_type: str
    org_service_types: tuple[str, ...]
    categories: tuple[str, ...]
    purpose: str
    release_expires: date | None
    link: str
    link_expires: date
    paper_code: str


#: A partner's ask that the district request a release (`release_ask.status`): `open` until
#: the steward matches it to a student (`matched`) or sets it aside (`rejected`).
ASK_OPEN: Final = "open"
ASK_MATCHED: Final = "matched"
ASK_REJECTED: Final = "rejected"
ASK_STATUSES: Final = (ASK_OPEN, ASK_MATCHED, ASK_REJECTED)
#: What the partner who asked is told: `waiting` until a release naming its organisation is
#: signed for the student the steward matched (`signed`); never whether a student was
#: found, matched or the ask rejected.
ASK_WAITING: Final = "waiting"
ASK_SIGNED: Final = "signed"
