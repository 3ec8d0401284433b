"""Pages never show a stack trace: refusals become a sentence, failures a short apology.

Every page function registered with the navigation is wrapped by `guarded`. An
`AccessDenied` from the data layer (a role opening a page it may not use, a student out of
scope) is shown as its reason; a `DatabaseBusy` (SQLite's write lock held by an import past
the wait, see `data_access.busy`) as "an import is running, try again in a minute"; any
other error is logged on the server with its traceback
and shown to the user as a short message with a reference to find it in the log.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable

import streamlit as st

from data_access.api import BUSY_MESSAGE, AccessDenied, DatabaseBusy
from ui.i18n import _
from ui.text import md

log = logging.getLogger("pathwise.pages")


def guarded(page: Callable[[], None]) -> Callable[[], None]:
    @functools.wraps(page)
    def run() -> None:
        try:
            page()
        except AccessDenied as denied:
            st.warning(md(denied.reason), icon=":material/lock:")
        except DatabaseBusy as busy:
            log.warning("page %s: %s", page.__name__, busy)
            st.warning(BUSY_MESSAGE, icon=":material/hourglass_top:")
        except Exception:  # noqa: BLE001  (the user gets a message; the log gets the details)
            reference = uuid.uuid4().hex[:8]
            log.exception("page %s failed (reference %s)", page.__name__, reference)
            st.error(
                _(
                    "Something went wrong on this page (reference {reference}). Nothing was "
                    "changed. Please try again; if it keeps happening, tell your data steward "
                    "the reference."
                ).format(reference=reference)
            )

    return run
