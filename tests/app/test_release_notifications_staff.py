"""Notifications at the top of the landing page (ui/notifications.py, app.py; AppTest):
unread ones with "Mark as read", the count in the sidebar, none in meeting mode.

Each test works on its own copy of the demo district (tests/app/conftest.py builds it once),
with two notifications written as the data layer writes them: one to a counselor, one to a
partner organisation's staff.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from data_access.notifications import notify
from tests.app.conftest import APP, demo_url, email  # noqa: F401  (the demo district, built once)
from ui.notifications import MARK_ALL_READ, MARK_READ
from ui.session import MEETING_KEY

COUNSELOR = "counselor.hs01"
#: Two notifications to the counselor, one to ORG02's staff; names that appear nowhere else.
TO_COUNSELOR = (
    "A release for Quillon Zaragoza was signed.",
    "A release for Quillon Zaragoza ended.",
)
TO_PARTNER = "A release naming you for Quillon Zaragoza was signed."


@pytest.fixture
def district(demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    copy = tmp_path / "demo.db"
    shutil.copy2(Path(demo_url.removeprefix("sqlite:///")), copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with engine.begin() as connection:
        for said in TO_COUNSELOR:
            notify(connection, kind="release_signed", text=said, recipient_email=email(COUNSELOR))
        notify(connection, kind="release_signed", text=TO_PARTNER, recipient_org_id="ORG02")
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    return url


def app(who: str, **state: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.session_state["demo_email"] = email(who)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def plain(markdown: object) -> str:
    return re.sub(r"\\(.)", r"\1", str(markdown))


def shown(at: AppTest) -> str:
    """Every text on the page and in the sidebar."""
    parts = [*at.markdown, *at.caption, *at.sidebar.markdown, *at.sidebar.caption]
    return " ".join(plain(p.value) for p in parts)


def unread(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT COUNT(*) FROM notification WHERE read_at IS NULL")
        ).scalar_one()
    engine.dispose()
    return int(count)


def test_the_counselor_sees_their_unread_notifications_on_the_landing_page(district: str) -> None:
    at = app(COUNSELOR)
    assert not at.exception, at.exception
    page = shown(at)
    assert all(said in page for said in TO_COUNSELOR)
    assert TO_PARTNER not in page
    assert "2 unread notifications" in " ".join(plain(c.value) for c in at.sidebar.caption)
    assert at.title[0].value == "Who needs help this week?"


def test_mark_as_read_removes_one_then_all(district: str) -> None:
    at = app(COUNSELOR)
    at = next(b for b in at.button if b.label == MARK_READ).click().run()
    assert not at.exception, at.exception
    assert unread(district) == 2  # one of the counselor's two, and the partner's
    assert sum(said in shown(at) for said in TO_COUNSELOR) == 1
    assert not [b for b in at.button if b.label == MARK_ALL_READ]
    at = next(b for b in at.button if b.label == MARK_READ).click().run()
    assert not any(said in shown(at) for said in TO_COUNSELOR)
    assert "unread notification" not in shown(at)


def test_partner_staff_see_their_organisations_notifications(district: str) -> None:
    at = app("staff.org02")
    assert not at.exception, at.exception
    assert TO_PARTNER in shown(at)
    assert not any(said in shown(at) for said in TO_COUNSELOR)
    at = next(b for b in at.button if b.label == MARK_READ).click().run()
    assert TO_PARTNER not in shown(at)


def test_meeting_mode_shows_no_notification(district: str) -> None:
    at = app(COUNSELOR, **{MEETING_KEY: True})
    assert not at.exception, at.exception
    page = shown(at)
    assert "Quillon" not in page and "Zaragoza" not in page
    assert "notification" not in page
    assert unread(district) == 3


@pytest.mark.parametrize("who", ["viewer", "student"])
def test_roles_without_notifications_get_none(district: str, who: str) -> None:
    at = app(who)
    assert not at.exception, at.exception
    assert "Quillon" not in shown(at)
