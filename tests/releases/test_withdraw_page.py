"""Withdrawing a release in My record, in English and in Spanish (issue 16 part 1;
pages/my_record.py, "Your releases").

The demo district's parent user is the guardian of a served senior with an active
release. Each test works on its own copy of the demo database (a withdrawal writes).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from tests.app.conftest import demo_url  # noqa: F401  (the demo district, built once)

PAGE = (
    "from pages.my_record import my_record_page\nfrom ui.guard import guarded\n"
    "guarded(my_record_page)()\n"
)

WORDS = {
    "en": {
        "section": "Your releases",
        "withdraw": "Withdraw",
        "sure": "Are you sure?",
        "confirm": "Yes, withdraw it",
        "keep": "No, keep it",
        "done": "is withdrawn",
        "withdrawn_on": "Withdrawn on",
    },
    "es": {
        "section": "Sus autorizaciones",
        "withdraw": "Retirar",
        "sure": "¿Está seguro?",
        "confirm": "Sí, retirarla",
        "keep": "No, mantenerla",
        "done": "Se retiró la autorización",
        "withdrawn_on": "Retirada el",
    },
}


@pytest.fixture
def family(
    demo_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> tuple[str, str, str]:
    """A copy of the demo district whose parent reads `request.param`: (url, parent, language)."""
    language = request.param
    copy = tmp_path / "demo.db"
    shutil.copy2(Path(demo_url.removeprefix("sqlite:///")), copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with engine.begin() as connection:
        parent = connection.execute(
            text("SELECT email FROM app_user WHERE role = 'parent' ORDER BY email")
        ).scalar_one()
        connection.execute(
            text("UPDATE guardian SET language = :language WHERE guardian_email = :email"),
            {"language": language, "email": parent},
        )
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    return url, parent, language


def _page(parent: str) -> AppTest:
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.session_state["demo_email"] = parent
    return at.run()


def _click(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def _revoked(url: str, parent: str) -> list[tuple[str, object]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.org_id, c.revoked_date FROM consent c JOIN guardian g "
                "ON g.student_id = c.student_id WHERE g.guardian_email = :email "
                "AND c.revoked_date IS NOT NULL ORDER BY c.org_id"
            ),
            {"email": parent},
        ).all()
        told = connection.execute(
            text("SELECT recipient_org_id, text FROM notification WHERE kind = 'release_ended'")
        ).all()
    engine.dispose()
    assert [org for org, _ in told] == [org for org, _ in rows]
    assert all(message.endswith(" ended.") for _, message in told)
    return [(org, str(day)) for org, day in rows]


@pytest.mark.parametrize("family", ["en", "es"], indirect=True)
def test_a_parent_withdraws_a_release_with_one_confirmation(family: tuple[str, str, str]) -> None:
    url, parent, language = family
    words = WORDS[language]
    at = _page(parent)
    assert not at.exception, at.exception
    assert words["section"] in [s.value for s in at.subheader]
    before = [b.label for b in at.button].count(words["withdraw"])
    assert before >= 1
    at = _click(at, words["withdraw"])
    assert not at.exception, at.exception
    assert [w.value for w in at.warning if w.value.startswith(words["sure"])]
    assert _revoked(url, parent) == []
    at = _click(at, words["confirm"])
    assert not at.exception, at.exception
    assert any(words["done"] in s.value for s in at.success)
    assert [b.label for b in at.button].count(words["withdraw"]) == before - 1
    assert any(words["withdrawn_on"] in c.value for c in at.caption)
    revoked = _revoked(url, parent)
    assert [day for _, day in revoked] == [date.today().isoformat()]


@pytest.mark.parametrize("family", ["en", "es"], indirect=True)
def test_keeping_the_release_withdraws_nothing(family: tuple[str, str, str]) -> None:
    url, parent, language = family
    words = WORDS[language]
    at = _click(_page(parent), words["withdraw"])
    at = _click(at, words["keep"])
    assert not at.exception, at.exception
    assert not [w for w in at.warning if w.value.startswith(words["sure"])]
    assert _revoked(url, parent) == []


@pytest.mark.parametrize("family", ["en", "es"], indirect=True)
def test_a_release_withdrawn_meanwhile_shows_as_withdrawn_and_asks_nothing_more(
    family: tuple[str, str, str],
) -> None:
    """Two tabs: the releases are withdrawn in the other one between the click on
    "Withdraw" and the confirmation; the page shows them withdrawn, in words, and offers
    nothing more to confirm."""
    url, parent, language = family
    words = WORDS[language]
    at = _click(_page(parent), words["withdraw"])
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE consent SET revoked_date = :today WHERE student_id IN "
                "(SELECT student_id FROM guardian WHERE guardian_email = :email)"
            ),
            {"today": date.today(), "email": parent},
        )
    engine.dispose()
    at.run()
    assert not at.exception, at.exception
    assert not [w for w in at.warning if w.value.startswith(words["sure"])]
    assert words["withdraw"] not in [b.label for b in at.button]
    assert any(words["withdrawn_on"] in c.value for c in at.caption)
