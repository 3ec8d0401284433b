"""Partner staff's "Ask for a release" page (pages/release_ask.py, AppTest): the ask is
stored as typed, the list says only "waiting", and the page is in the partner's navigation
alone.

Each test works on its own copy of the demo district (tests/app/conftest.py builds it once).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from pages.release_ask import PROMISE, SEND_ASK, URL
from tests.app.conftest import demo_url, email  # noqa: F401  (the demo district, built once)
from ui.navigation import PAGES_KEY

PAGE = "from pages.release_ask import ask_page\nfrom ui.guard import guarded\nguarded(ask_page)()\n"
APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def district(demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    copy = tmp_path / "demo.db"
    shutil.copy2(Path(demo_url.removeprefix("sqlite:///")), copy)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    return url


def page(who: str) -> AppTest:
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.session_state["demo_email"] = email(who)
    return at.run()


def plain(markdown: object) -> str:
    return re.sub(r"\\(.)", r"\1", str(markdown))


def asks(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = [
            tuple(r)
            for r in connection.execute(
                text("SELECT org_id, first_name, last_name, school_id, note FROM release_ask")
            ).all()
        ]
    engine.dispose()
    return found


def test_the_partner_asks_and_sees_only_that_the_ask_is_waiting(district: str) -> None:
    at = page("staff.org02")
    assert not at.exception, at.exception
    assert any(i.value == PROMISE for i in at.info)
    at.text_input[0].set_value("Zoë")
    at.text_input[1].set_value("O'Neil")
    school = at.selectbox[0].options[1]
    at.selectbox[0].select(school)
    at.text_area[0].set_value("In our *after-school* program")
    at = next(b for b in at.button if b.label == SEND_ASK).click().run()
    assert not at.exception, at.exception
    assert asks(district) == [
        ("ORG02", "Zoë", "O'Neil", at.selectbox[0].value, "In our *after-school* program")
    ]
    assert any("The district will contact the family" in plain(s.value) for s in at.success)
    listed = [plain(m.value) for m in at.markdown if "Zoë" in plain(m.value)]
    assert len(listed) == 1 and listed[0].endswith(": waiting")
    assert any("In our *after-school* program" in plain(c.value) for c in at.caption)


def test_an_ask_without_a_name_is_refused_in_words(district: str) -> None:
    at = next(b for b in page("staff.org02").button if b.label == SEND_ASK).click().run()
    assert not at.exception, at.exception
    assert any("first and last name" in plain(e.value) for e in at.error)
    assert asks(district) == []


@pytest.mark.parametrize("who", ["counselor.hs01", "steward", "viewer"])
def test_other_roles_get_no_ask_form(district: str, who: str) -> None:
    at = page(who)
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.label == SEND_ASK]


@pytest.mark.parametrize(("who", "offered"), [("staff.org02", True), ("counselor.hs01", False)])
def test_the_ask_page_is_in_the_partners_navigation(district: str, who: str, offered: bool) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.session_state["demo_email"] = email(who)
    at.run()
    assert not at.exception, at.exception
    assert (URL in at.session_state[PAGES_KEY]) == offered
